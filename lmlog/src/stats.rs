//! Runtime statistics, [`stats`](crate::stats): counters the writer thread
//! adds up at each drain and publishes, read by any thread without a lock.
//! Producers write none of them on their hot path: what they count (events
//! sampling turned away, drop reports, time blocked) sits in tables only
//! their own thread writes, which the writer reads.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the runtime did so far; see [`stats`](crate::stats).
///
/// Counts cover the running runtime (or the last one, after its
/// [`Guard`](crate::Guard) was dropped) from its [`init`](crate::init),
/// as of the writer's latest drain: after [`flush`](crate::flush)
/// returns, every event emitted before it by the calling thread (and by
/// threads that were done) is counted, and, while the sink takes every
/// batch, `written + sampled_out + dropped == emitted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Events that reached an enabled call site, kept or not: the sum of
    /// `written`, `sampled_out` and `dropped` (each event is counted where
    /// its fate was decided, without a counter on the calling thread's
    /// path).
    pub emitted: u64,
    /// Events the writer handed to the sink (including those held in
    /// memory for it while it fails, see `held_events`).
    pub written: u64,
    /// Events sampling turned away: a call site's `sample:` or
    /// `rate_limit:`, or the process-wide rules of
    /// [`Config`](crate::Config) (the `lmlog.sampled_out` counts).
    pub sampled_out: u64,
    /// Events lost and counted in the log: not staged (a full staging
    /// buffer under `Overflow::Drop`, an event larger than the buffer, an
    /// event logged during thread teardown or from inside an encoder) or
    /// lost by a failing sink (then also counted in `written` when they
    /// were held first).
    pub dropped: u64,
    /// Bytes the writer handed to the sink.
    pub bytes_written: u64,
    /// Sink calls that failed (returned an error or panicked).
    pub sink_errors: u64,
    /// Events held in memory while the sink fails
    /// ([`SinkStatus::spilled_events`](crate::SinkStatus::spilled_events)).
    pub held_events: u64,
    /// Nanoseconds producer threads spent waiting for room in their
    /// staging buffer (`Overflow::Block`), all threads together.
    pub blocked_nanos: u64,
    /// Share of wall time the writer spends draining, in thousandths
    /// (smoothed over the last drains; above 500 it stops compressing).
    pub writer_busy_permille: u64,
    /// The most bytes staged (committed, not yet handed to the sink) at
    /// the start of a drain, all threads together.
    pub staging_high_water_bytes: u64,
}

/// Where the writer publishes [`Stats`]: one atomic per field.
#[derive(Debug)]
pub(crate) struct StatsCounters {
    written: AtomicU64,
    sampled_out: AtomicU64,
    dropped: AtomicU64,
    bytes_written: AtomicU64,
    blocked_nanos: AtomicU64,
    writer_busy_permille: AtomicU64,
    staging_high_water_bytes: AtomicU64,
}

impl StatsCounters {
    pub(crate) const fn new() -> StatsCounters {
        StatsCounters {
            written: AtomicU64::new(0),
            sampled_out: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            blocked_nanos: AtomicU64::new(0),
            writer_busy_permille: AtomicU64::new(0),
            staging_high_water_bytes: AtomicU64::new(0),
        }
    }

    /// Stores `stats`' writer-side fields (by the one writer thread; the
    /// sink's fields come from [`SinkStatus`](crate::SinkStatus)).
    pub(crate) fn publish(&self, stats: &Stats) {
        let store = |counter: &AtomicU64, value| counter.store(value, Ordering::Relaxed);
        store(&self.written, stats.written);
        store(&self.sampled_out, stats.sampled_out);
        store(&self.dropped, stats.dropped);
        store(&self.bytes_written, stats.bytes_written);
        store(&self.blocked_nanos, stats.blocked_nanos);
        store(&self.writer_busy_permille, stats.writer_busy_permille);
        store(&self.staging_high_water_bytes, stats.staging_high_water_bytes);
    }

    /// The published counters, with the sink's failed calls and held and
    /// lost events folded in.
    pub(crate) fn read(&self, sink: &crate::SinkStatus) -> Stats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut stats = Stats {
            emitted: 0,
            written: load(&self.written),
            sampled_out: load(&self.sampled_out),
            dropped: load(&self.dropped) + sink.lost_events,
            bytes_written: load(&self.bytes_written),
            sink_errors: sink.failed_writes,
            held_events: sink.spilled_events,
            blocked_nanos: load(&self.blocked_nanos),
            writer_busy_permille: load(&self.writer_busy_permille),
            staging_high_water_bytes: load(&self.staging_high_water_bytes),
        };
        stats.emitted = stats.written + stats.sampled_out + stats.dropped;
        stats
    }
}
