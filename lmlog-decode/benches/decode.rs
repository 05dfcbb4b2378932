//! Decoding throughput to JSON Lines (into `io::sink()`):
//!
//! * `cache_miss`, `cache_miss_with_message`: a synthesized stream of 100k
//!   records (key: ~10-byte string, latency_us: u32, ratio: f64) in 64 KiB
//!   frames, with and without a message template.
//! * `cache_miss_long_source`: 200k records of one call site shaped like the
//!   runtime's own output (`compare` harness): a long `source`, fields key
//!   (string), shard (u64) and latency_ms (f64 in steps of 1/8), ~1 MiB
//!   frames, a thread without a name.
//!
//! Quick run: `cargo bench -p lmlog-decode --bench decode -- --quick`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lmlog_format::frame::{preamble, push_frame, RecordHeader};
use lmlog_format::schema::to_payload;
use lmlog_format::types::{FieldDesc, TypeDesc};
use lmlog_format::varint::{push_u64, zigzag_i64};
use lmlog_format::{
    CallsiteSchemaRef, ClockAnchor, ClockInfo, ClockSource, EndInfo, FrameKind, Level, RecordsHeader, SessionInfo,
    ThreadInfo,
};

const RECORDS: usize = 100_000;

static FIELDS: [FieldDesc; 3] = [
    FieldDesc { name: "key", ty: &TypeDesc::Str, redacted: false },
    FieldDesc { name: "latency_us", ty: &TypeDesc::U32, redacted: false },
    FieldDesc { name: "ratio", ty: &TypeDesc::F64, redacted: false },
];

static PEER_FIELDS: [FieldDesc; 3] = [
    FieldDesc { name: "key", ty: &TypeDesc::Str, redacted: false },
    FieldDesc { name: "shard", ty: &TypeDesc::U64, redacted: false },
    FieldDesc { name: "latency_ms", ty: &TypeDesc::F64, redacted: false },
];

/// One synthesized stream: a single call site, `records` records.
struct Workload {
    schema: CallsiteSchemaRef<'static>,
    thread_name: Option<&'static str>,
    records: usize,
    /// Payload size at which a records frame is cut.
    frame_bytes: usize,
    /// Appends the field bytes of record `i`; `x` is a fresh random number.
    body: fn(i: usize, x: u64, out: &mut Vec<u8>),
}

fn stream(w: &Workload) -> Vec<u8> {
    let mut out = preamble().to_vec();
    let session = SessionInfo {
        writer_version: "0.1.0".into(),
        clock: ClockInfo {
            source: ClockSource::Tsc,
            ticks_per_second: 2.9e9,
            anchor: ClockAnchor { ticks: 1_000_000, unix_nanos: 1_795_612_990_133_324_123 },
        },
        pid: 1,
        executable: None,
        hostname: None,
        service_name: None,
        resource: vec![],
        file_index: 0,
    };
    let mut seq = 0..;
    push_frame(&mut out, FrameKind::Session, seq.next().unwrap(), &to_payload(&session));
    let thread = ThreadInfo { id: 1, name: w.thread_name.map(str::to_owned) };
    push_frame(&mut out, FrameKind::Thread, seq.next().unwrap(), &to_payload(&thread));
    push_frame(&mut out, FrameKind::Schema, seq.next().unwrap(), &w.schema.encode());
    let mut payload = Vec::new();
    let mut ticks = 1_000_000u64;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..w.records {
        if payload.is_empty() {
            RecordsHeader { thread_id: 1, base_ticks: ticks }.encode(&mut payload);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delta = 200 + (x % 3000) as i64;
        ticks += delta as u64;
        push_u64(&mut payload, RecordHeader::encode(w.schema.id, false));
        push_u64(&mut payload, zigzag_i64(delta));
        (w.body)(i, x, &mut payload);
        if payload.len() >= w.frame_bytes || i + 1 == w.records {
            push_frame(&mut out, FrameKind::Records, seq.next().unwrap(), &payload);
            payload.clear();
        }
    }
    let end = EndInfo { reason: "shutdown".into(), unix_nanos: 1_795_612_991_000_000_000 };
    push_frame(&mut out, FrameKind::End, seq.next().unwrap(), &to_payload(&end));
    out
}

fn cache_miss(message: Option<&'static str>) -> Workload {
    Workload {
        schema: CallsiteSchemaRef {
            id: 1,
            fingerprint: 7,
            event_type: "cache_miss",
            level: Level::Info,
            message,
            module: "app::cache",
            file: "src/cache.rs",
            line: 42,
            column: 9,
            function: "app::cache::get",
            fields: &FIELDS,
        },
        thread_name: Some("worker-1"),
        records: RECORDS,
        frame_bytes: 64 << 10,
        body: |_, x, out| {
            let key = format!("user:{:05}", x % 100_000);
            push_u64(out, key.len() as u64);
            out.extend_from_slice(key.as_bytes());
            push_u64(out, x % 5000);
            out.extend_from_slice(&((x % 1000) as f64 / 7.0).to_le_bytes());
        },
    }
}

fn long_source() -> Workload {
    Workload {
        schema: CallsiteSchemaRef {
            id: 2,
            fingerprint: 11,
            event_type: "cache_miss",
            level: Level::Info,
            message: None,
            module: "compare::peers",
            file: "benches/src/bin/compare/peers.rs",
            line: 92,
            column: 9,
            function: "<compare::peers::Lmlog as compare::peers::Peer>::cache_miss",
            fields: &PEER_FIELDS,
        },
        thread_name: None,
        records: 2 * RECORDS,
        frame_bytes: 1 << 20,
        body: |i, _, out| {
            push_u64(out, 10);
            out.extend_from_slice(b"user:42:ab");
            push_u64(out, i as u64);
            out.extend_from_slice(&((i % 1024) as f64 / 8.0).to_le_bytes());
        },
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    let workloads = [
        ("cache_miss", cache_miss(None)),
        ("cache_miss_with_message", cache_miss(Some("miss for {key} after {latency_us}us"))),
        ("cache_miss_long_source", long_source()),
    ];
    for (name, workload) in workloads {
        let bytes = stream(&workload);
        let mut json = Vec::new();
        let summary = lmlog_decode::decode_reader(&bytes[..], &mut json).unwrap();
        assert_eq!(summary.events, workload.records as u64);
        assert!(summary.is_clean());
        eprintln!(
            "{name}: {} records, {} bytes in, {} bytes of JSON ({} per line)",
            workload.records,
            bytes.len(),
            json.len(),
            json.len() / workload.records
        );
        group.throughput(Throughput::Elements(workload.records as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let summary = lmlog_decode::decode_reader(black_box(&bytes[..]), std::io::sink()).unwrap();
                black_box(summary.events)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
