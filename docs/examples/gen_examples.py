#!/usr/bin/env python3
"""Regenerates the test vectors of docs/FORMATS.md, Appendix A, into OUT (default ./airlock-example):
anchor.json, bundle/ (the release files), media/inbox/<bundle>.tar.gz, receipt.json,
appliance-key.json, media-evidence.jsonl, pae.bin; prints the values quoted in FORMATS.md.
Every key here is a public documentation key (seeds are SHA-256 of fixed labels, or RFC 8032
test 1). Never trust them. Requires Python 3 and `cryptography`."""
import json, hashlib, base64, os, io, tarfile, gzip
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

import sys
OUT = sys.argv[1] if len(sys.argv) > 1 else "airlock-example"
os.makedirs(OUT + "/bundle/bin", exist_ok=True)
os.makedirs(OUT + "/media/inbox", exist_ok=True)

def sk(seed_hex=None, label=None):
    seed = bytes.fromhex(seed_hex) if seed_hex else hashlib.sha256(("airlock-docs-example/" + label).encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed), seed

def raw(k):
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

def b64(b): return base64.b64encode(b).decode()
def h(b): return hashlib.sha256(b).hexdigest()

def pae(t, body):
    t = t.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(body)).encode() + b" " + body

def pretty(o):
    return (json.dumps(o, indent=2, ensure_ascii=False) + "\n").encode()

def envelope(t, body, signers):
    p = pae(t, body)
    return pretty({"payloadType": t, "payload": b64(body),
                   "signatures": [{"keyid": kid, "sig": b64(k.sign(p))} for kid, k in signers]})

keys = {}
keys["root-a"], _ = sk(label="root-a")
keys["root-b"], _ = sk(label="root-b")
keys["root-c"], _ = sk(label="root-c")
keys["cavra-go-release-2026-q2"], _ = sk("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
keys["ci-builder-2026-q2"], _ = sk(label="ci-builder-2026-q2")
keys["appliance"], app_seed = sk(label="appliance")

def entry(kid, nb=None, na=None):
    e = {"key_id": kid, "algorithm": "Ed25519", "public_key": b64(raw(keys[kid]))}
    if nb: e["not_before"] = nb
    if na: e["not_after"] = na
    return e

root_payload = {"_type": "cavra-trust-root", "version": 1,
  "issued_at": "2026-04-01T00:00:00Z", "expires": "2027-04-01T00:00:00Z",
  "keys": [entry("root-a"), entry("root-b"), entry("root-c"),
           entry("cavra-go-release-2026-q2", "2026-04-01T00:00:00Z", "2026-07-15T00:00:00Z"),
           entry("ci-builder-2026-q2", "2026-04-01T00:00:00Z", "2026-07-15T00:00:00Z")],
  "roles": {"root": {"key_ids": ["root-a", "root-b", "root-c"], "threshold": 2},
            "release": {"key_ids": ["cavra-go-release-2026-q2"], "threshold": 1},
            "provenance": {"key_ids": ["ci-builder-2026-q2"], "threshold": 1},
            "revocation": {"key_ids": ["root-a", "root-b"], "threshold": 1}},
  "builders": [{"id": "https://github.com/actions/runner/github-hosted",
                "source_repository": "https://github.com/cavra/cavra", "ref_pattern": "refs/tags/v*"}]}
root_body = pretty(root_payload)
root_env = envelope("application/vnd.cavra.trust-root+json", root_body, [("root-a", keys["root-a"]), ("root-b", keys["root-b"])])
open(OUT + "/anchor.json", "wb").write(root_env)

arts = {"bin/cavra-linux-amd64": b"#!/bin/sh\necho cavra v0.1.0 linux-amd64\n",
        "bin/cavra-darwin-arm64": b"#!/bin/sh\necho cavra v0.1.0 darwin-arm64\n"}
commit = "4c1f0e9d2b7a6c5e8f9a0b1c2d3e4f5a6b7c8d9e"
evidence = {"_type": "cavra-release-evidence", "package": "cavra-go-runtime", "version": "v0.1.0",
  "commit": commit, "ref": "refs/tags/v0.1.0", "event": "release",
  "key_id": "cavra-go-release-2026-q2", "created_at": "2026-05-02T12:00:00Z",
  "artifacts": [{"name": n, "sha256": h(b), "size": len(b)} for n, b in sorted(arts.items())]}
signops = {"_type": "cavra-signing-operations", "package": "cavra-go-runtime", "version": "v0.1.0",
  "active_key_id": "cavra-go-release-2026-q2", "algorithm": "Ed25519", "signing_required": True,
  "custody": {"model": "external-secret-manager",
              "private_key_location": "op://release/cavra-go-runtime/signing-key",
              "public_repository_boundary": "the repository holds key ids and public keys only; private keys never enter it"},
  "rotation": {"cadence": "quarterly", "incident_triggered": True,
               "overlap_guidance": "the outgoing and incoming release keys are both valid from 2026-07-01 to 2026-07-15"},
  "revocation": {"emergency_evidence_required": ["revoked key id", "affected release versions", "revocation timestamp",
      "replacement key id", "operator approver", "new signed release evidence", "customer advisory reference"],
     "emergency_actions": ["disable the compromised signing secret", "remove affected release artifacts from promotion channels",
      "publish a revocation advisory", "rebuild and sign replacement packages with a new key id",
      "verify replacement packages before promotion resumes"]},
  "controls": ["release-signing-key-id-declared", "private-key-public-boundary-documented",
      "quarterly-key-rotation-policy", "incident-triggered-revocation-policy",
      "emergency-revocation-evidence-required", "replacement-key-overlap-guidance",
      "signed-release-evidence-required"]}
prov_stmt = {"_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": n, "digest": {"sha256": h(b)}} for n, b in sorted(arts.items())],
  "predicateType": "https://slsa.dev/provenance/v1",
  "predicate": {"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
      "externalParameters": {"workflow": {"ref": "refs/tags/v0.1.0", "repository": "https://github.com/cavra/cavra",
                                          "path": ".github/workflows/release.yml"}},
      "resolvedDependencies": [{"uri": "git+https://github.com/cavra/cavra@refs/tags/v0.1.0",
                                "digest": {"gitCommit": commit}}]},
    "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"},
                   "metadata": {"invocationId": "https://github.com/cavra/cavra/actions/runs/1/attempts/1"}}}}
files = dict(arts)
files["release-evidence.json"] = pretty(evidence)
files["cavra-runtime.signing-operations.json"] = pretty(signops)
files["cavra-runtime.provenance.intoto.json"] = envelope("application/vnd.in-toto+json", pretty(prov_stmt), [("ci-builder-2026-q2", keys["ci-builder-2026-q2"])])
checksums = "".join(f"{h(files[n])}  {n}\n" for n in sorted(files)).encode()
files["checksums.txt"] = checksums
rel_stmt = {"_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": "checksums.txt", "digest": {"sha256": h(checksums)}}],
  "predicateType": "https://cavra.dev/release-signature/v1",
  "predicate": {"package": "cavra-go-runtime", "version": "v0.1.0"}}
rel_body = json.dumps(rel_stmt, separators=(",", ":")).encode()
files["checksums.txt.sig.json"] = envelope("application/vnd.in-toto+json", rel_body, [("cavra-go-release-2026-q2", keys["cavra-go-release-2026-q2"])])
for n, b in files.items():
    os.makedirs(os.path.dirname(OUT + "/bundle/" + n), exist_ok=True)
    open(OUT + "/bundle/" + n, "wb").write(b)
# deterministic tar.gz
tbuf = io.BytesIO()
with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for n in sorted(files):
        ti = tarfile.TarInfo(n); ti.size = len(files[n]); ti.mtime = 0; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(files[n]))
gz = gzip.compress(tbuf.getvalue(), mtime=0)
open(OUT + "/media/inbox/cavra-go-runtime-v0.1.0.tar.gz", "wb").write(gz)
bundle_sha = h(gz)

# PAE worked example: the release signature
p = pae("application/vnd.in-toto+json", rel_body)
open(OUT + "/pae.bin", "wb").write(p)
print("REL_BODY", rel_body.decode())
print("REL_BODY_LEN", len(rel_body))
print("PAE_LEN", len(p), "HEXLEN", len(p.hex()))
print("PAE_HEX", p.hex())
print("RELSIG", files["checksums.txt.sig.json"].decode())
print("CHECKSUMS\n" + checksums.decode())
print("BUNDLE_SHA", bundle_sha, len(gz))
print("RELKEY_PUB", b64(raw(keys["cavra-go-release-2026-q2"])), raw(keys["cavra-go-release-2026-q2"]).hex())
print("RELKEY_FP", "sha256:" + h(raw(keys["cavra-go-release-2026-q2"])))
print("PROVKEY_FP", "sha256:" + h(raw(keys["ci-builder-2026-q2"])))
print("ANCHOR_SHA", h(root_env))

# appliance key, receipt, evidence
app_raw = raw(keys["appliance"])
app_fp = h(app_raw)
app_id = "airlock-appliance-" + app_fp[:16]
app_entry = {"key_id": app_id, "algorithm": "Ed25519", "public_key": b64(app_raw)}
open(OUT + "/appliance-key.json", "wb").write(pretty(app_entry))
print("APP_ENTRY", pretty(app_entry).decode())
receipt = {"_type": "cavra-promotion-receipt", "verdict": "promote", "reasons": [],
  "bundle": {"file": "inbox/cavra-go-runtime-v0.1.0.tar.gz", "sha256": bundle_sha, "size": len(gz)},
  "package": "cavra-go-runtime", "version": "v0.1.0",
  "artifacts": [{"name": n, "sha256": h(files[n]), "size": len(files[n])} for n in ["bin/cavra-darwin-arm64", "bin/cavra-linux-amd64"]],
  "trust_root": {"version": 1, "sha256": h(root_env)},
  "revocations": {"version": None, "sha256": None},
  "signers": [{"key_id": "cavra-go-release-2026-q2", "fingerprint": "sha256:" + h(raw(keys["cavra-go-release-2026-q2"])), "role": "release"},
              {"key_id": "ci-builder-2026-q2", "fingerprint": "sha256:" + h(raw(keys["ci-builder-2026-q2"])), "role": "provenance"}],
  "verified_at": "2026-05-10T12:00:00Z",
  "appliance": {"key_id": app_id, "software_version": "0.1.0"},
  "evidence": {"seq": 1, "prev": "0" * 64},
  "release_evidence_sha256": h(files["release-evidence.json"]),
  "provenance": {"builder_id": "https://github.com/actions/runner/github-hosted",
                 "source_repository": "https://github.com/cavra/cavra", "ref": "refs/tags/v0.1.0", "commit": commit}}
rbody = pretty(receipt)
renv = envelope("application/vnd.cavra.promotion-receipt+json", rbody, [(app_id, keys["appliance"])])
open(OUT + "/receipt.json", "wb").write(renv)
print("RECEIPT_PAYLOAD", rbody.decode())
print("RECEIPT_SHA", h(renv))

def record(seq, prev, time, bsha, verdict, reasons, rsha):
    body = {"seq": seq, "prev": prev, "time": time, "event": "verify", "bundle_sha256": bsha,
            "verdict": verdict, "reasons": reasons, "receipt_sha256": rsha, "key_id": app_id}
    signed = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    sig = b64(keys["appliance"].sign(signed))
    line = signed[:-1] + b',"sig":"' + sig.encode() + b'"}'
    return signed, line
s1, l1 = record(1, "0" * 64, "2026-05-10T12:00:00Z", bundle_sha, "promote", [], h(renv))
print("REC1_SIGNED", s1.decode()); print("REC1_LINE", l1.decode()); print("REC1_SHA", h(l1))
s2, l2 = record(2, h(l1), "2026-05-10T12:00:00Z", "9f2c4e0a7b1d3f5e6a8c0b2d4f6e8a0c1b3d5f7e9a0c2e4b6d8f0a1c3e5b7d9f", "reject", ["checksum-mismatch", "signature-threshold-not-met"], "1d6e0b9a3c5f7e2d4b6a8c0e1f3a5c7e9b0d2f4a6c8e0b1d3f5a7c9e1b3d5f7a")
print("REC2_LINE", l2.decode())
open(OUT + "/media-evidence.jsonl", "wb").write(l1 + b"\n" + l2 + b"\n")
