//! The tick clock records carry: the CPU's invariant TSC where the kernel
//! says it is reliable, otherwise a monotonic nanosecond clock.
//!
//! Reading it is the single largest cost of an event, so it is one `rdtsc`
//! on the hot path; conversion to wall time happens in the decoder from the
//! rate and anchors the writer puts in the session frame and in clock
//! frames. `init` measures a provisional rate in a short spin
//! ([`started`]); the writer refines it over a growing baseline
//! ([`RateRefiner`]) and publishes it in clock frames.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lmlog_format::{ClockAnchor, ClockInfo, ClockSource};

static USE_TSC: AtomicBool = AtomicBool::new(false);
static SOURCE: OnceLock<ClockSource> = OnceLock::new();
static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// Chooses the clock source, once per process: it must not change while
/// records taken with it are in flight.
pub(crate) fn source() -> ClockSource {
    *SOURCE.get_or_init(|| {
        ORIGIN.get_or_init(Instant::now);
        let source = if tsc_is_reliable() && std::env::var_os("LMLOG_NO_TSC").is_none() {
            ClockSource::Tsc
        } else {
            ClockSource::MonotonicNanos
        };
        USE_TSC.store(source == ClockSource::Tsc, Ordering::Relaxed);
        source
    })
}

#[cfg(target_arch = "x86_64")]
fn tsc_is_reliable() -> bool {
    // The kernel lists these flags when the TSC ticks at a constant rate in
    // every P- and C-state and is synchronised across cores.
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| {
            info.lines().find(|l| l.starts_with("flags")).is_some_and(|flags| {
                let has = |f: &str| flags.split_whitespace().any(|x| x == f);
                has("constant_tsc") && has("nonstop_tsc")
            })
        })
        .unwrap_or(false)
}

#[cfg(not(target_arch = "x86_64"))]
fn tsc_is_reliable() -> bool {
    false
}

/// Current ticks.
#[inline(always)]
pub(crate) fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    if USE_TSC.load(Ordering::Relaxed) {
        // SAFETY: `rdtsc` exists on every x86_64 CPU and has no preconditions.
        return unsafe { core::arch::x86_64::_rdtsc() };
    }
    monotonic_nanos()
}

#[inline]
fn monotonic_nanos() -> u64 {
    ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Nanoseconds since the Unix epoch, now (0 if the clock is before it).
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Readings [`anchor`] takes at most, keeping the tightest.
const ANCHOR_TRIES: usize = 5;

/// A simultaneous reading of ticks and wall time: the wall-clock read is
/// bracketed by two tick reads and the midpoint taken, keeping the tightest
/// bracket of a few tries (a thread preempted between the reads would
/// otherwise shift the anchor, and every time converted with it, by up to
/// half the preemption).
pub(crate) fn anchor() -> ClockAnchor {
    let (ticks, unix_nanos) = tightest(unix_nanos);
    ClockAnchor { ticks, unix_nanos }
}

/// Reads `other` bracketed by two tick reads, [`ANCHOR_TRIES`] times, and
/// returns the midpoint ticks and the reading of the tightest bracket.
fn tightest<T>(other: impl Fn() -> T) -> (u64, T) {
    let read = || {
        let before = now();
        let value = other();
        let width = now().wrapping_sub(before);
        (width, before + width / 2, value)
    };
    let mut best = read();
    for _ in 1..ANCHOR_TRIES {
        let next = read();
        if next.0 < best.0 {
            best = next;
        }
    }
    (best.1, best.2)
}

/// A simultaneous reading of ticks and the monotonic clock (`Instant`):
/// what the tick rate is measured from. Monotonic, not wall time, so that a
/// step of the wall clock cannot corrupt the rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RatePoint {
    ticks: u64,
    instant: Instant,
}

/// Like [`anchor`], the tightest of a few bracketed reads.
fn rate_point() -> RatePoint {
    let (ticks, instant) = tightest(Instant::now);
    RatePoint { ticks, instant }
}

/// Ticks per second between two readings.
fn rate_between(start: RatePoint, end: RatePoint) -> f64 {
    end.ticks.wrapping_sub(start.ticks) as f64 / end.instant.duration_since(start.instant).as_nanos().max(1) as f64
        * 1e9
}

/// How long `init` measures a provisional tick rate at least: from
/// [`begin`], at its start, to [`started`], spinning for what its own work
/// (opening the output, detecting the resource) left of it. The writer
/// replaces it with one measured over a baseline that doubles at its drains.
const PROVISIONAL_WINDOW: Duration = Duration::from_micros(200);

/// How the process's clock started: source, provisional rate and anchor,
/// and the first reading of the rate's baseline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Startup {
    /// What the session frames carry: the rate is the provisional one, the
    /// same in every session of the process (a decoder recognises the
    /// process by it); the anchor is the start's, the writer takes a fresh
    /// one for each file.
    pub info: ClockInfo,
    /// Where the rate's baseline starts.
    start: RatePoint,
    /// How long the provisional rate was measured over.
    window: Duration,
}

/// The first reading of the rate's baseline, taken once per process (at
/// the start of `init`, so that its work counts towards the provisional
/// rate's window).
pub(crate) fn begin() -> RatePoint {
    static BEGIN: OnceLock<RatePoint> = OnceLock::new();
    *BEGIN.get_or_init(first_reading)
}

fn first_reading() -> RatePoint {
    source();
    // The first reads of a clock can be slow (the vDSO's pages are touched
    // on first use): one of each before the readings that count.
    let _ = (Instant::now(), unix_nanos());
    rate_point()
}

/// The clock's start, once per process on first use (by `init`, before
/// the writer starts) and reused by later runtimes, so that the session's
/// rate never changes within a process.
pub(crate) fn started() -> Startup {
    static STARTUP: OnceLock<Startup> = OnceLock::new();
    *STARTUP.get_or_init(|| start(begin(), PROVISIONAL_WINDOW))
}

/// Measures a provisional rate against the monotonic clock from `start`
/// over at least `window`.
fn start(start: RatePoint, window: Duration) -> Startup {
    let source = source();
    let ticks_per_second = match source {
        ClockSource::MonotonicNanos => 1e9,
        ClockSource::Tsc => {
            while start.instant.elapsed() < window {
                std::hint::spin_loop();
            }
            rate_between(start, rate_point())
        }
    };
    let window = start.instant.elapsed();
    Startup { info: ClockInfo { source, ticks_per_second, anchor: anchor() }, start, window }
}

/// The writer's measurement of the tick rate: from the process's first
/// reading to a reading of its own, over a baseline that grows with the
/// process, so the rate's error shrinks as its use grows.
#[derive(Debug)]
pub(crate) struct RateRefiner {
    startup: Startup,
    /// The baseline of the rate in force.
    baseline: Duration,
    ticks_per_second: f64,
}

impl RateRefiner {
    pub(crate) fn new(startup: Startup) -> RateRefiner {
        RateRefiner { startup, baseline: startup.window, ticks_per_second: startup.info.ticks_per_second }
    }

    /// The rate in force.
    pub(crate) fn ticks_per_second(&self) -> f64 {
        self.ticks_per_second
    }

    /// Whether the baseline has doubled since the rate in force was
    /// measured: then a new rate, published with an anchor taken after the
    /// records it converts, has every record between two readings instead
    /// of extrapolating a young rate. The monotonic nanosecond clock's rate
    /// is exact and never due.
    pub(crate) fn due(&self) -> bool {
        self.startup.info.source == ClockSource::Tsc && self.startup.start.instant.elapsed() >= 2 * self.baseline
    }

    /// Measures the rate from the start to now and puts it in force.
    pub(crate) fn refine(&mut self) -> f64 {
        if self.startup.info.source == ClockSource::Tsc {
            let now = rate_point();
            self.baseline = now.instant.duration_since(self.startup.start.instant);
            self.ticks_per_second = rate_between(self.startup.start, now);
        }
        self.ticks_per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_monotonic_and_the_rate_is_refined() {
        let started = start(first_reading(), Duration::from_micros(200));
        let provisional = started.info.ticks_per_second;
        assert!(provisional > 1e6, "{started:?}");
        let a = now();
        let b = now();
        assert!(b >= a);
        assert!(started.info.anchor.unix_nanos > 1_600_000_000_000_000_000);
        let mut refiner = RateRefiner::new(started);
        assert_eq!(refiner.ticks_per_second(), provisional);
        std::thread::sleep(Duration::from_millis(20));
        if started.info.source == ClockSource::Tsc {
            assert!(refiner.due(), "the baseline grew a hundredfold");
            let refined = refiner.refine();
            assert!(!refiner.due(), "the baseline just measured has not doubled");
            // Measured over 20 ms, against a provisional rate over 200 µs:
            // they agree within what a preemption of the spin can cost.
            assert!((refined / provisional - 1.0).abs() < 0.05, "{refined} vs {provisional}");
            assert_eq!(refiner.ticks_per_second(), refined);
        } else {
            assert!(!refiner.due());
            assert_eq!(refiner.refine(), 1e9);
        }
    }
}
