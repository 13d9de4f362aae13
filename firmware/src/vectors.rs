//! Known-answer vectors, shared by the host tests and the Cortex-M4 test firmware (`m4-test/`), so
//! that both run exactly the same checks on exactly the same bytes.
//!
//! Sources: FIPS 180-2 / NIST CSRC examples (SHA-256); RFC 8032 §7.1 tests 1-3 (Ed25519); the
//! low-order point list and signature vectors of C2SP/CCTV `ed25519/`; the DSSE `protocol.md`
//! example; vectors no suite has (S + L, small-order and non-canonical R with signatures a lax
//! verifier accepts, a mixed-order key, DSSE signatures, SHA-256 padding boundaries) are derived by
//! `tools/derive_vectors.py`, which uses plain-integer curve arithmetic, hashlib and, as a second
//! signer, the Python `cryptography` package. Every expected result is the one Airlock's strict
//! rules require, whatever a lax verifier would say.
//!
//! [`run_all`] reports one `(name, passed)` per vector, in a fixed order.

use crate::checksums::{self, ChecksumSet, InventoryMismatch, LineError, LineErrorKind};
use crate::digest::{sha256, Sha256, Sha256Digest};
use crate::ed25519::{KeyError, PublicKey};
use crate::name::NameError;
use crate::threshold::{CapacityExceeded, DistinctSigners};
use crate::{hex, pae};

/// Runs every vector, calling `report(name, passed)` once per vector.
pub fn run_all(report: &mut dyn FnMut(&str, bool)) {
    sha256_vectors(report);
    ed25519_key_vectors(report);
    ed25519_signature_vectors(report);
    pae_vectors(report);
    checksums_vectors(report);
    inventory_vectors(report);
    threshold_vectors(report);
}

// ---------------------------------------------------------------------------------------------
// SHA-256

/// A SHA-256 vector: `chunk` fed `repeat` times through the streaming hasher.
struct ShaVector {
    name: &'static str,
    chunk: &'static [u8],
    repeat: usize,
    digest: &'static str,
}

const A1000: [u8; 1000] = [b'a'; 1000];

const SHA256: &[ShaVector] = &[
    ShaVector {
        name: "sha256/fips-empty",
        chunk: b"",
        repeat: 1,
        digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    },
    ShaVector {
        name: "sha256/fips-abc",
        chunk: b"abc",
        repeat: 1,
        digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    },
    ShaVector {
        name: "sha256/fips-448-bit",
        chunk: b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        repeat: 1,
        digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    },
    ShaVector {
        name: "sha256/fips-896-bit",
        chunk: b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        repeat: 1,
        digest: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    },
    ShaVector {
        name: "sha256/fips-million-a-streamed",
        chunk: &A1000,
        repeat: 1000,
        digest: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    },
    // Padding boundaries: 55 bytes is the longest message that pads into one block.
    ShaVector {
        name: "sha256/a-x55-one-block",
        chunk: b"a",
        repeat: 55,
        digest: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
    },
    ShaVector {
        name: "sha256/a-x56-two-blocks",
        chunk: b"a",
        repeat: 56,
        digest: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
    },
    ShaVector {
        name: "sha256/a-x63",
        chunk: b"a",
        repeat: 63,
        digest: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
    },
    ShaVector {
        name: "sha256/a-x64-one-full-block",
        chunk: b"a",
        repeat: 64,
        digest: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
    },
    ShaVector {
        name: "sha256/a-x65",
        chunk: b"a",
        repeat: 65,
        digest: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
    },
    ShaVector {
        name: "sha256/a-x119",
        chunk: b"a",
        repeat: 119,
        digest: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
    },
    ShaVector {
        name: "sha256/a-x120",
        chunk: b"a",
        repeat: 120,
        digest: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
    },
    ShaVector {
        name: "sha256/a-x128",
        chunk: b"a",
        repeat: 128,
        digest: "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e",
    },
];

fn digest_is(got: &Sha256Digest, want_hex: &str) -> bool {
    hex::decode::<32>(want_hex.as_bytes()).is_ok_and(|want| *got == want)
}

fn sha256_vectors(report: &mut dyn FnMut(&str, bool)) {
    for v in SHA256 {
        let mut h = Sha256::new();
        for _ in 0..v.repeat {
            h.update(v.chunk);
        }
        report(v.name, digest_is(&h.finalize(), v.digest));
    }
    // Streaming must not depend on how the input is cut: the 896-bit message in uneven pieces.
    let msg = SHA256[3].chunk;
    let mut h = Sha256::new();
    let mut rest = msg;
    for size in [1, 0, 7, 56, 64, 3].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.min(rest.len()));
        h.update(head);
        rest = tail;
    }
    let split = h.finalize();
    report(
        "sha256/uneven-updates-match-one-shot",
        split == sha256(msg) && digest_is(&split, SHA256[3].digest),
    );
}

// ---------------------------------------------------------------------------------------------
// Ed25519

/// A public key and whether [`PublicKey::from_bytes`] must accept it.
struct KeyVector {
    name: &'static str,
    key: &'static str,
    expect: Result<(), KeyError>,
}

const WEAK: Result<(), KeyError> = Err(KeyError::Weak);
const NON_CANONICAL: Result<(), KeyError> = Err(KeyError::NonCanonical);

const ED25519_KEYS: &[KeyVector] = &[
    KeyVector {
        name: "ed25519/key/rfc8032-test1-accepted",
        key: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        expect: Ok(()),
    },
    // Every low-order point, canonical encodings (C2SP/CCTV ed25519/README.md).
    KeyVector {
        name: "ed25519/key/low-order-4-y0-refused",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-4-y0-odd-x-refused",
        key: "0000000000000000000000000000000000000000000000000000000000000080",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/identity-refused",
        key: "0100000000000000000000000000000000000000000000000000000000000000",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-8-26e8-refused",
        key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-8-26e8-odd-x-refused",
        key: "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-8-c717-refused",
        key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-8-c717-odd-x-refused",
        key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        expect: WEAK,
    },
    KeyVector {
        name: "ed25519/key/low-order-2-refused",
        key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        expect: WEAK,
    },
    // Their non-canonical encodings (y >= p, or x = 0 with the sign bit set).
    KeyVector {
        name: "ed25519/key/non-canonical-y0-y-above-p-refused",
        key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        expect: NON_CANONICAL,
    },
    KeyVector {
        name: "ed25519/key/non-canonical-y0-odd-x-y-above-p-refused",
        key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        expect: NON_CANONICAL,
    },
    KeyVector {
        name: "ed25519/key/non-canonical-identity-negative-zero-refused",
        key: "0100000000000000000000000000000000000000000000000000000000000080",
        expect: NON_CANONICAL,
    },
    KeyVector {
        name: "ed25519/key/non-canonical-identity-y-above-p-refused",
        key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        expect: NON_CANONICAL,
    },
    KeyVector {
        name: "ed25519/key/non-canonical-identity-both-refused",
        key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        expect: NON_CANONICAL,
    },
    KeyVector {
        name: "ed25519/key/non-canonical-low-order-2-negative-zero-refused",
        key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        expect: NON_CANONICAL,
    },
    // y = 2 is not the y of any curve point.
    KeyVector {
        name: "ed25519/key/not-a-point-refused",
        key: "0200000000000000000000000000000000000000000000000000000000000000",
        expect: Err(KeyError::NotAPoint),
    },
    // Prime-order plus order-8 component: the key of C2SP/CCTV vectors 4-7, 16-19, 26-29.
    KeyVector {
        name: "ed25519/key/mixed-order-cctv-refused",
        key: "10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f",
        expect: WEAK,
    },
];

/// The expected result of loading the key and verifying the signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SigExpect {
    /// Key accepted, signature verifies.
    Valid,
    /// Key accepted, signature refused.
    SignatureRefused,
    /// The key is refused at load (so nothing can verify under it).
    KeyRefused(KeyError),
}

struct SigVector {
    name: &'static str,
    key: &'static str,
    msg: &'static [u8],
    sig: &'static str,
    expect: SigExpect,
}

const RFC1_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC1_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
const CCTV_MIXED_KEY: &str = "10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f";
const SMALL_ORDER_R_MSG: &[u8] = b"airlock: small-order R";

const ED25519_SIGNATURES: &[SigVector] = &[
    SigVector {
        name: "ed25519/sig/rfc8032-test1",
        key: RFC1_KEY,
        msg: b"",
        sig: RFC1_SIG,
        expect: SigExpect::Valid,
    },
    SigVector {
        name: "ed25519/sig/rfc8032-test2",
        key: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        msg: b"\x72",
        sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        expect: SigExpect::Valid,
    },
    SigVector {
        name: "ed25519/sig/rfc8032-test3",
        key: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        msg: b"\xaf\x82",
        sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        expect: SigExpect::Valid,
    },
    SigVector {
        name: "ed25519/sig/rfc8032-test2-other-message-refused",
        key: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        msg: b"\x73",
        sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        expect: SigExpect::SignatureRefused,
    },
    SigVector {
        name: "ed25519/sig/rfc8032-test3-flipped-bit-refused",
        key: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        msg: b"\xaf\x82",
        sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40b",
        expect: SigExpect::SignatureRefused,
    },
    // S + L: test 1 with S not reduced. A verifier that reduces S mod L accepts it (malleability).
    SigVector {
        name: "ed25519/sig/non-canonical-s-plus-l-refused",
        key: RFC1_KEY,
        msg: b"",
        sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901554c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b",
        expect: SigExpect::SignatureRefused,
    },
    // S with its top bit set (S >= 2^255 > L).
    SigVector {
        name: "ed25519/sig/non-canonical-s-high-bit-refused",
        key: RFC1_KEY,
        msg: b"",
        sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a108b",
        expect: SigExpect::SignatureRefused,
    },
    // R = identity, S = k·a: made with test 1's secret; cofactorless lax verification accepts it.
    SigVector {
        name: "ed25519/sig/small-order-r-identity-refused",
        key: RFC1_KEY,
        msg: SMALL_ORDER_R_MSG,
        sig: "0100000000000000000000000000000000000000000000000000000000000000e399d8a5adbf959b3487b5991479ed2ad19d19249678cae4fa32bf01f34c0300",
        expect: SigExpect::SignatureRefused,
    },
    // The same with R the identity encoded non-canonically (k hashed over the bytes as sent).
    SigVector {
        name: "ed25519/sig/non-canonical-r-y-above-p-refused",
        key: RFC1_KEY,
        msg: SMALL_ORDER_R_MSG,
        sig: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f8d5a44fcf9387ef752ec7f6296bb82642f6574b011e45ebda40887f70f63f300",
        expect: SigExpect::SignatureRefused,
    },
    SigVector {
        name: "ed25519/sig/non-canonical-r-negative-zero-refused",
        key: RFC1_KEY,
        msg: SMALL_ORDER_R_MSG,
        sig: "010000000000000000000000000000000000000000000000000000000000008058777f01a112788077ec1190f09dc9c2cde7dc3b56add332b6ea6f2431b63903",
        expect: SigExpect::SignatureRefused,
    },
    // Test 1's key plus an order-8 point, with a signature made by test 1's secret that even
    // cofactored verification accepts: one secret, a second raw key. Refused at load.
    SigVector {
        name: "ed25519/sig/mixed-order-key-second-identity-refused",
        key: "9158312a9a8d6e3b34c891d6d61444f8b8211c5117ebad15bdb0bd68b07e0245",
        msg: b"airlock: mixed-order key 0",
        sig: "93c9449be4e3975f799a691f11d3bdab8ac6348ba2afbdfb9310fdb6b32ebdd76ecacc1aaae31a20b0f46dafd19d0632fbf9db38216f2eeb4f2bd6c4c0fdef0c",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
    // C2SP/CCTV ed25519vectors.json: ZIP 215 accepts all of them, ref10-style verifiers accept
    // those without `non_canonical_R` or `low_order_residue`; Airlock refuses every one.
    SigVector {
        name: "ed25519/sig/cctv-0-low-order-a-and-r-refused",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        msg: b"ed25519vectors 3",
        sig: "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
    SigVector {
        name: "ed25519/sig/cctv-5-low-order-r-refused",
        key: CCTV_MIXED_KEY,
        msg: b"ed25519vectors 3",
        sig: "00000000000000000000000000000000000000000000000000000000000000009472a69cd9a701a50d130ed52189e2455b23767db52cacb8716fb896ffeeac09",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
    SigVector {
        name: "ed25519/sig/cctv-7-low-order-components-refused",
        key: CCTV_MIXED_KEY,
        msg: b"ed25519vectors",
        sig: "36684ea91032ba5b1dbab2d02f4debc74c3327f2b3802e2e4d371aa42b12b56bbbfd00bd9c259d8d222d15e67a3d8228585050dbb9b9585be20d8fadc721da03",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
    SigVector {
        name: "ed25519/sig/cctv-9-non-canonical-a-refused",
        key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        msg: b"ed25519vectors 6",
        sig: "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        expect: SigExpect::KeyRefused(KeyError::NonCanonical),
    },
    SigVector {
        name: "ed25519/sig/cctv-17-non-canonical-r-refused",
        key: CCTV_MIXED_KEY,
        msg: b"ed25519vectors 3",
        sig: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fad7a355469b5c87e550469f6b2de409ee723acd584bf35f86b80c384e8ceb702",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
    SigVector {
        name: "ed25519/sig/cctv-29-low-order-components-refused",
        key: CCTV_MIXED_KEY,
        msg: b"ed25519vectors 2",
        sig: "b797b156efcd45a4e2454d2fd0b21438b3ccd80d4c7fd1d1b2c8e55bd4ed4a94732d9e0279fe001d90327efa319816e3e4506b78432b8b4e1f2fdc4b960d700f",
        expect: SigExpect::KeyRefused(KeyError::Weak),
    },
];

fn load_key(key_hex: &str) -> Option<Result<PublicKey, KeyError>> {
    let bytes = hex::decode::<32>(key_hex.as_bytes()).ok()?;
    Some(PublicKey::from_bytes(&bytes))
}

fn sig_outcome(key_hex: &str, msg: &[u8], sig_hex: &str) -> Option<SigExpect> {
    let sig = hex::decode::<64>(sig_hex.as_bytes()).ok()?;
    Some(match load_key(key_hex)? {
        Err(e) => SigExpect::KeyRefused(e),
        Ok(key) => match key.verify(msg, &sig) {
            Ok(()) => SigExpect::Valid,
            Err(_) => SigExpect::SignatureRefused,
        },
    })
}

fn ed25519_key_vectors(report: &mut dyn FnMut(&str, bool)) {
    for v in ED25519_KEYS {
        let got = load_key(v.key).map(|r| r.map(|_| ()));
        report(v.name, got == Some(v.expect));
    }
}

fn ed25519_signature_vectors(report: &mut dyn FnMut(&str, bool)) {
    for v in ED25519_SIGNATURES {
        report(v.name, sig_outcome(v.key, v.msg, v.sig) == Some(v.expect));
    }
}

// ---------------------------------------------------------------------------------------------
// DSSE PAE

struct PaeVector {
    name: &'static str,
    payload_type: &'static [u8],
    body: &'static [u8],
    pae: &'static [u8],
}

const IN_TOTO_TYPE: &[u8] = b"application/vnd.in-toto+json";
const IN_TOTO_BODY: &[u8] = b"{\"_type\":\"https://in-toto.io/Statement/v1\"}";
const IN_TOTO_PAE: &[u8] =
    b"DSSEv1 28 application/vnd.in-toto+json 43 {\"_type\":\"https://in-toto.io/Statement/v1\"}";
/// RFC 8032 test 1's secret over `IN_TOTO_PAE` (tools/derive_vectors.py).
const DSSE_SIG_OVER_PAE: &str = "d9601f6879b98e5ba8d30fb4ae4f2e56496e10b2585a34a653dc7b114cf1f80cad783189e3f9eac895df98051514802841a7d69bb031059370e4cf62c4d1e208";
/// The same secret over the bare body, as a verifier that skips PAE would expect.
const DSSE_SIG_OVER_BODY: &str = "ba6a112acb21439ad3ec5a0a43ec40a54f11b4cd3d9242dd00b4a5edca99fbc6dce85c1335e3ae3f8c626b9c03fa7b412e932089b99c11512a9ff5b9c48a790f";

const PAE: &[PaeVector] = &[
    PaeVector {
        name: "pae/dsse-protocol-example",
        payload_type: b"http://example.com/HelloWorld",
        body: b"hello world",
        pae: b"DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    },
    PaeVector {
        name: "pae/empty-type-and-body",
        payload_type: b"",
        body: b"",
        pae: b"DSSEv1 0  0 ",
    },
    PaeVector {
        name: "pae/in-toto-statement",
        payload_type: IN_TOTO_TYPE,
        body: IN_TOTO_BODY,
        pae: IN_TOTO_PAE,
    },
    PaeVector {
        name: "pae/ten-byte-body-binary-and-spaces",
        payload_type: b"t",
        body: b"a b\n\0\xff 9 x",
        pae: b"DSSEv1 1 t 10 a b\n\0\xff 9 x",
    },
];

fn pae_vectors(report: &mut dyn FnMut(&str, bool)) {
    let mut buf = [0u8; 128];
    for v in PAE {
        let encoded = pae::encode(&mut buf, v.payload_type, v.body);
        let len_ok = pae::encoded_len(v.payload_type.len(), v.body.len()) == Ok(v.pae.len());
        let mut written = [0u8; 128];
        let mut cursor: &mut [u8] = &mut written;
        let writer_ok = pae::write(&mut cursor, v.payload_type, v.body).is_ok()
            && written.get(..v.pae.len()) == Some(v.pae);
        report(v.name, encoded == Ok(v.pae) && len_ok && writer_ok);
    }
    let mut small = [0u8; 11];
    report(
        "pae/short-buffer-refused",
        pae::encode(&mut small, b"t", b"body") == Err(pae::PaeError::Write),
    );
    report(
        "pae/length-overflow-refused",
        pae::encoded_len(usize::MAX - 10, 10) == Err(pae::PaeError::Overflow),
    );
    // DSSE signatures: valid over PAE; refused over the bare body (adversarial #28), over a
    // swapped payloadType, and over another LEN spelling.
    let dsse = |msg: &[u8], sig: &str| sig_outcome(RFC1_KEY, msg, sig);
    let pae = pae::encode(&mut buf, IN_TOTO_TYPE, IN_TOTO_BODY).unwrap_or(&[]);
    report(
        "dsse/signature-over-pae-verifies",
        dsse(pae, DSSE_SIG_OVER_PAE) == Some(SigExpect::Valid),
    );
    report(
        "dsse/signature-over-bare-payload-refused",
        dsse(pae, DSSE_SIG_OVER_BODY) == Some(SigExpect::SignatureRefused)
            && dsse(IN_TOTO_BODY, DSSE_SIG_OVER_BODY) == Some(SigExpect::Valid),
    );
    let swapped = pae::encode(&mut buf, b"application/json", IN_TOTO_BODY).unwrap_or(&[]);
    report(
        "dsse/swapped-payload-type-refused",
        dsse(swapped, DSSE_SIG_OVER_PAE) == Some(SigExpect::SignatureRefused),
    );
    report(
        "dsse/other-length-encoding-refused",
        dsse(
            b"DSSEv1 028 application/vnd.in-toto+json 43 {\"_type\":\"https://in-toto.io/Statement/v1\"}",
            DSSE_SIG_OVER_PAE
        ) == Some(SigExpect::SignatureRefused),
    );
}

// ---------------------------------------------------------------------------------------------
// checksums.txt (adversarial #38)

struct ChecksumsVector {
    name: &'static str,
    text: &'static [u8],
    /// `Ok(number of entries)` or the first error.
    expect: Result<usize, LineError>,
}

/// SHA-256("abc"), as GNU `sha256sum` prints it.
macro_rules! d {
    () => {
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    };
}

const fn line_err(line: usize, kind: LineErrorKind) -> Result<usize, LineError> {
    Err(LineError { line, kind })
}

const CHECKSUMS: &[ChecksumsVector] = &[
    ChecksumsVector {
        name: "checksums/sha256sum-output-accepted",
        text: concat!(d!(), "  bin/airlock\n", d!(), "  README\n").as_bytes(),
        expect: Ok(2),
    },
    ChecksumsVector {
        name: "checksums/empty-file-is-empty-set",
        text: b"",
        expect: Ok(0),
    },
    ChecksumsVector {
        name: "checksums/name-twice-refused",
        text: concat!(d!(), "  a\n", d!(), "  b\n", d!(), "  a\n").as_bytes(),
        expect: line_err(3, LineErrorKind::DuplicateName),
    },
    ChecksumsVector {
        name: "checksums/binary-marker-refused",
        text: concat!(d!(), " *a\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BinaryMarker),
    },
    ChecksumsVector {
        name: "checksums/backslash-escaped-name-refused",
        text: concat!("\\", d!(), "  a\\nb\n").as_bytes(),
        expect: line_err(1, LineErrorKind::EscapedName),
    },
    ChecksumsVector {
        name: "checksums/backslash-in-name-refused",
        text: concat!(d!(), "  a\\b\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadName(NameError::Backslash)),
    },
    ChecksumsVector {
        name: "checksums/crlf-refused",
        text: concat!(d!(), "  a\r\n").as_bytes(),
        expect: line_err(1, LineErrorKind::CarriageReturn),
    },
    ChecksumsVector {
        name: "checksums/crlf-on-second-line-refused",
        text: concat!(d!(), "  a\n", d!(), "  b\r\n").as_bytes(),
        expect: line_err(2, LineErrorKind::CarriageReturn),
    },
    ChecksumsVector {
        name: "checksums/uppercase-hex-refused",
        text: b"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  a\n",
        expect: line_err(1, LineErrorKind::BadDigest),
    },
    ChecksumsVector {
        name: "checksums/byte-order-mark-refused",
        text: concat!("\u{feff}", d!(), "  a\n").as_bytes(),
        expect: line_err(1, LineErrorKind::ByteOrderMark),
    },
    ChecksumsVector {
        name: "checksums/missing-final-newline-refused",
        text: concat!(d!(), "  a\n", d!(), "  b").as_bytes(),
        expect: line_err(2, LineErrorKind::MissingFinalNewline),
    },
    ChecksumsVector {
        name: "checksums/trailing-blank-line-refused",
        text: concat!(d!(), "  a\n\n").as_bytes(),
        expect: line_err(2, LineErrorKind::EmptyLine),
    },
    ChecksumsVector {
        name: "checksums/single-space-separator-refused",
        text: concat!(d!(), " a\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadSeparator),
    },
    ChecksumsVector {
        name: "checksums/tab-separator-refused",
        text: concat!(d!(), "\ta\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadSeparator),
    },
    ChecksumsVector {
        name: "checksums/short-digest-refused",
        text: b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a  a\n",
        expect: line_err(1, LineErrorKind::BadDigest),
    },
    ChecksumsVector {
        name: "checksums/bsd-tagged-format-refused",
        text: concat!("SHA256 (a) = ", d!(), "\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadDigest),
    },
    ChecksumsVector {
        name: "checksums/dot-slash-name-refused",
        text: concat!(d!(), "  ./a\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadName(NameError::EmptyOrDotComponent)),
    },
    ChecksumsVector {
        name: "checksums/parent-name-refused",
        text: concat!(d!(), "  a/../../etc/passwd\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadName(NameError::ParentComponent)),
    },
    ChecksumsVector {
        name: "checksums/absolute-name-refused",
        text: concat!(d!(), "  /etc/passwd\n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadName(NameError::Absolute)),
    },
    ChecksumsVector {
        name: "checksums/empty-name-refused",
        text: concat!(d!(), "  \n").as_bytes(),
        expect: line_err(1, LineErrorKind::BadName(NameError::Empty)),
    },
    ChecksumsVector {
        name: "checksums/non-utf8-name-refused",
        text: b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  caf\xe9\n",
        expect: line_err(1, LineErrorKind::NotUtf8),
    },
    ChecksumsVector {
        name: "checksums/more-lines-than-capacity-refused",
        text: concat!(
            d!(),
            "  1\n",
            d!(),
            "  2\n",
            d!(),
            "  3\n",
            d!(),
            "  4\n",
            d!(),
            "  5\n",
            d!(),
            "  6\n",
            d!(),
            "  7\n",
            d!(),
            "  8\n",
            d!(),
            "  9\n"
        )
        .as_bytes(),
        expect: line_err(9, LineErrorKind::CapacityExceeded),
    },
];

/// The capacity the checksum vectors are parsed with: 8 entries, names of up to 64 bytes.
type Set = ChecksumSet<8, 64>;

fn checksums_vectors(report: &mut dyn FnMut(&str, bool)) {
    for v in CHECKSUMS {
        let got = Set::parse(v.text).map(|s| s.len());
        report(v.name, got == v.expect);
    }
    // The line iterator goes on after a bad line, so that every bad line can be reported.
    let text = concat!("bad\n", d!(), "  ok\n", d!(), " *bin\n", d!(), "  c\r\n").as_bytes();
    let mut kinds = [None; 4];
    for (slot, item) in kinds.iter_mut().zip(checksums::lines(text)) {
        *slot = Some(item.map(|l| l.name.len()).map_err(|e| (e.line, e.kind)));
    }
    report(
        "checksums/every-bad-line-reported",
        kinds
            == [
                Some(Err((1, LineErrorKind::BadDigest))),
                Some(Ok(2)),
                Some(Err((3, LineErrorKind::BinaryMarker))),
                Some(Err((4, LineErrorKind::CarriageReturn))),
            ],
    );
}

struct InventoryVector {
    name: &'static str,
    inventory: &'static [(&'static str, &'static str)],
    /// The mismatches in the order they are reported.
    expect: &'static [InventoryMismatch<'static>],
}

/// SHA-256("abc") and SHA-256("").
const ABC: &str = d!();
const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The listed set of the inventory vectors: `a` and `b` with SHA-256("abc").
const LISTED: &[u8] = concat!(d!(), "  a\n", d!(), "  b\n").as_bytes();

const INVENTORIES: &[InventoryVector] = &[
    InventoryVector {
        name: "checksums/inventory-exact-match",
        inventory: &[("b", ABC), ("a", ABC)],
        expect: &[],
    },
    InventoryVector {
        name: "checksums/inventory-missing-entry-refused",
        inventory: &[("a", ABC)],
        expect: &[InventoryMismatch::Missing("b")],
    },
    InventoryVector {
        name: "checksums/inventory-extra-entry-refused",
        inventory: &[("a", ABC), ("b", ABC), ("c", ABC)],
        expect: &[InventoryMismatch::Extra("c")],
    },
    InventoryVector {
        name: "checksums/inventory-wrong-digest-refused",
        inventory: &[("a", ABC), ("b", EMPTY)],
        expect: &[InventoryMismatch::Digest("b")],
    },
    InventoryVector {
        name: "checksums/inventory-same-file-twice-refused",
        inventory: &[("a", ABC), ("b", ABC), ("a", ABC)],
        expect: &[InventoryMismatch::Duplicate("a")],
    },
    InventoryVector {
        name: "checksums/inventory-every-mismatch-reported",
        inventory: &[("A", ABC), ("b", EMPTY)],
        expect: &[
            InventoryMismatch::Extra("A"),
            InventoryMismatch::Digest("b"),
            InventoryMismatch::Missing("a"),
        ],
    },
];

fn inventory_vectors(report: &mut dyn FnMut(&str, bool)) {
    let Ok(set) = Set::parse(LISTED) else {
        for v in INVENTORIES {
            report(v.name, false);
        }
        return;
    };
    for v in INVENTORIES {
        let mut digests = [[0u8; 32]; 4];
        let mut decoded = v.inventory.len() <= digests.len();
        for (slot, (_, h)) in digests.iter_mut().zip(v.inventory) {
            match hex::decode::<32>(h.as_bytes()) {
                Ok(d) => *slot = d,
                Err(_) => decoded = false,
            }
        }
        let mut got = heapless::Vec::<InventoryMismatch<'_>, 8>::new();
        let mut overflow = false;
        let count = set.check_inventory(
            v.inventory.iter().zip(&digests).map(|((n, _), d)| (*n, d)),
            &mut |m| overflow |= got.push(m).is_err(),
        );
        report(
            v.name,
            decoded && !overflow && count == v.expect.len() && got.as_slice() == v.expect,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Threshold counting (adversarial #13, #22)

fn threshold_vectors(report: &mut dyn FnMut(&str, bool)) {
    let key = |h: &str| hex::decode::<32>(h.as_bytes()).unwrap_or([0; 32]);
    let (k1, k2) = (
        key(RFC1_KEY),
        key("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
    );

    let mut s = DistinctSigners::<4>::new();
    let inserted = [s.insert(&k1), s.insert(&k1), s.insert(&k1)];
    report(
        "threshold/same-raw-key-three-times-counts-once",
        inserted == [Ok(true), Ok(false), Ok(false)] && s.count() == 1 && !s.meets(2),
    );

    let mut s = DistinctSigners::<4>::new();
    let ok = s.insert(&k1) == Ok(true) && s.insert(&k2) == Ok(true) && s.insert(&k1) == Ok(false);
    report(
        "threshold/two-distinct-keys-meet-two",
        ok && s.count() == 2 && s.meets(2) && !s.meets(3),
    );

    let s = DistinctSigners::<4>::new();
    let mut one = DistinctSigners::<4>::new();
    let _ = one.insert(&k1);
    report(
        "threshold/zero-is-never-met",
        !s.meets(0) && !one.meets(0) && one.meets(1),
    );

    let mut s = DistinctSigners::<1>::new();
    report(
        "threshold/capacity-exceeded-refused",
        s.insert(&k1) == Ok(true)
            && s.insert(&k1) == Ok(false)
            && s.insert(&k2) == Err(CapacityExceeded),
    );

    // A second raw encoding of the same key, or the same secret's mixed-order twin, never loads,
    // so it can never reach the counter as a second signer.
    let aliases = [
        "0100000000000000000000000000000000000000000000000000000000000080",
        "9158312a9a8d6e3b34c891d6d61444f8b8211c5117ebad15bdb0bd68b07e0245",
    ];
    report(
        "threshold/key-aliases-refused-before-counting",
        load_key(RFC1_KEY).is_some_and(|r| r.is_ok())
            && aliases
                .iter()
                .all(|a| load_key(a).is_some_and(|r| r.is_err())),
    );
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn every_vector_passes() {
        let mut failed = Vec::new();
        let mut total = 0;
        let mut names = Vec::new();
        super::run_all(&mut |name, ok| {
            total += 1;
            names.push(std::string::String::from(name));
            if !ok {
                failed.push(std::string::String::from(name));
            }
        });
        assert!(failed.is_empty(), "failed vectors: {failed:?}");
        assert!(total >= 80, "only {total} vectors");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), total, "vector names must be unique");
    }
}
