//! The JSON Lines output.
//!
//! A line is the decoded fields between runs of JSON pre-rendered per call
//! site ([`JsonCallsite`]: level, event type and first key; the line end
//! with `source` and `thread`, per thread), and output leaves in whole
//! 64 KiB chunks.

use std::io::{self, Write};

use crate::events::{Baggage, Callsite, Event, GlobalContext, Item, OperationRef, TemplatePart, Thread, TraceContext};
use crate::json::{self, TimestampFormatter};
use crate::record::{self, FieldTy, Out, Reader, ValueError, MAX_EVENT_JSON};
use crate::resource::{resource_attributes, write_resource_key};

/// Output is handed to the writer once this many bytes are buffered.
pub(super) const FLUSH_AT: usize = 64 << 10;

/// Writes one JSON object per event (see the format's documentation for
/// the keys), buffered internally in 64 KiB chunks: `W` need not be
/// buffered. [`StreamDecoder`](crate::StreamDecoder) is a
/// [`Decoder`](crate::Decoder) with this output.
#[non_exhaustive]
pub struct JsonLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    ts: TimestampFormatter,
    /// Field JSON of events with a message (the message comes first).
    scratch: Vec<u8>,
    /// Spans of top-level field values in `scratch`.
    ranges: Vec<(usize, usize)>,
    /// `,"thread":{"id":1,"name":"main"}` of the thread with key `thread_key`.
    thread: Vec<u8>,
    /// [`Thread::key`](crate::Thread::key) of `thread`; 0 before the first.
    thread_key: u64,
    /// With [`JsonLines::include_resource`]: `,"resource":{...}` of the
    /// latest session (empty before the first), rendered into `thread`.
    resource: Option<Vec<u8>>,
}

impl<W: Write> std::fmt::Debug for JsonLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines").field("buffered", &self.buf.len()).finish_non_exhaustive()
    }
}

/// What goes under a line's `trace` key.
struct TraceKeys<'a> {
    span: Option<TraceContext<'a>>,
    baggage: Option<Baggage<'a>>,
    trace_state: Option<&'a str>,
}

impl TraceKeys<'_> {
    fn is_empty(&self) -> bool {
        self.span.is_none() && self.baggage.is_none() && self.trace_state.is_none()
    }
}

/// A piece of a compiled message template.
#[derive(Debug)]
enum MessagePart {
    /// Literal text, already escaped for a JSON string.
    Text(Box<[u8]>),
    /// The value of the top-level field with this index.
    Field(usize),
}

/// A call site prepared for [`JsonLines`].
///
/// A line is written as the timestamp, `head`, the fields (with the message
/// and `fields_open` before them if there is a message), then the tail: a
/// copy of `source` and the thread's fragment, built once per thread.
#[derive(Debug)]
#[non_exhaustive]
pub struct JsonCallsite {
    /// `","level":"warn","event_type":"payment_failed"` (the quote closes
    /// the timestamp), then `,"message":"` if the call site has a message,
    /// else `,"fields":{` and the first field's key.
    head: Box<[u8]>,
    /// `","fields":{` and the first field's key: what follows a message.
    fields_open: Box<[u8]>,
    /// The compiled message template, if the call site has one.
    message: Option<Box<[MessagePart]>>,
    /// `},"source":{...}` (the brace closes `fields`); just `}` for call
    /// sites without a source.
    source: Box<[u8]>,
    /// `source`, the thread fragment of `tail_key` and `}\n`.
    tail: Vec<u8>,
    /// The thread key `tail` was built for; 0 if none.
    tail_key: u64,
}

impl JsonCallsite {
    fn new(callsite: &Callsite) -> JsonCallsite {
        let first_key: &[u8] = callsite.tys.first().map_or(&[], |f| f.key.as_bytes());
        let mut fields_open = b"\",\"fields\":{".to_vec();
        fields_open.extend_from_slice(first_key);

        let event_type = callsite.event_type();
        let mut head = Vec::with_capacity(64 + event_type.len() + first_key.len());
        head.extend_from_slice(b"\",\"level\":\"");
        head.extend_from_slice(callsite.level().as_str().as_bytes());
        head.extend_from_slice(b"\",\"event_type\":");
        json::write_str(&mut head, event_type);
        if callsite.template().is_some() {
            head.extend_from_slice(b",\"message\":\"");
        } else {
            head.extend_from_slice(&fields_open[1..]);
        }

        let mut source = b"}".to_vec();
        if let Some(s) = callsite.source() {
            source.reserve(96 + s.module.len() + s.file.len() + s.function.len());
            source.extend_from_slice(b",\"source\":{\"module\":");
            json::write_str(&mut source, s.module);
            source.extend_from_slice(b",\"file\":");
            json::write_str(&mut source, s.file);
            source.extend_from_slice(b",\"line\":");
            json::write_int(&mut source, s.line);
            source.extend_from_slice(b",\"column\":");
            json::write_int(&mut source, s.column);
            source.extend_from_slice(b",\"function\":");
            json::write_str(&mut source, s.function);
            source.push(b'}');
        }

        let message = callsite.template().map(|parts| {
            parts
                .iter()
                .map(|part| match part {
                    TemplatePart::Text(t) => {
                        let mut text = Vec::with_capacity(t.len());
                        json::write_str_contents(&mut text, t.as_bytes());
                        MessagePart::Text(text.into())
                    }
                    TemplatePart::Field(i) => MessagePart::Field(*i),
                })
                .collect()
        });

        JsonCallsite {
            head: head.into(),
            fields_open: fields_open.into(),
            message,
            source: source.into(),
            tail: Vec::new(),
            tail_key: 0,
        }
    }
}

/// Ends an event: writes what `buf` holds in whole [`FLUSH_AT`]-sized
/// chunks once it holds one (every output buffers its lines this way).
pub(super) fn event_written<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.len() >= FLUSH_AT {
        write_chunks(out, buf)?;
    }
    Ok(())
}

/// Writes everything `buf` holds and flushes `out`.
pub(super) fn flush_all<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    if !buf.is_empty() {
        out.write_all(buf)?;
        buf.clear();
    }
    out.flush()
}

/// Writes the whole [`FLUSH_AT`]-sized chunks of `buf` and keeps the rest.
///
/// Writes of whole chunks keep a file's write offsets page-aligned, so the
/// kernel copies whole pages instead of zero-filling and merging the pages
/// that each write would otherwise start and end in.
pub(super) fn write_chunks<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    let n = buf.len() - buf.len() % FLUSH_AT;
    out.write_all(&buf[..n])?;
    buf.drain(..n);
    Ok(())
}

/// Appends `,"thread":{"id":N,"name":"..."}` (the name only if known).
fn thread_fragment(out: &mut Vec<u8>, id: u32, name: Option<&str>) {
    out.extend_from_slice(b",\"thread\":{\"id\":");
    json::write_int(out, id);
    if let Some(name) = name {
        out.extend_from_slice(b",\"name\":");
        json::write_str(out, name);
    }
    out.push(b'}');
}

impl<W: Write> JsonLines<W> {
    /// An output writing JSON Lines to `out`.
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            ts: TimestampFormatter::new(),
            scratch: Vec::new(),
            ranges: Vec::new(),
            thread: Vec::new(),
            thread_key: 0,
            resource: None,
        }
    }

    /// Whether each line carries `"resource":{...}`, the OpenTelemetry
    /// resource of the process that wrote it ([`resource_attributes`](crate::resource_attributes):
    /// `service.name`, `host.name`, `process.pid`, ...; `lmlog-decode
    /// --resource`). Off by default: the resource is the same on every line
    /// of a process.
    pub fn include_resource(mut self, include: bool) -> Self {
        self.resource = include.then(Vec::new);
        self
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Builds the line end of `cs` for `thread` (and, if it changed, the
    /// thread's fragment): `},"source":{...},"thread":{...}}\n`.
    #[inline(never)]
    fn new_tail(&mut self, cs: &mut JsonCallsite, thread: Thread<'_>) {
        if self.thread_key != thread.key {
            self.thread.clear();
            thread_fragment(&mut self.thread, thread.id, thread.name);
            if let Some(resource) = &self.resource {
                self.thread.extend_from_slice(resource);
            }
            self.thread_key = thread.key;
        }
        cs.tail.clear();
        cs.tail.extend_from_slice(&cs.source);
        cs.tail.extend_from_slice(&self.thread);
        cs.tail.extend_from_slice(b"}\n");
        cs.tail_key = thread.key;
    }

    /// Writes the optional keys that end a line, `operation`,
    /// `global_context`, `trace` and `flight_recorder`, and the line's end.
    fn line_end(
        &mut self,
        operation: Option<&OperationRef<'_>>,
        global_context: Option<&GlobalContext>,
        trace: &TraceKeys<'_>,
        flight_recorded: bool,
    ) {
        if let Some(op) = operation {
            self.buf.extend_from_slice(b",\"operation\":{\"id\":");
            json::write_int(&mut self.buf, op.id);
            self.buf.extend_from_slice(b",\"name\":");
            match op.name {
                Some(name) => json::write_str(&mut self.buf, name),
                None => self.buf.extend_from_slice(b"null"),
            }
            self.buf.extend_from_slice(b",\"parent_id\":");
            match op.parent_id {
                Some(parent) => json::write_int(&mut self.buf, parent),
                None => self.buf.extend_from_slice(b"null"),
            }
            self.buf.push(b'}');
        }
        if let Some(context) = global_context {
            self.buf.extend_from_slice(b",\"global_context\":{");
            for (i, (key, value)) in context.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                json::write_str(&mut self.buf, key);
                self.buf.push(b':');
                json::write_context_value(&mut self.buf, value);
            }
            self.buf.push(b'}');
        }
        if !trace.is_empty() {
            self.trace(trace);
        }
        if flight_recorded {
            self.buf.extend_from_slice(b",\"flight_recorder\":true");
        }
        self.buf.extend_from_slice(b"}\n");
    }

    /// Writes `,"trace":{...}`: the span context's keys, then
    /// `trace_state` and `baggage` when recorded.
    fn trace(&mut self, t: &TraceKeys<'_>) {
        self.buf.extend_from_slice(b",\"trace\":{");
        let mut sep = "";
        if let Some(span) = &t.span {
            self.buf.extend_from_slice(b"\"trace_id\":\"");
            json::write_hex(&mut self.buf, span.trace_id());
            self.buf.extend_from_slice(b"\",\"span_id\":\"");
            json::write_hex(&mut self.buf, span.span_id());
            self.buf.extend_from_slice(b"\",\"trace_flags\":\"");
            json::write_hex(&mut self.buf, &[span.flags()]);
            self.buf.push(b'"');
            sep = ",";
        }
        if let Some(state) = t.trace_state {
            self.buf.extend_from_slice(sep.as_bytes());
            self.buf.extend_from_slice(b"\"trace_state\":");
            json::write_str(&mut self.buf, state);
            sep = ",";
        }
        if let Some(baggage) = &t.baggage {
            self.buf.extend_from_slice(sep.as_bytes());
            self.buf.extend_from_slice(b"\"baggage\":{");
            for (i, (key, value)) in baggage.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                json::write_str(&mut self.buf, key);
                self.buf.push(b':');
                json::write_str(&mut self.buf, value);
            }
            self.buf.push(b'}');
        }
        self.buf.push(b'}');
    }

    /// Writes the timestamp, the head and the fields, up to the brace that
    /// closes `fields`.
    #[inline]
    fn line_start(
        &mut self,
        tys: &[FieldTy],
        r: &mut Reader<'_>,
        unix_nanos: i128,
        start: usize,
        cs: &JsonCallsite,
    ) -> Result<(), ValueError> {
        self.ts.write_line_start(&mut self.buf, unix_nanos);
        self.buf.extend_from_slice(&cs.head);
        match &cs.message {
            None => {
                let mut out = Out { buf: &mut self.buf, limit: start + MAX_EVENT_JSON };
                record::write_event_fields(tys, r, &mut out, None)?;
            }
            Some(parts) => {
                self.scratch.clear();
                self.ranges.clear();
                let mut out = Out { buf: &mut self.scratch, limit: MAX_EVENT_JSON };
                record::write_event_fields(tys, r, &mut out, Some(&mut self.ranges))?;
                for part in parts.iter() {
                    match part {
                        MessagePart::Text(t) => self.buf.extend_from_slice(t),
                        MessagePart::Field(i) => {
                            if let Some(&(a, b)) = self.ranges.get(*i) {
                                record::write_placeholder(&mut self.buf, &self.scratch[a..b]);
                            }
                        }
                    }
                }
                self.buf.extend_from_slice(&cs.fields_open);
                self.buf.extend_from_slice(&self.scratch);
            }
        }
        Ok(())
    }
}

impl<W: Write> super::Output for JsonLines<W> {
    type Callsite = JsonCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> JsonCallsite {
        JsonCallsite::new(callsite)
    }

    #[inline(always)]
    fn event(&mut self, event: Event<'_>, cs: &mut JsonCallsite) -> io::Result<()> {
        let Event {
            unix_nanos,
            thread,
            trace,
            operation,
            baggage,
            trace_state,
            global_context,
            flight_recorded,
            fields,
            ..
        } = event;
        let trace = TraceKeys { span: trace, baggage, trace_state };
        let (tys, mut r, outcome) = fields.into_parts();
        let start = self.buf.len();
        if let Err(error) = self.line_start(tys, &mut r, unix_nanos, start, cs) {
            // Nothing of the line remains; the decoder reports the record.
            outcome.error = Some(error);
            self.buf.truncate(start);
        } else {
            outcome.end = r.pos;
            match thread {
                Some(t) => {
                    if cs.tail_key != t.key {
                        self.new_tail(cs, t);
                    }
                    let tail = &cs.tail;
                    if trace.is_empty() && operation.is_none() && global_context.is_none() && !flight_recorded {
                        self.buf.extend_from_slice(tail);
                    } else {
                        self.buf.extend_from_slice(&tail[..tail.len() - 2]);
                        self.line_end(operation.as_ref(), global_context, &trace, flight_recorded);
                    }
                }
                None => {
                    self.buf.extend_from_slice(&cs.source);
                    if let Some(resource) = &self.resource {
                        self.buf.extend_from_slice(resource);
                    }
                    self.line_end(operation.as_ref(), global_context, &trace, flight_recorded);
                }
            }
        }
        event_written(&mut self.out, &mut self.buf)
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let (Some(resource), Item::Session(session)) = (&mut self.resource, item) {
            resource.clear();
            write_resource_key(resource, resource_attributes(session));
            // The thread fragments carry the resource: build them anew.
            self.thread_key = 0;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_all(&mut self.out, &mut self.buf)
    }
}
