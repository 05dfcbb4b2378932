//! What the sink driver publishes about the sink, for
//! [`sink_status`](crate::sink_status): plain data, written by the writer
//! thread, read by any thread without a lock.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

/// The state of the writer's circuit breaker around the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BreakerState {
    /// The writer calls the sink: it works, or has failed fewer than three
    /// times in a row (then the writer retries at every drain, and holds
    /// what it could not write until then).
    #[default]
    Closed,
    /// The sink failed three times in a row: the writer leaves it alone
    /// for a back-off (10 ms, doubling after each failed trial, at most
    /// 5 s), holding events in memory meanwhile.
    Open,
    /// The back-off is over and a trial write is under way; it closes the
    /// breaker if it succeeds, opens it again for a longer back-off if not.
    HalfOpen,
}

/// The writer's view of its sink; see [`sink_status`](crate::sink_status).
///
/// The counters cover the running runtime (or the last one, after its
/// [`Guard`](crate::Guard) was dropped), from its [`init`](crate::init).
/// Each field is read on its own: a snapshot taken while the writer works
/// may mix two moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SinkStatus {
    /// The circuit breaker's state.
    pub breaker: BreakerState,
    /// Sink calls that failed since the last one that succeeded.
    pub consecutive_failures: u32,
    /// Sink calls that failed (returned an error or panicked).
    pub failed_writes: u64,
    /// Bytes of frames held in memory (the spill buffer) until the sink
    /// takes them.
    pub spilled_bytes: u64,
    /// Events in the frames held in memory.
    pub spilled_events: u64,
    /// Events lost: dropped because the spill buffer was full (or off), or
    /// still held when the runtime shut down with the sink failing.
    pub lost_events: u64,
    /// Frames lost, as [`lost_events`](Self::lost_events).
    pub lost_frames: u64,
}

/// Where the sink driver publishes a [`SinkStatus`]: one atomic per field.
#[derive(Debug)]
pub(crate) struct SinkHealth {
    breaker: AtomicU8,
    consecutive_failures: AtomicU32,
    failed_writes: AtomicU64,
    spilled_bytes: AtomicU64,
    spilled_events: AtomicU64,
    lost_events: AtomicU64,
    lost_frames: AtomicU64,
}

impl SinkHealth {
    pub(crate) const fn new() -> SinkHealth {
        SinkHealth {
            breaker: AtomicU8::new(0),
            consecutive_failures: AtomicU32::new(0),
            failed_writes: AtomicU64::new(0),
            spilled_bytes: AtomicU64::new(0),
            spilled_events: AtomicU64::new(0),
            lost_events: AtomicU64::new(0),
            lost_frames: AtomicU64::new(0),
        }
    }

    /// Stores `status` (by the one writer thread).
    pub(crate) fn publish(&self, status: &SinkStatus) {
        self.breaker.store(breaker_code(status.breaker), Ordering::Relaxed);
        self.consecutive_failures.store(status.consecutive_failures, Ordering::Relaxed);
        self.failed_writes.store(status.failed_writes, Ordering::Relaxed);
        self.spilled_bytes.store(status.spilled_bytes, Ordering::Relaxed);
        self.spilled_events.store(status.spilled_events, Ordering::Relaxed);
        self.lost_events.store(status.lost_events, Ordering::Relaxed);
        self.lost_frames.store(status.lost_frames, Ordering::Relaxed);
    }

    /// Stores the breaker's state alone (a trial starts or ends).
    pub(crate) fn publish_breaker(&self, state: BreakerState) {
        self.breaker.store(breaker_code(state), Ordering::Relaxed);
    }

    /// The last published status.
    pub(crate) fn read(&self) -> SinkStatus {
        let breaker = match self.breaker.load(Ordering::Relaxed) {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        };
        SinkStatus {
            breaker,
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            failed_writes: self.failed_writes.load(Ordering::Relaxed),
            spilled_bytes: self.spilled_bytes.load(Ordering::Relaxed),
            spilled_events: self.spilled_events.load(Ordering::Relaxed),
            lost_events: self.lost_events.load(Ordering::Relaxed),
            lost_frames: self.lost_frames.load(Ordering::Relaxed),
        }
    }
}

fn breaker_code(state: BreakerState) -> u8 {
    match state {
        BreakerState::Closed => 0,
        BreakerState::Open => 1,
        BreakerState::HalfOpen => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_status_reads_back() {
        let health = SinkHealth::new();
        assert_eq!(health.read(), SinkStatus::default());
        for breaker in [BreakerState::Open, BreakerState::HalfOpen, BreakerState::Closed] {
            let status = SinkStatus {
                breaker,
                consecutive_failures: 3,
                failed_writes: 7,
                spilled_bytes: 1 << 20,
                spilled_events: 5000,
                lost_events: 12,
                lost_frames: 2,
            };
            health.publish(&status);
            assert_eq!(health.read(), status);
        }
    }
}
