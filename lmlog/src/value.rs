//! Field values: how a Rust value is described ([`LogValue::TYPE`]) and
//! written ([`LogValue::encode`]) in postcard's encoding, without allocating.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use lmlog_format::varint;
use lmlog_format::TypeDesc;

/// Writes a record's bytes into a fixed slice of a staging buffer.
///
/// Writes past the end of the slice are not performed; they set
/// [`Encoder::overflowed`] instead, and the caller retries with more room.
/// Encoding is a pure function of the value, so a retry writes the same bytes.
#[derive(Debug)]
pub struct Encoder<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflowed: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder writing at the start of `buf`.
    #[inline(always)]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Encoder { buf, pos: 0, overflowed: false }
    }

    /// Bytes written so far (meaningless once [`Self::overflowed`]).
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether a write did not fit.
    #[inline(always)]
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Writes raw bytes.
    #[inline(always)]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        match self.buf.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.pos = end;
            }
            None => self.overflowed = true,
        }
    }

    /// Writes one raw byte.
    #[inline(always)]
    pub fn write_u8(&mut self, b: u8) {
        match self.buf.get_mut(self.pos) {
            Some(dst) => {
                *dst = b;
                self.pos += 1;
            }
            None => self.overflowed = true,
        }
    }

    /// Writes an unsigned varint.
    #[inline(always)]
    pub fn write_varint(&mut self, v: u64) {
        let at = self.pos.min(self.buf.len());
        match varint::write_u64(&mut self.buf[at..], v) {
            Some(n) => self.pos += n,
            None => self.overflowed = true,
        }
    }

    /// Writes an unsigned 128-bit varint.
    #[inline]
    pub fn write_varint_u128(&mut self, v: u128) {
        let at = self.pos.min(self.buf.len());
        match varint::write_u128(&mut self.buf[at..], v) {
            Some(n) => self.pos += n,
            None => self.overflowed = true,
        }
    }

    /// Writes a signed integer as a zigzag varint.
    #[inline(always)]
    pub fn write_signed(&mut self, v: i64) {
        self.write_varint(varint::zigzag_i64(v));
    }

    /// Writes a length-prefixed byte string.
    #[inline(always)]
    pub fn write_len_prefixed(&mut self, bytes: &[u8]) {
        self.write_varint(bytes.len() as u64);
        self.write_bytes(bytes);
    }
}

/// A value that can be a field of an event.
///
/// Implemented for integers, floats, `bool`, `char`, strings, `Option`,
/// sequences, arrays, tuples, maps and smart pointers; derive it for your
/// own structs and enums with `#[derive(LogValue)]`.
///
/// ```
/// use lmlog::{LogValue, Encoder};
/// let mut buf = [0u8; 16];
/// let mut enc = Encoder::new(&mut buf);
/// (7u32, "ab").encode(&mut enc);
/// assert_eq!(enc.written(), &[7, 2, b'a', b'b']);
/// ```
pub trait LogValue {
    /// How the value is laid out; written into the stream's schema.
    const TYPE: &'static TypeDesc;

    /// Writes the value in postcard's encoding.
    fn encode(&self, enc: &mut Encoder<'_>);

    /// Writes a slice of values; integers of one byte override this to copy
    /// the slice at once.
    #[doc(hidden)]
    #[inline]
    fn encode_slice(items: &[Self], enc: &mut Encoder<'_>)
    where
        Self: Sized,
    {
        for item in items {
            item.encode(enc);
        }
    }
}

macro_rules! unsigned {
    ($($t:ty => $d:ident),*) => {$(
        impl LogValue for $t {
            const TYPE: &'static TypeDesc = &TypeDesc::$d;
            #[inline(always)]
            fn encode(&self, enc: &mut Encoder<'_>) {
                enc.write_varint(*self as u64);
            }
        }
    )*};
}
unsigned!(u16 => U16, u32 => U32, u64 => U64, usize => U64);

macro_rules! signed {
    ($($t:ty => $d:ident),*) => {$(
        impl LogValue for $t {
            const TYPE: &'static TypeDesc = &TypeDesc::$d;
            #[inline(always)]
            fn encode(&self, enc: &mut Encoder<'_>) {
                enc.write_signed(*self as i64);
            }
        }
    )*};
}
signed!(i16 => I16, i32 => I32, i64 => I64, isize => I64);

impl LogValue for u8 {
    const TYPE: &'static TypeDesc = &TypeDesc::U8;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_u8(*self);
    }
    #[inline]
    fn encode_slice(items: &[Self], enc: &mut Encoder<'_>) {
        enc.write_bytes(items);
    }
}

impl LogValue for i8 {
    const TYPE: &'static TypeDesc = &TypeDesc::I8;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_u8(*self as u8);
    }
}

impl LogValue for u128 {
    const TYPE: &'static TypeDesc = &TypeDesc::U128;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint_u128(*self);
    }
}

impl LogValue for i128 {
    const TYPE: &'static TypeDesc = &TypeDesc::I128;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint_u128(varint::zigzag_i128(*self));
    }
}

impl LogValue for bool {
    const TYPE: &'static TypeDesc = &TypeDesc::Bool;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_u8(*self as u8);
    }
}

impl LogValue for f32 {
    const TYPE: &'static TypeDesc = &TypeDesc::F32;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_bytes(&self.to_le_bytes());
    }
}

impl LogValue for f64 {
    const TYPE: &'static TypeDesc = &TypeDesc::F64;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_bytes(&self.to_le_bytes());
    }
}

impl LogValue for char {
    const TYPE: &'static TypeDesc = &TypeDesc::Char;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        let mut tmp = [0u8; 4];
        enc.write_len_prefixed(self.encode_utf8(&mut tmp).as_bytes());
    }
}

impl LogValue for () {
    const TYPE: &'static TypeDesc = &TypeDesc::Unit;
    #[inline(always)]
    fn encode(&self, _enc: &mut Encoder<'_>) {}
}

impl LogValue for str {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.as_bytes());
    }
}

impl LogValue for String {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.as_bytes());
    }
}

impl LogValue for Cow<'_, str> {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.as_bytes());
    }
}

/// A byte string, written as such and rendered in JSON as lowercase hex.
///
/// A plain `&[u8]` or `Vec<u8>` is a sequence of numbers; wrap it in
/// `Bytes` when the bytes are opaque data (a hash, a packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes<'a>(pub &'a [u8]);

impl LogValue for Bytes<'_> {
    const TYPE: &'static TypeDesc = &TypeDesc::Bytes;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.0);
    }
}

impl<T: LogValue + ?Sized> LogValue for &T {
    const TYPE: &'static TypeDesc = T::TYPE;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        (**self).encode(enc)
    }
}

impl<T: LogValue + ?Sized> LogValue for &mut T {
    const TYPE: &'static TypeDesc = T::TYPE;
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        (**self).encode(enc)
    }
}

macro_rules! pointer {
    ($($p:ident),*) => {$(
        impl<T: LogValue + ?Sized> LogValue for $p<T> {
            const TYPE: &'static TypeDesc = T::TYPE;
            #[inline(always)]
            fn encode(&self, enc: &mut Encoder<'_>) {
                (**self).encode(enc)
            }
        }
    )*};
}
pointer!(Box, Rc, Arc);

impl<T: LogValue> LogValue for Option<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Option(T::TYPE);
    #[inline(always)]
    fn encode(&self, enc: &mut Encoder<'_>) {
        match self {
            None => enc.write_u8(0),
            Some(v) => {
                enc.write_u8(1);
                v.encode(enc);
            }
        }
    }
}

impl<T: LogValue> LogValue for [T] {
    const TYPE: &'static TypeDesc = &TypeDesc::Seq(T::TYPE);
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.len() as u64);
        T::encode_slice(self, enc);
    }
}

impl<T: LogValue> LogValue for Vec<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Seq(T::TYPE);
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.as_slice().encode(enc)
    }
}

impl<T: LogValue> LogValue for VecDeque<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Seq(T::TYPE);
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.len() as u64);
        for item in self {
            item.encode(enc);
        }
    }
}

impl<T: LogValue, const N: usize> LogValue for [T; N] {
    const TYPE: &'static TypeDesc = &TypeDesc::Array(N as u32, T::TYPE);
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        T::encode_slice(self, enc);
    }
}

macro_rules! set {
    ($($s:ident $(: $bound:path)?),*) => {$(
        impl<T: LogValue $(+ $bound)?, S> LogValue for $s<T, S> {
            const TYPE: &'static TypeDesc = &TypeDesc::Seq(T::TYPE);
            fn encode(&self, enc: &mut Encoder<'_>) {
                enc.write_varint(self.len() as u64);
                for item in self {
                    item.encode(enc);
                }
            }
        }
    )*};
}
set!(HashSet);

impl<T: LogValue> LogValue for BTreeSet<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Seq(T::TYPE);
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.len() as u64);
        for item in self {
            item.encode(enc);
        }
    }
}

impl<K: LogValue, V: LogValue, S> LogValue for HashMap<K, V, S> {
    const TYPE: &'static TypeDesc = &TypeDesc::Map(K::TYPE, V::TYPE);
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.len() as u64);
        for (k, v) in self {
            k.encode(enc);
            v.encode(enc);
        }
    }
}

impl<K: LogValue, V: LogValue> LogValue for BTreeMap<K, V> {
    const TYPE: &'static TypeDesc = &TypeDesc::Map(K::TYPE, V::TYPE);
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.len() as u64);
        for (k, v) in self {
            k.encode(enc);
            v.encode(enc);
        }
    }
}

macro_rules! tuple {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: LogValue),+> LogValue for ($($t,)+) {
            const TYPE: &'static TypeDesc = &TypeDesc::Tuple(&[$(*$t::TYPE),+]);
            #[inline]
            fn encode(&self, enc: &mut Encoder<'_>) {
                $(self.$n.encode(enc);)+
            }
        }
    )*};
}
tuple! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L)
}

/// `std::time::Duration` is written as serde writes it: seconds (`u64`)
/// then nanoseconds (`u32`).
impl LogValue for std::time::Duration {
    const TYPE: &'static TypeDesc = &TypeDesc::Struct(
        "Duration",
        &[
            lmlog_format::FieldDesc { name: "secs", ty: &TypeDesc::U64, redacted: false },
            lmlog_format::FieldDesc { name: "nanos", ty: &TypeDesc::U32, redacted: false },
        ],
    );
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint(self.as_secs());
        enc.write_varint(self.subsec_nanos() as u64);
    }
}

/// A value captured with `%value` (`Display`) or `?value` (`Debug`) in
/// [`lm_event!`](crate::lm_event): formatted eagerly on the calling thread
/// and written as a string. Text up to [`FormattedStr::INLINE`] bytes stays on
/// the stack; only longer text allocates.
pub struct FormattedStr {
    inline: [u8; FormattedStr::INLINE],
    len: usize,
    spilled: Option<String>,
}

impl FormattedStr {
    /// Bytes formatted without allocating.
    pub const INLINE: usize = 192;

    /// Formats `value` with `Display`.
    #[inline]
    pub fn display<T: std::fmt::Display + ?Sized>(value: &T) -> FormattedStr {
        let mut s = FormattedStr::empty();
        // Display impls may return Err; what was written so far is kept.
        let _ = std::fmt::write(&mut s, format_args!("{value}"));
        s
    }

    /// Formats `value` with `Debug`.
    #[inline]
    pub fn debug<T: std::fmt::Debug + ?Sized>(value: &T) -> FormattedStr {
        let mut s = FormattedStr::empty();
        let _ = std::fmt::write(&mut s, format_args!("{value:?}"));
        s
    }

    fn empty() -> FormattedStr {
        FormattedStr { inline: [0; FormattedStr::INLINE], len: 0, spilled: None }
    }

    /// The formatted text.
    pub fn as_str(&self) -> &str {
        match &self.spilled {
            Some(s) => s,
            // Only whole `&str`s are ever appended to `inline`.
            None => std::str::from_utf8(&self.inline[..self.len]).unwrap_or_default(),
        }
    }
}

impl std::fmt::Write for FormattedStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if let Some(spilled) = &mut self.spilled {
            spilled.push_str(s);
        } else if let Some(dst) = self.inline.get_mut(self.len..self.len + s.len()) {
            dst.copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut spilled = String::with_capacity((self.len + s.len()) * 2);
            spilled.push_str(self.as_str());
            spilled.push_str(s);
            self.spilled = Some(spilled);
        }
        Ok(())
    }
}

impl std::fmt::Debug for FormattedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl LogValue for FormattedStr {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.as_str().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode<T: LogValue + ?Sized>(v: &T) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let mut enc = Encoder::new(&mut buf);
        v.encode(&mut enc);
        assert!(!enc.overflowed());
        let n = enc.position();
        buf.truncate(n);
        buf
    }

    /// Our encoder must produce exactly what postcard (through serde) produces.
    fn same_as_postcard<T: LogValue + serde::Serialize + ?Sized>(v: &T) {
        assert_eq!(encode(v), postcard::to_allocvec(v).unwrap(), "{}", std::any::type_name::<T>());
    }

    #[test]
    fn matches_postcard_for_every_supported_type() {
        same_as_postcard(&true);
        same_as_postcard(&0xabu8);
        same_as_postcard(&-3i8);
        same_as_postcard(&u16::MAX);
        same_as_postcard(&-40000i32);
        same_as_postcard(&u64::MAX);
        same_as_postcard(&i64::MIN);
        same_as_postcard(&usize::MAX);
        same_as_postcard(&isize::MIN);
        same_as_postcard(&u128::MAX);
        same_as_postcard(&i128::MIN);
        same_as_postcard(&1.5f32);
        same_as_postcard(&f64::NAN);
        same_as_postcard(&'ß');
        same_as_postcard("héllo \"\n");
        same_as_postcard(&String::new());
        same_as_postcard(&Some(3u8));
        same_as_postcard(&None::<u32>);
        same_as_postcard(&vec![1u8, 2, 3]);
        same_as_postcard(&[1u16, 300, 60000][..]);
        same_as_postcard(&[7u32; 3]);
        same_as_postcard(&(1u8, "x", -1i64));
        same_as_postcard(&vec!["a".to_string(), "b".into()]);
        let mut m = BTreeMap::new();
        m.insert("k".to_string(), vec![1.0f64]);
        same_as_postcard(&m);
        same_as_postcard(&std::time::Duration::new(5, 7));
        same_as_postcard(&());
    }

    #[test]
    fn formatted_values_spill_only_when_long() {
        let short = FormattedStr::display(&format_args!("{}-{}", 1, "two"));
        assert_eq!(short.as_str(), "1-two");
        assert!(short.spilled.is_none());
        let long = FormattedStr::debug(&"x".repeat(500));
        assert_eq!(long.as_str(), format!("{:?}", "x".repeat(500)));
        assert_eq!(encode(&short), postcard::to_allocvec("1-two").unwrap());
    }

    #[test]
    fn overflow_is_reported_not_written_past() {
        let mut buf = [0u8; 3];
        let mut enc = Encoder::new(&mut buf);
        "abcdef".encode(&mut enc);
        assert!(enc.overflowed());
        let mut buf = [0u8; 3];
        let mut enc = Encoder::new(&mut buf);
        u64::MAX.encode(&mut enc);
        assert!(enc.overflowed());
    }
}
