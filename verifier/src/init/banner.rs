//! Large block letters for the verdict, readable from across a room on an 80-column console.
//! 5×7 glyphs, one character cell per pixel (the console font's full block, or `#`).

/// The glyph rows for `c` (bit 4 = leftmost pixel); unknown characters are blank.
fn glyph(c: char) -> [u8; 7] {
    match c {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        _ => [0; 7],
    }
}

/// `text` (upper case; letters outside the font print as blanks) as seven lines of block
/// letters, each line indented by `indent` spaces. `ascii` uses `#` instead of `█`.
pub fn big(text: &str, indent: usize, ascii: bool) -> String {
    let on = if ascii { '#' } else { '\u{2588}' };
    let mut out = String::new();
    for row in 0..7 {
        let mut line: String = " ".repeat(indent);
        for c in text.chars() {
            let bits = glyph(c);
            for col in (0..5).rev() {
                line.push(if bits[row] >> col & 1 == 1 { on } else { ' ' });
            }
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_words_fit_an_80_column_console_and_use_only_known_glyphs() {
        for w in ["PROMOTE", "REJECT", "ERROR", "NO BUNDLES"] {
            let b = big(w, 4, false);
            assert_eq!(b.lines().count(), 7);
            assert!(b.lines().all(|l| l.chars().count() <= 80), "{w}");
            for c in w.chars().filter(|&c| c != ' ') {
                assert_ne!(glyph(c), [0; 7], "{c} missing from the font");
            }
        }
    }

    #[test]
    fn ascii_rendering() {
        let b = big("T", 0, true);
        assert_eq!(b.lines().next(), Some("#####"));
        assert_eq!(b.lines().nth(6), Some("  #"));
    }
}
