//! Per-session decoding state: compiled call-site schemas with their
//! pre-rendered JSON fragments, thread descriptions and the tick clock.

use std::collections::HashMap;

use lmlog_format::template::{self, Segment};
use lmlog_format::{CallsiteSchema, ClockAnchor, ClockInfo, ThreadInfo};

use crate::json;
use crate::record::{self, FieldTy};

/// A piece of a compiled message template.
#[derive(Debug)]
pub(crate) enum MessagePart {
    /// Literal text, already escaped for a JSON string.
    Text(Box<[u8]>),
    /// The value of the top-level field with this index.
    Field(usize),
}

/// A call-site schema prepared for fast output.
///
/// A line is written as the timestamp, `head`, the fields (with the message
/// and `fields_open` before them if there is a message), then the tail: a
/// copy of `source` and the thread's fragment, built once per thread (see
/// [`CompiledSchema::tail`]).
#[derive(Debug)]
pub(crate) struct CompiledSchema {
    /// Event type, for diagnostics.
    pub event_type: String,
    /// `","level":"warn","event_type":"payment_failed"` (the quote closes
    /// the timestamp), then `,"message":"` if the schema has a message, else
    /// `,"fields":{` and the first field's key.
    pub head: Box<[u8]>,
    /// `","fields":{` and the first field's key: what follows a message.
    pub fields_open: Box<[u8]>,
    /// The compiled message template, if the schema has one.
    pub message: Option<Box<[MessagePart]>>,
    /// Top-level fields in record order; the first one's key is in `head`
    /// or `fields_open`.
    pub fields: Box<[FieldTy]>,
    /// `},"source":{...}` (the brace closes `fields`).
    source: Box<[u8]>,
    /// `source`, the thread fragment of `tail_key` and `}\n`.
    tail: Vec<u8>,
    /// The [`Session::thread_key`] `tail` was built for; 0 if none.
    tail_key: u64,
}

impl CompiledSchema {
    /// Compiles `schema`; a template that does not parse is returned as the
    /// error text alongside a schema whose message is the raw template.
    pub fn compile(schema: &CallsiteSchema) -> (CompiledSchema, Option<String>) {
        let fields = record::compile_fields(&schema.fields);
        let first_key: &[u8] = fields.first().map_or(&[], |f| f.key.as_bytes());
        let mut fields_open = b"\",\"fields\":{".to_vec();
        fields_open.extend_from_slice(first_key);

        let mut head = Vec::with_capacity(64 + schema.event_type.len() + first_key.len());
        head.extend_from_slice(b"\",\"level\":\"");
        head.extend_from_slice(schema.level.as_str().as_bytes());
        head.extend_from_slice(b"\",\"event_type\":");
        json::write_str(&mut head, &schema.event_type);
        if schema.message.is_some() {
            head.extend_from_slice(b",\"message\":\"");
        } else {
            head.extend_from_slice(&fields_open[1..]);
        }

        let mut source = Vec::with_capacity(96 + schema.module.len() + schema.file.len() + schema.function.len());
        source.extend_from_slice(b"},\"source\":{\"module\":");
        json::write_str(&mut source, &schema.module);
        source.extend_from_slice(b",\"file\":");
        json::write_str(&mut source, &schema.file);
        source.extend_from_slice(b",\"line\":");
        json::write_int(&mut source, schema.line);
        source.extend_from_slice(b",\"column\":");
        json::write_int(&mut source, schema.column);
        source.extend_from_slice(b",\"function\":");
        json::write_str(&mut source, &schema.function);
        source.push(b'}');

        let mut template_error = None;
        let message = schema.message.as_deref().map(|t| match template::parse(t) {
            Ok(segments) => compile_message(&segments, schema),
            Err(e) => {
                template_error = Some(e.to_string());
                let mut text = Vec::new();
                json::write_str_contents(&mut text, t.as_bytes());
                vec![MessagePart::Text(text.into())].into_boxed_slice()
            }
        });

        let compiled = CompiledSchema {
            event_type: schema.event_type.clone(),
            head: head.into(),
            fields_open: fields_open.into(),
            message,
            fields,
            source: source.into(),
            tail: Vec::new(),
            tail_key: 0,
        };
        (compiled, template_error)
    }

    /// `},"source":{...},"thread":{...}}\n`: what ends a line of this call
    /// site on the thread whose fragment is `thread` and whose
    /// [`Session::thread_key`] is `key`.
    #[inline]
    pub fn tail(&mut self, key: u64, thread: &[u8]) -> &[u8] {
        if self.tail_key != key {
            self.tail.clear();
            self.tail.extend_from_slice(&self.source);
            self.tail.extend_from_slice(thread);
            self.tail.extend_from_slice(b"}\n");
            self.tail_key = key;
        }
        &self.tail
    }
}

fn compile_message(segments: &[Segment<'_>], schema: &CallsiteSchema) -> Box<[MessagePart]> {
    let mut parts = Vec::new();
    let mut text = Vec::new();
    for seg in segments {
        match seg {
            Segment::Literal(s) => json::write_str_contents(&mut text, s.as_bytes()),
            Segment::Field { name, .. } => match schema.fields.iter().position(|f| f.name == *name) {
                Some(i) => {
                    if !text.is_empty() {
                        parts.push(MessagePart::Text(std::mem::take(&mut text).into()));
                    }
                    parts.push(MessagePart::Field(i));
                }
                None => {
                    // A placeholder naming no field stays as written.
                    text.push(b'{');
                    json::write_str_contents(&mut text, name.as_bytes());
                    text.push(b'}');
                }
            },
        }
    }
    if !text.is_empty() {
        parts.push(MessagePart::Text(text.into()));
    }
    parts.into_boxed_slice()
}

/// Call-site ids below this are looked up in a vector, others in a map.
const DENSE_IDS: u32 = 1 << 16;

/// Schemas by call-site id.
#[derive(Debug, Default)]
pub(crate) struct SchemaTable {
    dense: Vec<Option<Box<CompiledSchema>>>,
    sparse: HashMap<u32, Box<CompiledSchema>>,
}

impl SchemaTable {
    /// The schema for `id`, if one was seen.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&CompiledSchema> {
        if id < DENSE_IDS {
            self.dense.get(id as usize).and_then(|s| s.as_deref())
        } else {
            self.sparse.get(&id).map(|s| &**s)
        }
    }

    /// The schema for `id`, if one was seen, for building its tail.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut CompiledSchema> {
        if id < DENSE_IDS {
            self.dense.get_mut(id as usize).and_then(|s| s.as_deref_mut())
        } else {
            self.sparse.get_mut(&id).map(|s| &mut **s)
        }
    }

    /// Adds or replaces the schema for `id`.
    pub fn insert(&mut self, id: u32, schema: CompiledSchema) {
        if id < DENSE_IDS {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i] = Some(Box::new(schema));
        } else {
            self.sparse.insert(id, Box::new(schema));
        }
    }

    /// Forgets every schema.
    pub fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
    }
}

/// Converts record ticks into nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Clock {
    anchor: ClockAnchor,
    nanos_per_tick: f64,
}

impl Default for Clock {
    /// Before any session frame: ticks are taken as Unix nanoseconds.
    fn default() -> Self {
        Clock { anchor: ClockAnchor { ticks: 0, unix_nanos: 0 }, nanos_per_tick: 1.0 }
    }
}

impl Clock {
    /// The clock of a session; `None` if its tick rate is unusable (then
    /// ticks are taken as nanoseconds from the anchor).
    pub fn from_info(info: &ClockInfo) -> (Clock, bool) {
        let tps = info.ticks_per_second;
        let valid = tps.is_finite() && tps > 0.0 && (1e9 / tps).is_finite();
        let nanos_per_tick = if valid { 1e9 / tps } else { 1.0 };
        (Clock { anchor: info.anchor, nanos_per_tick }, valid)
    }

    /// Moves the anchor to a newer simultaneous reading of both clocks.
    pub fn set_anchor(&mut self, anchor: ClockAnchor) {
        self.anchor = anchor;
    }

    /// Unix nanoseconds at `ticks` (may be negative or beyond `u64` for
    /// nonsense input; the formatter copes with both).
    #[inline]
    pub fn unix_nanos(&self, ticks: u64) -> i128 {
        let anchor = self.anchor.ticks;
        if self.nanos_per_tick == 1.0 {
            return self.anchor.unix_nanos as i128 + (ticks as i128 - anchor as i128);
        }
        // Stay clear of 128-bit integer/float conversions, which are slow.
        let diff = if ticks >= anchor { (ticks - anchor) as f64 } else { -((anchor - ticks) as f64) };
        let delta = diff * self.nanos_per_tick;
        // Round half away from zero without a libm call.
        let delta = delta + 0.5f64.copysign(delta);
        let delta = if delta.abs() < 9e18 { delta as i64 as i128 } else { delta as i128 };
        (self.anchor.unix_nanos as i128).saturating_add(delta)
    }
}

/// Per-session state, reset by every preamble and session frame.
#[derive(Debug)]
pub(crate) struct Session {
    pub schemas: SchemaTable,
    /// `,"thread":{"id":1,"name":"main"}` by thread id.
    pub threads: HashMap<u32, Box<[u8]>>,
    pub clock: Clock,
    /// Identifies the thread fragment of the current records frame, so
    /// that call-site tails built for it can be reused (never 0).
    pub thread_key: u64,
    /// Thread id of the fragment `thread_key` stands for, if still valid.
    keyed_thread: Option<u32>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            schemas: SchemaTable::default(),
            threads: HashMap::new(),
            clock: Clock::default(),
            thread_key: 1,
            keyed_thread: None,
        }
    }
}

impl Session {
    /// Forgets everything (a new file starts).
    pub fn reset(&mut self) {
        self.schemas.clear();
        self.threads.clear();
        self.clock = Clock::default();
        self.keyed_thread = None;
    }

    /// Records a thread description.
    pub fn add_thread(&mut self, info: &ThreadInfo) {
        let mut frag = Vec::with_capacity(32);
        thread_fragment(&mut frag, info.id, info.name.as_deref());
        self.threads.insert(info.id, frag.into());
        // The fragment of a thread already keyed may have changed.
        self.keyed_thread = None;
    }

    /// A records frame of thread `id` starts: sets [`thread_key`](Self::thread_key)
    /// to a value that identifies the fragment its lines end with.
    #[inline]
    pub fn key_thread(&mut self, id: u32) {
        if self.keyed_thread != Some(id) {
            self.thread_key += 1;
            self.keyed_thread = Some(id);
        }
    }
}

/// Appends `,"thread":{"id":N,"name":"..."}` (the name only if known).
pub(crate) fn thread_fragment(out: &mut Vec<u8>, id: u32, name: Option<&str>) {
    out.extend_from_slice(b",\"thread\":{\"id\":");
    json::write_int(out, id);
    if let Some(name) = name {
        out.extend_from_slice(b",\"name\":");
        json::write_str(out, name);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_conversion() {
        let info = ClockInfo {
            source: lmlog_format::ClockSource::Tsc,
            ticks_per_second: 2e9,
            anchor: ClockAnchor { ticks: 1_000, unix_nanos: 5_000_000_000 },
        };
        let (mut c, ok) = Clock::from_info(&info);
        assert!(ok);
        assert_eq!(c.unix_nanos(1_000), 5_000_000_000);
        assert_eq!(c.unix_nanos(3_000), 5_000_001_000);
        assert_eq!(c.unix_nanos(0), 4_999_999_500);
        assert_eq!(c.unix_nanos(u64::MAX), 5_000_000_000 + ((u64::MAX - 1_000) as f64 / 2.0).round() as i128);
        c.set_anchor(ClockAnchor { ticks: u64::MAX, unix_nanos: 0 });
        assert!(c.unix_nanos(0) < 0);
        let bad = ClockInfo { ticks_per_second: f64::NAN, ..info };
        let (c, ok) = Clock::from_info(&bad);
        assert!(!ok);
        assert_eq!(c.unix_nanos(1_010), 5_000_000_010);
        let tiny = ClockInfo { ticks_per_second: f64::MIN_POSITIVE, ..info };
        assert!(!Clock::from_info(&tiny).1);
        // Absurd but finite rates saturate instead of overflowing.
        let slow = ClockInfo { ticks_per_second: 1e-200, ..info };
        let (c, ok) = Clock::from_info(&slow);
        assert!(ok);
        assert_eq!(c.unix_nanos(u64::MAX), i128::MAX);
        assert!(c.unix_nanos(0) < 0);
        let mut out = Vec::new();
        crate::json::TimestampFormatter::new().write(&mut out, c.unix_nanos(u64::MAX));
        crate::json::TimestampFormatter::new().write(&mut out, c.unix_nanos(0));
    }
}
