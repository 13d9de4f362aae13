//! Writing to stdout and stderr without ever panicking (issue 11 #13): `println!` panics when
//! the write fails (`2>/dev/full`, `| head -c1`), which is exit 101. Here a failed write is
//! remembered, later writes to that stream are skipped, and the command ends with exit 2 and a
//! sentence naming the stream and the error ([`finish`]). Both commands (`airlock`,
//! `airlock-bundle`) print through it.

use std::fmt;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Mutex;

/// The first failed write per stream: (stdout, stderr).
static FAILED: Mutex<(Option<io::Error>, Option<io::Error>)> = Mutex::new((None, None));

fn write(to_stdout: bool, args: fmt::Arguments<'_>) {
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    let slot = if to_stdout {
        &mut failed.0
    } else {
        &mut failed.1
    };
    if slot.is_some() {
        return;
    }
    let r = if to_stdout {
        io::stdout().lock().write_fmt(args)
    } else {
        io::stderr().lock().write_fmt(args)
    };
    if let Err(e) = r {
        *slot = Some(e);
    }
}

/// Writes to stdout (use [`outln!`](crate::outln)).
pub fn out(args: fmt::Arguments<'_>) {
    write(true, args)
}

/// Writes to stderr (use [`errln!`](crate::errln)).
pub fn err(args: fmt::Arguments<'_>) {
    write(false, args)
}

/// `print!` that never panics.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::console::out(format_args!($($t)*)) };
}

/// `println!` that never panics.
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::console::out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::console::err(format_args!("{}\n", format_args!($($t)*))) };
}

/// An I/O error with its errno name: "No space left on device (ENOSPC)".
pub fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let name = format!("{:?}", nix::errno::Errno::from_raw(n));
            format!("{} ({name})", io::Error::from_raw_os_error(n))
                .replace(&format!(" (os error {n})"), "")
        }
        None => e.to_string(),
    }
}

/// Flushes stdout and turns `code` into exit 2 when a write to stdout or stderr failed, saying
/// which and why (on stderr for stdout, and on stdout for stderr, whichever still works).
pub fn finish(program: &str, code: u8) -> ExitCode {
    {
        let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
        if failed.0.is_none() {
            if let Err(e) = io::stdout().lock().flush() {
                failed.0 = Some(e);
            }
        }
    }
    let (stdout, stderr) = {
        let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
        (failed.0.take(), failed.1.take())
    };
    if stdout.is_none() && stderr.is_none() {
        return ExitCode::from(code);
    }
    if let Some(e) = &stdout {
        let _ = writeln!(
            io::stderr().lock(),
            "{program}: writing to standard output failed: {}; the output is incomplete",
            describe(e)
        );
    }
    if let Some(e) = &stderr {
        if stdout.is_none() {
            let mut o = io::stdout().lock();
            let _ = writeln!(
                o,
                "{program}: writing to standard error failed: {}; messages were lost",
                describe(e)
            );
            let _ = o.flush();
        }
    }
    ExitCode::from(2)
}
