//! Frames → sink: the writer thread's I/O half.
//!
//! The [`SinkDriver`] owns the sink. It writes each batch of frames,
//! rotates files when the sink asks, and accounts for what it could not
//! deliver: the loss is kept as a [`WriterLoss`] until a batch carrying its
//! report reaches the sink (the writer frames the report at the head of
//! each batch while one is pending). It holds no global state, so it is
//! tested in-process with a failing sink.

use std::io;

use lmlog_format::WriterLoss;

use crate::clock::unix_nanos;
use crate::framer::Batch;
use crate::sink::Sink;

/// See the module documentation.
pub(crate) struct SinkDriver {
    sink: Box<dyn Sink>,
    /// What could not be delivered since the last report reached the sink.
    loss: Option<WriterLoss>,
}

impl SinkDriver {
    pub(crate) fn new(sink: Box<dyn Sink>) -> SinkDriver {
        SinkDriver { sink, loss: None }
    }

    /// The loss report to put at the head of the next batch, if anything
    /// was lost.
    pub(crate) fn loss_report(&self) -> Option<&WriterLoss> {
        self.loss.as_ref()
    }

    /// Writes a batch; `carries_report` says it holds the current
    /// [`loss_report`](Self::loss_report). Returns whether the sink took it.
    pub(crate) fn write(&mut self, batch: Batch<'_>, carries_report: bool) -> bool {
        if batch.bytes.is_empty() {
            return true;
        }
        match self.sink.write_all(batch.bytes) {
            Ok(()) => {
                if carries_report {
                    self.loss = None;
                }
                true
            }
            Err(e) => {
                self.note_failure(batch.frames, batch.bytes.len() as u64, || format!("write failed: {e}"));
                false
            }
        }
    }

    /// Flushes the sink.
    pub(crate) fn flush(&mut self) {
        if let Err(e) = self.sink.flush() {
            self.note_failure(0, 0, || format!("flush failed: {e}"));
        }
    }

    /// Whether the sink wants a new file before the next write.
    pub(crate) fn wants_rotation(&self) -> bool {
        self.sink.wants_rotation()
    }

    /// Starts a new file; on failure the sink keeps the current one and
    /// the failure is reported with the next batch.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        self.sink.rotate().inspect_err(|e| self.note_failure(0, 0, || format!("rotation failed: {e}")))
    }

    /// Bytes the sink's current file may still take before it must rotate
    /// (`None`: no size limit).
    pub(crate) fn room(&self) -> Option<u64> {
        self.sink.room()
    }

    /// Index of the sink's current file in its rotated series.
    pub(crate) fn file_index(&self) -> u32 {
        self.sink.file_index()
    }

    fn note_failure(&mut self, frames: u64, bytes: u64, reason: impl FnOnce() -> String) {
        let now = unix_nanos();
        match &mut self.loss {
            Some(loss) => {
                loss.frames += frames;
                loss.bytes += bytes;
                loss.last_unix_nanos = now;
            }
            None => {
                let reason = reason();
                eprintln!("lmlog: {reason}; the loss is reported in the stream once the sink accepts data again");
                self.loss = Some(WriterLoss { frames, bytes, reason, first_unix_nanos: now, last_unix_nanos: now });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    /// Fails the writes whose numbers are in `fail` (counting from 0).
    struct Flaky {
        written: Vec<u8>,
        writes: Arc<AtomicUsize>,
        fail: Vec<usize>,
    }

    impl Sink for Flaky {
        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            let n = self.writes.fetch_add(1, Ordering::Relaxed);
            if self.fail.contains(&n) {
                return Err(io::Error::other("injected"));
            }
            self.written.extend_from_slice(bytes);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("flush injected"))
        }
    }

    #[test]
    fn losses_accumulate_until_a_batch_with_the_report_is_delivered() {
        let writes = Arc::new(AtomicUsize::new(0));
        let sink = Flaky { written: Vec::new(), writes: writes.clone(), fail: vec![1, 2] };
        let mut driver = SinkDriver::new(Box::new(sink));
        assert!(driver.write(Batch { bytes: b"aaaa", frames: 1, events: 1 }, false));
        assert!(driver.loss_report().is_none());
        assert!(!driver.write(Batch { bytes: b"bbbbbb", frames: 2, events: 2 }, false));
        let first = driver.loss_report().cloned().unwrap();
        assert_eq!((first.frames, first.bytes), (2, 6));
        assert_eq!(first.reason, "write failed: injected");
        // The next batch carries the report but fails too: both are counted.
        assert!(!driver.write(Batch { bytes: b"ccc", frames: 3, events: 3 }, true));
        let second = driver.loss_report().cloned().unwrap();
        assert_eq!((second.frames, second.bytes), (5, 9));
        assert_eq!(second.first_unix_nanos, first.first_unix_nanos);
        // Delivered without the report: still pending.
        assert!(driver.write(Batch { bytes: b"d", frames: 1, events: 1 }, false));
        assert!(driver.loss_report().is_some());
        assert!(driver.write(Batch { bytes: b"e", frames: 1, events: 1 }, true));
        assert!(driver.loss_report().is_none());
        driver.flush();
        assert_eq!(driver.loss_report().unwrap().reason, "flush failed: flush injected");
        assert!(driver.write(Batch { bytes: b"", frames: 0, events: 0 }, false), "an empty batch is not written");
        assert_eq!(writes.load(Ordering::Relaxed), 5);
    }
}
