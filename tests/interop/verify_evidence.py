#!/usr/bin/env python3
"""Independent check of an Airlock evidence log (formats §6) with `cryptography` and hashlib.

usage: verify_evidence.py LOG appliance-key.json [media]
Prints a JSON summary: verified record count, bad signature lines, chain break lines, seq gaps,
out-of-order lines, complete lines that are not records, the torn tail (a final line
without its newline, bytes) and head seq/hash. Written from formats §6 only:
- sig signs the line with its final `,"sig":"…"` removed and `}` kept;
- prev is the hex SHA-256 of the previous record's line without its newline (64 zeros first).
- torn_fragment (optional, before sig: {"bytes": 1..65536, "sha256": lowercase hex}): on a media
  log (third argument `media`) a complete line that is not a record is accepted only when the next
  line is a verified record whose torn_fragment names its length and SHA-256; a verified record
  with torn_fragment not so matched fails.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ZERO = "0" * 64
ORDER = ["seq", "prev", "time", "event", "bundle_sha256", "verdict", "reasons",
         "receipt_sha256", "key_id", "sig"]


ACK_ORDER = ORDER[:-1] + ["torn_fragment", "sig"]
HEX = set("0123456789abcdef")


def well_formed_ack(ack) -> bool:
    if not isinstance(ack, list) or [k for k, _ in ack] != ["bytes", "sha256"]:
        return False
    ack = dict(ack)
    n, h = ack["bytes"], ack["sha256"]
    return (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 65536
            and isinstance(h, str) and len(h) == 64 and set(h) <= HEX)


def parse(line: bytes):
    try:
        rec = json.loads(line, object_pairs_hook=lambda p: p)
    except Exception:
        return None
    if not isinstance(rec, list) or [k for k, _ in rec] not in (ORDER, ACK_ORDER):
        return None
    rec = dict(rec)
    if "torn_fragment" in rec:
        if not well_formed_ack(rec["torn_fragment"]):
            return None
        rec["torn_fragment"] = dict(rec["torn_fragment"])
    marker = b',"sig":"' + rec["sig"].encode() + b'"}'
    if not line.endswith(marker):
        return None
    signed = line[: -len(marker)] + b"}"
    return rec, signed


def main():
    data = open(sys.argv[1], "rb").read()
    entry = json.loads(open(sys.argv[2], "rb").read())
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key"]))
    lines = data.split(b"\n")
    unterminated = lines[-1] != b""
    if not unterminated:
        lines = lines[:-1]
    parsed = [parse(l) for l in lines]
    # Only a final line without its newline is a torn tail; every complete line is checked.
    last = len(lines) - 1 - (1 if unterminated else 0)
    media = len(sys.argv) > 3 and sys.argv[3] == "media"

    def signature_ok(rec, signed) -> bool:
        try:
            key.verify(base64.b64decode(rec["sig"], validate=True), signed)
            return True
        except (InvalidSignature, ValueError):
            return False

    def acknowledged(i) -> bool:
        if not media or i + 1 > last or parsed[i] is not None or parsed[i + 1] is None:
            return False
        rec, signed = parsed[i + 1]
        ack = rec.get("torn_fragment")
        return (ack is not None and rec["key_id"] == entry["key_id"]
                and ack["bytes"] == len(lines[i])
                and ack["sha256"] == hashlib.sha256(lines[i]).hexdigest()
                and signature_ok(rec, signed))

    out = {"verified": 0, "bad_signatures": [], "chain_breaks": [], "gaps": [],
           "out_of_order": [], "torn_lines": [], "torn_tail_bytes": 0, "head": None,
           "repaired_torn_lines": [], "unmatched_acknowledgments": []}
    if unterminated:
        out["torn_tail_bytes"] = len(lines[-1])
    prev_seq, prev_hash = None, ZERO
    for i in range(last + 1):
        no = i + 1
        if parsed[i] is None:
            out["repaired_torn_lines" if acknowledged(i) else "torn_lines"].append(no)
            continue
        rec, signed = parsed[i]
        if rec["key_id"] != entry["key_id"]:
            continue
        h = hashlib.sha256(lines[i]).hexdigest()
        try:
            key.verify(base64.b64decode(rec["sig"], validate=True), signed)
            out["verified"] += 1
            out["head"] = {"seq": rec["seq"], "sha256": h}
            if media and "torn_fragment" in rec and not (i > 0 and acknowledged(i - 1)):
                out["unmatched_acknowledgments"].append(no)
        except InvalidSignature:
            out["bad_signatures"].append(no)
        after = prev_seq or 0
        if rec["seq"] == after + 1:
            if rec["prev"] != (ZERO if prev_seq is None else prev_hash):
                out["chain_breaks"].append(no)
        elif rec["seq"] > after:
            out["gaps"].append([after, rec["seq"]])
        else:
            out["out_of_order"].append(no)
        prev_seq, prev_hash = rec["seq"], h
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
