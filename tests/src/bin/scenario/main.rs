//! `lmlog-scenario`: programs that use the lmlog runtime in a process of
//! their own, run by the tests in `tests/` as child processes (the runtime
//! is process-wide, so each scenario needs a fresh process).
//!
//! Usage: `lmlog-scenario <name> <args...>`; see each module.

use std::path::PathBuf;
use std::process::ExitCode;

mod generic_sites;
mod golden;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("golden") if args.len() == 2 => golden::run(&PathBuf::from(&args[1])),
        Some("generic-sites") if args.len() == 2 => generic_sites::run(&PathBuf::from(&args[1])),
        _ => Err("usage: lmlog-scenario (golden DIR | generic-sites FILE)".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lmlog-scenario: {e}");
            ExitCode::FAILURE
        }
    }
}
