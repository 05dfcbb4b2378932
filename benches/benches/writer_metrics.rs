//! The writer's cost per event with the `otel-metrics` feature: like
//! `pipeline`'s `writer_flush` (a batch below the half-full mark emitted
//! untimed, only the `flush()` that drains, frames and writes it timed), for
//! an event without metric fields and one with a `#[lmlog(metric)]` field.
//!
//! Three configurations, each its own run (the meter provider must be in
//! place before `init`, which a process does once):
//!
//! - `cargo bench -p lmlog-benches --bench writer_metrics`: the feature off;
//! - `... --features otel-metrics`: on, no meter provider (the API's no-op);
//! - `LMLOG_BENCH_METER=sdk cargo bench ... --features otel-metrics`: on,
//!   with the SDK's meter provider (a periodic reader that exports nowhere
//!   during the run).
//!
//! Each configuration has two groups: `writer_flush_*`, the wall time of the
//! timed flushes (what a producer waiting for them sees, thread wake-ups
//! included), and `writer_cpu_*`, the writer thread's own CPU time over
//! the same flushes (its per-thread CPU clock), which other processes on
//! a busy machine disturb far less.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lmlog::{lm_event, Config, LogEvent, Overflow, WriteSink};

/// ~230 KB of `cache_miss` per batch: below half the ring, so only the
/// timed `flush()` drains.
const DRAIN_EVENTS: u64 = 10_000;

/// A request's end with its duration as a metric.
#[derive(LogEvent)]
#[lmlog(name = "request_done", level = "info")]
struct RequestDone<'a> {
    route: &'a str,
    status: u16,
    #[lmlog(metric = "ms")]
    duration_ms: f64,
}

/// What the run records through: the configuration's name, and the SDK
/// provider to keep alive.
fn meter() -> (&'static str, Option<Box<dyn std::any::Any>>) {
    #[cfg(feature = "otel-metrics")]
    {
        if std::env::var("LMLOG_BENCH_METER").as_deref() == Ok("sdk") {
            use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
            let reader = PeriodicReader::builder(InMemoryMetricExporter::default())
                .with_interval(Duration::from_secs(3600))
                .build();
            let provider = SdkMeterProvider::builder().with_reader(reader).build();
            opentelemetry::global::set_meter_provider(provider.clone());
            return ("metrics_sdk", Some(Box::new(provider)));
        }
        ("metrics_noop", None)
    }
    #[cfg(not(feature = "otel-metrics"))]
    ("metrics_off", None)
}

/// The CPU time `clock` (a thread's CPU clock) has counted.
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "the writer's CPU clock");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The CPU-time clock of the thread named `lmlog-writer` (Linux: the clock
/// id of a thread of this process is made from its task id).
fn writer_cpu_clock() -> libc::clockid_t {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    let tid: libc::pid_t = tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            (comm.trim() == "lmlog-writer").then(|| task.file_name().to_str()?.parse().ok()).flatten()
        })
        .next()
        .expect("the writer thread");
    // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) in the kernel's posix-timers.h.
    (!tid << 3) | 6
}

/// Emits `iters` batches, each untimed, and returns the time their flushes
/// took: wall time, or the writer's CPU time when `writer_cpu` is its clock.
fn timed_flushes(iters: u64, writer_cpu: Option<libc::clockid_t>, emit: &mut impl FnMut(u64)) -> Duration {
    let mut flushing = Duration::ZERO;
    for _ in 0..iters {
        for i in 0..DRAIN_EVENTS {
            emit(i);
        }
        let (wall, cpu) = (Instant::now(), writer_cpu.map(cpu_time));
        lmlog::flush();
        flushing += match (writer_cpu, cpu) {
            (Some(clock), Some(start)) => cpu_time(clock) - start,
            _ => wall.elapsed(),
        };
    }
    flushing
}

fn writer_metrics(c: &mut Criterion) {
    let (configuration, _provider) = meter();
    let _guard = lmlog::init(
        Config::new()
            .sink(WriteSink(std::io::sink()))
            .filter("info")
            .env_filter(false)
            .overflow(Overflow::Block)
            .flush_interval(Duration::from_secs(3600)),
    )
    .unwrap();

    lmlog::flush();
    for (kind, clock) in [("flush", None), ("cpu", Some(writer_cpu_clock()))] {
        let mut group = c.benchmark_group(format!("writer_{kind}_{configuration}"));
        group.throughput(Throughput::Elements(DRAIN_EVENTS));
        group.bench_function("cache_miss_3_fields", |b| {
            b.iter_custom(|iters| {
                timed_flushes(iters, clock, &mut |i| {
                    lm_event!(
                        info,
                        "cache_miss",
                        key = "user:7:abc",
                        latency_us = 130 + (i % 1000) as u32,
                        ratio = 0.25f64
                    )
                })
            })
        });
        group.bench_function("request_done_1_metric", |b| {
            b.iter_custom(|iters| {
                timed_flushes(iters, clock, &mut |i| {
                    lm_event!(RequestDone { route: "/orders", status: 200, duration_ms: (i % 500) as f64 * 0.5 })
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, writer_metrics);
criterion_main!(benches);
