//! `lmlog-scenario`: programs that use the lmlog runtime in a process of
//! their own, run by the tests in `tests/` as child processes (the runtime
//! is process-wide, so each scenario needs a fresh process).
//!
//! Usage: `lmlog-scenario <name> <args...>`; see each module.

use std::path::PathBuf;
use std::process::ExitCode;

mod append;
mod bridges;
mod clock_accuracy;
mod config_file;
mod console;
mod crash;
mod custom_sink_settings;
mod early_exit;
mod env_filter;
mod failing_rotation;
mod failing_sink;
mod field_types;
mod file_modes;
mod filters;
mod flight;
mod fn_attributes;
mod fuzz_corpus;
mod generic_sites;
mod global_context;
mod golden;
mod interleaved;
mod jsonl_rotation;
mod jsonl_tail;
mod live_jsonl;
mod live_series;
mod many_sites;
mod operations;
mod otel;
mod oversized;
mod panicking_thread;
mod process_sampling;
mod pyshape;
mod record_size;
mod reentrant;
mod rotation;
mod round_trip;
mod sampling;
mod saturated_compression;
mod sink_outage;
mod stats;
mod summary;
mod thread_churn;
mod time_rotation;
mod vocabulary;

const USAGE: &str = "usage: lmlog-scenario (append FILE RUN (append|truncate) | bridges (log|tracing|service|log-tracer) FILE | clock-accuracy DIR (burst|short|sleeps|rotated) | config-file CONFIG | console (alone|alone-rotate|file|file-jsonl|running|slow-drop|jsonl-full) DIR | crash FILE (sigkill|abort|segfault|exit) \
                     | crash-loop FILE | custom-sink-settings | early-exit FILE | env-filter FILE \
                     | failing-rotation DIR SPILL_BYTES | failing-sink FILE SPILL_BYTES | field-types FILE | file-modes DIR | filters FILE | fn-attributes FILE | golden DIR | generic-sites FILE | interleaved FILE \
                     | jsonl-rotation DIR | jsonl-tail FILE | live-jsonl FILE | live-series DIR (exit|hold) | operations FILE | global-context DIR | otel FILE | pyshape FILE | record-size FILE (off|always) \
                     | recover FILE | rotation DIR RUN | rotation-burst DIR | round-trip FILE | sink-outage PATH MODE \
                     | summary FILE EVENTS | time-rotation DIR | vocabulary FILE \
                     | fuzz-corpus DIR (off|always) \
                     | panicking-thread FILE \
                     | reentrant FILE \
                     | many-sites FILE \
                     | oversized FILE (block|drop) (middle|last) \
                     | thread-churn FILE \
                     | sampling FILE | saturated-compression FILE (adaptive|always|off) | stats FILE \
                     | flight FILE (error|no-error|threads|sampled) \
                     | process-sampling (levels|adaptive|sampler|trace) FILE)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("append") if args.len() == 4 => append::run(&PathBuf::from(&args[1]), &args[2], &args[3]),
        Some("bridges") if args.len() == 3 => bridges::run(&args[1], &PathBuf::from(&args[2])),
        Some("clock-accuracy") if args.len() == 3 => clock_accuracy::run(&PathBuf::from(&args[1]), &args[2]),
        Some("config-file") if args.len() == 2 => config_file::run(&PathBuf::from(&args[1])),
        Some("console") if args.len() == 3 => console::run(&args[1], &PathBuf::from(&args[2])),
        Some("custom-sink-settings") if args.len() == 1 => custom_sink_settings::run(),
        Some("early-exit") if args.len() == 2 => early_exit::run(&PathBuf::from(&args[1])),
        Some("env-filter") if args.len() == 2 => env_filter::run(&PathBuf::from(&args[1])),
        Some("crash") if args.len() == 3 => crash::run(&PathBuf::from(&args[1]), &args[2]),
        Some("crash-loop") if args.len() == 2 => crash::run_loop(&PathBuf::from(&args[1])),
        Some("recover") if args.len() == 2 => crash::recover(&PathBuf::from(&args[1])),
        Some("failing-rotation") if args.len() == 3 => {
            bytes(&args[2]).and_then(|spill| failing_rotation::run(&PathBuf::from(&args[1]), spill))
        }
        Some("failing-sink") if args.len() == 3 => {
            bytes(&args[2]).and_then(|spill| failing_sink::run(&PathBuf::from(&args[1]), spill))
        }
        Some("field-types") if args.len() == 2 => field_types::run(&PathBuf::from(&args[1])),
        Some("file-modes") if args.len() == 2 => file_modes::run(&PathBuf::from(&args[1])),
        Some("filters") if args.len() == 2 => filters::run(&PathBuf::from(&args[1])),
        Some("fn-attributes") if args.len() == 2 => fn_attributes::run(&PathBuf::from(&args[1])),
        Some("generic-sites") if args.len() == 2 => generic_sites::run(&PathBuf::from(&args[1])),
        Some("golden") if args.len() == 2 => golden::run(&PathBuf::from(&args[1])),
        Some("interleaved") if args.len() == 2 => interleaved::run(&PathBuf::from(&args[1])),
        Some("jsonl-rotation") if args.len() == 2 => jsonl_rotation::run(&PathBuf::from(&args[1])),
        Some("jsonl-tail") if args.len() == 2 => jsonl_tail::run(&PathBuf::from(&args[1])),
        Some("live-jsonl") if args.len() == 2 => live_jsonl::run(&PathBuf::from(&args[1])),
        Some("live-series") if args.len() == 3 => live_series::run(&PathBuf::from(&args[1]), &args[2]),
        Some("operations") if args.len() == 2 => operations::run(&PathBuf::from(&args[1])),
        Some("global-context") if args.len() == 2 => global_context::run(&PathBuf::from(&args[1])),
        Some("otel") if args.len() == 2 => otel::run(&PathBuf::from(&args[1])),
        Some("pyshape") if args.len() == 2 => pyshape::run(&PathBuf::from(&args[1])),
        Some("record-size") if args.len() == 3 => record_size::run(&PathBuf::from(&args[1]), &args[2]),
        Some("rotation-burst") if args.len() == 2 => rotation::run_burst(&PathBuf::from(&args[1])),
        Some("rotation") if args.len() == 3 => rotation::run(&PathBuf::from(&args[1]), &args[2]),
        Some("round-trip") if args.len() == 2 => round_trip::run(&PathBuf::from(&args[1])),
        Some("sink-outage") if args.len() == 3 => sink_outage::run(&PathBuf::from(&args[1]), &args[2]),
        Some("summary") if args.len() == 3 => summary::run(&PathBuf::from(&args[1]), &args[2]),
        Some("time-rotation") if args.len() == 2 => time_rotation::run(&PathBuf::from(&args[1])),
        Some("vocabulary") if args.len() == 2 => vocabulary::run(&PathBuf::from(&args[1])),
        Some("fuzz-corpus") if args.len() == 3 => fuzz_corpus::run(&PathBuf::from(&args[1]), &args[2]),
        Some("panicking-thread") if args.len() == 2 => panicking_thread::run(&PathBuf::from(&args[1])),
        Some("reentrant") if args.len() == 2 => reentrant::run(&PathBuf::from(&args[1])),
        Some("many-sites") if args.len() == 2 => many_sites::run(&PathBuf::from(&args[1])),
        Some("oversized") if args.len() == 4 => oversized::run(&PathBuf::from(&args[1]), &args[2], &args[3]),
        Some("thread-churn") if args.len() == 2 => thread_churn::run(&PathBuf::from(&args[1])),
        Some("sampling") if args.len() == 2 => sampling::run(&PathBuf::from(&args[1])),
        Some("saturated-compression") if args.len() == 3 => {
            saturated_compression::run(&PathBuf::from(&args[1]), &args[2])
        }
        Some("stats") if args.len() == 2 => stats::run(&PathBuf::from(&args[1])),
        Some("flight") if args.len() == 3 => flight::run(&PathBuf::from(&args[1]), &args[2]),
        Some("process-sampling") if args.len() == 3 => process_sampling::run(&args[1], &PathBuf::from(&args[2])),
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

/// A byte count argument.
fn bytes(arg: &str) -> Result<usize, Box<dyn std::error::Error>> {
    arg.parse().map_err(|_| format!("not a byte count: {arg}\n{USAGE}").into())
}
