//! The spill buffer: batches the sink could not take, held in memory in
//! order until it takes them again.
//!
//! It holds whole batches (a batch is one sink write, as it would have
//! been) up to its capacity. A batch that does not fit is not held, and
//! once one did not fit the spill takes nothing more until it has been
//! written: the events lost are the newest ones, a single stretch of time
//! that ends when the sink recovers, while what is held (the start of the
//! outage, where its cause is) arrives complete and in order.
//!
//! Dropping the newest also keeps the frame numbers right. Frames are
//! numbered per file, and a dropped batch leaves a gap in the numbers. As
//! nothing is held after a dropped batch, the held frames follow each other
//! without gaps, and the one gap is right before the next frame written
//! after them: the loss report that counts what fell into it (a reader
//! notes such a gap as reported by the writer instead of as damage).
//! Dropping the oldest would leave gaps between held frames, to be closed
//! by renumbering them (and computing their CRCs again).

use std::collections::VecDeque;

use crate::framer::Batch;

/// After the spill has been written, a buffer grown larger than this is
/// freed rather than kept for the next outage.
const KEPT_ALLOCATION: usize = 1 << 20;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Spill {
    capacity: usize,
    /// The held batches back to back, from `written` on not yet written.
    bytes: Vec<u8>,
    /// The held batches not yet written, oldest first.
    batches: VecDeque<HeldBatch>,
    /// Their frames and events.
    held_frames: u64,
    held_events: u64,
    /// Bytes at the start of `bytes` already written.
    written: usize,
    /// A batch did not fit: nothing more is held until the spill is written.
    overflowed: bool,
}

/// One held batch.
#[derive(Debug, Clone, Copy)]
struct HeldBatch {
    /// Where it ends in `bytes`.
    end: usize,
    frames: u64,
    events: u64,
}

/// What the spill holds and has not written yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Held {
    pub bytes: u64,
    pub frames: u64,
    pub events: u64,
}

impl Spill {
    /// A spill that holds at most `capacity` bytes (0: nothing).
    pub(crate) fn new(capacity: usize) -> Spill {
        Spill {
            capacity,
            bytes: Vec::new(),
            batches: VecDeque::new(),
            held_frames: 0,
            held_events: 0,
            written: 0,
            overflowed: false,
        }
    }

    /// The most bytes it holds.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether no batch waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Holds `batch` if it fits and nothing was turned away since the spill
    /// was last written; returns whether it did.
    pub(crate) fn hold(&mut self, batch: &Batch<'_>) -> bool {
        if self.overflowed || self.bytes.len() - self.written + batch.bytes.len() > self.capacity {
            self.overflowed = true;
            return false;
        }
        if self.written > 0 {
            // A write stopped part-way: free what went out.
            self.bytes.drain(..self.written);
            for held in &mut self.batches {
                held.end -= self.written;
            }
            self.written = 0;
        }
        let needed = self.bytes.len() + batch.bytes.len();
        if needed > self.bytes.capacity() {
            // Grow as a vector does, but never past the spill's capacity.
            let target = (self.bytes.capacity() * 2).clamp(needed, self.capacity);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(batch.bytes);
        self.batches.push_back(HeldBatch { end: self.bytes.len(), frames: batch.frames, events: batch.events });
        self.held_frames += batch.frames;
        self.held_events += batch.events;
        true
    }

    /// The oldest batch not yet written.
    pub(crate) fn next(&self) -> Option<&[u8]> {
        self.batches.front().map(|held| &self.bytes[self.written..held.end])
    }

    /// The batch [`next`](Self::next) returned was written. Once all are,
    /// the spill is empty and takes batches again.
    pub(crate) fn pop(&mut self) {
        if let Some(held) = self.batches.pop_front() {
            self.written = held.end;
            self.held_frames -= held.frames;
            self.held_events -= held.events;
        }
        if self.batches.is_empty() {
            self.clear();
        }
    }

    /// The sink took a batch while nothing was held: the spill takes
    /// batches again.
    pub(crate) fn sink_recovered(&mut self) {
        if self.batches.is_empty() {
            self.clear();
        }
    }

    /// What is held and not written yet.
    pub(crate) fn held(&self) -> Held {
        Held { bytes: (self.bytes.len() - self.written) as u64, frames: self.held_frames, events: self.held_events }
    }

    /// Forgets everything held (it was written, or is abandoned).
    pub(crate) fn clear(&mut self) {
        self.batches.clear();
        self.held_frames = 0;
        self.held_events = 0;
        self.written = 0;
        self.overflowed = false;
        if self.bytes.capacity() > KEPT_ALLOCATION {
            self.bytes = Vec::new();
        } else {
            self.bytes.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(bytes: &[u8], events: u64) -> Batch<'_> {
        Batch { bytes, frames: 1, events }
    }

    #[test]
    fn batches_are_held_in_order_until_one_does_not_fit_then_none_until_written() {
        let mut spill = Spill::new(10);
        assert!(spill.is_empty() && spill.next().is_none());
        assert!(spill.hold(&batch(b"aaaa", 4)));
        assert!(spill.hold(&batch(b"bbb", 3)));
        assert_eq!(spill.held(), Held { bytes: 7, frames: 2, events: 7 });
        assert!(!spill.hold(&batch(b"cccc", 4)), "11 bytes do not fit in 10");
        assert!(!spill.hold(&batch(b"d", 1)), "the newest are dropped until the spill is written");
        assert_eq!(spill.next(), Some(&b"aaaa"[..]));
        spill.pop();
        assert_eq!(spill.held(), Held { bytes: 3, frames: 1, events: 3 });
        // Written part-way: what went out is freed when a batch comes, but
        // the spill still takes nothing.
        assert!(!spill.hold(&batch(b"e", 1)));
        assert_eq!(spill.next(), Some(&b"bbb"[..]));
        spill.pop();
        assert!(spill.is_empty());
        assert!(spill.hold(&batch(b"ffffffffff", 10)), "written: it takes batches again, up to its capacity");
        assert_eq!(spill.next(), Some(&b"ffffffffff"[..]));
        assert_eq!(spill.bytes.capacity(), 10, "its memory stays within its capacity");
    }

    #[test]
    fn a_spill_written_part_way_keeps_the_rest_and_frees_what_went_out() {
        let mut spill = Spill::new(8);
        assert!(spill.hold(&batch(b"aaaa", 1)));
        assert!(spill.hold(&batch(b"bb", 1)));
        spill.pop();
        assert!(spill.hold(&batch(b"cccccc", 1)), "the written 4 bytes no longer count");
        assert_eq!(spill.held(), Held { bytes: 8, frames: 2, events: 2 });
        assert_eq!(spill.next(), Some(&b"bb"[..]));
        spill.pop();
        assert_eq!(spill.next(), Some(&b"cccccc"[..]));
    }

    #[test]
    fn a_spill_that_holds_nothing_is_a_spill_that_drops_everything() {
        let mut spill = Spill::new(0);
        assert!(!spill.hold(&batch(b"a", 1)));
        spill.sink_recovered();
        assert!(!spill.hold(&batch(b"a", 1)));
        assert_eq!(spill.held(), Held::default());
    }
}
