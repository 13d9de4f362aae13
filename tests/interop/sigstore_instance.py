#!/usr/bin/env python3
"""A private Sigstore instance for the tests, built from Python `cryptography` only: a Fulcio-like
CA, a CT log, a Rekor log. It signs one artifact as a Sigstore bundle v0.3 (message signature,
hashedrekord 0.0.1 entry with SET, RFC 6962 inclusion proof and signed checkpoint, embedded SCT)
and writes the matching trusted_root.json, plus one bundle per verification step broken.

    sigstore_instance.py OUT ARTIFACT --subject URI --issuer URL [--ext OID=VALUE ...]

writes OUT/trusted_root.json, OUT/leaf.der and OUT/{good,chain,expired,time,log,swapped,sct,signature}.sigstore.json;
with --dsse PAYLOAD_TYPE, ARTIFACT is a DSSE payload (Rekor kind dsse): OUT/{good,signature}.sigstore.json.
The instance's CA, Rekor and CT keys are made on the first run into OUT/instance/ and reused by
later runs into the same OUT (so trusted_root.json stays the same); nothing is fetched.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import struct
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

B64 = lambda b: base64.b64encode(b).decode()
UTC = datetime.timezone.utc
ORIGIN = "rekor.airlock.test - 1"


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key, data):
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der_utf8(s):
    b = s.encode()
    return b"\x0c" + der_len(len(b)) + b


def der_octets(b):
    return b"\x04" + der_len(len(b)) + b


def ca_cert(key, name, start):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def leaf_builder(ca_key, ca, leaf_key, subject_uri, issuer, exts, not_before, not_after, serial):
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(subject_uri)]),
            critical=True,
        )
        .add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), der_utf8(issuer)),
            critical=False,
        )
    )
    for oid, value in exts:
        b = b.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier(oid), der_utf8(value)), critical=False
        )
    return b


def leaf_cert(ca_key, ca, ct_key, leaf_key, subject_uri, issuer, exts, not_before, not_after):
    """Issues the leaf as Fulcio does: a precertificate TBS logged to CT, the SCT embedded."""
    serial = x509.random_serial_number()
    pre = leaf_builder(ca_key, ca, leaf_key, subject_uri, issuer, exts, not_before, not_after, serial)
    tbs = pre.sign(ca_key, hashes.SHA256()).tbs_certificate_bytes
    ts = int(not_before.timestamp() * 1000) + 1000
    issuer_key_hash = hashlib.sha256(
        ca.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    signed = (
        b"\x00\x00"  # v1, certificate_timestamp
        + struct.pack(">Q", ts)
        + b"\x00\x01"  # precert_entry
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big")
        + tbs
        + b"\x00\x00"  # no extensions
    )
    sig = sign(ct_key, signed)
    log_id = hashlib.sha256(spki(ct_key)).digest()
    sct = (
        b"\x00" + log_id + struct.pack(">Q", ts) + b"\x00\x00" + b"\x04\x03"
        + struct.pack(">H", len(sig)) + sig
    )
    sct_list = struct.pack(">H", len(sct) + 2) + struct.pack(">H", len(sct)) + sct
    final = leaf_builder(
        ca_key, ca, leaf_key, subject_uri, issuer, exts, not_before, not_after, serial
    ).add_extension(
        x509.UnrecognizedExtension(
            ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), der_octets(sct_list)
        ),
        critical=False,
    )
    return final.sign(ca_key, hashes.SHA256())


# RFC 6962 Merkle tree.
def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def checkpoint(rekor_key, size, root):
    body = f"{ORIGIN}\n{size}\n{B64(root)}\n"
    hint = hashlib.sha256(spki(rekor_key)).digest()[:4]
    return body + "\n\u2014 " + ORIGIN.split(" ")[0] + " " + B64(hint + sign(rekor_key, body.encode())) + "\n"


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def bundle(rekor_key, leaf, signature, digest, integrated_time, log_index=5, tree_size=8,
           corrupt_proof=False, body_digest=None, dsse=None):
    """`dsse`: (payloadType, payload) for a DSSE envelope (Rekor kind dsse 0.0.1); else a message
    signature over the artifact whose SHA-256 is `digest` (kind hashedrekord 0.0.1)."""
    cert_pem = leaf.public_bytes(serialization.Encoding.PEM)
    if dsse:
        envelope = {
            "payload": B64(dsse[1]),
            "payloadType": dsse[0],
            "signatures": [{"sig": B64(signature), "keyid": ""}],
        }
        entry = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest(),
                },
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(dsse[1]).hexdigest()},
                "signatures": [{"signature": B64(signature), "verifier": B64(cert_pem)}],
            },
        }
    else:
        entry = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": (body_digest or digest).hex()}},
                "signature": {"content": B64(signature), "publicKey": {"content": B64(cert_pem)}},
            },
        }
    body = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode()
    log_id = hashlib.sha256(spki(rekor_key)).digest()
    leaves = [leaf_hash(os.urandom(16)) for _ in range(tree_size)]
    leaves[log_index] = leaf_hash(body)
    root = mth(leaves)
    hashes_ = path(log_index, leaves)
    if corrupt_proof:
        hashes_[0] = bytes(32)
    set_payload = json.dumps(
        {
            "body": B64(body),
            "integratedTime": integrated_time,
            "logID": log_id.hex(),
            "logIndex": log_index,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    out = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": B64(leaf.public_bytes(serialization.Encoding.DER))},
            "tlogEntries": [
                {
                    "logIndex": str(log_index),
                    "logId": {"keyId": B64(log_id)},
                    "kindVersion": {"kind": entry["kind"], "version": "0.0.1"},
                    "integratedTime": str(integrated_time),
                    "inclusionPromise": {"signedEntryTimestamp": B64(sign(rekor_key, set_payload))},
                    "inclusionProof": {
                        "logIndex": str(log_index),
                        "rootHash": B64(root),
                        "treeSize": str(tree_size),
                        "hashes": [B64(h) for h in hashes_],
                        "checkpoint": {"envelope": checkpoint(rekor_key, tree_size, root)},
                    },
                    "canonicalizedBody": B64(body),
                }
            ],
        },
    }
    if dsse:
        out["dsseEnvelope"] = envelope
    else:
        out["messageSignature"] = {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64(digest)},
            "signature": B64(signature),
        }
    return out


def tamper_time(b, new_time):
    b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = str(new_time)
    return b


def trusted_root(ca, rekor_key, ct_key, start):
    def log(key, url):
        return {
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": B64(spki(key)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": start},
            },
            "logId": {"keyId": B64(hashlib.sha256(spki(key)).digest())},
        }

    return {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log(rekor_key, "https://rekor.airlock.test")],
        "certificateAuthorities": [
            {
                "subject": {"organization": "airlock-test", "commonName": "airlock-test-fulcio"},
                "uri": "https://fulcio.airlock.test",
                "certChain": {"certificates": [{"rawBytes": B64(ca.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": start},
            }
        ],
        "ctlogs": [log(ct_key, "https://ctfe.airlock.test")],
        "timestampAuthorities": [],
    }


def instance_keys(out, t):
    """The instance's CA, Rekor and CT keys, kept in OUT/instance/ so that a second run (another
    artifact) signs under the same trusted_root.json."""
    d = os.path.join(out, "instance")
    names = ["ca", "rekor", "ct"]
    if not os.path.isdir(d):
        os.makedirs(d)
        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in names]
        for n, k in zip(names, keys):
            with open(os.path.join(d, f"{n}.key.pem"), "wb") as f:
                f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        ca = ca_cert(keys[0], "airlock-test-fulcio", datetime.datetime.fromtimestamp(t - 86400 * 30, UTC))
        with open(os.path.join(d, "ca.der"), "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.DER))
    keys = [
        serialization.load_pem_private_key(open(os.path.join(d, f"{n}.key.pem"), "rb").read(), None)
        for n in names
    ]
    ca = x509.load_der_x509_certificate(open(os.path.join(d, "ca.der"), "rb").read())
    return keys[0], keys[1], keys[2], ca


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("artifact")
    ap.add_argument("--subject", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--ext", action="append", default=[])
    ap.add_argument("--dsse", metavar="PAYLOAD_TYPE", help="sign ARTIFACT as a DSSE payload")
    a = ap.parse_args()
    exts = [tuple(e.split("=", 1)) for e in a.ext]
    os.makedirs(a.out, exist_ok=True)
    data = open(a.artifact, "rb").read()
    digest = hashlib.sha256(data).digest()

    gen = lambda: ec.generate_private_key(ec.SECP256R1())
    other_ca_key, other_ct_key, leaf_key = (gen() for _ in range(3))
    t = int(time.time()) - 3600
    ca_key, rekor_key, ct_key, ca = instance_keys(a.out, t)
    ca_start = ca.not_valid_before_utc
    start = ca_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    other_ca = ca_cert(other_ca_key, "airlock-test-fulcio", ca_start)
    nb = datetime.datetime.fromtimestamp(t - 60, UTC)
    na = datetime.datetime.fromtimestamp(t + 540, UTC)

    def leaf(ca_key_=ca_key, ca_=ca, ct=ct_key, not_after=na):
        return leaf_cert(ca_key_, ca_, ct, leaf_key, a.subject, a.issuer, exts, nb, not_after)

    good_leaf = leaf()
    if a.dsse:
        # A DSSE envelope over ARTIFACT: the good bundle and one with a signature over other bytes.
        sig = sign(leaf_key, pae(a.dsse, data))
        variants = {
            "good": bundle(rekor_key, good_leaf, sig, digest, t, dsse=(a.dsse, data)),
            "signature": bundle(
                rekor_key, good_leaf, sign(leaf_key, pae(a.dsse, data + b" ")), digest, t,
                dsse=(a.dsse, data),
            ),
        }
        write(a.out, variants, ca, rekor_key, ct_key, start, good_leaf)
        return
    sig = sign(leaf_key, data)
    variants = {
        "good": bundle(rekor_key, good_leaf, sig, digest, t),
        # 1: a leaf from a CA the trusted root does not list.
        "chain": bundle(rekor_key, leaf(other_ca_key, other_ca), sig, digest, t),
        # 1: the certificate had expired at the proven (SET-signed) signing time.
        "expired": bundle(rekor_key, good_leaf, sig, digest, t + 3600),
        # 2: the integrated time is not the one the SET signs.
        "time": tamper_time(bundle(rekor_key, good_leaf, sig, digest, t), t + 30),
        # 3: the inclusion proof does not lead to the signed checkpoint.
        "log": bundle(rekor_key, good_leaf, sig, digest, t, corrupt_proof=True),
        # 3: the log entry is about another artifact (CVE-2022-36056).
        "swapped": bundle(rekor_key, good_leaf, sig, digest, t, body_digest=hashlib.sha256(b"other").digest()),
        # 4: the SCT is by a CT log the trusted root does not list.
        "sct": bundle(rekor_key, leaf(ct=other_ct_key), sig, digest, t),
        # 5: the signature is over other bytes.
        "signature": bundle(rekor_key, good_leaf, sign(leaf_key, data + b"x"), digest, t),
    }
    write(a.out, variants, ca, rekor_key, ct_key, start, good_leaf)


def write(out, variants, ca, rekor_key, ct_key, start, good_leaf):
    for name, b in variants.items():
        with open(os.path.join(out, f"{name}.sigstore.json"), "w") as f:
            json.dump(b, f, indent=1)
    with open(os.path.join(out, "trusted_root.json"), "w") as f:
        json.dump(trusted_root(ca, rekor_key, ct_key, start), f, indent=1)
    with open(os.path.join(out, "leaf.der"), "wb") as f:
        f.write(good_leaf.public_bytes(serialization.Encoding.DER))


if __name__ == "__main__":
    main()
