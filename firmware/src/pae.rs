//! DSSE v1 Pre-Authentication Encoding, the bytes a DSSE signature actually signs:
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN in ASCII decimal.

use embedded_io::Write;

/// Why the encoding could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaeError {
    /// The lengths do not fit in `usize` arithmetic.
    Overflow,
    /// The writer refused bytes (for a slice: the buffer is too small).
    Write,
}

fn decimal_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// The exact length of `PAE(type, body)` for the given lengths.
pub fn encoded_len(type_len: usize, body_len: usize) -> Result<usize, PaeError> {
    [
        6 + 1,
        decimal_len(type_len) + 1,
        type_len,
        1,
        decimal_len(body_len) + 1,
        body_len,
    ]
    .iter()
    .try_fold(0usize, |acc, n| acc.checked_add(*n))
    .ok_or(PaeError::Overflow)
}

fn write_decimal<W: Write>(w: &mut W, n: usize) -> Result<(), PaeError> {
    let mut digits = [0u8; 20];
    let len = decimal_len(n);
    let mut v = n;
    for d in digits[..len].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    w.write_all(&digits[..len]).map_err(|_| PaeError::Write)
}

/// Writes `PAE(payload_type, body)` to `w`.
pub fn write<W: Write>(w: &mut W, payload_type: &[u8], body: &[u8]) -> Result<(), PaeError> {
    let put = |w: &mut W, b: &[u8]| w.write_all(b).map_err(|_| PaeError::Write);
    put(w, b"DSSEv1 ")?;
    write_decimal(w, payload_type.len())?;
    put(w, b" ")?;
    put(w, payload_type)?;
    put(w, b" ")?;
    write_decimal(w, body.len())?;
    put(w, b" ")?;
    put(w, body)
}

/// Encodes `PAE(payload_type, body)` into the front of `buf` and returns that part of it.
pub fn encode<'a>(
    buf: &'a mut [u8],
    payload_type: &[u8],
    body: &[u8],
) -> Result<&'a [u8], PaeError> {
    let len = encoded_len(payload_type.len(), body.len())?;
    let out = buf.get_mut(..len).ok_or(PaeError::Write)?;
    let mut cursor: &mut [u8] = out;
    write(&mut cursor, payload_type, body)?;
    Ok(&buf[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsse_protocol_example() {
        // The example from secure-systems-lab/dsse protocol.md.
        let mut buf = [0u8; 64];
        let pae = encode(&mut buf, b"http://example.com/HelloWorld", b"hello world").unwrap();
        assert_eq!(
            pae,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(encoded_len(29, 11), Ok(pae.len()));
    }

    #[test]
    fn empty_fields_and_short_buffer() {
        let mut buf = [0u8; 16];
        assert_eq!(encode(&mut buf, b"", b"").unwrap(), b"DSSEv1 0  0 ");
        let mut small = [0u8; 8];
        assert_eq!(encode(&mut small, b"t", b"b"), Err(PaeError::Write));
        assert_eq!(encoded_len(usize::MAX, 1), Err(PaeError::Overflow));
    }
}
