#!/usr/bin/env python3
"""Derives the Ed25519, DSSE and SHA-256 vectors of src/vectors.rs that no published suite has.

Independent of the Rust code under test: plain-integer edwards25519 arithmetic from RFC 8032 §5.1,
hashlib for SHA-256/SHA-512, and (when installed) the `cryptography` package as a second signer
for every honestly made signature. Run: python3 firmware/tools/derive_vectors.py
"""
import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)


def inv(x):
    return pow(x, P - 2, P)


def add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * inv(1 + t) % P, (y1 * y2 + x1 * x2) * inv(1 - t) % P)


def mul(k, pt):
    acc = IDENTITY
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def recover_x(y, sign):
    """x for y, or None when y is not on the curve. Lax like most decoders: x = 0 with the sign bit
    set (which RFC 8032 §5.1.3 refuses) decodes as x = 0."""
    x2 = (y * y - 1) * inv(D * y * y + 1) % P
    if x2 == 0:
        return 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x & 1 != sign:
        x = P - x
    return x


def encode(pt):
    x, y = pt
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode(b):
    n = int.from_bytes(b, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    x = recover_x(y % P, sign)
    return None if x is None else (x, y % P)


BY = 4 * inv(5) % P
B = (recover_x(BY, 0), BY)


def h512(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def secret(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def sign(seed, msg):
    a, prefix = secret(seed)
    A = encode(mul(a, B))
    r = h512(prefix, msg) % L
    R = encode(mul(r, B))
    s = (r + h512(R, A, msg) * a) % L
    sig = R + s.to_bytes(32, "little")
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        assert Ed25519PrivateKey.from_private_bytes(seed).sign(msg) == sig, "second signer disagrees"
    except ImportError:
        pass
    return A, sig


def lax_verify(A_enc, msg, sig, cofactored=False):
    """RFC 8032 verification without the strict checks: S reduced mod L, any encodings decoded."""
    A, R = decode(A_enc), decode(sig[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(sig[32:], "little") % L
    k = h512(sig[:32], A_enc, msg) % L
    lhs, rhs = mul(s, B), add(R, mul(k, A))
    if cofactored:
        lhs, rhs = mul(8, lhs), mul(8, rhs)
    return lhs == rhs


def show(name, b):
    print(f"{name}: {b.hex()}")


SEED1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
a1, _ = secret(SEED1)
A1, SIG1 = sign(SEED1, b"")
assert A1.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
assert SIG1.hex().startswith("e5564300c360ac72")

# S + L: the same signature with S not reduced; a verifier that reduces S accepts it.
s_plus_l = SIG1[:32] + (int.from_bytes(SIG1[32:], "little") + L).to_bytes(32, "little")
assert lax_verify(A1, b"", s_plus_l)
show("rfc1 sig with S+L", s_plus_l)

# Small-order R: R = identity, S = k·a. Lax cofactorless verification accepts it.
MSG_R = b"airlock: small-order R"
for label, r_enc in [
    ("identity R (canonical)", bytes.fromhex("01" + "00" * 31)),
    ("identity R (y = p + 1)", bytes.fromhex("ee" + "ff" * 30 + "7f")),
    ("identity R (x = -0)", bytes.fromhex("01" + "00" * 30 + "80")),
]:
    k = h512(r_enc, A1, MSG_R) % L
    sig = r_enc + (k * a1 % L).to_bytes(32, "little")
    assert lax_verify(A1, MSG_R, sig)
    show(f"rfc1 key, msg {MSG_R!r}, {label}", sig)

# Mixed-order key: A1 + T8 (T8 of order 8). Grind a message whose k is a multiple of 8; then the
# holder of a1 produces a signature that a strict-only-on-small-order verifier accepts under A1 + T8.
T8 = decode(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"))
assert mul(8, T8) == IDENTITY and mul(4, T8) != IDENTITY
A1T = encode(add(decode(A1), T8))
r = 0x1234567 % L
R = encode(mul(r, B))
for i in range(1000):
    msg = b"airlock: mixed-order key %d" % i
    k = h512(R, A1T, msg) % L
    if k % 8 == 0:
        break
sig = R + ((r + k * a1) % L).to_bytes(32, "little")
assert lax_verify(A1T, msg, sig) and lax_verify(A1T, msg, sig, cofactored=True)
assert mul(L, decode(A1T)) != IDENTITY
show("mixed-order key A1+T8", A1T)
print(f"mixed-order msg: {msg!r}")
show("mixed-order sig", sig)

# A y that is not on the curve.
for y in range(2, 100):
    if recover_x(y, 0) is None:
        show(f"not a point (y = {y})", y.to_bytes(32, "little"))
        break

# DSSE: the RFC 8032 test-1 key signs PAE(type, body); the same key over the bare body.
ptype, body = b"application/vnd.in-toto+json", b'{"_type":"https://in-toto.io/Statement/v1"}'
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body)
print(f"pae: {pae!r}")
show("dsse sig over PAE", sign(SEED1, pae)[1])
show("dsse sig over bare body", sign(SEED1, body)[1])

# SHA-256 around the padding boundaries.
for n in (55, 56, 63, 64, 65, 119, 120, 128):
    show(f"sha256('a' * {n})", hashlib.sha256(b"a" * n).digest())
show("sha256 1e6 a", hashlib.sha256(b"a" * 1_000_000).digest())
show("sha256 896-bit", hashlib.sha256(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").digest())
