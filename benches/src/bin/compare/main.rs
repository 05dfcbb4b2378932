//! Runs lmlog and the loggers its users would pick instead on the same
//! workload, in one command, and reports them side by side.
//!
//! ```text
//! cargo run --release -p lmlog-benches --bin compare [-- OPTIONS]
//!   --samples N        paced calls timed per latency scenario (default 300000)
//!   --events N         events per saturated scenario (default 2000000)
//!   --quick            small sizes, to check the harness itself works
//!   --only a,b         run only these loggers (lmlog ticklog ftlog slog tracing lmlog-log
//!                      lmlog-tracing python)
//!   --json PATH        where to write the rows (default target/compare.json)
//!   --update-benchmarks PATH   replace the generated part of BENCHMARKS.md
//!   --repeat N         runs of each scenario, the median run reported (default 3)
//!   --keep             keep every run's files under target/compare-run
//! ```
//!
//! Every (logger, scenario) pair runs in a fresh child process of this
//! binary, one after another: `log`, `tracing` and `ticklog` install
//! process-wide loggers that cannot be replaced, and a fresh process gives
//! each logger the same clean start (no warm caches or heap from the
//! previous one). Within a scenario the loggers run back to back, so they
//! see the same machine conditions.

mod measure;
mod peers;
mod python;
mod report;
mod tsc;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use measure::{Row, Sizes, LMLOG_ONLY, SCENARIOS};
use peers::{Ftlog, Lmlog, LogBridge, Order, Peer, Slog, Tracing, TracingBridge, NAMES};
use tsc::Timer;

include!("ticklog_peer.rs");

struct Options {
    sizes: Sizes,
    only: Option<Vec<String>>,
    json: PathBuf,
    update_benchmarks: Option<PathBuf>,
    quick: bool,
    keep: bool,
    /// Runs of each scenario; the median run is reported.
    repeat: u32,
}

fn workspace_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"))
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        sizes: Sizes { samples: 300_000, events: 2_000_000 },
        only: None,
        json: workspace_target().join("compare.json"),
        update_benchmarks: None,
        quick: false,
        keep: false,
        repeat: 3,
    };
    let number = |flag: &str, value: Option<String>| -> Result<u64, String> {
        value
            .as_deref()
            .and_then(|v| v.replace('_', "").parse().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{flag} needs a positive number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--samples" => options.sizes.samples = number("--samples", args.next())?,
            "--events" => options.sizes.events = number("--events", args.next())?,
            "--quick" => {
                options.quick = true;
                options.repeat = 1;
                options.sizes = Sizes { samples: 5_000, events: 20_000 };
            }
            "--only" => {
                let list = args.next().ok_or("--only needs a comma-separated list")?;
                let names: Vec<String> = list.split(',').map(str::to_string).collect();
                if let Some(bad) = names.iter().find(|n| !NAMES.contains(&n.as_str()) && *n != "python") {
                    return Err(format!("--only: unknown logger {bad:?}"));
                }
                options.only = Some(names);
            }
            "--keep" => options.keep = true,
            "--repeat" => options.repeat = number("--repeat", args.next())? as u32,
            "--json" => options.json = args.next().ok_or("--json needs a path")?.into(),
            "--update-benchmarks" => {
                options.update_benchmarks = Some(args.next().ok_or("--update-benchmarks needs a path")?.into())
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (see the doc comment in benches/src/bin/compare/main.rs)"
                ))
            }
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--child") {
        return child(args);
    }
    match parse_options(first.into_iter().chain(args)).and_then(|options| parent(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("compare: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--child LOGGER SCENARIO DIR SAMPLES EVENTS NS_PER_TICK OVERHEAD_TICKS`:
/// runs one scenario and prints its rows as JSON lines.
fn child(mut args: impl Iterator<Item = String>) -> ExitCode {
    let mut next = || args.next().expect("child arguments");
    let (logger, scenario, dir) = (next(), next(), PathBuf::from(next()));
    let sizes = Sizes { samples: next().parse().expect("samples"), events: next().parse().expect("events") };
    let timer =
        Timer { ns_per_tick: next().parse().expect("ns per tick"), overhead_ticks: next().parse().expect("overhead") };
    let rows = match logger.as_str() {
        "lmlog" => measure::run::<Lmlog>(&scenario, &dir, sizes, &timer),
        "tracing" => measure::run::<Tracing>(&scenario, &dir, sizes, &timer),
        "slog" => measure::run::<Slog>(&scenario, &dir, sizes, &timer),
        "ticklog" => measure::run::<Ticklog>(&scenario, &dir, sizes, &timer),
        "ftlog" => measure::run::<Ftlog>(&scenario, &dir, sizes, &timer),
        "lmlog-log" => measure::run::<LogBridge>(&scenario, &dir, sizes, &timer),
        "lmlog-tracing" => measure::run::<TracingBridge>(&scenario, &dir, sizes, &timer),
        other => panic!("unknown logger {other}"),
    };
    for row in rows {
        println!("{}", serde_json::to_string(&row).expect("row to JSON"));
    }
    ExitCode::SUCCESS
}

fn selected(options: &Options, name: &str) -> bool {
    options.only.as_ref().is_none_or(|only| only.iter().any(|n| n == name))
}

fn parent(options: &Options) -> Result<(), String> {
    let timer = Timer::calibrate();
    eprintln!(
        "timer: {:.3} ns per tick, an empty measurement costs {:.1} ns (subtracted)",
        timer.ns_per_tick,
        timer.nanos(timer.overhead_ticks)
    );
    let scratch = workspace_target().join("compare-run");
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut rows: Vec<Row> = Vec::new();
    let lmlog_only = LMLOG_ONLY.iter().map(|s| (*s, &["lmlog"][..]));
    for (scenario, loggers) in SCENARIOS.iter().map(|s| (*s, &NAMES[..])).chain(lmlog_only) {
        for logger in loggers.iter().filter(|n| selected(options, n)) {
            let runs = options.repeat;
            let mut repeated: Vec<Row> = Vec::new();
            for run in 1..=runs {
                let dir = scratch.join(format!("{logger}-{scenario}"));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                eprintln!("running {logger} {scenario} ({run}/{runs})");
                let output = Command::new(&exe)
                    .args(["--child", logger, scenario])
                    .arg(&dir)
                    .args([options.sizes.samples.to_string(), options.sizes.events.to_string()])
                    .args([timer.ns_per_tick.to_string(), timer.overhead_ticks.to_string()])
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
                if !output.status.success() {
                    return Err(format!("{logger} {scenario} failed ({})", output.status));
                }
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    repeated.push(
                        serde_json::from_str(line)
                            .map_err(|e| format!("{logger} {scenario}: bad row {line:?}: {e}"))?,
                    );
                }
                if !options.keep || run < runs {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
            rows.extend(measure::median_of_runs(repeated));
        }
    }
    let python_note = if selected(options, "python") {
        match python::run(&scratch, options.sizes, options.quick) {
            Ok(python_rows) => {
                rows.extend(python_rows);
                None
            }
            Err(note) => {
                eprintln!("{note}");
                Some(note)
            }
        }
    } else {
        None
    };
    if !options.keep {
        let _ = std::fs::remove_dir_all(&scratch);
    }

    if let Some(parent) = options.json.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let json = serde_json::to_string_pretty(&rows).expect("rows to JSON");
    std::fs::write(&options.json, json + "\n").map_err(|e| format!("{}: {e}", options.json.display()))?;
    let markdown = report::markdown(&rows, &timer, options, python_note.as_deref());
    println!("{markdown}");
    eprintln!("wrote {}", options.json.display());
    if let Some(path) = &options.update_benchmarks {
        report::update_benchmarks(path, &markdown)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}
