//! `lmlog-scenario`: programs that use the lmlog runtime in a process of
//! their own, run by the tests in `tests/` as child processes (the runtime
//! is process-wide, so each scenario needs a fresh process).
//!
//! Usage: `lmlog-scenario <name> <args...>`; see each module.

use std::path::PathBuf;
use std::process::ExitCode;

mod crash;
mod failing_rotation;
mod failing_sink;
mod generic_sites;
mod golden;
mod live_jsonl;
mod otel;
mod record_size;
mod rotation;
mod round_trip;

const USAGE: &str =
    "usage: lmlog-scenario (crash FILE (sigkill|abort|segfault|exit) | crash-loop FILE | recover FILE | failing-rotation DIR | failing-sink FILE | golden DIR | generic-sites FILE | live-jsonl FILE | otel FILE \
                     | record-size FILE (off|always) | rotation DIR | round-trip FILE)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("golden") if args.len() == 2 => golden::run(&PathBuf::from(&args[1])),
        Some("crash") if args.len() == 3 => crash::run(&PathBuf::from(&args[1]), &args[2]),
        Some("crash-loop") if args.len() == 2 => crash::run_loop(&PathBuf::from(&args[1])),
        Some("recover") if args.len() == 2 => crash::recover(&PathBuf::from(&args[1])),
        Some("failing-rotation") if args.len() == 2 => failing_rotation::run(&PathBuf::from(&args[1])),
        Some("failing-sink") if args.len() == 2 => failing_sink::run(&PathBuf::from(&args[1])),
        Some("generic-sites") if args.len() == 2 => generic_sites::run(&PathBuf::from(&args[1])),
        Some("live-jsonl") if args.len() == 2 => live_jsonl::run(&PathBuf::from(&args[1])),
        Some("otel") if args.len() == 2 => otel::run(&PathBuf::from(&args[1])),
        Some("record-size") if args.len() == 3 => record_size::run(&PathBuf::from(&args[1]), &args[2]),
        Some("rotation") if args.len() == 2 => rotation::run(&PathBuf::from(&args[1])),
        Some("round-trip") if args.len() == 2 => round_trip::run(&PathBuf::from(&args[1])),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lmlog-scenario: {e}");
            ExitCode::FAILURE
        }
    }
}
