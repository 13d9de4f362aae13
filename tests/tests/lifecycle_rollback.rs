//! Issue #5, release rollback and freeze (adversarial #1, #10): the appliance records, per package,
//! the highest promoted version and its bundle digest, across runs (the state) and within one run
//! (bundles in byte-wise name order, each judged by what the ones before it promoted).

mod support;

use support::*;

/// #1 across runs: v0.2.0 promoted in one run, v0.1.0 presented in a later, separate run is
/// `release-rollback`, and the record still says v0.2.0.
///
/// Pins: the rollback comparison in `policy::assess` ("Rollback") AND the persistence of
/// `packages` in `state.json` (`Recorder::update_state`); without either, run 2 promotes.
#[test]
fn older_version_in_a_later_run_is_release_rollback() {
    let kit = Kit::new();
    let new = kit.bundle("cavra-v0.2.0.tar.gz", &Spec::new("v0.2.0"));
    let rep = kit.run();
    assert_promoted(result(&rep, &new));
    assert_eq!(rep.exit_code(), 0);
    let digest = file_sha256(&kit.media.join(&new));

    kit.clear_inbox();
    let old = kit.bundle("cavra-v0.1.0.tar.gz", &Spec::new("v0.1.0"));
    let rep = kit.run();
    let r = result(&rep, &old);
    assert_rejected_with(r, &["release-rollback"]);
    assert_eq!(codes(r), vec!["release-rollback"], "{:#?}", r.reasons);
    assert_eq!(rep.exit_code(), 1);
    assert!(r.reasons[0].message.contains("v0.2.0"));

    let st = kit.state_data();
    let p = &st.packages[PACKAGE];
    assert_eq!(p.version, "v0.2.0");
    assert_eq!(p.bundle_sha256, digest);
}

/// Re-verifying the very same bundle (same version, same bundle digest) promotes again, and gets
/// a second receipt name.
///
/// Pins: the `same_bundle` exemption in the rollback rule (without it, re-verification rejects).
#[test]
fn reverifying_the_same_bundle_promotes_again() {
    let kit = Kit::new();
    let b = kit.bundle("cavra-v0.2.0.tar.gz", &Spec::new("v0.2.0"));
    let first = kit.run();
    assert_promoted(result(&first, &b));
    let second = kit.run();
    let r = result(&second, &b);
    assert_promoted(r);
    assert_eq!(
        r.receipt.as_deref(),
        Some("receipts/cavra-v0.2.0.tar.gz.promote.2.receipt.json")
    );
    // Same bytes under another file name: the same bundle.
    let saved = kit.work.join("saved.tar.gz");
    std::fs::copy(kit.media.join(&b), &saved).unwrap();
    kit.clear_inbox();
    let renamed = kit.put_bundle("renamed.tar.gz", &saved);
    assert_promoted(result(&kit.run(), &renamed));
}

/// #10: the same version with other content is rejected; what was trusted is kept.
///
/// Pins: the "same version, different bundle digest" arm of the rollback rule.
#[test]
fn same_version_other_content_is_rejected_and_the_first_is_kept() {
    let kit = Kit::new();
    let first = kit.bundle("a.tar", &Spec::new("v0.2.0"));
    assert_promoted(result(&kit.run(), &first));
    let digest = file_sha256(&kit.media.join(&first));

    kit.clear_inbox();
    let other = kit.bundle("b.tar", &Spec::new("v0.2.0").content("rebuilt"));
    assert_ne!(file_sha256(&kit.media.join(&other)), digest);
    let rep = kit.run();
    let r = result(&rep, &other);
    assert_rejected_with(r, &["release-rollback"]);
    assert!(
        r.reasons[0].message.contains("different content"),
        "{:#?}",
        r.reasons
    );
    assert_eq!(kit.state_data().packages[PACKAGE].bundle_sha256, digest);
}

/// Within ONE run the bundles are verified in byte-wise order of their names ('Z' = 0x5a sorts
/// before 'a' = 0x61), and the first one's promotion counts for the second.
///
/// Pins: the byte-wise sort in `media::inbox` (a case-insensitive or locale order would verify
/// `a-…` first and promote both) and `run::remember` (without it both promote).
#[test]
fn one_run_is_bytewise_ordered_and_carries_promotions_forward() {
    let kit = Kit::new();
    let old = kit.bundle("a-cavra-v0.1.0.tar", &Spec::new("v0.1.0"));
    let new = kit.bundle("Z-cavra-v0.2.0.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    let order: Vec<&str> = rep.results.iter().map(|r| r.bundle.as_str()).collect();
    assert_eq!(order, vec![new.as_str(), old.as_str()]);
    assert_promoted(&rep.results[0]);
    assert_rejected_with(&rep.results[1], &["release-rollback"]);
    assert_eq!(rep.exit_code(), 1);
    assert_eq!(kit.state_data().packages[PACKAGE].version, "v0.2.0");
}

/// The other order promotes both; and two bundles of one version with different content in one
/// run: the first wins, the second is rejected (#10 within a run).
///
/// Pins: `run::remember` (promoted) for the same-version case.
#[test]
fn one_run_upgrades_in_order_and_rejects_a_second_content_of_one_version() {
    let kit = Kit::new();
    let a = kit.bundle("A-v0.1.0.tar", &Spec::new("v0.1.0"));
    let b = kit.bundle("b-v0.2.0.tar", &Spec::new("v0.2.0"));
    let c1 = kit.bundle("c1-v0.3.0.tar", &Spec::new("v0.3.0"));
    let c2 = kit.bundle("c2-v0.3.0.tar", &Spec::new("v0.3.0").content("evil twin"));
    let rep = kit.run();
    assert_promoted(result(&rep, &a));
    assert_promoted(result(&rep, &b));
    assert_promoted(result(&rep, &c1));
    assert_rejected_with(result(&rep, &c2), &["release-rollback"]);
    let st = kit.state_data();
    assert_eq!(st.packages[PACKAGE].version, "v0.3.0");
    assert_eq!(
        st.packages[PACKAGE].bundle_sha256,
        file_sha256(&kit.media.join(&c1))
    );
}

/// Versions compare as semantic versions, not as text: v0.10.0 is newer than v0.9.0.
///
/// Pins: `ReleaseVersion` ordering in the rollback rule (a string comparison rejects v0.10.0
/// after v0.9.0 and accepts v0.9.1 after v0.10.0).
#[test]
fn versions_compare_as_semver_not_as_text() {
    let kit = Kit::new();
    let a = kit.bundle("a.tar", &Spec::new("v0.9.0"));
    let b = kit.bundle("b.tar", &Spec::new("v0.10.0"));
    let rep = kit.run();
    assert_promoted(result(&rep, &a));
    assert_promoted(result(&rep, &b));
    kit.clear_inbox();
    let c = kit.bundle("c.tar", &Spec::new("v0.9.1"));
    assert_rejected_with(result(&kit.run(), &c), &["release-rollback"]);
    // A pre-release of the promoted version is older too.
    kit.clear_inbox();
    let d = kit.bundle("d.tar", &Spec::new("v0.10.0-rc.1"));
    assert_rejected_with(result(&kit.run(), &d), &["release-rollback"]);
}

/// A rejected bundle records nothing: a v0.5.0 signed by a stranger does not raise the floor, so
/// a genuine v0.3.0 still promotes afterwards.
///
/// Pins: `updates.promoted` being set only on promote.
#[test]
fn a_rejected_bundle_does_not_raise_the_recorded_version() {
    let kit = Kit::new();
    let stranger = key("cavra-go-release-2026-q2");
    let forged = kit.bundle("a.tar", &Spec::new("v0.5.0").signed_by(&[&stranger]));
    let genuine = kit.bundle("b.tar", &Spec::new("v0.3.0"));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &forged), &["signature-invalid"]);
    assert_promoted(result(&rep, &genuine));
    assert_eq!(kit.state_data().packages[PACKAGE].version, "v0.3.0");
}

/// Packages are tracked separately: a promoted `other-runtime v0.9.0` does not make
/// `cavra-go-runtime v0.1.0` a rollback.
///
/// Pins: the per-package key of the rollback record.
#[test]
fn packages_are_tracked_separately() {
    let kit = Kit::new();
    let a = kit.bundle("a.tar", &Spec::new("v0.9.0").package("other-runtime"));
    let b = kit.bundle("b.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    assert_promoted(result(&rep, &a));
    assert_promoted(result(&rep, &b));
    let st = kit.state_data();
    assert_eq!(st.packages["other-runtime"].version, "v0.9.0");
    assert_eq!(st.packages[PACKAGE].version, "v0.1.0");
}

/// A dry run (`--no-write`) reads the record but adds nothing to it: v0.2.0 promoted in a dry run
/// does not make v0.1.0 a rollback in the next real run, while a real v0.2.0 promotion is seen
/// by a later dry run.
///
/// Pins: `WriteMode::DryRun` never updating the state, and the dry run still reading it.
#[test]
fn a_dry_run_reads_the_record_but_never_adds_to_it() {
    let kit = Kit::new();
    let new = kit.bundle("new.tar", &Spec::new("v0.2.0"));
    let mut dry = kit.opts();
    dry.write = WriteMode::DryRun;
    let rep = kit.run_opts(&dry).unwrap();
    assert_promoted(result(&rep, &new));
    assert!(result(&rep, &new).receipt.is_none());
    kit.clear_inbox();
    let old = kit.bundle("old.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &old));
    // Now the record holds v0.1.0; promote v0.2.0 for real, then a dry run sees the rollback.
    kit.clear_inbox();
    let new2 = kit.bundle("new2.tar", &Spec::new("v0.2.0"));
    assert_promoted(result(&kit.run(), &new2));
    kit.clear_inbox();
    let old2 = kit.bundle("old2.tar", &Spec::new("v0.1.5"));
    let rep = kit.run_opts(&dry).unwrap();
    assert_rejected_with(result(&rep, &old2), &["release-rollback"]);
}
