//! Writing the self-describing `json` values (FORMAT.md, "JSON values"):
//! a [`JsonKind`] then what the kind says. Shared by `serde_json::Value`
//! fields and the `log` / `tracing` bridges, whose values are typed only at
//! run time. Writes into an [`Encoder`] (a record) or a `Vec<u8>` (a span's
//! fields, encoded once and copied into each of its events).
// Each user of these helpers is behind a cargo feature.
#![cfg_attr(not(all(feature = "serde_json", any(feature = "log", feature = "tracing"))), allow(dead_code))]

use lmlog_format::{varint, JsonKind};

use crate::value::Encoder;

/// Where JSON values are written.
pub(crate) trait JsonOut {
    /// An unsigned varint.
    fn varint(&mut self, v: u64);
    /// Raw bytes.
    fn bytes(&mut self, bytes: &[u8]);
}

impl JsonOut for Encoder<'_> {
    #[inline]
    fn varint(&mut self, v: u64) {
        self.write_varint(v);
    }
    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        self.write_bytes(bytes);
    }
}

impl JsonOut for Vec<u8> {
    fn varint(&mut self, v: u64) {
        let mut tmp = [0u8; varint::MAX_VARINT_U64];
        let n = varint::write_u64(&mut tmp, v).unwrap_or(tmp.len());
        self.extend_from_slice(&tmp[..n]);
    }
    fn bytes(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

#[inline]
fn kind(out: &mut impl JsonOut, kind: JsonKind) {
    out.varint(kind as u64);
}

/// `null`.
#[inline]
pub(crate) fn null(out: &mut impl JsonOut) {
    kind(out, JsonKind::Null);
}

/// `true` or `false`.
#[inline]
pub(crate) fn bool(out: &mut impl JsonOut, v: bool) {
    kind(out, if v { JsonKind::True } else { JsonKind::False });
}

/// A non-negative integer.
#[inline]
pub(crate) fn u64(out: &mut impl JsonOut, v: u64) {
    kind(out, JsonKind::U64);
    out.varint(v);
}

/// An integer: the non-negative ones are written as [`u64`] (as
/// `serde_json` reads them), so equal numbers are equal bytes.
#[inline]
pub(crate) fn i64(out: &mut impl JsonOut, v: i64) {
    match u64::try_from(v) {
        Ok(v) => self::u64(out, v),
        Err(_) => {
            kind(out, JsonKind::I64);
            out.varint(varint::zigzag_i64(v));
        }
    }
}

/// A 128-bit integer: a number when it fits 64 bits, else its decimal
/// text (JSON numbers that large lose precision in most readers).
pub(crate) fn u128(out: &mut impl JsonOut, v: u128) {
    match u64::try_from(v) {
        Ok(v) => self::u64(out, v),
        Err(_) => number_text(out, v),
    }
}

/// See [`u128`].
pub(crate) fn i128(out: &mut impl JsonOut, v: i128) {
    match i64::try_from(v) {
        Ok(v) => self::i64(out, v),
        Err(_) => number_text(out, v),
    }
}

fn number_text(out: &mut impl JsonOut, v: impl std::fmt::Display) {
    str(out, crate::value::FormattedStr::display(&v).as_str());
}

/// Any other number (non-finite ones decode as `"NaN"`, `"inf"`, `"-inf"`).
#[inline]
pub(crate) fn f64(out: &mut impl JsonOut, v: f64) {
    kind(out, JsonKind::F64);
    out.bytes(&v.to_le_bytes());
}

/// A string.
#[inline]
pub(crate) fn str(out: &mut impl JsonOut, v: &str) {
    kind(out, JsonKind::String);
    out.varint(v.len() as u64);
    out.bytes(v.as_bytes());
}

/// An array of `len` values, which follow.
pub(crate) fn array(out: &mut impl JsonOut, len: usize) {
    kind(out, JsonKind::Array);
    out.varint(len as u64);
}

/// An object of `len` members, which follow, each a [`key`] then a value.
pub(crate) fn object(out: &mut impl JsonOut, len: usize) {
    kind(out, JsonKind::Object);
    out.varint(len as u64);
}

/// An object member's key.
#[inline]
pub(crate) fn key(out: &mut impl JsonOut, key: &str) {
    out.varint(key.len() as u64);
    out.bytes(key.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_and_a_vec_write_the_same_bytes() {
        fn write(out: &mut impl JsonOut) {
            object(out, 2);
            key(out, "n");
            array(out, 5);
            i64(out, 3);
            i64(out, -3);
            u128(out, u128::MAX);
            f64(out, 0.5);
            bool(out, true);
            key(out, "s");
            str(out, "x");
        }
        let mut vec = Vec::new();
        write(&mut vec);
        let mut buf = [0u8; 128];
        let mut enc = Encoder::new(&mut buf);
        write(&mut enc);
        assert_eq!(enc.written(), &vec[..]);
        let max = u128::MAX.to_string();
        let mut expected = vec![JsonKind::Object as u8, 2, 1, b'n', JsonKind::Array as u8, 5];
        expected.extend([JsonKind::U64 as u8, 3, JsonKind::I64 as u8, 5, JsonKind::String as u8, max.len() as u8]);
        expected.extend(max.as_bytes());
        expected.push(JsonKind::F64 as u8);
        expected.extend(0.5f64.to_le_bytes());
        expected.extend([JsonKind::True as u8, 1, b's', JsonKind::String as u8, 1, b'x']);
        assert_eq!(vec, expected);
    }
}
