//! Stable 64-bit fingerprints, computable in `const` context.
//!
//! FNV-1a over the parts of a description, each followed by a 0xFF
//! separator (a byte that never occurs in UTF-8), so `("ab","c")` and
//! `("a","bc")` differ.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a hasher usable in `const fn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Fingerprint {
    /// The initial state.
    pub const fn new() -> Self {
        Fingerprint(OFFSET)
    }
    /// Mixes in a string followed by a separator.
    pub const fn str(self, s: &str) -> Self {
        self.bytes(s.as_bytes())
    }
    /// Mixes in bytes followed by a separator.
    pub const fn bytes(self, b: &[u8]) -> Self {
        let mut h = self.0;
        let mut i = 0;
        while i < b.len() {
            h ^= b[i] as u64;
            h = h.wrapping_mul(PRIME);
            i += 1;
        }
        h ^= 0xff;
        Fingerprint(h.wrapping_mul(PRIME))
    }
    /// Mixes in an integer (little-endian bytes).
    pub const fn u64(self, v: u64) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    /// The fingerprint value.
    pub const fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    /// Mixes in a type descriptor, recursively.
    pub const fn type_desc(self, t: &crate::types::TypeDesc) -> Self {
        use crate::types::{TypeDesc as T, VariantKindDesc as V};
        match *t {
            T::Bool => self.u64(0),
            T::U8 => self.u64(1),
            T::U16 => self.u64(2),
            T::U32 => self.u64(3),
            T::U64 => self.u64(4),
            T::U128 => self.u64(5),
            T::I8 => self.u64(6),
            T::I16 => self.u64(7),
            T::I32 => self.u64(8),
            T::I64 => self.u64(9),
            T::I128 => self.u64(10),
            T::F32 => self.u64(11),
            T::F64 => self.u64(12),
            T::Char => self.u64(13),
            T::Str => self.u64(14),
            T::Bytes => self.u64(15),
            T::Unit => self.u64(16),
            T::Option(inner) => self.u64(17).type_desc(inner),
            T::Seq(inner) => self.u64(18).type_desc(inner),
            T::Array(n, inner) => self.u64(19).u64(n as u64).type_desc(inner),
            T::Tuple(items) => {
                let mut fp = self.u64(20).u64(items.len() as u64);
                let mut i = 0;
                while i < items.len() {
                    fp = fp.type_desc(&items[i]);
                    i += 1;
                }
                fp
            }
            T::Map(k, v) => self.u64(21).type_desc(k).type_desc(v),
            T::Struct(name, fields) => self.u64(22).str(name).fields(fields),
            T::Enum(name, variants) => {
                let mut fp = self.u64(23).str(name).u64(variants.len() as u64);
                let mut i = 0;
                while i < variants.len() {
                    fp = fp.str(variants[i].name);
                    fp = match variants[i].kind {
                        V::Unit => fp.u64(0),
                        V::Newtype(t) => fp.u64(1).type_desc(t),
                        V::Tuple(items) => {
                            let mut f = fp.u64(2).u64(items.len() as u64);
                            let mut j = 0;
                            while j < items.len() {
                                f = f.type_desc(&items[j]);
                                j += 1;
                            }
                            f
                        }
                        V::Struct(fields) => fp.u64(3).fields(fields),
                    };
                    i += 1;
                }
                fp
            }
        }
    }

    /// Mixes in a field list: names, redaction flags and types.
    pub const fn fields(self, fields: &[crate::types::FieldDesc]) -> Self {
        let mut fp = self.u64(fields.len() as u64);
        let mut i = 0;
        while i < fields.len() {
            fp = fp.str(fields[i].name).u64(fields[i].redacted as u64).type_desc(fields[i].ty);
            i += 1;
        }
        fp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: u64 = Fingerprint::new().str("ab").str("c").finish();

    #[test]
    fn separates_parts_and_is_const() {
        assert_ne!(FP, Fingerprint::new().str("a").str("bc").finish());
        assert_eq!(FP, Fingerprint::new().str("ab").str("c").finish());
    }
}
