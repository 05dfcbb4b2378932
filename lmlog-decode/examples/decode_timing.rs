//! Times `lmlog_decode::decode_file` on a real file, writing JSON Lines to a
//! file through a `BufWriter<File>`:
//!
//! ```text
//! cargo run --release -p lmlog-decode --example decode_timing -- IN.lmlog OUT.jsonl [RUNS]
//! ```
//!
//! If OUT.jsonl is a regular file, it is removed before every run: truncating
//! the previous run's output instead would be counted too (on ext4, with its
//! default `auto_da_alloc`, truncating a file to zero also makes its next
//! close start writeback of everything written since). Prints records/s and
//! MB/s of JSON, timed from the call to `decode_file` until the output is
//! written, flushed and closed.

use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: decode_timing IN.lmlog OUT.jsonl [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    for run in 1..=runs {
        // Never remove anything but a regular file (`/dev/null` stays).
        if std::fs::symlink_metadata(&output).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&output).expect("remove the previous output");
        }
        let t0 = Instant::now();
        let file = File::create(&output).expect("create output");
        let t1 = Instant::now();
        let summary = lmlog_decode::decode_file(&input, BufWriter::new(file)).expect("decode");
        let t2 = Instant::now();
        let bytes = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
        let decode = (t2 - t1).as_secs_f64();
        println!(
            "run {run}: {} events, {:.1} MB JSON, create {:.3}s, decode+close {:.3}s: {:.2} M records/s, {:.0} MB/s{}",
            summary.events,
            bytes as f64 / 1e6,
            (t1 - t0).as_secs_f64(),
            decode,
            summary.events as f64 / decode / 1e6,
            bytes as f64 / decode / 1e6,
            if summary.is_clean() { "" } else { " (damage reported)" },
        );
    }
}
