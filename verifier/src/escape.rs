//! Making untrusted text harmless on a console (issue 11 #6). Bundle names, package names,
//! versions and messages that quote them come from the stick: a `\r`, an ANSI escape sequence
//! (`ESC[2K` erases a line, `ESC[8m` hides text) or a bidirectional override in them could
//! rewrite what the operator reads, e.g. turn an on-screen REJECT into PROMOTE. Every string
//! shown on a console or written to a log passes through [`text`]; JSON output is escaped by
//! the JSON encoder.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown as an escape: every control character (C0, DEL, C1), line and paragraph
/// separators, and the bidirectional formatting characters that reorder what follows them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// `s` with every unsafe character written as a visible escape (`\r`, `\n`, `\t`, `\u{1b}`),
/// and a backslash doubled when anything was escaped, so an escape cannot be forged. Text with
/// nothing to escape is returned as it is.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// `s` in double quotes, every backslash, quote and unsafe character escaped, for messages that
/// name an untrusted string.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push_str("\\\"");
        } else {
            push_escaped(&mut out, c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_visible() {
        assert_eq!(text("cavra-v0.1.0.tar.gz"), "cavra-v0.1.0.tar.gz");
        assert_eq!(text("a\rPROMOTE"), "a\\rPROMOTE");
        assert_eq!(text("x\u{1b}[2Ky"), "x\\u{1b}[2Ky");
        assert_eq!(text("\u{9b}8m\\"), "\\u{9b}8m\\\\");
        assert_eq!(text("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(quoted("a\"b\n"), "\"a\\\"b\\n\"");
        assert!(!text(&"\u{1b}".repeat(3)).contains('\u{1b}'));
    }
}
