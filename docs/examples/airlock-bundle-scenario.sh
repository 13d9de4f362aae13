#!/bin/bash
# The airlock-bundle scenario of bundle-tool/README.md: keygen, root create, pack, media prepare,
# airlock verify (also with --anchor-sha256), receipt verify against the enrolled appliance,
# airlock extract, rotate, revoke, publish, verify again.
# Usage: docs/examples/airlock-bundle-scenario.sh EMPTY_DIR
# (AIRLOCK_BUNDLE and AIRLOCK name the two binaries; default: from PATH).
set -euo pipefail
B=${AIRLOCK_BUNDLE:-airlock-bundle}
A=${AIRLOCK:-airlock}
airlock-bundle() { echo; echo "\$ airlock-bundle $*"; command "$B" "$@"; }
airlock() { echo; echo "\$ airlock $*"; command "$A" "$@"; }
cd "$1"
# keys
for k in root-a root-b root-c root-d ops-revocation-2026; do airlock-bundle keygen --key-id $k --out-dir keys; done
airlock-bundle keygen --key-id cavra-go-release-2026-q4 --out-dir keys \
    --not-before 2026-10-01T00:00:00Z --not-after 2027-01-15T00:00:00Z
airlock-bundle keygen --key-id ci-builder-2026-q4 --out-dir keys \
    --not-before 2026-10-01T00:00:00Z --not-after 2027-04-15T00:00:00Z
# root 1
airlock-bundle root create --out trust-root/1.json \
    --key keys/root-a.pub.json --key keys/root-b.pub.json --key keys/root-c.pub.json \
    --key keys/cavra-go-release-2026-q4.pub.json --key keys/ci-builder-2026-q4.pub.json \
    --key keys/ops-revocation-2026.pub.json \
    --role root=root-a,root-b,root-c:2 \
    --role release=cavra-go-release-2026-q4 \
    --role provenance=ci-builder-2026-q4 \
    --role revocation=ops-revocation-2026 \
    --builder "https://github.com/actions/runner/github-hosted https://github.com/cavra/cavra-go refs/tags/v*" \
    --expires-days 365 \
    --sign keys/root-a.key
airlock-bundle root sign trust-root/1.json --sign keys/root-b.key
airlock-bundle root show trust-root/1.json
cp trust-root/1.json anchor.json
# release v0.2.0
mkdir -p out
mkdir -p dist/v0.2.0/bin
printf 'cavra linux amd64 v0.2.0\n' > dist/v0.2.0/bin/cavra-linux-amd64
printf 'cavra linux arm64 v0.2.0\n' > dist/v0.2.0/bin/cavra-linux-arm64
export CAVRA_GO_RELEASE_SIGNING_KEY="$(python3 -c 'import json,sys;print(json.load(open("keys/cavra-go-release-2026-q4.key"))["private_key"])')"
airlock-bundle pack --dist dist/v0.2.0 --version v0.2.0 \
    --commit 4f2c9a1e0b7d3c5a8e6f1d2b3c4a5e6f7a8b9c0d --ref refs/tags/v0.2.0 --event release \
    --key-id cavra-go-release-2026-q4 --signing-required \
    --provenance-key keys/ci-builder-2026-q4.key \
    --builder-id https://github.com/actions/runner/github-hosted \
    --source-repo https://github.com/cavra/cavra-go \
    --key-location op://release/cavra-go-runtime/signing-key \
    --trust-root trust-root/1.json \
    --out out/cavra-go-runtime-v0.2.0.tar.gz
airlock-bundle media prepare --media stick1 --anchor anchor.json --bundle out/cavra-go-runtime-v0.2.0.tar.gz
airlock verify --state state --anchor anchor.json stick1 || echo "exit $?"
echo "anchor sha256: $(sha256sum anchor.json | cut -d' ' -f1)"
airlock verify --no-write --state state-pin --anchor-sha256 "$(sha256sum anchor.json | cut -d' ' -f1)" stick1 || echo "exit $?"
airlock verify --no-write --state state-pin --anchor-sha256 0000000000000000000000000000000000000000000000000000000000000000 stick1 || echo "exit $?"
# enrol the appliance out of band (here: its state directory), then check receipts against it
printf '[%s]\n' "$(cat state/appliance-key.json)" > appliances.json
airlock-bundle receipt verify stick1/receipts/*.receipt.json --appliances appliances.json
airlock extract stick1/inbox/cavra-go-runtime-v0.2.0.tar.gz \
    --receipt stick1/receipts/cavra-go-runtime-v0.2.0.tar.gz.promote.receipt.json \
    --appliances appliances.json --out released-v0.2.0
# rotation: add q1 release key, replace root-c with root-d
airlock-bundle keygen --key-id cavra-go-release-2027-q1 --out-dir keys \
    --not-before 2026-11-01T00:00:00Z --not-after 2027-04-15T00:00:00Z
airlock-bundle root rotate --previous trust-root/1.json --out trust-root/2.json \
    --key keys/cavra-go-release-2027-q1.pub.json --key keys/root-d.pub.json \
    --remove-key root-c \
    --role root=root-a,root-b,root-d:2 \
    --role release=cavra-go-release-2026-q4,cavra-go-release-2027-q1 \
    --sign keys/root-a.key --sign keys/root-d.key
airlock-bundle root sign trust-root/2.json --previous trust-root/1.json --sign keys/root-b.key
airlock-bundle root show trust-root/2.json --previous trust-root/1.json
# revoke q4 (compromise), replacement v0.2.1 signed with q1
mkdir -p dist/v0.2.1/bin
printf 'cavra linux amd64 v0.2.1\n' > dist/v0.2.1/bin/cavra-linux-amd64
printf 'cavra linux arm64 v0.2.1\n' > dist/v0.2.1/bin/cavra-linux-arm64
unset CAVRA_GO_RELEASE_SIGNING_KEY
airlock-bundle pack --dist dist/v0.2.1 --version v0.2.1 \
    --commit 9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c --ref refs/tags/v0.2.1 --event release \
    --key-id cavra-go-release-2027-q1 --signing-required \
    --release-key keys/cavra-go-release-2027-q1.key \
    --provenance-key keys/ci-builder-2026-q4.key \
    --builder-id https://github.com/actions/runner/github-hosted \
    --source-repo https://github.com/cavra/cavra-go \
    --trust-root trust-root/1.json --trust-root trust-root/2.json \
    --out out/cavra-go-runtime-v0.2.1.tar.gz
tar -xzOf out/cavra-go-runtime-v0.2.1.tar.gz release-evidence.json > v0.2.1-release-evidence.json
airlock-bundle revoke --draft revocations.draft.json \
    --key-id cavra-go-release-2026-q4 \
    --affected-versions v0.2.0 \
    --revoked-at 2026-11-23T09:30:00Z \
    --replacement-key-id cavra-go-release-2027-q1 \
    --approver ops-oncall@example.org \
    --replacement-evidence v0.2.1-release-evidence.json \
    --advisory CAVRA-SA-2026-003 \
    --reason key-compromise
airlock-bundle revocations add-artifact --draft revocations.draft.json \
    --sha256 "$(sha256sum out/cavra-go-runtime-v0.2.0.tar.gz | cut -d' ' -f1)" \
    --reason "bundle signed with the compromised key"
airlock-bundle revocations publish --draft revocations.draft.json --out revocations/1.json \
    --sign keys/ops-revocation-2026.key --root trust-root/2.json --expires-days 30
airlock-bundle revocations show revocations/1.json --root trust-root/2.json
# v0.2.0 is revoked: prepare's dry run says so and refuses; --force writes it anyway to show the
# appliance's own rejection.
airlock-bundle media prepare --media stick2 --anchor anchor.json \
    --trust-root trust-root/2.json --revocations revocations/1.json \
    --bundle out/cavra-go-runtime-v0.2.0.tar.gz --bundle out/cavra-go-runtime-v0.2.1.tar.gz \
    || airlock-bundle media prepare --force --media stick2 --anchor anchor.json \
    --trust-root trust-root/2.json --revocations revocations/1.json \
    --bundle out/cavra-go-runtime-v0.2.0.tar.gz --bundle out/cavra-go-runtime-v0.2.1.tar.gz
airlock verify --state state --anchor anchor.json stick2 || echo "exit $?"
airlock-bundle receipt verify stick2/receipts/cavra-go-runtime-v0.2.1.tar.gz.promote.receipt.json --appliances appliances.json
# next list: version + 1, entries carried over
airlock-bundle revocations show revocations.draft.json
airlock-bundle revocations add-artifact --draft revocations.next.json --from revocations/1.json \
    --sha256 0e352222e33f3ed58e9a49a1f53c67af32ac0ffe5447076b8434442f31b666b0 --reason "tampered mirror copy"
airlock-bundle revocations show revocations.next.json
# stick without the list
airlock-bundle media prepare --media stick3 --anchor anchor.json --trust-root trust-root/2.json \
    --bundle out/cavra-go-runtime-v0.2.1.tar.gz
airlock verify --no-write --state state --anchor anchor.json stick3 || echo "exit $?"
