//! Synthesized lmlog streams, built frame by frame with `lmlog-format`'s
//! encoders, for the decoder's tests: [`Stream`] and [`Rec`], field
//! descriptors ([`field`], [`redacted`]), decoding helpers ([`decode`],
//! [`decode_chunked`], [`assert_valid_jsonl`]) and a small PRNG ([`Rng`]).

use lmlog_format::frame::{frame_header, preamble, push_frame, RecordHeader};
use lmlog_format::schema::to_payload;
use lmlog_format::types::FieldDesc;
use lmlog_format::varint::{push_u64, zigzag_i64};
use lmlog_format::{
    CallsiteSchemaRef, ClockAnchor, ClockInfo, ClockSource, ClockUpdate, EndInfo, FrameKind, Level, RecordsHeader,
    SessionInfo, ThreadInfo, TypeDesc, WriterLoss,
};

/// Leaks a value to get the `'static` references type descriptors need.
pub fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

/// A field descriptor (leaked).
pub fn field(name: &'static str, ty: TypeDesc) -> FieldDesc {
    FieldDesc { name, ty: leak(ty), redacted: false }
}

/// A redacted field descriptor (leaked).
pub fn redacted(name: &'static str, ty: TypeDesc) -> FieldDesc {
    FieldDesc { name, ty: leak(ty), redacted: true }
}

/// One record to put in a records frame.
#[derive(Clone, Debug)]
pub struct Rec {
    /// Call-site id (0: a drop report).
    pub id: u32,
    /// Ticks since the previous record of the frame (its base ticks for the first).
    pub delta: i64,
    /// Trace id, span id and flags, if a span was active.
    pub trace: Option<[u8; 25]>,
    /// The encoded fields.
    pub body: Vec<u8>,
}

impl Rec {
    /// A record without a trace context.
    pub fn new(id: u32, delta: i64, body: Vec<u8>) -> Rec {
        Rec { id, delta, trace: None, body }
    }
}

/// Builds a stream frame by frame and remembers where each frame is.
#[derive(Default, Clone)]
pub struct Stream {
    /// The stream so far.
    pub bytes: Vec<u8>,
    /// Sequence number of the next frame of the current file.
    pub next_seq: u32,
    /// (start, end) of every frame, in order.
    pub frames: Vec<(usize, usize)>,
}

/// Session anchor used by [`Stream::standard`]: ticks 0 = 2026-11-25T13:23:10.133324123Z.
pub const ANCHOR_NANOS: u64 = 1_795_612_990_133_324_123;

impl Stream {
    /// A stream holding just a preamble.
    pub fn new() -> Stream {
        Stream { bytes: preamble().to_vec(), next_seq: 0, frames: Vec::new() }
    }

    /// A preamble followed by a nanosecond-clock session anchored at [`ANCHOR_NANOS`].
    pub fn standard() -> Stream {
        let mut s = Stream::new();
        s.session(1e9, 0, ANCHOR_NANOS);
        s
    }

    /// Starts a new file: a preamble, and sequence numbers from 0.
    pub fn preamble(&mut self) -> &mut Self {
        self.bytes.extend_from_slice(&preamble());
        self.next_seq = 0;
        self
    }

    /// A frame of `kind` with `payload`, stored as is.
    pub fn frame(&mut self, kind: FrameKind, payload: &[u8]) -> &mut Self {
        let start = self.bytes.len();
        push_frame(&mut self.bytes, kind, self.next_seq, payload);
        self.next_seq += 1;
        self.frames.push((start, self.bytes.len()));
        self
    }

    /// A frame stored with `flags` (the payload given as stored).
    pub fn flagged_frame(&mut self, kind: FrameKind, flags: u8, stored: &[u8]) -> &mut Self {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&frame_header(kind, flags, self.next_seq, stored));
        self.next_seq += 1;
        self.bytes.extend_from_slice(stored);
        self.frames.push((start, self.bytes.len()));
        self
    }

    /// A records frame stored LZ4-compressed, as the writer does.
    pub fn compressed_records(&mut self, thread_id: u32, base_ticks: u64, recs: &[Rec]) -> &mut Self {
        let mut stored = Vec::new();
        lmlog_format::frame::compress_lz4(&records_payload(thread_id, base_ticks, recs), &mut stored);
        self.flagged_frame(FrameKind::Records, lmlog_format::frame::FLAG_LZ4, &stored)
    }

    /// A session frame whose clock runs at `ticks_per_second` and reads
    /// `ticks` at `unix_nanos`.
    pub fn session(&mut self, ticks_per_second: f64, ticks: u64, unix_nanos: u64) -> &mut Self {
        self.session_of(42, ticks_per_second, ticks, unix_nanos)
    }

    /// [`session`](Self::session) of process `pid`.
    pub fn session_of(&mut self, pid: u32, ticks_per_second: f64, ticks: u64, unix_nanos: u64) -> &mut Self {
        let info = SessionInfo {
            writer_version: "0.1.0".into(),
            clock: ClockInfo {
                source: ClockSource::MonotonicNanos,
                ticks_per_second,
                anchor: ClockAnchor { ticks, unix_nanos },
            },
            pid,
            executable: Some("/usr/bin/app".into()),
            hostname: None,
            service_name: Some("app".into()),
            resource: vec![("k".into(), "v".into())],
            file_index: 0,
        };
        self.frame(FrameKind::Session, &to_payload(&info))
    }

    /// A clock frame: a new anchor.
    pub fn clock(&mut self, ticks: u64, unix_nanos: u64) -> &mut Self {
        self.frame(FrameKind::Clock, &to_payload(&ClockAnchor { ticks, unix_nanos }))
    }

    /// A clock frame with a measured tick rate appended (lmlog 0.2 on).
    pub fn clock_rate(&mut self, ticks: u64, unix_nanos: u64, ticks_per_second: f64) -> &mut Self {
        let update =
            ClockUpdate { anchor: ClockAnchor { ticks, unix_nanos }, ticks_per_second: Some(ticks_per_second) };
        self.frame(FrameKind::Clock, &to_payload(&update))
    }

    /// A thread description.
    pub fn thread(&mut self, id: u32, name: Option<&str>) -> &mut Self {
        self.frame(FrameKind::Thread, &to_payload(&ThreadInfo { id, name: name.map(str::to_owned) }))
    }

    /// A schema frame for call site `id` (module `app`, `src/main.rs:9:5`, function `app::main`).
    pub fn schema(
        &mut self,
        id: u32,
        event_type: &str,
        level: Level,
        message: Option<&str>,
        fields: &[FieldDesc],
    ) -> &mut Self {
        let payload = CallsiteSchemaRef {
            id,
            fingerprint: 0x0123_4567_89ab_cdef ^ id as u64,
            event_type,
            level,
            message,
            module: "app",
            file: "src/main.rs",
            line: 9,
            column: 5,
            function: "app::main",
            fields,
        }
        .encode();
        self.frame(FrameKind::Schema, &payload)
    }

    /// A records frame of thread `thread_id`.
    pub fn records(&mut self, thread_id: u32, base_ticks: u64, recs: &[Rec]) -> &mut Self {
        let payload = records_payload(thread_id, base_ticks, recs);
        self.frame(FrameKind::Records, &payload)
    }

    /// A writer-loss frame.
    pub fn loss(&mut self, frames: u64, bytes: u64, reason: &str, last_unix_nanos: u64) -> &mut Self {
        let loss = WriterLoss { frames, bytes, reason: reason.into(), first_unix_nanos: 0, last_unix_nanos };
        self.frame(FrameKind::Loss, &to_payload(&loss))
    }

    /// A watermark frame: no record older than `ticks` follows.
    pub fn watermark(&mut self, ticks: u64) -> &mut Self {
        self.frame(FrameKind::Watermark, &to_payload(&lmlog_format::Watermark { ticks }))
    }

    /// An end frame (reason `shutdown`).
    pub fn end(&mut self) -> &mut Self {
        self.end_because(EndInfo::SHUTDOWN)
    }

    /// An end frame with this reason ([`EndInfo::ROTATED`]: the series goes on).
    pub fn end_because(&mut self, reason: &str) -> &mut Self {
        self.frame(FrameKind::End, &to_payload(&EndInfo { reason: reason.into(), unix_nanos: ANCHOR_NANOS }))
    }
}

/// Encodes a records frame payload.
pub fn records_payload(thread_id: u32, base_ticks: u64, recs: &[Rec]) -> Vec<u8> {
    let mut p = Vec::new();
    RecordsHeader { thread_id, base_ticks }.encode(&mut p);
    for r in recs {
        push_u64(&mut p, RecordHeader::encode(r.id, r.trace.is_some()));
        push_u64(&mut p, zigzag_i64(r.delta));
        if let Some(t) = &r.trace {
            p.extend_from_slice(t);
        }
        p.extend_from_slice(&r.body);
    }
    p
}

/// Decodes `bytes` in one go; returns the output and the summary.
pub fn decode(bytes: &[u8]) -> (String, lmlog_decode::DecodeSummary) {
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_reader(bytes, &mut out).expect("decodes");
    (String::from_utf8(out).expect("output is UTF-8"), summary)
}

/// Decodes `bytes` fed in pieces of `chunk` bytes.
pub fn decode_chunked(
    bytes: &[u8],
    chunk: usize,
) -> Result<(String, lmlog_decode::DecodeSummary), lmlog_decode::DecodeError> {
    let mut out = Vec::new();
    let mut d = lmlog_decode::StreamDecoder::new(&mut out);
    for c in bytes.chunks(chunk.max(1)) {
        d.feed(c)?;
    }
    let summary = d.finish()?;
    Ok((String::from_utf8(out).expect("output is UTF-8"), summary))
}

/// Asserts that every line is one valid JSON object.
pub fn assert_valid_jsonl(out: &str) {
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("invalid JSON ({e}): {line}"));
        assert!(v.is_object(), "{line}");
    }
    assert!(out.is_empty() || out.ends_with('\n'));
}

/// A small xorshift PRNG (its state must not be 0).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number below `n` (0 if `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
