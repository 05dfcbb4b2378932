//! Postcard's integer encoding: LEB128 varints for unsigned integers and
//! zigzag + varint for signed ones.
//!
//! These functions are the single definition of the integer encoding used by
//! the runtime's encoder, the schema codec and the decoder.

/// Largest number of bytes a `u64` varint takes.
pub const MAX_VARINT_U64: usize = 10;
/// Largest number of bytes a `u128` varint takes.
pub const MAX_VARINT_U128: usize = 19;

/// Maps a signed integer onto an unsigned one so that small magnitudes stay small.
#[inline(always)]
pub const fn zigzag_i64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag_i64`].
#[inline(always)]
pub const fn unzigzag_i64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Maps a signed 128-bit integer onto an unsigned one (see [`zigzag_i64`]).
#[inline(always)]
pub const fn zigzag_i128(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

/// Inverse of [`zigzag_i128`].
#[inline(always)]
pub const fn unzigzag_i128(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

/// Writes `v` as a varint into the front of `out` and returns the number of
/// bytes written, or `None` if `out` is too short.
#[inline(always)]
pub fn write_u64(out: &mut [u8], mut v: u64) -> Option<usize> {
    let mut i = 0;
    loop {
        let byte = out.get_mut(i)?;
        if v < 0x80 {
            *byte = v as u8;
            return Some(i + 1);
        }
        *byte = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
}

/// Writes `v` as a varint into the front of `out` (see [`write_u64`]).
#[inline]
pub fn write_u128(out: &mut [u8], mut v: u128) -> Option<usize> {
    let mut i = 0;
    loop {
        let byte = out.get_mut(i)?;
        if v < 0x80 {
            *byte = v as u8;
            return Some(i + 1);
        }
        *byte = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
}

/// Appends `v` as a varint to `out`.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; MAX_VARINT_U64];
    let n = write_u64(&mut tmp, v).expect("a u64 varint fits in 10 bytes");
    out.extend_from_slice(&tmp[..n]);
}

/// Number of bytes the varint encoding of `v` takes.
pub const fn len_u64(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Errors from reading a varint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VarintError {
    /// The input ended inside the varint.
    #[error("input ends inside a varint")]
    Truncated,
    /// The varint is longer than its type allows or its value overflows.
    #[error("varint overflows its type")]
    Overflow,
}

/// Reads a varint of at most `max_bits` bits from the front of `input`;
/// returns the value and the number of bytes it took.
#[inline]
fn read_bits(input: &[u8], max_bits: u32) -> Result<(u128, usize), VarintError> {
    let mut value: u128 = 0;
    let mut shift = 0u32;
    for (i, &byte) in input.iter().enumerate() {
        let payload = (byte & 0x7f) as u128;
        if shift >= max_bits || (shift > 0 && max_bits - shift < 7 && payload >> (max_bits - shift) != 0) {
            return Err(VarintError::Overflow);
        }
        value |= payload << shift;
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
        shift += 7;
    }
    Err(VarintError::Truncated)
}

/// Reads a `u64` varint; returns the value and the bytes it took.
#[inline]
pub fn read_u64(input: &[u8]) -> Result<(u64, usize), VarintError> {
    // Fast path: one byte.
    if let Some(&b) = input.first() {
        if b < 0x80 {
            return Ok((b as u64, 1));
        }
    }
    read_bits(input, 64).map(|(v, n)| (v as u64, n))
}

/// Reads a varint that must fit in `bits` bits (16, 32 or 64).
#[inline]
pub fn read_uint(input: &[u8], bits: u32) -> Result<(u64, usize), VarintError> {
    read_bits(input, bits).map(|(v, n)| (v as u64, n))
}

/// Reads a `u128` varint; returns the value and the bytes it took.
pub fn read_u128(input: &[u8]) -> Result<(u128, usize), VarintError> {
    read_bits(input, 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edges() {
        for v in [0u64, 1, 127, 128, 255, 300, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut buf = [0u8; 10];
            let n = write_u64(&mut buf, v).unwrap();
            assert_eq!(n, len_u64(v));
            assert_eq!(read_u64(&buf[..n]).unwrap(), (v, n));
            assert_eq!(postcard::to_allocvec(&v).unwrap(), &buf[..n]);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -64, 64] {
            assert_eq!(unzigzag_i64(zigzag_i64(v)), v);
            let mut buf = [0u8; 10];
            let n = write_u64(&mut buf, zigzag_i64(v)).unwrap();
            assert_eq!(postcard::to_allocvec(&v).unwrap(), &buf[..n]);
        }
        for v in [0u128, u128::MAX, 1 << 100] {
            let mut buf = [0u8; 19];
            let n = write_u128(&mut buf, v).unwrap();
            assert_eq!(read_u128(&buf[..n]).unwrap(), (v, n));
            assert_eq!(postcard::to_allocvec(&v).unwrap(), &buf[..n]);
        }
        for v in [0i128, -1, i128::MIN, i128::MAX] {
            assert_eq!(unzigzag_i128(zigzag_i128(v)), v);
        }
    }

    #[test]
    fn rejects_truncated_and_overflowing() {
        assert_eq!(read_u64(&[0x80]), Err(VarintError::Truncated));
        assert_eq!(read_u64(&[]), Err(VarintError::Truncated));
        assert_eq!(read_u64(&[0xff; 11]), Err(VarintError::Overflow));
        // 2^64 does not fit.
        assert_eq!(read_u64(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]), Err(VarintError::Overflow));
        assert_eq!(read_uint(&[0x80, 0x80, 0x04], 16), Err(VarintError::Overflow));
        assert_eq!(read_uint(&[0xff, 0xff, 0x03], 16), Ok((0xffff, 3)));
    }
}
