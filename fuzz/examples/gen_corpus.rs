//! Writes the deterministic seed corpus: `cargo run --example gen_corpus -- OUT_DIR [DEMO_DIR]`.
//!
//! Everything is made with the fixture's fixed keys (`airlock_fuzz::fixture`), so signed seeds
//! verify in the targets that re-sign or verify against the fixture (`policy_assess`,
//! `evidence_log`, `receipt_verify`). With DEMO_DIR (the output of
//! `airlock demo --prepare DEMO_DIR`), the demo's real bundles and JSON files are added too.
//! Each seed is run through its target once; `policy_assess`'s release seed must promote.

use airlock_author::archive::{self, Compression, Entry, Source};
use airlock_author::pack::{self, Artifact, PackOptions};
use airlock_core::digest::sha256;
use airlock_formats::document::dsse::{self, payload_type, Envelope};
use airlock_formats::keys::hex;
use airlock_formats::reason::{Code, Reason};
use airlock_fuzz::{fixture, SECTION, TARGETS};
use airlock_verifier::evidence::{LogHead, Record, TornFragment};
use airlock_verifier::policy;
use airlock_verifier::receipt::{
    ApplianceRef, ArtifactRef, BundleRef, DocumentRef, EvidenceRef, ReceiptPayload, RECEIPT_TYPE,
};
use airlock_verifier::verdict::Verdict;
use std::path::{Path, PathBuf};

fn put(out: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = out.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Artifacts, their contents, and the metadata files `pack::metadata` makes for them.
type Release = (
    Vec<Artifact>,
    Vec<(String, Vec<u8>)>,
    std::collections::BTreeMap<String, Vec<u8>>,
);

fn release() -> Release {
    let f = fixture();
    let contents: Vec<(String, Vec<u8>)> = vec![
        ("README.md".into(), b"# demo\n".to_vec()),
        (
            "bin/cavra-linux-amd64".into(),
            b"\x7fELF demo runtime\n".to_vec(),
        ),
    ];
    let artifacts: Vec<Artifact> = contents
        .iter()
        .map(|(n, b)| Artifact {
            name: n.clone(),
            path: PathBuf::from(n),
            sha256: sha256(b),
            size: b.len() as u64,
        })
        .collect();
    let opts = PackOptions {
        dist: PathBuf::new(),
        out: PathBuf::from("x.tar"),
        package: "cavra-go-runtime".into(),
        version: "v0.2.0".into(),
        commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        ref_: "refs/tags/v0.2.0".into(),
        event: "release".into(),
        key_id: f.release.key_id().to_string(),
        signing_required: true,
        release_keys: vec![airlock_author::PrivateKey::from_seed(
            f.release.key_id().as_str(),
            &airlock_fuzz::SEED_RELEASE,
        )
        .unwrap()],
        minisign_key: None,
        provenance_keys: vec![airlock_author::PrivateKey::from_seed(
            f.builder.key_id().as_str(),
            &airlock_fuzz::SEED_BUILDER,
        )
        .unwrap()],
        builder_id: airlock_fuzz::BUILDER_ID.into(),
        source_repo: airlock_fuzz::SOURCE_REPO.into(),
        workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
        trust_roots: vec![f.anchor.clone()],
        revocations: Some(f.revocations.clone()),
        custody: pack::custody("fuzz fixture"),
        created_at: f.issued,
        anchor: None,
        sigstore: Default::default(),
    };
    let meta = pack::metadata(&opts, &artifacts).unwrap();
    (artifacts, contents, meta)
}

/// The release as a `policy_assess` input, digests as placeholders.
fn policy_seed(extra: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    let (_, contents, meta) = release();
    let mut sections: Vec<(String, String, Vec<u8>)> = Vec::new();
    let mut known: Vec<(String, String)> = Vec::new(); // (name, hex digest)
    let templ = |bytes: &[u8], known: &[(String, String)]| {
        let mut s = String::from_utf8(bytes.to_vec()).unwrap();
        for (n, d) in known {
            s = s.replace(d, &format!("{{{{sha256:{n}}}}}"));
        }
        s.into_bytes()
    };
    for (n, b) in &contents {
        sections.push(("F".into(), n.clone(), b.clone()));
        known.push((n.clone(), hex(&sha256(b))));
    }
    let order = [
        "cavra-runtime.signing-operations.json",
        "release-evidence.json",
        "cavra-runtime.provenance.intoto.json",
        "offline-trust-root-bootstrap.json",
        "revocations.json",
        "checksums.txt",
        "checksums.txt.sig.json",
    ];
    for name in order {
        let bytes = &meta[name];
        let (kind, body) = match name {
            "cavra-runtime.provenance.intoto.json" => (
                "SP",
                templ(&Envelope::parse(bytes).unwrap().payload, &known),
            ),
            "checksums.txt.sig.json" => (
                "SR",
                templ(&Envelope::parse(bytes).unwrap().payload, &known),
            ),
            "offline-trust-root-bootstrap.json" | "revocations.json" => ("M", bytes.clone()),
            _ => ("M", templ(bytes, &known)),
        };
        sections.push((kind.into(), name.into(), body));
        known.push((name.into(), hex(&sha256(bytes))));
    }
    for (k, n, b) in extra {
        sections.push(((*k).into(), (*n).into(), b.clone()));
    }
    let mut out = Vec::new();
    for (i, (k, n, b)) in sections.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SECTION);
        }
        out.extend_from_slice(format!("{k} {n}\n").as_bytes());
        out.extend_from_slice(b);
    }
    out
}

fn receipt_payload(verdict: Verdict) -> ReceiptPayload {
    let f = fixture();
    ReceiptPayload {
        type_: RECEIPT_TYPE.into(),
        verdict,
        reasons: match verdict {
            Verdict::Promote => vec![],
            Verdict::Reject => vec![Reason::new(Code::ChecksumMismatch, "bin/x: sha256 differs")],
        },
        bundle: BundleRef {
            file: "inbox/cavra-go-runtime-v0.2.0.tar.gz".into(),
            sha256: Some("ab".repeat(32)),
            size: 1234,
        },
        package: Some("cavra-go-runtime".into()),
        version: Some("v0.2.0".into()),
        artifacts: vec![ArtifactRef {
            name: "bin/x".into(),
            sha256: "cd".repeat(32),
            size: 7,
        }],
        trust_root: DocumentRef {
            version: Some(1),
            sha256: Some(hex(&sha256(&f.anchor))),
        },
        revocations: DocumentRef {
            version: None,
            sha256: None,
        },
        signers: vec![],
        verified_at: f.now,
        appliance: ApplianceRef {
            key_id: f.appliance.key_id().to_string(),
            software_version: "0.1.0".into(),
            image: None,
        },
        evidence: EvidenceRef {
            seq: 3,
            prev: "00".repeat(32),
        },
        release_evidence_sha256: None,
        provenance: None,
    }
}

fn tar(entries: &[(&str, &[u8])], gzip: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(if gzip { "b.tar.gz" } else { "b.tar" });
    let entries = entries
        .iter()
        .map(|(n, b)| Entry {
            name: (*n).into(),
            source: Source::Bytes(b.to_vec()),
        })
        .collect();
    archive::write(
        &path,
        entries,
        1_767_225_600,
        if gzip {
            Compression::Gzip
        } else {
            Compression::None
        },
    )
    .unwrap();
    std::fs::read(path).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).expect("usage: gen_corpus OUT_DIR [DEMO_DIR]"));
    let demo = args.get(2).map(PathBuf::from);
    let f = fixture();
    let (_, contents, meta) = release();

    // policy_assess: the release (must promote), and variants.
    let good = policy_seed(&[]);
    {
        let (scan, roots, revs) = airlock_fuzz::policy_inputs(&good);
        let a = policy::assess(&policy::Inputs {
            scan: &scan,
            anchor: &f.anchor,
            media_roots: &roots,
            media_revocations: &revs,
            memory: &policy::Memory::default(),
            now: f.now,
        });
        assert_eq!(a.verdict(), Verdict::Promote, "{:?}", a.reasons());
    }
    put(&out, "policy_assess", "release-promotes", &good);
    let minisig = format!(
        "untrusted comment: signature from minisign secret key\n{}\ntrusted comment: timestamp:1767225600\tfile:checksums.txt\n{}\n",
        airlock_formats::keys::encode_base64(&[b"ED".as_slice(), &airlock_fuzz::MINISIGN_KEY_NUM, &[7u8; 64]].concat()),
        airlock_formats::keys::encode_base64(&[9u8; 64]),
    );
    put(
        &out,
        "policy_assess",
        "with-minisig-media-root-and-reason",
        &policy_seed(&[
            ("M", "checksums.txt.minisig", minisig.clone().into_bytes()),
            ("R", "offline-trust-root-bootstrap.json", f.anchor.clone()),
            ("V", "revocations.json", f.revocations.clone()),
            ("X", "an unsafe entry", vec![]),
        ]),
    );
    let root_payload = Envelope::parse(&f.anchor).unwrap().payload;
    let rev_payload = Envelope::parse(&f.revocations).unwrap().payload;
    put(
        &out,
        "policy_assess",
        "resigned-root-and-revocations",
        &policy_seed(&[
            (
                "ST",
                "trust-root/2.json",
                String::from_utf8(root_payload.clone())
                    .unwrap()
                    .replace("\"version\": 1", "\"version\": 2")
                    .into_bytes(),
            ),
            ("SV", "revocations.json", rev_payload.clone()),
        ]),
    );

    // Documents.
    let prov_env = &meta["cavra-runtime.provenance.intoto.json"];
    let sig_env = &meta["checksums.txt.sig.json"];
    for (name, env) in [
        ("anchor", &f.anchor),
        ("revocations", &f.revocations),
        ("provenance", prov_env),
        ("release-sig", sig_env),
    ] {
        put(&out, "dsse_envelope", name, env);
        put(&out, "json_strict", name, env);
    }
    put(&out, "trust_root", "anchor-envelope", &f.anchor);
    put(&out, "trust_root", "anchor-payload", &root_payload);
    put(&out, "revocations", "list-envelope", &f.revocations);
    put(&out, "revocations", "list-payload", &rev_payload);
    let mut with_entries = String::from_utf8(rev_payload.clone()).unwrap();
    with_entries = with_entries.replace(
        "\"revoked_keys\": []",
        &format!(
            "\"revoked_keys\": [{{\"key_id\": \"fuzz-release\", \"revoked_at\": \"2026-02-01T00:00:00Z\", \"affected_versions\": [\"v0.1.0\"], \"replacement_key_id\": \"fuzz-release-2\", \"approver\": \"ops\", \"advisory\": \"ADV-1\", \"replacement_release_evidence_sha256\": \"{}\", \"reason\": \"test\"}}]",
            "ab".repeat(32)
        ),
    );
    with_entries = with_entries.replace(
        "\"revoked_artifacts\": []",
        &format!(
            "\"revoked_artifacts\": [{{\"sha256\": \"{}\", \"reason\": \"bad\"}}]",
            "cd".repeat(32)
        ),
    );
    put(
        &out,
        "revocations",
        "list-payload-entries",
        with_entries.as_bytes(),
    );
    put(
        &out,
        "statement_provenance",
        "provenance",
        &Envelope::parse(prov_env).unwrap().payload,
    );
    put(
        &out,
        "statement_provenance",
        "release-statement",
        &Envelope::parse(sig_env).unwrap().payload,
    );
    put(
        &out,
        "release_evidence",
        "evidence",
        &meta["release-evidence.json"],
    );
    put(
        &out,
        "json_strict",
        "evidence",
        &meta["release-evidence.json"],
    );
    put(
        &out,
        "signing_ops",
        "signing-ops",
        &meta["cavra-runtime.signing-operations.json"],
    );
    put(&out, "checksums", "checksums", &meta["checksums.txt"]);
    put(
        &out,
        "checksums",
        "odd-lines",
        format!(
            "\u{feff}{d}  a\n{d} *b\n{d}  c\r\n\n\\{d}  e\n{d}  ../f\n{d}  a\n{D}  g\n{d}  h",
            d = "ab".repeat(32),
            D = "AB".repeat(32)
        )
        .as_bytes(),
    );
    for (n, s) in [
        ("dup", &b"{\"a\":1,\"a\":2}"[..]),
        (
            "numbers",
            b"[1,-0,1.0,1e400,18446744073709551616,-9223372036854775809]",
        ),
        ("surrogate", b"{\"a\":\"\\ud800\\udc00\\ud800\"}"),
        ("deep", b"[[[[[[[[[[[[[[[[{\"x\":[{}]}]]]]]]]]]]]]]]]]"),
    ] {
        put(&out, "json_strict", n, s);
    }
    put(
        &out,
        "pae",
        "hello",
        b"\x76http://example.com/HelloWorldhello world",
    );
    put(
        &out,
        "pae",
        "protocol-example",
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
    let msg = b"airlock fuzz";
    let sig = f.release.signing_key().sign_msg(msg);
    put(
        &out,
        "ed25519_key_and_sig",
        "fixture-release",
        &[f.release.public_raw().as_slice(), &sig, msg].concat(),
    );
    put(
        &out,
        "ed25519_key_and_sig",
        "small-order",
        &[&[1u8][..], &[0u8; 31], &[0u8; 64], b"m"].concat(),
    );

    // Bundles: small archives (the demo's real ones are added below when given).
    let small: Vec<(&str, &[u8])> = vec![
        ("checksums.txt", &meta["checksums.txt"]),
        ("README.md", &contents[0].1),
        ("bin/cavra-linux-amd64", &contents[1].1),
    ];
    put(&out, "bundle_scan", "small.tar", &tar(&small, false));
    put(&out, "bundle_scan", "small.tar.gz", &tar(&small, true));
    put(&out, "bundle_scan_gz", "small.tar", &tar(&small, false));
    let long = "d/".repeat(60) + "long-name";
    put(
        &out,
        "bundle_scan_gz",
        "long-name.tar",
        &tar(&[(long.as_str(), b"x")], false),
    );

    // Evidence log: three records by the appliance key, and a torn tail.
    let mut head = LogHead::genesis();
    let mut log = Vec::new();
    for (i, v) in [Verdict::Promote, Verdict::Reject, Verdict::Promote]
        .into_iter()
        .enumerate()
    {
        let reasons = if v == Verdict::Reject {
            vec![Reason::new(Code::ChecksumMismatch, "x")]
        } else {
            vec![]
        };
        let d = hex(&sha256(&[i as u8]));
        let rec = Record::new(&head, f.now, Some(&d), v, &reasons, Some(&d), &f.appliance);
        log.extend_from_slice(rec.line());
        log.push(b'\n');
        head = rec.next_head();
    }
    put(&out, "evidence_log", "three-records", &log);
    let mut torn = log.clone();
    torn.extend_from_slice(b"{\"seq\":4,\"prev\":\"");
    put(&out, "evidence_log", "torn-tail", &torn);
    // The stick pulled mid-append, then served again: the next record acknowledges the fragment.
    let fragment = b"{\"seq\":4,\"prev\":\"";
    torn.push(b'\n');
    let ack = Record::new_after_fragment(
        &head,
        f.now,
        None,
        Verdict::Reject,
        &[],
        None,
        &f.appliance,
        Some(&TornFragment::of(fragment)),
    );
    torn.extend_from_slice(ack.line());
    torn.push(b'\n');
    put(&out, "evidence_log", "acknowledged-fragment", &torn);
    // Single lines (the harness also appends them as an acknowledged fragment): a fragment, and a
    // whole record without its newline.
    put(&out, "evidence_log", "fragment", fragment);
    put(&out, "evidence_log", "one-record", ack.line());

    // Receipts: payloads (signed by the target) and signed envelopes.
    for v in [Verdict::Promote, Verdict::Reject] {
        let p = receipt_payload(v);
        let name = format!("{v:?}").to_lowercase();
        put(
            &out,
            "receipt_verify",
            &format!("{name}-payload"),
            &dsse::to_pretty_json(&p),
        );
        // Laid out as the appliance's writer does; signed with the raw key, since the writer
        // signs a promote receipt only with `policy::assess`'s proof.
        let env = dsse::sign(
            dsse::payload_type::RECEIPT,
            &dsse::to_pretty_json(&p),
            &[(f.appliance.key_id().as_str(), f.appliance.signing_key())],
        );
        put(&out, "receipt_verify", &format!("{name}-envelope"), &env);
        if v == Verdict::Reject {
            let mut split = env.clone();
            split.extend_from_slice(airlock_fuzz::KEY_SPLIT);
            split.extend_from_slice(&f.appliance_entry);
            put(&out, "receipt_verify", "envelope-and-key", &split);
        }
    }
    let _ = payload_type::RECEIPT;

    // The demo's real files.
    if let Some(demo) = demo {
        let anchor = std::fs::read(demo.join("anchor.json")).unwrap();
        put(&out, "trust_root", "demo-anchor", &anchor);
        put(&out, "dsse_envelope", "demo-anchor", &anchor);
        let rev = std::fs::read(demo.join("media/revocations.json")).unwrap();
        put(&out, "revocations", "demo-revocations", &rev);
        put(&out, "dsse_envelope", "demo-revocations", &rev);
        for e in std::fs::read_dir(demo.join("media/inbox")).unwrap() {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            put(&out, "bundle_scan", &n, &bytes);
            let mut d = flate2::read::GzDecoder::new(bytes.as_slice());
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut d, &mut raw).unwrap();
            put(&out, "bundle_scan_gz", n.trim_end_matches(".gz"), &raw);
        }
    }

    // Every seed through its target once.
    for (name, run) in TARGETS {
        let dir = out.join(name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            run(&std::fs::read(&p).unwrap());
        }
    }
    eprintln!("seeds written to {}", out.display());
}

trait SignMsg {
    fn sign_msg(&self, m: &[u8]) -> [u8; 64];
}

impl SignMsg for ed25519_dalek::SigningKey {
    fn sign_msg(&self, m: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.sign(m).to_bytes()
    }
}
