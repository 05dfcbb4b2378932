//! The tick clock records carry: the CPU's invariant TSC where the kernel
//! says it is reliable, otherwise a monotonic nanosecond clock.
//!
//! Reading it is the single largest cost of an event, so it is one `rdtsc`
//! on the hot path; conversion to wall time happens in the decoder from the
//! calibration the writer puts in the session frame and in clock frames.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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
    let read = || {
        let before = now();
        let unix_nanos = unix_nanos();
        let width = now().wrapping_sub(before);
        (width, ClockAnchor { ticks: before + width / 2, unix_nanos })
    };
    let mut best = read();
    for _ in 1..ANCHOR_TRIES {
        let next = read();
        if next.0 < best.0 {
            best = next;
        }
    }
    best.1
}

/// How long the tick rate is measured against the monotonic clock: long
/// enough that sleep jitter is a few parts per million of it.
const CALIBRATION_WINDOW: std::time::Duration = std::time::Duration::from_millis(20);

/// The clock's source and rate, calibrated once per process on first use
/// (by `init`, before the writer starts, so no event waits for it) and
/// reused by later runtimes. Its anchor is the calibration's; the writer
/// takes a fresh one for each file.
pub(crate) fn calibrated() -> ClockInfo {
    static CALIBRATION: OnceLock<ClockInfo> = OnceLock::new();
    *CALIBRATION.get_or_init(|| calibrate(CALIBRATION_WINDOW))
}

/// Measures the tick rate against the monotonic clock over `window`.
fn calibrate(window: std::time::Duration) -> ClockInfo {
    let source = source();
    let ticks_per_second = match source {
        ClockSource::MonotonicNanos => 1e9,
        ClockSource::Tsc => {
            let start_instant = Instant::now();
            let start_ticks = now();
            std::thread::sleep(window);
            let end_ticks = now();
            let elapsed = start_instant.elapsed();
            (end_ticks - start_ticks) as f64 / elapsed.as_secs_f64()
        }
    };
    ClockInfo { source, ticks_per_second, anchor: anchor() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_monotonic_and_calibrated() {
        let info = calibrate(std::time::Duration::from_millis(5));
        assert!(info.ticks_per_second > 1e6, "{info:?}");
        let a = now();
        let b = now();
        assert!(b >= a);
        assert!(info.anchor.unix_nanos > 1_600_000_000_000_000_000);
    }
}
