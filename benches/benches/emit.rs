//! The emit hot path: a 3-field `cache_miss` event, the same inside an
//! operation (its records carry the operation's ids), an 8-field derived
//! struct, and a call below the active level. The writer drains into
//! `io::sink()` so only the producer's cost is measured.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lmlog::lm_event;
use lmlog_benches::Order;

fn emit(c: &mut Criterion) {
    let _guard = lmlog::init(lmlog::Config::new().sink(lmlog::WriteSink(std::io::sink())).filter("info")).unwrap();
    let mut group = c.benchmark_group("emit");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u32;
    group.bench_function("cache_miss_3_fields", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            lm_event!(info, "cache_miss", key = "user:7:abc", latency_us = i, ratio = 0.25f64);
        })
    });
    let operation = lmlog::lm_operation!("bench");
    group.bench_function("cache_miss_3_fields_in_operation", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            lm_event!(info, "cache_miss", key = "user:7:abc", latency_us = i, ratio = 0.25f64);
        })
    });
    drop(operation);
    group.bench_function("derived_8_fields", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            lm_event!(Order {
                id: u64::from(i),
                customer: "acme-corp",
                amount: 99.5,
                items: 3,
                express: true,
                region: "eu-north",
                discount: Some(0.1),
                retries: -1,
            });
        })
    });
    group.bench_function("disabled_debug", |b| {
        b.iter(|| {
            lm_event!(debug, "verbose", n = 1u8);
        })
    });
    group.finish();
}

criterion_group!(benches, emit);
criterion_main!(benches);
