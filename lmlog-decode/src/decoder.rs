//! The composition of the layers: frames → events → an output.

use std::io::{self, Read};

use crate::events::EventDecoder;
use crate::frames::{Frame, FrameReader, FrameSink};
use crate::output::Output;
use crate::report::{DecodeError, DecodeSummary, Diagnostic, DiagnosticKind, Reporter};

/// Read size of [`Decoder::decode_from`].
const READ_CHUNK: usize = 256 << 10;

/// Decodes an lmlog byte stream, fed in pieces of any size, into events
/// handed to an [`Output`].
///
/// [`StreamDecoder`](crate::StreamDecoder) is this decoder writing JSON
/// Lines. With [`from_fn`](crate::from_fn), a closure sees every event and
/// the other [`Item`](crate::Item)s of the stream: here it reads one field's
/// typed value with a [`Visitor`](crate::Visitor).
///
/// ```
/// use lmlog_decode::{Decoder, Item, Visitor};
/// # use lmlog_format::{frame::{preamble, push_frame}, schema::to_payload, types::{FieldDesc, TypeDesc}, *};
/// # fn stream() -> Vec<u8> {
/// #     let mut s = preamble().to_vec();
/// #     let fields = [FieldDesc { name: "user_id", ty: &TypeDesc::U64, redacted: false },
/// #                   FieldDesc { name: "amount", ty: &TypeDesc::F64, redacted: false }];
/// #     let schema = CallsiteSchemaRef { id: 1, fingerprint: 0, event_type: "payment_failed", level: Level::Warn,
/// #         message: Some("payment of {amount} failed"), module: "app", file: "src/main.rs", line: 9, column: 5,
/// #         function: "app::main", fields: &fields };
/// #     push_frame(&mut s, FrameKind::Schema, 0, &schema.encode());
/// #     let mut records = Vec::new();
/// #     RecordsHeader { thread_id: 1, base_ticks: 0 }.encode(&mut records);
/// #     records.extend_from_slice(&[1 << 2, 0, 7]);
/// #     records.extend_from_slice(&12.5f64.to_le_bytes());
/// #     push_frame(&mut s, FrameKind::Records, 1, &records);
/// #     s
/// # }
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// /// Picks the value of the `amount` field.
/// #[derive(Default)]
/// struct Amount {
///     in_amount: bool,
///     amount: Option<f64>,
/// }
///
/// impl Visitor<'_> for Amount {
///     fn field(&mut self, name: &str) {
///         self.in_amount = name == "amount";
///     }
///     fn f64(&mut self, v: f64) {
///         if self.in_amount {
///             self.amount = Some(v);
///         }
///     }
/// }
///
/// let mut seen = Vec::new();
/// let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
///     if let Item::Event(event) = item {
///         let mut amount = Amount::default();
///         let mut message = String::new();
///         event.fields.visit_with_message(&mut amount, &mut message).expect("fields decode");
///         seen.push((event.callsite.event_type().to_owned(), amount.amount, message));
///     }
/// }));
/// decoder.feed(&stream())?;
/// let summary = decoder.finish()?;
/// assert_eq!(summary.events, 1);
/// assert_eq!(seen, [("payment_failed".to_owned(), Some(12.5), "payment of 12.5 failed".to_owned())]);
/// # Ok(()) }
/// ```
///
/// Partial frames are buffered between calls to [`feed`](Self::feed); at
/// most one frame (header and payload, bounded by
/// [`MAX_FRAME_PAYLOAD`](lmlog_format::frame::MAX_FRAME_PAYLOAD)) is held,
/// or 64 KiB at a time while skipping a damaged region. Damage is reported
/// as [`Diagnostic`]s and skipped; only errors of the output and input that
/// is not an lmlog stream at all are fatal ([`DecodeError`]).
#[non_exhaustive]
pub struct Decoder<O: Output> {
    frames: FrameReader,
    events: EventDecoder<O::Callsite>,
    output: O,
    reporter: Reporter,
    fatal: Option<DecodeError>,
}

impl<O: Output> std::fmt::Debug for Decoder<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("summary", &self.reporter.summary).finish_non_exhaustive()
    }
}

/// The event decoder and the output, as the frame reader's sink.
struct Pipeline<'d, O: Output> {
    events: &'d mut EventDecoder<O::Callsite>,
    output: &'d mut O,
    reporter: &'d mut Reporter,
}

impl<O: Output> FrameSink for Pipeline<'_, O> {
    fn file(&mut self, _offset: u64, _version: u16) -> Result<(), DecodeError> {
        self.events.start_file(self.output, self.reporter)
    }

    #[inline]
    fn frame(&mut self, frame: &Frame<'_>) -> Result<(), DecodeError> {
        self.events.frame(frame, self.output, self.reporter)
    }

    fn diagnostic(&mut self, offset: u64, kind: DiagnosticKind) {
        self.reporter.report(offset, kind);
    }
}

impl<O: Output> Decoder<O> {
    /// A decoder handing events to `output`.
    pub fn new(mut output: O) -> Self {
        Decoder {
            frames: FrameReader::new(),
            events: EventDecoder::new(&mut output),
            output,
            reporter: Reporter::default(),
            fatal: None,
        }
    }

    /// Turns time order on or off (off by default; the `lmlog-decode`
    /// command turns it on unless given `--unordered`).
    ///
    /// In time order the events of all threads come out by timestamp: the
    /// decoder holds each thread's records until a watermark frame
    /// (FORMAT.md) says that no older record is still to come, so it holds
    /// about one drain interval of records (64 MiB at most, for files
    /// without watermarks: then the oldest go out early), and
    /// [`flush`](Self::flush) does not hand on what it holds; the end of
    /// each session and [`finish`](Self::finish) do. Files and sessions
    /// come out one after another, in the order they are fed, but for the
    /// files of one process's rotated series: a rotation can fall in the
    /// middle of a drain, so they are merged across it (the
    /// [`Item::SessionEnd`](crate::Item::SessionEnd) of a rotation comes
    /// before the records of its file still held). Writer-loss events come
    /// out where their frame is. Turning time order off hands on what is
    /// held first.
    ///
    /// ```
    /// # fn main() -> Result<(), lmlog_decode::DecodeError> {
    /// let mut jsonl = Vec::new();
    /// let mut decoder = lmlog_decode::Decoder::new(lmlog_decode::JsonLines::new(&mut jsonl)).with_time_order();
    /// decoder.feed(&lmlog_format::frame::preamble())?;
    /// decoder.finish()?;
    /// # Ok(()) }
    /// ```
    pub fn set_time_order(&mut self, on: bool) {
        let Self { events, output, reporter, .. } = self;
        if let Err(e) = events.set_time_order(on, output, reporter) {
            self.fatal = Some(e);
        }
    }

    /// Builder form of [`set_time_order`](Self::set_time_order)`(true)`.
    pub fn with_time_order(mut self) -> Self {
        self.set_time_order(true);
        self
    }

    /// Calls `handler` with every diagnostic as soon as it is found (they
    /// are also collected in the [`DecodeSummary`], up to
    /// [`MAX_KEPT_DIAGNOSTICS`](crate::MAX_KEPT_DIAGNOSTICS)).
    pub fn set_diagnostic_handler(&mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) {
        self.reporter.handler = Some(Box::new(handler));
    }

    /// Builder form of [`set_diagnostic_handler`](Self::set_diagnostic_handler).
    pub fn with_diagnostic_handler(mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) -> Self {
        self.set_diagnostic_handler(handler);
        self
    }

    /// The tally so far.
    pub fn summary(&self) -> &DecodeSummary {
        &self.reporter.summary
    }

    /// The output.
    pub fn output(&self) -> &O {
        &self.output
    }

    /// Decodes the next bytes of the stream. Complete frames are decoded
    /// at once; a partial frame at the end is kept for the next call.
    ///
    /// Errors are fatal and sticky: later calls return the same error.
    pub fn feed(&mut self, input: &[u8]) -> Result<(), DecodeError> {
        if let Some(e) = &self.fatal {
            return Err(e.duplicate());
        }
        let Self { frames, events, output, reporter, .. } = self;
        let result = frames.feed(input, &mut Pipeline { events, output, reporter });
        self.sync_summary();
        result.map_err(|e| self.fail(e))
    }

    /// Feeds everything `reader` yields until end of file (without finishing).
    pub fn decode_from<R: Read>(&mut self, mut reader: R) -> Result<(), DecodeError> {
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => self.feed(&chunk[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(DecodeError::Read { offset: self.summary().bytes_read, source }),
            }
        }
    }

    /// Hands everything decoded so far to the output and flushes it.
    pub fn flush(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = &self.fatal {
            return Err(e.duplicate());
        }
        self.output.flush().map_err(|source| self.fail(DecodeError::Write { source }))
    }

    /// Ends the stream: reports a truncated final frame and a session
    /// without an end frame, hands [`Item::EndOfStream`](crate::Item::EndOfStream)
    /// to the output, flushes it and returns the tally.
    pub fn finish(mut self) -> Result<DecodeSummary, DecodeError> {
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        let Self { frames, events, output, reporter, .. } = &mut self;
        frames.finish(&mut Pipeline { events, output, reporter })?;
        events.finish(frames.stats().bytes_read, output, reporter)?;
        self.flush()?;
        self.sync_summary();
        Ok(std::mem::take(&mut self.reporter.summary))
    }

    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.fatal = Some(e.duplicate());
        e
    }

    /// Copies the layers' counts into the summary.
    fn sync_summary(&mut self) {
        let f = self.frames.stats();
        let e = self.events.stats();
        let s = &mut self.reporter.summary;
        s.bytes_read = f.bytes_read;
        s.frames = f.frames;
        s.files = f.files;
        s.damaged_regions = f.damaged_regions;
        s.events = e.events;
        s.dropped_events = e.dropped_events;
        s.writer_lost_frames = e.writer_lost_frames;
        s.writer_lost_events = e.writer_lost_events;
        s.bad_records = e.bad_records;
        s.watermarks = e.watermarks;
        s.clean_end = e.clean_end;
    }
}
