//! A FILE ending in `.jsonl` is written with `Config::output_jsonl`, one
//! ending in `.sink` through a custom sink (no staging files), and one
//! ending in `.both` as the binary log with JSON Lines beside it, in the
//! same name ending in `.jsonl`.
//!
//! `lmlog-scenario crash FILE HOW`: logs from three threads, some of it
//! flushed and some not, then dies without shutting lmlog down, `HOW`:
//! `sigkill`, `abort`, `segfault` or `exit`. Prints `committed N` on
//! standard output once `N` events are committed (so the test knows what
//! the log must hold after recovery).
//!
//! `lmlog-scenario crash-loop FILE`: logs numbered events on one thread
//! until killed, printing `committed N` after every 1,000th commit; the
//! test kills it at a random instant.
//!
//! `lmlog-scenario recover FILE`: starts lmlog on FILE (recovering what a
//! dead process left), logs one `restarted` event and shuts down cleanly.

use std::io::Write;
use std::path::Path;

use lmlog::lm_event;

/// Events each of the three threads of `crash` logs.
pub const PER_THREAD: u32 = 20_000;

/// The configuration writing FILE: JSON Lines for a `.jsonl` name; for a
/// `.sink` name a custom sink (no staging files: a fatal signal's handler
/// flushes instead); for a `.both` name the binary log and JSON Lines.
fn config(path: &Path) -> lmlog::Config {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => lmlog::Config::new().output_jsonl(path),
        Some("both") => lmlog::Config::new().output(path).output_jsonl(path.with_extension("jsonl")),
        Some("sink") => match std::fs::File::create(path) {
            Ok(file) => lmlog::Config::new().sink(lmlog::WriteSink(file)),
            Err(e) => panic!("cannot create {}: {e}", path.display()),
        },
        _ => lmlog::Config::new().output(path),
    }
}

pub fn run(path: &Path, how: &str) -> Result<(), Box<dyn std::error::Error>> {
    let guard = lmlog::init(config(path))?;
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            std::thread::Builder::new().name(format!("worker-{t}")).spawn(move || {
                for seq in 0..PER_THREAD {
                    lm_event!(info, "step", thread = t, seq, note = "a committed event survives the process");
                    if seq == PER_THREAD / 2 && t == 0 {
                        lmlog::flush();
                    }
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for thread in threads {
        thread.join().map_err(|_| "a worker panicked")?;
    }
    lm_event!(warn, "last_words", how);
    let mut out = std::io::stdout().lock();
    writeln!(out, "committed {}", 3 * PER_THREAD + 1)?;
    out.flush()?;
    std::mem::forget(guard);
    match how {
        "sigkill" => {
            // SAFETY: sends a signal to this process; no memory is involved.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        // A real invalid access: the kernel raises SIGSEGV at this store.
        // SAFETY: none; the point is to crash. A volatile store is not
        // optimised away.
        "segfault" => unsafe {
            std::ptr::write_volatile(std::ptr::null_mut::<u8>(), 1);
        },
        "abort" => std::process::abort(),
        "exit" => std::process::exit(0),
        _ => return Err(format!("unknown way to die: {how}").into()),
    }
    unreachable!("the process is gone")
}

pub fn run_loop(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path))?;
    let mut out = std::io::stdout().lock();
    for seq in 0u64.. {
        lm_event!(info, "tick", seq);
        if seq % 1000 == 999 {
            writeln!(out, "committed {}", seq + 1)?;
            out.flush()?;
        }
    }
    Ok(())
}

pub fn recover(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(config(path))?;
    lm_event!(info, "restarted");
    Ok(())
}
