//! [`StreamDecoder`]: the decoder writing JSON Lines.

use std::io::{Read, Write};

use crate::decoder::Decoder;
use crate::output::JsonLines;
use crate::report::{DecodeError, DecodeSummary, Diagnostic};

/// Decodes an lmlog byte stream, fed in pieces of any size, into JSON Lines
/// written to `W`: a [`Decoder`] with the [`JsonLines`] output.
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
#[non_exhaustive]
pub struct StreamDecoder<W: Write> {
    inner: Decoder<JsonLines<W>>,
}

impl<W: Write> std::fmt::Debug for StreamDecoder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDecoder").field("summary", self.inner.summary()).finish_non_exhaustive()
    }
}

impl<W: Write> StreamDecoder<W> {
    /// A decoder writing JSON Lines to `out`.
    pub fn new(out: W) -> Self {
        StreamDecoder { inner: Decoder::new(JsonLines::new(out)) }
    }

    /// Turns time order on or off; see [`Decoder::set_time_order`].
    pub fn set_time_order(&mut self, on: bool) {
        self.inner.set_time_order(on);
    }

    /// Calls `handler` with every diagnostic as soon as it is found (they
    /// are also collected in the [`DecodeSummary`], up to
    /// [`MAX_KEPT_DIAGNOSTICS`](crate::MAX_KEPT_DIAGNOSTICS)).
    pub fn set_diagnostic_handler(&mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) {
        self.inner.set_diagnostic_handler(handler);
    }

    /// Builder form of [`set_diagnostic_handler`](Self::set_diagnostic_handler).
    pub fn with_diagnostic_handler(mut self, handler: impl FnMut(&Diagnostic) + Send + 'static) -> Self {
        self.set_diagnostic_handler(handler);
        self
    }

    /// The tally so far.
    pub fn summary(&self) -> &DecodeSummary {
        self.inner.summary()
    }

    /// The output writer.
    pub fn get_ref(&self) -> &W {
        self.inner.output().get_ref()
    }

    /// Decodes the next bytes of the stream. Complete frames are decoded
    /// at once; a partial frame at the end is kept for the next call.
    ///
    /// Errors are fatal and sticky: later calls return the same error.
    pub fn feed(&mut self, input: &[u8]) -> Result<(), DecodeError> {
        self.inner.feed(input)
    }

    /// Feeds everything `reader` yields until end of file (without finishing).
    pub fn decode_from<R: Read>(&mut self, reader: R) -> Result<(), DecodeError> {
        self.inner.decode_from(reader)
    }

    /// Writes all decoded output to the writer and flushes it.
    pub fn flush(&mut self) -> Result<(), DecodeError> {
        self.inner.flush()
    }

    /// Ends the stream: reports a truncated final frame, flushes the output
    /// and returns the tally.
    pub fn finish(self) -> Result<DecodeSummary, DecodeError> {
        self.inner.finish()
    }
}
