//! `pack`'s progress on stderr: a bar per phase when stderr is a terminal, nothing otherwise (so
//! scripts and tests that read the output see exactly the summary).

use airlock_author::pack::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// A bar on stderr, replaced at each phase and cleared at the end.
pub struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    /// A progress sink for this process's stderr, or `None` when stderr is not a terminal.
    pub fn for_stderr() -> Option<Self> {
        std::io::stderr().is_terminal().then(|| Self {
            bar: Mutex::new(None),
        })
    }
}

impl Progress for Terminal {
    fn phase(&self, what: &str, total: Option<u64>) {
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = match total {
            Some(_) => "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            None => "{spinner} {msg}: {bytes} {bytes_per_sec}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        *slot = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(bytes);
            }
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
