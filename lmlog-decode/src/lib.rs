//! Decodes lmlog binary logs into JSON Lines.
//!
//! The lmlog runtime writes a compact, self-describing binary stream: a
//! preamble, then CRC-protected frames carrying call-site schemas, thread
//! descriptions, clock anchors and batches of records (see the
//! `lmlog-format` crate). This crate turns that stream back into one JSON
//! object per event:
//!
//! ```text
//! {"timestamp":"2026-11-25T13:23:10.133324123Z","level":"warn","event_type":"payment_failed",
//!  "message":"payment of 12.5 failed for user 7","fields":{"user_id":7,"amount":12.5,...},
//!  "source":{"module":"app","file":"src/main.rs","line":9,"column":5,"function":"app::main"},
//!  "thread":{"id":1,"name":"main"},"trace":{"trace_id":"…","span_id":"…","trace_flags":"01"}}
//! ```
//!
//! * [`StreamDecoder`] is push-based: feed it bytes in pieces of any size.
//! * [`decode_reader`] and [`decode_file`] decode a whole input.
//! * [`LiveDecoder`] decodes on a background thread, for applications that
//!   want JSON Lines directly.
//! * [`interleave`] merges logs written at the same time (by several
//!   processes) into one output, in time order.
//! * [`filter`] keeps only the events that pass a [`filter::Filter`]
//!   (level, event type, module, thread, time, trace, field values), for
//!   any output, rendering none of the others.
//! * [`summary`] gathers a digest of a whole log (counts per event type,
//!   call site and level, rate over time, frequent field values, loss,
//!   sessions) as text of at most 4 KiB or as JSON.
//! * [`otlp`] (cargo feature `otlp`, on by default) exports events to an
//!   OpenTelemetry Collector over OTLP/HTTP.
//!
//! Damage (bad CRCs, missing sync markers, truncation, records that do not
//! match their schema) never stops decoding: it is reported as
//! [`Diagnostic`]s and every intact frame is still decoded. Only input that
//! is not an lmlog stream and I/O failures are fatal ([`DecodeError`]).
//!
//! ```
//! # fn main() -> Result<(), lmlog_decode::DecodeError> {
//! # let bytes = lmlog_format::frame::preamble();
//! // `bytes` holds an lmlog file, as the runtime writes it.
//! let mut jsonl = Vec::new();
//! let summary = lmlog_decode::decode_reader(&bytes[..], &mut jsonl)?;
//! for diagnostic in &summary.diagnostics {
//!     eprintln!("{diagnostic}");
//! }
//! println!("{} events, damage found: {}", summary.events, !summary.is_clean());
//! # Ok(()) }
//! ```
//!
//! # Events instead of JSON
//!
//! Decoding runs in three layers: a frame reader (framing, CRCs,
//! resynchronisation after damage, LZ4, sequence numbers), an event decoder
//! (each session's call sites, threads and clock; records become borrowed
//! [`Event`]s) and an [`Output`]. [`StreamDecoder`] is a [`Decoder`] whose
//! output writes JSON Lines ([`JsonLines`]). A [`Decoder`] with another
//! output, or with a closure ([`from_fn`]), gets the events themselves: the
//! [`Callsite`] (level, event type, source, message template, field
//! descriptors), the thread, the trace context, the timestamp, and
//! [`Fields`] that are read once, as JSON or as typed values handed to a
//! [`Visitor`], and skipped if left unread. See [`Decoder`] for an example.
#![warn(missing_docs)]

mod decoder;
mod events;
pub mod filter;
mod frames;
pub mod interleave;
mod json;
mod live;
#[cfg(feature = "otlp")]
pub mod otlp;
mod output;
mod record;
mod report;
mod resource;
mod stream;
pub mod summary;

use std::io::{Read, Write};
use std::path::Path;

pub use decoder::Decoder;
pub use events::{
    Baggage, Callsite, Event, FieldError, Fields, GlobalContext, Item, OperationRef, SeqKind, Source, TemplatePart,
    Thread, TraceContext, Visitor, Watermark, DROPPED_EVENT_TYPE, SAMPLED_OUT_EVENT_TYPE, WRITER_LOSS_EVENT_TYPE,
};
pub use json::format_timestamp;
pub use live::LiveDecoder;
pub use output::{
    from_fn, wants_color, FnOutput, Format, JsonCallsite, JsonLines, LmlogPyCallsite, LmlogPyLines, Logfmt,
    LogfmtCallsite, OtelCallsite, OtelJson, Output, Pretty, PrettyCallsite, Shape, UnknownFormat, UnknownShape,
};
pub use report::{
    DecodeError, DecodeSummary, Diagnostic, DiagnosticHandler, DiagnosticKind, FrameDamage, Resume, Severity,
    MAX_KEPT_DIAGNOSTICS,
};
pub use resource::{resource_attributes, ResourceValue};
pub use stream::StreamDecoder;

/// Decodes everything `reader` yields, writing JSON Lines to `out` (which
/// need not be buffered).
///
/// ```
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// let file = lmlog_format::frame::preamble(); // an lmlog file without frames
/// let mut jsonl = Vec::new();
/// let summary = lmlog_decode::decode_reader(&file[..], &mut jsonl)?;
/// assert_eq!((summary.files, summary.events), (1, 0));
/// assert!(jsonl.is_empty());
/// # Ok(()) }
/// ```
pub fn decode_reader<R: Read, W: Write>(reader: R, out: W) -> Result<DecodeSummary, DecodeError> {
    let mut decoder = StreamDecoder::new(out);
    decoder.decode_from(reader)?;
    decoder.finish()
}

/// Decodes the file at `path`, writing JSON Lines to `out` (which need not
/// be buffered).
///
/// ```no_run
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// let out = std::fs::File::create("app.jsonl").expect("create the output");
/// let summary = lmlog_decode::decode_file("app.lmlog", out)?;
/// if !summary.is_clean() {
///     eprintln!("{} problems found", summary.diagnostics_total);
/// }
/// # Ok(()) }
/// ```
pub fn decode_file<P: AsRef<Path>, W: Write>(path: P, out: W) -> Result<DecodeSummary, DecodeError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| DecodeError::Open { path: path.to_owned(), source })?;
    decode_reader(file, out)
}
