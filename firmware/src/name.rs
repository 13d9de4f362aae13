//! Canonical relative file names, as they appear in a bundle and in `checksums.txt`:
//! `/`-separated UTF-8 with no empty, `.` or `..` component, no leading `/`, no backslash and no
//! control character. One spelling per file, so that "the file the signature names" and "the file a
//! tool would extract" cannot differ.

/// Longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Longest single component accepted, in bytes (the common file-system limit).
pub const MAX_COMPONENT_LEN: usize = 255;

/// Why a name is not canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// Longer than [`MAX_NAME_LEN`] or a component longer than [`MAX_COMPONENT_LEN`].
    TooLong,
    /// Starts with `/`.
    Absolute,
    /// Has an empty component (`a//b`, a trailing `/`), or a `.` component.
    EmptyOrDotComponent,
    /// Has a `..` component.
    ParentComponent,
    /// Contains a backslash.
    Backslash,
    /// Contains a control character (C0, DEL or C1), NUL included.
    ControlCharacter,
}

/// Whether `c` is a control character in the sense of this module.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Checks that `name` is canonical.
pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if name.starts_with('/') {
        return Err(NameError::Absolute);
    }
    if name.contains('\\') {
        return Err(NameError::Backslash);
    }
    if name.chars().any(is_control) {
        return Err(NameError::ControlCharacter);
    }
    for component in name.split('/') {
        match component {
            "" | "." => return Err(NameError::EmptyOrDotComponent),
            ".." => return Err(NameError::ParentComponent),
            c if c.len() > MAX_COMPONENT_LEN => return Err(NameError::TooLong),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        for ok in ["a", "bin/cavra-linux-amd64", "café/ß", "a.b/.hidden"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("/etc/passwd", NameError::Absolute),
            ("a/../b", NameError::ParentComponent),
            ("..", NameError::ParentComponent),
            ("./a", NameError::EmptyOrDotComponent),
            ("a//b", NameError::EmptyOrDotComponent),
            ("a/", NameError::EmptyOrDotComponent),
            ("a\\b", NameError::Backslash),
            ("a\0b", NameError::ControlCharacter),
            ("a\nb", NameError::ControlCharacter),
            ("a\u{85}b", NameError::ControlCharacter),
        ];
        for (name, err) in cases {
            assert_eq!(check(name), Err(*err), "{name:?}");
        }
    }
}
