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
mod session;
#[cfg(test)]
mod tests;

use lmlog_format::frame::{RecordHeader, DROP_REPORT_ID, TRACE_CONTEXT_LEN};
use lmlog_format::schema::from_payload;
use lmlog_format::varint;
use lmlog_format::{
    CallsiteSchema, ClockAnchor, EndInfo, FrameKind, Level, LossReport, RecordsHeader, SessionInfo, ThreadInfo,
};

pub use callsite::{Callsite, Source, TemplatePart, DROPPED_EVENT_TYPE, WRITER_LOSS_EVENT_TYPE};
pub use fields::{FieldError, Fields, SeqKind, Visitor};

pub(crate) use fields::{JsonText, Outcome};
pub(crate) use session::Clock;

use crate::frames::Frame;
use crate::output::Output;
use crate::record::{Reader, ValueError, ValueErrorKind};
use crate::report::{DecodeError, DiagnosticKind, Reporter};
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
    /// The fields, not read yet.
    pub fields: Fields<'a>,
}

impl Event<'_> {
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
}

impl<C> Entry<C> {
    fn new<O: Output<Callsite = C>>(callsite: Callsite, out: &mut O) -> Self {
        let prepared = out.callsite(&callsite);
        Entry { callsite, prepared }
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
}

impl<C> EventDecoder<C> {
    /// A decoder whose events go to outputs like `out` (which prepares its
    /// state for the built-in call sites now).
    pub fn new<O: Output<Callsite = C>>(out: &mut O) -> Self {
        EventDecoder {
            session: Session::default(),
            builtins: Builtins {
                dropped: Entry::new(Callsite::dropped(), out),
                loss: Entry::new(Callsite::writer_loss(true, false), out),
                loss_without_reason: Entry::new(Callsite::writer_loss(false, false), out),
                detailed_loss: Entry::new(Callsite::writer_loss(true, true), out),
                detailed_loss_without_reason: Entry::new(Callsite::writer_loss(false, true), out),
            },
            session_open: false,
            loss_fields: Vec::new(),
            stats: EventStats::default(),
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> &EventStats {
        &self.stats
    }

    /// A new file starts: forgets the session's call sites, threads and clock.
    pub fn start_file(&mut self) {
        self.session.reset();
    }

    /// The input ended: reports a session without an end frame and hands
    /// [`Item::EndOfStream`] to `out`.
    pub fn finish<O: Output<Callsite = C>>(
        &mut self,
        offset: u64,
        out: &mut O,
        rep: &mut Reporter,
    ) -> Result<(), DecodeError> {
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
            FrameKind::Clock => match from_payload::<ClockAnchor>(payload) {
                Ok(anchor) => self.session.clock.set_anchor(anchor),
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::Schema => match CallsiteSchema::decode(payload) {
                Ok(schema) if schema.id == DROP_REPORT_ID => {
                    rep.report(at, bad("call-site id 0 is reserved for drop reports".into()))
                }
                Ok(schema) => {
                    let id = schema.id;
                    let (callsite, template_error) = Callsite::compile(schema);
                    self.session.schemas.insert(id, Entry::new(callsite, out));
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
                    let unix_nanos = self.session.clock.unix_nanos(w.ticks);
                    out.item(Item::Watermark(Watermark { ticks: w.ticks, unix_nanos })).map_err(write)?;
                }
                Err(e) => rep.report(at, bad(e.to_string())),
            },
            FrameKind::End => match from_payload::<EndInfo>(payload) {
                Ok(end) => {
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
        let event = Event {
            unix_nanos: loss.last_unix_nanos as i128,
            ticks: None,
            callsite: &entry.callsite,
            thread: None,
            trace: None,
            fields: Fields::new(&entry.callsite, fields, 0, &mut outcome),
        };
        out.event(event, &mut entry.prepared)
        // The fields were encoded here: they always read.
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
        self.session.key_thread(header.thread_id);
        let Session { schemas, threads, clock, thread_key, .. } = &mut self.session;
        let mut records = Records {
            payload,
            version: frame.version,
            ticks: header.base_ticks,
            clock,
            thread: Thread {
                id: header.thread_id,
                name: threads.get(&header.thread_id).and_then(|n| n.as_deref()),
                key: *thread_key,
            },
            schemas,
            dropped: &mut self.builtins.dropped,
            stats: &mut self.stats,
        };
        let failure = loop {
            if pos >= payload.len() {
                return Ok(());
            }
            match records.next(pos, out) {
                Ok(next) => pos = next,
                Err(RecordError::Output(source)) => return Err(DecodeError::Write { source }),
                Err(f) => break f,
            }
        };
        self.stats.bad_records += 1;
        let skipped = (payload.len() - pos) as u64;
        let kind = match failure {
            RecordError::UnknownCallsite(callsite) => DiagnosticKind::UnknownCallsite { callsite, skipped },
            RecordError::Value { callsite, error } => DiagnosticKind::BadRecord {
                callsite,
                event_type: callsite
                    .and_then(|id| self.session.schemas.get(id))
                    .map(|e| e.callsite.event_type().to_owned()),
                error: error.kind.to_string(),
                error_offset: frame.offset_of(error.at),
                skipped,
            },
            RecordError::Output(source) => return Err(DecodeError::Write { source }),
        };
        rep.report(frame.offset_of(pos), kind);
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
    schemas: &'s mut session::SchemaTable<Entry<C>>,
    dropped: &'s mut Entry<C>,
    stats: &'s mut EventStats,
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
        if h.has_extensions {
            // No extension is defined yet: the block is skipped whole.
            r.len_prefixed().map_err(|e| value_err(Some(id), e))?;
        }
        let unix_nanos = self.clock.unix_nanos(self.ticks);
        let fields_at = r.pos;
        let entry = if id == DROP_REPORT_ID {
            let count = r.varint().map_err(|e| value_err(Some(id), e))?;
            self.stats.dropped_events = self.stats.dropped_events.saturating_add(count);
            &mut *self.dropped
        } else {
            self.schemas.get_mut(id).ok_or(RecordError::UnknownCallsite(id))?
        };
        let mut outcome = Outcome::new();
        let event = Event {
            unix_nanos,
            ticks: Some(self.ticks),
            callsite: &entry.callsite,
            thread: Some(self.thread),
            trace,
            fields: Fields::new(&entry.callsite, self.payload, fields_at, &mut outcome),
        };
        out.event(event, &mut entry.prepared).map_err(RecordError::Output)?;
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
