//! The writer thread: drains every producer ring, frames the records with
//! the schemas and thread descriptions they need, and writes the frames.
//!
//! It sleeps between drains (woken by the flush interval, a command, or a
//! producer whose ring passed half full), so producers' cache lines are left
//! alone between drains.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lmlog_format::frame::{compress_lz4, frame_header_with_flags, preamble, FLAG_LZ4, FRAME_HEADER_LEN};
use lmlog_format::schema::to_payload;
use lmlog_format::{ClockInfo, EndInfo, FrameKind, RecordsHeader, SessionInfo, ThreadInfo, WriterLoss};

use crate::config::Compression;
use crate::producer::{ACTIVE_RINGS, LOST_EVENTS, RING_POOL};
use crate::ring::{Ring, Snapshot};
use crate::sink::Sink;

/// Requests from application threads.
pub(crate) enum Command {
    /// Drain, write, flush the sink, then acknowledge.
    Flush(flume::Sender<()>),
    /// Drain, write, end the stream, flush, acknowledge and exit.
    Shutdown(flume::Sender<()>),
}

/// Records frames are compressed only while the writer spends less than
/// this share of its time draining (compression costs about 1.5 ns a byte).
const COMPRESS_BELOW_BUSY: f64 = 0.5;
/// How often a clock frame re-anchors ticks to wall time.
const ANCHOR_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct Writer {
    sink: Box<dyn Sink>,
    commands: flume::Receiver<Command>,
    flush_interval: Duration,
    compression: Compression,
    /// Smoothed share of wall time the writer spends draining: above
    /// [`COMPRESS_BELOW_BUSY`] compression is skipped, so producers that
    /// outrun the writer never wait for it.
    busy: f64,
    /// When the previous drain started.
    last_drain: Instant,
    service_name: Option<String>,
    resource: Vec<(String, String)>,
    /// Source and rate of the tick counter, measured before the writer
    /// started so that no event waits for the calibration.
    clock: ClockInfo,
    last_anchor: Instant,
    /// Frames waiting to be written.
    out: Vec<u8>,
    /// One records frame's payload before compression.
    raw: Vec<u8>,
    /// Frames in `out`.
    out_frames: u64,
    /// Call-site ids `1..=schemas_written` have schema frames in this file.
    schemas_written: u32,
    /// Threads with a thread frame in this file.
    announced: Vec<u32>,
    /// Scratch list of rings for one drain.
    rings: Vec<(Arc<Ring>, bool, Snapshot)>,
    loss: Option<WriterLoss>,
    lost_events_reported: u64,
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl Writer {
    pub(crate) fn new(
        sink: Box<dyn Sink>,
        clock: ClockInfo,
        commands: flume::Receiver<Command>,
        flush_interval: Duration,
        compression: Compression,
        service_name: Option<String>,
        resource: Vec<(String, String)>,
    ) -> Writer {
        Writer {
            sink,
            commands,
            flush_interval,
            compression,
            service_name: service_name.or_else(|| std::env::var("OTEL_SERVICE_NAME").ok()),
            resource,
            clock,
            last_anchor: Instant::now(),
            out: Vec::with_capacity(1 << 20),
            raw: Vec::new(),
            out_frames: 0,
            schemas_written: 0,
            announced: Vec::new(),
            rings: Vec::new(),
            loss: None,
            lost_events_reported: LOST_EVENTS.load(Ordering::Relaxed),
            busy: 0.0,
            last_drain: Instant::now(),
        }
    }

    pub(crate) fn run(mut self) {
        self.last_anchor = Instant::now();
        self.start_file();
        loop {
            std::thread::park_timeout(self.flush_interval);
            self.drain();
            while let Ok(command) = self.commands.try_recv() {
                match command {
                    Command::Flush(ack) => {
                        self.drain();
                        self.flush_sink();
                        let _ = ack.send(());
                    }
                    Command::Shutdown(ack) => {
                        self.drain();
                        self.push_meta(
                            FrameKind::End,
                            &EndInfo { reason: "shutdown".into(), unix_nanos: unix_nanos() },
                        );
                        self.write_out();
                        self.flush_sink();
                        let _ = ack.send(());
                        return;
                    }
                }
            }
        }
    }

    /// Writes the preamble, session frame, and (after a rotation) every
    /// schema and live thread, so each file decodes on its own.
    fn start_file(&mut self) {
        let clock = ClockInfo { anchor: crate::clock::anchor(), ..self.clock };
        self.out.extend_from_slice(&preamble());
        let session = SessionInfo {
            writer_version: env!("CARGO_PKG_VERSION").to_string(),
            clock,
            pid: std::process::id(),
            executable: std::env::current_exe().ok().map(|p| p.display().to_string()),
            hostname: hostname(),
            service_name: self.service_name.clone(),
            resource: self.resource.clone(),
            file_index: self.sink.file_index(),
        };
        self.push_meta(FrameKind::Session, &session);
        self.last_anchor = Instant::now();
        let written = std::mem::take(&mut self.schemas_written);
        self.write_schemas(written);
        self.announced.clear();
    }

    fn push_frame_with(&mut self, kind: FrameKind, fill: impl FnOnce(&mut Vec<u8>)) {
        self.push_frame_flagged(kind, 0, fill);
    }

    fn push_frame_flagged(&mut self, kind: FrameKind, flags: u8, fill: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        fill(&mut self.out);
        let header = frame_header_with_flags(kind, flags, &self.out[start + FRAME_HEADER_LEN..]);
        self.out[start..start + FRAME_HEADER_LEN].copy_from_slice(&header);
        self.out_frames += 1;
    }

    fn push_meta<T: serde::Serialize>(&mut self, kind: FrameKind, value: &T) {
        let payload = to_payload(value);
        self.push_frame_with(kind, |out| out.extend_from_slice(&payload));
    }

    /// Schema frames for ids `schemas_written + 1 ..= upto`.
    fn write_schemas(&mut self, upto: u32) {
        if upto <= self.schemas_written {
            return;
        }
        let payloads: Vec<Vec<u8>> = {
            let registry = crate::callsite::registry();
            registry
                .interned_range(self.schemas_written, upto)
                .iter()
                .zip(self.schemas_written + 1..)
                .map(|(interned, id)| interned.encode_schema(id))
                .collect()
        };
        for payload in payloads {
            self.push_frame_with(FrameKind::Schema, |out| out.extend_from_slice(&payload));
        }
        self.schemas_written = upto;
    }

    fn drain(&mut self) {
        let started = Instant::now();
        self.drain_rings();
        let period = started.duration_since(self.last_drain).as_secs_f64();
        self.last_drain = started;
        if period > 0.0 {
            let busy = (started.elapsed().as_secs_f64() / period).min(1.0);
            self.busy = 0.7 * self.busy + 0.3 * busy;
        }
    }

    fn drain_rings(&mut self) {
        if self.sink.wants_rotation() {
            self.rotate();
        }
        self.rings.clear();
        {
            let active = ACTIVE_RINGS.lock().unwrap_or_else(|p| p.into_inner());
            for ring in active.iter() {
                // `closed` is read before the tail: a ring seen closed has
                // no commits after this snapshot.
                let closed = ring.is_closed();
                let snapshot = ring.snapshot();
                self.rings.push((ring.clone(), closed, snapshot));
            }
        }
        // Loaded after the tails: covers every id the drained records use.
        self.write_schemas(crate::callsite::interned_count());
        if self.last_anchor.elapsed() >= ANCHOR_INTERVAL {
            self.last_anchor = Instant::now();
            self.push_meta(FrameKind::Clock, &crate::clock::anchor());
        }
        let rings = std::mem::take(&mut self.rings);
        let mut finished = Vec::new();
        for (ring, closed, snapshot) in &rings {
            let (head, head_ticks) = ring.head();
            if snapshot.tail > head {
                let thread_id = ring.thread_id();
                if !self.announced.contains(&thread_id) {
                    let name = ring.owner().and_then(|o| o.name);
                    self.push_meta(FrameKind::Thread, &ThreadInfo { id: thread_id, name });
                    self.announced.push(thread_id);
                }
                self.push_records(ring, *snapshot, RecordsHeader { thread_id, base_ticks: head_ticks });
            }
            if *closed {
                finished.push(ring.clone());
            }
        }
        self.rings = rings;
        if !finished.is_empty() {
            self.retire(&finished);
        }
        let lost = LOST_EVENTS.load(Ordering::Relaxed);
        if lost > self.lost_events_reported {
            let now = unix_nanos();
            let count = lost - self.lost_events_reported;
            self.lost_events_reported = lost;
            self.push_meta(
                FrameKind::Loss,
                &WriterLoss {
                    frames: 0,
                    bytes: 0,
                    reason: format!("{count} events emitted during thread exit or from inside an encoder were dropped"),
                    first_unix_nanos: now,
                    last_unix_nanos: now,
                },
            );
        }
        self.write_out();
    }

    /// One records frame with everything `ring` holds up to `snapshot`,
    /// compressed when that makes it smaller.
    fn push_records(&mut self, ring: &Ring, snapshot: Snapshot, header: RecordsHeader) {
        let compress = match self.compression {
            Compression::Off => false,
            Compression::Adaptive => self.busy <= COMPRESS_BELOW_BUSY,
            Compression::Always => true,
        };
        if !compress {
            self.push_frame_with(FrameKind::Records, |out| {
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
        self.push_frame_flagged(FrameKind::Records, FLAG_LZ4, |out| compress_lz4(&raw, out));
        if self.out.len() - start - FRAME_HEADER_LEN >= raw.len() {
            self.out.truncate(start);
            self.out_frames -= 1;
            self.push_frame_with(FrameKind::Records, |out| out.extend_from_slice(&raw));
        }
        self.raw = raw;
    }

    /// Moves drained rings of exited threads to the pool.
    fn retire(&mut self, finished: &[Arc<Ring>]) {
        let mut active = ACTIVE_RINGS.lock().unwrap_or_else(|p| p.into_inner());
        let mut pool = RING_POOL.lock().unwrap_or_else(|p| p.into_inner());
        for ring in finished {
            if let Some(i) = active.iter().position(|r| Arc::ptr_eq(r, ring)) {
                let done = ring.snapshot().tail == ring.head().0;
                if done {
                    let thread_id = ring.thread_id();
                    self.announced.retain(|&t| t != thread_id);
                    pool.push(active.swap_remove(i));
                }
            }
        }
    }

    fn rotate(&mut self) {
        self.push_meta(FrameKind::End, &EndInfo { reason: "rotated".into(), unix_nanos: unix_nanos() });
        self.write_out();
        if let Err(e) = self.sink.rotate() {
            self.note_failure(0, 0, format!("rotation failed: {e}"));
            return;
        }
        self.start_file();
    }

    fn write_out(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let Some(loss) = self.loss.take() {
            let mut report = Vec::new();
            lmlog_format::frame::push_frame(&mut report, FrameKind::Loss, &to_payload(&loss));
            if self.sink.write_all(&report).is_err() {
                self.loss = Some(loss);
            }
        }
        if let Err(e) = self.sink.write_all(&self.out) {
            let (frames, bytes) = (self.out_frames, self.out.len() as u64);
            self.note_failure(frames, bytes, format!("write failed: {e}"));
        }
        self.out.clear();
        self.out_frames = 0;
    }

    fn note_failure(&mut self, frames: u64, bytes: u64, reason: String) {
        let now = unix_nanos();
        match &mut self.loss {
            Some(loss) => {
                loss.frames += frames;
                loss.bytes += bytes;
                loss.last_unix_nanos = now;
            }
            None => {
                eprintln!("lmlog: {reason}; lost frames are counted in the stream");
                self.loss = Some(WriterLoss { frames, bytes, reason, first_unix_nanos: now, last_unix_nanos: now });
            }
        }
    }

    fn flush_sink(&mut self) {
        if let Err(e) = self.sink.flush() {
            self.note_failure(0, 0, format!("flush failed: {e}"));
        }
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|h| !h.is_empty())
}
