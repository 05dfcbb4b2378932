//! Decoding on a background thread, so that an application can write JSON
//! Lines (or any other output) while it logs in the binary format.

use std::io::Write;
use std::thread::JoinHandle;

use crate::decoder::Decoder;
use crate::output::{JsonLines, Output};
use crate::report::DiagnosticHandler;
use crate::report::{DecodeError, DecodeSummary};

enum Msg {
    Data(Vec<u8>),
    Sync(flume::Sender<Result<(), DecodeError>>),
}

/// A [`Decoder`] running on its own thread: JSON Lines by default
/// ([`spawn`](Self::spawn)), or any [`Output`]
/// ([`spawn_output`](Self::spawn_output), [`spawn_decoder`](Self::spawn_decoder)).
///
/// Chunks of the binary stream are sent to the thread over a bounded
/// channel: [`feed`](Self::feed) blocks while the channel is full, so
/// nothing is ever dropped. Whenever the thread has decoded every chunk fed
/// so far, it writes its output out and flushes it: a reader of the output
/// (`tail -f` of a file) sees each chunk's lines as soon as they are decoded,
/// whole lines only, and the feeder never waits for it.
/// [`sync`](Self::sync) waits until everything fed before it is decoded and
/// written; [`finish`](Self::finish) (or dropping the decoder) ends the
/// stream and joins the thread. Buffers the thread has drained come back
/// through [`recycle`](Self::recycle) for reuse.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let live = lmlog_decode::LiveDecoder::spawn(std::io::sink())?;
/// live.feed(lmlog_format::frame::preamble().to_vec());
/// live.sync()?;
/// let summary = live.finish()?;
/// assert_eq!(summary.files, 1);
/// # Ok(()) }
/// ```
///
/// Any output, here [`Pretty`](crate::Pretty) lines without colours:
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let live = lmlog_decode::LiveDecoder::spawn_output(lmlog_decode::Pretty::new(std::io::stderr(), false))?;
/// live.feed(lmlog_format::frame::preamble().to_vec());
/// assert_eq!(live.finish()?.events, 0);
/// # Ok(()) }
/// ```
#[non_exhaustive]
pub struct LiveDecoder {
    tx: Option<flume::Sender<Msg>>,
    recycled: flume::Receiver<Vec<u8>>,
    thread: Option<JoinHandle<Result<DecodeSummary, DecodeError>>>,
}

impl std::fmt::Debug for LiveDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDecoder").field("running", &self.thread.is_some()).finish_non_exhaustive()
    }
}

impl LiveDecoder {
    /// Chunks that may wait in the channel by default.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// Starts a decoder thread writing JSON Lines to `out`. Diagnostics are
    /// collected in the [`DecodeSummary`] that [`finish`](Self::finish) returns.
    pub fn spawn<W: Write + Send + 'static>(out: W) -> std::io::Result<LiveDecoder> {
        Self::spawn_with(out, Self::DEFAULT_CAPACITY, None)
    }

    /// Starts a decoder thread with a channel of `capacity` chunks (at least
    /// one) and an optional handler that sees every diagnostic as it is found.
    pub fn spawn_with<W: Write + Send + 'static>(
        out: W,
        capacity: usize,
        on_diagnostic: Option<DiagnosticHandler>,
    ) -> std::io::Result<LiveDecoder> {
        let mut decoder = Decoder::new(JsonLines::new(out));
        if let Some(handler) = on_diagnostic {
            decoder.set_diagnostic_handler(handler);
        }
        Self::spawn_decoder(decoder, capacity)
    }

    /// Starts a decoder thread handing events to `output` (with the default
    /// channel capacity).
    pub fn spawn_output<O>(output: O) -> std::io::Result<LiveDecoder>
    where
        O: Output,
        Decoder<O>: Send + 'static,
    {
        Self::spawn_decoder(Decoder::new(output), Self::DEFAULT_CAPACITY)
    }

    /// Runs `decoder`, configured as the caller likes (diagnostic handler,
    /// output), on a new thread with a channel of `capacity` chunks (at
    /// least one).
    pub fn spawn_decoder<O>(mut decoder: Decoder<O>, capacity: usize) -> std::io::Result<LiveDecoder>
    where
        O: Output,
        Decoder<O>: Send + 'static,
    {
        let capacity = capacity.max(1);
        let (tx, rx) = flume::bounded::<Msg>(capacity);
        let (recycle_tx, recycled) = flume::bounded::<Vec<u8>>(capacity);
        let thread = std::thread::Builder::new().name("lmlog-decode".into()).spawn(move || {
            for msg in rx.iter() {
                match msg {
                    Msg::Data(mut chunk) => {
                        // Errors are sticky; they are reported by `sync` and `finish`.
                        let _ = decoder.feed(&chunk);
                        chunk.clear();
                        let _ = recycle_tx.try_send(chunk);
                        // Caught up: write through, so the output is live.
                        if rx.is_empty() {
                            let _ = decoder.flush();
                        }
                    }
                    Msg::Sync(reply) => {
                        let _ = reply.send(decoder.flush());
                    }
                }
            }
            decoder.finish()
        })?;
        Ok(LiveDecoder { tx: Some(tx), recycled, thread: Some(thread) })
    }

    /// Sends the next chunk of the stream to the decoder thread, blocking
    /// while the channel is full. Empty chunks are ignored. If the thread
    /// is gone, the chunk is discarded ([`sync`](Self::sync) and
    /// [`finish`](Self::finish) report why).
    pub fn feed(&self, chunk: Vec<u8>) {
        if chunk.is_empty() {
            return;
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Data(chunk));
        }
    }

    /// Copies `bytes` into a recycled buffer (or a new one) and feeds it.
    pub fn feed_slice(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut chunk = self.recycle().unwrap_or_default();
        chunk.extend_from_slice(bytes);
        self.feed(chunk);
    }

    /// [`feed_slice`](Self::feed_slice) without waiting: returns `false`,
    /// feeding nothing, if the channel is full.
    pub fn try_feed_slice(&self, bytes: &[u8]) -> bool {
        let Some(tx) = &self.tx else { return true };
        if bytes.is_empty() {
            return true;
        }
        if tx.is_full() {
            return false;
        }
        let mut chunk = self.recycle().unwrap_or_default();
        chunk.extend_from_slice(bytes);
        match tx.try_send(Msg::Data(chunk)) {
            Err(flume::TrySendError::Full(_)) => false,
            // Sent, or the thread is gone (`sync` and `finish` say why).
            _ => true,
        }
    }

    /// An empty buffer that the decoder thread is done with, if any, to be
    /// filled and fed again instead of allocating a new one.
    pub fn recycle(&self) -> Option<Vec<u8>> {
        self.recycled.try_recv().ok()
    }

    /// Waits until every chunk fed before this call is decoded and its
    /// output written and flushed. (A frame that is still incomplete
    /// stays buffered until its remaining bytes are fed.) Returns the
    /// decoder's fatal error, if it has failed.
    pub fn sync(&self) -> Result<(), DecodeError> {
        let tx = self.tx.as_ref().ok_or(DecodeError::DecoderThread)?;
        let (reply_tx, reply_rx) = flume::bounded(1);
        tx.send(Msg::Sync(reply_tx)).map_err(|_| DecodeError::DecoderThread)?;
        reply_rx.recv().map_err(|_| DecodeError::DecoderThread)?
    }

    /// Ends the stream, waits for the thread to decode and flush everything
    /// and returns the tally.
    pub fn finish(mut self) -> Result<DecodeSummary, DecodeError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<DecodeSummary, DecodeError> {
        drop(self.tx.take());
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| DecodeError::DecoderThread)?,
            None => Err(DecodeError::DecoderThread),
        }
    }
}

impl Drop for LiveDecoder {
    /// Like [`LiveDecoder::finish`], discarding the result.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}
