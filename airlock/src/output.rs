//! What a person or a script sees: the progress bar, the verdicts, the JSON document.

use airlock_verifier::bundle::Progress;
use airlock_verifier::escape::text;
use airlock_verifier::run::RunReport;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::sync::Mutex;

/// A progress bar on stderr when it is a terminal; nothing otherwise (a plain line per bundle is
/// printed by the caller).
pub struct ConsoleProgress {
    bar: Mutex<Option<ProgressBar>>,
    interactive: bool,
}

impl ConsoleProgress {
    /// A progress sink for this process's stderr.
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
            interactive: std::io::stderr().is_terminal(),
        }
    }

    fn start(&self, name: &str) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            if self.interactive {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(text(name).into_owned());
                *slot = Some(bar);
            } else {
                crate::errln!("verifying {}", text(name));
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

impl Default for ConsoleProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for ConsoleProgress {
    fn begin(&self, bundle: &str) {
        self.start(bundle);
    }

    fn end(&self) {
        self.finish();
    }

    fn position(&self, bytes: u64, total: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_length(total);
                bar.set_position(bytes);
            }
        }
    }
}

/// The version of the `--format json` documents (`verify`, `codes`): raised when a member changes
/// meaning or goes away, never for an addition.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The `--format json` document (FORMATS §6.4).
pub fn json_report(report: &RunReport) -> serde_json::Value {
    let results: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let mut v = json!({
                "bundle": r.bundle,
                "verdict": r.verdict,
                "package": r.package,
                "version": r.version,
                "reasons": r.reasons,
                "receipt": r.receipt,
            });
            // Who ran a governed release (formats §8); absent for other bundles.
            if let (Some(id), Some(o)) = (&r.runner, v.as_object_mut()) {
                o.insert(
                    "runner".into(),
                    json!({"issuer": id.issuer, "subject": id.subject,
                           "repository": id.repository, "workflow": id.workflow}),
                );
            }
            v
        })
        .collect();
    json!({ "schema_version": JSON_SCHEMA_VERSION, "results": results, "problems": report.problems })
}

/// The human verdicts. Every string that came from the media is escaped ([`text`]): a `\r` or
/// an escape sequence in a bundle name must not rewrite the verdict on screen.
pub fn human_report(report: &RunReport) -> String {
    let mut out = String::new();
    for r in &report.results {
        let what = match (&r.package, &r.version) {
            (Some(p), Some(v)) => format!("{} {}", text(p), text(v)),
            _ => "(package unknown)".into(),
        };
        out.push_str(&format!(
            "{:<8} {}  {what}\n",
            r.verdict.as_str().to_uppercase(),
            text(&r.bundle)
        ));
        for reason in &r.reasons {
            out.push_str(&format!(
                "         - {}: {}\n",
                reason.code,
                text(&reason.message)
            ));
        }
        if let Some(id) = r
            .runner
            .as_ref()
            .filter(|_| r.verdict == airlock_verifier::verdict::Verdict::Promote)
        {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "         runner: issuer {}, subject {}, repository {}, workflow {}\n",
                show(&id.issuer),
                show(&id.subject),
                show(&id.repository),
                show(&id.workflow)
            ));
        }
        match &r.receipt {
            Some(p) => out.push_str(&format!("         receipt: {}\n", text(p))),
            None => out.push_str("         no receipt written\n"),
        }
    }
    if report.results.is_empty() {
        out.push_str("no bundles found (looked in MEDIA/inbox/ for *.tar, *.tar.gz, *.tgz, *.tar.zst, *.tar.xz)\n");
    }
    for p in &report.problems {
        out.push_str(&format!("ERROR    {}\n", text(p)));
    }
    let promoted = report
        .results
        .iter()
        .filter(|r| r.verdict == airlock_verifier::verdict::Verdict::Promote)
        .count();
    out.push_str(&format!(
        "{} bundle(s): {promoted} promoted, {} rejected\n",
        report.results.len(),
        report.results.len() - promoted
    ));
    out
}
