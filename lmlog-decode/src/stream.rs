//! The push-based stream decoder: framing, resynchronisation after damage,
//! per-session state and JSON Lines output.

use std::io::{self, Read, Write};

use lmlog_format::frame::{
    check_preamble, decompress_lz4, frame_header_len, PreambleError, RecordHeader, FLAG_LZ4, MAX_FRAME_PAYLOAD,
    PREAMBLE_LEN,
};
use lmlog_format::schema::from_payload;
use lmlog_format::varint;
use lmlog_format::{
    CallsiteSchema, ClockAnchor, EndInfo, FrameHeader, FrameKind, RecordsHeader, SessionInfo, ThreadInfo, Watermark,
    WriterLoss, MAGIC, SYNC,
};

use crate::json::{self, TimestampFormatter};
use crate::record::{self, Out, Reader, ValueError, ValueErrorKind, MAX_EVENT_JSON};
use crate::report::{
    DecodeError, DecodeSummary, Diagnostic, DiagnosticKind, FrameDamage, Resume, MAX_KEPT_DIAGNOSTICS,
};
use crate::session::{thread_fragment, Clock, CompiledSchema, MessagePart, SchemaTable, Session};

/// A callback that sees every [`Diagnostic`] as soon as it is found.
pub type DiagnosticHandler = Box<dyn FnMut(&Diagnostic) + Send>;

/// Output is handed to the writer once this many bytes are buffered.
const FLUSH_AT: usize = 64 << 10;
/// Bytes staged at a time while scanning damaged input for the next frame.
const SCAN_STAGE: usize = 64 << 10;
/// Read size of [`StreamDecoder::decode_from`].
const READ_CHUNK: usize = 256 << 10;

/// Decodes an lmlog byte stream, fed in pieces of any size, into JSON Lines
/// written to `W`.
///
/// Partial frames are buffered between calls to [`feed`](Self::feed); at
/// most one frame (header and payload, bounded by
/// [`MAX_FRAME_PAYLOAD`](lmlog_format::frame::MAX_FRAME_PAYLOAD)) is held,
/// or 64 KiB at a time while skipping a damaged region. Damage in the stream is reported as [`Diagnostic`]s and
/// skipped; only I/O failures and input that is not an lmlog stream at all
/// are fatal ([`DecodeError`]). Output is buffered internally in large
/// chunks, so `W` need not be buffered; call [`flush`](Self::flush) to push
/// it out.
///
/// ```
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// let bytes = lmlog_format::frame::preamble();
/// let mut json = Vec::new();
/// let mut decoder = lmlog_decode::StreamDecoder::new(&mut json);
/// decoder.feed(&bytes[..5])?;
/// decoder.feed(&bytes[5..])?;
/// let summary = decoder.finish()?;
/// assert_eq!(summary.events, 0);
/// assert!(summary.is_clean());
/// # Ok(()) }
/// ```
pub struct StreamDecoder<W: Write> {
    out: W,
    /// Unconsumed input; starts at `offset`.
    pending: Vec<u8>,
    /// Absolute input offset of the first unconsumed byte.
    offset: u64,
    /// Bytes needed at `offset` before decoding can make progress.
    need: usize,
    /// Whether the first preamble was read.
    started: bool,
    /// Format version of the current file.
    version: u16,
    /// Sequence numbers of the current file's frames.
    seq: SeqTracker,
    /// The damaged region being skipped, if any.
    damage: Option<Damage>,
    session: Session,
    /// A session frame was seen and no end frame after it.
    session_open: bool,
    em: Emitter,
    /// `,"thread":{"id":N}` for records of threads never described.
    thread_tmp: Vec<u8>,
    /// The payload of an LZ4-compressed frame, decompressed.
    decompressed: Vec<u8>,
    summary: DecodeSummary,
    handler: Option<DiagnosticHandler>,
    fatal: Option<DecodeError>,
}

impl<W: Write> std::fmt::Debug for StreamDecoder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("offset", &self.offset)
            .field("pending", &self.pending.len())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
struct Damage {
    start: u64,
    reason: FrameDamage,
}

/// Output buffer and the scratch space of event formatting.
#[derive(Default)]
struct Emitter {
    buf: Vec<u8>,
    ts: TimestampFormatter,
    /// Field JSON of events with a message (the message comes first).
    scratch: Vec<u8>,
    /// Spans of top-level field values in `scratch`.
    ranges: Vec<(usize, usize)>,
}

/// What starts at a position where a frame is expected.
enum Unit {
    Preamble,
    Frame {
        header: FrameHeader,
        total: usize,
    },
    /// More bytes are needed: `total` from this position; `declared` is the
    /// payload length if the header was read.
    Need {
        total: usize,
        declared: Option<u32>,
    },
    Bad(FrameDamage),
}

fn classify(rest: &[u8], version: u16) -> Unit {
    if rest.first() == Some(&MAGIC[0]) {
        if rest.len() < PREAMBLE_LEN {
            let n = rest.len().min(MAGIC.len());
            return if rest[..n] == MAGIC[..n] {
                Unit::Need { total: PREAMBLE_LEN, declared: None }
            } else {
                Unit::Bad(FrameDamage::MissingSync)
            };
        }
        return match check_preamble(rest) {
            Ok(_) => Unit::Preamble,
            Err(PreambleError::UnsupportedVersion(v)) => Unit::Bad(FrameDamage::UnsupportedVersion(v)),
            Err(_) => Unit::Bad(FrameDamage::MissingSync),
        };
    }
    let n = rest.len().min(SYNC.len());
    if rest[..n] != SYNC[..n] {
        return Unit::Bad(FrameDamage::MissingSync);
    }
    let header_len = frame_header_len(version);
    if rest.len() < header_len {
        return Unit::Need { total: header_len, declared: None };
    }
    let Some(header) = FrameHeader::parse(rest, version) else {
        return Unit::Bad(FrameDamage::MissingSync);
    };
    if header.len as usize > MAX_FRAME_PAYLOAD {
        return Unit::Bad(FrameDamage::TooLong(header.len));
    }
    let total = header_len + header.len as usize;
    if rest.len() < total {
        return Unit::Need { total, declared: Some(header.len) };
    }
    if !header.verify(&rest[header_len..total]) {
        return Unit::Bad(match FrameKind::from_u8(header.kind) {
            Some(_) => FrameDamage::CrcMismatch,
            None => FrameDamage::UnknownKind(header.kind),
        });
    }
    Unit::Frame { header, total }
}

/// Offset of the first complete sync marker or magic in `rest`.
fn find_candidate(rest: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() {
        i += rest[i..].iter().position(|&b| b == SYNC[0] || b == MAGIC[0])?;
        let r = &rest[i..];
        if r.starts_with(&SYNC) || r.starts_with(&MAGIC) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Writes the whole [`FLUSH_AT`]-sized chunks of `buf` and keeps the rest.
///
/// Writes of whole chunks keep a file's write offsets page-aligned, so the
/// kernel copies whole pages instead of zero-filling and merging the pages
/// that each write would otherwise start and end in.
fn write_chunks<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
    let n = buf.len() - buf.len() % FLUSH_AT;
    out.write_all(&buf[..n])?;
    buf.drain(..n);
    Ok(())
}

/// Why a record could not be decoded.
enum RecordFailure {
    UnknownCallsite(u32),
    Value { callsite: Option<u32>, error: ValueError },
}

impl<W: Write> StreamDecoder<W> {
    /// A decoder writing JSON Lines to `out`.
    pub fn new(out: W) -> Self {
        StreamDecoder {
            out,
            pending: Vec::new(),
            offset: 0,
            need: PREAMBLE_LEN,
            started: false,
            version: lmlog_format::FORMAT_VERSION,
            seq: SeqTracker::default(),
            damage: None,
            session: Session::default(),
            session_open: false,
            em: Emitter { buf: Vec::with_capacity(FLUSH_AT + 4096), ..Emitter::default() },
            thread_tmp: Vec::new(),
            decompressed: Vec::new(),
            summary: DecodeSummary::default(),
            handler: None,
            fatal: None,
        }
    }

    /// Calls `handler` with every diagnostic as soon as it is found (they
    /// are also collected in the [`DecodeSummary`], up to
    /// [`MAX_KEPT_DIAGNOSTICS`]).
    pub fn set_diagnostic_handler(&mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) {
        self.handler = Some(Box::new(handler));
    }

    /// Builder form of [`set_diagnostic_handler`](Self::set_diagnostic_handler).
    pub fn with_diagnostic_handler(mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) -> Self {
        self.set_diagnostic_handler(handler);
        self
    }

    /// The tally so far.
    pub fn summary(&self) -> &DecodeSummary {
        &self.summary
    }

    /// The output writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Decodes the next bytes of the stream. Complete frames are decoded
    /// at once; a partial frame at the end is kept for the next call.
    ///
    /// Errors are fatal and sticky: later calls return the same error.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), DecodeError> {
        if let Some(e) = &self.fatal {
            return Err(e.duplicate());
        }
        self.summary.bytes_read += input.len() as u64;
        while !input.is_empty() {
            if self.pending.is_empty() {
                let n = self.run(input, false)?;
                // What is left is shorter than the unit it starts (bounded by one frame).
                self.pending.extend_from_slice(&input[n..]);
                break;
            }
            let target = if self.damage.is_some() { self.need.max(SCAN_STAGE) } else { self.need };
            let take = target.saturating_sub(self.pending.len()).min(input.len()).max(1);
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() >= self.need {
                let mut buf = std::mem::take(&mut self.pending);
                let result = self.run(&buf, false);
                if let Ok(n) = result {
                    buf.drain(..n);
                }
                self.pending = buf;
                result?;
            }
        }
        Ok(())
    }

    /// Feeds everything `reader` yields until end of file (without finishing).
    pub fn decode_from<R: Read>(&mut self, mut reader: R) -> Result<(), DecodeError> {
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => self.feed(&chunk[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(DecodeError::Read { offset: self.summary.bytes_read, source }),
            }
        }
    }

    /// Writes all decoded output to the writer and flushes it.
    pub fn flush(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = &self.fatal {
            return Err(e.duplicate());
        }
        let result = self.write_out().and_then(|()| self.out.flush());
        result.map_err(|source| self.fail(DecodeError::Write { source }))
    }

    /// Ends the stream: reports a truncated final frame, flushes the output
    /// and returns the tally.
    pub fn finish(mut self) -> Result<DecodeSummary, DecodeError> {
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        let buf = std::mem::take(&mut self.pending);
        self.run(&buf, true)?;
        if self.session_open {
            self.report(self.offset, DiagnosticKind::MissingEnd);
        }
        self.flush()?;
        Ok(std::mem::take(&mut self.summary))
    }

    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.fatal = Some(e.duplicate());
        e
    }

    fn write_out(&mut self) -> io::Result<()> {
        if !self.em.buf.is_empty() {
            self.out.write_all(&self.em.buf)?;
            self.em.buf.clear();
        }
        Ok(())
    }

    #[inline]
    fn maybe_write_out(&mut self) -> Result<(), DecodeError> {
        if self.em.buf.len() >= FLUSH_AT {
            write_chunks(&mut self.out, &mut self.em.buf).map_err(|source| self.fail(DecodeError::Write { source }))?;
        }
        Ok(())
    }

    fn report(&mut self, offset: u64, kind: DiagnosticKind) {
        let d = Diagnostic { offset, kind };
        if d.is_damage() {
            self.summary.damage += 1;
        }
        self.summary.diagnostics_total += 1;
        if let Some(h) = &mut self.handler {
            h(&d);
        }
        if self.summary.diagnostics.len() < MAX_KEPT_DIAGNOSTICS {
            self.summary.diagnostics.push(d);
        }
    }

    /// Closes the damaged region (if any) at `at`.
    /// Closes the damaged region (if any) at `at`; `frames` is how many
    /// frames it held, if the frame after it tells. Returns whether there
    /// was one.
    fn end_damage(&mut self, at: u64, resumed: Resume, frames: Option<u32>) -> bool {
        let Some(d) = self.damage.take() else {
            return false;
        };
        self.summary.damaged_regions += 1;
        let kind = DiagnosticKind::DamagedFrame { reason: d.reason, skipped: at - d.start, frames, resumed };
        self.report(d.start, kind);
        true
    }

    /// Decodes as much of `data` (which starts at `self.offset`) as
    /// possible and returns the bytes consumed; at `eof`, everything.
    fn run(&mut self, data: &[u8], eof: bool) -> Result<usize, DecodeError> {
        let result = self.run_inner(data, eof);
        match result {
            Ok(n) => {
                self.offset += n as u64;
                Ok(n)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn run_inner(&mut self, data: &[u8], eof: bool) -> Result<usize, DecodeError> {
        let mut i = 0usize;
        loop {
            let at = self.offset + i as u64;
            let rest = &data[i..];
            if !self.started {
                if rest.len() < PREAMBLE_LEN {
                    let n = rest.len().min(MAGIC.len());
                    if rest[..n] != MAGIC[..n] {
                        return Err(DecodeError::NotLmlog { offset: at });
                    }
                    if eof {
                        return Err(DecodeError::TooShort { len: at + rest.len() as u64 });
                    }
                    self.need = PREAMBLE_LEN;
                    return Ok(i);
                }
                match check_preamble(rest) {
                    Ok(version) => {
                        self.start_file(version);
                        i += PREAMBLE_LEN;
                        continue;
                    }
                    Err(PreambleError::UnsupportedVersion(version)) => {
                        return Err(DecodeError::UnsupportedVersion { offset: at, version })
                    }
                    Err(_) => return Err(DecodeError::NotLmlog { offset: at }),
                }
            }
            if rest.is_empty() {
                if eof {
                    self.end_damage(at, Resume::EndOfStream, None);
                }
                self.need = 1;
                return Ok(i);
            }
            if self.damage.is_some() {
                match find_candidate(rest) {
                    Some(k) => i += k,
                    None if eof => {
                        i = data.len();
                        continue;
                    }
                    None => {
                        // Keep a possible partial marker for the next call.
                        let keep = rest.len().min(MAGIC.len() - 1);
                        self.need = keep + 1;
                        return Ok(i + rest.len() - keep);
                    }
                }
            }
            let at = self.offset + i as u64;
            let rest = &data[i..];
            match classify(rest, self.version) {
                Unit::Preamble => {
                    self.end_damage(at, Resume::NextFile, None);
                    // `classify` checked the preamble.
                    self.start_file(u16::from_le_bytes([rest[8], rest[9]]));
                    i += PREAMBLE_LEN;
                }
                Unit::Frame { header, total } => {
                    let frames = header.seq.map(|seq| self.seq.missing_before(seq));
                    let after_damage = self.end_damage(at, Resume::NextFrame, frames);
                    if self.check_sequence(&header, &rest[total - header.len as usize..total], at, after_damage) {
                        let payload = &rest[total - header.len as usize..total];
                        self.handle_stored_frame(header.kind, header.flags, payload, at)?;
                    }
                    i += total;
                }
                Unit::Bad(reason) => {
                    if self.damage.is_none() {
                        self.damage = Some(Damage { start: at, reason });
                    }
                    i += 1;
                }
                Unit::Need { total, declared } => {
                    if !eof {
                        self.need = total;
                        return Ok(i);
                    }
                    if self.damage.is_some() {
                        // An incomplete candidate inside a damaged region.
                        i += 1;
                        continue;
                    }
                    if let (Some(len), Some(_)) = (declared, find_candidate(&rest[1..])) {
                        // The declared length swallows later frames: the header is bad.
                        self.damage = Some(Damage { start: at, reason: FrameDamage::RunsPastEnd(len) });
                        i += 1;
                        continue;
                    }
                    let available = rest.len() as u64;
                    let kind = if rest[0] == MAGIC[0] {
                        DiagnosticKind::TruncatedPreamble { available }
                    } else if let Some(len) = declared {
                        DiagnosticKind::TruncatedFrame {
                            declared: len as u64,
                            available: available - frame_header_len(self.version) as u64,
                        }
                    } else {
                        DiagnosticKind::TruncatedHeader { available }
                    };
                    self.summary.damaged_regions += 1;
                    self.report(at, kind);
                    i = data.len();
                }
            }
        }
    }

    /// A preamble was read: a new file of format `version` starts.
    fn start_file(&mut self, version: u16) {
        self.started = true;
        self.version = version;
        self.seq = SeqTracker::default();
        self.summary.files += 1;
        self.session.reset();
    }

    /// Checks an intact frame's sequence number (format version 2 on);
    /// returns whether to decode the frame (false for a duplicate).
    /// A gap right `after_damage` is the damaged region's frames, reported
    /// with it.
    fn check_sequence(&mut self, header: &FrameHeader, stored: &[u8], at: u64, after_damage: bool) -> bool {
        let Some(seq) = header.seq else {
            return true;
        };
        match self.seq.next(seq) {
            SeqCheck::InOrder => true,
            SeqCheck::Gap { .. } if after_damage => true,
            SeqCheck::Gap { expected } => {
                let missing = seq.wrapping_sub(expected);
                let explained = header.kind == FrameKind::Loss as u8
                    && header.flags == 0
                    && from_payload::<WriterLoss>(stored).is_ok_and(|loss| loss.frames >= u64::from(missing));
                self.report(at, DiagnosticKind::MissingFrames { expected, found: seq, reported_by_writer: explained });
                true
            }
            SeqCheck::Duplicate => {
                self.summary.frames += 1;
                self.report(at, DiagnosticKind::DuplicateFrame { seq });
                false
            }
            SeqCheck::Late { expected } => {
                self.report(at, DiagnosticKind::FrameOutOfOrder { seq, expected });
                true
            }
        }
    }

    /// Undoes the frame's stored encoding (see [`FLAG_LZ4`]), then handles it.
    fn handle_stored_frame(&mut self, kind: u8, flags: u8, stored: &[u8], frame_at: u64) -> Result<(), DecodeError> {
        if flags == 0 {
            return self.handle_frame(kind, stored, frame_at, Payload::Stored);
        }
        if flags & !FLAG_LZ4 != 0 {
            self.report_bad_stored(kind, frame_at, format!("unknown frame flags {flags:#04x}"));
            return Ok(());
        }
        let mut raw = std::mem::take(&mut self.decompressed);
        let result = match decompress_lz4(stored, &mut raw) {
            Ok(()) => self.handle_frame(kind, &raw, frame_at, Payload::Decompressed),
            Err(e) => {
                self.report_bad_stored(kind, frame_at, format!("LZ4 payload: {e}"));
                Ok(())
            }
        };
        self.decompressed = raw;
        result
    }

    /// A frame whose stored encoding could not be undone: counted, reported
    /// at its offset, skipped.
    fn report_bad_stored(&mut self, kind: u8, frame_at: u64, error: String) {
        self.summary.frames += 1;
        let frame = FrameKind::from_u8(kind).unwrap_or(FrameKind::Records);
        self.report(frame_at, DiagnosticKind::BadPayload { frame, error });
    }

    fn handle_frame(
        &mut self,
        kind_byte: u8,
        payload: &[u8],
        frame_at: u64,
        stored: Payload,
    ) -> Result<(), DecodeError> {
        self.summary.frames += 1;
        let Some(kind) = FrameKind::from_u8(kind_byte) else {
            self.report(frame_at, DiagnosticKind::UnknownFrameKind { kind: kind_byte, len: payload.len() as u32 });
            return Ok(());
        };
        let bad = |error: String| DiagnosticKind::BadPayload { frame: kind, error };
        match kind {
            FrameKind::Session => match from_payload::<SessionInfo>(payload) {
                Ok(info) => {
                    let (clock, valid) = Clock::from_info(&info.clock);
                    self.session.clock = clock;
                    self.session_open = true;
                    self.summary.clean_end = false;
                    if !valid {
                        let ticks_per_second = info.clock.ticks_per_second;
                        self.report(frame_at, DiagnosticKind::BadClock { ticks_per_second });
                    }
                }
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::Clock => match from_payload::<ClockAnchor>(payload) {
                Ok(anchor) => self.session.clock.set_anchor(anchor),
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::Schema => match CallsiteSchema::decode(payload) {
                Ok(schema) if schema.id == lmlog_format::frame::DROP_REPORT_ID => {
                    self.report(frame_at, bad("call-site id 0 is reserved for drop reports".into()))
                }
                Ok(schema) => {
                    let (compiled, template_error) = CompiledSchema::compile(&schema);
                    self.session.schemas.insert(schema.id, compiled);
                    if let Some(error) = template_error {
                        self.report(frame_at, DiagnosticKind::BadTemplate { callsite: schema.id, error });
                    }
                }
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::Thread => match from_payload::<ThreadInfo>(payload) {
                Ok(info) => self.session.add_thread(&info),
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::Records => self.decode_records(payload, frame_at, stored)?,
            FrameKind::Loss => match from_payload::<WriterLoss>(payload) {
                Ok(loss) => {
                    self.em.loss(&loss);
                    self.summary.events += 1;
                    self.summary.writer_lost_frames = self.summary.writer_lost_frames.saturating_add(loss.frames);
                }
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::Watermark => match from_payload::<Watermark>(payload) {
                Ok(_) => self.summary.watermarks += 1,
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
            FrameKind::End => match from_payload::<EndInfo>(payload) {
                Ok(_) => {
                    self.session_open = false;
                    self.summary.clean_end = true;
                }
                Err(e) => self.report(frame_at, bad(e.to_string())),
            },
        }
        self.maybe_write_out()
    }

    fn decode_records(&mut self, payload: &[u8], frame_at: u64, stored: Payload) -> Result<(), DecodeError> {
        let header_len = frame_header_len(self.version);
        // Input offset of a position in the payload: a decompressed payload
        // has no bytes of its own in the input, so its frame's offset stands in.
        let offset_of = |pos: usize| match stored {
            Payload::Stored => frame_at + (header_len + pos) as u64,
            Payload::Decompressed => frame_at,
        };
        let (header, mut pos) = match RecordsHeader::decode(payload) {
            Ok(h) => h,
            Err(e) => {
                let kind = DiagnosticKind::BadPayload { frame: FrameKind::Records, error: e.to_string() };
                self.report(frame_at, kind);
                return Ok(());
            }
        };
        let mut ticks = header.base_ticks;
        self.session.key_thread(header.thread_id);
        let Self { out, session, em, thread_tmp, summary, .. } = self;
        let Session { schemas, threads, clock, thread_key, .. } = session;
        let lines = Lines { clock, thread_key: *thread_key, version: self.version };
        let thread: &[u8] = match threads.get(&header.thread_id) {
            Some(frag) => frag,
            None => {
                thread_tmp.clear();
                thread_fragment(thread_tmp, header.thread_id, None);
                thread_tmp
            }
        };
        let failure = loop {
            if pos >= payload.len() {
                break None;
            }
            match decode_record(payload, pos, &mut ticks, &lines, schemas, em, thread, summary) {
                Ok(next) => pos = next,
                Err(f) => break Some((pos, f)),
            }
            if em.buf.len() >= FLUSH_AT {
                if let Err(source) = write_chunks(out, &mut em.buf) {
                    return Err(self.fail(DecodeError::Write { source }));
                }
            }
        };
        if let Some((start, failure)) = failure {
            self.summary.bad_records += 1;
            let skipped = (payload.len() - start) as u64;
            let kind = match failure {
                RecordFailure::UnknownCallsite(callsite) => DiagnosticKind::UnknownCallsite { callsite, skipped },
                RecordFailure::Value { callsite, error } => DiagnosticKind::BadRecord {
                    callsite,
                    event_type: callsite.and_then(|id| self.session.schemas.get(id)).map(|s| s.event_type.clone()),
                    error: error.kind.to_string(),
                    error_offset: offset_of(error.at),
                    skipped,
                },
            };
            self.report(offset_of(start), kind);
        }
        Ok(())
    }
}

/// Whether a payload is the frame's bytes as stored in the input or was
/// decompressed from them.
#[derive(Clone, Copy)]
enum Payload {
    Stored,
    Decompressed,
}

/// What the lines of one records frame share.
struct Lines<'a> {
    clock: &'a Clock,
    /// Format version of the file.
    version: u16,
    /// [`Session::thread_key`] of the frame's thread.
    thread_key: u64,
}

/// Decodes one record at `pos` of a records payload and writes its line;
/// returns the position after it.
#[inline]
#[allow(clippy::too_many_arguments)]
fn decode_record(
    payload: &[u8],
    pos: usize,
    ticks: &mut u64,
    lines: &Lines<'_>,
    schemas: &mut SchemaTable,
    em: &mut Emitter,
    thread: &[u8],
    summary: &mut DecodeSummary,
) -> Result<usize, RecordFailure> {
    let mut r = Reader::new(payload, pos);
    let value_err = |callsite, error| RecordFailure::Value { callsite, error };
    let h = RecordHeader::decode(r.varint().map_err(|e| value_err(None, e))?, lines.version);
    let Ok(id) = u32::try_from(h.callsite) else {
        let error = ValueError { at: pos, kind: ValueErrorKind::CallsiteRange(h.callsite) };
        return Err(value_err(None, error));
    };
    let delta = varint::unzigzag_i64(r.varint().map_err(|e| value_err(Some(id), e))?);
    *ticks = ticks.wrapping_add_signed(delta);
    let trace = if h.has_trace {
        Some(r.take(lmlog_format::frame::TRACE_CONTEXT_LEN).map_err(|e| value_err(Some(id), e))?)
    } else {
        None
    };
    if h.has_extensions {
        // No extension is defined yet: the block is skipped whole.
        r.len_prefixed().map_err(|e| value_err(Some(id), e))?;
    }
    let unix_nanos = lines.clock.unix_nanos(*ticks);
    if id == lmlog_format::frame::DROP_REPORT_ID {
        let count = r.varint().map_err(|e| value_err(Some(id), e))?;
        em.drop_report(unix_nanos, count, thread, trace);
        summary.dropped_events = summary.dropped_events.saturating_add(count);
    } else {
        let schema = schemas.get_mut(id).ok_or(RecordFailure::UnknownCallsite(id))?;
        em.event(schema, &mut r, unix_nanos, (lines.thread_key, thread), trace).map_err(|e| value_err(Some(id), e))?;
    }
    summary.events += 1;
    Ok(r.pos)
}

impl Emitter {
    /// Writes `{"timestamp":"...` up to and with the closing quote of the timestamp.
    #[inline]
    fn open(&mut self, unix_nanos: i128) {
        self.ts.write_line_start(&mut self.buf, unix_nanos);
        self.buf.push(b'"');
    }

    /// Writes `,"trace":{...}` for a record's trace context.
    fn trace(&mut self, t: &[u8]) {
        self.buf.extend_from_slice(b",\"trace\":{\"trace_id\":\"");
        json::write_hex(&mut self.buf, &t[..16]);
        self.buf.extend_from_slice(b"\",\"span_id\":\"");
        json::write_hex(&mut self.buf, &t[16..24]);
        self.buf.extend_from_slice(b"\",\"trace_flags\":\"");
        json::write_hex(&mut self.buf, &t[24..25]);
        self.buf.extend_from_slice(b"\"}");
    }

    /// Writes `,"thread":...`, the trace context if any, and the line end.
    #[inline]
    fn close(&mut self, thread: &[u8], trace: Option<&[u8]>) {
        self.buf.extend_from_slice(thread);
        if let Some(t) = trace {
            self.trace(t);
        }
        self.buf.extend_from_slice(b"}\n");
    }

    /// Writes one event line; on error nothing of it remains in the buffer.
    /// `thread` is the frame's [`Session::thread_key`] and thread fragment.
    #[inline]
    fn event(
        &mut self,
        schema: &mut CompiledSchema,
        r: &mut Reader<'_>,
        unix_nanos: i128,
        thread: (u64, &[u8]),
        trace: Option<&[u8]>,
    ) -> Result<(), ValueError> {
        let start = self.buf.len();
        let result = self.event_inner(schema, r, unix_nanos, start);
        match result {
            Ok(()) => {
                let tail = schema.tail(thread.0, thread.1);
                match trace {
                    None => self.buf.extend_from_slice(tail),
                    Some(t) => {
                        self.buf.extend_from_slice(&tail[..tail.len() - 2]);
                        self.trace(t);
                        self.buf.extend_from_slice(b"}\n");
                    }
                }
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(e)
            }
        }
    }

    /// Writes the timestamp, the head and the fields, up to the brace that
    /// closes `fields`.
    #[inline]
    fn event_inner(
        &mut self,
        schema: &CompiledSchema,
        r: &mut Reader<'_>,
        unix_nanos: i128,
        start: usize,
    ) -> Result<(), ValueError> {
        self.ts.write_line_start(&mut self.buf, unix_nanos);
        self.buf.extend_from_slice(&schema.head);
        match &schema.message {
            None => {
                let mut out = Out { buf: &mut self.buf, limit: start + MAX_EVENT_JSON };
                record::write_event_fields(&schema.fields, r, &mut out, None)?;
            }
            Some(parts) => {
                self.scratch.clear();
                self.ranges.clear();
                let mut out = Out { buf: &mut self.scratch, limit: MAX_EVENT_JSON };
                record::write_event_fields(&schema.fields, r, &mut out, Some(&mut self.ranges))?;
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
                self.buf.extend_from_slice(&schema.fields_open);
                self.buf.extend_from_slice(&self.scratch);
            }
        }
        Ok(())
    }

    /// Writes the line of a drop report.
    fn drop_report(&mut self, unix_nanos: i128, count: u64, thread: &[u8], trace: Option<&[u8]>) {
        self.open(unix_nanos);
        self.buf.extend_from_slice(b",\"level\":\"warn\",\"event_type\":\"lmlog.dropped\",\"message\":\"");
        json::write_int(&mut self.buf, count);
        self.buf.extend_from_slice(b" events dropped: staging buffer full\",\"fields\":{\"count\":");
        json::write_int(&mut self.buf, count);
        self.buf.push(b'}');
        self.close(thread, trace);
    }

    /// Writes the line of a writer-loss report.
    fn loss(&mut self, loss: &WriterLoss) {
        self.open(loss.last_unix_nanos as i128);
        self.buf.extend_from_slice(b",\"level\":\"error\",\"event_type\":\"lmlog.writer_loss\",\"message\":\"");
        let mut message = format!("the writer lost {} frames ({} bytes)", loss.frames, loss.bytes);
        if !loss.reason.is_empty() {
            message.push_str(": ");
            message.push_str(&loss.reason);
        }
        json::write_str_contents(&mut self.buf, message.as_bytes());
        self.buf.extend_from_slice(b"\",\"fields\":{\"frames\":");
        json::write_int(&mut self.buf, loss.frames);
        self.buf.extend_from_slice(b",\"bytes\":");
        json::write_int(&mut self.buf, loss.bytes);
        self.buf.extend_from_slice(b",\"reason\":");
        json::write_str(&mut self.buf, &loss.reason);
        self.buf.extend_from_slice(b"}}\n");
    }
}

/// Tracks the sequence numbers of a file's frames.
#[derive(Debug, Default)]
struct SeqTracker {
    /// The number the next frame should carry; `None` before the first.
    expected: Option<u32>,
    /// Bit `i` set: frame `expected - 1 - i` was seen (the last 128).
    seen: u128,
}

/// What a frame's sequence number says.
#[derive(Debug, PartialEq, Eq)]
enum SeqCheck {
    InOrder,
    /// Frames `expected..seq` are missing.
    Gap {
        expected: u32,
    },
    /// This number was seen already.
    Duplicate,
    /// An earlier number that was missing until now.
    Late {
        expected: u32,
    },
}

impl SeqTracker {
    /// How many frames are missing before frame `seq` (0 unless it is
    /// ahead of the expected number).
    fn missing_before(&self, seq: u32) -> u32 {
        let ahead = seq.wrapping_sub(self.expected.unwrap_or(0));
        if ahead < u32::MAX / 2 {
            ahead
        } else {
            0
        }
    }

    fn next(&mut self, seq: u32) -> SeqCheck {
        let expected = self.expected.unwrap_or(0);
        let ahead = seq.wrapping_sub(expected);
        if ahead < u32::MAX / 2 {
            // `seq` is `expected` or later: frames in between are missing.
            let shift = ahead.saturating_add(1);
            self.seen = if shift >= 128 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.expected = Some(seq.wrapping_add(1));
            return if ahead == 0 { SeqCheck::InOrder } else { SeqCheck::Gap { expected } };
        }
        let back = expected.wrapping_sub(seq) - 1;
        if back >= 128 || self.seen & (1 << back) != 0 {
            return SeqCheck::Duplicate;
        }
        self.seen |= 1 << back;
        SeqCheck::Late { expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_find_gaps_duplicates_and_late_frames() {
        let mut t = SeqTracker::default();
        assert_eq!(t.next(0), SeqCheck::InOrder);
        assert_eq!(t.next(1), SeqCheck::InOrder);
        assert_eq!(t.next(1), SeqCheck::Duplicate);
        assert_eq!(t.next(4), SeqCheck::Gap { expected: 2 });
        assert_eq!(t.next(2), SeqCheck::Late { expected: 5 });
        assert_eq!(t.next(2), SeqCheck::Duplicate);
        assert_eq!(t.next(3), SeqCheck::Late { expected: 5 });
        assert_eq!(t.next(0), SeqCheck::Duplicate);
        assert_eq!(t.next(5), SeqCheck::InOrder);
        assert_eq!(t.next(500), SeqCheck::Gap { expected: 6 });
        assert_eq!(t.next(100), SeqCheck::Duplicate, "older than the window");
        let mut t = SeqTracker::default();
        assert_eq!(t.next(3), SeqCheck::Gap { expected: 0 }, "a file's first frame is number 0");
    }
}
