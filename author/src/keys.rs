//! Signing keys on the connected side: generation from the OS CSPRNG, private key files (mode 0600
//! from the moment they exist), PKCS#8 PEM, the `CAVRA_GO_RELEASE_SIGNING_KEY` environment
//! variable, and unencrypted minisign secret keys. A public key is always derived from its private
//! key, never read beside it, so a mismatched pair cannot be published.

use super::fsutil;
use airlock_formats::json;
use airlock_formats::keys::{decode_base64, encode_base64, fingerprint, KeyEntry, KeyId};
use airlock_formats::timestamp::Timestamp;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The environment variable the release runbook (seed 000) puts the release signing key in.
pub const SIGNING_KEY_ENV: &str = "CAVRA_GO_RELEASE_SIGNING_KEY";

/// Markers of private key material; a file that starts with one never goes into a bundle.
pub const PRIVATE_KEY_MARKERS: [&[u8]; 6] = [
    b"-----BEGIN PRIVATE KEY-----",
    b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
    b"-----BEGIN OPENSSH PRIVATE KEY-----",
    b"-----BEGIN EC PRIVATE KEY-----",
    b"untrusted comment: minisign encrypted secret key",
    b"untrusted comment: minisign secret key",
];

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    key_id: KeyId,
    algorithm: String,
    private_key: String,
}

/// An Ed25519 private key with the id it signs under.
pub struct PrivateKey {
    key_id: KeyId,
    signing: SigningKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret: the id and the public fingerprint only.
        write!(f, "PrivateKey({} {})", self.key_id, self.fingerprint())
    }
}

/// Key material of a kind an option does not take, told from its text so the message can say what
/// the file is and which option takes it (instead of "not base64").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `untrusted comment: minisign … secret key` (minisign -G, keygen --minisign's ID.minisign.key).
    MinisignSecret,
    /// `untrusted comment: minisign public key` (minisign.pub, ID.minisign.pub).
    MinisignPublic,
    /// A public key entry (formats §1, keygen's ID.pub.json, an appliance-key.json).
    PublicEntry,
    /// An Airlock Ed25519 private key file (keygen's ID.key).
    PrivateFile,
    /// A PEM public key (`-----BEGIN PUBLIC KEY-----`).
    PemPublic,
    /// A PEM private key of a form Airlock reads (`-----BEGIN PRIVATE KEY-----`).
    PemPrivate,
    /// 64 hex characters: an HMAC secret (hmac-keygen's ID.hmac-secret) or a hex-encoded seed.
    Hex64,
}

impl KeyKind {
    /// What the file is, for a message.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MinisignSecret => "a minisign secret key",
            Self::MinisignPublic => "a minisign public key (minisign.pub)",
            Self::PublicEntry => "a public key entry (ID.pub.json)",
            Self::PrivateFile => "an Airlock Ed25519 private key file (ID.key)",
            Self::PemPublic => "a PEM public key",
            Self::PemPrivate => "a PKCS#8 PEM private key",
            Self::Hex64 => {
                "64 hex characters: an HMAC secret (hmac-keygen's ID.hmac-secret, for the CAVRA_* variables or airlock vault add) or a hex seed"
            }
        }
    }

    /// Tells the kind from the text (`None`: not one of these).
    pub fn of(text: &[u8]) -> Option<Self> {
        let t = std::str::from_utf8(text).ok()?.trim();
        let first = t.lines().next().unwrap_or_default();
        // minisign and rsign (the minisign crate) files: the comment says which half it is.
        if first.starts_with("untrusted comment:") {
            return if first.contains("signature") {
                // A .minisig ("signature from minisign secret key"): not a key.
                None
            } else if first.contains("public key") {
                Some(Self::MinisignPublic)
            } else if first.contains("secret key") {
                Some(Self::MinisignSecret)
            } else {
                None
            };
        }
        if first.starts_with("-----BEGIN PUBLIC KEY-----") {
            return Some(Self::PemPublic);
        }
        if first.starts_with("-----BEGIN PRIVATE KEY-----") {
            return Some(Self::PemPrivate);
        }
        if t.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(t).ok()?;
            let has = |k: &str| v.get(k).is_some();
            return if has("private_key") {
                Some(Self::PrivateFile)
            } else if has("public_key") && has("key_id") {
                Some(Self::PublicEntry)
            } else {
                None
            };
        }
        (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).then_some(Self::Hex64)
    }
}

/// What the Ed25519 signing options (`--release-key`, `--provenance-key`, `--sign`) take.
const ED25519_PRIVATE_FORMS: &str = "an Ed25519 private key: keygen's ID.key, a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a base64 32-byte seed";

fn key_id(s: &str) -> Result<KeyId, String> {
    Ok(KeyId::new(s)?)
}

impl PrivateKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate(id: &str) -> Result<Self, String> {
        let key_id = key_id(id)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| format!("the operating system's random generator failed: {e}"))?;
        let signing = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(Self { key_id, signing })
    }

    /// A key from its 32-byte seed (tests and fixed test vectors).
    pub fn from_seed(id: &str, seed: &[u8; 32]) -> Result<Self, String> {
        Ok(Self {
            key_id: key_id(id)?,
            signing: SigningKey::from_bytes(seed),
        })
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The dalek signing key (for `document::dsse::sign`).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The 32 raw public key bytes.
    pub fn public_raw(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// `sha256:` + hex of the raw public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_raw())
    }

    /// The public key entry (formats §1) for a trust root.
    pub fn public_entry(
        &self,
        not_before: Option<Timestamp>,
        not_after: Option<Timestamp>,
    ) -> KeyEntry {
        KeyEntry {
            key_id: self.key_id.clone(),
            algorithm: "Ed25519".into(),
            public_key: encode_base64(&self.public_raw()),
            identity: None,
            not_before,
            not_after,
        }
    }

    /// The private key file's JSON: `{"key_id","algorithm":"Ed25519","private_key":"<base64 seed>"}`.
    pub fn to_file_json(&self) -> Vec<u8> {
        airlock_formats::document::dsse::to_pretty_json(&PrivateKeyFile {
            key_id: self.key_id.clone(),
            algorithm: "Ed25519".into(),
            private_key: encode_base64(&self.signing.to_bytes()),
        })
    }

    /// Writes the private key file (created with mode 0600, never overwriting) and returns its
    /// path.
    pub fn write_private(&self, path: &Path) -> Result<(), String> {
        fsutil::write_private(path, &self.to_file_json())
    }

    /// Reads a private key from text: a private key JSON file, a PKCS#8 PEM (`BEGIN PRIVATE KEY`,
    /// what Python `cryptography` and `openssl genpkey -algorithm ed25519` write), or base64 of the
    /// 32-byte seed (or of seed‖public key, 64 bytes, as Go and libsodium hold it). `id` names the
    /// key when the text does not; when both do, they must agree.
    pub fn parse(text: &[u8], id: Option<&str>) -> Result<Self, String> {
        let trimmed = std::str::from_utf8(text)
            .map_err(|_| "the private key is not text (UTF-8)".to_string())?
            .trim();
        match KeyKind::of(trimmed.as_bytes()) {
            Some(KeyKind::MinisignSecret) => return Err(format!(
                "this is a minisign secret key, not an Ed25519 key: give it with --minisign-key (pack signs checksums.txt.minisig with it); this option takes {ED25519_PRIVATE_FORMS}"
            )),
            Some(k @ (KeyKind::MinisignPublic | KeyKind::PublicEntry | KeyKind::PemPublic)) => {
                return Err(format!(
                    "this is {}, not a private key: signing needs {ED25519_PRIVATE_FORMS} (keygen writes ID.key beside ID.pub.json)",
                    k.describe()
                ))
            }
            Some(k @ KeyKind::Hex64) => {
                return Err(format!(
                    "this is {}, not a key this option reads: it takes {ED25519_PRIVATE_FORMS}",
                    k.describe()
                ))
            }
            Some(KeyKind::PrivateFile | KeyKind::PemPrivate) | None => {}
        }
        if trimmed.starts_with("untrusted comment:") {
            return Err(format!(
                "this is a minisign file, not an Ed25519 key: this option takes {ED25519_PRIVATE_FORMS}"
            ));
        }
        if trimmed.starts_with('{') {
            let f: PrivateKeyFile = json::parse(trimmed.as_bytes()).map_err(|e| {
                format!("not an Airlock private key file (keygen's ID.key: key_id, algorithm, private_key): {e}")
            })?;
            if f.algorithm != "Ed25519" {
                return Err(format!(
                    "private key algorithm {:?} is not Ed25519",
                    f.algorithm
                ));
            }
            if let Some(id) = id.filter(|id| *id != f.key_id.as_str()) {
                return Err(format!("the key file is for key id {}, not {id}", f.key_id));
            }
            let seed = decode_seed(&f.private_key)?;
            return Ok(Self {
                key_id: f.key_id,
                signing: SigningKey::from_bytes(&seed),
            });
        }
        let id = id.ok_or(
            "this private key does not carry a key id: name it (ID=FILE on the command line, or --key-id)",
        )?;
        let key_id = key_id(id)?;
        if trimmed.starts_with("-----BEGIN") {
            use ed25519_dalek::pkcs8::DecodePrivateKey as _;
            if !trimmed.starts_with("-----BEGIN PRIVATE KEY-----") {
                return Err(format!(
                    "unsupported PEM ({}): expected an unencrypted PKCS#8 Ed25519 key (-----BEGIN PRIVATE KEY-----)",
                    trimmed.lines().next().unwrap_or_default()
                ));
            }
            let signing = SigningKey::from_pkcs8_pem(trimmed)
                .map_err(|e| format!("not a PKCS#8 Ed25519 private key: {e}"))?;
            return Ok(Self { key_id, signing });
        }
        let seed = decode_seed(trimmed)?;
        Ok(Self {
            key_id,
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a private key file (see [`PrivateKey::parse`]).
    pub fn load(path: &Path, id: Option<&str>) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&bytes, id).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads the key from [`SIGNING_KEY_ENV`] (base64 seed or PEM), under `id`.
    pub fn from_env(id: &str) -> Result<Self, String> {
        let v = std::env::var(SIGNING_KEY_ENV).map_err(|_| {
            format!("{SIGNING_KEY_ENV} is not set (or not UTF-8), and no key file was given")
        })?;
        Self::parse(v.as_bytes(), Some(id)).map_err(|e| format!("{SIGNING_KEY_ENV}: {e}"))
    }
}

fn decode_seed(s: &str) -> Result<[u8; 32], String> {
    let bytes = decode_base64(s.trim()).ok_or_else(|| {
        format!("not a private key Airlock reads (not base64): expected {ED25519_PRIVATE_FORMS}")
    })?;
    match bytes.len() {
        32 => {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes);
            Ok(seed)
        }
        64 => {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes[..32]);
            let derived = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            if derived[..] != bytes[32..] {
                return Err("the 64-byte private key's second half is not its public key".into());
            }
            Ok(seed)
        }
        n => Err(format!(
            "the private key is {n} bytes; an Ed25519 seed is 32 (or 64 with its public key)"
        )),
    }
}

/// An unencrypted minisign secret key (`minisign -G -W`), which signs `checksums.txt.minisig`.
pub struct MinisignKey {
    sk: minisign::SecretKey,
    pk: minisign::PublicKey,
}

impl fmt::Debug for MinisignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MinisignKey({})", self.public_key_base64())
    }
}

impl MinisignKey {
    /// A fresh unencrypted key pair.
    pub fn generate() -> Result<Self, String> {
        let kp = minisign::KeyPair::generate_unencrypted_keypair()
            .map_err(|e| format!("minisign key generation failed: {e}"))?;
        Ok(Self {
            sk: kp.sk,
            pk: kp.pk,
        })
    }

    /// Reads a minisign secret key file's text. The layout is checked here rather than by the
    /// minisign crate's loader, because `minisign -G -W` (0.11) writes unencrypted keys with an
    /// all-zero BLAKE2b checksum, which that loader refuses as corrupted; integrity is checked
    /// instead by deriving the public half from the seed and comparing.
    pub fn parse(text: &str) -> Result<Self, String> {
        match KeyKind::of(text.as_bytes()) {
            Some(KeyKind::MinisignSecret) | None => {}
            Some(KeyKind::MinisignPublic) => return Err(
                "this is a minisign public key (minisign.pub), not its secret key: --minisign-key takes the secret key (minisign -G -W's minisign.key, keygen --minisign's ID.minisign.key)"
                    .into(),
            ),
            Some(k) => return Err(format!(
                "this is {}, not a minisign secret key: Ed25519 release keys go to --release-key (provenance keys to --provenance-key); --minisign-key takes a minisign secret key (minisign -G -W)",
                k.describe()
            )),
        }
        if !text.trim_start().starts_with("untrusted comment:")
            && PrivateKey::parse(text.as_bytes(), Some("probe")).is_ok()
        {
            return Err("this is an Ed25519 private key, not a minisign secret key: give it with --release-key (or --provenance-key); --minisign-key takes a minisign secret key (minisign -G -W)".into());
        }
        let line = text
            .lines()
            .nth(1)
            .ok_or("not a minisign secret key (expected a comment line and a base64 line)")?;
        let bin = decode_base64(line.trim()).ok_or("not a minisign secret key (bad base64)")?;
        if bin.len() != 158 || &bin[..2] != b"Ed" || &bin[4..6] != b"B2" {
            return Err("not a minisign Ed25519 secret key".into());
        }
        if bin[2..4] != [0, 0] {
            return Err(
                "the minisign secret key is password-protected; Airlock reads unencrypted keys (minisign -G -W, or remove the password with minisign -C -W)"
                    .into(),
            );
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&bin[62..94]);
        let derived = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        seed.fill(0);
        if derived[..] != bin[94..126] {
            return Err(
                "the minisign secret key is corrupted (its public half does not match its seed)"
                    .into(),
            );
        }
        let sk = minisign::SecretKey::from_bytes(&bin)
            .map_err(|e| format!("minisign secret key: {e}"))?;
        let pk = minisign::PublicKey::from_secret_key(&sk)
            .map_err(|e| format!("minisign public key: {e}"))?;
        Ok(Self { sk, pk })
    }

    /// Reads a minisign secret key file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The public key line (what a `minisign.pub`'s second line and a trust root carry).
    pub fn public_key_base64(&self) -> String {
        self.pk.to_base64()
    }

    /// The public key entry (algorithm `minisign`) for a trust root.
    pub fn public_entry(
        &self,
        id: &str,
        not_before: Option<Timestamp>,
        not_after: Option<Timestamp>,
    ) -> Result<KeyEntry, String> {
        Ok(KeyEntry {
            key_id: key_id(id)?,
            algorithm: "minisign".into(),
            public_key: self.public_key_base64(),
            identity: None,
            not_before,
            not_after,
        })
    }

    /// The secret key file's text.
    pub fn secret_key_file(&self) -> Result<String, String> {
        self.sk
            .to_box(None)
            .map(|b| b.into_string())
            .map_err(|e| e.to_string())
    }

    /// The `minisign.pub` file's text.
    pub fn public_key_file(&self) -> Result<String, String> {
        self.pk
            .to_box()
            .map(|b| b.into_string())
            .map_err(|e| e.to_string())
    }

    /// A prehashed (`ED`) minisign signature of `data`, as the `.minisig` file's text. The trusted
    /// comment is the one the minisign CLI writes.
    pub fn sign(&self, data: &[u8], file_name: &str, at: Timestamp) -> Result<Vec<u8>, String> {
        let trusted = format!("timestamp:{}\tfile:{file_name}\thashed", at.unix());
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            std::io::Cursor::new(data),
            Some(&trusted),
            Some("signature from airlock-bundle secret key"),
        )
        .map_err(|e| format!("minisign signing failed: {e}"))?;
        Ok(sig.into_string().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trip_and_formats() {
        let k = PrivateKey::generate("release-a").unwrap();
        let json = k.to_file_json();
        let back = PrivateKey::parse(&json, None).unwrap();
        assert_eq!(back.public_raw(), k.public_raw());
        assert!(PrivateKey::parse(&json, Some("other")).is_err());
        let seed = encode_base64(&k.signing.to_bytes());
        assert_eq!(
            PrivateKey::parse(seed.as_bytes(), Some("x"))
                .unwrap()
                .public_raw(),
            k.public_raw()
        );
        assert!(PrivateKey::parse(seed.as_bytes(), None).is_err());
        let mut both = k.signing.to_bytes().to_vec();
        both.extend_from_slice(&k.public_raw());
        assert!(PrivateKey::parse(encode_base64(&both).as_bytes(), Some("x")).is_ok());
        both[40] ^= 1;
        assert!(PrivateKey::parse(encode_base64(&both).as_bytes(), Some("x")).is_err());
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let pem = k
            .signing
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        let from_pem = PrivateKey::parse(pem.as_bytes(), Some("release-a")).unwrap();
        assert_eq!(from_pem.public_raw(), k.public_raw());
        assert!(!format!("{k:?}").contains(&seed));
    }

    #[test]
    fn minisign_round_trip() {
        let m = MinisignKey::generate().unwrap();
        let again = MinisignKey::parse(&m.secret_key_file().unwrap()).unwrap();
        assert_eq!(again.public_key_base64(), m.public_key_base64());
        let sig = m
            .sign(b"hello\n", "checksums.txt", Timestamp::now())
            .unwrap();
        let pk = minisign_verify::PublicKey::from_base64(&m.public_key_base64()).unwrap();
        let s = minisign_verify::Signature::decode(std::str::from_utf8(&sig).unwrap()).unwrap();
        pk.verify(b"hello\n", &s, false).unwrap();
        assert!(pk.verify(b"hellO\n", &s, false).is_err());
    }
}
