//! `lmlog-scenario thread-churn FILE`: [`THREADS`] short-lived threads,
//! at most [`ALIVE`] at a time, each named `churn-N` and logging
//! [`EVENTS`] events carrying its number and a sequence number. Prints the
//! process's peak resident memory (`VmHWM` of `/proc/self/status`, in KiB)
//! once every thread has exited and its events are written.

use std::collections::VecDeque;
use std::path::Path;

use lmlog::lm_event;

/// Threads started in all.
pub const THREADS: u32 = 2000;
/// Threads alive at once.
pub const ALIVE: usize = 50;
/// Events per thread.
pub const EVENTS: u32 = 100;

/// A `kB` figure of `/proc/self/status`.
fn status_kib(key: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with(key)).ok_or_else(|| format!("no {key} in /proc/self/status"))?;
    let kib = line.trim_start_matches(key).trim().trim_end_matches("kB").trim();
    Ok(kib.parse()?)
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    let mut alive = VecDeque::with_capacity(ALIVE);
    for worker in 0..THREADS {
        if alive.len() == ALIVE {
            let oldest: std::thread::JoinHandle<()> = alive.pop_front().expect("a thread is alive");
            oldest.join().map_err(|_| "a churn thread panicked")?;
        }
        alive.push_back(std::thread::Builder::new().name(format!("churn-{worker}")).spawn(move || {
            for seq in 0..EVENTS {
                lm_event!(info, "churn", worker, seq);
            }
        })?);
    }
    for thread in alive {
        thread.join().map_err(|_| "a churn thread panicked")?;
    }
    lmlog::flush();
    println!("{}", status_kib("VmHWM:")?);
    Ok(())
}
