//! The encode step alone: `LogEvent::encode_fields` and `LogValue::encode`
//! writing into a plain slice through the public `Encoder`, with no ring, no
//! clock read and no call-site check. `emit.rs` measures the whole call; this
//! isolates the part that grows with the fields, so a regression in the
//! encoder or in derive-generated code shows up here without the noise of the
//! rest of the hot path. Each case first asserts its encoded size, so the
//! benchmark fails if the encoding silently changes.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use lmlog::{Encoder, LogEvent, LogValue};
use lmlog_benches::Order;

#[derive(LogEvent)]
#[lmlog(name = "cache_miss", level = "info")]
struct CacheMiss<'a> {
    key: &'a str,
    latency_us: u32,
    ratio: f64,
}

/// Checks once that `encode` writes exactly `expected` bytes, then times it.
/// The output slice goes through `black_box` so its length is unknown to the
/// optimiser, as the ring's free space is in the real hot path.
fn bench_encode(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    expected: usize,
    encode: impl Fn(&mut Encoder<'_>),
) {
    let mut buf = vec![0u8; 4096];
    let mut enc = Encoder::new(&mut buf);
    encode(&mut enc);
    assert!(!enc.overflowed(), "{name}: overflowed");
    assert_eq!(enc.position(), expected, "{name}: encoded size changed");
    group.throughput(Throughput::Bytes(expected as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut enc = Encoder::new(black_box(&mut buf[..]));
            encode(&mut enc);
            black_box(enc.written());
        })
    });
}

fn events(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_event");
    // 11 (len + "user:7:abc") + 2 (varint 130) + 8 (f64)
    let cache_miss = CacheMiss { key: "user:7:abc", latency_us: 130, ratio: 0.25 };
    bench_encode(&mut group, "cache_miss_3_fields", 21, |enc| black_box(&cache_miss).encode_fields(enc));
    // 3 (varint 123456) + 10 + 8 + 1 + 1 + 9 + 5 (Some + f32) + 1 (zigzag -1)
    let order = Order {
        id: 123_456,
        customer: "acme-corp",
        amount: 99.5,
        items: 3,
        express: true,
        region: "eu-north",
        discount: Some(0.1),
        retries: -1,
    };
    bench_encode(&mut group, "order_8_fields", 38, |enc| black_box(&order).encode_fields(enc));
    group.finish();
}

fn values(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_value");
    fn value<T: LogValue>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, expected: usize, v: T) {
        bench_encode(group, name, expected, |enc| black_box(&v).encode(enc));
    }
    value(&mut group, "u32_varint_1B", 1, 7u32);
    value(&mut group, "u64_varint_10B", 10, u64::MAX);
    value(&mut group, "i64_zigzag_3B", 3, -1_000_000i64);
    value(&mut group, "f64", 8, 0.25f64);
    value(&mut group, "str_10B", 11, "user:7:abc");
    value(&mut group, "str_1KiB", 2 + 1024, "x".repeat(1024).as_str());
    value(&mut group, "option_some_u32", 3, Some(130u32));
    value(&mut group, "option_none_u32", 1, None::<u32>);
    group.finish();
}

criterion_group!(benches, events, values);
criterion_main!(benches);
