//! Rings → frames: the writer thread's pure half.
//!
//! The [`Framer`] turns what the writer hands it (a session header, call-site
//! schemas, drained rings, loss counts) into a batch of frames for one sink
//! write: it numbers the frames of each file, writes each schema and thread
//! description before the first record that needs it, compresses the share
//! of records frames it is told to (and times that), and owes the reader
//! watermarks after records. It touches no global state and does no I/O, so
//! it is tested in-process without `init`.
//!
//! When the sink driver reports a batch lost, [`Framer::lost`] forgets the
//! schemas and thread descriptions that batch carried, so they are written
//! again before the next record that needs them: a failed write never makes
//! later records undecodable.

use std::time::Instant;

use lmlog_format::frame::{
    compress_lz4, frame_header, preamble, RecordHeader, DROP_REPORT_ID, FLAG_LZ4, FRAME_HEADER_LEN,
};
use lmlog_format::schema::to_payload;
use lmlog_format::varint::push_u64;
use lmlog_format::{FrameKind, RecordsHeader, SessionInfo, ThreadInfo, Watermark};

use crate::callsite::Interned;
use crate::ring::{records_between, Ring, Snapshot};

/// How many drains after one that wrote records still write a watermark:
/// a record drained at drain `k` was taken before drain `k + 1` read its
/// clock, and drain `k + 2`'s watermark is that reading.
const WATERMARKS_AFTER_RECORDS: u8 = 3;

/// Frames waiting for one sink write.
#[derive(Debug)]
pub(crate) struct Batch<'a> {
    pub bytes: &'a [u8],
    pub frames: u64,
    /// Events the batch holds: records, and the drops its drop reports
    /// count (lost with the batch if the sink loses it).
    pub events: u64,
}

/// Whether [`Framer::records`] framed everything it was asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    All,
    /// The file has no room for the next chunk: write the batch, start a
    /// new file and call again.
    FileFull,
    /// The batch holds [`WRITE_AT`] bytes, or records drained from
    /// [`WRITE_AT`] bytes of rings: write it (so the rings' space can be
    /// handed back) and call again.
    BatchFull,
}

/// A batch this large is written before more records are framed, so that
/// producers get their space back while the writer goes on (records stay
/// in the ring until the sink has them). Compressed records count at their
/// size in the ring: a producer gets its space back in steps of this size
/// however well its records compress.
pub(crate) const WRITE_AT: usize = 128 << 10;

/// What compressing records frames cost, since it was last taken
/// ([`Framer::take_compression_tally`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CompressionTally {
    /// Bytes of records framed (records frames' raw payloads), compressed
    /// or not.
    pub records_bytes: u64,
    /// Of those, the bytes handed to the compressor.
    pub compressed_bytes: u64,
    /// Time spent compressing them.
    pub compress_seconds: f64,
}

/// Which records frames are compressed: a share of them, spread evenly over
/// the chunks in the order they are framed (a share of 0.4 compresses two
/// chunks in five), so a writer that can afford part of the work does part
/// of it instead of all of it or none.
#[derive(Debug, Default)]
struct CompressedShare {
    share: f64,
    /// A ring more than three quarters full is not compressed: its
    /// producer would soon wait for room.
    spare_full_rings: bool,
    /// Turns earned and not yet taken, below 1.
    credit: f64,
}

impl CompressedShare {
    /// Whether the next records frame, of `ring`, is compressed.
    fn next_is_compressed(&mut self, ring: &Ring) -> bool {
        // A producer this close to a full ring would soon wait for room:
        // its chunks are stored as encoded until the writer catches up.
        if self.spare_full_rings && ring.snapshot().tail - ring.released() > ring.capacity() / 4 * 3 {
            return false;
        }
        self.credit += self.share;
        if self.credit >= 1.0 {
            self.credit -= 1.0;
            true
        } else {
            false
        }
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    /// Frames (and possibly a preamble) waiting to be written.
    out: Vec<u8>,
    /// Frames in `out`.
    frames: u64,
    /// Events in `out` (see [`Batch::events`]).
    events: u64,
    /// Records (of call sites and drop reports) of the staging rings in `out`.
    records: u64,
    /// Bytes of the staging rings whose records are in `out`.
    drained_bytes: usize,
    /// Drops counted by the drop reports this framer made, in all.
    drops_reported: u64,
    /// The current file holds records frames (written or in `out`).
    file_has_records: bool,
    /// Scratch list of chunk ends for one ring.
    chunks: Vec<Snapshot>,
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
    /// The share of records frames to compress.
    compressed_share: CompressedShare,
    tally: CompressionTally,
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
        self.file_has_records = false;
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

    /// Compresses `share` (from 0, none, to 1, every one) of the records
    /// frames framed from now on; compressed only when that makes them
    /// smaller. Drop reports are never compressed. With
    /// `spare_full_rings`, the chunks of a ring more than three quarters
    /// full are stored as encoded whatever the share, until the writer
    /// has caught up with its producer.
    pub(crate) fn compress_share(&mut self, share: f64, spare_full_rings: bool) {
        self.compressed_share.share = share.clamp(0.0, 1.0);
        self.compressed_share.spare_full_rings = spare_full_rings;
    }

    /// What compressing cost since the last call.
    pub(crate) fn take_compression_tally(&mut self) -> CompressionTally {
        std::mem::take(&mut self.tally)
    }

    /// A metadata frame with `value`'s postcard encoding.
    pub(crate) fn meta<T: serde::Serialize>(&mut self, kind: FrameKind, value: &T) {
        let payload = to_payload(value);
        self.frame(kind, 0, |out| out.extend_from_slice(&payload));
    }

    /// Records frames with everything `ring` holds up to `snapshot`, one
    /// per chunk of about [`CHUNK`](crate::ring::CHUNK) bytes (the share
    /// [`compress_share`](Self::compress_share) asks for compressed, when
    /// that makes them smaller), after a thread frame if
    /// this file has none for the ring's thread yet; then a drop report if
    /// the ring's owner dropped events since the last one. Frees the
    /// drained bytes of the ring.
    ///
    /// `room` is what the sink's current file may still take: once this
    /// file holds records, a chunk that would not fit is left in the ring
    /// and [`Drained::FileFull`] returned, so a file overshoots its limit
    /// by at most one frame.
    // With `otel-metrics` the writer observes what it drains.
    #[cfg_attr(feature = "otel-metrics", allow(dead_code))]
    pub(crate) fn records(&mut self, ring: &Ring, snapshot: Snapshot, room: Option<u64>) -> Drained {
        self.records_observed(ring, snapshot, room, |_| {})
    }

    /// [`records`](Self::records), handing `observe` each stretch of whole
    /// records as it is framed (every drained byte exactly once).
    pub(crate) fn records_observed(
        &mut self,
        ring: &Ring,
        snapshot: Snapshot,
        room: Option<u64>,
        mut observe: impl FnMut(&[u8]),
    ) -> Drained {
        let mut head = ring.drained();
        let mut chunks = std::mem::take(&mut self.chunks);
        chunks.clear();
        ring.chunks(snapshot, &mut chunks);
        let mut drained = Drained::All;
        for &end in &chunks {
            if end.tail <= head.tail {
                continue;
            }
            let len = end.tail - head.tail;
            if self.file_has_records && room.is_some_and(|room| self.out.len() as u64 + len > room) {
                drained = Drained::FileFull;
                break;
            }
            if self.out.len().max(self.drained_bytes) >= WRITE_AT {
                drained = Drained::BatchFull;
                break;
            }
            self.announce(ring);
            let header = RecordsHeader { thread_id: ring.thread_id(), base_ticks: head.tail_ticks };
            self.framed_records = true;
            self.file_has_records = true;
            let records = records_between(head.records, end.records);
            self.events += records;
            self.records += records;
            self.drained_bytes += len as usize;
            let compress = self.compressed_share.next_is_compressed(ring);
            self.records_frame(compress, |out| {
                header.encode(out);
                ring.drain(end, |bytes| {
                    observe(bytes);
                    out.extend_from_slice(bytes)
                });
            });
            head = end;
        }
        self.chunks = chunks;
        if drained == Drained::All {
            // Drops the owner has not reported in a record yet (it reports
            // them with its next event, which may never come).
            let (reported, total) = ring.unreported_drops();
            if total > reported && ring.claim_drops(reported, total) {
                // Timestamped with the latest drop (never before the thread's
                // last drained record, so the frame's deltas stay forward).
                self.drop_report(ring, head.tail_ticks.max(ring.dropped_ticks()), total - reported);
            }
        }
        drained
    }

    /// A thread frame for `ring`'s thread unless this file has one.
    fn announce(&mut self, ring: &Ring) {
        let thread_id = ring.thread_id();
        if !self.announced.contains(&thread_id) {
            let name = ring.owner().and_then(|o| o.name);
            self.meta(FrameKind::Thread, &ThreadInfo { id: thread_id, name });
            self.announced.push(thread_id);
            self.announced_pending.push(thread_id);
        }
    }

    /// A records frame holding one drop report for `ring`'s thread, at
    /// `ticks`.
    fn drop_report(&mut self, ring: &Ring, ticks: u64, dropped: u64) {
        self.announce(ring);
        let header = RecordsHeader { thread_id: ring.thread_id(), base_ticks: ticks };
        self.events += dropped;
        self.drops_reported += dropped;
        self.frame(FrameKind::Records, 0, |out| {
            header.encode(out);
            push_u64(out, RecordHeader::encode(DROP_REPORT_ID, false));
            push_u64(out, 0); // tick delta 0 (zigzag)
            push_u64(out, dropped);
        });
    }

    /// One records frame whose raw payload `fill` writes.
    fn records_frame(&mut self, compress: bool, fill: impl FnOnce(&mut Vec<u8>)) {
        if !compress {
            let start = self.out.len();
            self.frame(FrameKind::Records, 0, fill);
            self.tally.records_bytes += (self.out.len() - start - FRAME_HEADER_LEN) as u64;
            return;
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        fill(&mut raw);
        let start = self.out.len();
        let started = Instant::now();
        self.frame(FrameKind::Records, FLAG_LZ4, |out| compress_lz4(&raw, out));
        self.tally.compress_seconds += started.elapsed().as_secs_f64();
        self.tally.records_bytes += raw.len() as u64;
        self.tally.compressed_bytes += raw.len() as u64;
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
        Batch { bytes: &self.out, frames: self.frames, events: self.events }
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
        self.events = 0;
        self.records = 0;
        self.drained_bytes = 0;
    }

    /// Records of the staging rings in the batch (the producers' drop
    /// reports among them).
    pub(crate) fn batch_records(&self) -> u64 {
        self.records
    }

    /// Drops counted by the drop reports the framer made, in all.
    pub(crate) fn drops_reported(&self) -> u64 {
        self.drops_reported
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

/// A session of a test writer: nanosecond ticks from a fixed instant.
#[cfg(test)]
pub(crate) fn test_session() -> SessionInfo {
    use lmlog_format::{ClockAnchor, ClockInfo, ClockSource};
    SessionInfo {
        writer_version: "test".into(),
        clock: ClockInfo {
            source: ClockSource::MonotonicNanos,
            ticks_per_second: 1e9,
            anchor: ClockAnchor { ticks: 0, unix_nanos: 1_795_612_990_000_000_000 },
        },
        pid: 1,
        executable: None,
        hostname: None,
        service_name: None,
        resource: Vec::new(),
        file_index: 0,
    }
}

#[cfg(test)]
mod tests {
    use lmlog_format::frame::{FrameHeader, RecordHeader, FLAG_LZ4, PREAMBLE_LEN};
    use lmlog_format::{ClockAnchor, FORMAT_VERSION};

    use super::*;
    use crate::callsite::{Callsite, CallsiteMeta};
    use crate::ring::{Cursor, Owner};
    use crate::value::Encoder;
    use crate::LogEvent;

    #[derive(crate::LogEvent)]
    #[lmlog(name = "tick", message = "tick {n}")]
    struct Tick<'a> {
        n: u32,
        note: &'a str,
    }

    static META: CallsiteMeta =
        CallsiteMeta { module: "framer_test", file: "framer.rs", line: 7, column: 9, function: || "framer_test::f" };
    static SITE: Callsite = Callsite::new(&META);

    fn interned() -> Vec<Interned> {
        vec![Interned { callsite: &SITE, schema: <Tick as LogEvent>::SCHEMA }]
    }

    fn session() -> SessionInfo {
        test_session()
    }

    /// A ring written by this thread as its producer, for id 1 (`Tick`).
    struct TestProducer {
        ring: Ring,
        cursor: Cursor,
        last_ticks: u64,
    }

    impl TestProducer {
        fn new(thread_id: u32, name: &str) -> TestProducer {
            let ring = Ring::new(1 << 20);
            let (cursor, last_ticks) = ring.adopt(Owner { thread_id, name: Some(name.into()) });
            TestProducer { ring, cursor, last_ticks }
        }

        fn tick(&mut self, n: u32, ticks: u64) {
            // SAFETY: this thread is the ring's only producer and holds one slice at a time.
            let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
            enc.write_varint(RecordHeader::encode(1, false));
            enc.write_signed(ticks.wrapping_sub(self.last_ticks) as i64);
            Tick { n, note: "same text in every record, so that it compresses" }.encode_fields(&mut enc);
            assert!(!enc.overflowed());
            let len = enc.position();
            if self.ring.commit(&mut self.cursor, len, ticks) {
                self.cursor.next_check = self.ring.next_check(&self.cursor);
            }
            self.last_ticks = ticks;
        }

        fn drain_into(&self, framer: &mut Framer, compress: bool) {
            framer.compress_share(if compress { 1.0 } else { 0.0 }, false);
            assert_eq!(framer.records(&self.ring, self.ring.snapshot(), None), Drained::All);
            self.ring.release();
        }
    }

    /// `(seq, kind, flags)` of every frame of a file.
    fn frames(file: &[u8]) -> Vec<(u32, FrameKind, u8)> {
        let mut rest = &file[PREAMBLE_LEN..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let h = FrameHeader::parse(rest, FORMAT_VERSION).expect("a frame");
            let end = FRAME_HEADER_LEN + h.len as usize;
            assert!(h.verify(&rest[FRAME_HEADER_LEN..end]), "CRC");
            out.push((h.seq.unwrap(), FrameKind::from_u8(h.kind).unwrap(), h.flags));
            rest = &rest[end..];
        }
        out
    }

    fn decode(file: &[u8]) -> (Vec<serde_json::Value>, lmlog_decode::DecodeSummary) {
        let mut out = Vec::new();
        let summary = lmlog_decode::decode_reader(file, &mut out).unwrap();
        let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, summary)
    }

    /// Takes the batch as delivered and appends it to `file`.
    fn deliver(framer: &mut Framer, file: &mut Vec<u8>) {
        file.extend_from_slice(framer.batch().bytes);
        framer.delivered();
    }

    #[test]
    fn a_file_describes_schemas_and_threads_before_their_records_and_numbers_its_frames() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(3, "worker");
        framer.start_file(&session(), &interned());
        for n in 0..4 {
            producer.tick(n, 1000 + u64::from(n));
        }
        producer.drain_into(&mut framer, false);
        producer.drain_into(&mut framer, false); // nothing new: no frame
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        let kinds: Vec<_> = frames(&file).into_iter().map(|(seq, kind, _)| (seq, kind)).collect();
        assert_eq!(
            kinds,
            [(0, FrameKind::Session), (1, FrameKind::Schema), (2, FrameKind::Thread), (3, FrameKind::Records)]
        );
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2]["message"], "tick 2");
        assert_eq!(lines[2]["thread"]["name"], "worker");
        assert_eq!(lines[2]["source"]["module"], "framer_test");
        assert_eq!(lines[3]["timestamp"], "2026-11-25T13:23:10.000001003Z");

        // The next batch goes on numbering; a new file starts from 0 and
        // describes everything again.
        producer.tick(4, 2000);
        producer.drain_into(&mut framer, false);
        assert_eq!(frames(&[preamble().as_slice(), framer.batch().bytes].concat())[0].0, 4);
        deliver(&mut framer, &mut file);
        let mut second = Vec::new();
        framer.start_file(&session(), &interned());
        producer.tick(5, 3000);
        producer.drain_into(&mut framer, false);
        deliver(&mut framer, &mut second);
        let kinds: Vec<_> = frames(&second).into_iter().map(|(seq, kind, _)| (seq, kind)).collect();
        assert_eq!(
            kinds,
            [(0, FrameKind::Session), (1, FrameKind::Schema), (2, FrameKind::Thread), (3, FrameKind::Records)]
        );
        assert_eq!(decode(&second).0[0]["fields"]["n"], 5);
        assert_eq!(decode(&file).0.len(), 5);
    }

    #[test]
    fn a_share_of_the_records_frames_is_compressed_spread_evenly_and_timed() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        // About 50 bytes a record: 6,000 of them span ten chunks.
        for n in 0..6000 {
            producer.tick(n, u64::from(n) * 10);
        }
        framer.compress_share(0.4, true);
        let snapshot = producer.ring.snapshot();
        let mut file = Vec::new();
        while framer.records(&producer.ring, snapshot, None) == Drained::BatchFull {
            deliver(&mut framer, &mut file);
        }
        deliver(&mut framer, &mut file);
        let flags: Vec<u8> =
            frames(&file).into_iter().filter(|f| f.1 == FrameKind::Records).map(|(_, _, flags)| flags).collect();
        assert_eq!(flags.len(), 10);
        // Every fifth chunk's turn comes at the second and the fifth.
        assert_eq!(flags, [0, 0, 1, 0, 1, 0, 0, 1, 0, 1].map(|compressed| compressed * FLAG_LZ4));
        let tally = framer.take_compression_tally();
        let records_bytes: usize = file.len() - PREAMBLE_LEN;
        assert!(tally.records_bytes > 0 && (tally.records_bytes as usize) > records_bytes / 2);
        assert!(
            tally.compressed_bytes * 10 > tally.records_bytes * 3 && tally.compressed_bytes * 2 < tally.records_bytes
        );
        assert!(tally.compress_seconds > 0.0);
        assert_eq!(framer.take_compression_tally(), CompressionTally::default(), "taken");
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 6000);
        assert!(lines.iter().enumerate().all(|(i, l)| l["fields"]["n"] == i as u64));
    }

    #[test]
    fn a_ring_three_quarters_full_is_stored_as_encoded_until_the_writer_catches_up() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        // About 50 bytes a record: 17,000 of them fill 80 % of the 1 MiB ring.
        for n in 0..17_000 {
            producer.tick(n, u64::from(n) * 10);
        }
        let snapshot = producer.ring.snapshot();
        let mut file = Vec::new();
        deliver(&mut framer, &mut file); // the file's start
        let mut batches = Vec::new();
        for spare_full_rings in [true, false] {
            framer.compress_share(1.0, spare_full_rings);
            let first = framer.records(&producer.ring, snapshot, None);
            assert_eq!(first, Drained::BatchFull);
            let start = file.len();
            deliver(&mut framer, &mut file);
            producer.ring.release();
            batches.push(frames(&[preamble().as_slice(), &file[start..]].concat()));
        }
        // Spared: the first batch is stored as encoded. Without, or once the
        // first batch was handed back (the ring below three quarters), it is
        // compressed.
        let flags = |frames: &[(u32, FrameKind, u8)]| -> Vec<u8> {
            frames.iter().filter(|f| f.1 == FrameKind::Records).map(|f| f.2).collect()
        };
        assert!(flags(&batches[0]).iter().all(|&f| f == 0), "{:?}", flags(&batches[0]));
        assert!(flags(&batches[1]).iter().all(|&f| f == FLAG_LZ4), "{:?}", flags(&batches[1]));
        framer.compress_share(1.0, true);
        while framer.records(&producer.ring, snapshot, None) == Drained::BatchFull {
            deliver(&mut framer, &mut file);
            producer.ring.release();
        }
        let start = file.len();
        deliver(&mut framer, &mut file);
        let last = frames(&[preamble().as_slice(), &file[start..]].concat());
        assert!(flags(&last).iter().all(|&f| f == FLAG_LZ4), "{:?}", flags(&last));
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 17_000);
    }

    #[test]
    fn compressed_records_count_at_their_size_in_the_ring_toward_a_batch() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        for n in 0..6000 {
            producer.tick(n, u64::from(n) * 10);
        }
        framer.compress_share(1.0, true);
        let snapshot = producer.ring.snapshot();
        assert_eq!(framer.records(&producer.ring, snapshot, None), Drained::BatchFull);
        // The batch is handed to the sink once it holds the records of
        // WRITE_AT bytes of ring, though it takes far fewer bytes itself.
        let drained = producer.ring.drained().tail - producer.ring.released();
        assert!(drained >= WRITE_AT as u64 && drained < (WRITE_AT + 2 * crate::ring::CHUNK as usize) as u64);
        assert!(framer.batch().bytes.len() < WRITE_AT / 2, "{}", framer.batch().bytes.len());
    }

    #[test]
    fn records_are_compressed_only_when_that_makes_them_smaller() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        for n in 0..200 {
            producer.tick(n, 10 * u64::from(n));
        }
        producer.drain_into(&mut framer, true);
        producer.tick(200, 5000);
        producer.drain_into(&mut framer, true); // one record: LZ4 would not shrink it
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        let records: Vec<_> = frames(&file).into_iter().filter(|f| f.1 == FrameKind::Records).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].2, FLAG_LZ4);
        assert_eq!(records[1].2, 0);
        assert_eq!(records[1].0, records[0].0 + 1, "the stored retry keeps its number");
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 201);
    }

    #[test]
    fn watermarks_follow_drains_with_records_then_stop() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        let mut file = Vec::new();
        framer.end_drain(None); // the first drain has no previous reading
        deliver(&mut framer, &mut file);
        producer.tick(1, 100);
        producer.drain_into(&mut framer, false);
        framer.end_drain(Some(50));
        for previous in [150, 250, 350, 450] {
            framer.end_drain(Some(previous));
        }
        deliver(&mut framer, &mut file);
        let watermarks: Vec<_> = frames(&file).into_iter().filter(|f| f.1 == FrameKind::Watermark).collect();
        assert_eq!(watermarks.len(), 3, "three drains after the last records, then none");
        let (_, summary) = decode(&file);
        assert_eq!(summary.watermarks, 3);
        assert!(summary.is_clean());
    }

    #[test]
    fn a_lost_batch_is_described_again_and_its_gap_is_explained() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        let mut file = Vec::new();
        framer.start_file(&session(), &[]);
        deliver(&mut framer, &mut file);
        // The schema of the first call site and the thread frame go out in
        // a batch the sink loses.
        framer.schemas(&interned());
        producer.tick(1, 100);
        producer.drain_into(&mut framer, false);
        let lost_frames = framer.batch().frames;
        framer.lost();
        assert_eq!(framer.schemas_written(), 0);
        // The next batch starts with the writer's loss report, then
        // describes schema and thread again.
        framer.meta(
            FrameKind::Loss,
            &lmlog_format::WriterLoss {
                frames: lost_frames,
                bytes: 0,
                reason: "test".into(),
                first_unix_nanos: 0,
                last_unix_nanos: 0,
            },
        );
        framer.schemas(&interned());
        producer.tick(2, 200);
        producer.drain_into(&mut framer, false);
        deliver(&mut framer, &mut file);
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        let types: Vec<_> = lines.iter().map(|l| l["event_type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(types, ["lmlog.writer_loss", "tick"]);
        assert_eq!(lines[1]["thread"]["name"], "main");
        assert!(summary.diagnostics[0].to_string().contains("3 frames missing"), "{:?}", summary.diagnostics);
    }

    #[test]
    fn a_lost_file_start_is_written_again() {
        let mut framer = Framer::new();
        framer.start_file(&session(), &interned());
        assert!(!framer.needs_file_start());
        framer.lost();
        assert!(framer.needs_file_start());
        framer.start_file(&session(), &interned());
        framer.delivered();
        framer.meta(FrameKind::Clock, &ClockAnchor { ticks: 1, unix_nanos: 2 });
        framer.lost();
        assert!(!framer.needs_file_start(), "only a batch that started the file restarts it");
    }

    #[test]
    fn a_retired_thread_is_described_again() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "first");
        framer.start_file(&session(), &interned());
        producer.tick(1, 100);
        producer.drain_into(&mut framer, false);
        framer.forget_thread(1);
        let mut reused = TestProducer::new(1, "second");
        reused.tick(2, 200);
        reused.drain_into(&mut framer, false);
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        let (lines, _) = decode(&file);
        assert_eq!(lines[0]["thread"]["name"], "first");
        assert_eq!(lines[1]["thread"]["name"], "second");
    }

    #[test]
    fn records_are_framed_in_chunks_and_counted() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        // About 50 bytes a record: 3,000 of them span five chunks.
        for n in 0..3000 {
            producer.tick(n, u64::from(n) * 10);
        }
        // 150 KB of records: the batch is written once it holds WRITE_AT
        // bytes, and the rest framed after.
        let snapshot = producer.ring.snapshot();
        assert_eq!(framer.records(&producer.ring, snapshot, None), Drained::BatchFull);
        let first = framer.batch().events;
        assert!(framer.batch().bytes.len() >= WRITE_AT && first < 3000);
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        assert_eq!(framer.records(&producer.ring, snapshot, None), Drained::All);
        assert_eq!(first + framer.batch().events, 3000);
        deliver(&mut framer, &mut file);
        let mut rest = &file[PREAMBLE_LEN..];
        let mut records_frames = Vec::new();
        while !rest.is_empty() {
            let h = FrameHeader::parse(rest, FORMAT_VERSION).unwrap();
            if h.kind == FrameKind::Records as u8 {
                records_frames.push(h.len as u64);
            }
            rest = &rest[FRAME_HEADER_LEN + h.len as usize..];
        }
        assert_eq!(records_frames.len() as u64, records_frames.iter().sum::<u64>().div_ceil(crate::ring::CHUNK));
        assert!(records_frames.iter().all(|&len| len <= crate::ring::CHUNK + 128), "{records_frames:?}");
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 3000);
        assert!(lines.iter().enumerate().all(|(i, l)| l["fields"]["n"] == i as u64));
        assert_eq!(lines[2999]["timestamp"], "2026-11-25T13:23:10.000029990Z");
    }

    #[test]
    fn an_observer_sees_every_drained_record_once_in_stretches_of_whole_records() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        for n in 0..3000 {
            producer.tick(n, u64::from(n) * 10);
        }
        let snapshot = producer.ring.snapshot();
        let mut observed: Vec<Vec<u8>> = Vec::new();
        let mut file = Vec::new();
        // Two calls (the batch fills in between), as the writer makes them.
        for expected in [Drained::BatchFull, Drained::All] {
            let drained =
                framer.records_observed(&producer.ring, snapshot, None, |records| observed.push(records.to_vec()));
            assert_eq!(drained, expected);
            deliver(&mut framer, &mut file);
        }
        let first_byte = RecordHeader::encode(1, false) as u8;
        assert!(observed.iter().all(|stretch| stretch[0] == first_byte), "each stretch starts with a record");
        // What was observed is exactly what the records frames hold.
        let mut framed = Vec::new();
        let mut rest = &file[PREAMBLE_LEN..];
        while !rest.is_empty() {
            let h = FrameHeader::parse(rest, FORMAT_VERSION).unwrap();
            let payload = &rest[FRAME_HEADER_LEN..FRAME_HEADER_LEN + h.len as usize];
            if h.kind == FrameKind::Records as u8 {
                let (_, header_len) = RecordsHeader::decode(payload).unwrap();
                framed.extend_from_slice(&payload[header_len..]);
            }
            rest = &rest[FRAME_HEADER_LEN + h.len as usize..];
        }
        assert_eq!(observed.concat(), framed);
        assert_eq!(framed.len() as u64, snapshot.tail);
    }

    #[test]
    fn a_full_file_takes_no_further_chunk_once_it_holds_records() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        for n in 0..3000 {
            producer.tick(n, u64::from(n));
        }
        let snapshot = producer.ring.snapshot();
        // A new file takes a first chunk whatever its room.
        assert_eq!(framer.records(&producer.ring, snapshot, Some(10)), Drained::FileFull);
        let first = framer.batch().events;
        assert!(first > 0 && first < 3000, "{first}");
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        framer.start_file(&session(), &interned());
        assert_eq!(framer.records(&producer.ring, snapshot, None), Drained::All);
        assert_eq!(first + framer.batch().events, 3000);
        deliver(&mut framer, &mut file);
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(lines.len(), 3000);
    }

    #[test]
    fn drops_nobody_reported_are_reported_by_the_drain() {
        let mut framer = Framer::new();
        let mut producer = TestProducer::new(1, "main");
        framer.start_file(&session(), &interned());
        producer.tick(1, 100);
        producer.ring.count_dropped(120);
        producer.ring.count_dropped(150);
        producer.drain_into(&mut framer, false);
        assert_eq!(framer.batch().events, 3, "one record and two drops");
        // Claimed once: a later drain (or the owner) reports nothing more.
        assert_eq!(producer.ring.unreported_drops(), (2, 2));
        producer.drain_into(&mut framer, false);
        let mut file = Vec::new();
        deliver(&mut framer, &mut file);
        let (lines, summary) = decode(&file);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        let types: Vec<_> = lines.iter().map(|l| l["event_type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(types, ["tick", "lmlog.dropped"]);
        assert_eq!(lines[1]["fields"]["count"], 2);
        assert_eq!(lines[0]["timestamp"], "2026-11-25T13:23:10.000000100Z");
        assert_eq!(lines[1]["timestamp"], "2026-11-25T13:23:10.000000150Z", "at the latest drop");
    }
}
