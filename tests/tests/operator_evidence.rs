//! Issue 13 #2: `airlock evidence verify` on a stick's log, through the real binary. A record
//! signed by another key and a complete line that is not a record fail (exit 1); only a final
//! line without its newline (a power cut mid-append) is tolerated, and reported; the result is
//! always printed and a report is written only to `--out`, never into the media it checks.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::*;

const LOG: &str = "evidence/airlock-evidence.jsonl";

/// A stick the appliance of `kit` verified two bundles on.
fn served(kit: &Kit) {
    kit.bundle("a.tar", &Spec::new("1.0.0"));
    kit.bundle("b.tar", &Spec::new("1.0.1"));
    kit.run();
    assert!(kit.media.join(LOG).is_file());
}

/// `airlock evidence verify MEDIA --key STATE/appliance-key.json [extra]`.
fn evidence_verify(kit: &Kit, extra: &[&str]) -> Output {
    Command::new(airlock_bin())
        .env_remove("AIRLOCK_STATE")
        .args(["evidence", "verify"])
        .arg(&kit.media)
        .arg("--key")
        .arg(kit.state.join("appliance-key.json"))
        .args(extra)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A log's first line (with its newline) and everything after it.
fn split_first_record(log: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut first = std::fs::read(log).unwrap();
    let end = first.iter().position(|&b| b == b'\n').unwrap() + 1;
    let rest = first.split_off(end);
    (first, rest)
}

fn append_media(kit: &Kit, bytes: &[u8]) {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(kit.media.join(LOG))
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

#[test]
fn a_served_stick_verifies_and_nothing_is_written_into_it() {
    let kit = Kit::new();
    served(&kit);
    let before = tree(&kit.media);
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": ok (2 records verified)"), "{out}");
    assert_eq!(
        tree(&kit.media),
        before,
        "the media it checks is not written"
    );
}

#[test]
fn a_record_by_another_appliance_appended_to_a_stick_fails() {
    let kit = Kit::new();
    served(&kit);
    // Another appliance (its own state, so its own key) serves a stick; its record is appended.
    let other = Kit::new();
    other.bundle("c.tar", &Spec::new("2.0.0"));
    other.run();
    let foreign = std::fs::read(other.media.join(LOG)).unwrap();
    assert!(foreign.ends_with(b"\n"));
    append_media(&kit, &foreign);
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": failed"), "{out}");
    assert!(out.contains("line 3: a record by key"), "{out}");
    assert!(!out.contains("ok-with-gaps"), "{out}");
}

#[test]
fn a_complete_junk_line_fails_and_is_not_a_torn_tail() {
    let kit = Kit::new();
    served(&kit);
    append_media(&kit, b"{\"seq\":99,\"junk\":true}\n");
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": failed"), "{out}");
    assert!(out.contains("line 3: a complete line"), "{out}");
    assert!(!out.contains("torn tail:"), "{out}");
}

#[test]
fn a_junk_line_between_records_fails() {
    let kit = Kit::new();
    served(&kit);
    let log = kit.media.join(LOG);
    let (first, rest) = split_first_record(&log);
    std::fs::write(&log, [first, b"garbage\n".to_vec(), rest].concat()).unwrap();
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("line 2: a complete line"), "{}", text(&o));
}

#[test]
fn a_final_line_without_its_newline_is_tolerated_and_reported() {
    let kit = Kit::new();
    served(&kit);
    // A power cut mid-append: the start of a record, no newline.
    append_media(&kit, b"{\"seq\":3,\"prev\":\"00");
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": ok (2 records verified)"), "{out}");
    assert!(
        out.contains("torn tail: a final line of 19 bytes without its newline"),
        "{out}"
    );
}

#[test]
fn the_report_is_written_only_to_out_and_the_result_printed_when_it_cannot_be() {
    let kit = Kit::new();
    served(&kit);
    let before = tree(&kit.media);
    let report = kit.work.join("report.json");
    let o = evidence_verify(&kit, &["--out", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(tree(&kit.media), before);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["_type"], "airlock-evidence-verification");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["records_verified"], 2);
    // An --out that cannot be written (its directory is a file): exit 2, the result still shown.
    let blocked = kit.work.join("not-a-dir");
    std::fs::write(&blocked, b"").unwrap();
    let o = evidence_verify(
        &kit,
        &["--out", blocked.join("report.json").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(": ok (2 records verified)"),
        "{}",
        text(&o)
    );
    assert!(!Path::new(&blocked.join("report.json")).exists());
}

/// Issue 10: the appliance-copy defences run on a product path. A stick outlives a rollback of
/// the appliance's state (its log restored from an older copy that verifies by itself): alone,
/// the stick cannot tell; checked against the appliance's log (`--state`), its newer record and
/// receipt are caught.
#[test]
fn a_stick_is_checked_against_the_appliance_log_with_state() {
    let kit = Kit::new();
    served(&kit);
    let state = kit.state.to_str().unwrap().to_owned();
    let o = evidence_verify(&kit, &["--state", &state]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("appliance log "),
        "{}",
        text(&o)
    );
    // The appliance's log rolled back to its first record.
    let log = kit.state.join("evidence.jsonl");
    std::fs::write(&log, split_first_record(&log).0).unwrap();
    let alone = evidence_verify(&kit, &[]);
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone));
    let o = evidence_verify(&kit, &["--state", &state]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("is not in the appliance's log"), "{t}");
    assert!(
        t.contains("in the appliance's log: the log ends at seq 1 but a receipt names record 2"),
        "{t}"
    );
}

/// `airlock evidence verify MEDIA --appliances FILE`.
fn evidence_verify_enrolled(media: &Path, appliances: &Path) -> Output {
    Command::new(airlock_bin())
        .env_remove("AIRLOCK_STATE")
        .args(["evidence", "verify"])
        .arg(media)
        .arg("--appliances")
        .arg(appliances)
        .output()
        .unwrap()
}

/// The site's `appliances.json`: the key entries of `kits`' appliances, as a JSON array.
fn enrol(dir: &Path, kits: &[&Kit]) -> std::path::PathBuf {
    let entries: Vec<String> = kits
        .iter()
        .map(|k| std::fs::read_to_string(k.state.join("appliance-key.json")).unwrap())
        .collect();
    let path = dir.join("appliances.json");
    std::fs::write(&path, format!("[{}]", entries.join(","))).unwrap();
    path
}

fn key_id(kit: &Kit) -> String {
    let entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(kit.state.join("appliance-key.json")).unwrap())
            .unwrap();
    entry["key_id"].as_str().unwrap().to_owned()
}

/// Issue 13: a stick is checked against the site's enrolled appliances. A stick from any Airlock
/// install verifies with the key file it carries; against the site's list it is refused, saying
/// which key signed it. A stick of an enrolled appliance verifies and names it.
#[test]
fn a_foreign_stick_verifies_with_its_own_key_but_not_against_the_enrolled_appliances() {
    let site = Kit::new();
    served(&site);
    let foreign = Kit::new();
    foreign.bundle("c.tar", &Spec::new("2.0.0"));
    foreign.run();
    let list = enrol(site.tmp.path(), &[&site]);
    // The attack: the foreign stick's log and receipts verify with its own key file.
    let o = Command::new(airlock_bin())
        .env_remove("AIRLOCK_STATE")
        .args(["evidence", "verify"])
        .arg(&foreign.media)
        .arg("--key")
        .arg(foreign.media.join("appliance-key.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Against the site's appliances it is refused (exit 1), naming the key that signed it.
    let o = evidence_verify_enrolled(&foreign.media, &list);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("does NOT verify"), "{t}");
    assert!(
        t.contains(&format!(
            "signed by {}, which is not an appliance enrolled in",
            key_id(&foreign)
        )),
        "{t}"
    );
    // The site's own stick verifies and names its appliance.
    let o = evidence_verify_enrolled(&site.media, &list);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("appliance {}: enrolled in", key_id(&site))),
        "{out}"
    );
    assert!(out.contains(": ok (2 records verified)"), "{out}");
    // With both enrolled, each stick verifies against the same list.
    let both = enrol(foreign.tmp.path(), &[&site, &foreign]);
    let o = evidence_verify_enrolled(&foreign.media, &both);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("appliance {}: enrolled in", key_id(&foreign))),
        "{}",
        text(&o)
    );
}

/// A foreign receipt slipped onto an enrolled appliance's stick is refused as not enrolled.
#[test]
fn a_foreign_receipt_on_an_enrolled_stick_fails() {
    let site = Kit::new();
    served(&site);
    let foreign = Kit::new();
    foreign.bundle("c.tar", &Spec::new("2.0.0"));
    foreign.run();
    let list = enrol(site.tmp.path(), &[&site]);
    let receipts = foreign.media.join("receipts");
    for e in std::fs::read_dir(&receipts).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, site.media.join("receipts").join(p.file_name().unwrap())).unwrap();
    }
    let o = evidence_verify_enrolled(&site.media, &list);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("which is not an enrolled appliance"), "{t}");
}

fn sha_hex(b: &[u8]) -> String {
    airlock_formats::keys::hex(&airlock_core::digest::sha256(b))
}

/// `airlock evidence verify FILE --key STATE/appliance-key.json [extra]` on one log file.
fn evidence_verify_log(kit: &Kit, log: &Path, extra: &[&str]) -> Output {
    Command::new(airlock_bin())
        .env_remove("AIRLOCK_STATE")
        .args(["evidence", "verify"])
        .arg(log)
        .arg("--key")
        .arg(kit.state.join("appliance-key.json"))
        .args(extra)
        .output()
        .unwrap()
}

/// The stick is pulled while its last record is appended: the log loses that record's newline and
/// `cut` more bytes. Returns the fragment left (the bytes after the last newline).
fn pull_mid_append(kit: &Kit, cut: usize) -> Vec<u8> {
    let log = kit.media.join(LOG);
    let bytes = std::fs::read(&log).unwrap();
    let keep = bytes.len() - 1 - cut;
    std::fs::write(&log, &bytes[..keep]).unwrap();
    let start = bytes[..keep]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[start..keep].to_vec()
}

fn media_lines(kit: &Kit) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(kit.media.join(LOG)).unwrap();
    assert!(bytes.ends_with(b"\n"));
    bytes[..bytes.len() - 1]
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Issue 13: a stick pulled mid-append, then served again. The next record signs the fragment it
/// follows (`torn_fragment`: its length and SHA-256), so the fragment — now a complete line — is
/// accepted and reported, and the stick's log verifies again. Without the acknowledgment the line
/// fails forever (it cannot be told from an inserted line).
#[test]
fn a_stick_pulled_mid_append_verifies_again_once_the_next_record_acknowledges_the_fragment() {
    let kit = Kit::new();
    served(&kit);
    let fragment = pull_mid_append(&kit, 40);
    let log = kit.media.join(LOG);
    // Before the next append the fragment is a torn tail, tolerated.
    let o = evidence_verify_log(&kit, &log, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = kit.bundle("c.tar", &Spec::new("1.0.2"));
    kit.run_bundles(&[&c]);

    let lines = media_lines(&kit);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], fragment, "the fragment's bytes are untouched");
    let rec: serde_json::Value = serde_json::from_slice(&lines[2]).unwrap();
    assert_eq!(rec["seq"], 3);
    assert_eq!(
        rec["torn_fragment"],
        serde_json::json!({"bytes": fragment.len(), "sha256": sha_hex(&fragment)})
    );
    // The state log holds the identical line (its last), and it verifies as a plain record there.
    let state_log = std::fs::read(kit.state.join("evidence.jsonl")).unwrap();
    let state_last = state_log[..state_log.len() - 1]
        .split(|&b| b == b'\n')
        .next_back()
        .unwrap();
    assert_eq!(state_last, &lines[2][..]);
    let o = evidence_verify_log(&kit, &kit.state.join("evidence.jsonl"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Records before and after a fragment the appliance never saw carry no member at all.
    assert!(!lines[0].windows(13).any(|w| w == b"torn_fragment"));

    let report = kit.work.join("report.json");
    let o = evidence_verify_log(&kit, &log, &["--out", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(": ok-with-gaps (2 records verified)"), "{out}");
    assert!(
        out.contains(&format!(
            "line 2: a torn line of {} bytes (a power cut mid-append), acknowledged by the signed record seq 3",
            fragment.len()
        )),
        "{out}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        doc["repaired_torn_lines"],
        serde_json::json!([{"line": 2, "bytes": fragment.len(), "sha256": sha_hex(&fragment), "acknowledged_by": 3}])
    );
    assert_eq!(doc["torn_lines"], serde_json::json!([]));
    // With the appliance's own log the stick's records are its identical lines.
    let o = evidence_verify_log(&kit, &log, &["--state", kit.state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The whole stick: the receipt of the cut record 2 names a record the stick's log lacks. On
    // the stick alone that cannot be told from a deleted record (exit 1, with a hint) ...
    let o = evidence_verify(&kit, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("record 2, named by a receipt, is missing from the log")
            && text(&o).contains("check the stick with --state DIR"),
        "{}",
        text(&o)
    );
    // ... against the appliance's log it can: the torn line is the start of its record 2.
    let o = evidence_verify(&kit, &["--state", kit.state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("its record 2 was cut on the stick by a power cut"),
        "{}",
        text(&o)
    );
}

/// The receipt exception needs the torn line to be the start of the appliance's record: a stick
/// whose last record was replaced by other bytes the appliance then acknowledged still fails.
#[test]
fn a_receipt_whose_record_was_replaced_by_an_acknowledged_fragment_fails() {
    let kit = Kit::new();
    served(&kit);
    let log = kit.media.join(LOG);
    let (mut edited, _) = split_first_record(&log);
    edited.extend_from_slice(b"{\"seq\":2,\"prev\":\"zz");
    std::fs::write(&log, edited).unwrap();
    let c = kit.bundle("c.tar", &Spec::new("1.0.2"));
    kit.run_bundles(&[&c]);
    let o = evidence_verify(&kit, &["--state", kit.state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("record 2, named by a receipt, is missing from the log"),
        "{}",
        text(&o)
    );
    // The torn line itself is accepted: the appliance signed what it found.
    assert!(
        text(&o).contains("line 2: a torn line of 19 bytes"),
        "{}",
        text(&o)
    );
}

/// Writes `lines` (each with its newline) as the stick's log.
fn write_media_lines(kit: &Kit, lines: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    for l in lines {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    std::fs::write(kit.media.join(LOG), bytes).unwrap();
}

/// A stick repaired as above, as its lines.
fn repaired(kit: &Kit) -> Vec<Vec<u8>> {
    served(kit);
    pull_mid_append(kit, 40);
    let c = kit.bundle("c.tar", &Spec::new("1.0.2"));
    kit.run_bundles(&[&c]);
    media_lines(kit)
}

#[test]
fn an_acknowledged_fragment_edited_afterwards_fails() {
    let kit = Kit::new();
    let mut lines = repaired(&kit);
    // One byte changed, same length: the digest no longer matches.
    let last = lines[1].len() - 1;
    lines[1][last] ^= 0x01;
    write_media_lines(&kit, &lines);
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("line 2: a complete line"), "{out}");
    assert!(
        out.contains("line 3: the record acknowledges a torn fragment"),
        "{out}"
    );
    // One byte more: the length no longer matches.
    let kit = Kit::new();
    let mut lines = repaired(&kit);
    lines[1].push(b'x');
    write_media_lines(&kit, &lines);
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("line 2: a complete line"), "{}", text(&o));
}

#[test]
fn an_acknowledgment_not_directly_after_its_fragment_fails() {
    let kit = Kit::new();
    let mut lines = repaired(&kit);
    // Fragment, junk, acknowledging record: neither complete non-record line is accepted.
    lines.insert(2, b"garbage".to_vec());
    write_media_lines(&kit, &lines);
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("line 2: a complete line"), "{out}");
    assert!(out.contains("line 3: a complete line"), "{out}");
    assert!(
        out.contains("line 4: the record acknowledges a torn fragment"),
        "{out}"
    );
    assert!(!out.contains("accepted"), "{out}");
    // The acknowledging record moved before its fragment, which is now a junk line at the end.
    let kit = Kit::new();
    let mut lines = repaired(&kit);
    lines.swap(1, 2);
    write_media_lines(&kit, &lines);
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("line 2: the record acknowledges a torn fragment"),
        "{out}"
    );
    assert!(out.contains("line 3: a complete line"), "{out}");
}

#[test]
fn a_fragment_longer_than_the_cap_is_not_acknowledged_and_fails_as_before() {
    let kit = Kit::new();
    served(&kit);
    let cap = airlock_verifier::evidence::MAX_TORN_FRAGMENT as usize;
    append_media(&kit, &vec![b'x'; cap + 1]);
    let c = kit.bundle("c.tar", &Spec::new("1.0.2"));
    kit.run_bundles(&[&c]);
    let lines = media_lines(&kit);
    assert_eq!(lines.len(), 4);
    assert!(!lines[3].windows(13).any(|w| w == b"torn_fragment"));
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("line 3: a complete line"), "{}", text(&o));
}

#[test]
fn a_fragment_at_the_cap_is_acknowledged() {
    let kit = Kit::new();
    served(&kit);
    let cap = airlock_verifier::evidence::MAX_TORN_FRAGMENT as usize;
    append_media(&kit, &vec![b'x'; cap]);
    let c = kit.bundle("c.tar", &Spec::new("1.0.2"));
    kit.run_bundles(&[&c]);
    let o = evidence_verify_log(&kit, &kit.media.join(LOG), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("line 3: a torn line of {cap} bytes")),
        "{}",
        text(&o)
    );
}
