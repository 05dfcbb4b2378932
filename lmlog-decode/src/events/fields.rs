//! An event's fields: read once, lazily, as JSON text or as typed values
//! handed to a [`Visitor`].

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use lmlog_format::types::JsonKind;
use lmlog_format::varint;

use crate::events::callsite::{Callsite, TemplatePart};
use crate::json;
use crate::record::{
    self, FieldTy, Out, Reader, Ty, ValueError, ValueErrorKind, VariantTyKind, MAX_EVENT_JSON, MAX_JSON_DEPTH, REDACTED,
};

/// The fields of one event, not read yet.
///
/// Fields are read at most once: every method that reads them takes
/// `self`. An output that reads none of them leaves the decoder to skip
/// them (checking them as it goes) to find the next record.
///
/// If reading fails, the record does not match its schema: the decoder
/// reports it ([`DiagnosticKind::BadRecord`](crate::DiagnosticKind::BadRecord))
/// and skips the rest of its records frame, and whoever read the fields
/// discards what it made of the event.
#[non_exhaustive]
pub struct Fields<'a> {
    callsite: &'a Callsite,
    data: &'a [u8],
    pos: usize,
    outcome: &'a mut Outcome,
}

/// What became of an event's fields: unread, read (`end` is where the
/// record ends) or failed (`error`). One word is written and read back on
/// the way every record takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Where the record ends, once the fields were read; [`Outcome::UNREAD`] before.
    pub end: usize,
    /// Why reading them failed, if it did.
    pub error: Option<ValueError>,
}

impl Outcome {
    /// `end` of fields not read (or that failed).
    pub const UNREAD: usize = usize::MAX;

    /// Fields not read yet.
    #[inline]
    pub fn new() -> Outcome {
        Outcome { end: Self::UNREAD, error: None }
    }
}

impl fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.callsite.tys.iter().map(|f| &*f.name).collect();
        f.debug_struct("Fields").field("names", &names).field("bytes", &(self.data.len() - self.pos)).finish()
    }
}

/// Why an event's fields could not be read: the record does not match its
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    pub(crate) error: ValueError,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.kind.fmt(f)
    }
}

impl std::error::Error for FieldError {}

/// Which kind of sequence [`Visitor::begin_seq`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeqKind {
    /// A sequence of any length (`Vec<T>`, `&[T]`).
    Seq,
    /// A fixed-length array (`[T; N]`).
    Array,
    /// A tuple, or the content of a tuple variant.
    Tuple,
}

/// Receives an event's fields as typed values, in record order.
///
/// Every method does nothing by default; the narrower integer and float
/// methods hand their value to the widest one of their kind (`u8`, `u16`
/// and `u32` to [`u64`](Self::u64), the signed ones to [`i64`](Self::i64),
/// [`f32`](Self::f32) to [`f64`](Self::f64)), so a visitor overrides only
/// what it needs.
///
/// Each top-level field, and each field of a struct or struct variant, is
/// announced by [`field`](Self::field) and followed by its value, or by
/// [`redacted`](Self::redacted) for a redacted field. A value is one scalar
/// call, [`none`](Self::none), [`some`](Self::some) then the inner value,
/// or a composite between its `begin_*` and `end_*` calls:
///
/// * sequences, arrays and tuples: [`begin_seq`](Self::begin_seq), the
///   elements, [`end_seq`](Self::end_seq);
/// * maps: [`begin_map`](Self::begin_map), then key and value alternately,
///   [`end_map`](Self::end_map);
/// * structs: [`begin_struct`](Self::begin_struct), fields,
///   [`end_struct`](Self::end_struct);
/// * enums: [`begin_variant`](Self::begin_variant), the content (nothing
///   for a unit variant, the value for a newtype variant, a tuple for a
///   tuple variant, a struct named after the variant for a struct variant),
///   [`end_variant`](Self::end_variant);
/// * a JSON value (`serde_json::Value`) as what it holds: `null` as
///   [`none`](Self::none), booleans, numbers as [`u64`](Self::u64),
///   [`i64`](Self::i64) or [`f64`](Self::f64), strings, arrays as sequences,
///   objects as maps with string keys.
///
/// Points in time, addresses and UUIDs have calls of their own
/// ([`timestamp`](Self::timestamp), [`ip_addr`](Self::ip_addr),
/// [`socket_addr`](Self::socket_addr), [`uuid`](Self::uuid)); a number
/// with a unit (a `Duration`, in nanoseconds) is announced by
/// [`quantity`](Self::quantity) and then handed on as a number.
///
/// Strings, bytes and names borrow from the record and the schema for `'a`.
#[allow(unused_variables)]
pub trait Visitor<'a> {
    /// A field named `name` follows (its value, or [`redacted`](Self::redacted)).
    fn field(&mut self, name: &'a str) {}
    /// The value of a redacted field: the writer did not record it.
    fn redacted(&mut self) {}
    /// A `bool`.
    fn bool(&mut self, v: bool) {}
    /// A `u8` (by default handed to [`u64`](Self::u64)).
    fn u8(&mut self, v: u8) {
        self.u64(u64::from(v))
    }
    /// A `u16` (by default handed to [`u64`](Self::u64)).
    fn u16(&mut self, v: u16) {
        self.u64(u64::from(v))
    }
    /// A `u32` (by default handed to [`u64`](Self::u64)).
    fn u32(&mut self, v: u32) {
        self.u64(u64::from(v))
    }
    /// A `u64` or `usize`.
    fn u64(&mut self, v: u64) {}
    /// A `u128`.
    fn u128(&mut self, v: u128) {}
    /// An `i8` (by default handed to [`i64`](Self::i64)).
    fn i8(&mut self, v: i8) {
        self.i64(i64::from(v))
    }
    /// An `i16` (by default handed to [`i64`](Self::i64)).
    fn i16(&mut self, v: i16) {
        self.i64(i64::from(v))
    }
    /// An `i32` (by default handed to [`i64`](Self::i64)).
    fn i32(&mut self, v: i32) {
        self.i64(i64::from(v))
    }
    /// An `i64` or `isize`.
    fn i64(&mut self, v: i64) {}
    /// An `i128`.
    fn i128(&mut self, v: i128) {}
    /// An `f32` (by default handed to [`f64`](Self::f64)).
    fn f32(&mut self, v: f32) {
        self.f64(f64::from(v))
    }
    /// An `f64`.
    fn f64(&mut self, v: f64) {}
    /// A `char`.
    fn char(&mut self, v: char) {}
    /// A string.
    fn str(&mut self, v: &'a str) {}
    /// A byte string.
    fn bytes(&mut self, v: &'a [u8]) {}
    /// The unit value `()`.
    fn unit(&mut self) {}
    /// An absent option (`None`).
    fn none(&mut self) {}
    /// A present option (`Some`): its value follows.
    fn some(&mut self) {}
    /// A sequence, array or tuple of `len` elements starts.
    fn begin_seq(&mut self, kind: SeqKind, len: usize) {}
    /// The innermost open sequence ends.
    fn end_seq(&mut self) {}
    /// A map of `len` entries starts: key and value alternately follow.
    fn begin_map(&mut self, len: usize) {}
    /// The innermost open map ends.
    fn end_map(&mut self) {}
    /// A struct named `name` starts: its fields follow.
    fn begin_struct(&mut self, name: &'a str) {}
    /// The innermost open struct ends.
    fn end_struct(&mut self) {}
    /// Variant `variant` (index `index`) of enum `enum_name` starts; `unit`
    /// tells it has no content.
    fn begin_variant(&mut self, enum_name: &'a str, variant: &'a str, index: u32, unit: bool) {}
    /// The innermost open variant ends.
    fn end_variant(&mut self) {}
    /// A point in time (`SystemTime`, `chrono`'s and `time`'s date-times), in
    /// nanoseconds since the Unix epoch; [`format_timestamp`](crate::format_timestamp)
    /// gives its RFC 3339 text, as the JSON Lines output writes it.
    fn timestamp(&mut self, unix_nanos: i128) {}
    /// An IP address.
    fn ip_addr(&mut self, v: IpAddr) {}
    /// A socket address (IP address and port).
    fn socket_addr(&mut self, v: SocketAddr) {}
    /// A UUID's 16 bytes, in order.
    fn uuid(&mut self, v: [u8; 16]) {}
    /// The next value, a number, is a quantity in `unit` (`"ns"`: a
    /// `Duration` in nanoseconds).
    fn quantity(&mut self, unit: &'a str) {}
}

/// A visitor that ignores everything (skipping fields still checks them).
struct Ignore;

impl Visitor<'_> for Ignore {}

impl<'a> Fields<'a> {
    /// Fields of `callsite` whose bytes start at `pos` of `data`; what
    /// becomes of them is written to `outcome`.
    #[inline]
    pub(crate) fn new(callsite: &'a Callsite, data: &'a [u8], pos: usize, outcome: &'a mut Outcome) -> Self {
        Fields { callsite, data, pos, outcome }
    }

    /// How many top-level fields the event has.
    pub fn len(&self) -> usize {
        self.callsite.tys.len()
    }

    /// Whether the event has no fields.
    pub fn is_empty(&self) -> bool {
        self.callsite.tys.is_empty()
    }

    /// The compiled fields, a reader at their first byte, and where to note
    /// the outcome of reading them (the JSON Lines output's fast path).
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (&'a [FieldTy], Reader<'a>, &'a mut Outcome) {
        (&self.callsite.tys, Reader::new(self.data, self.pos), self.outcome)
    }

    /// Reads the fields with `f`, which gets the compiled fields and a
    /// reader at their first byte, and notes the outcome.
    #[inline]
    pub(crate) fn read_with<T>(
        self,
        f: impl FnOnce(&'a [FieldTy], &mut Reader<'a>) -> Result<T, ValueError>,
    ) -> Result<T, FieldError> {
        let mut r = Reader::new(self.data, self.pos);
        match f(&self.callsite.tys, &mut r) {
            Ok(v) => {
                self.outcome.end = r.pos;
                Ok(v)
            }
            Err(error) => {
                self.outcome.error = Some(error);
                Err(FieldError { error })
            }
        }
    }

    /// Hands every field to `visitor` without giving the fields up: whoever
    /// gets the event next may read them again (the filter's look before
    /// an output renders). Notes where the record ends, or why it does not
    /// decode.
    pub(crate) fn peek<V: Visitor<'a>>(&mut self, visitor: &mut V) -> Result<(), FieldError> {
        let mut r = Reader::new(self.data, self.pos);
        match Walk::new(visitor).fields(&self.callsite.tys, &mut r) {
            Ok(()) => {
                self.outcome.end = r.pos;
                Ok(())
            }
            Err(error) => {
                self.outcome.error = Some(error);
                Err(FieldError { error })
            }
        }
    }

    /// Hands every field to `visitor`, in record order.
    pub fn visit<V: Visitor<'a>>(self, visitor: &mut V) -> Result<(), FieldError> {
        self.read_with(|tys, r| Walk::new(visitor).fields(tys, r))
    }

    /// Like [`visit`](Self::visit), and renders the call site's message
    /// template into `message` (nothing if it has none) in the same pass:
    /// a string placeholder shows the string, other values their JSON text.
    pub fn visit_with_message<V: Visitor<'a>>(self, visitor: &mut V, message: &mut String) -> Result<(), FieldError> {
        let template = self.callsite.template();
        let Some(template) = template else {
            return self.visit(visitor);
        };
        let mut tee = Tee { inner: visitor, json: JsonText::default(), starts: Vec::new() };
        self.read_with(|tys, r| Walk::new(&mut tee).fields(tys, r))?;
        tee.starts.push(tee.json.buf.len());
        for part in template {
            match part {
                TemplatePart::Text(t) => message.push_str(t),
                TemplatePart::Field(i) => {
                    if let (Some(&a), Some(&b)) = (tee.starts.get(*i), tee.starts.get(*i + 1)) {
                        placeholder_text(message, &tee.json.buf[a..b]);
                    }
                }
            }
        }
        Ok(())
    }

    /// Renders the call site's message template, if it has one (see
    /// [`visit_with_message`](Self::visit_with_message)).
    pub fn message(self) -> Result<Option<String>, FieldError> {
        let has_message = self.callsite.template().is_some();
        let mut message = String::new();
        self.visit_with_message(&mut Ignore, &mut message)?;
        Ok(has_message.then_some(message))
    }

    /// The fields as one JSON object, exactly as the JSON Lines output
    /// writes them (`{"user_id":7,"amount":12.5}`).
    pub fn to_json(self) -> Result<String, FieldError> {
        let mut buf = vec![b'{'];
        self.read_with(|tys, r| record::write_fields(tys, r, &mut Out { buf: &mut buf, limit: MAX_EVENT_JSON }, None))?;
        buf.push(b'}');
        // Every string written was checked to be UTF-8.
        Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Reads past the fields without looking at them (they are checked
    /// all the same).
    pub fn skip(self) -> Result<(), FieldError> {
        self.visit(&mut Ignore)
    }
}

/// Reads past the fields of `callsite` that start at `pos` of `data`
/// (checking them); returns the position after them.
pub(crate) fn skip(callsite: &Callsite, data: &[u8], pos: usize) -> Result<usize, ValueError> {
    let mut r = Reader::new(data, pos);
    Walk::new(&mut Ignore).fields(&callsite.tys, &mut r)?;
    Ok(r.pos)
}

/// Appends a value's JSON text the way a message placeholder shows it: a
/// string's contents, anything else as its JSON text.
fn placeholder_text(out: &mut String, value_json: &[u8]) {
    let text = std::str::from_utf8(value_json).unwrap_or_default();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if text.len() >= 2 => unescape_into(out, inner),
        _ => out.push_str(text),
    }
}

/// Undoes the escapes [`json::write_str_contents`] writes.
fn unescape_into(out: &mut String, s: &str) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
}

/// Walks record bytes and compiled types together, handing values to a
/// visitor. Like the JSON writer it checks every length against the bytes
/// that remain; a budget of values bounds the work on sequences of
/// zero-sized values.
struct Walk<'v, V> {
    v: &'v mut V,
    budget: usize,
}

impl<'a, 'v, V: Visitor<'a>> Walk<'v, V> {
    fn new(v: &'v mut V) -> Self {
        Walk { v, budget: MAX_EVENT_JSON }
    }

    #[inline]
    fn spend(&mut self, r: &Reader<'_>) -> Result<(), ValueError> {
        match self.budget.checked_sub(1) {
            Some(b) => {
                self.budget = b;
                Ok(())
            }
            None => Err(r.err(ValueErrorKind::TooLarge)),
        }
    }

    fn fields(&mut self, fields: &'a [FieldTy], r: &mut Reader<'a>) -> Result<(), ValueError> {
        for f in fields {
            self.v.field(&f.name);
            if f.redacted {
                self.v.redacted();
            } else {
                self.value(&f.ty, r)?;
            }
        }
        Ok(())
    }

    fn elements(
        &mut self,
        kind: SeqKind,
        len: usize,
        tys: impl Iterator<Item = &'a Ty>,
        r: &mut Reader<'a>,
    ) -> Result<(), ValueError> {
        self.v.begin_seq(kind, len);
        for t in tys {
            self.spend(r)?;
            self.value(t, r)?;
        }
        self.v.end_seq();
        Ok(())
    }

    fn value(&mut self, ty: &'a Ty, r: &mut Reader<'a>) -> Result<(), ValueError> {
        let v = &mut *self.v;
        match ty {
            Ty::Bool => {
                let at = r.pos;
                match r.byte()? {
                    0 => v.bool(false),
                    1 => v.bool(true),
                    b => return Err(ValueError { at, kind: ValueErrorKind::Bool(b) }),
                }
            }
            Ty::U8 => v.u8(r.byte()?),
            Ty::U16 => v.u16(r.uint(16)? as u16),
            Ty::U32 => v.u32(r.uint(32)? as u32),
            Ty::U64 => v.u64(r.uint(64)?),
            Ty::U128 => v.u128(r.u128()?),
            Ty::I8 => v.i8(r.byte()? as i8),
            Ty::I16 => v.i16(varint::unzigzag_i64(r.uint(16)?) as i16),
            Ty::I32 => v.i32(varint::unzigzag_i64(r.uint(32)?) as i32),
            Ty::I64 => v.i64(varint::unzigzag_i64(r.uint(64)?)),
            Ty::I128 => v.i128(varint::unzigzag_i128(r.u128()?)),
            Ty::F32 => {
                let b = r.take(4)?;
                v.f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            }
            Ty::F64 => {
                let b = r.take(8)?;
                v.f64(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
            }
            Ty::Char => {
                let at = r.pos;
                let s = r.str()?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => v.char(c),
                    _ => return Err(ValueError { at, kind: ValueErrorKind::Char }),
                }
            }
            Ty::Str => v.str(r.str()?),
            Ty::Bytes => v.bytes(r.len_prefixed()?),
            Ty::Unit => v.unit(),
            Ty::Option(t) => {
                let at = r.pos;
                match r.byte()? {
                    0 => v.none(),
                    1 => {
                        v.some();
                        self.value(t, r)?;
                    }
                    b => return Err(ValueError { at, kind: ValueErrorKind::OptionTag(b) }),
                }
            }
            Ty::Seq(t, zero) => {
                let n = r.count(*zero)? as usize;
                self.elements(SeqKind::Seq, n, std::iter::repeat_n(&**t, n), r)?;
            }
            Ty::Array(n, t) => {
                let n = *n as usize;
                self.elements(SeqKind::Array, n, std::iter::repeat_n(&**t, n), r)?;
            }
            Ty::Tuple(ts) => self.elements(SeqKind::Tuple, ts.len(), ts.iter(), r)?,
            Ty::Map(k, val, zero) => {
                let n = r.count(*zero)?;
                v.begin_map(n as usize);
                for _ in 0..n {
                    self.spend(r)?;
                    self.value(k, r)?;
                    self.value(val, r)?;
                }
                self.v.end_map();
            }
            Ty::Struct(st) => {
                v.begin_struct(&st.name);
                self.fields(&st.fields, r)?;
                self.v.end_struct();
            }
            Ty::Enum(en) => {
                let at = r.pos;
                let idx = r.varint()?;
                let Some(var) = usize::try_from(idx).ok().and_then(|i| en.variants.get(i)) else {
                    return Err(ValueError { at, kind: ValueErrorKind::Variant(idx) });
                };
                let unit = matches!(var.kind, VariantTyKind::Unit);
                v.begin_variant(&en.name, &var.name, idx as u32, unit);
                match &var.kind {
                    VariantTyKind::Unit => {}
                    VariantTyKind::Newtype(t) => self.value(t, r)?,
                    VariantTyKind::Tuple(ts) => self.elements(SeqKind::Tuple, ts.len(), ts.iter(), r)?,
                    VariantTyKind::Struct(fields) => {
                        self.v.begin_struct(&var.name);
                        self.fields(fields, r)?;
                        self.v.end_struct();
                    }
                }
                self.v.end_variant();
            }
            Ty::Timestamp => v.timestamp(r.timestamp()?),
            Ty::IpAddr => v.ip_addr(r.ip()?),
            Ty::SocketAddr => v.socket_addr(r.socket_addr()?),
            Ty::Uuid => v.uuid(r.uuid()?),
            Ty::Quantity(unit, t) => {
                v.quantity(unit);
                self.value(t, r)?;
            }
            Ty::Json => self.json(r, 0)?,
        }
        Ok(())
    }

    /// Hands on a [`Ty::Json`] value (see [`Visitor`]).
    fn json(&mut self, r: &mut Reader<'a>, depth: usize) -> Result<(), ValueError> {
        if depth >= MAX_JSON_DEPTH {
            return Err(r.err(ValueErrorKind::TooDeep));
        }
        self.spend(r)?;
        match r.json_kind()? {
            JsonKind::Null => self.v.none(),
            JsonKind::False => self.v.bool(false),
            JsonKind::True => self.v.bool(true),
            JsonKind::U64 => self.v.u64(r.uint(64)?),
            JsonKind::I64 => self.v.i64(varint::unzigzag_i64(r.uint(64)?)),
            JsonKind::F64 => self.v.f64(r.f64()?),
            JsonKind::String => self.v.str(r.str()?),
            JsonKind::Array => {
                let n = r.count(false)?;
                self.v.begin_seq(SeqKind::Seq, n as usize);
                for _ in 0..n {
                    self.json(r, depth + 1)?;
                }
                self.v.end_seq();
            }
            JsonKind::Object => {
                let n = r.count(false)?;
                self.v.begin_map(n as usize);
                for _ in 0..n {
                    self.v.str(r.str()?);
                    self.json(r, depth + 1)?;
                }
                self.v.end_map();
            }
        }
        Ok(())
    }
}

/// Where a [`JsonText`] is inside a composite value.
#[derive(Debug, Clone, Copy)]
enum Ctx {
    Seq {
        n: u64,
    },
    /// `n` keys and values so far; the current key starts at `key_start`.
    Map {
        n: u64,
        key_start: usize,
    },
    Struct {
        n: u64,
    },
    Variant {
        unit: bool,
    },
}

/// A visitor that writes JSON text, the same as the JSON Lines output's.
#[derive(Debug, Default)]
pub(crate) struct JsonText {
    pub buf: Vec<u8>,
    stack: Vec<Ctx>,
    /// Top-level fields written so far.
    top: u64,
}

impl JsonText {
    /// Whether no struct, sequence, map or variant is open: the next
    /// [`Visitor::field`] call is that of a top-level field.
    pub fn at_top(&self) -> bool {
        self.stack.is_empty()
    }

    /// A value starts.
    fn before(&mut self) {
        match self.stack.last_mut() {
            Some(Ctx::Seq { n }) => {
                if *n > 0 {
                    self.buf.push(b',');
                }
                *n += 1;
            }
            Some(Ctx::Map { n, key_start }) if *n % 2 == 0 => {
                if *n > 0 {
                    self.buf.push(b',');
                }
                *key_start = self.buf.len();
            }
            _ => {}
        }
    }

    /// A value ended: a map key becomes a JSON string (as the JSON Lines
    /// output writes map keys).
    fn after(&mut self) {
        if let Some(Ctx::Map { n, key_start }) = self.stack.last_mut() {
            if *n % 2 == 0 {
                let start = *key_start;
                if self.buf.get(start) != Some(&b'"') {
                    let text = self.buf.split_off(start);
                    self.buf.push(b'"');
                    json::write_str_contents(&mut self.buf, &text);
                    self.buf.push(b'"');
                }
                self.buf.push(b':');
            }
            *n += 1;
        }
    }

    fn scalar(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.before();
        write(&mut self.buf);
        self.after();
    }
}

impl<'a> Visitor<'a> for JsonText {
    fn field(&mut self, name: &'a str) {
        let n = match self.stack.last_mut() {
            Some(Ctx::Struct { n }) => n,
            _ => &mut self.top,
        };
        if *n > 0 {
            self.buf.push(b',');
        }
        *n += 1;
        json::write_str(&mut self.buf, name);
        self.buf.push(b':');
    }
    fn redacted(&mut self) {
        self.buf.extend_from_slice(REDACTED);
    }
    fn bool(&mut self, v: bool) {
        self.scalar(|b| b.extend_from_slice(if v { b"true" } else { b"false" }));
    }
    fn u64(&mut self, v: u64) {
        self.scalar(|b| json::write_int(b, v));
    }
    fn u128(&mut self, v: u128) {
        self.scalar(|b| json::write_int(b, v));
    }
    fn i64(&mut self, v: i64) {
        self.scalar(|b| json::write_int(b, v));
    }
    fn i128(&mut self, v: i128) {
        self.scalar(|b| json::write_int(b, v));
    }
    fn f32(&mut self, v: f32) {
        self.scalar(|b| json::write_f32(b, v));
    }
    fn f64(&mut self, v: f64) {
        self.scalar(|b| json::write_f64(b, v));
    }
    fn char(&mut self, v: char) {
        self.scalar(|b| json::write_str(b, v.encode_utf8(&mut [0; 4])));
    }
    fn str(&mut self, v: &'a str) {
        self.scalar(|b| json::write_str(b, v));
    }
    fn bytes(&mut self, v: &'a [u8]) {
        self.scalar(|b| {
            b.push(b'"');
            json::write_hex(b, v);
            b.push(b'"');
        });
    }
    fn unit(&mut self) {
        self.scalar(|b| b.extend_from_slice(b"null"));
    }
    fn none(&mut self) {
        self.scalar(|b| b.extend_from_slice(b"null"));
    }
    fn begin_seq(&mut self, _kind: SeqKind, _len: usize) {
        self.before();
        self.buf.push(b'[');
        self.stack.push(Ctx::Seq { n: 0 });
    }
    fn end_seq(&mut self) {
        self.stack.pop();
        self.buf.push(b']');
        self.after();
    }
    fn begin_map(&mut self, _len: usize) {
        self.before();
        self.buf.push(b'{');
        self.stack.push(Ctx::Map { n: 0, key_start: 0 });
    }
    fn end_map(&mut self) {
        self.stack.pop();
        self.buf.push(b'}');
        self.after();
    }
    fn begin_struct(&mut self, _name: &'a str) {
        self.before();
        self.buf.push(b'{');
        self.stack.push(Ctx::Struct { n: 0 });
    }
    fn end_struct(&mut self) {
        self.stack.pop();
        self.buf.push(b'}');
        self.after();
    }
    fn begin_variant(&mut self, _enum_name: &'a str, variant: &'a str, _index: u32, unit: bool) {
        self.before();
        if !unit {
            self.buf.push(b'{');
        }
        json::write_str(&mut self.buf, variant);
        if !unit {
            self.buf.push(b':');
        }
        self.stack.push(Ctx::Variant { unit });
    }
    fn end_variant(&mut self) {
        if let Some(Ctx::Variant { unit: false }) = self.stack.pop() {
            self.buf.push(b'}');
        }
        self.after();
    }
    fn timestamp(&mut self, unix_nanos: i128) {
        self.scalar(|b| {
            b.push(b'"');
            json::TimestampFormatter::new().write(b, unix_nanos);
            b.push(b'"');
        });
    }
    fn ip_addr(&mut self, v: IpAddr) {
        self.scalar(|b| json::write_str(b, &v.to_string()));
    }
    fn socket_addr(&mut self, v: SocketAddr) {
        self.scalar(|b| json::write_str(b, &v.to_string()));
    }
    fn uuid(&mut self, v: [u8; 16]) {
        self.scalar(|b| {
            b.push(b'"');
            record::write_uuid(b, &v);
            b.push(b'"');
        });
    }
}

/// Hands every call to a visitor and to a [`JsonText`] that keeps only the
/// values of top-level fields, noting where each starts.
struct Tee<'v, V> {
    inner: &'v mut V,
    json: JsonText,
    starts: Vec<usize>,
}

macro_rules! tee {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) {
            self.inner.$name($($arg),*);
            self.json.$name($($arg),*);
        })*
    };
}

impl<'a, V: Visitor<'a>> Visitor<'a> for Tee<'_, V> {
    fn field(&mut self, name: &'a str) {
        self.inner.field(name);
        if self.json.stack.is_empty() {
            self.starts.push(self.json.buf.len());
        } else {
            self.json.field(name);
        }
    }
    tee! {
        redacted();
        bool(v: bool);
        u8(v: u8);
        u16(v: u16);
        u32(v: u32);
        u64(v: u64);
        u128(v: u128);
        i8(v: i8);
        i16(v: i16);
        i32(v: i32);
        i64(v: i64);
        i128(v: i128);
        f32(v: f32);
        f64(v: f64);
        char(v: char);
        str(v: &'a str);
        bytes(v: &'a [u8]);
        unit();
        none();
        some();
        begin_seq(kind: SeqKind, len: usize);
        end_seq();
        begin_map(len: usize);
        end_map();
        begin_struct(name: &'a str);
        end_struct();
        begin_variant(enum_name: &'a str, variant: &'a str, index: u32, unit: bool);
        end_variant();
        timestamp(unix_nanos: i128);
        ip_addr(v: IpAddr);
        socket_addr(v: SocketAddr);
        uuid(v: [u8; 16]);
        quantity(unit: &'a str);
    }
}
