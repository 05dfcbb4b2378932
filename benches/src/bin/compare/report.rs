//! The Markdown report: side-by-side tables, ratios to lmlog, and each
//! target of the performance brief checked against the measured rows.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::measure::{
    Row, ADAPTIVE_FLOOD, DECODE, DECODE_SORTED, DISABLED_PACED, GENERIC_SITE, REJECTED_BATCHED, STARTUP,
    STARTUP_PROCESSES, SUMMARY,
};
use crate::tsc::Timer;
use crate::Options;

const BEGIN: &str = "<!-- compare:begin -->";
const END: &str = "<!-- compare:end -->";
const PYTHON: &str = "python-lmlog-0.3.0";

fn find<'a>(rows: &'a [Row], logger: &str, scenario: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.logger == logger && r.scenario == scenario)
}

fn ns(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 10.0 => format!("{v:.2} ns"),
        Some(v) if v < 1000.0 => format!("{v:.1} ns"),
        Some(v) if v < 1e6 => format!("{:.2} µs", v / 1e3),
        Some(v) => format!("{:.2} ms", v / 1e6),
    }
}

fn rate(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 1e6 => format!("{:.2} M/s", v / 1e6),
        Some(v) => format!("{:.1} k/s", v / 1e3),
    }
}

/// The p99.9 of the median run, with the lowest and highest of all runs.
fn p999_with_range(row: &Row) -> String {
    match row.p999_ns_range {
        Some((lo, hi)) if row.runs > 1 => format!("{} ({}–{})", ns(row.p999_ns), ns(Some(lo)), ns(Some(hi))),
        _ => ns(row.p999_ns),
    }
}

/// The median rate of a repeated scenario, with the slowest and fastest run.
fn rate_with_range(row: Option<&Row>) -> String {
    let Some(row) = row else { return "–".into() };
    match row.events_per_sec_range {
        Some((lo, hi)) if row.runs > 1 => {
            format!(
                "{} ({}–{})",
                rate(row.events_per_sec),
                rate(Some(lo)).trim_end_matches("/s"),
                rate(Some(hi)).trim_end_matches("/s")
            )
        }
        _ => rate(row.events_per_sec),
    }
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.1}×", n / d),
        _ => "–".into(),
    }
}

/// `a - b` in ns, signed.
fn difference(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:+.1} ns", a - b),
        _ => "–".into(),
    }
}

fn bytes(v: Option<f64>) -> String {
    v.map_or("–".into(), |b| format!("{b:.1}"))
}

fn dropped(v: Option<u64>) -> String {
    v.map_or("–".into(), |d| d.to_string())
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel =
        std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(|_| "?".into(), |s| s.trim().to_string());
    let rustc = command_output("rustc", &["-V"]).unwrap_or_else(|| "rustc ?".into());
    format!("{cpu}, {cores} logical CPUs, Linux {kernel}, {rustc}")
}

/// The generated part of BENCHMARKS.md.
pub fn markdown(rows: &[Row], timer: &Timer, options: &Options, python_note: Option<&str>) -> String {
    let mut md = String::new();
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let _ = writeln!(md, "Generated {date} by `cargo run --release -p lmlog-benches --bin compare`");
    let _ = writeln!(
        md,
        "(samples per paced scenario: {}, events per saturated scenario: {}{}).\n",
        options.sizes.samples,
        options.sizes.events,
        if options.quick { ", --quick: too small to quote" } else { "" }
    );
    let _ = writeln!(md, "Machine: {}.", machine());
    let _ = writeln!(
        md,
        "Timer: TSC at {:.3} ns per tick; an empty timed region costs {:.1} ns and is subtracted from every sample. \
         One plain TSC read inside the region costs {:.1} ns: the floor for a logger that timestamps on the calling thread.\n",
        timer.ns_per_tick,
        timer.nanos(timer.overhead_ticks),
        crate::tsc::clock_read_floor_ns(timer),
    );
    let loggers: Vec<&str> = {
        let mut seen: Vec<&str> = Vec::new();
        for r in rows {
            if !seen.contains(&r.logger.as_str()) {
                seen.push(&r.logger);
            }
        }
        seen
    };

    for (scenario, title) in [
        (
            "paced_3_fields",
            "Paced latency, 3-field `cache_miss` (`&str`, `u32`, `f64`): one call, ~1.5 µs pause, every call timed; the run with the median p99.9, lowest–highest p99.9 in brackets",
        ),
        ("paced_8_fields", "Paced latency, 8-field derived struct"),
    ] {
        let base = find(rows, "lmlog", scenario).and_then(|r| r.median_ns);
        let _ = writeln!(md, "### {title}\n");
        let _ = writeln!(
            md,
            "| logger | median | p99 | p99.9 | max | median vs lmlog | bytes per event on disk | dropped |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for logger in &loggers {
            if let Some(r) = find(rows, logger, scenario) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.logger,
                    ns(r.median_ns),
                    ns(r.p99_ns),
                    p999_with_range(r),
                    ns(r.max_ns),
                    ratio(r.median_ns, base),
                    bytes(r.bytes_per_event),
                    dropped(r.dropped)
                );
            }
        }
        md.push('\n');
    }

    if let (Some(kept), Some(rejected)) = (find(rows, "lmlog", "sampled_kept"), find(rows, "lmlog", "sampled_rejected"))
    {
        let plain = find(rows, "lmlog", "paced_3_fields");
        let _ = writeln!(
            md,
            "### Sampled and tagged call sites, lmlog only: the 3-field event with `sample: 0.999999` (kept) and `sample: 0.000001` (rejected), and inside an operation, paced as above\n"
        );
        let _ = writeln!(md, "| call | median | mean below p99 | p99 | p99.9 | mean vs plain | unaccounted |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
        let tagged = find(rows, "lmlog", "operation_tagged");
        for (what, r) in [
            ("plain (no sampling)", plain),
            ("kept", Some(kept)),
            ("rejected", Some(rejected)),
            (
                "rejected, back to back (each sample the mean of a batch of 1000, as the disabled call)",
                find(rows, "lmlog", REJECTED_BATCHED),
            ),
            (
                "disabled by its level, paced: the paced harness's floor for any call site",
                find(rows, "lmlog", DISABLED_PACED),
            ),
            ("plain, inside an operation (`lm_operation!`)", tagged),
            ("two event types in turn through one generic call site", find(rows, "lmlog", GENERIC_SITE)),
        ] {
            if let Some(r) = r {
                let _ = writeln!(
                    md,
                    "| {what} | {} | {} | {} | {} | {} | {} |",
                    ns(r.median_ns),
                    ns(r.mean_below_p99_ns),
                    ns(r.p99_ns),
                    ns(r.p999_ns),
                    difference(r.mean_below_p99_ns, plain.and_then(|p| p.mean_below_p99_ns)),
                    dropped(r.dropped)
                );
            }
        }
        md.push('\n');
    }

    if let Some(r) = find(rows, "lmlog", ADAPTIVE_FLOOD) {
        let _ = writeln!(
            md,
            "### Adaptive target under a flood, lmlog only: one thread logs the 3-field event as fast as it can for 6 s with `Config::max_events_per_second`; kept rate over seconds 3 to 6\n"
        );
        let _ = writeln!(
            md,
            "| target | kept once converged | vs target | emitted | CPU per emitted event | unaccounted |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            rate(r.target_per_sec),
            rate(r.events_per_sec),
            ratio(r.events_per_sec, r.target_per_sec),
            r.events,
            ns(r.cpu_ns_per_event),
            dropped(r.dropped)
        );
        md.push('\n');
    }

    if let Some(r) = find(rows, "lmlog", STARTUP) {
        let _ = writeln!(
            md,
            "### Start-up, lmlog only: a short program in a fresh process calls `init`, logs 220 3-field events and drops the guard; medians over {} processes\n",
            STARTUP_PROCESSES
        );
        let _ = writeln!(md, "| `init` | whole program (`init` to the guard dropped) | unaccounted |");
        let _ = writeln!(md, "|---:|---:|---:|");
        let _ = writeln!(md, "| {} | {} | {} |", ns(r.init_ns), ns(r.program_ns), dropped(r.dropped));
        md.push('\n');
    }

    let _ = writeln!(md, "### Disabled call (below the active level; mean of batches of 1000 calls)\n");
    let _ = writeln!(md, "| logger | median | p99 |");
    let _ = writeln!(md, "|---|---:|---:|");
    for logger in &loggers {
        if let Some(r) = find(rows, logger, "disabled") {
            let _ = writeln!(md, "| {} | {} | {} |", r.logger, ns(r.median_ns), ns(r.p99_ns));
        }
    }
    md.push('\n');

    let _ = writeln!(md, "### Saturated throughput, 3-field event, end to end (until the file holds every event); median of the runs, slowest–fastest in brackets\n");
    let base = find(rows, "lmlog", "saturated_1").and_then(|r| r.events_per_sec);
    let _ = writeln!(md, "| logger | 1 producer | 2 producers | lmlog is faster by (1 producer) | bytes per event on disk | dropped (1 / 2) |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for logger in &loggers {
        let one = find(rows, logger, "saturated_1");
        let two = find(rows, logger, "saturated_2");
        if one.is_none() && two.is_none() {
            continue;
        }
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} / {} |",
            logger,
            rate_with_range(one),
            rate_with_range(two),
            ratio(base, one.and_then(|r| r.events_per_sec)),
            bytes(one.and_then(|r| r.bytes_per_event)),
            dropped(one.and_then(|r| r.dropped)),
            dropped(two.and_then(|r| r.dropped)),
        );
    }
    md.push('\n');

    let decodes = [
        (DECODE, "the 1-producer file, as stored (`--unordered`)"),
        (DECODE_SORTED, "the 2-producer file, both threads merged by time (the default)"),
    ];
    if decodes.iter().any(|(name, _)| find(rows, "lmlog", name).is_some()) {
        let _ = writeln!(md, "### Decode: `lmlog-decode` turning a saturated run's file into JSON Lines, one core\n");
        let _ = writeln!(md, "| input | records | records/s (median of the runs, slowest–fastest) | JSON MB/s |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        for (name, what) in decodes {
            if let Some(r) = find(rows, "lmlog", name) {
                let _ = writeln!(
                    md,
                    "| {what} | {} | {} | {:.0} |",
                    r.events,
                    rate_with_range(Some(r)),
                    r.json_mb_per_sec.unwrap_or(0.0)
                );
            }
        }
        md.push('\n');
    }
    if let Some(r) = find(rows, "lmlog", SUMMARY) {
        let _ = writeln!(md, "### Summary: `lmlog-decode summary` of the 1-producer file, one core\n");
        let _ = writeln!(md, "| records | records/s (median of the runs, slowest–fastest) | seconds | digest |");
        let _ = writeln!(md, "|---:|---:|---:|---:|");
        let seconds = r.events_per_sec.map_or(0.0, |eps| r.events as f64 / eps);
        let _ = writeln!(
            md,
            "| {} | {} | {seconds:.2} s | {} bytes of text |\n",
            r.events,
            rate_with_range(Some(r)),
            r.digest_bytes.unwrap_or(0)
        );
    }
    if let Some(note) = python_note {
        let _ = writeln!(md, "Note: {note}.\n");
    }

    let _ = writeln!(md, "### Targets\n");
    let _ = writeln!(md, "| target | measured | met | measured vs target |");
    let _ = writeln!(md, "|---|---:|:---:|---:|");
    for t in targets(rows) {
        let verdict = if t.met() { "yes" } else { "**no**" };
        let margin = if t.met() {
            format!("{:.2}× better", t.margin)
        } else {
            format!("{:.2}× short", 1.0 / t.margin.max(f64::MIN_POSITIVE))
        };
        let _ = writeln!(md, "| {} | {} | {verdict} | {margin} |", t.what, t.measured);
    }
    md
}

/// One target of the brief, checked against the measured rows.
struct Target {
    what: &'static str,
    measured: String,
    /// How many times better than the target the measurement is: at least 1
    /// means met (for "≤ x" targets, x / measured; for "≥ x", measured / x).
    margin: f64,
}

impl Target {
    fn met(&self) -> bool {
        self.margin >= 1.0
    }
}

/// Each target of the brief: what it asks, what was measured, by how much
/// it is beaten or missed. A target whose inputs were not measured in this
/// run is left out.
fn targets(rows: &[Row]) -> Vec<Target> {
    let get = |logger: &str, scenario: &str| find(rows, logger, scenario);
    let mut out = Vec::new();
    let mut push = |what, measured, margin| out.push(Target { what, measured, margin });
    if let Some(median) = get("lmlog", "paced_3_fields").and_then(|r| r.median_ns) {
        push("paced 3-field median ≤ 15 ns", ns(Some(median)), 15.0 / median);
        if let Some(p999) = get("lmlog", "paced_3_fields").and_then(|r| r.p999_ns) {
            push("paced 3-field p99.9 ≤ 100 ns", ns(Some(p999)), 100.0 / p999);
        }
        if let Some(tracing) = get("tracing", "paced_3_fields").and_then(|r| r.median_ns) {
            push(
                "median ≥ 30× lower than tracing JSON + non_blocking",
                format!("{:.0}×", tracing / median),
                tracing / median / 30.0,
            );
        }
        if let Some(ticklog) = get("ticklog", "paced_3_fields").and_then(|r| r.median_ns) {
            push(
                "median not slower than ticklog's",
                format!("{} vs {}", ns(Some(median)), ns(Some(ticklog))),
                ticklog / median,
            );
        }
    }
    // The bridges against tracing's JSON formatter on the same calls.
    if let Some(tracing) = get("tracing", "paced_3_fields").and_then(|r| r.median_ns) {
        for (bridge, what) in [
            ("lmlog-log", "`log` through the bridge: median ≥ 10× lower than tracing JSON"),
            ("lmlog-tracing", "`tracing` through the layer: median ≥ 10× lower than tracing JSON"),
        ] {
            if let Some(median) = get(bridge, "paced_3_fields").and_then(|r| r.median_ns) {
                push(what, format!("{:.0}×", tracing / median), tracing / median / 10.0);
            }
        }
    }
    if let Some(r) = get("lmlog", "saturated_1") {
        let eps = r.events_per_sec.unwrap_or(0.0);
        let lossless = r.dropped == Some(0);
        push(
            "saturated, 1 producer, lossless ≥ 20 M events/s",
            format!("{} ({} dropped)", rate(Some(eps)), dropped(r.dropped)),
            if lossless { eps / 20e6 } else { 0.0 },
        );
        // Under saturation the writer stores records uncompressed rather than
        // make producers wait; the paced file shows the size at ordinary load.
        let paced = get("lmlog", "paced_3_fields").and_then(|p| p.bytes_per_event).unwrap_or(f64::INFINITY);
        let saturated = r.bytes_per_event.unwrap_or(f64::INFINITY);
        push(
            "≤ 16 bytes per 3-field event on disk",
            format!("{paced:.1} B paced, {saturated:.1} B saturated"),
            16.0 / paced,
        );
        if let Some(python) = get(PYTHON, "saturated_1").and_then(|p| p.events_per_sec) {
            push("≥ 1000× the Python LMLog's events/s", format!("{:.0}×", eps / python), eps / python / 1000.0);
        }
    }
    if let Some(r) = get("lmlog", DECODE) {
        let rps = r.events_per_sec.unwrap_or(0.0);
        push("decode ≥ 5 M records/s to JSONL", rate(Some(rps)), rps / 5e6);
    }
    if let Some(r) = get("lmlog", SUMMARY) {
        let per_million = r.events_per_sec.map_or(f64::INFINITY, |eps| 1e6 / eps);
        push("summary of 1 M events in under 1 s", format!("{per_million:.2} s per million"), 1.0 / per_million);
        let bytes = r.digest_bytes.unwrap_or(u64::MAX) as f64;
        push("summary text ≤ 4 KiB", format!("{bytes:.0} bytes"), 4096.0 / bytes);
    }
    if let Some(r) = get("lmlog", DECODE_SORTED) {
        let rps = r.events_per_sec.unwrap_or(0.0);
        push("time-ordered decode ≥ 4 M records/s", rate(Some(rps)), rps / 4e6);
    }
    // Differences of a few ns: the means below the p99 (the medians move
    // in the timer's steps).
    let plain = get("lmlog", "paced_3_fields").and_then(|r| r.mean_below_p99_ns);
    if let (Some(plain), Some(kept)) = (plain, get("lmlog", "sampled_kept").and_then(|r| r.mean_below_p99_ns)) {
        push(
            "sampled call site, kept: ≤ 3 ns over plain",
            format!("+{:.1} ns", kept - plain),
            3.0 / (kept - plain).max(0.1),
        );
    }
    // Timed as the disabled call is (back to back); the paced figure and
    // the paced harness's floor (a disabled call) beside it.
    if let Some(batched) = get("lmlog", REJECTED_BATCHED).and_then(|r| r.mean_below_p99_ns) {
        let paced = get("lmlog", "sampled_rejected").and_then(|r| r.mean_below_p99_ns);
        let floor = get("lmlog", DISABLED_PACED).and_then(|r| r.mean_below_p99_ns);
        let detail = match (paced, floor) {
            (Some(paced), Some(floor)) => format!(" (paced {paced:.1} ns, where a disabled call reads {floor:.1} ns)"),
            _ => String::new(),
        };
        push(
            "sampled call site, rejected: < 6 ns",
            format!("{batched:.1} ns back to back{detail}"),
            6.0 / batched.max(0.01),
        );
    }
    if let (Some(plain), Some(tagged)) = (plain, get("lmlog", "operation_tagged").and_then(|r| r.mean_below_p99_ns)) {
        push(
            "event inside an operation: ≤ 2 ns over plain",
            format!("+{:.1} ns", tagged - plain),
            2.0 / (tagged - plain).max(0.1),
        );
    }
    let eight = get("lmlog", "paced_8_fields");
    if let (Some(plain), Some(derived)) = (plain, eight.and_then(|r| r.mean_below_p99_ns)) {
        let medians = match (get("lmlog", "paced_3_fields").and_then(|r| r.median_ns), eight.and_then(|r| r.median_ns))
        {
            (Some(three), Some(eight)) => format!(" (medians {} and {})", ns(Some(eight)), ns(Some(three))),
            _ => String::new(),
        };
        push(
            "8-field derived event: within 5 ns of the 3-field one",
            format!("+{:.1} ns{medians}", derived - plain),
            5.0 / (derived - plain).max(0.1),
        );
    }
    if let (Some(plain), Some(generic)) = (plain, get("lmlog", GENERIC_SITE).and_then(|r| r.mean_below_p99_ns)) {
        push(
            "generic call site (two event types): within 1 ns of a plain one",
            format!("+{:.1} ns", generic - plain),
            1.0 / (generic - plain).max(0.1),
        );
    }
    if let Some(median) = get("lmlog", "disabled").and_then(|r| r.median_ns) {
        push("disabled call ≤ 1 ns", ns(Some(median)), 1.0 / median);
    }
    if let Some(init) = get("lmlog", STARTUP).and_then(|r| r.init_ns) {
        push("`init` under 1 ms", ns(Some(init)), 1e6 / init);
    }
    if let Some(r) = get("lmlog", ADAPTIVE_FLOOD) {
        if let (Some(kept), Some(target)) = (r.events_per_sec, r.target_per_sec) {
            let off = (kept / target - 1.0).abs();
            push(
                "adaptive target: kept within ±20 % of the target after 3 s",
                format!("{:+.1} %", (kept / target - 1.0) * 100.0),
                0.2 / off.max(1e-3),
            );
        }
    }
    out
}

/// Replaces the text between the generated-section markers of `path`.
pub fn update_benchmarks(path: &Path, generated: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Err(format!("{}: no `{BEGIN}` … `{END}` section to replace", path.display()));
    };
    if end < begin {
        return Err(format!("{}: `{END}` comes before `{BEGIN}`", path.display()));
    }
    let updated = format!("{}{BEGIN}\n{generated}{}", &text[..begin], &text[end..]);
    std::fs::write(path, updated).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::median_of_runs;

    fn row(logger: &str, scenario: &str) -> Row {
        Row { logger: logger.into(), scenario: scenario.into(), runs: 1, ..Row::default() }
    }

    #[test]
    fn targets_compare_the_measured_rows() {
        let mut paced = row("lmlog", "paced_3_fields");
        paced.median_ns = Some(14.0);
        paced.p999_ns = Some(120.0);
        paced.bytes_per_event = Some(9.0);
        let mut tracing = row("tracing", "paced_3_fields");
        tracing.median_ns = Some(400.0);
        let mut ticklog = row("ticklog", "paced_3_fields");
        ticklog.median_ns = Some(10.0);
        let mut saturated = row("lmlog", "saturated_1");
        saturated.events_per_sec = Some(25e6);
        saturated.bytes_per_event = Some(20.0);
        saturated.dropped = Some(1);
        let mut log_bridge = row("lmlog-log", "paced_3_fields");
        log_bridge.median_ns = Some(50.0);
        let mut tracing_bridge = row("lmlog-tracing", "paced_3_fields");
        tracing_bridge.median_ns = Some(30.0);
        let mut startup = row("lmlog", "startup");
        startup.init_ns = Some(1.5e6);
        let rows = vec![paced, tracing, ticklog, saturated, log_bridge, tracing_bridge, startup];
        let met: Vec<(&str, bool)> = targets(&rows).iter().map(|t| (t.what, t.met())).collect();
        assert_eq!(
            met,
            vec![
                ("paced 3-field median ≤ 15 ns", true),
                ("paced 3-field p99.9 ≤ 100 ns", false),
                ("median ≥ 30× lower than tracing JSON + non_blocking", false),
                ("median not slower than ticklog's", false),
                ("`log` through the bridge: median ≥ 10× lower than tracing JSON", false),
                ("`tracing` through the layer: median ≥ 10× lower than tracing JSON", true),
                ("saturated, 1 producer, lossless ≥ 20 M events/s", false),
                ("≤ 16 bytes per 3-field event on disk", true),
                ("`init` under 1 ms", false),
            ],
            "one drop fails the lossless target; targets without rows are left out"
        );
    }

    #[test]
    fn repeated_runs_keep_the_median_run_and_the_worst_drop_count() {
        let runs: Vec<Row> = [(3e6, 0), (1e6, 2), (2e6, 0)]
            .into_iter()
            .map(|(rate, dropped)| Row {
                events_per_sec: Some(rate),
                dropped: Some(dropped),
                ..row("lmlog", "saturated_1")
            })
            .collect();
        let merged = median_of_runs(runs);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].events_per_sec, Some(2e6));
        assert_eq!(merged[0].events_per_sec_range, Some((1e6, 3e6)));
        assert_eq!((merged[0].runs, merged[0].dropped), (3, Some(2)));
    }

    #[test]
    fn update_replaces_only_the_generated_section() {
        let path = std::env::temp_dir().join(format!("lmlog-bench-md-{}.md", std::process::id()));
        std::fs::write(&path, format!("intro\n{BEGIN}\nold\n{END}\nanalysis\n")).unwrap();
        update_benchmarks(&path, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("intro\n{BEGIN}\nnew\n{END}\nanalysis\n"));
        std::fs::write(&path, "no markers").unwrap();
        assert!(update_benchmarks(&path, "new\n").is_err());
        std::fs::remove_file(&path).ok();
    }
}
