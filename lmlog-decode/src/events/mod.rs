//! The event decoder: frames in, events out.
//!
//! It keeps each session's state (call sites, thread names, the clock) and
//! turns records into borrowed [`Event`]s, drop reports and the writer's
//! loss frames into events of built-in call sites, and hands them and the
//! other [`Item`]s of the stream to an [`Output`]. An event's fields are
//! read lazily, by the output: the event decoder skips them only if the
//! output did not read them.

mod callsite;
mod fields;
mod global_context;
mod merge;
mod session;
#[cfg(test)]
mod tests;

use lmlog_format::frame::{
    record_extensions, RecordHeader, DROP_REPORT_ID, EXTENSION_BAGGAGE, EXTENSION_FLIGHT_RECORDED, EXTENSION_OPERATION,
    EXTENSION_TRACE_STATE, TRACE_CONTEXT_LEN,
};
use std::collections::HashMap;

use lmlog_format::schema::from_payload;
use lmlog_format::varint;
use lmlog_format::{
    CallsiteSchema, ClockUpdate, EndInfo, FrameKind, GlobalContextReport, Level, LossReport, RecordsHeader,
    SampledCount, SampledReport, SessionInfo, ThreadInfo,
};

pub use callsite::{
    Callsite, Source, TemplatePart, DROPPED_EVENT_TYPE, SAMPLED_OUT_EVENT_TYPE, WRITER_LOSS_EVENT_TYPE,
};
pub use fields::{FieldError, Fields, SeqKind, Visitor};
pub use global_context::GlobalContext;

pub(crate) use fields::{JsonText, Outcome};
pub(crate) use session::Clock;

use crate::frames::{Frame, FrameOrigin};
use crate::output::Output;
use crate::record::{Reader, ValueError, ValueErrorKind};
use crate::report::{DecodeError, DiagnosticKind, Reporter};
use merge::{Merger, PendingFrame, Release};
use session::Session;

/// One event, borrowed from the decoder for the time an output or handler
/// looks at it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Event<'a> {
    /// Wall-clock time in nanoseconds since the Unix epoch (may be negative
    /// or beyond `u64` for nonsense clocks).
    pub unix_nanos: i128,
    /// The record's raw tick count (`None` for writer-loss events, which
    /// carry wall-clock time only).
    pub ticks: Option<u64>,
    /// The call site that emitted the event: level, event type, source,
    /// message template and field descriptors.
    pub callsite: &'a Callsite,
    /// The thread that emitted it (`None` for writer-loss events).
    pub thread: Option<Thread<'a>>,
    /// The OpenTelemetry span context that was active, if any.
    pub trace: Option<TraceContext<'a>>,
    /// The operation (`lm_operation!`) it was emitted in, if any.
    pub operation: Option<OperationRef<'a>>,
    /// The OpenTelemetry baggage in effect, if any was recorded.
    pub baggage: Option<Baggage<'a>>,
    /// The active span's W3C trace state (`k1=v1,k2=v2`), if not empty.
    pub trace_state: Option<&'a str>,
    /// The process's global context (`lmlog::global_context`) when the
    /// event was emitted, if it was not empty.
    pub global_context: Option<&'a GlobalContext>,
    /// The flight recorder kept it (`Config::flight_recorder`): the filter
    /// had turned it away, and it was written just before an `error` event
    /// of its thread, with its own time.
    pub flight_recorded: bool,
    /// The fields, not read yet.
    pub fields: Fields<'a>,
}

/// The OpenTelemetry baggage an event was emitted with: its entries, in
/// the order recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Baggage<'a> {
    /// The item's bytes, checked when the record was read.
    bytes: &'a [u8],
}

impl<'a> Baggage<'a> {
    /// Checks an extension item's bytes.
    fn parse(bytes: &'a [u8]) -> Option<Baggage<'a>> {
        let baggage = Baggage { bytes };
        let mut r = lmlog_format::wire::WireReader::new(bytes);
        while !r.is_empty() {
            std::str::from_utf8(r.len_prefixed().ok()?).ok()?;
            std::str::from_utf8(r.len_prefixed().ok()?).ok()?;
        }
        Some(baggage)
    }

    /// The entries: `(key, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut r = lmlog_format::wire::WireReader::new(self.bytes);
        let text = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or_default();
        std::iter::from_fn(move || {
            if r.is_empty() {
                return None;
            }
            let key = r.len_prefixed().ok()?;
            let value = r.len_prefixed().ok()?;
            Some((text(key), text(value)))
        })
    }
}

/// The operation an event was emitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationRef<'a> {
    /// Its id, unique within the process that wrote it.
    pub id: u64,
    /// The id of the operation it runs in, if any.
    pub parent_id: Option<u64>,
    /// Its name, once its first record was decoded (in time order, always
    /// for its own events; a file decoded without the operation's start
    /// leaves it unknown).
    pub name: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// An event of a built-in call site the writer reports (a loss, a
    /// sampled-out count): wall-clock time only, no thread, no context.
    fn built_in(unix_nanos: i128, callsite: &'a Callsite, fields: Fields<'a>) -> Event<'a> {
        Event {
            unix_nanos,
            ticks: None,
            callsite,
            thread: None,
            trace: None,
            operation: None,
            baggage: None,
            trace_state: None,
            global_context: None,
            flight_recorded: false,
            fields,
        }
    }

    /// The event's severity (its call site's).
    pub fn level(&self) -> Level {
        self.callsite.level()
    }

    /// The event type name (its call site's).
    pub fn event_type(&self) -> &str {
        self.callsite.event_type()
    }
}

/// The thread an event was emitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thread<'a> {
    /// The writer's id of the thread (unique within a file).
    pub id: u32,
    /// Its name, if it has one and its description was seen.
    pub name: Option<&'a str>,
    /// A number that is the same for two events exactly when they come from
    /// the same thread, described the same way, within one decoder: what an
    /// output renders per thread can be cached under it. Never 0.
    pub key: u64,
}

/// An OpenTelemetry span context, borrowed from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TraceContext<'a> {
    bytes: &'a [u8; TRACE_CONTEXT_LEN],
}

impl<'a> TraceContext<'a> {
    /// The trace id.
    pub fn trace_id(&self) -> &'a [u8; 16] {
        self.bytes.first_chunk().unwrap_or(&[0; 16])
    }

    /// The span id.
    pub fn span_id(&self) -> &'a [u8; 8] {
        self.bytes[16..].first_chunk().unwrap_or(&[0; 8])
    }

    /// The W3C trace flags (bit 0: sampled).
    pub fn flags(&self) -> u8 {
        self.bytes[24]
    }
}

/// A watermark: every record with ticks below `ticks` that the writer will
/// ever put in this file came before it (see the format's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Watermark {
    /// The tick count.
    pub ticks: u64,
    /// The same instant in nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
}

/// What the decoder hands on, in stream order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Item<'a> {
    /// An event.
    Event(Event<'a>),
    /// A session starts (the first frame of every file): the writing
    /// process, its clock and resource.
    Session(&'a SessionInfo),
    /// A watermark frame (format version 2 on).
    Watermark(Watermark),
    /// The writer ended its session (shutdown, or rotation to a new file).
    SessionEnd(&'a EndInfo),
    /// The input ended; nothing follows.
    EndOfStream,
}

/// Counts kept by an [`EventDecoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EventStats {
    /// Events handed to the output whose records decoded.
    pub events: u64,
    pub dropped_events: u64,
    pub writer_lost_frames: u64,
    pub writer_lost_events: u64,
    /// Events the call sites' sampling turned away (the sum of the
    /// `lmlog.sampled_out` counts).
    pub sampled_out_events: u64,
    /// Records frames cut short by a record that did not decode.
    pub bad_records: u64,
    pub watermarks: u64,
    /// Whether the last session ended with an end frame.
    pub clean_end: bool,
}

/// A call site and what the output prepared for it.
#[derive(Debug)]
pub(crate) struct Entry<C> {
    pub callsite: Callsite,
    pub prepared: C,
    /// How many schema frames came before this call site's: records framed
    /// before it was read do not know it (see [`Records::schemas_known`]).
    pub number: u64,
}

impl<C> Entry<C> {
    fn new<O: Output<Callsite = C>>(callsite: Callsite, out: &mut O, number: u64) -> Self {
        let prepared = out.callsite(&callsite);
        Entry { callsite, prepared, number }
    }
}

/// The decoder's built-in call sites.
#[derive(Debug)]
struct Builtins<C> {
    dropped: Entry<C>,
    loss: Entry<C>,
    loss_without_reason: Entry<C>,
    /// Loss frames with the appended detail.
    detailed_loss: Entry<C>,
    detailed_loss_without_reason: Entry<C>,
    sampled_out: Entry<C>,
}

/// Why a record could not be decoded, or why decoding stopped.
enum RecordError {
    UnknownCallsite(u32),
    Value {
        callsite: Option<u32>,
        error: ValueError,
    },
    /// The output failed: decoding stops.
    Output(std::io::Error),
}

/// Frames in, events and other [`Item`]s out; see the module documentation.
/// `C` is what the output prepares per call site.
#[derive(Debug)]
pub(crate) struct EventDecoder<C> {
    session: Session<Entry<C>>,
    builtins: Builtins<C>,
    /// A session frame was seen and no end frame after it.
    session_open: bool,
    /// The fields of a writer-loss event, encoded as a record's.
    loss_fields: Vec<u8>,
    stats: EventStats,
    /// Merges threads by time, if time order is on.
    merger: Option<Box<Merger>>,
    /// Schema frames read (the number of the latest).
    schemas_read: u64,
    /// Counts the files whose call sites records held for time order may
    /// need (see [`Retired`]); a held frame notes the one it belongs to.
    generation: u64,
    /// The call sites of the file before a rotation, while records of it are
    /// held.
    retired: Vec<Retired<C>>,
    /// The last session ended by rotation: the next file, if the same
    /// process and clock write it, goes on with the records held.
    rotated: bool,
    /// Process id and tick rate of the latest session.
    process: Option<(u32, f64)>,
    /// Names of the operations whose first record was decoded, by process
    /// and id, until their end.
    operation_names: OperationNames,
    /// The stream's global context over time.
    global_context: global_context::ContextHistory,
}

/// Names of operations by (process id, operation id).
type OperationNames = HashMap<(u32, u64), Box<str>>;

/// The call sites of a file the writer rotated away from, kept in time order
/// while records of that file are held: a rotation can fall in the middle of
/// a drain, so the next file can start with records older than the last
/// ones of this file, from another thread. Merged across the boundary (the
/// same clock writes both files), they come out in time order.
#[derive(Debug)]
struct Retired<C> {
    schemas: session::SchemaTable<Entry<C>>,
    generation: u64,
    /// Frames of that file still held.
    frames: usize,
}

impl<C> EventDecoder<C> {
    /// A decoder whose events go to outputs like `out` (which prepares its
    /// state for the built-in call sites now).
    pub fn new<O: Output<Callsite = C>>(out: &mut O) -> Self {
        EventDecoder {
            session: Session::default(),
            builtins: Builtins {
                dropped: Entry::new(Callsite::dropped(), out, 0),
                loss: Entry::new(Callsite::writer_loss(true, false), out, 0),
                loss_without_reason: Entry::new(Callsite::writer_loss(false, false), out, 0),
                detailed_loss: Entry::new(Callsite::writer_loss(true, true), out, 0),
                detailed_loss_without_reason: Entry::new(Callsite::writer_loss(false, true), out, 0),
                sampled_out: Entry::new(Callsite::sampled_out(), out, 0),
            },
            session_open: false,
            loss_fields: Vec::new(),
            stats: EventStats::default(),
            merger: None,
            schemas_read: 0,
            generation: 0,
            retired: Vec::new(),
            rotated: false,
            process: None,
            operation_names: HashMap::new(),
            global_context: global_context::ContextHistory::default(),
        }
    }

    /// Turns time order on or off; off, it first hands on the events it holds.
    pub fn set_time_order<O: Output<Callsite = C>>(
        &mut self,
        on: bool,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        if on {
            self.merger.get_or_insert_default();
            return Ok(());
        }
        self.release(Release::All, out, rep)?;
        self.merger = None;
        Ok(())
    }

    /// The counts so far.
    pub fn stats(&self) -> &EventStats {
        &self.stats
    }

    /// A new file starts: forgets the session's call sites, threads and
    /// clock, after handing on the events held for time order, unless the
    /// previous file ended by rotation: its call sites are then kept for
    /// them (see [`Retired`]).
    pub fn start_file<O: Output<Callsite = C>>(&mut self, out: &mut O, rep: &mut Reporter) -> Result<(), DecodeError> {
        let rotated = std::mem::take(&mut self.rotated);
        // Held frames of this file: the others belong to retired files (a
        // drain the writer took long over can span several rotations).
        let held =
            self.merger.as_ref().map_or(0, |m| m.frames()) - self.retired.iter().map(|r| r.frames).sum::<usize>();
        if rotated && held > 0 {
            let schemas = std::mem::take(&mut self.session.schemas);
            self.retired.push(Retired { schemas, generation: self.generation, frames: held });
        } else if !rotated {
            self.end_merge(out, rep)?;
            self.retired.clear();
        }
        if !rotated {
            // Another process, or another run: its context is its own.
            self.global_context.reset();
        }
        self.generation += 1;
        self.session.reset();
        Ok(())
    }

    /// Hands on every event held for time order and starts merging afresh
    /// (a new clock: ticks before and after are not comparable).
    fn end_merge<O: Output<Callsite = C>>(&mut self, out: &mut O, rep: &mut Reporter) -> Result<(), DecodeError> {
        self.release(Release::All, out, rep)?;
        if let Some(merger) = &mut self.merger {
            merger.reset();
        }
        Ok(())
    }

    /// The input ended: reports a session without an end frame and hands
    /// [`Item::EndOfStream`] to `out`.
    pub fn finish<O: Output<Callsite = C>>(
        &mut self,
        offset: u64,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        self.release(Release::All, out, rep)?;
        if self.session_open {
            rep.report(offset, DiagnosticKind::MissingEnd);
        }
        out.item(Item::EndOfStream).map_err(|source| DecodeError::Write { source })
    }

    /// Decodes one intact frame.
    pub fn frame<O: Output<Callsite = C>>(
        &mut self,
        frame: &Frame<'_>,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        let payload = frame.payload;
        let at = frame.offset;
        let bad = |error: String| DiagnosticKind::BadPayload { frame: frame.kind, error };
        let write = |source| DecodeError::Write { source };
        match frame.kind {
            FrameKind::Records => return self.records(frame, out, rep),
            FrameKind::Session => match from_payload::<SessionInfo>(payload) {
                Ok(info) => {
                    let process = Some((info.pid, info.clock.ticks_per_second));
                    if !self.retired.is_empty() && std::mem::replace(&mut self.process, process) != process {
                        // Not the process that rotated: its clock is another.
                        self.end_merge(out, rep)?;
                    }
                    self.process = process;
                    let (clock, valid) = Clock::from_info(&info.clock);
                    self.session.clock = clock;
                    self.session_open = true;
                    self.stats.clean_end = false;
                    if !valid {
                        rep.report(at, DiagnosticKind::BadClock { ticks_per_second: info.clock.ticks_per_second });
                    }
                    out.item(Item::Session(&info)).map_err(write)?;
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Clock => match ClockUpdate::decode(payload) {
                Ok(update) => {
                    self.session.clock.set_anchor(update.anchor);
                    if let Some(ticks_per_second) = update.ticks_per_second {
                        // An unusable rate is reported and the one in force kept.
                        if !self.session.clock.set_rate(ticks_per_second) {
                            rep.report(at, DiagnosticKind::BadClockRate { ticks_per_second });
                        }
                    }
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Schema => match CallsiteSchema::decode(payload) {
                Ok(schema) if schema.id == DROP_REPORT_ID => {
                    rep.report(at, bad("call-site id 0 is reserved for drop reports".into()))
                }
                Ok(schema) => {
                    let id = schema.id;
                    let (callsite, template_error) = Callsite::compile(schema);
                    self.schemas_read += 1;
                    self.session.schemas.insert(id, Entry::new(callsite, out, self.schemas_read));
                    if let Some(error) = template_error {
                        rep.report(at, DiagnosticKind::BadTemplate { callsite: id, error });
                    }
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Thread => match from_payload::<ThreadInfo>(payload) {
                Ok(info) => self.session.add_thread(info),
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Loss => match LossReport::decode(payload) {
                Ok(report) => {
                    self.loss(&report, out).map_err(write)?;
                    self.stats.events += 1;
                    let stats = &mut self.stats;
                    stats.writer_lost_frames = stats.writer_lost_frames.saturating_add(report.loss.frames);
                    let events = report.detail.map_or(0, |d| d.events);
                    stats.writer_lost_events = stats.writer_lost_events.saturating_add(events);
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Watermark => match from_payload::<lmlog_format::Watermark>(payload) {
                Ok(w) => {
                    self.stats.watermarks += 1;
                    if let Some(merger) = &mut self.merger {
                        merger.set_watermark(w.ticks);
                        self.release(Release::Covered, out, rep)?;
                    }
                    let unix_nanos = self.session.clock.unix_nanos(w.ticks);
                    out.item(Item::Watermark(Watermark { ticks: w.ticks, unix_nanos })).map_err(write)?;
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Sampled => match from_payload::<SampledReport>(payload) {
                Ok(report) => {
                    for site in &report.sites {
                        if !self.sampled_out(&report, *site, out).map_err(write)? {
                            rep.report(at, bad(format!("unknown call site {}", site.id)));
                        }
                    }
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::GlobalContext => match from_payload::<GlobalContextReport>(payload) {
                Ok(report) => self.global_context.apply(&report),
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::End => match from_payload::<EndInfo>(payload) {
                Ok(end) => {
                    if self.merger.is_some() && end.reason == EndInfo::ROTATED {
                        self.rotated = true;
                    } else {
                        self.release(Release::All, out, rep)?;
                    }
                    self.session_open = false;
                    self.stats.clean_end = true;
                    out.item(Item::SessionEnd(&end)).map_err(write)?;
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
        }
        Ok(())
    }

    /// Hands the event of a writer-loss report to `out`.
    fn loss<O: Output<Callsite = C>>(&mut self, report: &LossReport, out: &mut O) -> std::io::Result<()> {
        let loss = &report.loss;
        let fields = &mut self.loss_fields;
        fields.clear();
        varint::push_u64(fields, loss.frames);
        varint::push_u64(fields, loss.bytes);
        varint::push_u64(fields, loss.reason.len() as u64);
        fields.extend_from_slice(loss.reason.as_bytes());
        if let Some(detail) = &report.detail {
            varint::push_u64(fields, detail.events);
            let end = detail.dropped_end.name();
            varint::push_u64(fields, end.len() as u64);
            fields.extend_from_slice(end.as_bytes());
            varint::push_u64(fields, detail.failed_writes);
            varint::push_u64(fields, detail.delayed_events);
        }
        let builtins = &mut self.builtins;
        let entry = match (report.detail.is_some(), loss.reason.is_empty()) {
            (false, false) => &mut builtins.loss,
            (false, true) => &mut builtins.loss_without_reason,
            (true, false) => &mut builtins.detailed_loss,
            (true, true) => &mut builtins.detailed_loss_without_reason,
        };
        let mut outcome = Outcome::new();
        let event = Event::built_in(
            loss.last_unix_nanos as i128,
            &entry.callsite,
            Fields::new(&entry.callsite, fields, 0, &mut outcome),
        );
        out.event(event, &mut entry.prepared)
        // The fields were encoded here: they always read.
    }

    /// Hands the `lmlog.sampled_out` event of one call site's count to
    /// `out`; false if the call site is unknown.
    fn sampled_out<O: Output<Callsite = C>>(
        &mut self,
        report: &SampledReport,
        site: SampledCount,
        out: &mut O,
    ) -> std::io::Result<bool> {
        let Some(entry) = self.session.schemas.get(site.id) else {
            return Ok(false);
        };
        let (Some(source), site_callsite) = (entry.callsite.source(), &entry.callsite) else {
            return Ok(false);
        };
        let fields = &mut self.loss_fields;
        fields.clear();
        for text in [site_callsite.event_type(), source.module, source.file] {
            varint::push_u64(fields, text.len() as u64);
            fields.extend_from_slice(text.as_bytes());
        }
        varint::push_u64(fields, u64::from(source.line));
        varint::push_u64(fields, site.count);
        let entry = &mut self.builtins.sampled_out;
        let mut outcome = Outcome::new();
        let event = Event::built_in(
            self.session.clock.unix_nanos(report.ticks),
            &entry.callsite,
            Fields::new(&entry.callsite, fields, 0, &mut outcome),
        );
        // The fields were encoded here: they always read.
        out.event(event, &mut entry.prepared)?;
        self.stats.events += 1;
        self.stats.sampled_out_events = self.stats.sampled_out_events.saturating_add(site.count);
        Ok(true)
    }

    #[inline(never)]
    fn records<O: Output<Callsite = C>>(
        &mut self,
        frame: &Frame<'_>,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        let payload = frame.payload;
        let (header, mut pos) = match RecordsHeader::decode(payload) {
            Ok(h) => h,
            Err(e) => {
                let kind = DiagnosticKind::BadPayload { frame: FrameKind::Records, error: e.to_string() };
                rep.report(frame.offset, kind);
                return Ok(());
            }
        };
        if pos >= payload.len() {
            // A records frame without records: nothing to decode or hold.
            return Ok(());
        }
        if let Some(merger) = &mut self.merger {
            let mut copy = merger.buffer(payload.len());
            copy.extend_from_slice(payload);
            merger.push(PendingFrame {
                payload: copy,
                pos,
                ticks: header.base_ticks,
                clock: self.session.clock,
                thread_id: header.thread_id,
                thread: self.session.thread(header.thread_id).clone(),
                schemas_known: self.schemas_read,
                generation: self.generation,
                origin: frame.origin(),
            });
            // A late record (FORMAT.md) goes out at once.
            return self.release(Release::Covered, out, rep);
        }
        let desc = self.session.thread(header.thread_id).clone();
        let mut records = Records {
            payload,
            version: frame.version,
            ticks: header.base_ticks,
            clock: &self.session.clock,
            thread: Thread { id: header.thread_id, name: desc.name.as_deref(), key: desc.key },
            schemas_known: self.schemas_read,
            schemas: &mut self.session.schemas,
            dropped: &mut self.builtins.dropped,
            stats: &mut self.stats,
            pid: self.process.map_or(0, |p| p.0),
            operation_names: &mut self.operation_names,
            global_context: &self.global_context,
        };
        let failure = loop {
            match records.next(pos, out) {
                Ok(next) => pos = next,
                Err(RecordError::Output(source)) => return Err(DecodeError::Write { source }),
                Err(f) => break f,
            }
            if pos >= payload.len() {
                return Ok(());
            }
        };
        self.report_failure(failure, frame.origin(), pos, payload.len(), self.generation, rep)
    }

    /// Hands on the records held for time order that `release` allows, in
    /// time order.
    fn release<O: Output<Callsite = C>>(
        &mut self,
        release: Release,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        let Some(mut merger) = self.merger.take() else { return Ok(()) };
        let result = self.release_from(&mut merger, release, out, rep);
        self.merger = Some(merger);
        result
    }

    fn release_from<O: Output<Callsite = C>>(
        &mut self,
        merger: &mut Merger,
        release: Release,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        'lanes: loop {
            let limit = merger.limit(release);
            let Some(lane) = merger.next_lane(limit) else { return Ok(()) };
            // The lane goes on while its records are no newer than any other
            // lane's next one (and older than the limit).
            let bound = merger.bound();
            let frame = merger.front(lane);
            let retired = self.retired.iter_mut().find(|r| r.generation == frame.generation);
            let schemas = match retired {
                Some(retired) => &mut retired.schemas,
                None => &mut self.session.schemas,
            };
            let mut records = Records {
                payload: &frame.payload,
                version: frame.origin.version,
                ticks: frame.ticks,
                clock: &frame.clock,
                thread: Thread { id: frame.thread_id, name: frame.thread.name.as_deref(), key: frame.thread.key },
                schemas_known: frame.schemas_known,
                schemas,
                dropped: &mut self.builtins.dropped,
                stats: &mut self.stats,
                pid: self.process.map_or(0, |p| p.0),
                operation_names: &mut self.operation_names,
                global_context: &self.global_context,
            };
            let mut pos = frame.pos;
            let failure = loop {
                match records.next(pos, out) {
                    Ok(next) => pos = next,
                    Err(RecordError::Output(source)) => return Err(DecodeError::Write { source }),
                    Err(f) => break Some(f),
                }
                if pos >= frame.payload.len() {
                    break None;
                }
                let next_ticks = merge::record_ticks(&frame.payload, pos, records.ticks);
                if limit.is_some_and(|l| next_ticks >= l) || bound.is_some_and(|b| next_ticks > b) {
                    frame.ticks = records.ticks;
                    frame.pos = pos;
                    merger.requeue(lane, next_ticks);
                    continue 'lanes;
                }
            };
            let (origin, len, generation) = (frame.origin, frame.payload.len(), frame.generation);
            merger.finish_front(lane);
            if let Some(failure) = failure {
                self.report_failure(failure, origin, pos, len, generation, rep)?;
            }
            if let Some(at) = self.retired.iter().position(|r| r.generation == generation) {
                self.retired[at].frames -= 1;
                if self.retired[at].frames == 0 {
                    self.retired.remove(at);
                }
            }
        }
    }

    /// Reports the record at `pos` of a records frame that did not decode
    /// (the rest of the frame, `len` bytes in all, is skipped).
    fn report_failure(
        &mut self,
        failure: RecordError,
        origin: FrameOrigin,
        pos: usize,
        len: usize,
        generation: u64,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
        let schemas = match self.retired.iter().find(|r| r.generation == generation) {
            Some(retired) => &retired.schemas,
            None => &self.session.schemas,
        };
        self.stats.bad_records += 1;
        let skipped = (len - pos) as u64;
        let kind = match failure {
            RecordError::UnknownCallsite(callsite) => DiagnosticKind::UnknownCallsite { callsite, skipped },
            RecordError::Value { callsite, error } => DiagnosticKind::BadRecord {
                callsite,
                event_type: callsite.and_then(|id| schemas.get(id)).map(|e| e.callsite.event_type().to_owned()),
                error: error.kind.to_string(),
                error_offset: origin.offset_of(error.at),
                skipped,
            },
            RecordError::Output(source) => return Err(DecodeError::Write { source }),
        };
        rep.report(origin.offset_of(pos), kind);
        Ok(())
    }
}

/// What the records of one records frame share.
struct Records<'s, C> {
    payload: &'s [u8],
    /// Format version of the file.
    version: u16,
    /// Ticks of the previous record (the frame's base ticks for the first).
    ticks: u64,
    clock: &'s Clock,
    thread: Thread<'s>,
    /// The schema frames read before this records frame: a record of a call
    /// site described later is of an unknown call site, in time order (which
    /// decodes the frame later) as in stream order.
    schemas_known: u64,
    schemas: &'s mut session::SchemaTable<Entry<C>>,
    dropped: &'s mut Entry<C>,
    stats: &'s mut EventStats,
    pid: u32,
    operation_names: &'s mut OperationNames,
    global_context: &'s global_context::ContextHistory,
}

impl<C> Records<'_, C> {
    /// Decodes the record at `pos` and hands its event to `out`; returns
    /// the position after it. A record that fails leaves nothing in the
    /// output (the output drops what it made of it).
    #[inline(always)]
    fn next<O: Output<Callsite = C>>(&mut self, pos: usize, out: &mut O) -> Result<usize, RecordError> {
        let mut r = Reader::new(self.payload, pos);
        let value_err = |callsite, error| RecordError::Value { callsite, error };
        let h = RecordHeader::decode(r.varint().map_err(|e| value_err(None, e))?, self.version);
        let Ok(id) = u32::try_from(h.callsite) else {
            let error = ValueError { at: pos, kind: ValueErrorKind::CallsiteRange(h.callsite) };
            return Err(value_err(None, error));
        };
        let delta = varint::unzigzag_i64(r.varint().map_err(|e| value_err(Some(id), e))?);
        self.ticks = self.ticks.wrapping_add_signed(delta);
        let trace = if h.has_trace {
            let t = r.take(TRACE_CONTEXT_LEN).map_err(|e| value_err(Some(id), e))?;
            t.try_into().ok().map(|bytes| TraceContext { bytes })
        } else {
            None
        };
        let (mut operation, mut baggage, mut trace_state) = (None, None, None);
        let mut flight_recorded = false;
        if h.has_extensions {
            let block_at = r.pos;
            let block = r.len_prefixed().map_err(|e| value_err(Some(id), e))?;
            let bad = |kind| value_err(Some(id), ValueError { at: block_at, kind });
            for item in record_extensions(block) {
                let (tag, bytes) = item.map_err(|_| bad(ValueErrorKind::Truncated))?;
                if tag == EXTENSION_OPERATION {
                    let (op, name) = parse_operation(bytes).ok_or_else(|| bad(ValueErrorKind::Truncated))?;
                    if let Some(name) = name {
                        self.operation_names.insert((self.pid, op.0), name.into());
                    }
                    operation = Some(op);
                } else if tag == EXTENSION_BAGGAGE {
                    baggage = Some(Baggage::parse(bytes).ok_or_else(|| bad(ValueErrorKind::Utf8))?);
                } else if tag == EXTENSION_TRACE_STATE {
                    trace_state = Some(std::str::from_utf8(bytes).map_err(|_| bad(ValueErrorKind::Utf8))?);
                } else if tag == EXTENSION_FLIGHT_RECORDED {
                    flight_recorded = true;
                }
            }
        }
        let unix_nanos = self.clock.unix_nanos(self.ticks);
        let fields_at = r.pos;
        let entry = if id == DROP_REPORT_ID {
            let count = r.varint().map_err(|e| value_err(Some(id), e))?;
            self.stats.dropped_events = self.stats.dropped_events.saturating_add(count);
            &mut *self.dropped
        } else {
            self.schemas
                .get_mut(id)
                .filter(|entry| entry.number <= self.schemas_known)
                .ok_or(RecordError::UnknownCallsite(id))?
        };
        let mut outcome = Outcome::new();
        let event = Event {
            unix_nanos,
            ticks: Some(self.ticks),
            callsite: &entry.callsite,
            thread: Some(self.thread),
            trace,
            operation: operation.map(|(id, parent)| OperationRef {
                id,
                parent_id: (parent != 0).then_some(parent),
                name: self.operation_names.get(&(self.pid, id)).map(|n| &**n),
            }),
            baggage,
            trace_state,
            global_context: self.global_context.at(self.ticks),
            flight_recorded,
            fields: Fields::new(&entry.callsite, self.payload, fields_at, &mut outcome),
        };
        out.event(event, &mut entry.prepared).map_err(RecordError::Output)?;
        if let Some((op, _)) = operation {
            if matches!(entry.callsite.event_type(), "operation_end" | "operation_error") {
                // Its last event: the name is not needed any more.
                self.operation_names.remove(&(self.pid, op));
            }
        }
        let end = if outcome.end != Outcome::UNREAD {
            outcome.end
        } else if let Some(error) = outcome.error {
            return Err(value_err(Some(id), error));
        } else {
            match fields::skip(&entry.callsite, self.payload, fields_at) {
                Ok(end) => end,
                Err(error) => {
                    out.retract();
                    return Err(value_err(Some(id), error));
                }
            }
        };
        self.stats.events += 1;
        Ok(end)
    }
}

/// An operation extension item: `((id, parent id), name)`.
fn parse_operation(bytes: &[u8]) -> Option<((u64, u64), Option<&str>)> {
    let mut r = lmlog_format::wire::WireReader::new(bytes);
    let id = r.varint().ok()?;
    let parent = r.varint().ok()?;
    let name = if r.is_empty() { None } else { Some(std::str::from_utf8(r.len_prefixed().ok()?).ok()?) };
    Some(((id, parent), name))
}
