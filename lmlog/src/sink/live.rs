//! Outputs decoded from the binary stream on a background thread (the live
//! JSON Lines file, the console) and the [`Tee`] that adds one beside
//! another output.

use std::io;

use lmlog_decode::LiveDecoder;
use lmlog_format::frame::{frame_header_len, FrameHeader, FrameKind, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};

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
    /// A console beside another output that fell behind (see
    /// [`feed_or_skip`](Self::feed_or_skip)).
    behind: Behind,
}

impl Behind {
    /// Says on standard error how many records frames were left out, if any.
    fn say_left_out(&mut self) {
        let left_out = std::mem::take(&mut self.records_frames);
        if left_out > 0 {
            eprintln!(
                "lmlog: the console fell behind: {left_out} frames of events are not shown on it \
                 (the other outputs hold them)"
            );
        }
    }
}

/// What a console that fell behind its channel left out.
#[derive(Default)]
struct Behind {
    /// The frames other than records of the batches left out, in order:
    /// fed before the next batch that fits, so that later records decode.
    held: Vec<u8>,
    /// Format version of the file the batches belong to.
    version: u16,
    /// Records frames left out since the console last caught up.
    records_frames: u64,
}

impl LiveSink {
    /// The live JSON Lines file at `path`, rotating by `options`.
    #[cfg(feature = "jsonl")]
    pub(crate) fn json_lines(path: &std::path::Path, options: &super::FileOptions) -> io::Result<LiveSink> {
        let file = super::jsonl::JsonFile::open(path, options)?;
        Ok(LiveSink {
            name: "JSON Lines output",
            decoder: Some(LiveDecoder::spawn(file)?),
            write_through: true,
            behind: Behind::default(),
        })
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
            behind: Behind { version: FORMAT_VERSION, ..Behind::default() },
        })
    }

    /// Hands `bytes` to the decoder thread, waiting only while its channel
    /// is full.
    fn feed(&self, bytes: &[u8]) {
        if let Some(decoder) = &self.decoder {
            decoder.feed_slice(bytes);
        }
    }

    /// Beside another output, for a console: hands `batch` to the decoder
    /// thread if its channel has room; else leaves out its records frames
    /// (counted, and said on standard error once the console catches up)
    /// and keeps its other frames (session, call sites, threads, clock,
    /// watermarks, end) for the next batch that fits. A console that cannot
    /// keep up (stderr read late or not at all) so never slows the writer,
    /// and the other output never loses an event because of it.
    fn feed_or_skip(&mut self, batch: &[u8]) {
        let Some(decoder) = &self.decoder else { return };
        let behind = &mut self.behind;
        if behind.held.is_empty() {
            if decoder.try_feed_slice(batch) {
                return;
            }
        } else {
            let kept = behind.held.len();
            behind.held.extend_from_slice(batch);
            if decoder.try_feed_slice(&behind.held) {
                behind.held.clear();
                behind.say_left_out();
                return;
            }
            behind.held.truncate(kept);
        }
        behind.records_frames += keep_all_but_records(batch, &mut behind.version, &mut behind.held);
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

/// Appends to `out` the preamble and the frames of `batch` (whole frames
/// of a file of format `version`, perhaps after a preamble, which sets
/// `version`) but its records frames; returns how many it left out.
fn keep_all_but_records(batch: &[u8], version: &mut u16, out: &mut Vec<u8>) -> u64 {
    let mut rest = batch;
    let mut left_out = 0;
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC) && rest.len() >= PREAMBLE_LEN {
            *version = u16::from_le_bytes([rest[8], rest[9]]);
            out.extend_from_slice(&rest[..PREAMBLE_LEN]);
            rest = &rest[PREAMBLE_LEN..];
            continue;
        }
        let Some(header) = FrameHeader::parse(rest, *version) else {
            // Not whole frames after all: keep the rest as it is.
            out.extend_from_slice(rest);
            break;
        };
        let len = (frame_header_len(*version) + header.len as usize).min(rest.len());
        if header.kind == FrameKind::Records as u8 {
            left_out += 1;
        } else {
            out.extend_from_slice(&rest[..len]);
        }
        rest = &rest[len..];
    }
    left_out
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
    /// Ends the stream: what a console left behind still holds (the end
    /// frame among it) is fed, waiting this once (finishing waits for the
    /// decoder thread anyway), then what it left out is said, last.
    fn drop(&mut self) {
        if let Some(decoder) = self.decoder.take() {
            decoder.feed_slice(&std::mem::take(&mut self.behind.held));
            if let Err(e) = decoder.finish() {
                eprintln!("lmlog: {}: {e}", self.name);
            }
        }
        self.behind.say_left_out();
    }
}

/// An output and a decoded output beside it: every batch goes to the
/// `primary` first and, once it took it, to the `secondary`, which so
/// decodes exactly the stream the primary holds (rotations, loss reports
/// and all, and nothing the primary failed to take). The primary alone
/// rotates, and only its failures are the sink's failures. A JSON Lines
/// file beside it slows the writer down (each batch waits until its text is
/// written); a console never does: when its channel is full it leaves out
/// records ([`LiveSink::feed_or_skip`]). A secondary that fails is said on
/// standard error and stops.
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
        if self.secondary.write_through {
            self.secondary.feed(bytes);
            self.secondary.sync_or_stop();
        } else {
            self.secondary.feed_or_skip(bytes);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.primary.flush();
        // A console is not waited for: one never read would stop the writer.
        if self.secondary.write_through {
            self.secondary.sync_or_stop();
        }
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

#[cfg(test)]
mod tests {
    use lmlog_format::frame::{preamble, push_frame, FrameKind};

    use super::*;

    #[test]
    fn a_console_left_behind_keeps_every_frame_but_records() {
        let mut batch = preamble().to_vec();
        push_frame(&mut batch, FrameKind::Session, 0, b"session");
        let kept_start = batch.len();
        push_frame(&mut batch, FrameKind::Records, 1, b"records one");
        let kept_end = batch.len();
        push_frame(&mut batch, FrameKind::Schema, 2, b"schema");
        push_frame(&mut batch, FrameKind::Records, 3, b"records two");
        push_frame(&mut batch, FrameKind::Watermark, 4, b"mark");
        let mut version = 0;
        let mut kept = Vec::new();
        assert_eq!(keep_all_but_records(&batch, &mut version, &mut kept), 2);
        assert_eq!(version, FORMAT_VERSION, "the preamble says which frame headers follow");
        let mut expected = batch[..kept_start].to_vec();
        push_frame(&mut expected, FrameKind::Schema, 2, b"schema");
        push_frame(&mut expected, FrameKind::Watermark, 4, b"mark");
        assert_eq!(kept, expected);
        // Frames without a preamble go on in the version last seen.
        kept.clear();
        assert_eq!(keep_all_but_records(&batch[kept_start..kept_end], &mut version, &mut kept), 1);
        assert!(kept.is_empty());
    }
}
