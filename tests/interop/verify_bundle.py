#!/usr/bin/env python3
"""Checks an Airlock-made bundle with independent tools only (the reverse interop direction):
GNU tar extracts it, GNU `sha256sum -c` checks checksums.txt, the `minisign` CLI verifies
checksums.txt.minisig (requiring a prehashed signature, -H), and Python `cryptography` verifies
the DSSE envelopes (PAE written here) against the keys of the trust root the bundle carries.

Usage: verify_bundle.py BUNDLE WORK_DIR [MINISIGN_PUB]. Exits non-zero with a message on any failure.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_envelope(path, keys, want_type, role_ids):
    env = json.load(open(path))
    assert env["payloadType"] == want_type, (path, env["payloadType"])
    body = base64.b64decode(env["payload"])
    good = set()
    for s in env["signatures"]:
        if s["keyid"] in keys and s["keyid"] in role_ids:
            keys[s["keyid"]].verify(base64.b64decode(s["sig"]), pae(want_type, body))  # raises
            good.add(s["keyid"])
    assert good, f"{path}: no signature by a key of the role"
    return json.loads(body)


def main():
    bundle, work = sys.argv[1], sys.argv[2]
    minisign_pub = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(work, exist_ok=True)
    subprocess.run(["tar", "-xf", bundle, "-C", work], check=True)
    subprocess.run(["sha256sum", "--strict", "--quiet", "-c", "checksums.txt"], cwd=work, check=True)
    root_env = json.load(open(os.path.join(work, "offline-trust-root-bootstrap.json")))
    root = json.loads(base64.b64decode(root_env["payload"]))
    keys = {k["key_id"]: Ed25519PublicKey.from_public_bytes(base64.b64decode(k["public_key"]))
            for k in root["keys"] if k["algorithm"] == "Ed25519"}
    roles = {n: set(r["key_ids"]) for n, r in root["roles"].items()}
    verify_envelope(os.path.join(work, "offline-trust-root-bootstrap.json"), keys,
                    "application/vnd.cavra.trust-root+json", roles["root"])
    sums = open(os.path.join(work, "checksums.txt"), "rb").read()
    if os.path.exists(os.path.join(work, "checksums.txt.sig.json")):
        st = verify_envelope(os.path.join(work, "checksums.txt.sig.json"), keys,
                             "application/vnd.in-toto+json", roles["release"])
        assert st["subject"][0]["digest"]["sha256"] == hashlib.sha256(sums).hexdigest()
    prov = verify_envelope(os.path.join(work, "cavra-runtime.provenance.intoto.json"), keys,
                           "application/vnd.in-toto+json", roles["provenance"])
    assert prov["predicateType"] == "https://slsa.dev/provenance/v1"
    listed = {line.split("  ", 1)[1] for line in sums.decode().splitlines()}
    for s in prov["subject"]:
        assert s["name"] in listed, s["name"]
    if minisign_pub:
        subprocess.run(["minisign", "-V", "-H", "-q", "-p", minisign_pub, "-m", "checksums.txt",
                        "-x", "checksums.txt.minisig"], cwd=work, check=True)
    print("ok")


if __name__ == "__main__":
    main()
