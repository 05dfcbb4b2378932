//! Decoding postcard-encoded values straight into JSON text.
//!
//! A schema's [`Type`]s are compiled once into [`Ty`] trees that carry the
//! pre-escaped JSON keys of struct fields and enum variants; the hot path
//! then walks record bytes and a `Ty` together, appending JSON to the output
//! buffer. Every length is checked against the bytes that remain before
//! anything is read, and the output of one event is capped, so hostile input
//! can neither allocate nor loop without bound.

use std::fmt;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use lmlog_format::types::{Field, JsonKind, Type, VariantKind};
use lmlog_format::varint::{self, VarintError};

use crate::json;

/// JSON text written for redacted fields.
pub(crate) const REDACTED: &[u8] = b"\"<redacted>\"";

/// Most elements a sequence or map of zero-sized values (such as `()` or a
/// struct whose fields are all redacted) may claim; their length cannot be
/// bounded by the bytes that remain.
pub(crate) const MAX_ZERO_SIZED_LEN: u64 = 1 << 16;

/// Largest JSON text one event may expand to.
pub(crate) const MAX_EVENT_JSON: usize = 64 << 20;

/// Deepest nesting of arrays and objects a JSON field value may have (as
/// for type descriptors, so that hostile input cannot exhaust the stack).
pub(crate) use lmlog_format::types::MAX_JSON_DEPTH;

/// A value type compiled for decoding.
#[derive(Debug)]
pub(crate) enum Ty {
    Bool,
    U8,
    U16,
    U32,
    U64,
    U128,
    I8,
    I16,
    I32,
    I64,
    I128,
    F32,
    F64,
    Char,
    Str,
    Bytes,
    Unit,
    Option(Box<Ty>),
    /// Element type and whether elements may take zero bytes.
    Seq(Box<Ty>, bool),
    Array(u32, Box<Ty>),
    Tuple(Box<[Ty]>),
    /// Key, value, and whether a pair may take zero bytes.
    Map(Box<Ty>, Box<Ty>, bool),
    Struct(Box<StructTy>),
    Enum(Box<EnumTy>),
    Timestamp,
    IpAddr,
    SocketAddr,
    Uuid,
    /// A number and its unit (the value is the inner type's).
    Quantity(Box<str>, Box<Ty>),
    Json,
}

/// A compiled struct type.
#[derive(Debug)]
pub(crate) struct StructTy {
    /// The struct's name.
    pub name: Box<str>,
    pub fields: Box<[FieldTy]>,
}

/// A compiled enum type.
#[derive(Debug)]
pub(crate) struct EnumTy {
    /// The enum's name.
    pub name: Box<str>,
    pub variants: Box<[VariantTy]>,
}

/// A compiled struct or event field.
#[derive(Debug)]
pub(crate) struct FieldTy {
    /// `"name":`, escaped, preceded by a comma for all fields but the first.
    pub key: json::Run,
    /// Redacted fields have no bytes and print as `"<redacted>"`.
    pub redacted: bool,
    pub ty: Ty,
    /// The field's name.
    pub name: Box<str>,
}

/// A compiled enum variant.
#[derive(Debug)]
pub(crate) struct VariantTy {
    /// `"Name"`, escaped.
    pub json_name: Box<[u8]>,
    pub kind: VariantTyKind,
    /// The variant's name.
    pub name: Box<str>,
}

/// Content of a compiled enum variant.
#[derive(Debug)]
pub(crate) enum VariantTyKind {
    Unit,
    Newtype(Ty),
    Tuple(Box<[Ty]>),
    Struct(Box<[FieldTy]>),
}

/// Compiles a schema type.
pub(crate) fn compile(ty: &Type) -> Ty {
    match ty {
        Type::Bool => Ty::Bool,
        Type::U8 => Ty::U8,
        Type::U16 => Ty::U16,
        Type::U32 => Ty::U32,
        Type::U64 => Ty::U64,
        Type::U128 => Ty::U128,
        Type::I8 => Ty::I8,
        Type::I16 => Ty::I16,
        Type::I32 => Ty::I32,
        Type::I64 => Ty::I64,
        Type::I128 => Ty::I128,
        Type::F32 => Ty::F32,
        Type::F64 => Ty::F64,
        Type::Char => Ty::Char,
        Type::Str => Ty::Str,
        Type::Bytes => Ty::Bytes,
        Type::Unit => Ty::Unit,
        Type::Option(t) => Ty::Option(Box::new(compile(t))),
        Type::Seq(t) => Ty::Seq(Box::new(compile(t)), zero_sized(t)),
        Type::Array(n, t) => Ty::Array(*n, Box::new(compile(t))),
        Type::Tuple(ts) => Ty::Tuple(ts.iter().map(compile).collect()),
        Type::Map(k, v) => Ty::Map(Box::new(compile(k)), Box::new(compile(v)), zero_sized(k) && zero_sized(v)),
        Type::Struct(name, fields) => {
            Ty::Struct(Box::new(StructTy { name: name.as_str().into(), fields: compile_fields(fields) }))
        }
        Type::Enum(name, variants) => Ty::Enum(Box::new(EnumTy {
            name: name.as_str().into(),
            variants: variants
                .iter()
                .map(|v| {
                    let mut name = Vec::with_capacity(v.name.len() + 2);
                    json::write_str(&mut name, &v.name);
                    let kind = match &v.kind {
                        VariantKind::Unit => VariantTyKind::Unit,
                        VariantKind::Newtype(t) => VariantTyKind::Newtype(compile(t)),
                        VariantKind::Tuple(ts) => VariantTyKind::Tuple(ts.iter().map(compile).collect()),
                        VariantKind::Struct(fs) => VariantTyKind::Struct(compile_fields(fs)),
                    };
                    VariantTy { json_name: name.into(), kind, name: v.name.as_str().into() }
                })
                .collect(),
        })),
        Type::Timestamp => Ty::Timestamp,
        Type::IpAddr => Ty::IpAddr,
        Type::SocketAddr => Ty::SocketAddr,
        Type::Uuid => Ty::Uuid,
        Type::Quantity(unit, t) => Ty::Quantity(unit.as_str().into(), Box::new(compile(t))),
        Type::Json => Ty::Json,
    }
}

/// Compiles a field list.
pub(crate) fn compile_fields(fields: &[Field]) -> Box<[FieldTy]> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut key = Vec::with_capacity(f.name.len() + 4);
            if i > 0 {
                key.push(b',');
            }
            json::write_str(&mut key, &f.name);
            key.push(b':');
            FieldTy { key: json::Run::new(key), redacted: f.redacted, ty: compile(&f.ty), name: f.name.as_str().into() }
        })
        .collect()
}

/// Whether a value of this type can be encoded in zero bytes.
fn zero_sized(ty: &Type) -> bool {
    match ty {
        Type::Unit => true,
        Type::Array(n, t) => *n == 0 || zero_sized(t),
        Type::Tuple(ts) => ts.iter().all(zero_sized),
        Type::Struct(_, fields) => fields.iter().all(|f| f.redacted || zero_sized(&f.ty)),
        Type::Quantity(_, t) => zero_sized(t),
        _ => false,
    }
}

/// What is wrong with a record's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueErrorKind {
    Truncated,
    VarintOverflow,
    IntegerRange(u32),
    Bool(u8),
    OptionTag(u8),
    Utf8,
    Char,
    Variant(u64),
    Length(u64),
    TooManyZeroSized(u64),
    TooLarge,
    CallsiteRange(u64),
    IpLength(u64),
    JsonKind(u64),
    TooDeep,
}

/// A decoding error at a byte position of the input slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueError {
    /// Position in the slice the [`Reader`] reads.
    pub at: usize,
    pub kind: ValueErrorKind,
}

impl fmt::Display for ValueErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValueErrorKind::Truncated => f.write_str("the record ends early"),
            ValueErrorKind::VarintOverflow => f.write_str("varint overflows its type"),
            ValueErrorKind::IntegerRange(bits) => write!(f, "integer does not fit in {bits} bits"),
            ValueErrorKind::Bool(b) => write!(f, "invalid bool byte {b}"),
            ValueErrorKind::OptionTag(b) => write!(f, "invalid option tag {b}"),
            ValueErrorKind::Utf8 => f.write_str("string is not valid UTF-8"),
            ValueErrorKind::Char => f.write_str("char is not exactly one UTF-8 character"),
            ValueErrorKind::Variant(v) => write!(f, "enum variant index {v} out of range"),
            ValueErrorKind::Length(n) => write!(f, "length {n} exceeds the bytes that remain"),
            ValueErrorKind::TooManyZeroSized(n) => {
                write!(f, "{n} zero-sized elements exceed the limit of {MAX_ZERO_SIZED_LEN}")
            }
            ValueErrorKind::TooLarge => write!(f, "event expands to more than {MAX_EVENT_JSON} bytes of JSON"),
            ValueErrorKind::CallsiteRange(v) => write!(f, "call-site id {v} does not fit in 32 bits"),
            ValueErrorKind::IpLength(n) => write!(f, "an IP address of {n} bytes (expected 4 or 16)"),
            ValueErrorKind::JsonKind(k) => write!(f, "unknown JSON value kind {k}"),
            ValueErrorKind::TooDeep => write!(f, "JSON value nested deeper than {MAX_JSON_DEPTH} levels"),
        }
    }
}

/// A bounds-checked cursor over record bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at `pos` of `data`.
    #[inline]
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Reader { data, pos: pos.min(data.len()) }
    }

    #[inline]
    pub(crate) fn err(&self, kind: ValueErrorKind) -> ValueError {
        ValueError { at: self.pos, kind }
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[inline]
    fn varint_err(&self, e: VarintError) -> ValueError {
        self.err(match e {
            VarintError::Truncated => ValueErrorKind::Truncated,
            VarintError::Overflow => ValueErrorKind::VarintOverflow,
        })
    }

    /// Reads a `u64` varint.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, ValueError> {
        match varint::read_u64(&self.data[self.pos..]) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(e) => Err(self.varint_err(e)),
        }
    }

    /// Reads a varint that must fit in `bits` bits.
    #[inline]
    pub(crate) fn uint(&mut self, bits: u32) -> Result<u64, ValueError> {
        if let Some(&b) = self.data.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(b as u64);
            }
        }
        match varint::read_uint(&self.data[self.pos..], bits) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(VarintError::Overflow) => Err(self.err(ValueErrorKind::IntegerRange(bits))),
            Err(e) => Err(self.varint_err(e)),
        }
    }

    #[inline]
    pub(crate) fn u128(&mut self) -> Result<u128, ValueError> {
        match varint::read_u128(&self.data[self.pos..]) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(e) => Err(self.varint_err(e)),
        }
    }

    /// Reads `n` raw bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if self.remaining() < n {
            return Err(self.err(ValueErrorKind::Truncated));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, ValueError> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.err(ValueErrorKind::Truncated)),
        }
    }

    /// Reads a varint length and that many bytes.
    #[inline]
    pub(crate) fn len_prefixed(&mut self) -> Result<&'a [u8], ValueError> {
        let at = self.pos;
        let len = self.varint()?;
        if len > self.remaining() as u64 {
            return Err(ValueError { at, kind: ValueErrorKind::Length(len) });
        }
        self.take(len as usize)
    }

    /// [`len_prefixed`](Self::len_prefixed), with the 16 bytes from the
    /// start of the slice if that many remain.
    #[inline]
    fn len_prefixed_window(&mut self) -> Result<(&'a [u8], Option<&'a [u8; 16]>), ValueError> {
        let bytes = self.len_prefixed()?;
        let start = self.pos - bytes.len();
        let window = self.data.get(start..start + 16).and_then(|w| w.try_into().ok());
        Ok((bytes, window))
    }

    /// Reads an element count; elements of `zero` types may take no bytes,
    /// others take at least one each.
    #[inline]
    pub(crate) fn count(&mut self, zero: bool) -> Result<u64, ValueError> {
        let at = self.pos;
        let n = self.varint()?;
        if zero {
            if n > MAX_ZERO_SIZED_LEN {
                return Err(ValueError { at, kind: ValueErrorKind::TooManyZeroSized(n) });
            }
        } else if n > self.remaining() as u64 {
            return Err(ValueError { at, kind: ValueErrorKind::Length(n) });
        }
        Ok(n)
    }

    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, ValueError> {
        let at = self.pos;
        let bytes = self.len_prefixed()?;
        std::str::from_utf8(bytes).map_err(|_| ValueError { at, kind: ValueErrorKind::Utf8 })
    }

    /// Reads a [`Ty::Timestamp`]: nanoseconds since the Unix epoch.
    pub(crate) fn timestamp(&mut self) -> Result<i128, ValueError> {
        Ok(varint::unzigzag_i128(self.u128()?))
    }

    /// Reads a [`Ty::IpAddr`]: a length of 4 or 16, then the bytes.
    pub(crate) fn ip(&mut self) -> Result<IpAddr, ValueError> {
        let at = self.pos;
        let bytes = self.len_prefixed()?;
        if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
            Ok(IpAddr::V4(Ipv4Addr::from(v4)))
        } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
            Ok(IpAddr::V6(Ipv6Addr::from(v6)))
        } else {
            Err(ValueError { at, kind: ValueErrorKind::IpLength(bytes.len() as u64) })
        }
    }

    /// Reads a [`Ty::SocketAddr`]: an IP address, then the port.
    pub(crate) fn socket_addr(&mut self) -> Result<SocketAddr, ValueError> {
        let ip = self.ip()?;
        Ok(SocketAddr::new(ip, self.uint(16)? as u16))
    }

    /// Reads a [`Ty::Uuid`]: 16 bytes.
    pub(crate) fn uuid(&mut self) -> Result<[u8; 16], ValueError> {
        let b = self.take(16)?;
        Ok(b.try_into().unwrap_or([0; 16]))
    }

    /// Reads the kind that opens a [`Ty::Json`] value.
    pub(crate) fn json_kind(&mut self) -> Result<JsonKind, ValueError> {
        let at = self.pos;
        let kind = self.varint()?;
        JsonKind::from_u64(kind).ok_or(ValueError { at, kind: ValueErrorKind::JsonKind(kind) })
    }

    /// Reads an `f64` (8 bytes, little endian).
    pub(crate) fn f64(&mut self) -> Result<f64, ValueError> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
}

/// Appends the canonical text of a UUID: hyphenated, lower case.
pub(crate) fn write_uuid(out: &mut Vec<u8>, bytes: &[u8; 16]) {
    for (i, range) in [0..4, 4..6, 6..8, 8..10, 10..16].into_iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        json::write_hex(out, &bytes[range]);
    }
}

/// Appends `value`'s `Display` text as a JSON string (only for values whose
/// text needs no escaping: addresses).
fn write_display_str(out: &mut Vec<u8>, value: impl fmt::Display) {
    out.push(b'"');
    // Writing to a `Vec` cannot fail.
    let _ = write!(out, "{value}");
    out.push(b'"');
}

/// Output sink with the per-event size cap.
pub(crate) struct Out<'o> {
    pub buf: &'o mut Vec<u8>,
    /// `buf.len()` beyond which decoding fails with [`ValueErrorKind::TooLarge`].
    pub limit: usize,
}

impl Out<'_> {
    #[inline]
    fn check(&self, r: &Reader<'_>) -> Result<(), ValueError> {
        if self.buf.len() > self.limit {
            Err(r.err(ValueErrorKind::TooLarge))
        } else {
            Ok(())
        }
    }
}

/// Decodes the fields of an event or struct as the members of a JSON object
/// (without the braces). If `ranges` is given, the span of each field's value
/// in `out.buf` is pushed to it, in field order.
pub(crate) fn write_fields(
    fields: &[FieldTy],
    r: &mut Reader<'_>,
    out: &mut Out<'_>,
    ranges: Option<&mut Vec<(usize, usize)>>,
) -> Result<(), ValueError> {
    write_fields_keyed(fields, true, r, out, ranges)
}

/// [`write_fields`] for the top-level fields of an event, whose first key
/// the caller has already written (it is part of a pre-rendered run).
#[inline]
pub(crate) fn write_event_fields(
    fields: &[FieldTy],
    r: &mut Reader<'_>,
    out: &mut Out<'_>,
    ranges: Option<&mut Vec<(usize, usize)>>,
) -> Result<(), ValueError> {
    write_fields_keyed(fields, false, r, out, ranges)
}

#[inline(always)]
fn write_fields_keyed(
    fields: &[FieldTy],
    first_key: bool,
    r: &mut Reader<'_>,
    out: &mut Out<'_>,
    mut ranges: Option<&mut Vec<(usize, usize)>>,
) -> Result<(), ValueError> {
    for (i, f) in fields.iter().enumerate() {
        if first_key || i > 0 {
            f.key.write(out.buf);
        }
        let start = out.buf.len();
        if f.redacted {
            out.buf.extend_from_slice(REDACTED);
        } else {
            write_value(&f.ty, r, out)?;
        }
        if let Some(ranges) = ranges.as_deref_mut() {
            ranges.push((start, out.buf.len()));
        }
    }
    out.check(r)
}

fn write_elements<'t>(
    tys: impl Iterator<Item = &'t Ty>,
    r: &mut Reader<'_>,
    out: &mut Out<'_>,
) -> Result<(), ValueError> {
    out.buf.push(b'[');
    for (i, t) in tys.enumerate() {
        if i > 0 {
            out.buf.push(b',');
        }
        write_value(t, r, out)?;
        out.check(r)?;
    }
    out.buf.push(b']');
    Ok(())
}

/// Decodes one value of type `ty` and appends its JSON text.
///
/// Scalars are handled inline (this function is inlined into its callers);
/// composite values go through [`write_composite`].
#[inline(always)]
pub(crate) fn write_value(ty: &Ty, r: &mut Reader<'_>, out: &mut Out<'_>) -> Result<(), ValueError> {
    match ty {
        Ty::Bool => {
            let at = r.pos;
            match r.byte()? {
                0 => out.buf.extend_from_slice(b"false"),
                1 => out.buf.extend_from_slice(b"true"),
                b => return Err(ValueError { at, kind: ValueErrorKind::Bool(b) }),
            }
        }
        Ty::U8 => json::write_int(out.buf, r.byte()?),
        Ty::U16 => json::write_int(out.buf, r.uint(16)?),
        Ty::U32 => json::write_int(out.buf, r.uint(32)?),
        Ty::U64 => json::write_int(out.buf, r.uint(64)?),
        Ty::U128 => json::write_int(out.buf, r.u128()?),
        Ty::I8 => json::write_int(out.buf, r.byte()? as i8),
        Ty::I16 => json::write_int(out.buf, varint::unzigzag_i64(r.uint(16)?)),
        Ty::I32 => json::write_int(out.buf, varint::unzigzag_i64(r.uint(32)?)),
        Ty::I64 => json::write_int(out.buf, varint::unzigzag_i64(r.uint(64)?)),
        Ty::I128 => json::write_int(out.buf, varint::unzigzag_i128(r.u128()?)),
        Ty::F32 => {
            let b = r.take(4)?;
            json::write_f32(out.buf, f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        }
        Ty::F64 => {
            let b = r.take(8)?;
            json::write_f64(out.buf, f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
        }
        Ty::Char => {
            let at = r.pos;
            let s = r.str()?;
            let mut chars = s.chars();
            if chars.next().is_none() || chars.next().is_some() {
                return Err(ValueError { at, kind: ValueErrorKind::Char });
            }
            json::write_str(out.buf, s);
        }
        Ty::Str => {
            let at = r.pos;
            let (bytes, window) = r.len_prefixed_window()?;
            if !json::write_utf8_str_in(out.buf, bytes, window) {
                return Err(ValueError { at, kind: ValueErrorKind::Utf8 });
            }
        }
        Ty::Bytes => {
            let b = r.len_prefixed()?;
            out.buf.push(b'"');
            json::write_hex(out.buf, b);
            out.buf.push(b'"');
        }
        Ty::Unit => out.buf.extend_from_slice(b"null"),
        Ty::Quantity(_, t) => write_value(t, r, out)?,
        _ => write_composite(ty, r, out)?,
    }
    Ok(())
}

/// The composite half of [`write_value`], kept out of line.
#[inline(never)]
fn write_composite(ty: &Ty, r: &mut Reader<'_>, out: &mut Out<'_>) -> Result<(), ValueError> {
    match ty {
        Ty::Option(t) => {
            let at = r.pos;
            match r.byte()? {
                0 => out.buf.extend_from_slice(b"null"),
                1 => write_value(t, r, out)?,
                b => return Err(ValueError { at, kind: ValueErrorKind::OptionTag(b) }),
            }
        }
        Ty::Seq(t, zero) => {
            let n = r.count(*zero)?;
            write_elements(std::iter::repeat_n(&**t, n as usize), r, out)?;
        }
        Ty::Array(n, t) => write_elements(std::iter::repeat_n(&**t, *n as usize), r, out)?,
        Ty::Tuple(ts) => write_elements(ts.iter(), r, out)?,
        Ty::Map(k, v, zero) => {
            let n = r.count(*zero)?;
            out.buf.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.buf.push(b',');
                }
                write_key(k, r, out)?;
                out.buf.push(b':');
                write_value(v, r, out)?;
                out.check(r)?;
            }
            out.buf.push(b'}');
        }
        Ty::Struct(st) => {
            out.buf.push(b'{');
            write_fields(&st.fields, r, out, None)?;
            out.buf.push(b'}');
        }
        Ty::Enum(en) => {
            let at = r.pos;
            let idx = r.varint()?;
            let Some(v) = usize::try_from(idx).ok().and_then(|i| en.variants.get(i)) else {
                return Err(ValueError { at, kind: ValueErrorKind::Variant(idx) });
            };
            match &v.kind {
                VariantTyKind::Unit => out.buf.extend_from_slice(&v.json_name),
                kind => {
                    out.buf.push(b'{');
                    out.buf.extend_from_slice(&v.json_name);
                    out.buf.push(b':');
                    match kind {
                        VariantTyKind::Newtype(t) => write_value(t, r, out)?,
                        VariantTyKind::Tuple(ts) => write_elements(ts.iter(), r, out)?,
                        VariantTyKind::Struct(fields) => {
                            out.buf.push(b'{');
                            write_fields(fields, r, out, None)?;
                            out.buf.push(b'}');
                        }
                        VariantTyKind::Unit => {}
                    }
                    out.buf.push(b'}');
                }
            }
        }
        Ty::Timestamp => {
            let nanos = r.timestamp()?;
            out.buf.push(b'"');
            json::TimestampFormatter::new().write(out.buf, nanos);
            out.buf.push(b'"');
        }
        Ty::IpAddr => write_display_str(out.buf, r.ip()?),
        Ty::SocketAddr => write_display_str(out.buf, r.socket_addr()?),
        Ty::Uuid => {
            let bytes = r.uuid()?;
            out.buf.push(b'"');
            write_uuid(out.buf, &bytes);
            out.buf.push(b'"');
        }
        Ty::Json => write_json(r, out, 0)?,
        _ => write_value(ty, r, out)?,
    }
    Ok(())
}

/// Decodes a [`Ty::Json`] value (FORMAT.md, "JSON values") into its JSON text.
fn write_json(r: &mut Reader<'_>, out: &mut Out<'_>, depth: usize) -> Result<(), ValueError> {
    if depth >= MAX_JSON_DEPTH {
        return Err(r.err(ValueErrorKind::TooDeep));
    }
    match r.json_kind()? {
        JsonKind::Null => out.buf.extend_from_slice(b"null"),
        JsonKind::False => out.buf.extend_from_slice(b"false"),
        JsonKind::True => out.buf.extend_from_slice(b"true"),
        JsonKind::U64 => json::write_int(out.buf, r.uint(64)?),
        JsonKind::I64 => json::write_int(out.buf, varint::unzigzag_i64(r.uint(64)?)),
        JsonKind::F64 => json::write_f64(out.buf, r.f64()?),
        JsonKind::String => {
            let s = r.str()?;
            json::write_str(out.buf, s);
        }
        JsonKind::Array => {
            let n = r.count(false)?;
            out.buf.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.buf.push(b',');
                }
                write_json(r, out, depth + 1)?;
                out.check(r)?;
            }
            out.buf.push(b']');
        }
        JsonKind::Object => {
            let n = r.count(false)?;
            out.buf.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.buf.push(b',');
                }
                let key = r.str()?;
                json::write_str(out.buf, key);
                out.buf.push(b':');
                write_json(r, out, depth + 1)?;
                out.check(r)?;
            }
            out.buf.push(b'}');
        }
    }
    Ok(())
}

/// Decodes a map key and appends it as a JSON object key (a string):
/// strings and chars as themselves, any other value whose JSON text is a
/// string (bytes, unit variants, NaN...) as that string, and everything else
/// (numbers, bools, null, arrays, objects) as its compact JSON text.
fn write_key(ty: &Ty, r: &mut Reader<'_>, out: &mut Out<'_>) -> Result<(), ValueError> {
    match ty {
        Ty::Str | Ty::Char | Ty::Bytes => write_value(ty, r, out),
        Ty::U8
        | Ty::U16
        | Ty::U32
        | Ty::U64
        | Ty::U128
        | Ty::I8
        | Ty::I16
        | Ty::I32
        | Ty::I64
        | Ty::I128
        | Ty::Bool => {
            out.buf.push(b'"');
            write_value(ty, r, out)?;
            out.buf.push(b'"');
            Ok(())
        }
        _ => {
            let start = out.buf.len();
            write_value(ty, r, out)?;
            if out.buf.get(start) != Some(&b'"') {
                let text = out.buf.split_off(start);
                out.buf.push(b'"');
                json::write_str_contents(out.buf, &text);
                out.buf.push(b'"');
            }
            Ok(())
        }
    }
}

/// Appends a field's JSON text (as written by [`write_fields`]) the way a
/// message placeholder shows it: strings without their quotes (their
/// contents are already escaped for the enclosing message string), numbers,
/// bools and null as they are, arrays and objects as escaped JSON text.
#[inline]
pub(crate) fn write_placeholder(out: &mut Vec<u8>, value_json: &[u8]) {
    match value_json.first() {
        Some(b'"') if value_json.len() >= 2 => out.extend_from_slice(&value_json[1..value_json.len() - 1]),
        Some(b'{' | b'[') => json::write_str_contents(out, value_json),
        _ => out.extend_from_slice(value_json),
    }
}
