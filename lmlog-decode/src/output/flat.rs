//! What the text outputs ([`Pretty`](super::Pretty), [`Logfmt`](super::Logfmt),
//! [`OtelJson`](super::OtelJson)) read of an event's fields, in one pass:
//! every scalar under its dotted key (`order.items.0.sku`), and the compact
//! JSON text of every top-level value.

use std::net::{IpAddr, SocketAddr};

use crate::events::{JsonText, SeqKind, Visitor};
use crate::json;

/// One scalar value of a field, or what stands for an empty composite.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Bool(bool),
    U64(u64),
    I64(i64),
    /// A `u128` or `i128`, as decimal text.
    Big(String),
    F32(f32),
    F64(f64),
    Str(&'a str),
    /// Text the decoder made: a timestamp's RFC 3339 text, an address, a UUID.
    Text(String),
    Char(char),
    Bytes(&'a [u8]),
    /// `None` or `()`.
    Null,
    /// A redacted field.
    Redacted,
    /// An empty sequence (`true`) or map or struct (`false`).
    Empty(bool),
}

impl Scalar<'_> {
    /// The value as plain text: strings as they are, bytes in hex, numbers
    /// as the JSON Lines output writes them.
    pub fn text(&self, out: &mut String) {
        use std::fmt::Write;
        let mut buf = Vec::new();
        match self {
            Scalar::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
            Scalar::U64(v) => {
                let _ = write!(out, "{v}");
            }
            Scalar::I64(v) => {
                let _ = write!(out, "{v}");
            }
            Scalar::Big(v) => out.push_str(v),
            Scalar::F32(v) => {
                json::write_f32(&mut buf, *v);
                out.push_str(std::str::from_utf8(&buf).unwrap_or_default().trim_matches('"'));
            }
            Scalar::F64(v) => {
                json::write_f64(&mut buf, *v);
                out.push_str(std::str::from_utf8(&buf).unwrap_or_default().trim_matches('"'));
            }
            Scalar::Str(s) => out.push_str(s),
            Scalar::Text(s) => out.push_str(s),
            Scalar::Char(c) => out.push(*c),
            Scalar::Bytes(b) => {
                json::write_hex(&mut buf, b);
                out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
            }
            Scalar::Null => out.push_str("null"),
            Scalar::Redacted => out.push_str("<redacted>"),
            Scalar::Empty(seq) => out.push_str(if *seq { "[]" } else { "{}" }),
        }
    }
}

/// An open composite value.
#[derive(Debug)]
enum Frame {
    /// A sequence with `n` elements so far.
    Seq {
        base: usize,
        n: usize,
        entries_at: usize,
    },
    /// A map with `n` keys and values so far; `key` is the last key's text.
    Map {
        base: usize,
        n: usize,
        key: String,
        entries_at: usize,
    },
    Struct {
        base: usize,
        entries_at: usize,
    },
    Variant,
    /// A composite used as a map key: only its nesting is followed.
    Skipped,
}

/// A [`Visitor`] that flattens an event's fields (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Flat<'a> {
    /// Every scalar, with its dotted key.
    pub entries: Vec<(String, Scalar<'a>)>,
    /// Top-level field names with where their value's JSON starts in `json.buf`.
    pub top: Vec<(&'a str, usize)>,
    /// The compact JSON text of the top-level values, back to back.
    pub json: JsonText,
    /// The dotted key of the value being read.
    key: String,
    stack: Vec<Frame>,
    /// Depth of composites inside a composite map key.
    skipping: usize,
    /// The next value is a quantity with a unit (a `Duration`).
    quantity: bool,
}

impl<'a> Flat<'a> {
    /// The JSON text of top-level field `i`.
    pub fn top_json(&self, i: usize) -> &[u8] {
        let start = self.top[i].1;
        let end = self.top.get(i + 1).map_or(self.json.buf.len(), |t| t.1);
        &self.json.buf[start..end]
    }

    /// Sets `key` for the value about to start; `false` if it is a map key
    /// (whose text becomes the key of the value after it).
    fn slot(&mut self) -> bool {
        match self.stack.last_mut() {
            Some(Frame::Seq { base, n, .. }) => {
                self.key.truncate(*base);
                self.key.push('.');
                self.key.push_str(&n.to_string());
                *n += 1;
                true
            }
            Some(Frame::Map { base, n, key, .. }) => {
                *n += 1;
                if *n % 2 == 1 {
                    return false;
                }
                self.key.truncate(*base);
                self.key.push('.');
                self.key.push_str(key);
                true
            }
            _ => true,
        }
    }

    fn scalar(&mut self, v: Scalar<'a>) {
        self.quantity = false;
        if self.skipping > 0 {
            return;
        }
        if self.slot() {
            self.entries.push((self.key.clone(), v));
        } else if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            key.clear();
            v.text(key);
        }
    }

    /// Whether a nested value starting here gets a frame of its own; if
    /// not (inside a skipped value, or where the value has no slot), it is
    /// skipped whole and this notes it.
    fn opens(&mut self) -> bool {
        if self.skipping > 0 {
            self.skipping += 1;
            return false;
        }
        if !self.slot() {
            if let Some(Frame::Map { n, key, .. }) = self.stack.last_mut() {
                *key = (*n / 2).to_string();
            }
            self.skipping = 1;
            self.stack.push(Frame::Skipped);
            return false;
        }
        true
    }

    fn begin(&mut self, frame: impl FnOnce(usize, usize) -> Frame) {
        if !self.opens() {
            return;
        }
        let f = frame(self.key.len(), self.entries.len());
        self.stack.push(f);
    }

    fn end(&mut self) {
        if self.skipping > 1 {
            self.skipping -= 1;
            return;
        }
        self.skipping = 0;
        let (base, entries_at, seq) = match self.stack.pop() {
            Some(Frame::Seq { base, entries_at, .. }) => (base, entries_at, true),
            Some(Frame::Map { base, entries_at, .. }) => (base, entries_at, false),
            Some(Frame::Struct { base, entries_at }) => (base, entries_at, false),
            _ => return,
        };
        self.key.truncate(base);
        if self.entries.len() == entries_at {
            self.entries.push((self.key.clone(), Scalar::Empty(seq)));
        }
    }
}

impl<'a> Visitor<'a> for Flat<'a> {
    fn field(&mut self, name: &'a str) {
        if self.json.at_top() {
            self.top.push((name, self.json.buf.len()));
        } else {
            self.json.field(name);
        }
        if self.skipping > 0 {
            return;
        }
        match self.stack.last() {
            Some(Frame::Struct { base, .. }) => {
                self.key.truncate(*base);
                self.key.push('.');
            }
            _ => self.key.clear(),
        }
        self.key.push_str(name);
    }
    fn redacted(&mut self) {
        self.json.redacted();
        // A redacted field has no value call: its key is already set.
        if self.skipping == 0 {
            self.entries.push((self.key.clone(), Scalar::Redacted));
        }
    }
    fn bool(&mut self, v: bool) {
        self.json.bool(v);
        self.scalar(Scalar::Bool(v));
    }
    fn u64(&mut self, v: u64) {
        self.json.u64(v);
        self.scalar(Scalar::U64(v));
    }
    fn u128(&mut self, v: u128) {
        self.json.u128(v);
        // A quantity (a `Duration` in nanoseconds) is a `u128` that nearly
        // always fits in 64 bits: an integer where it does.
        match u64::try_from(v) {
            Ok(small) if std::mem::take(&mut self.quantity) => self.scalar(Scalar::U64(small)),
            _ => self.scalar(Scalar::Big(v.to_string())),
        }
    }
    fn quantity(&mut self, unit: &'a str) {
        self.json.quantity(unit);
        self.quantity = true;
    }
    fn i64(&mut self, v: i64) {
        self.json.i64(v);
        self.scalar(Scalar::I64(v));
    }
    fn i128(&mut self, v: i128) {
        self.json.i128(v);
        self.scalar(Scalar::Big(v.to_string()));
    }
    fn f32(&mut self, v: f32) {
        self.json.f32(v);
        self.scalar(Scalar::F32(v));
    }
    fn f64(&mut self, v: f64) {
        self.json.f64(v);
        self.scalar(Scalar::F64(v));
    }
    fn char(&mut self, v: char) {
        self.json.char(v);
        self.scalar(Scalar::Char(v));
    }
    fn str(&mut self, v: &'a str) {
        self.json.str(v);
        self.scalar(Scalar::Str(v));
    }
    fn bytes(&mut self, v: &'a [u8]) {
        self.json.bytes(v);
        self.scalar(Scalar::Bytes(v));
    }
    fn unit(&mut self) {
        self.json.unit();
        self.scalar(Scalar::Null);
    }
    fn none(&mut self) {
        self.json.none();
        self.scalar(Scalar::Null);
    }
    fn begin_seq(&mut self, kind: SeqKind, len: usize) {
        self.json.begin_seq(kind, len);
        self.begin(|base, entries_at| Frame::Seq { base, n: 0, entries_at });
    }
    fn end_seq(&mut self) {
        self.json.end_seq();
        self.end();
    }
    fn begin_map(&mut self, len: usize) {
        self.json.begin_map(len);
        self.begin(|base, entries_at| Frame::Map { base, n: 0, key: String::new(), entries_at });
    }
    fn end_map(&mut self) {
        self.json.end_map();
        self.end();
    }
    fn begin_struct(&mut self, name: &'a str) {
        self.json.begin_struct(name);
        self.begin(|base, entries_at| Frame::Struct { base, entries_at });
    }
    fn end_struct(&mut self) {
        self.json.end_struct();
        self.end();
    }
    fn begin_variant(&mut self, enum_name: &'a str, variant: &'a str, index: u32, unit: bool) {
        self.json.begin_variant(enum_name, variant, index, unit);
        if unit {
            // A unit variant is a value of its own: its name.
            self.scalar(Scalar::Str(variant));
            if self.skipping > 0 {
                self.skipping += 1;
            } else {
                self.stack.push(Frame::Variant);
            }
            return;
        }
        if !self.opens() {
            return;
        }
        // The content goes under `key.Variant`.
        self.key.push('.');
        self.key.push_str(variant);
        self.stack.push(Frame::Variant);
    }
    fn timestamp(&mut self, unix_nanos: i128) {
        self.json.timestamp(unix_nanos);
        self.scalar(Scalar::Text(json::format_timestamp(unix_nanos)));
    }
    fn ip_addr(&mut self, v: IpAddr) {
        self.json.ip_addr(v);
        self.scalar(Scalar::Text(v.to_string()));
    }
    fn socket_addr(&mut self, v: SocketAddr) {
        self.json.socket_addr(v);
        self.scalar(Scalar::Text(v.to_string()));
    }
    fn uuid(&mut self, v: [u8; 16]) {
        self.json.uuid(v);
        let mut text = Vec::with_capacity(36);
        crate::record::write_uuid(&mut text, &v);
        self.scalar(Scalar::Text(String::from_utf8(text).unwrap_or_default()));
    }
    fn end_variant(&mut self) {
        self.json.end_variant();
        if self.skipping > 1 {
            self.skipping -= 1;
            return;
        }
        if self.skipping == 1 {
            self.skipping = 0;
            self.stack.pop();
            return;
        }
        self.stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'a>(flat: &'a Flat<'_>) -> Vec<(&'a str, String)> {
        flat.entries
            .iter()
            .map(|(k, v)| {
                let mut text = String::new();
                v.text(&mut text);
                (k.as_str(), text)
            })
            .collect()
    }

    #[test]
    fn nested_values_get_dotted_keys() {
        let mut f = Flat::default();
        f.field("order");
        f.begin_struct("Order");
        f.field("items");
        f.begin_seq(SeqKind::Seq, 2);
        f.begin_struct("Item");
        f.field("sku");
        f.str("A-1");
        f.end_struct();
        f.begin_variant("Kind", "Gift", 0, true);
        f.end_variant();
        f.end_seq();
        f.field("meta");
        f.begin_map(2);
        f.str("a b");
        f.u8(1);
        // A composite key: its content is skipped, the entry is numbered.
        f.begin_seq(SeqKind::Tuple, 2);
        f.u8(1);
        f.u8(2);
        f.end_seq();
        f.begin_variant("Shape", "Circle", 1, false);
        f.f32(0.1);
        f.end_variant();
        f.end_map();
        f.field("none");
        f.begin_struct("Empty");
        f.end_struct();
        f.end_struct();
        f.field("pin");
        f.redacted();
        f.field("n");
        f.some();
        f.i128(-5);
        assert_eq!(
            keys(&f),
            [
                ("order.items.0.sku", "A-1".to_owned()),
                ("order.items.1", "Gift".to_owned()),
                ("order.meta.a b", "1".to_owned()),
                ("order.meta.1.Circle", "0.1".to_owned()),
                ("order.none", "{}".to_owned()),
                ("pin", "<redacted>".to_owned()),
                ("n", "-5".to_owned()),
            ]
        );
        assert_eq!(f.top.iter().map(|t| t.0).collect::<Vec<_>>(), ["order", "pin", "n"]);
        assert_eq!(
            std::str::from_utf8(f.top_json(0)).unwrap(),
            r#"{"items":[{"sku":"A-1"},"Gift"],"meta":{"a b":1,"[1,2]":{"Circle":0.1}},"none":{}}"#
        );
        assert_eq!(f.top_json(1), b"\"<redacted>\"");
        assert_eq!(f.top_json(2), b"-5");
    }
}
