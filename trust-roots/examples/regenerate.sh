#!/bin/sh
# Regenerates the TEST-ONLY example trust root and revocation list with airlock-bundle.
# Usage (from the repository root): sh trust-roots/examples/regenerate.sh
set -eu
cd "$(dirname "$0")"
BIN="${AIRLOCK_BUNDLE:-cargo run -q -p airlock-bundle --}"
rm -f ./*.TEST-ONLY.key ./*.pub.json offline-trust-root-bootstrap.json revocations.json revocations.draft.json
tmp=$(mktemp -d)
for id in test-root-a test-root-b test-release-2026-q2 test-ci-builder-2026-q2; do
  $BIN keygen --key-id "$id" --out-dir "$tmp" >/dev/null
  mv "$tmp/$id.key" "./$id.TEST-ONLY.key"
  mv "$tmp/$id.pub.json" "./$id.pub.json"
done
rmdir "$tmp"
$BIN root create --out offline-trust-root-bootstrap.json --expires-days 3650 \
  --key test-root-a.pub.json --key test-root-b.pub.json \
  --key test-release-2026-q2.pub.json --key test-ci-builder-2026-q2.pub.json \
  --role root=test-root-a,test-root-b:2 --role release=test-release-2026-q2 \
  --role provenance=test-ci-builder-2026-q2 --role revocation=test-root-a \
  --builder "https://github.com/actions/runner/github-hosted https://github.com/cavra/cavra refs/tags/v*" \
  --sign test-root-a.TEST-ONLY.key --sign test-root-b.TEST-ONLY.key
$BIN revoke --draft revocations.draft.json --key-id test-release-2026-q1 \
  --affected-versions v0.0.8,v0.0.9 --revoked-at 2026-05-02T09:30:00Z \
  --replacement-key-id test-release-2026-q2 --approver ops-oncall@example.org \
  --replacement-evidence 0000000000000000000000000000000000000000000000000000000000000000 \
  --advisory CAVRA-SA-TEST-001 --reason key-compromise >/dev/null
$BIN revocations add-artifact --draft revocations.draft.json \
  --sha256 1111111111111111111111111111111111111111111111111111111111111111 --reason "tampered release (example)" >/dev/null
# test-release-2026-q1 predates this example root (a key rotated out before it), so --root, which
# refuses revoked ids the root does not list, is not given here.
$BIN revocations publish --draft revocations.draft.json --out revocations.json --expires-days 3650 \
  --sign test-root-a.TEST-ONLY.key
rm -f revocations.draft.json
