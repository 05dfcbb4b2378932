//! Field values: how a Rust value is described ([`LogValue::TYPE`]) and
//! written ([`LogValue::encode`]) in postcard's encoding, without allocating.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use lmlog_format::varint;
use lmlog_format::TypeDesc;

mod external;
pub(crate) mod json;
mod std_types;

pub use std_types::ErrorSources;

/// Writes a record's bytes into a fixed slice of a staging buffer.
///
/// Writes past the end of the slice are not performed; they set
/// [`Encoder::overflowed`] instead, and the caller retries with more room.
/// Encoding is a pure function of the value, so a retry writes the same bytes.
///
/// The encoder runs on the calling thread for every event, so it keeps raw
/// cursors and checks room once per write rather than once per byte.
#[derive(Debug)]
pub struct Encoder<'a> {
    start: *mut u8,
    pos: *mut u8,
    end: *mut u8,
    /// Bytes of writes that did not fit (after the first, none fit); not 0
    /// once one did not, as a write that does not fit has at least a byte.
    /// (No separate flag: the encoder is four words, moved without
    /// padding.)
    missing: usize,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> Encoder<'a> {
    /// An encoder writing at the start of `buf`.
    #[inline(always)]
    pub fn new(buf: &'a mut [u8]) -> Self {
        let range = buf.as_mut_ptr_range();
        Encoder { start: range.start, pos: range.start, end: range.end, missing: 0, _buf: PhantomData }
    }

    /// Bytes written so far (meaningless once [`Self::overflowed`]).
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos as usize - self.start as usize
    }

    #[inline(always)]
    pub(crate) fn room(&self) -> usize {
        self.end as usize - self.pos as usize
    }

    /// Whether a write did not fit.
    #[inline(always)]
    pub fn overflowed(&self) -> bool {
        self.missing != 0
    }

    /// Bytes the whole encoding needs: what was written plus what did not
    /// fit (once a write does not fit, no later one is written, so the
    /// count is exact).
    pub fn required(&self) -> usize {
        self.position() + self.missing
    }

    /// A write of `len` bytes did not fit: nothing more is written.
    #[inline(always)]
    fn overflow(&mut self, len: usize) {
        self.out_of_line(|enc| enc.overflowed_by(len))
    }

    #[cold]
    #[inline(never)]
    fn overflowed_by(mut self, len: usize) -> Self {
        debug_assert!(len > 0, "a write that does not fit has a byte");
        self.end = self.pos;
        self.missing += len;
        self
    }

    /// Runs a cold write on this encoder moved out of `self`, and moves the
    /// result back. A call that took `&mut self` would let the encoder's
    /// address escape, and the compiler would then keep the cursors in
    /// memory around every write of the record (a store and a reload per
    /// field); moved by value only the cold branch touches memory, and the
    /// hot path keeps them in registers.
    #[inline(always)]
    pub(crate) fn out_of_line(&mut self, write: impl FnOnce(Self) -> Self) {
        // SAFETY: `Encoder` has no destructor and holds only raw pointers
        // and integers, so the bitwise copy is a plain move of its state;
        // the result replaces `*self` (whose old value needs no drop), and
        // only one of the two is used at any time.
        let moved = unsafe { std::ptr::read(self) };
        let written = write(moved);
        // SAFETY: `self` is valid for writes; the old value has no drop glue.
        unsafe { std::ptr::write(self, written) };
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        // SAFETY: `start..pos` lies within the borrowed buffer and holds
        // bytes this encoder wrote; the borrow lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.start, self.position()) }
    }

    /// Writes raw bytes.
    #[inline(always)]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        if len > self.room() {
            return self.overflow(len);
        }
        // SAFETY: `len <= room`, so `pos..pos + len` is inside the buffer,
        // which does not overlap `bytes` (the encoder borrows it mutably).
        unsafe {
            copy_short(bytes.as_ptr(), self.pos, len);
            self.pos = self.pos.add(len);
        }
    }

    /// Writes the first `len % N` bytes of `bytes` (`N` a power of two).
    /// With room for all `N` it copies them all and keeps `len % N`: a copy
    /// of a constant size, with no branch on the length, for short blocks
    /// built ahead.
    #[inline(always)]
    pub(crate) fn write_prefix<const N: usize>(&mut self, bytes: &[u8; N], len: usize) {
        const { assert!(N.is_power_of_two()) };
        let len = len & (N - 1);
        if N > self.room() {
            return self.out_of_line(|enc| enc.with_bytes(&bytes[..len]));
        }
        // SAFETY: `N <= room`, so `pos..pos + N` is inside the buffer, which
        // does not overlap `bytes`; `len <= N` keeps `pos` inside it too.
        // The bytes past `len` are overwritten by the next write or lie
        // beyond the record's end.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.pos, N);
            self.pos = self.pos.add(len);
        }
    }

    /// [`Self::write_bytes`] out of line (see [`Self::out_of_line`]), for
    /// the rare case of a caller whose fast path is a copy of a constant
    /// size.
    #[cold]
    #[inline(never)]
    fn with_bytes(mut self, bytes: &[u8]) -> Self {
        self.write_bytes(bytes);
        self
    }

    /// Writes one raw byte.
    #[inline(always)]
    pub fn write_u8(&mut self, b: u8) {
        if self.pos == self.end {
            return self.overflow(1);
        }
        // SAFETY: `pos < end`, so `pos` is inside the buffer.
        unsafe {
            self.pos.write(b);
            self.pos = self.pos.add(1);
        }
    }

    /// Writes an unsigned varint.
    #[inline(always)]
    pub fn write_varint(&mut self, v: u64) {
        if self.room() < varint::MAX_VARINT_U64 {
            return self.out_of_line(|enc| enc.with_varint_near_end(v));
        }
        // SAFETY: a varint of a u64 takes at most `MAX_VARINT_U64` bytes and that
        // many are left before `end`.
        self.pos = unsafe { put_varint(self.pos, v) };
    }

    /// A varint near the end of the room, byte by byte (see
    /// [`Self::out_of_line`]).
    #[cold]
    #[inline(never)]
    fn with_varint_near_end(mut self, v: u64) -> Self {
        let mut tmp = [0u8; varint::MAX_VARINT_U64];
        let n = varint::write_u64(&mut tmp, v).unwrap_or(varint::MAX_VARINT_U64);
        self.write_bytes(&tmp[..n]);
        self
    }

    /// Writes an unsigned 128-bit varint.
    #[inline]
    pub fn write_varint_u128(&mut self, v: u128) {
        let mut tmp = [0u8; varint::MAX_VARINT_U128];
        let n = varint::write_u128(&mut tmp, v).unwrap_or(tmp.len());
        self.write_bytes(&tmp[..n]);
    }

    /// Writes an unsigned 128-bit varint, as fast as a `u64` one when the
    /// value fits in 64 bits (the bytes are the same either way).
    #[inline(always)]
    pub(crate) fn write_varint_u128_fast(&mut self, v: u128) {
        match u64::try_from(v) {
            Ok(small) => self.write_varint(small),
            Err(_) => self.write_varint_u128(v),
        }
    }

    /// Writes a signed 128-bit integer as a zigzag varint (see
    /// [`write_varint_u128_fast`](Self::write_varint_u128_fast)).
    #[inline(always)]
    pub(crate) fn write_signed_i128(&mut self, v: i128) {
        self.write_varint_u128_fast(varint::zigzag_i128(v));
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

/// An [`Encoder`] whose caller has checked, once for the whole record,
/// that the room left holds everything the record writes (each value's
/// [`LogValue::encoded_len_bound`]): its writes make no room check.
///
/// A value type without a bound is written through
/// [`Prechecked::checked`], with checks, as by [`LogValue::encode`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Prechecked<'a>(Encoder<'a>);

impl<'a> Prechecked<'a> {
    /// An encoder that makes no room check.
    ///
    /// # Safety
    /// Every write made through the result must fit in the room `enc` has
    /// left: the caller has checked the room against the writes' bounds.
    #[inline(always)]
    pub(crate) unsafe fn new(enc: Encoder<'a>) -> Self {
        Prechecked(enc)
    }

    /// The encoder, with the writes made so far.
    #[inline(always)]
    pub(crate) fn into_inner(self) -> Encoder<'a> {
        self.0
    }

    /// The same encoder, making room checks: for values whose size is not
    /// bounded in advance.
    #[inline(always)]
    pub fn checked(&mut self) -> &mut Encoder<'a> {
        &mut self.0
    }

    /// Writes raw bytes.
    ///
    /// # Safety
    /// `bytes.len()` bytes of room are left.
    #[inline(always)]
    pub(crate) unsafe fn write_bytes(&mut self, bytes: &[u8]) {
        // SAFETY: the caller guarantees the room, and the buffer does not
        // overlap `bytes` (the encoder borrows it mutably).
        unsafe {
            copy_short(bytes.as_ptr(), self.0.pos, bytes.len());
            self.0.pos = self.0.pos.add(bytes.len());
        }
    }

    /// Writes one raw byte.
    ///
    /// # Safety
    /// One byte of room is left.
    #[inline(always)]
    pub(crate) unsafe fn write_u8(&mut self, b: u8) {
        // SAFETY: the caller guarantees the room.
        unsafe {
            self.0.pos.write(b);
            self.0.pos = self.0.pos.add(1);
        }
    }

    /// Writes an unsigned varint.
    ///
    /// # Safety
    /// [`varint::MAX_VARINT_U64`] bytes of room are left.
    #[inline(always)]
    pub(crate) unsafe fn write_varint(&mut self, v: u64) {
        // SAFETY: a varint of a u64 takes at most `MAX_VARINT_U64` bytes,
        // which the caller guarantees are left.
        self.0.pos = unsafe { put_varint(self.0.pos, v) };
    }

    /// Writes a signed integer as a zigzag varint.
    ///
    /// # Safety
    /// As [`Self::write_varint`].
    #[inline(always)]
    pub(crate) unsafe fn write_signed(&mut self, v: i64) {
        // SAFETY: the caller's guarantee, passed on.
        unsafe { self.write_varint(varint::zigzag_i64(v)) }
    }

    /// Writes a length-prefixed byte string.
    ///
    /// # Safety
    /// [`varint::MAX_VARINT_U64`] `+ bytes.len()` bytes of room are left.
    #[inline(always)]
    pub(crate) unsafe fn write_len_prefixed(&mut self, bytes: &[u8]) {
        // SAFETY: the caller's guarantee covers the prefix and the bytes.
        unsafe {
            self.write_varint(bytes.len() as u64);
            self.write_bytes(bytes);
        }
    }

    /// As [`Encoder::write_prefix`]: copies all `N` bytes and keeps
    /// `len % N`.
    ///
    /// # Safety
    /// `N` bytes of room are left.
    #[inline(always)]
    pub(crate) unsafe fn write_prefix<const N: usize>(&mut self, bytes: &[u8; N], len: usize) {
        const { assert!(N.is_power_of_two()) };
        // SAFETY: `N` bytes of room, which the caller guarantees, hold the
        // copy; `len % N < N` keeps `pos` inside them. The bytes past it are
        // overwritten by the next write or lie beyond the record's end.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.0.pos, N);
            self.0.pos = self.0.pos.add(len & (N - 1));
        }
    }
}

/// The room a length-prefixed string of `len` bytes needs at most.
#[inline(always)]
const fn len_prefixed_bound(len: usize) -> usize {
    varint::MAX_VARINT_U64 + len
}

/// Implements [`LogValue`]'s `encode` and, from the same body, its
/// prechecked twin with the bound `$bound`: the body's writes are the same
/// calls on [`Encoder`] (checked) and on [`Prechecked`] (unchecked).
macro_rules! bounded_encode {
    (|$this:ident, $enc:ident| $body:expr, bound = $bound:expr) => {
        #[inline(always)]
        fn encode(&self, $enc: &mut Encoder<'_>) {
            let $this = self;
            $body
        }

        const BOUNDED: bool = true;

        #[inline(always)]
        fn encoded_len_bound(&self) -> usize {
            #[allow(unused_variables)]
            let $this = self;
            $bound
        }

        #[inline(always)]
        unsafe fn encode_prechecked(&self, $enc: &mut Prechecked<'_>) {
            let $this = self;
            // SAFETY: the caller guarantees room for `encoded_len_bound`,
            // which bounds every write of the body.
            #[allow(unused_unsafe)]
            unsafe {
                $body
            }
        }
    };
}

/// Writes `v` as a varint at `p`; returns the address after it.
///
/// # Safety
/// [`varint::MAX_VARINT_U64`] bytes from `p` are writable.
#[inline(always)]
unsafe fn put_varint(mut p: *mut u8, mut v: u64) -> *mut u8 {
    // SAFETY: at most `MAX_VARINT_U64` bytes are written, as the caller
    // guarantees room for.
    unsafe {
        while v >= 0x80 {
            p.write(v as u8 | 0x80);
            p = p.add(1);
            v >>= 7;
        }
        p.write(v as u8);
        p.add(1)
    }
}

/// Copies `len` bytes without a call into `memcpy` for the short strings
/// most fields hold: two overlapping loads and stores cover any length
/// between a width and twice that width.
///
/// # Safety
/// `src..src + len` must be readable, `dst..dst + len` writable, and the two
/// must not overlap.
#[inline(always)]
unsafe fn copy_short(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY (all branches): every access is within the first `len` bytes of
    // `src` and `dst`, as the caller guarantees; unaligned accesses are used.
    unsafe {
        if len > 16 {
            std::ptr::copy_nonoverlapping(src, dst, len);
        } else if len >= 8 {
            let head = src.cast::<u64>().read_unaligned();
            let tail = src.add(len - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(head);
            dst.add(len - 8).cast::<u64>().write_unaligned(tail);
        } else if len >= 4 {
            let head = src.cast::<u32>().read_unaligned();
            let tail = src.add(len - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(head);
            dst.add(len - 4).cast::<u32>().write_unaligned(tail);
        } else if len > 0 {
            dst.write(src.read());
            dst.add(len / 2).write(src.add(len / 2).read());
            dst.add(len - 1).write(src.add(len - 1).read());
        }
    }
}

/// A value that can be a field of an event.
///
/// Implemented for integers, floats, `bool`, `char`, strings, `Option`,
/// sequences, arrays, tuples, maps and smart pointers; for `Duration` (a
/// number of nanoseconds), `SystemTime` (decoded as RFC 3339 text), IP and
/// socket addresses, paths and OS strings (as lossy UTF-8 text) and errors
/// (`&dyn Error`, `Box<dyn Error>`, `io::Error`: their message and their
/// `source()` chain); with cargo features, for `uuid::Uuid`,
/// `chrono::DateTime`, `time::OffsetDateTime` and `serde_json::Value`.
/// Derive it for your own structs and enums with `#[derive(LogValue)]`; for
/// any other type, log its `Display` or `Debug` text (`%value` or `?value`
/// in [`lm_event!`](crate::lm_event), `#[lmlog(display)]` or
/// `#[lmlog(debug)]` on a derived field).
///
/// Paths, OS strings and errors are formatted into the record on the
/// calling thread: they cost what their formatting costs. Everything else
/// is copied in binary form.
///
/// ```
/// use lmlog::{LogValue, Encoder};
/// let mut buf = [0u8; 16];
/// let mut enc = Encoder::new(&mut buf);
/// (7u32, "ab").encode(&mut enc);
/// assert_eq!(enc.written(), &[7, 2, b'a', b'b']);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of an lmlog event: it does not implement `LogValue`",
    label = "`{Self}` is not a loggable field type",
    note = "log its text instead: `%value` (Display) or `?value` (Debug) in `lm_event!`, \
            `#[lmlog(display)]` or `#[lmlog(debug)]` on a derived field",
    note = "or derive it for your own type: `#[derive(LogValue)]`"
)]
pub trait LogValue {
    /// How the value is laid out; written into the stream's schema.
    const TYPE: &'static TypeDesc;

    /// Writes the value in postcard's encoding.
    fn encode(&self, enc: &mut Encoder<'_>);

    /// Whether [`Self::encoded_len_bound`] bounds what the value writes and
    /// [`Self::encode_prechecked`] writes it without room checks: then a
    /// record of such values checks its room once. `false` by default.
    #[doc(hidden)]
    const BOUNDED: bool = false;

    /// The most bytes [`Self::encode`] writes for this value (meaningful
    /// only when [`Self::BOUNDED`]).
    #[doc(hidden)]
    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        usize::MAX
    }

    /// Writes what [`Self::encode`] writes, into room the caller checked.
    ///
    /// # Safety
    /// The encoder has room for [`Self::encoded_len_bound`] more bytes, and
    /// [`Self::BOUNDED`] holds. An implementation must write no more than
    /// its bound.
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn encode_prechecked(&self, enc: &mut Prechecked<'_>) {
        self.encode(enc.checked())
    }

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
            bounded_encode!(|v, enc| enc.write_varint(*v as u64), bound = varint::MAX_VARINT_U64);
        }
    )*};
}
unsigned!(u16 => U16, u32 => U32, u64 => U64, usize => U64);

macro_rules! signed {
    ($($t:ty => $d:ident),*) => {$(
        impl LogValue for $t {
            const TYPE: &'static TypeDesc = &TypeDesc::$d;
            bounded_encode!(|v, enc| enc.write_signed(*v as i64), bound = varint::MAX_VARINT_U64);
        }
    )*};
}
signed!(i16 => I16, i32 => I32, i64 => I64, isize => I64);

impl LogValue for u8 {
    const TYPE: &'static TypeDesc = &TypeDesc::U8;
    bounded_encode!(|v, enc| enc.write_u8(*v), bound = 1);
    #[inline]
    fn encode_slice(items: &[Self], enc: &mut Encoder<'_>) {
        enc.write_bytes(items);
    }
}

impl LogValue for i8 {
    const TYPE: &'static TypeDesc = &TypeDesc::I8;
    bounded_encode!(|v, enc| enc.write_u8(*v as u8), bound = 1);
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
    bounded_encode!(|v, enc| enc.write_u8(*v as u8), bound = 1);
}

impl LogValue for f32 {
    const TYPE: &'static TypeDesc = &TypeDesc::F32;
    bounded_encode!(|v, enc| enc.write_bytes(&v.to_le_bytes()), bound = 4);
}

impl LogValue for f64 {
    const TYPE: &'static TypeDesc = &TypeDesc::F64;
    bounded_encode!(|v, enc| enc.write_bytes(&v.to_le_bytes()), bound = 8);
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
    bounded_encode!(|v, enc| enc.write_len_prefixed(v.as_bytes()), bound = len_prefixed_bound(v.len()));
}

impl LogValue for String {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    bounded_encode!(|v, enc| enc.write_len_prefixed(v.as_bytes()), bound = len_prefixed_bound(v.len()));
}

impl LogValue for Cow<'_, str> {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    bounded_encode!(|v, enc| enc.write_len_prefixed(v.as_bytes()), bound = len_prefixed_bound(v.len()));
}

/// A byte string, written as such and rendered in JSON as lowercase hex.
///
/// A plain `&[u8]` or `Vec<u8>` is a sequence of numbers; wrap it in
/// `Bytes` when the bytes are opaque data (a hash, a packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes<'a>(pub &'a [u8]);

impl LogValue for Bytes<'_> {
    const TYPE: &'static TypeDesc = &TypeDesc::Bytes;
    bounded_encode!(|v, enc| enc.write_len_prefixed(v.0), bound = len_prefixed_bound(v.0.len()));
}

/// A reference or smart pointer logs as the value it points to.
macro_rules! pointer {
    ($($p:ty),*) => {$(
        impl<T: LogValue + ?Sized> LogValue for $p {
            const TYPE: &'static TypeDesc = T::TYPE;
            const BOUNDED: bool = T::BOUNDED;
            #[inline(always)]
            fn encode(&self, enc: &mut Encoder<'_>) {
                (**self).encode(enc)
            }
            #[inline(always)]
            fn encoded_len_bound(&self) -> usize {
                (**self).encoded_len_bound()
            }
            #[inline(always)]
            unsafe fn encode_prechecked(&self, enc: &mut Prechecked<'_>) {
                // SAFETY: the caller's guarantee, for the same value.
                unsafe { (**self).encode_prechecked(enc) }
            }
        }
    )*};
}
pointer!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<T: LogValue> LogValue for Option<T> {
    const TYPE: &'static TypeDesc = &TypeDesc::Option(T::TYPE);
    const BOUNDED: bool = T::BOUNDED;
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
    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        match self {
            None => 1,
            Some(v) => v.encoded_len_bound().saturating_add(1),
        }
    }
    #[inline(always)]
    unsafe fn encode_prechecked(&self, enc: &mut Prechecked<'_>) {
        // SAFETY (both writes): the caller guarantees room for the bound,
        // the tag byte plus the value's own bound.
        unsafe {
            match self {
                None => enc.write_u8(0),
                Some(v) => {
                    enc.write_u8(1);
                    v.encode_prechecked(enc);
                }
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

/// The type descriptor of what `f` returns: `#[lmlog(with = f)]`'s schema.
#[doc(hidden)]
pub const fn with_type<T: ?Sized, R: LogValue>(_f: fn(&T) -> R) -> &'static TypeDesc {
    R::TYPE
}

/// Writes what `f` returns for `value`: `#[lmlog(with = f)]`'s encoding.
#[doc(hidden)]
#[inline(always)]
pub fn encode_with<T: ?Sized, R: LogValue>(f: fn(&T) -> R, value: &T, enc: &mut Encoder<'_>) {
    f(value).encode(enc);
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

    pub(super) fn encode<T: LogValue + ?Sized>(v: &T) -> Vec<u8> {
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

    /// Writes `v` through [`LogValue::encode_prechecked`] into room of
    /// exactly its bound, followed by a guard.
    fn encode_prechecked<T: LogValue + ?Sized>(v: &T) -> Vec<u8> {
        let bound = v.encoded_len_bound();
        let mut buf = vec![0xEEu8; bound + 8];
        let (room, guard) = buf.split_at_mut(bound);
        let enc = Encoder::new(room);
        // SAFETY: the room is the value's bound; `T::BOUNDED` is asserted
        // by the callers.
        let enc = unsafe {
            let mut fast = Prechecked::new(enc);
            v.encode_prechecked(&mut fast);
            fast.into_inner()
        };
        assert!(!enc.overflowed());
        let written = enc.written().to_vec();
        assert!(guard.iter().all(|&b| b == 0xEE), "{} wrote past its bound", std::any::type_name::<T>());
        written
    }

    fn prechecked_as_encode<T: LogValue + ?Sized>(v: &T) {
        let name = std::any::type_name::<T>();
        assert!(T::BOUNDED, "{name} is bounded");
        assert_eq!(encode_prechecked(v), encode(v), "{name}");
    }

    /// A record of bounded values checks its room once: each value's bound
    /// must hold what it writes at its largest, and the unchecked writes
    /// must be the checked ones' bytes.
    #[test]
    fn prechecked_writes_are_encode_s_bytes_within_the_bound() {
        for v in [0u64, 127, 128, u64::MAX] {
            prechecked_as_encode(&v);
            prechecked_as_encode(&(v as u16));
            prechecked_as_encode(&(v as u32));
            prechecked_as_encode(&(v as usize));
            prechecked_as_encode(&(v as i64));
            prechecked_as_encode(&(v as i16));
            prechecked_as_encode(&(v as i32));
            prechecked_as_encode(&(v as isize));
            prechecked_as_encode(&(v as u8));
            prechecked_as_encode(&(v as i8));
        }
        prechecked_as_encode(&i64::MIN);
        prechecked_as_encode(&true);
        prechecked_as_encode(&-1.5f32);
        prechecked_as_encode(&f64::MAX);
        for len in [0, 1, 7, 8, 16, 17, 200] {
            let text = "x".repeat(len);
            prechecked_as_encode(text.as_str());
            prechecked_as_encode(&text);
            prechecked_as_encode(&Cow::Borrowed(text.as_str()));
            prechecked_as_encode(&Bytes(text.as_bytes()));
            prechecked_as_encode(&&mut text.clone());
            prechecked_as_encode(&Box::new(text.as_str()));
            prechecked_as_encode(&Some(Arc::<str>::from(text.as_str())));
        }
        prechecked_as_encode(&None::<Rc<u64>>);
        // Without a bound the record keeps its checked writes.
        const {
            assert!(!<Vec<u8>>::BOUNDED && !<char>::BOUNDED && !<FormattedStr>::BOUNDED && !<Option<Vec<u8>>>::BOUNDED);
        }
        let mut buf = [0u8; 2];
        let enc = Encoder::new(&mut buf);
        // SAFETY: the default `encode_prechecked` makes room checks itself.
        let enc = unsafe {
            let mut fast = Prechecked::new(enc);
            vec![1u8, 2].encode_prechecked(&mut fast);
            fast.into_inner()
        };
        assert!(enc.overflowed(), "the default writes through room checks");
    }

    /// Every string length around the short-copy widths, in every buffer
    /// size around the fit, written after every prefix length: the bytes are
    /// postcard's when they fit, and nothing is written past the end when
    /// they do not.
    #[test]
    fn short_copies_and_varints_at_every_boundary() {
        let text: String = (0..40u8).map(|i| (b'a' + i % 26) as char).collect();
        for len in 0..=text.len() {
            let s = &text[..len];
            let expected = postcard::to_allocvec(s).unwrap();
            for prefix in 0..3 {
                for size in 0..expected.len() + prefix + 12 {
                    let mut buf = vec![0xEEu8; size + 8];
                    let (room, guard) = buf.split_at_mut(size);
                    let mut enc = Encoder::new(room);
                    for _ in 0..prefix {
                        enc.write_u8(0x55);
                    }
                    s.encode(&mut enc);
                    if prefix + expected.len() <= size {
                        assert!(!enc.overflowed(), "len {len} size {size}");
                        assert_eq!(&enc.written()[prefix..], &expected[..]);
                    } else {
                        assert!(enc.overflowed(), "len {len} size {size}");
                    }
                    assert!(guard.iter().all(|&b| b == 0xEE), "wrote past the end: len {len} size {size}");
                }
            }
        }
        for shift in 0..64 {
            let v = 1u64 << shift | 1;
            let expected = postcard::to_allocvec(&v).unwrap();
            for size in 0..=12 {
                let mut buf = vec![0xEEu8; size + 8];
                let (room, guard) = buf.split_at_mut(size);
                let mut enc = Encoder::new(room);
                enc.write_varint(v);
                assert_eq!(enc.overflowed(), expected.len() > size, "v {v} size {size}");
                if !enc.overflowed() {
                    assert_eq!(enc.written(), &expected[..]);
                }
                assert!(guard.iter().all(|&b| b == 0xEE));
            }
        }
    }
}
