//! How much of the records the writer compresses under
//! [`Compression::Adaptive`](crate::Compression::Adaptive): as large a share
//! of the records frames as keeps the writer's busy time at
//! [`BUSY_TARGET`] of the wall time, so producers that outrun it never wait
//! for compression, and everything when it has the time.
//!
//! Pure: the writer hands it each drain's timings ([`DrainCost`]), it
//! answers the share of the next drain's records frames to compress (the
//! framer spreads them evenly over the chunks).

use crate::framer::CompressionTally;

/// The share of wall time the writer may spend draining, compression
/// included. Above it the writer compresses fewer records frames; below
/// it, more. The rest is the writer's margin for a burst or a slice of
/// its core taken by another thread before producers would wait (and a
/// ring three quarters full is not compressed at all: the framer's guard).
/// Measured in `compare`'s saturated rows on 2 shared cores: 0.5 left
/// 21–23 bytes an event (most records stored as encoded), 0.8 16–20; 0.9
/// and 1.0 compressed more (13–17) but slowed producers in some runs.
pub(crate) const BUSY_TARGET: f64 = 0.8;

/// What compressing a byte is taken to cost before the writer has measured
/// it (LZ4 on this project's records: 0.8–1.5 ns a byte).
const FIRST_NANOS_PER_BYTE: f64 = 1.5;

/// After a drain that could afford more compression, the share rises by
/// at most this much (down, it goes at once): four drains with time to
/// spare take it from nothing back to everything.
const RECOVERY: f64 = 0.25;

/// One drain as the writer timed it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DrainCost {
    /// Wall time from the previous drain's start to this drain's start.
    pub period_seconds: f64,
    /// Wall time this drain took, compression included.
    pub spent_seconds: f64,
    /// What its records frames were and what compressing them cost.
    pub tally: CompressionTally,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct CompressBudget {
    /// The share of records frames to compress, from 0 to 1.
    share: f64,
    /// Smoothed cost of compressing one byte, measured.
    nanos_per_byte: f64,
}

impl Default for CompressBudget {
    fn default() -> CompressBudget {
        CompressBudget { share: 1.0, nanos_per_byte: FIRST_NANOS_PER_BYTE }
    }
}

impl CompressBudget {
    /// The share of records frames to compress now.
    pub(crate) fn share(&self) -> f64 {
        self.share
    }

    /// Takes in a drain's cost; returns the share of the next drain's
    /// records frames to compress.
    pub(crate) fn observe(&mut self, drain: DrainCost) -> f64 {
        let DrainCost { period_seconds, spent_seconds, tally } = drain;
        if tally.compressed_bytes > 0 {
            let measured = tally.compress_seconds * 1e9 / tally.compressed_bytes as f64;
            self.nanos_per_byte = 0.7 * self.nanos_per_byte + 0.3 * measured;
        }
        if tally.records_bytes == 0 || period_seconds <= 0.0 {
            // Nothing drained: the writer had the time.
            self.share = (self.share + RECOVERY).min(1.0);
            return self.share;
        }
        // The share of the wall time the drain took without compressing,
        // and what compressing every records frame would add to it.
        let base = ((spent_seconds - tally.compress_seconds) / period_seconds).max(0.0);
        let all = self.nanos_per_byte * 1e-9 * tally.records_bytes as f64 / period_seconds;
        let affordable = ((BUSY_TARGET - base) / all).clamp(0.0, 1.0);
        self.share = affordable.min(self.share + RECOVERY);
        self.share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drain of `bytes` bytes every `period` seconds that takes `base`
    /// nanoseconds a byte without compressing and `compress` more for each
    /// byte compressed, at the budget's current share.
    fn drain(budget: &CompressBudget, bytes: u64, period: f64, base: f64, compress: f64) -> DrainCost {
        let compressed = (bytes as f64 * budget.share()) as u64;
        let compress_seconds = compressed as f64 * compress * 1e-9;
        DrainCost {
            period_seconds: period,
            spent_seconds: bytes as f64 * base * 1e-9 + compress_seconds,
            tally: CompressionTally { records_bytes: bytes, compressed_bytes: compressed, compress_seconds },
        }
    }

    #[test]
    fn a_writer_with_time_to_spare_compresses_everything() {
        let mut budget = CompressBudget::default();
        // 100 KiB every 100 ms.
        for _ in 0..20 {
            budget.observe(drain(&budget, 100 << 10, 0.1, 0.3, 1.0));
        }
        assert_eq!(budget.share(), 1.0);
        budget.observe(DrainCost { period_seconds: 0.1, ..DrainCost::default() });
        assert_eq!(budget.share(), 1.0);
    }

    #[test]
    fn a_saturated_writer_settles_on_the_share_that_keeps_it_at_the_target() {
        let mut budget = CompressBudget::default();
        // 512 KiB every 524 µs (1 GB/s): 0.3 ns a byte busies the writer
        // for 30 % of the time, and compressing at 1 ns a byte adds the
        // share compressed: what is left of the target is that share.
        let (bytes, period, base, compress) = (512 << 10, 512e-6 * 1.024, 0.3, 1.0);
        for _ in 0..100 {
            budget.observe(drain(&budget, bytes, period, base, compress));
        }
        let share = budget.share();
        assert!((share - (BUSY_TARGET - 0.3)).abs() < 0.02, "{share}");
        let last = drain(&budget, bytes, period, base, compress);
        let busy = last.spent_seconds / last.period_seconds;
        assert!((busy - BUSY_TARGET).abs() < 0.02, "{busy}");
    }

    #[test]
    fn a_writer_out_of_time_sheds_compression_at_once_and_takes_it_back_gradually() {
        let mut budget = CompressBudget::default();
        // Without compressing, the drain takes more than the target.
        budget.observe(drain(&budget, 512 << 10, 0.0005, 1.2, 1.0));
        assert_eq!(budget.share(), 0.0);
        // Then the load falls: the share climbs back over four drains.
        for expected in [0.25, 0.5, 0.75, 1.0, 1.0] {
            budget.observe(drain(&budget, 4 << 10, 0.1, 0.3, 1.0));
            assert_eq!(budget.share(), expected);
        }
        // A drain that drained nothing counts as one with time to spare.
        budget.observe(drain(&budget, 512 << 10, 0.0005, 1.2, 1.0));
        budget.observe(DrainCost { period_seconds: 0.1, ..DrainCost::default() });
        assert_eq!(budget.share(), 0.25);
    }

    #[test]
    fn the_cost_of_compressing_is_learned_from_what_was_compressed() {
        let mut budget = CompressBudget::default();
        for _ in 0..50 {
            budget.observe(drain(&budget, 64 << 10, 0.01, 0.3, 0.5));
        }
        assert!((budget.nanos_per_byte - 0.5).abs() < 0.01, "{}", budget.nanos_per_byte);
    }
}
