//! Time order: the records of every thread of a session, merged by their
//! ticks.
//!
//! Each thread's records are in its own order already (one staging ring
//! per thread), so merging needs only the next record of each thread. The
//! merger keeps copies of the records frames it has not finished, one
//! queue per thread (a *lane*), and a heap of the lanes by the ticks of
//! their next record. A watermark (FORMAT.md) says that no record older
//! than it is still to come, so everything older is handed on; what is
//! newer waits for the next watermark. Memory is bounded by what the
//! writer drains between watermarks (about one drain interval of records),
//! and by [`MAX_PENDING_BYTES`] for streams without watermarks (format
//! version 1): past it, the oldest records are handed on before any
//! watermark covers them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use lmlog_format::varint;

use super::session::{Clock, ThreadDesc};
use crate::frames::FrameOrigin;
use crate::record::Reader;

/// Payload bytes the merger holds at most before it hands on the oldest
/// records without a watermark.
pub(crate) const MAX_PENDING_BYTES: usize = 64 << 20;

/// Spare payload buffers kept for reuse.
const SPARE_BUFFERS: usize = 16;

/// A records frame whose records are not all handed on yet.
#[derive(Debug)]
pub(crate) struct PendingFrame {
    /// A copy of the frame's payload.
    pub payload: Vec<u8>,
    /// Where the next record starts.
    pub pos: usize,
    /// Ticks of the record before `pos` (the frame's base ticks at first).
    pub ticks: u64,
    /// The clock when the frame was read (anchors move on later).
    pub clock: Clock,
    /// The thread that wrote the records, as described when the frame was read.
    pub thread_id: u32,
    pub thread: ThreadDesc,
    /// Schema frames read before this one (see `Records::schemas_known`).
    pub schemas_known: u64,
    /// The file it belongs to (see `EventDecoder::generation`).
    pub generation: u64,
    pub origin: FrameOrigin,
}

/// One thread's pending frames, oldest first.
#[derive(Debug, Default)]
struct Lane {
    frames: VecDeque<PendingFrame>,
}

/// Which records [`Merger::next_lane`] may hand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// Those older than the latest watermark (and the oldest ones while
    /// more than [`MAX_PENDING_BYTES`] are held).
    Covered,
    /// All of them: the session ends.
    All,
}

/// The merge state of one session; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Merger {
    lanes: Vec<Lane>,
    lane_of_thread: HashMap<u32, usize>,
    /// `(ticks of the lane's next record, arrival number, lane)` of every
    /// lane with frames; the arrival number keeps equal ticks in stream order.
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    arrivals: u64,
    /// The latest watermark of the session.
    watermark: Option<u64>,
    pending_bytes: usize,
    /// Frames held.
    frames: usize,
    spare: Vec<Vec<u8>>,
}

/// The ticks of the record at `pos`, whose predecessor had `previous`
/// ticks: its header is skipped and its tick delta applied. A record whose
/// start does not decode gets `previous`, so that it is handed on (and
/// reported) without delay.
pub(crate) fn record_ticks(payload: &[u8], pos: usize, previous: u64) -> u64 {
    let mut r = Reader::new(payload, pos);
    match (r.varint(), r.varint()) {
        (Ok(_header), Ok(delta)) => previous.wrapping_add_signed(varint::unzigzag_i64(delta)),
        _ => previous,
    }
}

impl Merger {
    /// A buffer for a payload copy.
    pub fn buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.reserve(len);
        buf
    }

    /// Queues a records frame (its first record at `frame.pos`).
    pub fn push(&mut self, frame: PendingFrame) {
        let next_lane = self.lanes.len();
        let lane = *self.lane_of_thread.entry(frame.thread_id).or_insert(next_lane);
        if lane == next_lane {
            self.lanes.push(Lane::default());
        }
        self.pending_bytes += frame.payload.len();
        self.frames += 1;
        let frames = &mut self.lanes[lane].frames;
        if frames.is_empty() {
            let ticks = record_ticks(&frame.payload, frame.pos, frame.ticks);
            self.arrivals += 1;
            self.heap.push(Reverse((ticks, self.arrivals, lane)));
        }
        frames.push_back(frame);
    }

    /// A watermark of the session.
    pub fn set_watermark(&mut self, ticks: u64) {
        self.watermark = Some(self.watermark.map_or(ticks, |w| w.max(ticks)));
    }

    /// The records older than this may be handed on (`None`: all of them).
    pub fn limit(&self, release: Release) -> Option<u64> {
        if release == Release::All || self.pending_bytes > MAX_PENDING_BYTES {
            None
        } else {
            Some(self.watermark.unwrap_or(0))
        }
    }

    /// Takes the lane whose next record is the oldest, if that record is
    /// older than `limit`; [`requeue`](Self::requeue) or
    /// [`finish_front`](Self::finish_front) gives it back.
    pub fn next_lane(&mut self, limit: Option<u64>) -> Option<usize> {
        let &Reverse((ticks, _, lane)) = self.heap.peek()?;
        if limit.is_some_and(|l| ticks >= l) {
            return None;
        }
        self.heap.pop();
        Some(lane)
    }

    /// The ticks of the oldest next record of the other lanes: a lane
    /// taken by [`next_lane`](Self::next_lane) may go on while its records
    /// are no newer.
    pub fn bound(&self) -> Option<u64> {
        self.heap.peek().map(|r| r.0 .0)
    }

    /// The frame a taken lane goes on with.
    pub fn front(&mut self, lane: usize) -> &mut PendingFrame {
        self.lanes[lane].frames.front_mut().expect("a lane in the heap has a frame")
    }

    /// Gives back a taken lane whose next record has `ticks`.
    pub fn requeue(&mut self, lane: usize, ticks: u64) {
        self.arrivals += 1;
        self.heap.push(Reverse((ticks, self.arrivals, lane)));
    }

    /// The taken lane's front frame is done: drops it and gives the lane
    /// back if it has more.
    pub fn finish_front(&mut self, lane: usize) {
        let frames = &mut self.lanes[lane].frames;
        if let Some(done) = frames.pop_front() {
            self.pending_bytes -= done.payload.len();
            self.frames -= 1;
            if self.spare.len() < SPARE_BUFFERS {
                self.spare.push(done.payload);
            }
        }
        if let Some(next) = frames.front() {
            let ticks = record_ticks(&next.payload, next.pos, next.ticks);
            self.requeue(lane, ticks);
        }
    }

    /// How many frames are held.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Whether no record waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// A new session starts (everything was handed on).
    pub fn reset(&mut self) {
        debug_assert!(self.is_empty());
        self.lanes.clear();
        self.lane_of_thread.clear();
        self.watermark = None;
        self.pending_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlog_format::varint::{push_u64, zigzag_i64};

    fn frame(thread_id: u32, ticks: u64, len: usize) -> PendingFrame {
        // One record of call site 1 at `ticks`, padded to `len` bytes.
        let mut payload = Vec::new();
        push_u64(&mut payload, 1 << 2);
        push_u64(&mut payload, zigzag_i64(0));
        payload.resize(len, 0);
        PendingFrame {
            payload,
            pos: 0,
            ticks,
            clock: Clock::default(),
            thread_id,
            thread: ThreadDesc { name: None, key: 1 },
            schemas_known: 0,
            generation: 0,
            origin: FrameOrigin { offset: 0, decompressed: false, version: 2 },
        }
    }

    #[test]
    fn past_the_memory_bound_the_oldest_go_out_without_a_watermark() {
        let mut m = Merger::default();
        m.push(frame(1, 20, 1000));
        m.push(frame(2, 10, MAX_PENDING_BYTES - 1000));
        assert_eq!(m.limit(Release::Covered), Some(0), "no watermark: nothing may go");
        assert_eq!(m.next_lane(Some(0)), None);
        m.push(frame(1, 30, 1));
        assert_eq!(m.limit(Release::Covered), None, "over the bound: the oldest may go");
        assert_eq!(m.next_lane(None), Some(1), "thread 2's record is the oldest");
        m.finish_front(1);
        assert_eq!(m.limit(Release::Covered), Some(0), "back under the bound");
        assert_eq!(m.bound(), Some(20));
    }

    #[test]
    fn each_thread_queues_behind_its_own_frames() {
        let mut m = Merger::default();
        m.push(frame(1, 50, 10));
        m.push(frame(1, 5, 10)); // older, but after thread 1's first frame
        m.push(frame(2, 20, 10));
        m.set_watermark(100);
        m.set_watermark(60); // watermarks never go back
        let limit = m.limit(Release::Covered);
        assert_eq!(limit, Some(100));
        let mut order = Vec::new();
        while let Some(lane) = m.next_lane(limit) {
            order.push(m.front(lane).ticks);
            m.finish_front(lane);
        }
        assert_eq!(order, [20, 50, 5]);
        assert!(m.is_empty());
        m.reset();
        assert_eq!(m.limit(Release::Covered), Some(0));
    }
}
