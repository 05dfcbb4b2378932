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
//!
//! # Process-wide sampling
//!
//! [`Config::sample_level`](crate::Config::sample_level) (a keep rate per
//! level), [`Config::max_events_per_second`](crate::Config::max_events_per_second)
//! (an adaptive target) and [`Config::sampler`](crate::Config::sampler) (a
//! [`Sampler`]'s [`SamplePolicy`] per call site and event type) are
//! decided off the fast path. A call site whose first event type is
//! subject to one of them is *detoured* (`state::needs_detour`): its state
//! word is published without its id, so its events take the producer's
//! slow path, which loads the level's keep threshold (one relaxed load of
//! [`LEVEL_KEEP`]) and the site's policy ([`SitePolicy`]), draws, and
//! writes the event or counts it through the same table as above. Sites
//! no rule touches keep the fast path and cost what they did before.
//!
//! An event is kept when every rule agrees, in this order: the
//! process-wide probability (level rate × adaptive probability × the
//! sampler's probability, one draw against their product), the site's
//! `sample:` (its own draw), the site's `rate_limit:`, the sampler's rate
//! limit. Each rate limit counts the events that reached it.
//!
//! The process-wide draw comes from the active OpenTelemetry span's trace
//! id, when there is one and [`Config::trace_consistent_sampling`](crate::Config::trace_consistent_sampling)
//! is on (the default), so that all events of one trace are kept or
//! dropped together (and, for the same rates, in every process that uses
//! lmlog). A site's `sample:` keeps its thread's generator: its fast path
//! does not read the trace context.
//!
//! The adaptive target ([`AdaptiveTarget`]) runs on the writer thread: at
//! most once a second it measures the events it wrote per second and, if
//! that is more than 10 % away from the target, multiplies the keep
//! probability of `trace`, `debug` and `info` by `target / measured`,
//! clamped to [0.001, 1]; see [`corrected_probability`].

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use lmlog_format::{Level, SampledCount};

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

    /// Keeps an event when 32 random bits are below `keep_below` (0 keeps
    /// none, 2³² or more every one), then at most `rate_limit` per second.
    const fn exact(keep_below: u64, rate_limit: u32) -> Sampling {
        Sampling { keep_below: if keep_below > KEEP_ALL { KEEP_ALL } else { keep_below }, rate_limit }
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

/// The threshold out of 2³² that keeps a share `p` of events: exact for
/// 0 and 1 (and clamped to them).
fn threshold(p: f64) -> u64 {
    if p >= 1.0 {
        KEEP_ALL
    } else if p > 0.0 {
        (p * KEEP_ALL as f64) as u64
    } else {
        0
    }
}

/// What a [`Sampler`] decides for a call site: a keep probability, then
/// at most a number of events per second.
///
/// ```
/// use lmlog::SamplePolicy;
/// let _ = SamplePolicy::KEEP; // every event (the site keeps its fast path)
/// let _ = SamplePolicy::DROP; // none (each one still counted)
/// let _ = SamplePolicy::sample(0.1).with_rate_limit(50);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePolicy {
    probability: f64,
    rate_limit: u32,
}

impl SamplePolicy {
    /// Keeps every event: the call site is left alone.
    pub const KEEP: SamplePolicy = SamplePolicy { probability: 1.0, rate_limit: 0 };
    /// Keeps no event; each one is counted in `lmlog.sampled_out`.
    pub const DROP: SamplePolicy = SamplePolicy { probability: 0.0, rate_limit: 0 };

    /// Keeps each event with probability `p` (clamped to [0, 1]; 0 and 1
    /// are exact).
    pub fn sample(p: f64) -> SamplePolicy {
        SamplePolicy { probability: if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) }, rate_limit: 0 }
    }

    /// Keeps at most `per_second` events per second of this call site and
    /// event type, in the whole process (0: no limit). Windows are
    /// consecutive seconds, as for `rate_limit:`.
    pub fn rate_limit(per_second: u32) -> SamplePolicy {
        SamplePolicy::KEEP.with_rate_limit(per_second)
    }

    /// This policy, then at most `per_second` events per second of what it
    /// keeps (0: no limit).
    pub fn with_rate_limit(self, per_second: u32) -> SamplePolicy {
        SamplePolicy { rate_limit: per_second.min(MAX_POLICY_RATE), ..self }
    }

    fn sampling(self) -> Sampling {
        Sampling::exact(threshold(self.probability), self.rate_limit)
    }
}

/// What a [`Sampler`] knows of a call site and the event type logged there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SiteInfo {
    /// The module of the call site (`module_path!()`).
    pub module: &'static str,
    /// The event type's name.
    pub event_type: &'static str,
    /// The event type's level.
    pub level: Level,
    /// The source file.
    pub file: &'static str,
    /// The source line.
    pub line: u32,
}

/// A sampling rule consulted once per call site and event type (a call
/// site in a generic function, once per event type it logs), when the site
/// is first reached and again at every [`init`](crate::init): its answer
/// is cached beside the site's id, so a rule costs nothing per event. A
/// site it gives [`SamplePolicy::KEEP`] stays on the fast path; the events
/// of the others take the slow path (a few nanoseconds more) and, when
/// turned away, are counted in `lmlog.sampled_out`.
///
/// Any `Fn(&SiteInfo) -> SamplePolicy` is a `Sampler`. The rule runs on the
/// thread that first reaches the site; an event it logs itself from a site
/// not yet decided is kept (its own policy is not asked for recursively).
///
/// ```
/// use lmlog::{Config, SamplePolicy, SiteInfo};
/// // Context-based rules, first match wins.
/// let config = Config::new().sampler(|site: &SiteInfo| {
///     if site.module.starts_with("my_app::health") {
///         SamplePolicy::DROP
///     } else if site.event_type == "cache_miss" {
///         SamplePolicy::sample(0.01)
///     } else if site.module.starts_with("my_app::db") {
///         SamplePolicy::rate_limit(100)
///     } else {
///         SamplePolicy::KEEP
///     }
/// });
/// # drop(config);
/// ```
pub trait Sampler: Send + Sync + 'static {
    /// The policy of the events of `site`'s event type at `site`.
    fn policy(&self, site: &SiteInfo) -> SamplePolicy;
}

impl<F: Fn(&SiteInfo) -> SamplePolicy + Send + Sync + 'static> Sampler for F {
    fn policy(&self, site: &SiteInfo) -> SamplePolicy {
        self(site)
    }
}

/// Largest rate limit a [`SamplePolicy`] holds (it is packed with the
/// threshold into one word).
const MAX_POLICY_RATE: u32 = u32::MAX >> 1;

/// The [`Sampler`]'s policy for one (call site, event type), beside its
/// id, and that policy's rate window.
#[derive(Debug)]
pub(crate) struct SitePolicy {
    /// Threshold in the low 33 bits, rate limit above.
    packed: AtomicU64,
    window: RateWindow,
}

impl SitePolicy {
    pub(crate) const fn new() -> SitePolicy {
        SitePolicy { packed: AtomicU64::new(KEEP_ALL), window: RateWindow::new() }
    }

    pub(crate) fn set(&self, sampling: Sampling) {
        self.packed.store(sampling.keep_below | u64::from(sampling.rate_limit) << 33, Ordering::Relaxed);
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> Sampling {
        let packed = self.packed.load(Ordering::Relaxed);
        Sampling { keep_below: packed & ((KEEP_ALL << 1) - 1), rate_limit: (packed >> 33) as u32 }
    }
}

/// Process-wide sampling settings, as [`Config`](crate::Config) collects
/// them.
#[derive(Clone)]
pub(crate) struct ProcessSampling {
    /// Keep rates per level (index: the level's number).
    pub level_rates: [Option<f64>; LEVEL_SLOTS],
    /// The adaptive target, in events per second (0: none).
    pub max_events_per_second: u64,
    pub sampler: Option<Arc<dyn Sampler>>,
    pub trace_consistent: bool,
}

impl Default for ProcessSampling {
    fn default() -> ProcessSampling {
        ProcessSampling {
            level_rates: [None; LEVEL_SLOTS],
            max_events_per_second: 0,
            sampler: None,
            trace_consistent: true,
        }
    }
}

impl std::fmt::Debug for ProcessSampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rates: Vec<_> =
            Level::ALL.iter().filter_map(|&l| self.level_rates[l as usize].map(|rate| (l.as_str(), rate))).collect();
        f.debug_struct("ProcessSampling")
            .field("level_rates", &rates)
            .field("max_events_per_second", &self.max_events_per_second)
            .field("sampler", &self.sampler.as_ref().map(|_| "custom"))
            .field("trace_consistent", &self.trace_consistent)
            .finish()
    }
}

/// One slot per level number (1 to 5; slot 0 unused).
const LEVEL_SLOTS: usize = 6;

/// Levels the adaptive target scales: `warn` and `error` are kept unless
/// a level rate, a sampler or a site's own options say otherwise.
const ADAPTIVE_LEVELS: [Level; 3] = [Level::Info, Level::Debug, Level::Trace];

/// Each level's keep threshold out of 2³² (level rate × adaptive
/// probability), read by detoured events with one relaxed load.
static LEVEL_KEEP: [AtomicU64; LEVEL_SLOTS] = [const { AtomicU64::new(KEEP_ALL) }; LEVEL_SLOTS];
/// Each level's configured rate, as a threshold: what the adaptive
/// probability multiplies.
static LEVEL_RATE: [AtomicU64; LEVEL_SLOTS] = [const { AtomicU64::new(KEEP_ALL) }; LEVEL_SLOTS];
/// Bit `n`: events of level number `n` are subject to a process-wide
/// rate (their sites are detoured). Bit 7: the adaptive target is on.
static SAMPLED_LEVELS: AtomicU8 = AtomicU8::new(0);
const ADAPTIVE_BIT: u8 = 1 << 7;
/// Whether process-wide draws come from the active span's trace id.
static TRACE_CONSISTENT: AtomicBool = AtomicBool::new(true);
/// The running runtime's [`Sampler`], if any.
static SAMPLER: RwLock<Option<Arc<dyn Sampler>>> = RwLock::new(None);

/// Installs the process-wide settings of the runtime that starts (the
/// default ones when it stops); the adaptive probability starts at 1.
pub(crate) fn configure(settings: &ProcessSampling) {
    let mut sampled = 0u8;
    for level in Level::ALL {
        let rate = settings.level_rates[level as usize].map_or(KEEP_ALL, threshold);
        LEVEL_RATE[level as usize].store(rate, Ordering::Relaxed);
        LEVEL_KEEP[level as usize].store(rate, Ordering::Relaxed);
        let adaptive = settings.max_events_per_second > 0 && ADAPTIVE_LEVELS.contains(&level);
        if rate < KEEP_ALL || adaptive {
            sampled |= 1 << level as u8;
        }
    }
    if settings.max_events_per_second > 0 {
        sampled |= ADAPTIVE_BIT;
    }
    SAMPLED_LEVELS.store(sampled, Ordering::Relaxed);
    TRACE_CONSISTENT.store(settings.trace_consistent, Ordering::Relaxed);
    *SAMPLER.write().unwrap_or_else(|e| e.into_inner()) = settings.sampler.clone();
}

/// Whether the process-wide threshold of `level` keeps every event (no
/// level rate below 1, no adaptive target lowering it), as
/// [`keeps_process_wide`] reads it.
#[inline(always)]
pub(crate) fn level_keeps_all(level: Level) -> bool {
    LEVEL_KEEP[level as usize].load(Ordering::Relaxed) >= KEEP_ALL
}

/// Whether events of `level` are subject to a process-wide rate (a level
/// rate below 1, or the adaptive target).
pub(crate) fn level_is_sampled(level: Level) -> bool {
    SAMPLED_LEVELS.load(Ordering::Relaxed) & 1 << level as u8 != 0
}

/// Publishes the adaptive keep probability `p` for the levels it scales.
pub(crate) fn publish_adaptive(p: f64) {
    for level in ADAPTIVE_LEVELS {
        let rate = LEVEL_RATE[level as usize].load(Ordering::Relaxed);
        let keep = if p >= 1.0 { rate } else { (rate as f64 * p) as u64 };
        LEVEL_KEEP[level as usize].store(keep, Ordering::Relaxed);
    }
}

thread_local! {
    /// This thread is running the [`Sampler`]: a site it reaches meanwhile
    /// keeps its events rather than asking again.
    static IN_SAMPLER: Cell<bool> = const { Cell::new(false) };
}

/// The running [`Sampler`]'s policy for `site` ([`Sampling::NONE`] without
/// one). Called without any lock held.
pub(crate) fn policy_for(site: &SiteInfo) -> Sampling {
    let Some(sampler) = SAMPLER.read().unwrap_or_else(|e| e.into_inner()).clone() else {
        return Sampling::NONE;
    };
    if IN_SAMPLER.replace(true) {
        return Sampling::NONE;
    }
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_SAMPLER.set(false);
        }
    }
    let _leave = Leave;
    sampler.policy(site).sampling()
}

/// Whether a detoured event of `level` passes the process-wide
/// probability: the level's threshold times the site's policy, against
/// one draw (from the trace id when trace-consistent).
#[inline]
pub(crate) fn keeps_process_wide(level: Level, policy: Sampling) -> bool {
    let threshold = combined_threshold(LEVEL_KEEP[level as usize].load(Ordering::Relaxed), policy);
    threshold >= KEEP_ALL || process_draw() < threshold
}

/// The product of a level's threshold and a policy's, out of 2³².
#[inline(always)]
fn combined_threshold(level_keep: u64, policy: Sampling) -> u64 {
    ((u128::from(level_keep) * u128::from(policy.keep_below)) >> 32) as u64
}

/// Whether the sampler's rate limit admits one more event of this site.
#[inline]
pub(crate) fn admits(policy: Sampling, site: &SitePolicy) -> bool {
    policy.rate_limit == 0 || site.window.admit(policy.rate_limit, current_window())
}

/// 32 random bits for a process-wide decision: from the active span's
/// trace id when trace-consistent sampling is on, else this thread's.
#[inline]
fn process_draw() -> u64 {
    #[cfg(feature = "otel")]
    if TRACE_CONSISTENT.load(Ordering::Relaxed) {
        if let Some(trace_id) = crate::trace::current_trace_id() {
            return trace_bits(trace_id);
        }
    }
    draw()
}

/// 32 bits derived from a trace id: the same in every thread and process,
/// so that one threshold keeps or drops all of a trace's events.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
fn trace_bits(trace_id: u128) -> u64 {
    // splitmix64's finaliser over both halves: trace ids need not be
    // uniformly random in every bit.
    let mut z = (trace_id as u64) ^ ((trace_id >> 64) as u64).rotate_left(29);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) >> 32
}

/// The adaptive target's dead band: no correction while the measured rate
/// is within 10 % of the target.
const DEAD_BAND: f64 = 0.1;
/// The adaptive probability's bounds.
const MIN_PROBABILITY: f64 = 0.001;
/// Shortest time between two corrections.
const ADJUST_EVERY_SECONDS: f64 = 1.0;

/// The adaptive keep probability after measuring `kept_per_second` events
/// written per second at probability `p`, for a target of `target`: the
/// multiplicative correction `p · target / kept_per_second`, clamped to
/// [0.001, 1], unless the measure is within 10 % of the target (then `p`).
/// When every event is subject to the probability this lands on the
/// target in one step; events it does not scale (`warn`, `error`) count
/// toward the measure, so they push the others' share down.
pub(crate) fn corrected_probability(p: f64, target: f64, kept_per_second: f64) -> f64 {
    if (kept_per_second - target).abs() <= DEAD_BAND * target {
        return p;
    }
    if kept_per_second <= 0.0 {
        return 1.0;
    }
    (p * target / kept_per_second).clamp(MIN_PROBABILITY, 1.0)
}

/// The writer's side of [`Config::max_events_per_second`](crate::Config::max_events_per_second).
#[derive(Debug)]
pub(crate) struct AdaptiveTarget {
    target: f64,
    probability: f64,
    /// Seconds (on the writer's clock) and events written at the latest
    /// correction.
    since: f64,
    kept_since: u64,
}

impl AdaptiveTarget {
    /// A target of `per_second` events written per second, starting at
    /// probability 1.
    pub(crate) fn new(per_second: u64, now_seconds: f64, kept_total: u64) -> AdaptiveTarget {
        AdaptiveTarget { target: per_second as f64, probability: 1.0, since: now_seconds, kept_since: kept_total }
    }

    /// After a drain: `kept_total` events written so far at `now_seconds`.
    /// At most once per second, corrects the probability; returns it when
    /// it changed, for [`publish_adaptive`].
    pub(crate) fn observe(&mut self, now_seconds: f64, kept_total: u64) -> Option<f64> {
        let elapsed = now_seconds - self.since;
        if elapsed < ADJUST_EVERY_SECONDS {
            return None;
        }
        let rate = kept_total.saturating_sub(self.kept_since) as f64 / elapsed;
        (self.since, self.kept_since) = (now_seconds, kept_total);
        let corrected = corrected_probability(self.probability, self.target, rate);
        (corrected != self.probability).then(|| {
            self.probability = corrected;
            corrected
        })
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
#[inline(always)]
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
    fn level_rates_zero_and_one_are_exact_and_rates_multiply() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(-1.0), 0);
        assert_eq!(threshold(1.0), KEEP_ALL);
        assert_eq!(threshold(7.0), KEEP_ALL);
        let all = SamplePolicy::KEEP.sampling();
        assert_eq!(combined_threshold(KEEP_ALL, all), KEEP_ALL, "keeps every draw");
        // A threshold of 0 keeps no draw: 32 random bits are never below 0.
        assert_eq!(combined_threshold(0, all), 0);
        assert_eq!(combined_threshold(KEEP_ALL, SamplePolicy::DROP.sampling()), 0);
        // Probabilities multiply: 0.5 × 0.2 = 0.1.
        let product = combined_threshold(threshold(0.5), SamplePolicy::sample(0.2).sampling());
        assert!(product.abs_diff(threshold(0.1)) <= 2, "{product}");
    }

    #[test]
    fn a_level_rate_keeps_a_binomial_share() {
        // p = 0.25 of 100,000 draws: mean 25,000, sigma about 136.9; a
        // 5-sigma band fails about once in 1.7 million runs.
        let keep = combined_threshold(threshold(0.25), Sampling::NONE);
        let kept = (0..100_000).filter(|_| draw() < keep).count() as f64;
        let (mean, sigma) = (25_000.0, (100_000.0f64 * 0.25 * 0.75).sqrt());
        assert!((kept - mean).abs() < 5.0 * sigma, "kept {kept}, expected {mean} ± {}", 5.0 * sigma);
    }

    #[test]
    fn a_policy_survives_its_packing() {
        let slot = SitePolicy::new();
        assert!(slot.get().keeps_all());
        for policy in [
            SamplePolicy::DROP,
            SamplePolicy::sample(0.3),
            SamplePolicy::rate_limit(100),
            SamplePolicy::sample(0.5).with_rate_limit(u32::MAX),
            SamplePolicy::KEEP,
        ] {
            slot.set(policy.sampling());
            assert_eq!(slot.get(), policy.sampling(), "{policy:?}");
        }
        assert_eq!(SamplePolicy::sample(f64::NAN), SamplePolicy::KEEP);
        assert_eq!(SamplePolicy::sample(3.0), SamplePolicy::KEEP);
    }

    #[test]
    fn trace_bits_are_the_same_for_a_trace_and_spread_over_traces() {
        assert_eq!(
            trace_bits(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
            trace_bits(0x0123_4567_89ab_cdef_0011_2233_4455_6677)
        );
        // Sequential trace ids (a poor generator) still spread evenly: a
        // quarter of 10,000 fall below a threshold of 0.25 (sigma 43.3).
        let keep = threshold(0.25);
        let kept = (0..10_000u128).filter(|&id| trace_bits(id << 64 | id) < keep).count() as f64;
        assert!((kept - 2_500.0).abs() < 5.0 * 43.3, "kept {kept}");
    }

    #[test]
    fn the_adaptive_law_corrects_in_one_step_within_a_dead_band_and_clamped() {
        // Falls when the load exceeds the target: 10,000/s kept at p = 1
        // for a target of 1,000 gives p = 0.1, which keeps 1,000/s.
        assert!((corrected_probability(1.0, 1000.0, 10_000.0) - 0.1).abs() < 1e-12);
        // Rises when it drops: at p = 0.1 the load fell to 2,000/s offered,
        // 200/s kept; p = 0.5 keeps 1,000/s again.
        assert!((corrected_probability(0.1, 1000.0, 200.0) - 0.5).abs() < 1e-12);
        // Within 10 % of the target nothing moves.
        assert_eq!(corrected_probability(0.3, 1000.0, 1090.0), 0.3);
        assert_eq!(corrected_probability(0.3, 1000.0, 910.0), 0.3);
        // Clamped to [0.001, 1].
        assert_eq!(corrected_probability(0.01, 1000.0, 1e9), MIN_PROBABILITY);
        assert_eq!(corrected_probability(0.5, 1000.0, 10.0), 1.0);
        assert_eq!(corrected_probability(0.5, 1000.0, 0.0), 1.0);
    }

    #[test]
    fn the_adaptive_target_follows_a_load_over_time_at_most_once_a_second() {
        // A simulated source: `offered` events a second at the levels the
        // probability scales; the writer observes every 100 ms.
        let mut target = AdaptiveTarget::new(1000, 0.0, 0);
        let (mut kept_total, mut now, mut p) = (0u64, 0.0f64, 1.0f64);
        let mut changes = 0;
        let mut run = |offered: f64, seconds: f64, target: &mut AdaptiveTarget| -> Vec<f64> {
            let mut rates = Vec::new();
            let mut kept_this_second = 0.0;
            for tick in 0..(seconds * 10.0) as u32 {
                let kept = offered * p / 10.0;
                kept_total += kept as u64;
                kept_this_second += kept;
                now += 0.1;
                if let Some(new) = target.observe(now, kept_total) {
                    p = new;
                    changes += 1;
                }
                if tick % 10 == 9 {
                    rates.push(kept_this_second);
                    kept_this_second = 0.0;
                }
            }
            rates
        };
        // A flood ten times the target: within 3 s the kept rate is within
        // ±20 % of the target, and stays there.
        let rates = run(10_000.0, 6.0, &mut target);
        assert!(rates[0] > 5_000.0, "the first second is not corrected yet: {rates:?}");
        assert!(rates[3..].iter().all(|r| (r - 1000.0).abs() <= 200.0), "{rates:?}");
        assert!((target.probability - 0.1).abs() < 0.02, "{}", target.probability);
        // The load drops to 3,000/s: the probability rises back.
        let rates = run(3_000.0, 6.0, &mut target);
        assert!(rates[3..].iter().all(|r| (r - 1000.0).abs() <= 200.0), "{rates:?}");
        assert!(target.probability > 0.25, "{}", target.probability);
        // Below the target the probability reaches 1 and stays there.
        let rates = run(500.0, 4.0, &mut target);
        assert_eq!(target.probability, 1.0);
        assert!(rates[2..].iter().all(|r| (r - 500.0).abs() < 1.0), "{rates:?}");
        // Corrections come at most once a second: 16 s, at most 16.
        assert!(changes <= 16, "{changes}");
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
