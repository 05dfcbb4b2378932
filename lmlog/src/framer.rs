//! Rings → frames: the writer thread's pure half.
//!
//! The [`Framer`] turns what the writer hands it (a session header, call-site
//! schemas, drained rings, loss counts) into a batch of frames for one sink
//! write: it numbers the frames of each file, writes each schema and thread
//! description before the first record that needs it, compresses records
//! when asked, and owes the reader watermarks after records. It touches no
//! global state and does no I/O, so it is tested in-process without `init`.
//!
//! When the sink driver reports a batch lost, [`Framer::lost`] forgets the
//! schemas and thread descriptions that batch carried, so they are written
//! again before the next record that needs them: a failed write never makes
//! later records undecodable.

use lmlog_format::frame::{compress_lz4, frame_header, preamble, FLAG_LZ4, FRAME_HEADER_LEN};
use lmlog_format::schema::to_payload;
use lmlog_format::{FrameKind, RecordsHeader, SessionInfo, ThreadInfo, Watermark};

use crate::ring::{Ring, Snapshot};
use crate::state::Interned;

/// How many drains after one that wrote records still write a watermark:
/// a record drained at drain `k` was taken before drain `k + 1` read its
/// clock, and drain `k + 2`'s watermark is that reading.
const WATERMARKS_AFTER_RECORDS: u8 = 3;

/// Frames waiting for one sink write.
#[derive(Debug)]
pub(crate) struct Batch<'a> {
    pub bytes: &'a [u8],
    pub frames: u64,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    /// Frames (and possibly a preamble) waiting to be written.
    out: Vec<u8>,
    /// Frames in `out`.
    frames: u64,
    /// Sequence number of the next frame in the current file.
    seq: u32,
    /// One records frame's payload before compression.
    raw: Vec<u8>,
    /// Ids `1..=schemas_written` have schema frames in this file, written
    /// or in `out`.
    schemas_written: u32,
    /// Ids `1..=schemas_delivered` have schema frames the sink accepted.
    schemas_delivered: u32,
    /// Threads described in this file, written or in `out`.
    announced: Vec<u32>,
    /// Threads described in `out`, not yet delivered.
    announced_pending: Vec<u32>,
    /// `out` holds the start of a file (preamble, session, schemas).
    starts_file: bool,
    /// The start of the current file was lost and must be written again.
    file_start_lost: bool,
    /// Records frames were framed since the last [`Framer::end_drain`].
    framed_records: bool,
    /// Drains that still write a watermark.
    watermarks_owed: u8,
}

impl Framer {
    pub(crate) fn new() -> Framer {
        Framer { out: Vec::with_capacity(1 << 20), ..Framer::default() }
    }

    /// Starts a file: the preamble, the session frame and a schema frame
    /// for every interned call site (`interned[i]` has id `i + 1`), so the
    /// file decodes on its own. Threads are described again before their
    /// next records.
    pub(crate) fn start_file(&mut self, session: &SessionInfo, interned: &[Interned]) {
        self.out.extend_from_slice(&preamble());
        self.seq = 0;
        self.starts_file = true;
        self.file_start_lost = false;
        self.meta(FrameKind::Session, session);
        self.schemas_written = 0;
        self.schemas_delivered = 0;
        self.announced.clear();
        self.announced_pending.clear();
        self.schemas(interned);
    }

    /// Whether the start of the current file was lost: the writer must
    /// call [`start_file`](Self::start_file) before anything else.
    pub(crate) fn needs_file_start(&self) -> bool {
        self.file_start_lost
    }

    /// Ids `1..=n` have schema frames in this file.
    pub(crate) fn schemas_written(&self) -> u32 {
        self.schemas_written
    }

    /// Schema frames for `interned`, which holds the call sites with ids
    /// from `schemas_written() + 1` on.
    pub(crate) fn schemas(&mut self, interned: &[Interned]) {
        for interned in interned {
            let payload = interned.encode_schema(self.schemas_written + 1);
            self.frame(FrameKind::Schema, 0, |out| out.extend_from_slice(&payload));
            self.schemas_written += 1;
        }
    }

    /// A metadata frame with `value`'s postcard encoding.
    pub(crate) fn meta<T: serde::Serialize>(&mut self, kind: FrameKind, value: &T) {
        let payload = to_payload(value);
        self.frame(kind, 0, |out| out.extend_from_slice(&payload));
    }

    /// One records frame with everything `ring` holds up to `snapshot`
    /// (compressed when asked and when that makes it smaller), after a
    /// thread frame if this file has none for the ring's thread yet. Frees
    /// the drained bytes of the ring. Does nothing if there is nothing new.
    pub(crate) fn records(&mut self, ring: &Ring, snapshot: Snapshot, compress: bool) {
        let (head, base_ticks) = ring.head();
        if snapshot.tail <= head {
            return;
        }
        let thread_id = ring.thread_id();
        if !self.announced.contains(&thread_id) {
            let name = ring.owner().and_then(|o| o.name);
            self.meta(FrameKind::Thread, &ThreadInfo { id: thread_id, name });
            self.announced.push(thread_id);
            self.announced_pending.push(thread_id);
        }
        let header = RecordsHeader { thread_id, base_ticks };
        self.framed_records = true;
        if !compress {
            self.frame(FrameKind::Records, 0, |out| {
                header.encode(out);
                ring.drain(snapshot, |bytes| out.extend_from_slice(bytes));
            });
            return;
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        header.encode(&mut raw);
        ring.drain(snapshot, |bytes| raw.extend_from_slice(bytes));
        let start = self.out.len();
        self.frame(FrameKind::Records, FLAG_LZ4, |out| compress_lz4(&raw, out));
        if self.out.len() - start - FRAME_HEADER_LEN >= raw.len() {
            // Not smaller: store it as encoded, under the same number.
            self.out.truncate(start);
            self.frames -= 1;
            self.seq = self.seq.wrapping_sub(1);
            self.frame(FrameKind::Records, 0, |out| out.extend_from_slice(&raw));
        }
        self.raw = raw;
    }

    /// The thread's ring was retired: a new thread with the same id (the
    /// ring reused) is described again.
    pub(crate) fn forget_thread(&mut self, thread_id: u32) {
        self.announced.retain(|&t| t != thread_id);
    }

    /// Ends a drain. `previous_drain_ticks` is the clock reading the
    /// previous drain took before it looked at the rings: every record
    /// older than it has been framed (but for a thread suspended between
    /// its clock read and its commit for a whole drain interval), so it is
    /// the watermark, written while readers may still hold records.
    pub(crate) fn end_drain(&mut self, previous_drain_ticks: Option<u64>) {
        if std::mem::take(&mut self.framed_records) {
            self.watermarks_owed = WATERMARKS_AFTER_RECORDS;
        }
        if let (Some(ticks), 1..) = (previous_drain_ticks, self.watermarks_owed) {
            self.watermarks_owed -= 1;
            self.meta(FrameKind::Watermark, &Watermark { ticks });
        }
    }

    /// Whether no frame waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The frames waiting for the sink.
    pub(crate) fn batch(&self) -> Batch<'_> {
        Batch { bytes: &self.out, frames: self.frames }
    }

    /// The sink accepted the batch.
    pub(crate) fn delivered(&mut self) {
        self.schemas_delivered = self.schemas_written;
        self.announced_pending.clear();
        self.starts_file = false;
        self.clear();
    }

    /// The sink lost the batch: what it described is described again
    /// before the next records that need it.
    pub(crate) fn lost(&mut self) {
        self.schemas_written = self.schemas_delivered;
        let pending = std::mem::take(&mut self.announced_pending);
        self.announced.retain(|t| !pending.contains(t));
        if std::mem::take(&mut self.starts_file) {
            self.file_start_lost = true;
        }
        self.clear();
    }

    fn clear(&mut self) {
        self.out.clear();
        self.frames = 0;
    }

    /// Appends one frame whose stored payload `fill` writes.
    fn frame(&mut self, kind: FrameKind, flags: u8, fill: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        fill(&mut self.out);
        let header = frame_header(kind, flags, self.seq, &self.out[start + FRAME_HEADER_LEN..]);
        self.out[start..start + FRAME_HEADER_LEN].copy_from_slice(&header);
        self.frames += 1;
        self.seq = self.seq.wrapping_add(1);
    }
}
