//! The hash-chained evidence log (formats §6; adversarial #57, #58) on real bytes, checked by
//! Airlock and by an independent Python implementation.

mod write_support;

use airlock_formats::reason::{Code, Reason};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::appliance_key::ApplianceKey;
use airlock_verifier::atomic::RealStorage;
use airlock_verifier::evidence::{self, LogHead, LogKind, LogReport, Record};
use airlock_verifier::receipt::{write_receipt, ReceiptPayload};
use airlock_verifier::verdict::Verdict;
use std::fs;
use std::path::{Path, PathBuf};
use write_support::*;

struct Setup {
    _dir: tempfile::TempDir,
    state_log: PathBuf,
    media: PathBuf,
    media_log: PathBuf,
    keyfile: PathBuf,
    key: ApplianceKey,
    receipts: Vec<(ReceiptPayload, Vec<u8>)>,
}

fn sha_hex(b: &[u8]) -> String {
    airlock_formats::keys::hex(&airlock_core::digest::sha256(b))
}

/// Runs `n` verifications through the real write path; `on_media(i)` says whether verification
/// `i` (0-based) was of this stick (otherwise the record only goes to the state log).
fn setup(n: usize, on_media: impl Fn(usize) -> bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let media = dir.path().join("media");
    fs::create_dir(&state).unwrap();
    fs::create_dir(&media).unwrap();
    let key = test_key(5);
    let keyfile = dir.path().join("appliance-key.json");
    fs::write(&keyfile, key.entry_json()).unwrap();
    let state_log = state.join("evidence.jsonl");
    let mut receipts = Vec::new();
    let t0 = Timestamp::parse("2026-05-02T10:00:00Z").unwrap();
    for i in 0..n {
        let head = LogHead::read(&RealStorage, &state_log, &key, true).unwrap();
        let verdict = if i % 2 == 0 {
            Verdict::Promote
        } else {
            Verdict::Reject
        };
        let bundle = format!("b{i}.tar");
        let bundle_sha = sha_hex(bundle.as_bytes());
        let payload = sample_payload(
            &key,
            verdict,
            &format!("inbox/{bundle}"),
            &bundle_sha,
            (head.next_seq, head.prev.clone()),
        );
        let env = forge_receipt(&payload, &key);
        let reasons = payload.reasons.clone();
        let media_opt = on_media(i).then_some(media.as_path());
        if on_media(i) {
            write_receipt(&RealStorage, &media, &bundle, verdict, &env).unwrap();
            receipts.push((payload, env.clone()));
        }
        let rec = Record::new(
            &head,
            t0.plus_seconds(i as i64),
            Some(&bundle_sha),
            verdict,
            &reasons,
            Some(&sha_hex(&env)),
            &key,
        );
        let next = evidence::append(&RealStorage, &state_log, media_opt, &rec).unwrap();
        assert_eq!(next.next_seq, head.next_seq + 1);
    }
    Setup {
        _dir: dir,
        state_log,
        media_log: media.join("evidence/airlock-evidence.jsonl"),
        media,
        keyfile,
        key,
        receipts,
    }
}

fn verify(s: &Setup, bytes: &[u8], kind: LogKind) -> LogReport {
    evidence::verify_log(bytes, s.key.key_id().as_str(), s.key.public(), kind)
}

fn py(s: &Setup, bytes: &[u8], kind: LogKind) -> serde_json::Value {
    let p = s.media.join("py-input.jsonl");
    fs::write(&p, bytes).unwrap();
    let mut args = vec![p.to_str().unwrap(), s.keyfile.to_str().unwrap()];
    if kind == LogKind::Media {
        args.push("media");
    }
    let out = python(&interop("verify_evidence.py"), &args);
    fs::remove_file(p).unwrap();
    serde_json::from_str(&out).unwrap()
}

/// Airlock's report and the Python re-implementation agree.
fn agree(s: &Setup, bytes: &[u8], kind: LogKind) -> LogReport {
    let r = verify(s, bytes, kind);
    let p = py(s, bytes, kind);
    let lines = |v: &[evidence::LineIssue]| v.iter().map(|i| i.line).collect::<Vec<_>>();
    assert_eq!(p["verified"], r.records_verified, "{p}");
    assert_eq!(
        p["bad_signatures"],
        serde_json::json!(lines(&r.bad_signatures)),
        "{p}"
    );
    assert_eq!(
        p["chain_breaks"],
        serde_json::json!(lines(&r.chain_breaks)),
        "{p}"
    );
    assert_eq!(
        p["out_of_order"],
        serde_json::json!(lines(&r.out_of_order)),
        "{p}"
    );
    assert_eq!(
        p["torn_lines"],
        serde_json::json!(lines(&r.torn_lines)),
        "{p}"
    );
    assert_eq!(
        p["unmatched_acknowledgments"],
        serde_json::json!(lines(&r.unmatched_acknowledgments)),
        "{p}"
    );
    let repaired: Vec<_> = r.repaired_torn_lines.iter().map(|t| t.line).collect();
    assert_eq!(p["repaired_torn_lines"], serde_json::json!(repaired), "{p}");
    let gaps: Vec<_> = r
        .seq_gaps
        .iter()
        .map(|g| vec![g.after_seq, g.seq])
        .collect();
    assert_eq!(p["gaps"], serde_json::json!(gaps), "{p}");
    assert_eq!(
        p["torn_tail_bytes"],
        r.torn_tail.as_ref().map_or(0, |t| t.bytes),
        "{p}"
    );
    match &r.head {
        Some(h) => {
            assert_eq!(p["head"]["seq"], h.seq);
            assert_eq!(p["head"]["sha256"], h.sha256);
        }
        None => assert!(p["head"].is_null()),
    }
    r
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn join(ls: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in ls {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

#[test]
fn record_layout_is_exactly_formats_section_6() {
    let key = test_key(5);
    let head = LogHead::genesis();
    let rec = Record::new(
        &head,
        Timestamp::parse("2026-05-02T10:00:00Z").unwrap(),
        Some(&"aa".repeat(32)),
        Verdict::Reject,
        &[
            Reason::new(Code::ChecksumMismatch, "x"),
            Reason::new(Code::KeyRevoked, "y"),
        ],
        Some(&"bb".repeat(32)),
        &key,
    );
    let line = String::from_utf8(rec.line().to_vec()).unwrap();
    let expected_prefix = format!(
        "{{\"seq\":1,\"prev\":\"{}\",\"time\":\"2026-05-02T10:00:00Z\",\"event\":\"verify\",\"bundle_sha256\":\"{}\",\"verdict\":\"reject\",\"reasons\":[\"checksum-mismatch\",\"key-revoked\"],\"receipt_sha256\":\"{}\",\"key_id\":\"{}\",\"sig\":\"",
        "0".repeat(64),
        "aa".repeat(32),
        "bb".repeat(32),
        key.key_id()
    );
    assert!(line.starts_with(&expected_prefix), "{line}");
    assert!(line.ends_with("\"}") && !line.contains('\n'));
    // sig signs the line with its final ,"sig":"…" removed and } kept.
    let at = line.rfind(",\"sig\":\"").unwrap();
    let signed = format!("{}}}", &line[..at]);
    let sig: [u8; 64] = airlock_formats::keys::decode_base64(&line[at + 8..line.len() - 2])
        .unwrap()
        .try_into()
        .unwrap();
    key.public().verify(signed.as_bytes(), &sig).unwrap();
    assert_eq!(rec.next_head().prev, sha_hex(line.as_bytes()));
}

#[test]
fn a_clean_chain_verifies_here_and_in_python() {
    let s = setup(6, |_| true);
    let state = fs::read(&s.state_log).unwrap();
    let media = fs::read(&s.media_log).unwrap();
    assert_eq!(state, media, "the same lines on both logs");
    for kind in [LogKind::Appliance, LogKind::Media] {
        let r = agree(&s, &state, kind);
        assert_eq!(r.status(), "ok");
        assert_eq!(r.records_verified, 6);
        assert_eq!(r.head.as_ref().unwrap().seq, 6);
        assert!(r.torn_tail.is_none());
    }
    let r = verify(&s, &media, LogKind::Media);
    for (p, env) in &s.receipts {
        evidence::check_against_receipt(&r, p, env).unwrap();
    }
    let a = verify(&s, &state, LogKind::Appliance);
    evidence::check_media_against_appliance(&r, &a).unwrap();
    // The receipts chain into the log: receipt i names record i+1 and its prev.
    assert_eq!(s.receipts[0].0.evidence.seq, 1);
    assert_eq!(s.receipts[0].0.evidence.prev, "0".repeat(64));
}

#[test]
fn a_modified_record_is_a_bad_signature_and_breaks_the_chain() {
    let s = setup(5, |_| true);
    let mut ls = lines(&fs::read(&s.media_log).unwrap());
    let t = String::from_utf8(ls[2].clone())
        .unwrap()
        .replace("\"promote\"", "\"reject\"");
    assert_ne!(t.as_bytes(), ls[2].as_slice());
    ls[2] = t.into_bytes();
    let bytes = join(&ls);
    let r = agree(&s, &bytes, LogKind::Media);
    assert_eq!(r.status(), "failed");
    assert_eq!(
        r.bad_signatures.iter().map(|i| i.line).collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(
        r.chain_breaks.iter().map(|i| i.line).collect::<Vec<_>>(),
        [4]
    );
    // The receipt for that verification no longer matches a verified record.
    assert!(evidence::check_against_receipt(&r, &s.receipts[2].0, &s.receipts[2].1).is_err());
}

#[test]
fn a_deleted_record_is_a_gap_an_error_on_the_appliance_log_and_caught_by_its_receipt() {
    let s = setup(5, |_| true);
    let mut ls = lines(&fs::read(&s.media_log).unwrap());
    ls.remove(1);
    let bytes = join(&ls);
    let a = agree(&s, &bytes, LogKind::Appliance);
    assert_eq!(a.status(), "failed");
    let m = agree(&s, &bytes, LogKind::Media);
    assert_eq!(
        m.status(),
        "ok-with-gaps",
        "a stick's gap alone is not proof"
    );
    assert_eq!(m.seq_gaps.len(), 1);
    assert_eq!((m.seq_gaps[0].after_seq, m.seq_gaps[0].seq), (1, 3));
    let e = evidence::check_against_receipt(&m, &s.receipts[1].0, &s.receipts[1].1).unwrap_err();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn a_truncated_or_rolled_back_log_is_caught_by_receipts_and_the_appliance_copy() {
    let s = setup(5, |_| true);
    let ls = lines(&fs::read(&s.media_log).unwrap());
    let truncated = join(&ls[..3]);
    let m = agree(&s, &truncated, LogKind::Media);
    assert_eq!(
        m.status(),
        "ok",
        "a cleanly truncated log verifies by itself…"
    );
    let e = evidence::check_against_receipt(&m, &s.receipts[4].0, &s.receipts[4].1).unwrap_err();
    assert!(e.contains("truncated or rolled back"), "{e}");

    // The appliance's own log rolled back: its head is behind a receipt it signed.
    fs::write(&s.state_log, &truncated).unwrap();
    let head = LogHead::read(&RealStorage, &s.state_log, &s.key, false).unwrap();
    assert_eq!(head.next_seq, 4);
    let appl = verify(&s, &truncated, LogKind::Appliance);
    let e = evidence::check_against_receipt(&appl, &s.receipts[4].0, &s.receipts[4].1).unwrap_err();
    assert!(e.contains("truncated or rolled back"), "{e}");
    evidence::check_against_receipt(&appl, &s.receipts[2].0, &s.receipts[2].1).unwrap();
    // …and the media log holds records the appliance's log no longer has.
    let full = verify(&s, &fs::read(&s.media_log).unwrap(), LogKind::Media);
    assert_eq!(
        evidence::check_media_against_appliance(&full, &appl)
            .unwrap_err()
            .len(),
        2
    );
}

#[test]
fn reordered_records_are_detected() {
    let s = setup(5, |_| true);
    let mut ls = lines(&fs::read(&s.media_log).unwrap());
    ls.swap(1, 2);
    let bytes = join(&ls);
    for kind in [LogKind::Appliance, LogKind::Media] {
        let r = agree(&s, &bytes, kind);
        assert_eq!(r.status(), "failed");
        assert!(!r.out_of_order.is_empty() || !r.chain_breaks.is_empty());
    }
    // Every record still carries a valid signature: only the order is wrong.
    assert!(verify(&s, &bytes, LogKind::Media).bad_signatures.is_empty());
}

#[test]
fn a_bad_signature_is_detected() {
    let s = setup(3, |_| true);
    let mut ls = lines(&fs::read(&s.media_log).unwrap());
    // A well-formed signature made over other bytes.
    let forged = airlock_formats::keys::encode_base64(&s.key.sign(b"something else"));
    let l = String::from_utf8(ls[1].clone()).unwrap();
    let at = l.rfind(",\"sig\":\"").unwrap();
    ls[1] = format!("{},\"sig\":\"{forged}\"}}", &l[..at]).into_bytes();
    let bytes = join(&ls);
    let r = agree(&s, &bytes, LogKind::Media);
    assert_eq!(r.status(), "failed");
    assert_eq!(
        r.bad_signatures.iter().map(|i| i.line).collect::<Vec<_>>(),
        [2]
    );
    // `prev` hashes the whole line, signature included: the next record's link breaks too.
    assert_eq!(
        r.chain_breaks.iter().map(|i| i.line).collect::<Vec<_>>(),
        [3]
    );
    // A signature by another key (another appliance) does not verify either.
    let other = test_key(6);
    let r2 = evidence::verify_log(
        &bytes,
        s.key.key_id().as_str(),
        other.public(),
        LogKind::Media,
    );
    assert_eq!(r2.records_verified, 0);
}

#[test]
fn a_torn_tail_is_survived_ignored_and_reported() {
    let s = setup(4, |_| true);
    let good = fs::read(&s.media_log).unwrap();
    let ls = lines(&good);
    // Power cut mid-append: half a line without newline.
    let mut torn = good.clone();
    torn.extend_from_slice(&ls[3][..ls[3].len() / 2]);
    let r = agree(&s, &torn, LogKind::Appliance);
    assert_eq!(r.status(), "ok");
    let t = r.torn_tail.as_ref().unwrap();
    assert_eq!(t.offset, good.len() as u64);
    assert!(!t.terminated);
    assert_eq!(r.records_verified, 4);
    // Zeros then a newline: a complete line that is not a record, not a torn tail (issue 13 #2).
    let mut zeros = good.clone();
    zeros.extend_from_slice(&[0u8; 300]);
    zeros.push(b'\n');
    let z = agree(&s, &zeros, LogKind::Media);
    assert_eq!(z.status(), "failed");
    assert!(z.torn_tail.is_none());
    assert_eq!(z.torn_lines[0].line, 5);
    // A complete record line whose signature is bad is NOT a torn tail: it is reported.
    let mut bad_last = ls.clone();
    let l = String::from_utf8(bad_last[3].clone())
        .unwrap()
        .replace("\"reject\"", "\"promote\"");
    bad_last[3] = l.into_bytes();
    let r = agree(&s, &join(&bad_last), LogKind::Media);
    assert_eq!(r.status(), "failed");

    // The state log: the head skips the tail, and repair cuts it off.
    fs::write(&s.state_log, &torn).unwrap();
    let h = LogHead::read(&RealStorage, &s.state_log, &s.key, false).unwrap();
    assert_eq!(h.next_seq, 5);
    assert_eq!(h.prev, sha_hex(&ls[3]));
    assert!(h.torn_tail.is_some());
    assert_eq!(
        fs::read(&s.state_log).unwrap(),
        torn,
        "read-only: untouched"
    );
    let h2 = LogHead::read(&RealStorage, &s.state_log, &s.key, true).unwrap();
    assert_eq!(h2.next_seq, 5);
    assert_eq!(fs::read(&s.state_log).unwrap(), good, "repaired");
    // A state log whose last record was altered is an error, not a torn tail.
    fs::write(&s.state_log, join(&bad_last)).unwrap();
    let e = LogHead::read(&RealStorage, &s.state_log, &s.key, true).unwrap_err();
    assert!(e.to_string().contains("does not verify"), "{e}");

    // The media log keeps its torn bytes: the next append starts on a new line, and the fragment
    // becomes a complete line that is not a record, which fails verification (issue 13 #2: it
    // cannot be told from an inserted line).
    fs::write(&s.state_log, &good).unwrap();
    fs::write(&s.media_log, &torn).unwrap();
    let head = LogHead::read(&RealStorage, &s.state_log, &s.key, true).unwrap();
    let rec = Record::new(
        &head,
        Timestamp::parse("2026-05-03T00:00:00Z").unwrap(),
        None,
        Verdict::Reject,
        &[Reason::new(Code::BundleUnreadable, "truncated")],
        None,
        &s.key,
    );
    evidence::append(&RealStorage, &s.state_log, Some(&s.media), &rec).unwrap();
    let after = fs::read(&s.media_log).unwrap();
    assert!(after.starts_with(&torn));
    let r = agree(&s, &after, LogKind::Media);
    assert!(!r.is_ok(), "{r:?}");
    assert_eq!(r.status(), "failed");
    assert_eq!(
        r.torn_lines.len(),
        1,
        "the fragment stays, as a line of its own"
    );
    assert_eq!(r.torn_lines[0].line, 5);
    assert_eq!(r.records_verified, 5);
    assert!(r.chain_breaks.is_empty() && r.seq_gaps.is_empty());
}

#[test]
fn a_media_log_with_gaps_from_other_sticks_verifies_with_gaps() {
    // Verifications 0, 1, 3 and 5 were of this stick; 2 and 4 of others.
    let s = setup(6, |i| matches!(i, 0 | 1 | 3 | 5));
    let media = fs::read(&s.media_log).unwrap();
    let r = agree(&s, &media, LogKind::Media);
    assert_eq!(r.status(), "ok-with-gaps");
    assert_eq!(r.seq_gaps.len(), 2);
    assert_eq!(r.records_verified, 4);
    for (p, env) in &s.receipts {
        evidence::check_against_receipt(&r, p, env).unwrap();
    }
    let a = verify(&s, &fs::read(&s.state_log).unwrap(), LogKind::Appliance);
    assert_eq!(a.status(), "ok");
    evidence::check_media_against_appliance(&r, &a).unwrap();
    // The same bytes as the appliance's own log would fail: gaps are not allowed there.
    assert_eq!(verify(&s, &media, LogKind::Appliance).status(), "failed");
}

#[test]
fn a_torn_record_inside_a_media_log_fails() {
    let s = setup(3, |_| true);
    let mut ls = lines(&fs::read(&s.media_log).unwrap());
    let half = ls[1][..40].to_vec();
    ls[1] = half;
    let bytes = join(&ls);
    let m = agree(&s, &bytes, LogKind::Media);
    assert_eq!(m.status(), "failed");
    assert_eq!(m.torn_lines.len(), 1);
    assert_eq!(agree(&s, &bytes, LogKind::Appliance).status(), "failed");
}

#[test]
fn appends_survive_power_loss_at_every_step() {
    let s = setup(2, |_| true);
    let state_before = fs::read(&s.state_log).unwrap();
    let media_before = fs::read(&s.media_log).unwrap();
    let head = LogHead::read(&RealStorage, &s.state_log, &s.key, true).unwrap();
    let rec = Record::new(
        &head,
        Timestamp::parse("2026-05-03T00:00:00Z").unwrap(),
        Some(&"cc".repeat(32)),
        Verdict::Promote,
        &[],
        Some(&"dd".repeat(32)),
        &s.key,
    );
    let probe = FaultyStorage::new();
    probe.assume_durable(&s.state_log);
    probe.assume_durable(&s.media_log);
    evidence::append(&probe, &s.state_log, Some(&s.media), &rec).unwrap();
    let total = probe.ops();
    for n in 0..=total {
        fs::write(&s.state_log, &state_before).unwrap();
        fs::write(&s.media_log, &media_before).unwrap();
        let f = FaultyStorage::halt_after(n);
        f.assume_durable(&s.state_log);
        f.assume_durable(&s.media_log);
        let r = evidence::append(&f, &s.state_log, Some(&s.media), &rec);
        assert_eq!(r.is_ok(), n >= total);
        f.crash(Crash::DropAll);
        for (log, kind) in [
            (&s.state_log, LogKind::Appliance),
            (&s.media_log, LogKind::Media),
        ] {
            let rep = verify(&s, &fs::read(log).unwrap(), kind);
            assert!(rep.is_ok(), "{n} {kind:?}: {rep:?}");
            assert!(rep.records_verified == 2 || rep.records_verified == 3);
        }
        // The state is never behind the media.
        let st = verify(&s, &fs::read(&s.state_log).unwrap(), LogKind::Appliance);
        let me = verify(&s, &fs::read(&s.media_log).unwrap(), LogKind::Media);
        evidence::check_media_against_appliance(&me, &st).unwrap();
    }
}

#[test]
fn verification_report_is_written_next_to_the_log_without_overwriting() {
    let s = setup(3, |_| true);
    let bytes = fs::read(&s.media_log).unwrap();
    let r = verify(&s, &bytes, LogKind::Media);
    let now = Timestamp::parse("2026-05-04T00:00:00Z").unwrap();
    let doc = evidence::report_json(&r, "airlock-evidence.jsonl", &bytes, now);
    let dir: &Path = s.media_log.parent().unwrap();
    let n1 = evidence::write_report(&RealStorage, dir, &doc).unwrap();
    let n2 = evidence::write_report(&RealStorage, dir, &doc).unwrap();
    assert_eq!(n1, "airlock-evidence-verification.json");
    assert_eq!(n2, "airlock-evidence-verification.2.json");
    let v: serde_json::Value =
        airlock_formats::json::parse(&fs::read(dir.join(&n1)).unwrap()).unwrap();
    assert_eq!(v["_type"], "airlock-evidence-verification");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["records_verified"], 3);
    assert_eq!(v["head"]["seq"], 3);
    assert_eq!(v["log_sha256"], sha_hex(&bytes));
    assert_eq!(v["key_id"], s.key.key_id().as_str());
    assert!(v.get("records").is_none());
}

/// Issue 13: `torn_fragment` is accepted on a media log only right after the fragment it names;
/// on the appliance's own log a complete line that is not a record still fails; a record whose
/// `torn_fragment` is null or malformed is not a record, even signed by the appliance key.
#[test]
fn a_torn_fragment_is_accepted_only_on_a_media_log_and_only_well_formed() {
    let s = setup(0, |_| true);
    let t = Timestamp::parse("2026-05-02T10:00:00Z").unwrap();
    let fragment = b"{\"seq\":1,\"prev\":\"0000";
    let ack = evidence::TornFragment::of(fragment);
    assert_eq!(ack.bytes, fragment.len() as u64);
    let rec = Record::new_after_fragment(
        &LogHead::genesis(),
        t,
        None,
        Verdict::Reject,
        &[],
        None,
        &s.key,
        Some(&ack),
    );
    let log = |line: &[u8]| {
        let mut b = fragment.to_vec();
        b.push(b'\n');
        b.extend_from_slice(line);
        b.push(b'\n');
        b
    };
    let r = agree(&s, &log(rec.line()), LogKind::Media);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.records_verified, 1);
    assert_eq!(r.repaired_torn_lines.len(), 1);
    assert_eq!(r.repaired_torn_lines[0].acknowledged_by, 1);
    let r = agree(&s, &log(rec.line()), LogKind::Appliance);
    assert!(!r.is_ok());
    assert!(r.repaired_torn_lines.is_empty());
    assert_eq!(r.torn_lines[0].line, 1);
    // Not right after the fragment it names: a failure of its own.
    let alone = [rec.line(), b"\n"].concat();
    let r = agree(&s, &alone, LogKind::Media);
    assert!(!r.is_ok());
    assert_eq!(r.unmatched_acknowledgments[0].line, 1);
    // The same record re-signed with the member null, or with a digest that is not hex.
    let line = std::str::from_utf8(rec.line()).unwrap();
    let unsigned = &line[..line.rfind(",\"sig\":\"").unwrap()];
    let member = format!(
        ",\"torn_fragment\":{{\"bytes\":{},\"sha256\":\"{}\"}}",
        ack.bytes, ack.sha256
    );
    assert!(unsigned.contains(&member));
    for bad in [
        ",\"torn_fragment\":null".to_owned(),
        member.replace(&ack.sha256, &ack.sha256.to_uppercase()),
        member.replace(&format!(":{},", ack.bytes), ":0,"),
    ] {
        let body = format!("{}}}", unsigned.replace(&member, &bad));
        let sig = airlock_formats::keys::encode_base64(&s.key.sign(body.as_bytes()));
        let forged = format!("{},\"sig\":\"{sig}\"}}", &body[..body.len() - 1]);
        let r = agree(&s, &log(forged.as_bytes()), LogKind::Media);
        assert!(!r.is_ok(), "{bad}");
        assert_eq!(r.records_verified, 0, "{bad}");
        assert_eq!(r.torn_lines.len(), 2, "{bad}");
    }
}
