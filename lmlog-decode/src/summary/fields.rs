//! What the digest keeps of field values: per event type and field (dotted
//! path for nested struct fields), the distinct values up to a bound and,
//! for numbers, the minimum, maximum and mean.
//!
//! Values are collected by a [`Visitor`] into a scratch list first and
//! applied only once the whole record has decoded, so a record that does
//! not match its schema leaves nothing behind.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::events::{SeqKind, Visitor};

/// Distinct values kept per field; a field with more is reported as
/// high-cardinality, without its values.
pub const MAX_DISTINCT_VALUES: usize = 16;

/// Fields (top-level and nested, by dotted path) tracked per event type;
/// further paths are counted as left out.
pub const MAX_FIELDS_PER_TYPE: usize = 32;

/// Longest string value kept, in bytes; longer ones are cut (at a character
/// boundary) and still compared in full.
const MAX_VALUE_BYTES: usize = 256;

/// No slot: the value is not tracked.
pub(crate) const UNTRACKED: u32 = u32::MAX;

/// A field value as the digest keeps it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A `bool`.
    Bool(bool),
    /// An integer (any width that fits an `i128`).
    Int(i128),
    /// A `u128` above `i128::MAX`.
    LargeUint(u128),
    /// A float.
    Float(f64),
    /// A string, a `char`, bytes (as hex) or an enum's variant name; cut
    /// at 256 bytes.
    Str(String),
    /// `None` or `()`.
    Null,
}

impl FieldValue {
    /// The value as plain text (strings as they are, numbers in decimal).
    pub fn text(&self) -> String {
        match self {
            FieldValue::Bool(v) => v.to_string(),
            FieldValue::Int(v) => v.to_string(),
            FieldValue::LargeUint(v) => v.to_string(),
            FieldValue::Float(v) => float_text(*v),
            FieldValue::Str(s) => s.clone(),
            FieldValue::Null => "null".to_owned(),
        }
    }
}

/// A float as the JSON Lines output writes it, without quotes for NaN and
/// the infinities.
pub(crate) fn float_text(v: f64) -> String {
    let mut buf = Vec::new();
    crate::json::write_f64(&mut buf, v);
    String::from_utf8_lossy(&buf).trim_matches('"').to_owned()
}

/// A number, as an integer when it was one.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Number {
    /// An integer.
    Int(i128),
    /// A float (or an integer beyond `i128`).
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(v) => v as f64,
            Number::Float(v) => v,
        }
    }

    /// Whether `self` is below `other` (integers compared exactly).
    fn less(self, other: Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a < b,
            (a, b) => a.as_f64() < b.as_f64(),
        }
    }

    /// The number as text.
    pub fn text(self) -> String {
        match self {
            Number::Int(v) => v.to_string(),
            Number::Float(v) => float_text(v),
        }
    }
}

/// Minimum, maximum and mean of a numeric field (NaN values left out).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct NumberStats {
    /// Values counted.
    pub count: u64,
    /// The smallest.
    pub min: Number,
    /// The largest.
    pub max: Number,
    /// The mean.
    pub mean: f64,
}

/// What is being gathered of one field.
#[derive(Debug)]
pub(crate) struct FieldStats {
    /// Dotted path from the event's top level (`order.customer.id`).
    pub path: Box<str>,
    /// Values seen (redacted ones included).
    pub count: u64,
    /// Redacted values seen.
    pub redacted: u64,
    /// Distinct values and how often each was seen, while there are at
    /// most [`MAX_DISTINCT_VALUES`].
    pub distinct: Vec<(FieldValue, u64)>,
    /// More distinct values than [`MAX_DISTINCT_VALUES`] were seen.
    pub high_cardinality: bool,
    numbers: u64,
    min: Number,
    max: Number,
    sum: f64,
    /// Exact sum of the integer values (saturating).
    pub int_sum: i128,
}

impl FieldStats {
    fn new(path: &str) -> FieldStats {
        FieldStats {
            path: path.into(),
            count: 0,
            redacted: 0,
            distinct: Vec::new(),
            high_cardinality: false,
            numbers: 0,
            min: Number::Int(0),
            max: Number::Int(0),
            sum: 0.0,
            int_sum: 0,
        }
    }

    /// The numbers seen, if any.
    pub fn number_stats(&self) -> Option<NumberStats> {
        (self.numbers > 0).then(|| NumberStats {
            count: self.numbers,
            min: self.min,
            max: self.max,
            mean: self.sum / self.numbers as f64,
        })
    }

    fn number(&mut self, n: Number) {
        if let Number::Float(v) = n {
            if v.is_nan() {
                return;
            }
        }
        if self.numbers == 0 {
            (self.min, self.max) = (n, n);
        } else {
            if n.less(self.min) {
                self.min = n;
            }
            if self.max.less(n) {
                self.max = n;
            }
        }
        self.numbers += 1;
        self.sum += n.as_f64();
        if let Number::Int(v) = n {
            self.int_sum = self.int_sum.saturating_add(v);
        }
    }

    /// Counts one occurrence of a distinct value, unless the field is
    /// already high-cardinality. `equals` tells whether a kept value is
    /// this one; `make` builds it to keep.
    fn distinct(&mut self, equals: impl Fn(&FieldValue) -> bool, make: impl FnOnce() -> FieldValue) {
        if self.high_cardinality {
            return;
        }
        if let Some(entry) = self.distinct.iter_mut().find(|(v, _)| equals(v)) {
            entry.1 += 1;
        } else if self.distinct.len() < MAX_DISTINCT_VALUES {
            self.distinct.push((make(), 1));
        } else {
            self.high_cardinality = true;
            self.distinct = Vec::new();
        }
    }

    fn apply(&mut self, observed: Observed, text: &str) {
        self.count += 1;
        match observed {
            Observed::Bool(v) => self.distinct(|x| *x == FieldValue::Bool(v), || FieldValue::Bool(v)),
            Observed::Int(v) => {
                self.number(Number::Int(v));
                self.distinct(|x| *x == FieldValue::Int(v), || FieldValue::Int(v));
            }
            Observed::LargeUint(v) => {
                self.number(Number::Float(v as f64));
                self.distinct(|x| *x == FieldValue::LargeUint(v), || FieldValue::LargeUint(v));
            }
            Observed::Float(v) => {
                self.number(Number::Float(v));
                let same = |x: &FieldValue| matches!(x, FieldValue::Float(f) if f.to_bits() == v.to_bits());
                self.distinct(same, || FieldValue::Float(v));
            }
            Observed::Str { start, end } => {
                let s = text.get(start as usize..end as usize).unwrap_or_default();
                let kept = cut(s, MAX_VALUE_BYTES);
                // A value cut short is compared by what is kept of it.
                self.distinct(|x| matches!(x, FieldValue::Str(k) if k == kept), || FieldValue::Str(kept.to_owned()));
            }
            Observed::Null => self.distinct(|x| *x == FieldValue::Null, || FieldValue::Null),
            Observed::Redacted => self.redacted += 1,
            Observed::Seen => {}
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends at a
/// character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The fields of one event type.
#[derive(Debug, Default)]
pub(crate) struct TypeFields {
    pub stats: Vec<FieldStats>,
    by_path: HashMap<Box<str>, u32>,
    /// Paths seen beyond [`MAX_FIELDS_PER_TYPE`] (each counted once).
    pub left_out: Vec<Box<str>>,
}

impl TypeFields {
    /// The slot of `path`, made if there is room.
    pub fn slot(&mut self, path: &str) -> u32 {
        if let Some(&slot) = self.by_path.get(path) {
            return slot;
        }
        if self.stats.len() >= MAX_FIELDS_PER_TYPE {
            // Remember a bounded number of names, so they can be counted.
            if self.left_out.len() < MAX_FIELDS_PER_TYPE && !self.left_out.iter().any(|p| &**p == path) {
                self.left_out.push(path.into());
            }
            return UNTRACKED;
        }
        let slot = self.stats.len() as u32;
        self.stats.push(FieldStats::new(path));
        self.by_path.insert(path.into(), slot);
        slot
    }
}

/// One value seen, before the record is known to decode.
#[derive(Debug, Clone, Copy)]
enum Observed {
    Bool(bool),
    Int(i128),
    LargeUint(u128),
    Float(f64),
    /// A string, as a range of [`Scratch::text`].
    Str {
        start: u32,
        end: u32,
    },
    Null,
    Redacted,
    /// A value of a high-cardinality field that has no numbers: only counted.
    Seen,
}

/// The values of one record, applied once it has decoded; reused.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    values: Vec<(u32, Observed)>,
    text: String,
    path: String,
    /// Path lengths of the open structs.
    open: Vec<usize>,
}

impl Scratch {
    /// Applies the values collected to `fields`, and forgets them.
    pub fn apply(&mut self, fields: &mut TypeFields) {
        for &(slot, observed) in &self.values {
            if let Some(stats) = fields.stats.get_mut(slot as usize) {
                stats.apply(observed, &self.text);
            }
        }
        self.clear();
    }

    /// Forgets what was collected.
    pub fn clear(&mut self) {
        self.values.clear();
        self.text.clear();
        self.path.clear();
        self.open.clear();
    }
}

/// Collects the values of one event's fields into a [`Scratch`].
pub(crate) struct Collect<'s> {
    fields: &'s mut TypeFields,
    /// The slot of each top-level field of the call site.
    top: &'s [u32],
    scratch: &'s mut Scratch,
    /// Index of the next top-level field.
    next_top: usize,
    /// Where the next value goes.
    current: u32,
    /// Nesting of sequences, maps and enum contents, whose values are not tracked.
    opaque: u32,
}

impl<'s> Collect<'s> {
    pub fn new(fields: &'s mut TypeFields, top: &'s [u32], scratch: &'s mut Scratch) -> Self {
        scratch.clear();
        Collect { fields, top, scratch, next_top: 0, current: UNTRACKED, opaque: 0 }
    }

    /// Takes the slot a value goes to, if it is tracked.
    #[inline]
    fn target(&mut self) -> Option<u32> {
        if self.opaque > 0 || self.current == UNTRACKED {
            return None;
        }
        Some(std::mem::replace(&mut self.current, UNTRACKED))
    }

    #[inline]
    fn push(&mut self, observed: Observed) {
        if let Some(slot) = self.target() {
            self.scratch.values.push((slot, observed));
        }
    }

    /// A string-like value: kept as text unless its field is high-cardinality.
    fn text(&mut self, write: impl FnOnce(&mut String)) {
        let Some(slot) = self.target() else {
            return;
        };
        let high = self.fields.stats.get(slot as usize).is_some_and(|s| s.high_cardinality);
        let observed = if high {
            Observed::Seen
        } else {
            let start = self.scratch.text.len();
            write(&mut self.scratch.text);
            Observed::Str { start: start as u32, end: self.scratch.text.len() as u32 }
        };
        self.scratch.values.push((slot, observed));
    }
}

impl<'a> Visitor<'a> for Collect<'_> {
    fn field(&mut self, name: &'a str) {
        if self.opaque > 0 {
            return;
        }
        let scratch = &mut *self.scratch;
        if let Some(&base) = scratch.open.last() {
            scratch.path.truncate(base);
            scratch.path.push('.');
            scratch.path.push_str(name);
            self.current = self.fields.slot(&scratch.path);
        } else {
            self.current = self.top.get(self.next_top).copied().unwrap_or(UNTRACKED);
            self.next_top += 1;
            scratch.path.clear();
            scratch.path.push_str(name);
        }
    }

    fn redacted(&mut self) {
        self.push(Observed::Redacted);
    }

    fn bool(&mut self, v: bool) {
        self.push(Observed::Bool(v));
    }

    fn u64(&mut self, v: u64) {
        self.push(Observed::Int(i128::from(v)));
    }

    fn u128(&mut self, v: u128) {
        self.push(i128::try_from(v).map_or(Observed::LargeUint(v), Observed::Int));
    }

    fn i64(&mut self, v: i64) {
        self.push(Observed::Int(i128::from(v)));
    }

    fn i128(&mut self, v: i128) {
        self.push(Observed::Int(v));
    }

    fn f64(&mut self, v: f64) {
        self.push(Observed::Float(v));
    }

    fn char(&mut self, v: char) {
        self.text(|t| t.push(v));
    }

    fn str(&mut self, v: &'a str) {
        self.text(|t| t.push_str(cut(v, MAX_VALUE_BYTES)));
    }

    fn bytes(&mut self, v: &'a [u8]) {
        self.text(|t| {
            for b in v.iter().take(MAX_VALUE_BYTES / 2) {
                t.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                t.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
            }
        });
    }

    fn unit(&mut self) {
        self.push(Observed::Null);
    }

    // Times, addresses and UUIDs are counted by their text, as the JSON
    // Lines output shows them (a duration is a number: `u128`).
    fn timestamp(&mut self, unix_nanos: i128) {
        self.text(|t| t.push_str(&crate::json::format_timestamp(unix_nanos)));
    }

    fn ip_addr(&mut self, v: std::net::IpAddr) {
        self.text(|t| {
            let _ = write!(t, "{v}");
        });
    }

    fn socket_addr(&mut self, v: std::net::SocketAddr) {
        self.text(|t| {
            let _ = write!(t, "{v}");
        });
    }

    fn uuid(&mut self, v: [u8; 16]) {
        self.text(|t| {
            let mut text = Vec::with_capacity(36);
            crate::record::write_uuid(&mut text, &v);
            t.push_str(std::str::from_utf8(&text).unwrap_or_default());
        });
    }

    fn none(&mut self) {
        self.push(Observed::Null);
    }

    fn begin_seq(&mut self, _kind: SeqKind, _len: usize) {
        self.current = UNTRACKED;
        self.opaque += 1;
    }

    fn end_seq(&mut self) {
        self.opaque = self.opaque.saturating_sub(1);
    }

    fn begin_map(&mut self, _len: usize) {
        self.current = UNTRACKED;
        self.opaque += 1;
    }

    fn end_map(&mut self) {
        self.opaque = self.opaque.saturating_sub(1);
    }

    fn begin_struct(&mut self, _name: &'a str) {
        if self.opaque > 0 {
            self.opaque += 1;
            return;
        }
        // The struct's own path has no value: its fields do.
        self.current = UNTRACKED;
        self.scratch.open.push(self.scratch.path.len());
    }

    fn end_struct(&mut self) {
        if self.opaque > 0 {
            self.opaque -= 1;
            return;
        }
        if let Some(base) = self.scratch.open.pop() {
            self.scratch.path.truncate(base);
        }
    }

    fn begin_variant(&mut self, _enum_name: &'a str, variant: &'a str, _index: u32, _unit: bool) {
        // The variant's name is the value; what it holds is not tracked.
        self.text(|t| t.push_str(variant));
        self.opaque += 1;
    }

    fn end_variant(&mut self) {
        self.opaque = self.opaque.saturating_sub(1);
    }
}
