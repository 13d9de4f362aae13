//! Lowercase hexadecimal, the only hex Airlock reads or writes.

/// Why a hex string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// The input length is not twice the output length.
    Length,
    /// A character other than `0-9` or `a-f` (uppercase is refused: one spelling per digest).
    Character,
    /// The output buffer is too small.
    Buffer,
}

fn nibble(c: u8) -> Result<u8, HexError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(HexError::Character),
    }
}

/// Decodes exactly `N` bytes from `2 * N` lowercase hex digits.
pub fn decode<const N: usize>(text: &[u8]) -> Result<[u8; N], HexError> {
    if text.len() != 2 * N {
        return Err(HexError::Length);
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Ok(out)
}

/// Writes `bytes` as lowercase hex into `out` and returns it as a string slice.
pub fn encode<'a>(bytes: &[u8], out: &'a mut [u8]) -> Result<&'a str, HexError> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let need = bytes.len().checked_mul(2).ok_or(HexError::Buffer)?;
    let out = out.get_mut(..need).ok_or(HexError::Buffer)?;
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    core::str::from_utf8(out).map_err(|_| HexError::Character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        assert_eq!(decode::<2>(b"00ff"), Ok([0, 255]));
        assert_eq!(decode::<2>(b"00FF"), Err(HexError::Character));
        assert_eq!(decode::<2>(b"00f"), Err(HexError::Length));
        let mut buf = [0u8; 4];
        assert_eq!(encode(&[0xab, 0x01], &mut buf), Ok("ab01"));
        assert_eq!(encode(&[1, 2, 3], &mut buf), Err(HexError::Buffer));
    }
}
