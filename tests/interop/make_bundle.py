#!/usr/bin/env python3
"""Writes an Airlock release bundle ENTIRELY with independent tools, for the interop tests:

- Python `cryptography`: Ed25519 keys and signatures; DSSE PAE written here, in a few lines;
- `securesystemslib` (the in-toto project's DSSE implementation): the provenance envelope;
- GNU `sha256sum`, run in the dist directory: checksums.txt;
- the `minisign` CLI (`minisign -G -W`, `minisign -S`, prehashed by default since 0.10): checksums.txt.minisig;
- GNU `tar -czf`: the archive.

Nothing here imports Airlock. Usage: make_bundle.py OUT_DIR. Prints JSON with the paths:
{"anchor", "bundle", "tampered", "minisign_only"}.
"""

import base64
import datetime
import json
import os
import shutil
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

IN_TOTO = "application/vnd.in-toto+json"
PACKAGE = "cavra-go-runtime"
VERSION = "v0.1.0"
COMMIT = "8f3c2a9d4e5b6c7d8e9f0a1b2c3d4e5f60718293"
REF = "refs/tags/v0.1.0"
REPO = "https://github.com/cavra/cavra"
BUILDER = "https://github.com/actions/runner/github-hosted"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def rfc3339(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def dsse(payload_type: str, body: bytes, signers) -> bytes:
    sigs = [{"keyid": kid, "sig": b64(key.sign(pae(payload_type, body)))} for kid, key in signers]
    env = {"payloadType": payload_type, "payload": b64(body), "signatures": sigs}
    return json.dumps(env, indent=2).encode() + b"\n"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def run(cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def write(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def sha256sum(dist, names):
    """checksums.txt by GNU sha256sum, run in the dist directory."""
    out = subprocess.run(["sha256sum", "--", *names], cwd=dist, check=True, capture_output=True).stdout
    write(os.path.join(dist, "checksums.txt"), out)
    return out


def minisign_sign(dist, secret_key):
    run(["minisign", "-S", "-s", secret_key, "-m", "checksums.txt", "-x", "checksums.txt.minisig",
         "-t", "interop test"], cwd=dist)
    with open(os.path.join(dist, "checksums.txt.minisig")) as f:
        sig = base64.b64decode(f.read().splitlines()[1])
    assert sig[:2] == b"ED", "minisign did not write a prehashed (ED) signature"


def tar_gz(dist, out):
    run(["tar", "-C", dist, "-czf", out, "."])


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    issued, expires = now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)

    root = Ed25519PrivateKey.generate()
    release = Ed25519PrivateKey.generate()
    builder = Ed25519PrivateKey.generate()
    # A PKCS#8 PEM copy of the release key, as `cryptography` writes it (for the CLI interop test).
    for name, key in (("release.pem", release), ("builder.pem", builder)):
        write(os.path.join(out, "keys", name), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ms_key, ms_pub = os.path.join(out, "keys", "ms.key"), os.path.join(out, "keys", "ms.pub")
    run(["minisign", "-G", "-W", "-f", "-p", ms_pub, "-s", ms_key])
    with open(ms_pub) as f:
        ms_public = f.read().splitlines()[1].strip()

    def entry(kid, key):
        return {"key_id": kid, "algorithm": "Ed25519", "public_key": b64(raw_public(key)),
                "not_before": rfc3339(issued), "not_after": rfc3339(expires)}

    root_payload = {
        "_type": "cavra-trust-root", "version": 1,
        "issued_at": rfc3339(issued), "expires": rfc3339(expires),
        "keys": [entry("py-root", root), entry("py-release", release), entry("py-builder", builder),
                 {"key_id": "py-minisign", "algorithm": "minisign", "public_key": ms_public}],
        "roles": {"root": {"key_ids": ["py-root"], "threshold": 1},
                  "release": {"key_ids": ["py-release", "py-minisign"], "threshold": 2},
                  "provenance": {"key_ids": ["py-builder"], "threshold": 1},
                  "revocation": {"key_ids": ["py-root"], "threshold": 1}},
        "builders": [{"id": BUILDER, "source_repository": REPO, "ref_pattern": "refs/tags/v*"}],
    }
    anchor = dsse("application/vnd.cavra.trust-root+json",
                  json.dumps(root_payload, indent=2).encode(), [("py-root", root)])
    write(os.path.join(out, "anchor.json"), anchor)

    # A second root whose release role is the minisign key alone (threshold 1).
    root_payload_ms = json.loads(json.dumps(root_payload))
    root_payload_ms["roles"]["release"] = {"key_ids": ["py-minisign"], "threshold": 1}
    anchor_ms = dsse("application/vnd.cavra.trust-root+json",
                     json.dumps(root_payload_ms, indent=2).encode(), [("py-root", root)])
    write(os.path.join(out, "anchor-minisign.json"), anchor_ms)

    def build(dist, with_dsse, bootstrap, key_id):
        artifacts = {
            "bin/cavra-linux-amd64": b"\x7fELF python-made cavra runtime\n" * 100,
            "bin/cavra-windows-amd64.exe": b"MZ python-made cavra runtime\n" * 50,
            "README.md": b"# cavra-go-runtime v0.1.0\n",
        }
        for name, data in artifacts.items():
            write(os.path.join(dist, name), data)
        import hashlib
        arts = [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                for n, d in sorted(artifacts.items())]
        evidence = {"_type": "cavra-release-evidence", "package": PACKAGE, "version": VERSION,
                    "commit": COMMIT, "ref": REF, "event": "release", "key_id": key_id,
                    "created_at": rfc3339(now), "artifacts": arts}
        write(os.path.join(dist, "release-evidence.json"), json.dumps(evidence, indent=2).encode())
        ops = {
            "active_key_id": key_id, "algorithm": "Ed25519", "signing_required": True,
            "custody": {"model": "external-secret-manager",
                        "private_key_location": "op://release/cavra-go-runtime/signing-key",
                        "public_repository_boundary": "key ids only"},
            "rotation": {"cadence": "quarterly", "incident_triggered": True,
                         "overlap_guidance": "old and new key ids both verify during the overlap window"},
            "revocation": {"emergency_evidence_required": ["revoked key id", "affected release versions",
                                                           "revocation timestamp", "replacement key id",
                                                           "operator approver", "new signed release evidence",
                                                           "customer advisory reference"],
                           "emergency_actions": ["disable the compromised signing secret"]},
            "controls": ["release-signing-key-id-declared", "private-key-public-boundary-documented",
                         "quarterly-key-rotation-policy", "incident-triggered-revocation-policy",
                         "emergency-revocation-evidence-required", "replacement-key-overlap-guidance",
                         "signed-release-evidence-required"],
        }
        write(os.path.join(dist, "cavra-runtime.signing-operations.json"), json.dumps(ops, indent=2).encode())
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": a["name"], "digest": {"sha256": a["sha256"]}} for a in arts],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                    "externalParameters": {"workflow": {"ref": REF, "repository": REPO,
                                                        "path": ".github/workflows/release.yml"}},
                    "resolvedDependencies": [{"uri": f"git+{REPO}@{REF}", "digest": {"gitCommit": COMMIT}}],
                },
                "runDetails": {"builder": {"id": BUILDER}},
            },
        }
        # Provenance through securesystemslib's DSSE (an independent PAE implementation).
        signer = CryptoSigner(builder, SSlibKey.from_crypto(builder.public_key(), keyid="py-builder"))
        env = Envelope(payload=json.dumps(statement).encode(), payload_type=IN_TOTO, signatures={})
        env.sign(signer)
        write(os.path.join(dist, "cavra-runtime.provenance.intoto.json"),
              json.dumps(env.to_dict(), indent=2).encode())
        write(os.path.join(dist, "offline-trust-root-bootstrap.json"), bootstrap)
        names = sorted(os.path.relpath(os.path.join(d, f), dist)
                       for d, _, fs in os.walk(dist) for f in fs)
        checksums = sha256sum(dist, names)
        if with_dsse:
            st = {"_type": "https://in-toto.io/Statement/v1",
                  "subject": [{"name": "checksums.txt",
                               "digest": {"sha256": hashlib.sha256(checksums).hexdigest()}}],
                  "predicateType": "https://cavra.dev/release-signature/v1",
                  "predicate": {"package": PACKAGE, "version": VERSION}}
            write(os.path.join(dist, "checksums.txt.sig.json"),
                  dsse(IN_TOTO, json.dumps(st).encode(), [("py-release", release)]))
        minisign_sign(dist, ms_key)

    dist = os.path.join(out, "dist")
    build(dist, True, anchor, "py-release")
    bundle = os.path.join(out, "cavra-go-runtime-v0.1.0.tar.gz")
    tar_gz(dist, bundle)

    # The same bundle with one artifact byte changed after signing.
    tdist = os.path.join(out, "dist-tampered")
    shutil.copytree(dist, tdist)
    p = os.path.join(tdist, "bin", "cavra-linux-amd64")
    data = bytearray(open(p, "rb").read())
    data[10] ^= 0x20
    write(p, bytes(data))
    tampered = os.path.join(out, "cavra-go-runtime-v0.1.0-tampered.tar.gz")
    tar_gz(tdist, tampered)

    # A minisign-only release (package and version then come from the release evidence).
    mdist = os.path.join(out, "dist-minisign")
    build(mdist, False, anchor_ms, "py-minisign")
    minisign_only = os.path.join(out, "cavra-go-runtime-v0.1.0-minisign.tar.gz")
    tar_gz(mdist, minisign_only)

    print(json.dumps({"anchor": os.path.join(out, "anchor.json"),
                      "anchor_minisign": os.path.join(out, "anchor-minisign.json"),
                      "bundle": bundle, "tampered": tampered, "minisign_only": minisign_only,
                      "release_pem": os.path.join(out, "keys", "release.pem"),
                      "builder_pem": os.path.join(out, "keys", "builder.pem"),
                      "minisign_key": ms_key, "minisign_pub": ms_pub,
                      "commit": COMMIT, "ref": REF, "repo": REPO, "builder": BUILDER}))


if __name__ == "__main__":
    main()
