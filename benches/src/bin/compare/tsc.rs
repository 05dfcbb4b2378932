//! The timer the latency scenarios read around every single call: the CPU's
//! time-stamp counter, fenced so the call under test cannot drift outside
//! the two reads, and calibrated against the monotonic clock.

use std::time::{Duration, Instant};

/// Reads the counter before the measured code; the fences keep earlier
/// instructions from finishing late and later ones from starting early.
#[inline(always)]
pub fn start() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `lfence` and `rdtsc` exist on every x86_64 CPU and have no
    // preconditions.
    unsafe {
        use core::arch::x86_64::{_mm_lfence, _rdtsc};
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
    #[cfg(not(target_arch = "x86_64"))]
    fallback_nanos()
}

/// Reads the counter after the measured code: `rdtscp` waits for every
/// earlier instruction, the fence keeps later ones from starting early.
#[inline(always)]
pub fn stop() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `start`; `rdtscp` exists on every x86_64 CPU made since
    // 2008 and writes only `aux`.
    unsafe {
        use core::arch::x86_64::{__rdtscp, _mm_lfence};
        let mut aux = 0u32;
        let t = __rdtscp(&mut aux);
        _mm_lfence();
        t
    }
    #[cfg(not(target_arch = "x86_64"))]
    fallback_nanos()
}

#[cfg(not(target_arch = "x86_64"))]
fn fallback_nanos() -> u64 {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The counter's rate and the cost of reading it.
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    /// Nanoseconds per counter tick.
    pub ns_per_tick: f64,
    /// Median ticks between `start()` and `stop()` with nothing in between:
    /// subtracted from every measurement.
    pub overhead_ticks: u64,
}

/// Median net cost, in nanoseconds, of one plain counter read inside the
/// timed region: the floor for any logger that timestamps each event on the
/// calling thread with the TSC.
pub fn clock_read_floor_ns(timer: &Timer) -> f64 {
    let mut samples: Vec<u64> = (0..200_001)
        .map(|_| {
            let a = start();
            std::hint::black_box(read_plain());
            let b = stop();
            b - a
        })
        .collect();
    samples.sort_unstable();
    timer.nanos(samples[samples.len() / 2].saturating_sub(timer.overhead_ticks))
}

/// An unfenced counter read, as a logger's hot path does it.
#[inline(always)]
fn read_plain() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` exists on every x86_64 CPU and has no preconditions.
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    fallback_nanos()
}

impl Timer {
    /// Measures the counter's rate over 100 ms of wall time and the cost of
    /// an empty measurement.
    pub fn calibrate() -> Timer {
        let wall = Instant::now();
        let t0 = start();
        while wall.elapsed() < Duration::from_millis(100) {
            std::hint::spin_loop();
        }
        let t1 = stop();
        let ns_per_tick = wall.elapsed().as_nanos() as f64 / (t1 - t0).max(1) as f64;
        let mut empty: Vec<u64> = (0..200_001)
            .map(|_| {
                let a = start();
                let b = stop();
                b - a
            })
            .collect();
        empty.sort_unstable();
        Timer { ns_per_tick, overhead_ticks: empty[empty.len() / 2] }
    }

    /// Ticks in `ns` nanoseconds.
    pub fn ticks(&self, ns: f64) -> u64 {
        (ns / self.ns_per_tick) as u64
    }

    /// The cost in picoseconds of a measurement that took `ticks`.
    pub fn net_picos(&self, ticks: u64) -> u64 {
        (ticks.saturating_sub(self.overhead_ticks) as f64 * self.ns_per_tick * 1000.0) as u64
    }

    /// Nanoseconds in `ticks`.
    pub fn nanos(&self, ticks: u64) -> f64 {
        ticks as f64 * self.ns_per_tick
    }

    /// Spins until the counter reaches `deadline`.
    #[inline(always)]
    pub fn spin_until(deadline: u64) {
        while start() < deadline {
            std::hint::spin_loop();
        }
    }
}
