//! The staging buffer and the writer, with a real runtime writing to
//! `io::sink()`:
//!
//! - `emit_drain_end_to_end`: the producer's cost while its ring fills, wakes
//!   the writer at half full and (with `Overflow::Block`) waits for room;
//!   each batch emits enough events to cycle the ring a few times, then
//!   flushes, so the time covers every event emitted, drained and written.
//! - `writer_flush`: the writer thread alone. A batch that stays below the
//!   half-full mark is emitted untimed; only the `flush()` that drains,
//!   frames and writes it is timed. This includes one wake-up of the writer
//!   thread per batch.
//!
//! `emit.rs` times single calls; these time whole batches, so they also catch
//! regressions in waking the writer, waiting for room, draining and framing.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lmlog::{lm_event, Config, Overflow, WriteSink};

/// Staging buffer per thread (the default).
const RING_BYTES: usize = 1 << 20;
/// About 23 bytes per record: ~2.3 MB per batch, the ring cycles ~2.2 times.
const FILL_EVENTS: u64 = 100_000;
/// ~230 KB per batch: below half the ring, so the writer is not woken early.
const DRAIN_EVENTS: u64 = 10_000;

/// Emits `n` 3-field `cache_miss` events (`latency_us` stays a 2-byte varint).
fn emit_batch(n: u64) {
    for i in 0..n {
        lm_event!(info, "cache_miss", key = "user:7:abc", latency_us = 130 + (i % 1000) as u32, ratio = 0.25f64);
    }
}

/// One runtime for the whole run: `init` fails while a guard is alive, and
/// each thread keeps the ring it got first, so both benchmarks share it.
fn pipeline(c: &mut Criterion) {
    let _guard = lmlog::init(
        Config::new()
            .sink(WriteSink(std::io::sink()))
            .filter("info")
            .env_filter(false)
            .buffer_capacity(RING_BYTES)
            .overflow(Overflow::Block)
            // Only `flush()` and the half-full wake-up drain, never a timer
            // in the middle of a measured batch.
            .flush_interval(Duration::from_secs(3600)),
    )
    .unwrap();

    let mut group = c.benchmark_group("staging_buffer");
    group.throughput(Throughput::Elements(FILL_EVENTS));
    group.bench_function("emit_drain_end_to_end", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                emit_batch(FILL_EVENTS);
                lmlog::flush();
            }
            start.elapsed()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("writer");
    group.throughput(Throughput::Elements(DRAIN_EVENTS));
    group.bench_function("writer_flush", |b| {
        b.iter_custom(|iters| {
            let mut flushing = Duration::ZERO;
            for _ in 0..iters {
                emit_batch(DRAIN_EVENTS);
                let start = Instant::now();
                lmlog::flush();
                flushing += start.elapsed();
            }
            flushing
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
