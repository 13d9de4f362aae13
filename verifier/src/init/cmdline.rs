//! The appliance's settings, from the kernel command line (`/proc/cmdline`). Everything is
//! optional; anything not understood is reported, never fatal.

use std::path::PathBuf;
use std::time::Duration;

/// What to do once the verdict is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Power off at once (tests, unattended use).
    PowerOff,
    /// Wait for a key press on any console, then power off (the field default in the image).
    WaitForKey,
}

/// Settings read from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `airlock.media=/dev/sdb1`: use this device instead of looking for the label.
    pub media: Option<PathBuf>,
    /// `airlock.state=/dev/sda2`: use this device instead of looking for the label.
    pub state: Option<PathBuf>,
    /// `airlock.halt=poweroff|wait`.
    pub halt: Halt,
    /// `airlock.wait=SECONDS`: how long to wait for the sticks to appear.
    pub wait: Duration,
    /// `airlock.deadline=SECONDS`: longest the whole verification may take before the run is
    /// abandoned as stalled (a stick whose reads never return).
    pub deadline: Duration,
    /// `airlock.ascii`: draw the banner with `#` (consoles without the block glyph).
    pub ascii: bool,
    /// `airlock.debug`: leave kernel messages on the console.
    pub debug: bool,
    /// Settings that were not understood, for a warning.
    pub unknown: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            media: None,
            state: None,
            halt: Halt::PowerOff,
            wait: Duration::from_secs(60),
            deadline: Duration::from_secs(1800),
            ascii: false,
            debug: false,
            unknown: Vec::new(),
        }
    }
}

/// Longest accepted `airlock.wait`.
const MAX_WAIT_SECS: u64 = 3600;
/// Longest accepted `airlock.deadline` (a day).
const MAX_DEADLINE_SECS: u64 = 86_400;

/// Parses the kernel command line.
pub fn parse(cmdline: &str) -> Config {
    let mut c = Config::default();
    for word in cmdline.split_ascii_whitespace() {
        let Some(setting) = word.strip_prefix("airlock.") else {
            continue;
        };
        let (key, value) = match setting.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (setting, None),
        };
        let ok = match (key, value) {
            ("media", Some(v)) if v.starts_with("/dev/") => {
                c.media = Some(PathBuf::from(v));
                true
            }
            ("state", Some(v)) if v.starts_with("/dev/") => {
                c.state = Some(PathBuf::from(v));
                true
            }
            ("halt", Some("poweroff")) => {
                c.halt = Halt::PowerOff;
                true
            }
            ("halt", Some("wait")) => {
                c.halt = Halt::WaitForKey;
                true
            }
            ("wait", Some(v)) => match v.parse::<u64>() {
                Ok(s) if s <= MAX_WAIT_SECS => {
                    c.wait = Duration::from_secs(s);
                    true
                }
                _ => false,
            },
            ("deadline", Some(v)) => match v.parse::<u64>() {
                Ok(s) if (1..=MAX_DEADLINE_SECS).contains(&s) => {
                    c.deadline = Duration::from_secs(s);
                    true
                }
                _ => false,
            },
            ("ascii", None | Some("1")) => {
                c.ascii = true;
                true
            }
            ("debug", None | Some("1")) => {
                c.debug = true;
                true
            }
            _ => false,
        };
        if !ok {
            c.unknown.push(word.to_string());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_airlock_settings() {
        assert_eq!(parse("console=ttyS0 quiet\n"), Config::default());
    }

    #[test]
    fn every_setting() {
        let c = parse(
            "quiet airlock.media=/dev/vdb airlock.state=/dev/vdc airlock.halt=wait \
             airlock.wait=5 airlock.deadline=90 airlock.ascii airlock.debug=1",
        );
        assert_eq!(c.media, Some(PathBuf::from("/dev/vdb")));
        assert_eq!(c.state, Some(PathBuf::from("/dev/vdc")));
        assert_eq!(c.halt, Halt::WaitForKey);
        assert_eq!(c.wait, Duration::from_secs(5));
        assert_eq!(c.deadline, Duration::from_secs(90));
        assert!(c.ascii && c.debug && c.unknown.is_empty());
    }

    #[test]
    fn nonsense_is_reported_not_obeyed() {
        let c = parse("airlock.media=sdb1 airlock.halt=explode airlock.wait=-1 airlock.wait=99999 airlock.deadline=0 airlock.x");
        assert_eq!(c.media, None);
        assert_eq!(c.halt, Halt::PowerOff);
        assert_eq!(c.wait, Duration::from_secs(60));
        assert_eq!(c.unknown.len(), 6);
    }
}
