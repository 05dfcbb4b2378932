//! What decoding reports: fatal errors ([`DecodeError`]), problems found
//! in the stream that decoding recovered from ([`Diagnostic`]) and the
//! final tally ([`DecodeSummary`]).

use std::fmt;
use std::io;
use std::path::PathBuf;

use lmlog_format::frame::MIN_READ_VERSION;
use lmlog_format::{FrameKind, FORMAT_VERSION};

/// A fatal error: decoding stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input does not start with the lmlog magic bytes.
    #[error("byte {offset}: not an lmlog file (bad magic bytes)")]
    NotLmlog {
        /// Where the magic bytes were expected.
        offset: u64,
    },
    /// The input ended before a complete file preamble.
    #[error("input is only {len} bytes long, too short for an lmlog file")]
    TooShort {
        /// Bytes in the input.
        len: u64,
    },
    /// The file was written in a format version this decoder cannot read.
    #[error("byte {offset}: unsupported lmlog format version {version} (this decoder reads versions {MIN_READ_VERSION} to {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// Offset of the preamble.
        offset: u64,
        /// The version the file declares.
        version: u16,
    },
    /// Opening the input failed.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading the input failed.
    #[error("byte {offset}: reading the input failed: {source}")]
    Read {
        /// Bytes successfully read before the failure.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing the JSON output failed.
    #[error("writing the output failed: {source}")]
    Write {
        /// The underlying error.
        source: io::Error,
    },
    /// The background thread of a [`crate::LiveDecoder`] is gone.
    #[error("the live decoder thread stopped unexpectedly")]
    DecoderThread,
}

impl DecodeError {
    /// Byte offset in the input the error refers to, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            DecodeError::NotLmlog { offset }
            | DecodeError::UnsupportedVersion { offset, .. }
            | DecodeError::Read { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// Whether this is a write to a closed pipe (`lmlog-decode app.lmlog | head`),
    /// which a command-line tool should treat as a quiet exit.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, DecodeError::Write { source } if source.kind() == io::ErrorKind::BrokenPipe)
    }

    /// A copy for reporting the same failure again (I/O errors keep their
    /// kind and text).
    pub(crate) fn duplicate(&self) -> DecodeError {
        let io_copy = |e: &io::Error| io::Error::new(e.kind(), e.to_string());
        match self {
            DecodeError::NotLmlog { offset } => DecodeError::NotLmlog { offset: *offset },
            DecodeError::TooShort { len } => DecodeError::TooShort { len: *len },
            DecodeError::UnsupportedVersion { offset, version } => {
                DecodeError::UnsupportedVersion { offset: *offset, version: *version }
            }
            DecodeError::Open { path, source } => DecodeError::Open { path: path.clone(), source: io_copy(source) },
            DecodeError::Read { offset, source } => DecodeError::Read { offset: *offset, source: io_copy(source) },
            DecodeError::Write { source } => DecodeError::Write { source: io_copy(source) },
            DecodeError::DecoderThread => DecodeError::DecoderThread,
        }
    }
}

/// Why bytes where a frame was expected could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameDamage {
    /// Neither a sync marker nor a file preamble.
    MissingSync,
    /// A frame kind this decoder does not know, and a CRC that does not match.
    UnknownKind(u8),
    /// A length above [`lmlog_format::frame::MAX_FRAME_PAYLOAD`].
    TooLong(u32),
    /// The CRC does not match the frame's contents.
    CrcMismatch,
    /// A concatenated file's preamble declares an unknown format version.
    UnsupportedVersion(u16),
    /// The header's length runs past the end of the stream, and a later
    /// frame starts inside that range.
    RunsPastEnd(u32),
}

impl fmt::Display for FrameDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameDamage::MissingSync => f.write_str("no sync marker"),
            FrameDamage::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameDamage::TooLong(len) => write!(f, "length {len} exceeds the maximum"),
            FrameDamage::CrcMismatch => f.write_str("CRC mismatch"),
            FrameDamage::UnsupportedVersion(v) => write!(f, "concatenated file has unsupported format version {v}"),
            FrameDamage::RunsPastEnd(len) => write!(f, "length {len} runs past the end of the stream"),
        }
    }
}

/// Where decoding picked up again after a damaged region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resume {
    /// At the next intact frame.
    NextFrame,
    /// At the preamble of a concatenated file.
    NextFile,
    /// Nothing intact followed.
    EndOfStream,
}

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing, but nothing was lost (such as a live file without an end frame).
    Note,
    /// Data was damaged or lost; events may be missing from the output.
    Damage,
}

/// What a [`Diagnostic`] reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A damaged region: bytes that were skipped until the next intact frame.
    DamagedFrame {
        /// What was wrong with the first frame of the region.
        reason: FrameDamage,
        /// Bytes skipped.
        skipped: u64,
        /// How many frames the region held, when the frame after it says
        /// (its sequence number, format version 2 on).
        frames: Option<u32>,
        /// Where decoding resumed.
        resumed: Resume,
    },
    /// The stream ends inside a frame header.
    TruncatedHeader {
        /// Header bytes present.
        available: u64,
    },
    /// The stream ends inside a frame's payload.
    TruncatedFrame {
        /// Payload length the header declares.
        declared: u64,
        /// Payload bytes present.
        available: u64,
    },
    /// The stream ends inside a concatenated file's preamble.
    TruncatedPreamble {
        /// Preamble bytes present.
        available: u64,
    },
    /// An intact frame (its CRC matches) whose payload does not decode.
    BadPayload {
        /// The frame's kind.
        frame: FrameKind,
        /// What is wrong.
        error: String,
    },
    /// A schema's message template does not parse; its messages show the raw template.
    BadTemplate {
        /// Call-site id.
        callsite: u32,
        /// What is wrong.
        error: String,
    },
    /// A record names a call site whose schema was never seen; the rest of
    /// its records frame is skipped.
    UnknownCallsite {
        /// The call-site id.
        callsite: u32,
        /// Bytes of the frame skipped, this record included.
        skipped: u64,
    },
    /// A record does not decode against its schema; the rest of its
    /// records frame is skipped.
    BadRecord {
        /// The call-site id, if the record header could be read.
        callsite: Option<u32>,
        /// The call site's event type, if known.
        event_type: Option<String>,
        /// What is wrong.
        error: String,
        /// Absolute offset of the offending byte.
        error_offset: u64,
        /// Bytes of the frame skipped, this record included.
        skipped: u64,
    },
    /// An intact frame of a kind this decoder does not know (written by a
    /// newer writer); skipped.
    UnknownFrameKind {
        /// The kind byte.
        kind: u8,
        /// Its payload length.
        len: u32,
    },
    /// Frames are missing before this one: numbers `expected..found` of its
    /// file never arrived (format version 2 on).
    MissingFrames {
        /// The number the frame should have carried.
        expected: u32,
        /// The number it carries.
        found: u32,
        /// This frame is the writer's loss report and accounts for them:
        /// the writer could not deliver them, the file is as it was written.
        reported_by_writer: bool,
    },
    /// A frame whose number was seen already in this file (a duplicated
    /// piece of the file); skipped.
    DuplicateFrame {
        /// Its sequence number.
        seq: u32,
    },
    /// A frame whose number was missing until now (a reordered piece of the
    /// file); decoded where it stands.
    FrameOutOfOrder {
        /// Its sequence number.
        seq: u32,
        /// The number expected at this point.
        expected: u32,
    },
    /// A session's clock rate is unusable; its timestamps count ticks as nanoseconds.
    BadClock {
        /// The declared ticks per second.
        ticks_per_second: f64,
    },
    /// A clock frame's measured tick rate is unusable: it is ignored, and
    /// the rate in force (the session's, or an earlier clock frame's) kept.
    BadClockRate {
        /// The measured ticks per second.
        ticks_per_second: f64,
    },
    /// The stream ends without an end frame: the writer may still be running
    /// or was killed.
    MissingEnd,
}

/// A problem found in the stream, at an absolute byte offset of the input.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Byte offset in the input (counting from the first byte fed).
    pub offset: u64,
    /// What was found.
    pub kind: DiagnosticKind,
}

impl Diagnostic {
    /// How much this matters.
    pub fn severity(&self) -> Severity {
        match self.kind {
            DiagnosticKind::UnknownFrameKind { .. }
            | DiagnosticKind::MissingEnd
            | DiagnosticKind::MissingFrames { reported_by_writer: true, .. } => Severity::Note,
            _ => Severity::Damage,
        }
    }

    /// Whether data was damaged or lost ([`Severity::Damage`]).
    pub fn is_damage(&self) -> bool {
        self.severity() == Severity::Damage
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: ", self.offset)?;
        match &self.kind {
            DiagnosticKind::DamagedFrame { reason, skipped, frames, resumed } => {
                let to = match resumed {
                    Resume::NextFrame => "to the next frame",
                    Resume::NextFile => "to the next file",
                    Resume::EndOfStream => "to the end of the stream",
                };
                write!(f, "damaged frame ({reason}); skipped {skipped} bytes")?;
                match frames {
                    Some(0) => f.write_str(" (no frame lost)")?,
                    Some(1) => f.write_str(" (1 frame lost)")?,
                    Some(n) => write!(f, " ({n} frames lost)")?,
                    None => {}
                }
                write!(f, " {to}")
            }
            DiagnosticKind::TruncatedHeader { available } => {
                write!(
                    f,
                    "truncated frame: only {available} of {} header bytes remain",
                    lmlog_format::frame::FRAME_HEADER_LEN
                )
            }
            DiagnosticKind::TruncatedFrame { declared, available } => {
                write!(f, "truncated frame: header says {declared} payload bytes, only {available} remain")
            }
            DiagnosticKind::TruncatedPreamble { available } => {
                write!(
                    f,
                    "truncated file preamble: only {available} of {} bytes remain",
                    lmlog_format::frame::PREAMBLE_LEN
                )
            }
            DiagnosticKind::BadPayload { frame, error } => {
                write!(f, "{} frame does not decode ({error}); frame ignored", frame_name(*frame))
            }
            DiagnosticKind::BadTemplate { callsite, error } => {
                write!(
                    f,
                    "message template of call site {callsite} does not parse ({error}); messages show it verbatim"
                )
            }
            DiagnosticKind::UnknownCallsite { callsite, skipped } => write!(
                f,
                "record names unknown call site {callsite} (its schema frame is missing or damaged); \
                 skipped the remaining {skipped} bytes of the records frame"
            ),
            DiagnosticKind::BadRecord { callsite, event_type, error, error_offset, skipped } => {
                f.write_str("record")?;
                if let Some(id) = callsite {
                    write!(f, " of call site {id}")?;
                }
                if let Some(et) = event_type {
                    write!(f, " ({et})")?;
                }
                write!(
                    f,
                    " does not decode ({error} at byte {error_offset}); \
                     skipped the remaining {skipped} bytes of the records frame"
                )
            }
            DiagnosticKind::UnknownFrameKind { kind, len } => {
                write!(f, "note: skipped a frame of unknown kind {kind} ({len} bytes), written by a newer lmlog?")
            }
            DiagnosticKind::MissingFrames { expected, found, reported_by_writer } => {
                let count = found.wrapping_sub(*expected);
                write!(f, "{count} frames missing before this one (numbers {expected} to {})", found.wrapping_sub(1))?;
                if *reported_by_writer {
                    f.write_str("; note: the writer reports them lost (it could not write them)")?;
                }
                Ok(())
            }
            DiagnosticKind::DuplicateFrame { seq } => {
                write!(f, "frame number {seq} appears a second time (duplicated data); skipped")
            }
            DiagnosticKind::FrameOutOfOrder { seq, expected } => {
                write!(
                    f,
                    "frame number {seq} arrives after number {}; decoded where it stands",
                    expected.wrapping_sub(1)
                )
            }
            DiagnosticKind::BadClock { ticks_per_second } => write!(
                f,
                "session declares an unusable clock rate of {ticks_per_second} ticks per second; \
                 timestamps count ticks as nanoseconds"
            ),
            DiagnosticKind::BadClockRate { ticks_per_second } => write!(
                f,
                "clock frame carries an unusable clock rate of {ticks_per_second} ticks per second; \
                 the rate in force is kept"
            ),
            DiagnosticKind::MissingEnd => f.write_str(
                "note: the stream ends without an end frame (the writer may still be running, or was killed)",
            ),
        }
    }
}

fn frame_name(kind: FrameKind) -> &'static str {
    kind.name()
}

/// Most diagnostics a [`DecodeSummary`] keeps; later ones are only counted
/// (a diagnostic handler still sees all of them).
pub const MAX_KEPT_DIAGNOSTICS: usize = 1000;

/// The tally of a decoding run.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct DecodeSummary {
    /// Input bytes consumed.
    pub bytes_read: u64,
    /// Intact frames (CRC verified), of every kind.
    pub frames: u64,
    /// JSON lines written: events, drop reports and writer-loss reports.
    pub events: u64,
    /// Events that producer threads reported as dropped (staging buffer full).
    pub dropped_events: u64,
    /// Frames the writer reported it could not write (loss frames).
    pub writer_lost_frames: u64,
    /// Events the writer reported it could not write (loss frames with
    /// the appended detail; older loss frames count frames only).
    pub writer_lost_events: u64,
    /// Files (preambles) seen.
    pub files: u64,
    /// Damaged or truncated regions of the input.
    pub damaged_regions: u64,
    /// Records frames cut short by a record that did not decode.
    pub bad_records: u64,
    /// Diagnostics of [`Severity::Damage`], all kinds together.
    pub damage: u64,
    /// Watermark frames seen (format version 2 on).
    pub watermarks: u64,
    /// Whether the last session ended with an end frame.
    pub clean_end: bool,
    /// The first [`MAX_KEPT_DIAGNOSTICS`] diagnostics, in stream order.
    pub diagnostics: Vec<Diagnostic>,
    /// All diagnostics, including those not kept.
    pub diagnostics_total: u64,
}

impl DecodeSummary {
    /// Whether no damage was found (notes do not count).
    pub fn is_clean(&self) -> bool {
        self.damage == 0
    }
}

/// A callback that sees every [`Diagnostic`] as soon as it is found.
pub type DiagnosticHandler = Box<dyn FnMut(&Diagnostic) + Send>;

/// Where the layers report diagnostics: the summary under construction
/// counts them and keeps the first [`MAX_KEPT_DIAGNOSTICS`], and the
/// handler sees each.
#[derive(Default)]
pub(crate) struct Reporter {
    pub summary: DecodeSummary,
    pub handler: Option<DiagnosticHandler>,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter").field("summary", &self.summary).finish_non_exhaustive()
    }
}

impl Reporter {
    /// Reports what was found at `offset`.
    pub fn report(&mut self, offset: u64, kind: DiagnosticKind) {
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
}
