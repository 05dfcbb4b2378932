//! Events over time, in memory bounded by a number of intervals rather
//! than by the log's size or span.
//!
//! Events are counted per fine interval, starting at one microsecond; when
//! more than [`MAX_FINE`] intervals hold events, the interval quadruples
//! (neighbours merge). At the end the fine counts are spread over the few
//! buckets the digest shows. Once intervals have merged, the log spans more
//! than 1,024 of them, so an interval is at most 1/64 of one of 16 buckets:
//! each event lands in its bucket or, at the edge, in the one before.

use std::collections::BTreeMap;

/// Fine intervals kept at most.
const MAX_FINE: usize = 4096;
/// The first fine interval, in nanoseconds.
const FIRST_RESOLUTION: i128 = 1_000;

/// Event counts per fine interval.
#[derive(Debug)]
pub(crate) struct FineCounts {
    /// Nanoseconds per fine interval.
    resolution: i128,
    /// Events per interval, by `unix_nanos.div_euclid(resolution)`.
    counts: BTreeMap<i128, u64>,
    /// The interval of the last events, and how many there were (counted
    /// into `counts` when another interval starts).
    run: Option<Run>,
}

/// Events in one interval, one after another.
#[derive(Debug, Clone, Copy)]
struct Run {
    key: i128,
    /// The interval's first and last-plus-one nanosecond.
    start: i128,
    end: i128,
    count: u64,
}

impl Default for FineCounts {
    fn default() -> Self {
        FineCounts { resolution: FIRST_RESOLUTION, counts: BTreeMap::new(), run: None }
    }
}

impl FineCounts {
    /// Counts an event at `unix_nanos`.
    #[inline]
    pub fn add(&mut self, unix_nanos: i128) {
        if let Some(run) = &mut self.run {
            // Two compares instead of a 128-bit division, for the events
            // that follow one another within an interval.
            if (run.start..run.end).contains(&unix_nanos) {
                run.count += 1;
                return;
            }
        }
        self.close_run();
        let key = unix_nanos.div_euclid(self.resolution);
        let start = key.saturating_mul(self.resolution);
        self.run = Some(Run { key, start, end: start.saturating_add(self.resolution), count: 1 });
    }

    /// Counts the current run into its interval, and merges intervals if
    /// there are too many.
    fn close_run(&mut self) {
        let Some(run) = self.run.take() else {
            return;
        };
        *self.counts.entry(run.key).or_insert(0) += run.count;
        while self.counts.len() > MAX_FINE {
            self.resolution = self.resolution.saturating_mul(4);
            let mut merged = BTreeMap::new();
            for (k, n) in std::mem::take(&mut self.counts) {
                *merged.entry(k.div_euclid(4)).or_insert(0) += n;
            }
            self.counts = merged;
        }
    }

    /// The counts (the current run's too) in `buckets` equal intervals from `first` to `last`
    /// (both included; one bucket if they are equal), and the length of a
    /// bucket in nanoseconds.
    pub fn buckets(&self, first: i128, last: i128, buckets: usize) -> (Vec<u64>, u64) {
        let span = (last - first).max(0) + 1;
        let n = if span == 1 { 1 } else { buckets.max(1) };
        let width = (span + n as i128 - 1) / n as i128;
        let mut out = vec![0u64; n];
        for (&key, &count) in self.counts.iter().chain(self.run.as_ref().map(|r| (&r.key, &r.count))) {
            let start = key.saturating_mul(self.resolution).max(first);
            let i = ((start - first) / width).clamp(0, n as i128 - 1) as usize;
            out[i] += count;
        }
        (out, u64::try_from(width).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_buckets() {
        let mut c = FineCounts::default();
        let base = 1_795_612_990_000_000_000i128;
        // 100 events in the first second, 1 in the last, out of order too.
        for i in 0..100 {
            c.add(base + i * 1_000_000);
        }
        c.add(base + 15_999_999_999);
        c.add(base + 50);
        let (counts, width) = c.buckets(base, base + 15_999_999_999, 16);
        assert_eq!(width, 1_000_000_000);
        assert_eq!(counts[0], 101);
        assert_eq!(counts[15], 1);
        assert_eq!(counts.iter().sum::<u64>(), 102);
    }

    #[test]
    fn memory_stays_bounded_over_a_long_span() {
        let mut c = FineCounts::default();
        // One event per second for a day: 86,400 distinct microseconds.
        for s in 0..86_400i128 {
            c.add(s * 1_000_000_000);
        }
        c.close_run();
        assert!(c.counts.len() <= MAX_FINE);
        let (counts, width) = c.buckets(0, 86_399_000_000_000, 16);
        assert_eq!(counts.iter().sum::<u64>(), 86_400);
        assert_eq!(width, 5_399_937_500_001);
        // Equal buckets of the span: every bucket holds about 5,400 events.
        assert!(counts.iter().all(|&n| (5_300..=5_500).contains(&n)), "{counts:?}");
    }

    #[test]
    fn one_instant_is_one_bucket() {
        let mut c = FineCounts::default();
        c.add(-5);
        c.add(-5);
        assert_eq!(c.buckets(-5, -5, 16), (vec![2], 1));
    }
}
