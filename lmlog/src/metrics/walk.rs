//! Reading records back on the writer thread: where each one ends, and the
//! numbers in its metric fields. Records carry no length, so finding the
//! next one means stepping over every field by its type descriptor
//! (FORMAT.md, "Records" and "Type descriptors").
//!
//! The bytes come from this process's own producers, so a record that does
//! not parse is a bug, not hostile input; the reader still never reads out
//! of bounds or recurses without a limit: it returns `None` and the caller
//! stops walking that stretch.

use lmlog_format::frame::{RecordHeader, DROP_REPORT_ID, TRACE_CONTEXT_LEN};
use lmlog_format::types::{JsonKind, MAX_JSON_DEPTH};
use lmlog_format::varint::{read_u128, read_u64, unzigzag_i128, unzigzag_i64, MAX_VARINT_U128};
use lmlog_format::{TypeDesc, VariantKindDesc};

/// How deep type descriptors nest before the reader gives up (as the
/// decoder bounds them).
const MAX_TYPE_DEPTH: usize = 64;

/// A position in a stretch of records.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Reads a record's header (id, tick delta, trace context, extension
    /// block) and returns its call-site id; a drop report ([`DROP_REPORT_ID`])
    /// is read whole.
    pub(crate) fn record_header(&mut self) -> Option<u32> {
        let header = RecordHeader::decode(self.varint()?, lmlog_format::FORMAT_VERSION);
        self.skip_varint()?; // tick delta
        if header.has_trace {
            self.skip(TRACE_CONTEXT_LEN)?;
        }
        if header.has_extensions {
            let len = self.len()?;
            self.skip(len)?;
        }
        let id = u32::try_from(header.callsite).ok()?;
        if id == DROP_REPORT_ID {
            self.skip_varint()?; // events dropped
        }
        Some(id)
    }

    /// Steps over a value of type `ty`.
    pub(crate) fn skip_value(&mut self, ty: &TypeDesc) -> Option<()> {
        self.skip_nested(ty, 0)
    }

    /// Reads a number of type `ty` (an integer or a float) as an `f64`;
    /// `None` for any other type (then nothing is read) or a bad value.
    pub(crate) fn number(&mut self, ty: &TypeDesc) -> Option<f64> {
        Some(match ty {
            TypeDesc::U8 => self.byte()? as f64,
            TypeDesc::I8 => self.byte()? as i8 as f64,
            TypeDesc::U16 | TypeDesc::U32 | TypeDesc::U64 => self.varint()? as f64,
            TypeDesc::I16 | TypeDesc::I32 | TypeDesc::I64 => unzigzag_i64(self.varint()?) as f64,
            TypeDesc::U128 => self.varint_u128()? as f64,
            TypeDesc::I128 => unzigzag_i128(self.varint_u128()?) as f64,
            TypeDesc::F32 => f32::from_le_bytes(self.array()?) as f64,
            TypeDesc::F64 => f64::from_le_bytes(self.array()?),
            _ => return None,
        })
    }

    fn skip_nested(&mut self, ty: &TypeDesc, depth: usize) -> Option<()> {
        if depth > MAX_TYPE_DEPTH {
            return None;
        }
        let depth = depth + 1;
        match ty {
            TypeDesc::Unit => {}
            TypeDesc::Bool | TypeDesc::U8 | TypeDesc::I8 => self.skip(1)?,
            TypeDesc::U16
            | TypeDesc::U32
            | TypeDesc::U64
            | TypeDesc::I16
            | TypeDesc::I32
            | TypeDesc::I64
            | TypeDesc::U128
            | TypeDesc::I128
            | TypeDesc::Timestamp => self.skip_varint()?,
            TypeDesc::F32 => self.skip(4)?,
            TypeDesc::F64 => self.skip(8)?,
            TypeDesc::Uuid => self.skip(16)?,
            TypeDesc::Char | TypeDesc::Str | TypeDesc::Bytes | TypeDesc::IpAddr => {
                let len = self.len()?;
                self.skip(len)?
            }
            TypeDesc::SocketAddr => {
                let len = self.len()?;
                self.skip(len)?;
                self.skip_varint()?
            }
            TypeDesc::Option(inner) => {
                if self.byte()? != 0 {
                    self.skip_nested(inner, depth)?
                }
            }
            TypeDesc::Seq(element) => {
                for _ in 0..self.count()? {
                    self.skip_nested(element, depth)?
                }
            }
            TypeDesc::Array(n, element) => {
                for _ in 0..*n {
                    self.skip_nested(element, depth)?
                }
            }
            TypeDesc::Tuple(elements) => {
                for element in *elements {
                    self.skip_nested(element, depth)?
                }
            }
            TypeDesc::Map(key, value) => {
                for _ in 0..self.count()? {
                    self.skip_nested(key, depth)?;
                    self.skip_nested(value, depth)?
                }
            }
            TypeDesc::Struct(_, fields) => self.skip_fields(fields, depth)?,
            TypeDesc::Enum(_, variants) => {
                let index = usize::try_from(self.varint()?).ok()?;
                match variants.get(index)?.kind {
                    VariantKindDesc::Unit => {}
                    VariantKindDesc::Newtype(inner) => self.skip_nested(inner, depth)?,
                    VariantKindDesc::Tuple(elements) => {
                        for element in elements {
                            self.skip_nested(element, depth)?
                        }
                    }
                    VariantKindDesc::Struct(fields) => self.skip_fields(fields, depth)?,
                }
            }
            TypeDesc::Quantity(_, inner) => self.skip_nested(inner, depth)?,
            TypeDesc::Json => self.skip_json(0)?,
        }
        Some(())
    }

    /// Steps over a struct's fields (redacted ones have no bytes).
    fn skip_fields(&mut self, fields: &[lmlog_format::FieldDesc], depth: usize) -> Option<()> {
        for field in fields.iter().filter(|f| !f.redacted) {
            self.skip_nested(field.ty, depth)?
        }
        Some(())
    }

    fn skip_json(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        match JsonKind::from_u64(self.varint()?)? {
            JsonKind::Null | JsonKind::False | JsonKind::True => {}
            JsonKind::U64 | JsonKind::I64 => self.skip_varint()?,
            JsonKind::F64 => self.skip(8)?,
            JsonKind::String => {
                let len = self.len()?;
                self.skip(len)?
            }
            JsonKind::Array => {
                for _ in 0..self.count()? {
                    self.skip_json(depth + 1)?
                }
            }
            JsonKind::Object => {
                for _ in 0..self.count()? {
                    let len = self.len()?;
                    self.skip(len)?;
                    self.skip_json(depth + 1)?
                }
            }
        }
        Some(())
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(byte)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.bytes.get(self.pos..self.pos.checked_add(N)?)?;
        self.pos += N;
        bytes.try_into().ok()
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len())?;
        self.pos = end;
        Some(())
    }

    fn varint(&mut self) -> Option<u64> {
        let (value, len) = read_u64(self.bytes.get(self.pos..)?).ok()?;
        self.pos += len;
        Some(value)
    }

    fn varint_u128(&mut self) -> Option<u128> {
        let (value, len) = read_u128(self.bytes.get(self.pos..)?).ok()?;
        self.pos += len;
        Some(value)
    }

    /// Steps over a varint of any width (up to `u128`'s) without decoding
    /// it: to its first byte without the continuation bit.
    #[inline]
    fn skip_varint(&mut self) -> Option<()> {
        let rest = self.bytes.get(self.pos..)?;
        let len = rest.iter().take(MAX_VARINT_U128).position(|&byte| byte & 0x80 == 0)? + 1;
        self.pos += len;
        Some(())
    }

    /// A length: at most the bytes left.
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok().filter(|&len| len <= self.bytes.len() - self.pos)
    }

    /// An element count: each element takes at least one byte, except
    /// zero-sized ones, bounded by the bytes left all the same (the
    /// producer writes no more elements than that).
    fn count(&mut self) -> Option<usize> {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Encoder, LogValue};

    /// The bytes `value` encodes to.
    fn encoded<T: LogValue>(value: &T) -> Vec<u8> {
        let mut buf = vec![0u8; 256];
        let mut enc = Encoder::new(&mut buf);
        value.encode(&mut enc);
        assert!(!enc.overflowed());
        let len = enc.position();
        buf.truncate(len);
        buf
    }

    #[test]
    fn numbers_read_back_as_written() {
        fn check<T: LogValue + Copy + Into<f64>>(value: T) {
            let bytes = encoded(&value);
            let mut cursor = Cursor::new(&bytes);
            assert_eq!(cursor.number(T::TYPE), Some(value.into()), "{:?}", T::TYPE);
            assert!(cursor.is_empty());
        }
        check(200u8);
        check(-100i8);
        check(60_000u16);
        check(-30_000i16);
        check(4_000_000_000u32);
        check(-2_000_000_000i32);
        check(1.5f32);
        check(-12.25f64);
        let bytes = encoded(&u64::MAX);
        assert_eq!(Cursor::new(&bytes).number(&TypeDesc::U64), Some(u64::MAX as f64));
        let bytes = encoded(&i64::MIN);
        assert_eq!(Cursor::new(&bytes).number(&TypeDesc::I64), Some(i64::MIN as f64));
        let bytes = encoded(&(1u128 << 100));
        assert_eq!(Cursor::new(&bytes).number(&TypeDesc::U128), Some((1u128 << 100) as f64));
        let bytes = encoded(&-(1i128 << 90));
        assert_eq!(Cursor::new(&bytes).number(&TypeDesc::I128), Some(-(1i128 << 90) as f64));
        assert_eq!(Cursor::new(b"\x03abc").number(&TypeDesc::Str), None, "not a number");
        assert_eq!(Cursor::new(&[0x80]).number(&TypeDesc::U32), None, "cut short");
    }

    #[test]
    fn every_kind_of_value_is_stepped_over_exactly() {
        fn check<T: LogValue>(value: T) {
            let mut bytes = encoded(&value);
            bytes.push(0xAB);
            let mut cursor = Cursor::new(&bytes);
            cursor.skip_value(T::TYPE).unwrap_or_else(|| panic!("{:?} does not parse", T::TYPE));
            assert_eq!(cursor.byte(), Some(0xAB), "{:?} ends where it was written to", T::TYPE);
            // Any shorter stretch is refused, never read past.
            for cut in 0..bytes.len() - 1 {
                assert!(Cursor::new(&bytes[..cut]).skip_value(T::TYPE).is_none(), "{:?} cut at {cut}", T::TYPE);
            }
        }
        check(true);
        check(u128::MAX);
        check(-5i64);
        check('é');
        check("a string");
        check(Some(7u32));
        check(None::<u32>);
        check(vec![1u32, 300, 70_000]);
        check([1.0f32, 2.0]);
        check((1u8, "two", 3.0f64));
        check(std::collections::BTreeMap::from([("a", 1u32), ("b", 2)]));
        check(std::time::Duration::from_millis(1500));
        check(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
        check(std::net::SocketAddr::from(([10, 0, 0, 7], 9000)));
        check(std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]));
        check(std::io::Error::other("disk full"));
        check(());
    }

    #[test]
    fn record_headers_are_read_with_their_optional_parts() {
        let mut bytes = Vec::new();
        // id 5 with a trace context and an extension block, delta 3.
        lmlog_format::varint::push_u64(&mut bytes, 5 << 2 | 0b11);
        lmlog_format::varint::push_u64(&mut bytes, 6);
        bytes.extend_from_slice(&[0x11; TRACE_CONTEXT_LEN]);
        bytes.extend_from_slice(&[3, 1, 1, 9]);
        bytes.push(42); // a u8 field
                        // A drop report of 300 events.
        lmlog_format::varint::push_u64(&mut bytes, RecordHeader::encode(DROP_REPORT_ID, false));
        bytes.push(0);
        lmlog_format::varint::push_u64(&mut bytes, 300);
        let mut cursor = Cursor::new(&bytes);
        assert_eq!(cursor.record_header(), Some(5));
        assert_eq!(cursor.number(&TypeDesc::U8), Some(42.0));
        assert_eq!(cursor.record_header(), Some(DROP_REPORT_ID));
        assert!(cursor.is_empty());
        assert_eq!(Cursor::new(&bytes[..20]).record_header(), None, "a trace context cut short");
    }
}
