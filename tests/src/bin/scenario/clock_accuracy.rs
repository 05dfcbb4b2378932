//! `lmlog-scenario clock-accuracy DIR (burst|short|sleeps|rotated)`: logs
//! `stamp` events into `DIR/app.lmlog`, each carrying `wall`, the wall
//! clock (`SystemTime`, Unix nanoseconds) read right before the event, so
//! that a test can compare the decoded timestamp with it. Prints the
//! number of events logged.
//!
//! - `burst`: a 5 ms program: an event every 100 µs, then the guard drops.
//! - `short`: a 50 ms program: an event every 250 µs.
//! - `sleeps`: groups of events (1 ms apart) between sleeps of 20, 120 and
//!   250 ms, so the writer drains and re-anchors in between.
//! - `rotated`: as `sleeps`, with a 4 KiB file limit and a 400-byte padding field
//!   (uncompressed),
//!   so that the events spread over several files of a rotated series.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lmlog::lm_event;

pub fn run(dir: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let path = dir.join("app.lmlog");
    let config = lmlog::Config::new().output(&path).env_filter(false);
    let (config, padding) = match mode {
        "rotated" => (config.rotate(4 << 10, 1000).compression(lmlog::Compression::Off), "p".repeat(400)),
        "burst" | "short" | "sleeps" => (config, String::new()),
        _ => return Err(format!("unknown clock-accuracy mode {mode}").into()),
    };
    let guard = lmlog::init(config)?;
    // The thread's first event creates its staging buffer: not part of
    // what the `stamp` events measure.
    lm_event!(info, "warm_up");
    let mut seq = 0u64;
    let mut stamp = |seq: &mut u64| {
        // The wall clock, read as close to the event's own clock read as
        // the call allows.
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        lm_event!(info, "stamp", seq = *seq, wall, padding = padding.as_str());
        *seq += 1;
    };
    match mode {
        "burst" => paced(&mut seq, &mut stamp, 50, Duration::from_micros(100)),
        "short" => paced(&mut seq, &mut stamp, 200, Duration::from_micros(250)),
        _ => {
            for pause in [20, 120, 250, 0] {
                paced(&mut seq, &mut stamp, 10, Duration::from_millis(1));
                std::thread::sleep(Duration::from_millis(pause));
            }
        }
    }
    drop(guard);
    println!("{seq}");
    Ok(())
}

/// Logs `events` events `every` apart, spinning in between (a sleep this
/// short would last far longer than asked).
fn paced(seq: &mut u64, stamp: &mut impl FnMut(&mut u64), events: u64, every: Duration) {
    let start = Instant::now();
    for i in 0..events {
        while start.elapsed() < every * i as u32 {
            std::hint::spin_loop();
        }
        stamp(seq);
    }
}
