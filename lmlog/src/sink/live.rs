//! Outputs decoded from the binary stream on a background thread (the live
//! JSON Lines file, the console) and the [`Tee`] that adds one beside
//! another output.

use std::io;

use lmlog_decode::LiveDecoder;

use super::Sink;

/// A decoded output: the binary stream fed to a [`LiveDecoder`] thread
/// that writes text (JSON Lines, console lines).
pub(crate) struct LiveSink {
    /// What it writes, for messages ("JSON Lines output", "console").
    name: &'static str,
    /// `None` once it failed (reported once) or finished.
    decoder: Option<LiveDecoder>,
    /// Whether, beside another output, each batch waits until its text is
    /// written (the JSON Lines file: a process death then leaves it
    /// holding what the other output holds, and the next run recovers
    /// what was staged into both), or only until it is queued (the
    /// console, which need not survive the process).
    write_through: bool,
}

impl LiveSink {
    /// The live JSON Lines file at `path`, rotating by `options`.
    #[cfg(feature = "jsonl")]
    pub(crate) fn json_lines(path: &std::path::Path, options: &super::FileOptions) -> io::Result<LiveSink> {
        let file = super::jsonl::JsonFile::open(path, options)?;
        Ok(LiveSink { name: "JSON Lines output", decoder: Some(LiveDecoder::spawn(file)?), write_through: true })
    }

    /// Readable lines on standard error, coloured when it is a terminal
    /// and `NO_COLOR` is unset or empty, in time order: the decoder holds
    /// each thread's lines until a watermark (the next drain or two, see
    /// FORMAT.md) says no older event is still to come, and the end of the
    /// stream hands on the rest.
    #[cfg(feature = "console")]
    pub(crate) fn console() -> io::Result<LiveSink> {
        let stderr = io::stderr();
        let color = lmlog_decode::wants_color(&stderr);
        let decoder = lmlog_decode::Decoder::new(lmlog_decode::Pretty::new(stderr, color)).with_time_order();
        Ok(LiveSink {
            name: "console",
            decoder: Some(LiveDecoder::spawn_decoder(decoder, LiveDecoder::DEFAULT_CAPACITY)?),
            write_through: false,
        })
    }

    /// Hands `bytes` to the decoder thread, waiting only while its channel
    /// is full.
    fn feed(&self, bytes: &[u8]) {
        if let Some(decoder) = &self.decoder {
            decoder.feed_slice(bytes);
        }
    }

    /// Waits until everything fed is decoded and written out.
    fn sync(&self) -> io::Result<()> {
        match &self.decoder {
            Some(decoder) => decoder.sync().map_err(io::Error::other),
            None => Err(io::Error::other(format!("the {} has stopped", self.name))),
        }
    }

    /// [`sync`](Self::sync) for an output beside another one: a failure is
    /// said once on standard error and stops this output, never the other.
    fn sync_or_stop(&mut self) {
        if self.decoder.is_none() {
            return;
        }
        if let Err(e) = self.sync() {
            eprintln!("lmlog: the {} stopped: {e}; the other outputs go on", self.name);
            // Its thread ends with the same error: said once is enough.
            drop(self.decoder.take().map(LiveDecoder::finish));
        }
    }
}

impl Sink for LiveSink {
    /// Waits until the decoded text is written: as the only output, the
    /// writer hands the staged records back to their threads when this
    /// returns, so a process death leaves nothing committed only in the
    /// decoder's queue, and a failure to write is the sink's failure
    /// (held, retried, counted like any other).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.feed(bytes);
        self.sync()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sync()
    }
}

impl Drop for LiveSink {
    fn drop(&mut self) {
        if let Some(decoder) = self.decoder.take() {
            if let Err(e) = decoder.finish() {
                eprintln!("lmlog: {}: {e}", self.name);
            }
        }
    }
}

/// An output and a decoded output beside it: every batch goes to the
/// `primary` first and, once it took it, to the `secondary`, which so
/// decodes exactly the stream the primary holds (rotations, loss reports
/// and all, and nothing the primary failed to take). The primary alone
/// rotates, and only its failures are the sink's failures: the secondary
/// only slows the writer down (waiting for its text to be written, or
/// while its decoder's channel is full), and a secondary that fails is
/// said on standard error and stops.
pub(crate) struct Tee {
    primary: Box<dyn Sink>,
    secondary: LiveSink,
}

impl Tee {
    pub(crate) fn new(primary: Box<dyn Sink>, secondary: LiveSink) -> Tee {
        Tee { primary, secondary }
    }
}

impl Sink for Tee {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.primary.write_all(bytes)?;
        self.secondary.feed(bytes);
        if self.secondary.write_through {
            self.secondary.sync_or_stop();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.primary.flush();
        self.secondary.sync_or_stop();
        flushed
    }

    fn wants_rotation(&self) -> bool {
        self.primary.wants_rotation()
    }

    fn room(&self) -> Option<u64> {
        self.primary.room()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.primary.rotate()
    }

    fn file_index(&self) -> u32 {
        self.primary.file_index()
    }
}
