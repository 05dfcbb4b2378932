//! Times `lmlog_decode::decode_file` on a real file, writing JSON Lines to a
//! file through a `BufWriter<File>`:
//!
//! ```text
//! cargo run --release -p lmlog-decode --example decode_timing -- IN.lmlog OUT.jsonl [RUNS]
//! ```
//!
//! The output file is removed before every run, so that truncating the
//! previous run's output (which may still be under writeback) is not
//! counted. Prints records/s and MB/s of JSON for the decode itself and for
//! decode plus close.

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
        let _ = std::fs::remove_file(&output);
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
