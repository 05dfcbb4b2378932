//! Decoding throughput: a synthesized stream of 100k `cache_miss` records
//! (key: ~10-byte string, latency_us: u32, ratio: f64) to JSON Lines.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lmlog_format::frame::{preamble, push_frame};
use lmlog_format::schema::to_payload;
use lmlog_format::types::{FieldDesc, TypeDesc};
use lmlog_format::varint::{push_u64, zigzag_i64};
use lmlog_format::{
    CallsiteSchemaRef, ClockAnchor, ClockInfo, ClockSource, EndInfo, FrameKind, Level, RecordsHeader, SessionInfo,
    ThreadInfo,
};

const RECORDS: usize = 100_000;
/// Roughly the payload size the runtime's writer batches into one frame.
const FRAME_BYTES: usize = 64 << 10;

static FIELDS: [FieldDesc; 3] = [
    FieldDesc { name: "key", ty: &TypeDesc::Str, redacted: false },
    FieldDesc { name: "latency_us", ty: &TypeDesc::U32, redacted: false },
    FieldDesc { name: "ratio", ty: &TypeDesc::F64, redacted: false },
];

fn stream(message: Option<&str>) -> Vec<u8> {
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
    push_frame(&mut out, FrameKind::Session, &to_payload(&session));
    push_frame(&mut out, FrameKind::Thread, &to_payload(&ThreadInfo { id: 1, name: Some("worker-1".into()) }));
    let schema = CallsiteSchemaRef {
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
    };
    push_frame(&mut out, FrameKind::Schema, &schema.encode());
    let mut payload = Vec::new();
    let mut ticks = 1_000_000u64;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..RECORDS {
        if payload.is_empty() {
            RecordsHeader { thread_id: 1, base_ticks: ticks }.encode(&mut payload);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delta = 200 + (x % 3000) as i64;
        ticks += delta as u64;
        push_u64(&mut payload, 1 << 1);
        push_u64(&mut payload, zigzag_i64(delta));
        let key = format!("user:{:05}", x % 100_000);
        push_u64(&mut payload, key.len() as u64);
        payload.extend_from_slice(key.as_bytes());
        push_u64(&mut payload, x % 5000);
        payload.extend_from_slice(&((x % 1000) as f64 / 7.0).to_le_bytes());
        if payload.len() >= FRAME_BYTES || i + 1 == RECORDS {
            push_frame(&mut out, FrameKind::Records, &payload);
            payload.clear();
        }
    }
    let end = EndInfo { reason: "shutdown".into(), unix_nanos: 1_795_612_991_000_000_000 };
    push_frame(&mut out, FrameKind::End, &to_payload(&end));
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(RECORDS as u64));
    for (name, message) in
        [("cache_miss", None), ("cache_miss_with_message", Some("miss for {key} after {latency_us}us"))]
    {
        let bytes = stream(message);
        let summary = lmlog_decode::decode_reader(&bytes[..], std::io::sink()).unwrap();
        assert_eq!(summary.events, RECORDS as u64);
        assert!(summary.is_clean());
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
