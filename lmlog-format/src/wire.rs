//! Byte-level reading and writing of schema frames, in postcard's encoding.
//!
//! The reader bounds every length by the bytes that remain and every type by
//! [`MAX_TYPE_DEPTH`], so hostile input can neither exhaust memory nor the stack.

use crate::types::{
    Field, FieldDesc, Type, TypeDesc, TypeTag, Variant, VariantKind, VariantKindDesc, VARIANT_NEWTYPE, VARIANT_STRUCT,
    VARIANT_TUPLE, VARIANT_UNIT,
};
use crate::varint;

/// Deepest nesting of types a schema may describe.
pub const MAX_TYPE_DEPTH: usize = 64;

/// What went wrong while reading a schema payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload ended before the value did.
    #[error("payload ends early (needed {needed} more bytes at offset {offset})")]
    Truncated {
        /// Offset inside the payload.
        offset: usize,
        /// Bytes missing.
        needed: usize,
    },
    /// A varint overflowed its type.
    #[error("varint overflow at offset {offset}")]
    VarintOverflow {
        /// Offset inside the payload.
        offset: usize,
    },
    /// A tag or flag had a value the format does not define.
    #[error("invalid {what} {value} at offset {offset}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// The value found.
        value: u64,
        /// Offset inside the payload.
        offset: usize,
    },
    /// A string was not valid UTF-8.
    #[error("invalid UTF-8 at offset {offset}")]
    Utf8 {
        /// Offset inside the payload.
        offset: usize,
    },
    /// Types nest deeper than [`MAX_TYPE_DEPTH`].
    #[error("type nesting deeper than {MAX_TYPE_DEPTH} at offset {offset}")]
    TooDeep {
        /// Offset inside the payload.
        offset: usize,
    },
}

/// Appends postcard-encoded values to a `Vec<u8>`.
#[derive(Debug, Default)]
pub struct WireWriter {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl WireWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a varint.
    pub fn varint(&mut self, v: u64) {
        varint::push_u64(&mut self.buf, v);
    }
    /// Appends one raw byte.
    pub fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }
    /// Appends a length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }
    /// Appends an optional string (0, or 1 and the string).
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.byte(0),
            Some(s) => {
                self.byte(1);
                self.str(s);
            }
        }
    }
    /// Appends a `u64` as 8 little-endian bytes.
    pub fn u64_le(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Appends a type descriptor (see FORMAT.md, "Type descriptors"): its
    /// [`TypeTag`], then what the tag says follows.
    pub fn type_desc(&mut self, t: &TypeDesc) {
        self.varint(t.tag() as u64);
        match *t {
            TypeDesc::Option(inner) | TypeDesc::Seq(inner) => self.type_desc(inner),
            TypeDesc::Array(len, inner) => {
                self.varint(len as u64);
                self.type_desc(inner);
            }
            TypeDesc::Tuple(items) => {
                self.varint(items.len() as u64);
                for item in items {
                    self.type_desc(item);
                }
            }
            TypeDesc::Map(k, v) => {
                self.type_desc(k);
                self.type_desc(v);
            }
            TypeDesc::Struct(name, fields) => {
                self.str(name);
                self.fields(fields);
            }
            TypeDesc::Quantity(unit, inner) => {
                self.str(unit);
                self.type_desc(inner);
            }
            TypeDesc::Enum(name, variants) => {
                self.str(name);
                self.varint(variants.len() as u64);
                for v in variants {
                    self.str(v.name);
                    self.varint(v.kind.tag());
                    match v.kind {
                        VariantKindDesc::Unit => {}
                        VariantKindDesc::Newtype(t) => self.type_desc(t),
                        VariantKindDesc::Tuple(ts) => {
                            self.varint(ts.len() as u64);
                            for t in ts {
                                self.type_desc(t);
                            }
                        }
                        VariantKindDesc::Struct(fs) => self.fields(fs),
                    }
                }
            }
            _ => {}
        }
    }
    /// Appends a field list: count, then name, redacted flag and type of each.
    pub fn fields(&mut self, fields: &[FieldDesc]) {
        self.varint(fields.len() as u64);
        for f in fields {
            self.str(f.name);
            self.byte(f.redacted as u8);
            self.type_desc(f.ty);
        }
    }
}

/// Reads postcard-encoded values from a byte slice, with bounds.
#[derive(Debug, Clone)]
pub struct WireReader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> WireReader<'a> {
    /// A reader at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }
    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }
    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }
    /// Reads a varint.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        match varint::read_u64(self.remaining()) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(varint::VarintError::Truncated) => Err(WireError::Truncated { offset: self.pos, needed: 1 }),
            Err(varint::VarintError::Overflow) => Err(WireError::VarintOverflow { offset: self.pos }),
        }
    }
    /// Reads a varint that must fit in a `u32`.
    pub fn varint_u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        let at = self.pos;
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| WireError::Invalid { what, value: v, offset: at })
    }
    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let rest = self.remaining();
        if rest.len() < n {
            return Err(WireError::Truncated { offset: self.pos, needed: n - rest.len() });
        }
        self.pos += n;
        Ok(&rest[..n])
    }
    /// Reads one byte.
    pub fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }
    /// Reads a byte that must be 0 or 1.
    pub fn bool(&mut self, what: &'static str) -> Result<bool, WireError> {
        let at = self.pos;
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(WireError::Invalid { what, value: v as u64, offset: at }),
        }
    }
    /// Reads a length-prefixed byte string; the length is bounded by the input.
    pub fn len_prefixed(&mut self) -> Result<&'a [u8], WireError> {
        let at = self.pos;
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| WireError::Invalid { what: "length", value: len, offset: at })?;
        self.bytes(len)
    }
    /// Reads a length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str, WireError> {
        let at = self.pos;
        let bytes = self.len_prefixed()?;
        std::str::from_utf8(bytes).map_err(|_| WireError::Utf8 { offset: at })
    }
    /// Reads an optional string.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>, WireError> {
        if self.bool("option tag")? {
            Ok(Some(self.str()?))
        } else {
            Ok(None)
        }
    }
    /// Reads 8 little-endian bytes.
    pub fn u64_le(&mut self) -> Result<u64, WireError> {
        let b = self.bytes(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    /// Reads a count of items that each take at least one byte, so the
    /// count cannot exceed the bytes left.
    fn count(&mut self, what: &'static str) -> Result<usize, WireError> {
        let at = self.pos;
        let n = self.varint()?;
        if n > self.remaining().len() as u64 {
            return Err(WireError::Invalid { what, value: n, offset: at });
        }
        Ok(n as usize)
    }
    /// Reads a type descriptor.
    pub fn type_desc(&mut self) -> Result<Type, WireError> {
        self.type_at_depth(0)
    }
    fn type_at_depth(&mut self, depth: usize) -> Result<Type, WireError> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(WireError::TooDeep { offset: self.pos });
        }
        let at = self.pos;
        let tag = self.varint()?;
        let Some(tag) = TypeTag::from_u64(tag) else {
            return Err(WireError::Invalid { what: "type tag", value: tag, offset: at });
        };
        let d = depth + 1;
        Ok(match tag {
            TypeTag::Bool => Type::Bool,
            TypeTag::U8 => Type::U8,
            TypeTag::U16 => Type::U16,
            TypeTag::U32 => Type::U32,
            TypeTag::U64 => Type::U64,
            TypeTag::U128 => Type::U128,
            TypeTag::I8 => Type::I8,
            TypeTag::I16 => Type::I16,
            TypeTag::I32 => Type::I32,
            TypeTag::I64 => Type::I64,
            TypeTag::I128 => Type::I128,
            TypeTag::F32 => Type::F32,
            TypeTag::F64 => Type::F64,
            TypeTag::Char => Type::Char,
            TypeTag::Str => Type::Str,
            TypeTag::Bytes => Type::Bytes,
            TypeTag::Unit => Type::Unit,
            TypeTag::Option => Type::Option(Box::new(self.type_at_depth(d)?)),
            TypeTag::Seq => Type::Seq(Box::new(self.type_at_depth(d)?)),
            TypeTag::Array => {
                let len = self.varint_u32("array length")?;
                Type::Array(len, Box::new(self.type_at_depth(d)?))
            }
            TypeTag::Tuple => {
                let n = self.count("tuple length")?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.type_at_depth(d)?);
                }
                Type::Tuple(items)
            }
            TypeTag::Map => {
                let k = self.type_at_depth(d)?;
                let v = self.type_at_depth(d)?;
                Type::Map(Box::new(k), Box::new(v))
            }
            TypeTag::Struct => {
                let name = self.str()?.to_owned();
                Type::Struct(name, self.fields_at_depth(d)?)
            }
            TypeTag::Enum => {
                let name = self.str()?.to_owned();
                let n = self.count("variant count")?;
                let mut variants = Vec::with_capacity(n);
                for _ in 0..n {
                    let vname = self.str()?.to_owned();
                    let kind_at = self.pos;
                    let kind = match self.varint()? {
                        VARIANT_UNIT => VariantKind::Unit,
                        VARIANT_NEWTYPE => VariantKind::Newtype(self.type_at_depth(d)?),
                        VARIANT_TUPLE => {
                            let n = self.count("tuple length")?;
                            let mut items = Vec::with_capacity(n);
                            for _ in 0..n {
                                items.push(self.type_at_depth(d)?);
                            }
                            VariantKind::Tuple(items)
                        }
                        VARIANT_STRUCT => VariantKind::Struct(self.fields_at_depth(d)?),
                        other => {
                            return Err(WireError::Invalid { what: "variant kind", value: other, offset: kind_at })
                        }
                    };
                    variants.push(Variant { name: vname, kind });
                }
                Type::Enum(name, variants)
            }
            TypeTag::Timestamp => Type::Timestamp,
            TypeTag::IpAddr => Type::IpAddr,
            TypeTag::SocketAddr => Type::SocketAddr,
            TypeTag::Uuid => Type::Uuid,
            TypeTag::Quantity => {
                let unit = self.str()?.to_owned();
                Type::Quantity(unit, Box::new(self.type_at_depth(d)?))
            }
            TypeTag::Json => Type::Json,
        })
    }
    /// Reads a field list.
    pub fn fields(&mut self) -> Result<Vec<Field>, WireError> {
        self.fields_at_depth(0)
    }
    fn fields_at_depth(&mut self, depth: usize) -> Result<Vec<Field>, WireError> {
        let n = self.count("field count")?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.str()?.to_owned();
            let redacted = self.bool("redacted flag")?;
            let ty = self.type_at_depth(depth)?;
            fields.push(Field { name, ty, redacted });
        }
        Ok(fields)
    }
}
