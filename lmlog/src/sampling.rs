//! Per-call-site sampling (`sample: 0.1`) and rate limits (`rate_limit:
//! 100`), and the counts of the events they turn away.
//!
//! The policy is a constant of the event type ([`Sampling`], the
//! `LogEvent::SAMPLING` the macros write only for sites that ask), so a
//! call site without options compiles to what it did before sampling
//! existed. A site with options decides on the calling thread:
//!
//! - `sample`: 32 bits of a per-thread wyrand generator, compared with the
//!   threshold `p · 2³²` the macro computed. No shared memory is touched.
//! - `rate_limit`: a window word in the [`Callsite`] (window number and
//!   events kept in it). A rejection only loads it; a kept event updates
//!   it with a compare-and-swap, so the limit holds for the whole process:
//!   at most `n` events of the site are kept per window of one second of
//!   the tick clock (windows are consecutive, not sliding: two windows
//!   side by side can keep `n` each within less than a second).
//!
//! `sample` is applied first; the rate limit counts what it kept.
//!
//! Every event turned away is counted by its thread, per call-site id, in
//! a [`ThreadCounts`] table only that thread writes (plain relaxed stores,
//! no read-modify-write); the writer reads every table at each drain
//! ([`SampledLedger`]) and frames the increments since its previous report
//! in a `Sampled` frame, which the decoder turns into `lmlog.sampled_out`
//! events. A thread's table is closed when the thread exits, and its final
//! counts are reported by the next drain. The counts live in memory: a
//! process that dies without a drain loses the counts since the last one
//! (its staged records survive in the staging files; its counts do not).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use lmlog_format::SampledCount;

/// A threshold this large keeps every event.
const KEEP_ALL: u64 = 1 << 32;

/// A call site's sampling policy, fixed at compile time by the macros from
/// `sample:` and `rate_limit:` (`#[lmlog(sample = .., rate_limit = ..)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// An event is kept when 32 random bits are below this (`p · 2³²`;
    /// [`KEEP_ALL`] keeps every one).
    keep_below: u64,
    /// Events kept per window at most; 0 for no limit.
    rate_limit: u32,
}

impl Sampling {
    /// No sampling, no limit: the default of every event type.
    pub const NONE: Sampling = Sampling { keep_below: KEEP_ALL, rate_limit: 0 };

    /// Keeps an event with probability `keep_below / 2³²` (at least 1,
    /// at most 2³²), then at most `rate_limit` per second (0: no limit).
    pub const fn new(keep_below: u64, rate_limit: u32) -> Sampling {
        let keep_below = if keep_below == 0 {
            1
        } else if keep_below > KEEP_ALL {
            KEEP_ALL
        } else {
            keep_below
        };
        Sampling { keep_below, rate_limit }
    }

    /// Whether this policy keeps every event: the sampling check is then
    /// compiled out.
    #[inline(always)]
    pub const fn keeps_all(self) -> bool {
        self.keep_below >= KEEP_ALL && self.rate_limit == 0
    }

    /// Whether this event is kept. The call site's rate window is only
    /// touched when the site has a rate limit.
    #[inline(always)]
    pub(crate) fn keeps(self, window: &RateWindow) -> bool {
        (self.keep_below >= KEEP_ALL || draw() < self.keep_below)
            && (self.rate_limit == 0 || window.admit(self.rate_limit, current_window()))
    }
}

thread_local! {
    /// This thread's wyrand state; 0 until its first draw seeds it.
    static RANDOM: Cell<u64> = const { Cell::new(0) };
}

/// 32 random bits from this thread's generator.
#[inline(always)]
fn draw() -> u64 {
    RANDOM.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = seed();
        }
        s = s.wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64 ^ t as u64) >> 32
    })
}

/// A seed that differs between threads and runs: the clock, mixed with
/// the address of this thread's state.
#[cold]
fn seed() -> u64 {
    let address = RANDOM.with(|state| state as *const Cell<u64> as u64);
    let mixed = (crate::clock::now() ^ address.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    mixed | 1
}

/// Ticks of the tick clock per rate-limit window (one second), set when
/// the runtime calibrates its clock.
static TICKS_PER_WINDOW: AtomicU64 = AtomicU64::new(1_000_000_000);

/// Sets the rate-limit window to one second of a clock of `ticks_per_second`.
pub(crate) fn set_ticks_per_second(ticks_per_second: f64) {
    TICKS_PER_WINDOW.store((ticks_per_second as u64).max(1), Ordering::Relaxed);
}

/// The number of the current rate-limit window.
#[inline(always)]
fn current_window() -> u64 {
    crate::clock::now() / TICKS_PER_WINDOW.load(Ordering::Relaxed)
}

/// A call site's rate-limit state: the latest window number (low 32 bits)
/// and the events kept in it, in one word.
#[derive(Debug)]
pub(crate) struct RateWindow(AtomicU64);

impl RateWindow {
    pub(crate) const fn new() -> RateWindow {
        RateWindow(AtomicU64::new(0))
    }

    /// Whether one more event may be kept in `window` under `limit`. The
    /// stored window only moves forward (a thread that read the clock just
    /// before another moved it counts against the newer window), so at most
    /// `limit` events are admitted per window, whatever the threads.
    #[inline]
    pub(crate) fn admit(&self, limit: u32, window: u64) -> bool {
        let window = window as u32;
        let mut seen = self.0.load(Ordering::Relaxed);
        loop {
            let (stored, used) = ((seen >> 32) as u32, seen as u32);
            // Wrapping comparison: windows are seconds, 2³¹ of them apart
            // never meet.
            let newer = (window.wrapping_sub(stored) as i32) > 0 || seen == 0;
            let next = if newer {
                u64::from(window) << 32 | 1
            } else if used < limit {
                seen + 1
            } else {
                return false;
            };
            match self.0.compare_exchange_weak(seen, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => seen = now,
            }
        }
    }
}

/// Slots per segment of a [`ThreadCounts`] table.
const SEGMENT_SLOTS: usize = 64;

/// One call site's count in a thread's table.
#[derive(Debug, Default)]
struct Slot {
    /// The call-site id; 0 while the slot is free. Published (Release)
    /// after the first count is stored.
    id: AtomicU32,
    count: AtomicU64,
}

#[derive(Debug)]
struct Segment {
    slots: [Slot; SEGMENT_SLOTS],
    /// More slots, once these are all taken.
    next: OnceLock<Box<Segment>>,
}

impl Segment {
    fn new() -> Segment {
        Segment { slots: std::array::from_fn(|_| Slot::default()), next: OnceLock::new() }
    }
}

/// One thread's counts, written by that thread only (a load and a store,
/// no read-modify-write), read by the writer at each drain: events
/// sampling turned away per call-site id, and for [`crate::stats`] the
/// drop reports it wrote and the time it spent waiting for room.
#[derive(Debug)]
pub(crate) struct ThreadCounts {
    first: Segment,
    /// Drop-report records this thread committed, and the drops they count.
    drop_reports: AtomicU64,
    drops_reported: AtomicU64,
    /// Ticks spent waiting for room in the staging ring.
    blocked_ticks: AtomicU64,
    /// The thread has exited: the counts are final.
    closed: AtomicBool,
}

/// A thread's counts besides the per-site ones, summed over threads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ThreadTotals {
    pub drop_reports: u64,
    pub drops_reported: u64,
    pub blocked_ticks: u64,
}

impl ThreadTotals {
    fn add(&mut self, other: ThreadTotals) {
        self.drop_reports += other.drop_reports;
        self.drops_reported += other.drops_reported;
        self.blocked_ticks += other.blocked_ticks;
    }
}

/// Adds `n` to a counter only its owner writes.
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

impl ThreadCounts {
    pub(crate) fn new() -> ThreadCounts {
        ThreadCounts {
            first: Segment::new(),
            drop_reports: AtomicU64::new(0),
            drops_reported: AtomicU64::new(0),
            blocked_ticks: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// Counts a drop report of `drops` events this thread committed.
    pub(crate) fn drop_report(&self, drops: u64) {
        bump(&self.drop_reports, 1);
        bump(&self.drops_reported, drops);
    }

    /// Counts `ticks` spent waiting for room.
    pub(crate) fn blocked(&self, ticks: u64) {
        bump(&self.blocked_ticks, ticks);
    }

    fn totals(&self) -> ThreadTotals {
        ThreadTotals {
            drop_reports: self.drop_reports.load(Ordering::Relaxed),
            drops_reported: self.drops_reported.load(Ordering::Relaxed),
            blocked_ticks: self.blocked_ticks.load(Ordering::Relaxed),
        }
    }

    /// Counts one event of call site `id` turned away. Only the owning
    /// thread calls it: a load and a store, no read-modify-write.
    #[inline(always)]
    pub(crate) fn count(&self, id: u32) {
        // A site's slot is almost always its home slot of the first segment.
        let home = &self.first.slots[Self::home(id)];
        if home.id.load(Ordering::Relaxed) == id {
            bump(&home.count, 1);
        } else {
            self.count_elsewhere(id);
        }
    }

    /// The slot where probing for `id` starts.
    #[inline(always)]
    fn home(id: u32) -> usize {
        (id as usize).wrapping_mul(0x9e37_79b9) >> 7 & (SEGMENT_SLOTS - 1)
    }

    /// [`count`](Self::count) for a site not in its home slot (yet).
    #[cold]
    #[inline(never)]
    fn count_elsewhere(&self, id: u32) {
        let start = Self::home(id);
        let mut segment = &self.first;
        loop {
            for i in 0..SEGMENT_SLOTS {
                let slot = &segment.slots[(start + i) % SEGMENT_SLOTS];
                let held = slot.id.load(Ordering::Relaxed);
                if held == id {
                    bump(&slot.count, 1);
                    return;
                }
                if held == 0 {
                    slot.count.store(1, Ordering::Relaxed);
                    slot.id.store(id, Ordering::Release);
                    return;
                }
            }
            segment = segment.next.get_or_init(|| Box::new(Segment::new()));
        }
    }

    /// The owning thread exits: no count follows.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the owning thread has exited; read before the counts, a
    /// `true` makes them final.
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Calls `f` with each call-site id and its count so far.
    fn for_each(&self, mut f: impl FnMut(u32, u64)) {
        let mut segment = Some(&self.first);
        while let Some(s) = segment {
            for slot in &s.slots {
                let id = slot.id.load(Ordering::Acquire);
                if id != 0 {
                    f(id, slot.count.load(Ordering::Relaxed));
                }
            }
            segment = s.next.get().map(|b| &**b);
        }
    }
}

/// The writer's side: what each call site turned away in total, and what
/// was reported of it.
#[derive(Debug, Default)]
pub(crate) struct SampledLedger {
    /// Final counts of exited threads, by id.
    retired: Vec<u64>,
    /// Counts reported so far, by id.
    reported: Vec<u64>,
    /// Scratch: the current totals, by id.
    current: Vec<u64>,
    /// Everything reported so far.
    reported_total: u64,
    /// The other counts of exited threads, and of all threads at the
    /// latest [`collect`](Self::collect).
    retired_totals: ThreadTotals,
    totals: ThreadTotals,
}

impl SampledLedger {
    /// Reads every table in `tables` and appends to `out` each call site's
    /// increment since the previous call; tables of exited threads are
    /// folded into the ledger and removed from `tables`.
    pub(crate) fn collect(&mut self, tables: &mut Vec<Arc<ThreadCounts>>, out: &mut Vec<SampledCount>) {
        self.current.clear();
        self.current.extend_from_slice(&self.retired);
        let (retired, current) = (&mut self.retired, &mut self.current);
        let mut totals = self.retired_totals;
        let retired_totals = &mut self.retired_totals;
        tables.retain(|table| {
            let closed = table.is_closed();
            let counts = table.totals();
            totals.add(counts);
            if closed {
                retired_totals.add(counts);
            }
            table.for_each(|id, count| {
                let id = id as usize;
                for list in [&mut *current, &mut *retired] {
                    if list.len() <= id {
                        list.resize(id + 1, 0);
                    }
                }
                current[id] += count;
                if closed {
                    retired[id] += count;
                }
            });
            !closed
        });
        self.totals = totals;
        self.reported.resize(self.current.len().max(self.reported.len()), 0);
        for (id, (&now, reported)) in self.current.iter().zip(&mut self.reported).enumerate() {
            if now > *reported {
                out.push(SampledCount { id: id as u32, count: now - *reported });
                self.reported_total += now - *reported;
                *reported = now;
            }
        }
    }
}

impl SampledLedger {
    /// Events reported as sampled out so far.
    pub(crate) fn reported_total(&self) -> u64 {
        self.reported_total
    }

    /// The threads' other counts, as of the latest [`collect`](Self::collect).
    pub(crate) fn totals(&self) -> ThreadTotals {
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_of_two_rejects_the_third_event_of_a_window_and_accepts_again_after_it() {
        let window = RateWindow::new();
        assert!(window.admit(2, 10));
        assert!(window.admit(2, 10));
        assert!(!window.admit(2, 10), "the third event of the window");
        assert!(!window.admit(2, 10));
        assert!(window.admit(2, 11), "the next window");
        assert!(window.admit(2, 11));
        assert!(!window.admit(2, 11));
        // A thread that read the clock before the window moved counts
        // against the newer window, which is full.
        assert!(!window.admit(2, 10));
        assert!(window.admit(2, 13));
    }

    #[test]
    fn a_rate_limit_holds_across_threads() {
        let window = Arc::new(RateWindow::new());
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let window = &window;
                    s.spawn(move || (0..1000).filter(|_| window.admit(100, 7)).count())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 100);
    }

    #[test]
    fn sampling_keeps_a_binomial_share() {
        // p = 0.1 of 100,000 events: mean 10,000, sigma about 94.9; a
        // 5-sigma band fails about once in 1.7 million runs.
        let policy = Sampling::new(429_496_730, 0);
        let window = RateWindow::new();
        let kept = (0..100_000).filter(|_| policy.keeps(&window)).count() as f64;
        let (mean, sigma) = (10_000.0, (100_000.0f64 * 0.1 * 0.9).sqrt());
        assert!((kept - mean).abs() < 5.0 * sigma, "kept {kept}, expected {mean} ± {}", 5.0 * sigma);
    }

    #[test]
    fn policies_clamp_and_say_whether_they_keep_everything() {
        assert!(Sampling::NONE.keeps_all());
        assert!(Sampling::new(u64::MAX, 0).keeps_all());
        assert!(!Sampling::new(KEEP_ALL, 5).keeps_all());
        let rarest = Sampling::new(0, 0);
        assert!(!rarest.keeps_all());
        let window = RateWindow::new();
        assert!((0..10_000).filter(|_| rarest.keeps(&window)).count() < 10);
    }

    #[test]
    fn the_ledger_reports_increments_and_keeps_the_counts_of_exited_threads() {
        let mut ledger = SampledLedger::default();
        let (a, b) = (Arc::new(ThreadCounts::new()), Arc::new(ThreadCounts::new()));
        let mut tables = vec![a.clone(), b.clone()];
        // More ids than one segment holds, to use a second one.
        for id in 1..=100 {
            a.count(id);
        }
        a.count(7);
        b.count(7);
        let mut out = Vec::new();
        ledger.collect(&mut tables, &mut out);
        assert_eq!(out.len(), 100);
        assert_eq!(out.iter().find(|c| c.id == 7).unwrap().count, 3);
        assert_eq!(out.iter().map(|c| c.count).sum::<u64>(), 102);

        out.clear();
        ledger.collect(&mut tables, &mut out);
        assert!(out.is_empty(), "nothing new: {out:?}");

        b.count(7);
        b.count(200);
        b.drop_report(5);
        b.blocked(40);
        a.blocked(2);
        b.close();
        ledger.collect(&mut tables, &mut out);
        assert_eq!(out, vec![SampledCount { id: 7, count: 1 }, SampledCount { id: 200, count: 1 }]);
        assert_eq!(tables.len(), 1, "the exited thread's table is folded in");
        assert_eq!(ledger.totals(), ThreadTotals { drop_reports: 1, drops_reported: 5, blocked_ticks: 42 });

        out.clear();
        a.count(7);
        ledger.collect(&mut tables, &mut out);
        assert_eq!(out, vec![SampledCount { id: 7, count: 1 }], "the exited thread's counts are not reported again");
        assert_eq!(ledger.reported_total(), 105);
        assert_eq!(ledger.totals(), ThreadTotals { drop_reports: 1, drops_reported: 5, blocked_ticks: 42 });
    }
}
