//! The `lmlog-py` shape of JSON Lines: each event laid out as the Python
//! LMLog 0.3.0 writes it (`lmlog-decode --shape lmlog-py`).

use std::collections::HashMap;
use std::io::{self, Write};

use lmlog_format::Level;

use super::jsonl::{event_written, flush_all, FLUSH_AT};
use crate::events::{Baggage, Callsite, Event, GlobalContext, Item, OperationRef, TraceContext};
use crate::json::{self, TimestampFormatter};
use crate::record::{self, Out, Reader, ValueError, MAX_EVENT_JSON};
use crate::resource::{resource_attributes, write_resource_key};

/// Operations whose start fields are kept for the events inside them, at
/// most: an operation that never ends (its process died) is not followed
/// by the events that would let go of it, so beyond this, later starts'
/// fields are no longer carried.
const MAX_OPEN_OPERATIONS: usize = 1 << 16;

/// The order of the Python package's resource keys (`ResourceDetector`);
/// lmlog's other keys follow them, in their own order.
const PYTHON_RESOURCE_ORDER: [&str; 14] = [
    "service.name",
    "service.version",
    "service.instance.id",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "host.name",
    "host.type",
    "os.name",
    "os.version",
    "process.pid",
    "k8s.pod.name",
    "k8s.namespace.name",
    "k8s.cluster.name",
];

/// The shape of the JSON Lines: `lmlog-decode --shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Shape {
    /// lmlog's own keys ([`JsonLines`](super::JsonLines); see the format's
    /// documentation).
    #[default]
    Lmlog,
    /// The Python LMLog 0.3.0's keys ([`LmlogPyLines`]).
    LmlogPy,
}

impl Shape {
    /// Every shape, in the order of [`Shape::NAMES`].
    pub const ALL: [Shape; 2] = [Shape::Lmlog, Shape::LmlogPy];
    /// The names of the shapes.
    pub const NAMES: [&'static str; 2] = ["lmlog", "lmlog-py"];

    /// The shape's name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Lmlog => "lmlog",
            Shape::LmlogPy => "lmlog-py",
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`Shape::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown shape `{0}` (expected one of: lmlog, lmlog-py)")]
#[non_exhaustive]
pub struct UnknownShape(pub String);

impl std::str::FromStr for Shape {
    type Err = UnknownShape;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Shape::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownShape(s.to_owned()))
    }
}

/// Writes one JSON object per event in the key layout of the Python LMLog
/// 0.3.0 (`LLMLogger.log_event`), so that what reads that logger's lines
/// reads lmlog's:
///
/// ```text
/// {"timestamp":"2026-11-25T13:23:10.133324+00:00",
///  "source":{"file":"src/pay.rs","line":42,"function":"shop::pay"},
///  "resource":{"service.name":"checkout","host.name":"web-1","process.pid":812,…},
///  "correlation":{"operation_id":"checkout","user_type":"premium","lmlog.operation.id":1},
///  "event_type":"state_change","level":"info","entity_type":"order","entity_id":"order_456",
///  "context":{"field":"status","before":"pending","after":"completed","trigger":"payment_received"}}
/// ```
///
/// - `timestamp`: Python's `datetime.isoformat()` in UTC, microseconds
///   (always six digits) and `+00:00`.
/// - `source`: `file`, `line`, `function`; `{"file":"unknown","line":0,
///   "function":"unknown"}` (Python's own fallback) for the events the
///   writer reports (`lmlog.dropped`, `lmlog.writer_loss`, `lmlog.sampled_out`).
/// - `resource`: always, the session's ([`resource_attributes`]), the
///   keys the Python package also writes first, in its order.
/// - `global_context`: only while it is not empty.
/// - `correlation`: for an event emitted in an operation, `operation_id`
///   (its name; its id as text if its start was not decoded), the fields
///   its `operation_start` had (Python's `operation_context(**context)`),
///   after those of the operations it runs in (as Python adds a nested
///   operation's to the enclosing one's; its own win),
///   `lmlog.operation.id` and, when nested, `lmlog.operation.parent_id`;
///   then, as in Python, the keys of `trace`. Only when one of them is there.
/// - `trace`: `trace_id` (32 hex digits), `span_id` (16), `trace_flags`
///   (a number), `trace_state` (an object, `{}` when empty), `span_name`
///   and `span_kind` (`""`: lmlog does not record them) while a span was
///   active, and `baggage` (an object) when recorded.
/// - `event_type`; `level`: `debug` (for `trace` and `debug`), `info`,
///   `warning`, `error`.
/// - `entity_type`, `entity_id`: the fields of those names, as strings,
///   unless null or empty.
/// - `context`: the other fields, unless there are none; null fields (an
///   `Option` that was `None`) are left out, as the Python logger leaves
///   out unset optional arguments. `operation_start`, `operation_end` and
///   `operation_error` carry `operation_id` (the `operation` field) first,
///   and the end events the start's fields after it; an `exception`'s
///   `backtrace` is its `traceback`.
///
/// The message (rendered from the fields) and the thread are not part of
/// that layout and are left out. Output is buffered in 64 KiB chunks.
#[non_exhaustive]
pub struct LmlogPyLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    ts: TimestampFormatter,
    /// The fields of the event being written, as JSON values.
    scratch: Vec<u8>,
    /// Spans of the top-level field values in `scratch`.
    ranges: Vec<(usize, usize)>,
    /// `,"resource":{...}` of the latest session.
    resource: Vec<u8>,
    /// Process id of the latest session: operation ids are unique per process.
    pid: u32,
    /// The operations not ended yet, by (process id, operation id).
    operations: HashMap<(u32, u64), OpenOperation>,
}

impl<W: Write> std::fmt::Debug for LmlogPyLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmlogPyLines").field("buffered", &self.buf.len()).finish_non_exhaustive()
    }
}

/// `"key":` and the JSON value of each of an operation's start fields.
type StartFields = Vec<(Box<[u8]>, Box<[u8]>)>;

/// What the lines of an operation not ended yet take from its start.
#[derive(Debug)]
struct OpenOperation {
    /// Its own start fields, for the `context` of its end.
    own: StartFields,
    /// Those of the operations it runs in, then its own (a key of its
    /// overriding theirs), for the `correlation` of the events inside it:
    /// Python's `operation_context` adds its fields to the enclosing one's.
    correlation: StartFields,
}

/// Appends `,"key":value` for each of `fields`.
fn write_start_fields(buf: &mut Vec<u8>, fields: &StartFields) {
    for (key, value) in fields {
        buf.push(b',');
        buf.extend_from_slice(key);
        buf.extend_from_slice(value);
    }
}

/// What a field becomes in the Python layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    EntityType,
    EntityId,
    /// The name of the operation of an operation event: `operation_id`.
    OperationId,
    /// A key of `context`, under its own name or the one given.
    Context(Option<&'static str>),
}

/// Which of the events the Python layout treats apart a call site emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OperationStart,
    OperationEnd,
    Other,
}

/// A call site prepared for [`LmlogPyLines`].
#[derive(Debug)]
#[non_exhaustive]
pub struct LmlogPyCallsite {
    /// `"source":{...}` and its comma-less neighbours: what follows the
    /// timestamp's closing quote up to the resource.
    source: Box<[u8]>,
    /// `,"event_type":"...","level":"..."`.
    head: Box<[u8]>,
    /// What each field becomes, in field order.
    roles: Box<[Role]>,
    /// `"key":` of each field that goes to `context`, else empty.
    keys: Box<[Box<[u8]>]>,
    kind: Kind,
}

/// Python's spelling of a level (`logging`'s names, lowercased).
fn python_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "info",
        _ => "debug",
    }
}

impl LmlogPyCallsite {
    fn new(callsite: &Callsite) -> LmlogPyCallsite {
        let mut source = b",\"source\":{\"file\":".to_vec();
        match callsite.source() {
            Some(s) => {
                json::write_str(&mut source, s.file);
                source.extend_from_slice(b",\"line\":");
                json::write_int(&mut source, s.line);
                source.extend_from_slice(b",\"function\":");
                json::write_str(&mut source, s.function);
            }
            None => source.extend_from_slice(b"\"unknown\",\"line\":0,\"function\":\"unknown\""),
        }
        source.push(b'}');

        let event_type = callsite.event_type();
        let mut head = b",\"event_type\":".to_vec();
        json::write_str(&mut head, event_type);
        head.extend_from_slice(b",\"level\":\"");
        head.extend_from_slice(python_level(callsite.level()).as_bytes());
        head.push(b'"');

        let kind = match event_type {
            "operation_start" => Kind::OperationStart,
            "operation_end" | "operation_error" => Kind::OperationEnd,
            _ => Kind::Other,
        };
        let roles: Box<[Role]> = callsite
            .tys
            .iter()
            .map(|f| match (&*f.name, kind, event_type) {
                ("entity_type", ..) => Role::EntityType,
                ("entity_id", ..) => Role::EntityId,
                ("operation", Kind::OperationStart | Kind::OperationEnd, _) => Role::OperationId,
                ("backtrace", _, "exception") => Role::Context(Some("traceback")),
                _ => Role::Context(None),
            })
            .collect();
        let keys = callsite
            .tys
            .iter()
            .zip(roles.iter())
            .map(|(f, role)| match role {
                Role::Context(name) => {
                    let mut key = Vec::with_capacity(f.name.len() + 3);
                    json::write_str(&mut key, name.unwrap_or(&f.name));
                    key.push(b':');
                    key.into_boxed_slice()
                }
                _ => Box::default(),
            })
            .collect();
        LmlogPyCallsite { source: source.into(), head: head.into(), roles, keys, kind }
    }
}

/// Appends the JSON text `value` as a string: itself if it is one, else
/// its text quoted (`42` becomes `"42"`, as Python's `str(entity_id)`).
fn write_as_string(out: &mut Vec<u8>, value: &[u8]) {
    if value.first() == Some(&b'"') {
        out.extend_from_slice(value);
    } else {
        out.push(b'"');
        json::write_str_contents(out, value);
        out.push(b'"');
    }
}

/// Whether a field's JSON value counts as unset for Python's
/// `if entity_type:` tests: null or the empty string.
fn is_unset(value: &[u8]) -> bool {
    value == b"null" || value == b"\"\""
}

impl<W: Write> LmlogPyLines<W> {
    /// An output writing the Python layout's JSON Lines to `out`.
    pub fn new(out: W) -> Self {
        LmlogPyLines {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            ts: TimestampFormatter::new(),
            scratch: Vec::new(),
            ranges: Vec::new(),
            resource: b",\"resource\":{}".to_vec(),
            pid: 0,
            operations: HashMap::new(),
        }
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Writes the whole line of an event whose fields are in `scratch`.
    fn line(&mut self, event: &EventKeys<'_>, cs: &LmlogPyCallsite) {
        let buf = &mut self.buf;
        // Python's `datetime.now(UTC).isoformat()`: microseconds, `+00:00`.
        buf.extend_from_slice(b"{\"timestamp\":\"");
        self.ts.write(buf, event.unix_nanos);
        buf.truncate(buf.len() - 4);
        buf.extend_from_slice(b"+00:00\"");
        buf.extend_from_slice(&cs.source);
        buf.extend_from_slice(&self.resource);

        if let Some(global) = event.global_context {
            buf.extend_from_slice(b",\"global_context\":{");
            for (i, (key, value)) in global.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                json::write_str(buf, key);
                buf.push(b':');
                json::write_context_value(buf, value);
            }
            buf.push(b'}');
        }

        let scratch = &self.scratch;
        let value = |i: usize| self.ranges.get(i).map_or(&b"null"[..], |&(a, b)| &scratch[a..b]);
        let operation = event.operation.and_then(|op| self.operations.get(&(self.pid, op.id)));
        let has_trace = event.span.is_some() || event.baggage.is_some();
        if event.operation.is_some() || has_trace {
            buf.extend_from_slice(b",\"correlation\":{");
            let mut sep = false;
            if let Some(op) = &event.operation {
                buf.extend_from_slice(b"\"operation_id\":");
                match op.name {
                    Some(name) => json::write_str(buf, name),
                    None => {
                        buf.push(b'"');
                        json::write_int(buf, op.id);
                        buf.push(b'"');
                    }
                }
                if let Some(started) = operation {
                    write_start_fields(buf, &started.correlation);
                }
                buf.extend_from_slice(b",\"lmlog.operation.id\":");
                json::write_int(buf, op.id);
                if let Some(parent) = op.parent_id {
                    buf.extend_from_slice(b",\"lmlog.operation.parent_id\":");
                    json::write_int(buf, parent);
                }
                sep = true;
            }
            if has_trace {
                if sep {
                    buf.push(b',');
                }
                trace_keys(buf, event);
            }
            buf.push(b'}');
        }
        if has_trace {
            buf.extend_from_slice(b",\"trace\":{");
            trace_keys(buf, event);
            buf.push(b'}');
        }

        buf.extend_from_slice(&cs.head);
        for (role, key) in [(Role::EntityType, "entity_type"), (Role::EntityId, "entity_id")] {
            if let Some(i) = cs.roles.iter().position(|r| *r == role) {
                let v = value(i);
                if !is_unset(v) {
                    buf.extend_from_slice(b",\"");
                    buf.extend_from_slice(key.as_bytes());
                    buf.extend_from_slice(b"\":");
                    write_as_string(buf, v);
                }
            }
        }

        let context_at = buf.len();
        buf.extend_from_slice(b",\"context\":{");
        let open = buf.len();
        if let Some(i) = cs.roles.iter().position(|r| *r == Role::OperationId) {
            buf.extend_from_slice(b"\"operation_id\":");
            buf.extend_from_slice(value(i));
            if cs.kind == Kind::OperationEnd {
                if let Some(started) = operation {
                    write_start_fields(buf, &started.own);
                }
            }
        }
        for (i, role) in cs.roles.iter().enumerate() {
            let v = value(i);
            if matches!(role, Role::Context(_)) && v != b"null" {
                if buf.len() > open {
                    buf.push(b',');
                }
                buf.extend_from_slice(&cs.keys[i]);
                buf.extend_from_slice(v);
            }
        }
        if buf.len() == open {
            buf.truncate(context_at);
        } else {
            buf.push(b'}');
        }
        buf.extend_from_slice(b"}\n");
    }

    /// Keeps an operation's start fields (and those of the operations it
    /// runs in) for the events inside it, or lets go of them at its end.
    fn follow_operation(&mut self, operation: Option<OperationRef<'_>>, cs: &LmlogPyCallsite) {
        let Some(op) = operation else { return };
        match cs.kind {
            Kind::OperationStart if self.operations.len() < MAX_OPEN_OPERATIONS => {
                let mut own = StartFields::new();
                for (i, role) in cs.roles.iter().enumerate() {
                    if let (Role::Context(_), Some(&(a, b))) = (role, self.ranges.get(i)) {
                        if &self.scratch[a..b] != b"null" {
                            own.push((cs.keys[i].clone(), self.scratch[a..b].into()));
                        }
                    }
                }
                let mut correlation = op
                    .parent_id
                    .and_then(|parent| self.operations.get(&(self.pid, parent)))
                    .map_or_else(StartFields::new, |parent| parent.correlation.clone());
                for (key, value) in &own {
                    match correlation.iter_mut().find(|(k, _)| k == key) {
                        Some(entry) => entry.1 = value.clone(),
                        None => correlation.push((key.clone(), value.clone())),
                    }
                }
                self.operations.insert((self.pid, op.id), OpenOperation { own, correlation });
            }
            Kind::OperationEnd => {
                self.operations.remove(&(self.pid, op.id));
            }
            _ => {}
        }
    }
}

/// The keys of an event's `trace`, which Python's `correlation` repeats.
fn trace_keys(buf: &mut Vec<u8>, event: &EventKeys<'_>) {
    let mut sep = "";
    if let Some(span) = &event.span {
        buf.extend_from_slice(b"\"trace_id\":\"");
        json::write_hex(buf, span.trace_id());
        buf.extend_from_slice(b"\",\"span_id\":\"");
        json::write_hex(buf, span.span_id());
        buf.extend_from_slice(b"\",\"trace_flags\":");
        json::write_int(buf, span.flags());
        buf.extend_from_slice(b",\"trace_state\":{");
        // W3C `k1=v1,k2=v2`, as Python's `dict(trace_state)`.
        let entries = event.trace_state.unwrap_or("").split(',').filter_map(|e| e.trim().split_once('='));
        for (i, (key, value)) in entries.enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            json::write_str(buf, key);
            buf.push(b':');
            json::write_str(buf, value);
        }
        buf.extend_from_slice(b"},\"span_name\":\"\",\"span_kind\":\"\"");
        sep = ",";
    }
    if let Some(baggage) = &event.baggage {
        buf.extend_from_slice(sep.as_bytes());
        buf.extend_from_slice(b"\"baggage\":{");
        for (i, (key, value)) in baggage.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            json::write_str(buf, key);
            buf.push(b':');
            json::write_str(buf, value);
        }
        buf.push(b'}');
    }
}

/// What a line takes from an [`Event`] besides its fields.
struct EventKeys<'e> {
    unix_nanos: i128,
    operation: Option<OperationRef<'e>>,
    span: Option<TraceContext<'e>>,
    baggage: Option<Baggage<'e>>,
    trace_state: Option<&'e str>,
    global_context: Option<&'e GlobalContext>,
}

impl<W: Write> super::Output for LmlogPyLines<W> {
    type Callsite = LmlogPyCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> LmlogPyCallsite {
        LmlogPyCallsite::new(callsite)
    }

    fn event(&mut self, event: Event<'_>, cs: &mut LmlogPyCallsite) -> io::Result<()> {
        let keys = EventKeys {
            unix_nanos: event.unix_nanos,
            operation: event.operation,
            span: event.trace,
            baggage: event.baggage,
            trace_state: event.trace_state,
            global_context: event.global_context,
        };
        let (tys, mut r, outcome) = event.fields.into_parts();
        self.scratch.clear();
        self.ranges.clear();
        match read_fields(tys, &mut r, &mut self.scratch, &mut self.ranges) {
            // Nothing of the line is written; the decoder reports the record.
            Err(error) => outcome.error = Some(error),
            Ok(()) => {
                outcome.end = r.pos;
                // A start's own fields are its correlation already; an
                // end's fields are let go of after its line.
                if cs.kind == Kind::OperationStart {
                    self.follow_operation(keys.operation, cs);
                }
                self.line(&keys, cs);
                if cs.kind == Kind::OperationEnd {
                    self.follow_operation(keys.operation, cs);
                }
            }
        }
        event_written(&mut self.out, &mut self.buf)
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let Item::Session(session) = item {
            self.pid = session.pid;
            let resource = &mut self.resource;
            resource.clear();
            let mut attributes = resource_attributes(session);
            attributes
                .sort_by_key(|(key, _)| PYTHON_RESOURCE_ORDER.iter().position(|k| k == key).unwrap_or(usize::MAX));
            write_resource_key(resource, attributes);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_all(&mut self.out, &mut self.buf)
    }
}

/// Writes the fields' values into `scratch` (keys too, which the line does
/// not use) and notes where each top-level value is.
fn read_fields(
    tys: &[record::FieldTy],
    r: &mut Reader<'_>,
    scratch: &mut Vec<u8>,
    ranges: &mut Vec<(usize, usize)>,
) -> Result<(), ValueError> {
    let mut out = Out { buf: scratch, limit: MAX_EVENT_JSON };
    record::write_event_fields(tys, r, &mut out, Some(ranges))
}
