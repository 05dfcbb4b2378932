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
        let fp = self.u64(t.tag() as u64);
        match *t {
            T::Option(inner) | T::Seq(inner) => fp.type_desc(inner),
            T::Array(n, inner) => fp.u64(n as u64).type_desc(inner),
            T::Tuple(items) => {
                let mut fp = fp.u64(items.len() as u64);
                let mut i = 0;
                while i < items.len() {
                    fp = fp.type_desc(&items[i]);
                    i += 1;
                }
                fp
            }
            T::Map(k, v) => fp.type_desc(k).type_desc(v),
            T::Struct(name, fields) => fp.str(name).fields(fields),
            T::Quantity(unit, inner) => fp.str(unit).type_desc(inner),
            T::Enum(name, variants) => {
                let mut fp = fp.str(name).u64(variants.len() as u64);
                let mut i = 0;
                while i < variants.len() {
                    fp = fp.str(variants[i].name);
                    let kind = &variants[i].kind;
                    fp = fp.u64(kind.tag());
                    fp = match *kind {
                        V::Unit => fp,
                        V::Newtype(t) => fp.type_desc(t),
                        V::Tuple(items) => {
                            let mut f = fp.u64(items.len() as u64);
                            let mut j = 0;
                            while j < items.len() {
                                f = f.type_desc(&items[j]);
                                j += 1;
                            }
                            f
                        }
                        V::Struct(fields) => fp.fields(fields),
                    };
                    i += 1;
                }
                fp
            }
            _ => fp,
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
