#!/usr/bin/env python3
"""Independent check of an Airlock promotion receipt (formats §2, §6) with `cryptography`.

usage: verify_receipt.py RECEIPT appliance-key.json
Prints the payload's verdict, evidence seq and bundle file on success; exits 1 on failure.
Written from the DSSE specification, not from Airlock's code: PAE is built here.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

RECEIPT_TYPE = "application/vnd.cavra.promotion-receipt+json"


def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def b64(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def canonical_listing(artifacts):
    """formats §6.2: one line per artifact, sorted by name (bytewise): "<sha256> <size> <name>\\n"."""
    rows = sorted(artifacts, key=lambda a: a["name"].encode())
    return b"".join(b"%s %d %s\n" % (a["sha256"].encode(), a["size"], a["name"].encode()) for a in rows)


def check_listing(p, receipt_dir):
    """The artifact list (inline, or the side file beside the receipt) has the signed count and digest."""
    if "artifacts_count" not in p:
        return  # a receipt written before listings existed
    name = p.get("artifacts_file")
    if name is None:
        assert len(p["artifacts"]) == p["artifacts_count"], "inline artifact count"
        data = canonical_listing(p["artifacts"])
    else:
        assert "/" not in name and name not in (".", ".."), "side file name"
        assert p["artifacts"] == [], "inline artifacts and a side file"
        data = open(os.path.join(receipt_dir, name), "rb").read()
        if data.count(b"\n") != p["artifacts_count"]:
            sys.exit("artifact list side file: wrong count")
    if hashlib.sha256(data).hexdigest() != p["artifacts_sha256"]:
        sys.exit("artifact list does not match the receipt's artifacts_sha256")


def main():
    env = json.loads(open(sys.argv[1], "rb").read(), object_pairs_hook=no_dupes)
    entry = json.loads(open(sys.argv[2], "rb").read(), object_pairs_hook=no_dupes)
    assert entry["algorithm"] == "Ed25519"
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key"], validate=True))
    if env["payloadType"] != RECEIPT_TYPE:
        sys.exit("wrong payloadType")
    body = b64(env["payload"])
    msg = pae(env["payloadType"].encode(), body)
    ours = [s for s in env["signatures"] if s["keyid"] == entry["key_id"]]
    if not ours:
        sys.exit("no signature by the appliance key")
    for s in ours:
        try:
            key.verify(b64(s["sig"]), msg)
        except InvalidSignature:
            sys.exit("signature does not verify")
    p = json.loads(body, object_pairs_hook=no_dupes)
    assert p["_type"] == "cavra-promotion-receipt"
    assert p["appliance"]["key_id"] == entry["key_id"]
    check_listing(p, os.path.dirname(os.path.abspath(sys.argv[1])))
    print(json.dumps({"verdict": p["verdict"], "seq": p["evidence"]["seq"],
                      "prev": p["evidence"]["prev"], "file": p["bundle"]["file"]}))


if __name__ == "__main__":
    main()
