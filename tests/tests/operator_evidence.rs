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
    let bytes = std::fs::read(&log).unwrap();
    let first_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut edited = bytes[..first_end].to_vec();
    edited.extend_from_slice(b"garbage\n");
    edited.extend_from_slice(&bytes[first_end..]);
    std::fs::write(&log, edited).unwrap();
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
    let bytes = std::fs::read(&log).unwrap();
    let first = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(&log, &bytes[..first]).unwrap();
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
