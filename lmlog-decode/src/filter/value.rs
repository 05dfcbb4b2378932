//! Conditions on field values (`--where`), checked with one pass of a
//! [`Visitor`] over an event's fields.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::events::{Fields, SeqKind, Visitor};
use crate::filter::parse::FilterError;

/// A comparison operator of a [`Where`] condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    /// Whether `ordering` (field value against the condition's value) satisfies the operator.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
        }
    }
}

/// A number, kept exact when it is an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(v) => v as f64,
            Num::Float(v) => v,
        }
    }

    fn parse(s: &str) -> Option<Num> {
        if let Ok(v) = s.parse::<i128>() {
            return Some(Num::Int(v));
        }
        // Only plain decimal notation: `inf`, `nan` stay strings.
        let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        s.parse::<f64>().ok().filter(|v| plain && v.is_finite()).map(Num::Float)
    }
}

/// A condition on a field's value: `latency_us>100`, `key=user:7`,
/// `order.customer.id=7` (spaces around the path and the value are
/// ignored: `key = user:7`).
///
/// The path names a top-level field, then fields of nested structs, keys
/// of maps or variants of enums, separated by dots; a sequence's elements
/// are each looked at (`tags=urgent` holds if one element is `urgent`), or
/// one of them by its index (`tags.0=urgent`). A number is compared with a
/// number as numbers (`7` and `7.0` are equal); everything else is compared
/// as text: strings, `true`/`false`, `null` for `None` and `()`, the name
/// of a unit variant. A number field never equals a value that is not a
/// number, and `!=` holds for it. A condition on a field the event does
/// not have, or that is redacted, does not hold, whatever its operator.
///
/// ```
/// use lmlog_decode::filter::{Op, Where};
/// let w: Where = "order.customer.id>=7".parse().unwrap();
/// assert_eq!(w.path(), ["order", "customer", "id"]);
/// assert_eq!((w.op(), w.value()), (Op::Ge, "7"));
/// assert!("latency_us".parse::<Where>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Where {
    path: Vec<String>,
    op: Op,
    value: String,
    number: Option<Num>,
}

impl Where {
    /// The path's segments.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The operator.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The value compared with, as written.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether a leaf value `leaf` satisfies the condition.
    fn holds(&self, leaf: &Leaf<'_>) -> bool {
        let ordering = match (leaf, self.number) {
            (Leaf::Num(n), Some(c)) => n.cmp(c),
            (Leaf::Num(_), None) => return self.op == Op::Ne,
            (Leaf::Text(t), _) => Some((*t).cmp(self.value.as_str())),
            (Leaf::Owned(t), _) => Some(t.as_str().cmp(self.value.as_str())),
        };
        ordering.is_some_and(|o| self.op.holds(o))
    }
}

impl FromStr for Where {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Where, FilterError> {
        let err = |reason| FilterError::Where { value: s.to_owned(), reason };
        let at = s.find(['=', '!', '<', '>']).ok_or_else(|| err("no operator (=, !=, >, >=, <, <=)"))?;
        let rest = &s[at..];
        let (op, len) = if rest.starts_with("!=") {
            (Op::Ne, 2)
        } else if rest.starts_with(">=") {
            (Op::Ge, 2)
        } else if rest.starts_with("<=") {
            (Op::Le, 2)
        } else if rest.starts_with('=') {
            (Op::Eq, 1)
        } else if rest.starts_with('>') {
            (Op::Gt, 1)
        } else if rest.starts_with('<') {
            (Op::Lt, 1)
        } else {
            return Err(err("`!` must be followed by `=`"));
        };
        let key = s[..at].trim();
        if key.is_empty() {
            return Err(err("no field name before the operator"));
        }
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(err("empty segment in the field path"));
        }
        let value = s[at + len..].trim().to_owned();
        let number = Num::parse(&value);
        Ok(Where { path, op, value, number })
    }
}

/// Whether `fields` satisfy every one of `conditions`; reads them once
/// (leaving them for the next reader). Fields that do not decode satisfy
/// nothing (the decoder reports them).
pub(crate) fn fields_match(conditions: &[Where], fields: &mut Fields<'_>) -> bool {
    let mut eval =
        Eval { conditions, state: vec![State::default(); conditions.len()], path: Vec::new(), frames: Vec::new() };
    if fields.peek(&mut eval).is_err() {
        return false;
    }
    eval.state.iter().zip(conditions).all(|(s, c)| if c.op == Op::Ne { s.found && s.held } else { s.held })
}

/// What one leaf value is, for comparing.
enum Leaf<'a> {
    Num(Num),
    Text(&'a str),
    Owned(String),
}

/// One segment of the path of a value.
#[derive(Debug)]
enum Seg<'a> {
    Name(&'a str),
    Key(String),
    Index(usize),
}

/// An open composite value.
#[derive(Debug)]
enum Frame {
    Struct,
    Seq { next: usize },
    Map { expect_key: bool },
    Variant,
}

/// How a condition fared so far. For `!=`, `held` means "no value at the
/// path was equal" and starts true; for the others, "one value held".
#[derive(Debug, Clone, Copy, Default)]
struct State {
    found: bool,
    held: bool,
    started: bool,
}

/// The visitor that checks conditions against every leaf value, with the
/// path that leads to it.
struct Eval<'c, 'a> {
    conditions: &'c [Where],
    state: Vec<State>,
    /// One segment per open frame and one for the top-level field.
    path: Vec<Seg<'a>>,
    frames: Vec<Frame>,
}

/// Whether condition path `cond` names the value at `leaf` (sequence
/// indexes in `leaf` may be skipped).
fn path_matches(cond: &[String], leaf: &[Seg<'_>]) -> bool {
    match leaf.split_first() {
        None => cond.is_empty(),
        Some((Seg::Index(i), rest)) => {
            cond.first().is_some_and(|c| c.parse::<usize>().ok() == Some(*i) && path_matches(&cond[1..], rest))
                || path_matches(cond, rest)
        }
        Some((Seg::Name(n), rest)) => cond.first().is_some_and(|c| c == n) && path_matches(&cond[1..], rest),
        Some((Seg::Key(k), rest)) => cond.first().is_some_and(|c| c == k) && path_matches(&cond[1..], rest),
    }
}

impl<'a> Eval<'_, 'a> {
    /// A value starts: inside a sequence, it gets the next index; inside a
    /// map expecting a key, it is the key (returns `true`).
    fn value_start(&mut self) -> bool {
        let depth = self.frames.len();
        match self.frames.last_mut() {
            Some(Frame::Seq { next }) => {
                self.path.truncate(depth);
                self.path.push(Seg::Index(*next));
                *next += 1;
                false
            }
            Some(Frame::Map { expect_key }) if *expect_key => {
                *expect_key = false;
                true
            }
            _ => false,
        }
    }

    /// A value ended: a map expects its next key.
    fn value_end(&mut self) {
        if let Some(Frame::Map { expect_key }) = self.frames.last_mut() {
            *expect_key = true;
        }
    }

    /// A scalar value.
    fn leaf(&mut self, leaf: Leaf<'a>) {
        if self.value_start() {
            let key = match leaf {
                Leaf::Num(Num::Int(v)) => v.to_string(),
                Leaf::Num(Num::Float(v)) => v.to_string(),
                Leaf::Text(t) => t.to_owned(),
                Leaf::Owned(t) => t,
            };
            self.path.truncate(self.frames.len());
            self.path.push(Seg::Key(key));
            return;
        }
        let here = &self.path[..self.path.len().min(self.frames.len() + 1)];
        for (c, s) in self.conditions.iter().zip(&mut self.state) {
            if !path_matches(&c.path, here) {
                continue;
            }
            if !s.started {
                s.started = true;
                s.held = c.op == Op::Ne;
            }
            s.found = true;
            let holds = c.holds(&leaf);
            if c.op == Op::Ne {
                s.held &= holds;
            } else {
                s.held |= holds;
            }
        }
        self.value_end();
    }

    /// A composite value starts.
    fn open(&mut self, frame: Frame) {
        if self.value_start() {
            // A composite map key: its parts are under an empty segment.
            self.path.truncate(self.frames.len());
            self.path.push(Seg::Key(String::new()));
        }
        self.frames.push(frame);
    }

    /// The innermost composite value ends.
    fn close(&mut self) {
        self.frames.pop();
        self.path.truncate(self.frames.len() + 1);
        self.value_end();
    }
}

impl<'a> Visitor<'a> for Eval<'_, 'a> {
    fn field(&mut self, name: &'a str) {
        self.path.truncate(self.frames.len());
        self.path.push(Seg::Name(name));
    }
    fn redacted(&mut self) {
        self.value_end();
    }
    fn bool(&mut self, v: bool) {
        self.leaf(Leaf::Text(if v { "true" } else { "false" }));
    }
    fn u64(&mut self, v: u64) {
        self.leaf(Leaf::Num(Num::Int(i128::from(v))));
    }
    fn u128(&mut self, v: u128) {
        self.leaf(Leaf::Num(i128::try_from(v).map_or(Num::Float(v as f64), Num::Int)));
    }
    fn i64(&mut self, v: i64) {
        self.leaf(Leaf::Num(Num::Int(i128::from(v))));
    }
    fn i128(&mut self, v: i128) {
        self.leaf(Leaf::Num(Num::Int(v)));
    }
    fn f64(&mut self, v: f64) {
        self.leaf(Leaf::Num(Num::Float(v)));
    }
    fn char(&mut self, v: char) {
        self.leaf(Leaf::Owned(v.to_string()));
    }
    fn str(&mut self, v: &'a str) {
        self.leaf(Leaf::Text(v));
    }
    fn bytes(&mut self, _v: &'a [u8]) {
        // Bytes are compared with nothing, but still end a value (or key).
        if !self.value_start() {
            self.value_end();
        }
    }
    fn unit(&mut self) {
        self.leaf(Leaf::Text("null"));
    }
    fn none(&mut self) {
        self.leaf(Leaf::Text("null"));
    }
    fn begin_seq(&mut self, _kind: SeqKind, _len: usize) {
        self.open(Frame::Seq { next: 0 });
    }
    fn end_seq(&mut self) {
        self.close();
    }
    fn begin_map(&mut self, _len: usize) {
        self.open(Frame::Map { expect_key: true });
    }
    fn end_map(&mut self) {
        self.close();
    }
    fn begin_struct(&mut self, _name: &'a str) {
        self.open(Frame::Struct);
    }
    fn end_struct(&mut self) {
        self.close();
    }
    fn begin_variant(&mut self, _enum_name: &'a str, variant: &'a str, _index: u32, unit: bool) {
        if unit {
            self.leaf(Leaf::Text(variant));
            // `end_variant` follows: keep the frame count balanced.
            self.frames.push(Frame::Variant);
            self.path.push(Seg::Name(""));
            return;
        }
        self.open(Frame::Variant);
        self.path.truncate(self.frames.len());
        self.path.push(Seg::Name(variant));
    }
    fn timestamp(&mut self, unix_nanos: i128) {
        self.leaf(Leaf::Owned(crate::format_timestamp(unix_nanos)));
    }
    fn ip_addr(&mut self, v: std::net::IpAddr) {
        self.leaf(Leaf::Owned(v.to_string()));
    }
    fn socket_addr(&mut self, v: std::net::SocketAddr) {
        self.leaf(Leaf::Owned(v.to_string()));
    }
    fn uuid(&mut self, v: [u8; 16]) {
        let mut text = Vec::with_capacity(36);
        crate::record::write_uuid(&mut text, &v);
        self.leaf(Leaf::Owned(String::from_utf8(text).unwrap_or_default()));
    }
    fn end_variant(&mut self) {
        let unit_leaf = matches!(self.path.last(), Some(Seg::Name("")));
        if unit_leaf {
            self.frames.pop();
            self.path.truncate(self.frames.len() + 1);
        } else {
            self.close();
        }
    }
}
