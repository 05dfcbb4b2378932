//! The scenarios, run inside a child process for one logger at a time, and
//! the row each of them reports.
//!
//! Every event a scenario emits is counted again in the file afterwards, so
//! `dropped` is what is missing on disk, not what the logger says it lost.

use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::peers::{count_lines_containing, Order, Peer};
use crate::tsc::{self, Timer};

/// One logger in one scenario: a line of `target/compare.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Row {
    pub logger: String,
    pub scenario: String,
    pub median_ns: Option<f64>,
    /// Mean of the calls up to the p99 (latency scenarios): finer than the
    /// median, whose timer steps are a few ns, for differences of 1–2 ns.
    #[serde(default)]
    pub mean_below_p99_ns: Option<f64>,
    pub p99_ns: Option<f64>,
    pub p999_ns: Option<f64>,
    pub max_ns: Option<f64>,
    pub events_per_sec: Option<f64>,
    pub bytes_per_event: Option<f64>,
    pub dropped: Option<u64>,
    /// Events emitted (latency and throughput) or decoded (decode).
    pub events: u64,
    /// Decode only: megabytes (10^6 bytes) of JSON Lines written per second.
    pub json_mb_per_sec: Option<f64>,
    /// Summary only: bytes of the digest's text.
    #[serde(default)]
    pub digest_bytes: Option<u64>,
    /// Runs of the scenario; the row is the one with the median rate.
    #[serde(default = "one")]
    pub runs: u32,
    /// Slowest and fastest rate over the runs.
    #[serde(default)]
    pub events_per_sec_range: Option<(f64, f64)>,
    /// Lowest and highest p99.9 over the runs.
    #[serde(default)]
    pub p999_ns_range: Option<(f64, f64)>,
    /// Adaptive target only: the target, in events per second (the row's
    /// `events_per_sec` is what was kept once converged).
    #[serde(default)]
    pub target_per_sec: Option<f64>,
    /// Adaptive target only: the flooding thread's CPU time per event it
    /// emitted (kept or sampled out).
    #[serde(default)]
    pub cpu_ns_per_event: Option<f64>,
    /// Start-up only: how long `init` took (the median of the processes).
    #[serde(default)]
    pub init_ns: Option<f64>,
    /// Start-up only: the program's wall time, from `init` to the guard
    /// dropped (the median of the processes).
    #[serde(default)]
    pub program_ns: Option<f64>,
}

fn one() -> u32 {
    1
}

/// Rows of repeated runs of one scenario, merged per scenario name: the run
/// with the median rate (throughput and decode) or the median p99.9
/// (latency: the tail is what varies between runs) stands for all, with the
/// range beside it and the largest `dropped` of any run.
pub fn median_of_runs(rows: Vec<Row>) -> Vec<Row> {
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        if !names.contains(&r.scenario) {
            names.push(r.scenario.clone());
        }
    }
    names
        .into_iter()
        .map(|name| {
            let mut runs: Vec<&Row> = rows.iter().filter(|r| r.scenario == name).collect();
            let key = |r: &Row| r.events_per_sec.or(r.p999_ns).or(r.init_ns).unwrap_or(0.0);
            runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
            let mut median = runs[runs.len() / 2].clone();
            median.runs = runs.len() as u32;
            median.dropped = runs.iter().filter_map(|r| r.dropped).max();
            let (first, last) = (runs[0], runs[runs.len() - 1]);
            if let (Some(lo), Some(hi)) = (first.events_per_sec, last.events_per_sec) {
                median.events_per_sec_range = Some((lo, hi));
            }
            if let (Some(lo), Some(hi)) = (first.p999_ns, last.p999_ns) {
                median.p999_ns_range = Some((lo, hi));
            }
            median
        })
        .collect()
}

/// The scenarios, in the order the harness runs them.
pub const SCENARIOS: [&str; 5] = ["paced_3_fields", "paced_8_fields", "disabled", "saturated_1", "saturated_2"];

/// lmlog's own paced scenarios (no peer has per-call-site sampling): the
/// 3-field event at a call site with `sample:` that keeps nearly every
/// event (the kept cost, sampling check included) and one that rejects
/// nearly every event (the rejected cost: check and count); the event
/// inside an operation; the adaptive target under a flood. The rejected
/// call is also timed in batches of back-to-back calls, as the disabled
/// call is ([`REJECTED_BATCHED`]), and a disabled call is timed paced
/// ([`DISABLED_PACED`]): the paced harness's floor for any call site.
/// Start-up ([`STARTUP`]).
pub const LMLOG_ONLY: [&str; 8] = [
    "sampled_kept",
    "sampled_rejected",
    REJECTED_BATCHED,
    DISABLED_PACED,
    "operation_tagged",
    GENERIC_SITE,
    ADAPTIVE_FLOOD,
    STARTUP,
];

/// Two event types with the 3-field event's fields, alternating through
/// one `lm_event!(event)` in a generic function.
pub const GENERIC_SITE: &str = "generic_site";

/// The rejected call of `sampled_rejected`, timed in batches of
/// back-to-back calls like the disabled call.
pub const REJECTED_BATCHED: &str = "sampled_rejected_batched";
/// The disabled call, timed paced like the 3-field event: what the paced
/// harness reads for a call site that does nothing but load its state.
pub const DISABLED_PACED: &str = "disabled_paced";

/// A short command-line program, [`STARTUP_PROCESSES`] times, each in a
/// fresh process (the clock starts once per process): `init`, 220 events,
/// the guard dropped.
pub const STARTUP: &str = "startup";
/// One process of [`STARTUP`]: the scenario runs this binary's child mode
/// with it.
const STARTUP_ONCE: &str = "startup_once";
/// Processes of the start-up scenario; the medians are reported.
pub const STARTUP_PROCESSES: usize = 11;
/// Events of the start-up program.
const STARTUP_EVENTS: u64 = 220;

/// One thread floods a plain call site as fast as it can for
/// [`FLOOD_SECONDS`] under `Config::max_events_per_second(ADAPTIVE_TARGET)`.
pub const ADAPTIVE_FLOOD: &str = "adaptive_flood";
/// The adaptive scenario's target, events per second: well above the
/// floor of the keep probability (0.1 % of a flood of tens of millions a
/// second).
pub const ADAPTIVE_TARGET: u64 = 1_000_000;
const FLOOD_SECONDS: u64 = 6;
/// The seconds of the flood before this are left out of the kept rate:
/// the target promises convergence within 3 s.
const CONVERGED_AFTER: u64 = 3;

/// The decode scenario's name; it is measured in lmlog's `saturated_1` run.
pub const DECODE: &str = "decode";
/// The time-ordered decode (`lmlog-decode`'s default): the two threads of
/// lmlog's `saturated_2` file merged by timestamp.
pub const DECODE_SORTED: &str = "decode_sorted";
/// `lmlog-decode summary` of lmlog's `saturated_1` file: the digest as text.
pub const SUMMARY: &str = "summary";

/// How much work each scenario does.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Calls timed one by one in each paced scenario.
    pub samples: u64,
    /// Events in each saturated scenario, over all producers.
    pub events: u64,
}

/// The pause after every paced call: long enough for the logger's own
/// background work to keep up, short enough to be a busy service.
const PACE_NS: f64 = 1500.0;
/// Paced calls made before timing starts: first-call registration, page
/// faults in fresh buffers, branch predictors.
const WARMUP: u64 = 20_000;
const KEY: &str = "user:42:ab";
const DISABLED_BATCH: u64 = 1000;
const DISABLED_BATCHES: u64 = 5000;

fn order(i: u64) -> Order<'static> {
    Order {
        id: i,
        customer: "acme-corp",
        amount: 99.5 + (i % 7) as f64,
        items: (i % 13) as u32,
        express: i.is_multiple_of(2),
        region: "eu-north",
        discount: if i.is_multiple_of(3) { None } else { Some(0.1) },
        retries: -((i % 4) as i16),
    }
}

#[inline(always)]
fn emit_cache_miss<P: Peer>(peer: &P, i: u64) {
    peer.cache_miss(black_box(KEY), i as u32, black_box(0.125) * (i & 1023) as f64);
}

#[inline(always)]
fn emit_order<P: Peer>(peer: &P, i: u64) {
    peer.order(&black_box(order(i)));
}

/// Runs `scenario` for `P` in `dir`; the rows it measured.
pub fn run<P: Peer>(scenario: &str, dir: &Path, sizes: Sizes, timer: &Timer) -> Vec<Row> {
    match scenario {
        "paced_3_fields" => vec![paced::<P>(scenario, dir, sizes, timer, "cache_miss", emit_cache_miss)],
        "paced_8_fields" => vec![paced::<P>(scenario, dir, sizes, timer, "order", emit_order)],
        "disabled" => vec![batched::<P>(scenario, dir, timer, |peer, j| peer.disabled(black_box(j as u32)))],
        "saturated_1" => saturated::<P>(scenario, dir, sizes, 1),
        "saturated_2" => saturated::<P>(scenario, dir, sizes, 2),
        "sampled_kept" => vec![paced::<P>(scenario, dir, sizes, timer, "cache_miss", emit_kept)],
        "sampled_rejected" => vec![paced_rejected::<P>(scenario, dir, sizes, timer)],
        REJECTED_BATCHED => vec![batched_rejected::<P>(scenario, dir, timer)],
        DISABLED_PACED => vec![paced_disabled::<P>(scenario, dir, sizes, timer)],
        "operation_tagged" => vec![paced::<P>(scenario, dir, sizes, timer, "cache_miss", emit_tagged)],
        GENERIC_SITE => vec![paced::<P>(scenario, dir, sizes, timer, "cache_miss", emit_generic)],
        ADAPTIVE_FLOOD => vec![adaptive_flood::<P>(scenario, dir)],
        STARTUP => vec![startup::<P>(scenario, dir)],
        STARTUP_ONCE => vec![startup_once::<P>(scenario, dir)],
        other => panic!("unknown scenario {other}"),
    }
}

/// The 3-field event at a call site with `sample: 0.999999`.
#[inline(always)]
fn emit_kept<P: Peer>(_peer: &P, i: u64) {
    let (key, latency_ms) = (black_box(KEY), black_box(0.125) * (i & 1023) as f64);
    lmlog::lm_event!(info, "cache_miss", sample: 0.999999, key = key, shard = i as u32, latency_ms = latency_ms);
}

/// The 3-field event inside an operation (`lm_operation!`): its record
/// carries the operation's id. The operation starts at the thread's first
/// call and never ends; the check that it started (one thread-local load)
/// is timed with the event, so the row errs against the tagged event.
#[inline(always)]
fn emit_tagged<P: Peer>(_peer: &P, i: u64) {
    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if !STARTED.with(std::cell::Cell::get) {
        STARTED.with(|started| started.set(true));
        std::mem::forget(lmlog::lm_operation!("compare"));
    }
    let (key, latency_ms) = (black_box(KEY), black_box(0.125) * (i & 1023) as f64);
    lmlog::lm_event!(info, "cache_miss", key = key, shard = i as u32, latency_ms = latency_ms);
}

/// The call site of [`GENERIC_SITE`]: every event type that reaches it
/// after its first is one of its variants.
#[inline(always)]
fn generic_site<E: lmlog::LogEvent>(event: E) {
    lmlog::lm_event!(event);
}

/// [`GENERIC_SITE`]: `CacheMiss` and `CacheMissRetry` in turn.
#[inline(always)]
fn emit_generic<P: Peer>(_peer: &P, i: u64) {
    let (key, latency_ms) = (black_box(KEY), black_box(0.125) * (i & 1023) as f64);
    if i & 1 == 0 {
        generic_site(lmlog_benches::CacheMiss { key, shard: i as u32, latency_ms });
    } else {
        generic_site(lmlog_benches::CacheMissRetry { key, shard: i as u32, latency_ms });
    }
}

/// The 3-field event at a call site with `sample: 0.000001`.
#[inline(always)]
fn emit_rejected<P: Peer>(_peer: &P, i: u64) {
    let (key, latency_ms) = (black_box(KEY), black_box(0.125) * (i & 1023) as f64);
    lmlog::lm_event!(info, "cache_miss", sample: 0.000001, key = key, shard = i as u32, latency_ms = latency_ms);
}

/// Paced rejected calls; `dropped` is what the file accounts for neither as
/// an event nor in an `lmlog.sampled_out` count (0 when nothing vanished).
fn paced_rejected<P: Peer>(scenario: &str, dir: &Path, sizes: Sizes, timer: &Timer) -> Row {
    let mut row = paced::<P>(scenario, dir, sizes, timer, "cache_miss", emit_rejected);
    row.dropped = Some(row.events.saturating_sub(kept_and_sampled_out::<P>(dir)));
    row
}

/// Rejected calls timed in batches, accounted as [`paced_rejected`]'s.
fn batched_rejected<P: Peer>(scenario: &str, dir: &Path, timer: &Timer) -> Row {
    let mut row = batched::<P>(scenario, dir, timer, |peer, j| emit_rejected(peer, j));
    let emitted = DISABLED_BATCH * (DISABLED_BATCHES + DISABLED_BATCHES / 10);
    row.dropped = Some(emitted.saturating_sub(kept_and_sampled_out::<P>(dir)));
    row
}

/// Paced disabled calls; `dropped` is 0 unless one reached the file.
fn paced_disabled<P: Peer>(scenario: &str, dir: &Path, sizes: Sizes, timer: &Timer) -> Row {
    let mut row = paced::<P>(scenario, dir, sizes, timer, "verbose", |peer, i| peer.disabled(black_box(i as u32)));
    let written = row.events - row.dropped.unwrap_or(0);
    assert_eq!(written, 0, "{}: a disabled event reached the file", P::NAME);
    row.dropped = Some(0);
    row
}

/// The `cache_miss` events in the decoded file plus the counts of its
/// `lmlog.sampled_out` events: every event the sampled call site emitted,
/// when nothing vanished.
fn kept_and_sampled_out<P: Peer>(dir: &Path) -> u64 {
    let lines = std::io::BufReader::new(File::open(text_output::<P>(dir, 1, false).path).expect("the decoded file"));
    let mut kept = 0;
    let mut sampled_out = 0;
    for line in std::io::BufRead::lines(lines) {
        let line: serde_json::Value = serde_json::from_str(&line.expect("a line")).expect("a JSON line");
        match line["event_type"].as_str() {
            Some("cache_miss") => kept += 1,
            Some("lmlog.sampled_out") => sampled_out += line["fields"]["count"].as_u64().unwrap_or(0),
            _ => {}
        }
    }
    kept + sampled_out
}

/// CPU time of the calling thread so far, in nanoseconds (Linux's
/// scheduler statistics), if the system says.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// [`ADAPTIVE_FLOOD`]: kept events per second once converged (events are
/// tagged with the second of the flood they were emitted in), and the
/// flooding thread's CPU time per emitted event; `dropped` is what the
/// file accounts for neither as an event nor in an `lmlog.sampled_out`
/// count.
fn adaptive_flood<P: Peer>(scenario: &str, dir: &Path) -> Row {
    assert_eq!(P::NAME, "lmlog", "{ADAPTIVE_FLOOD} is lmlog's own scenario");
    let guard = crate::peers::start_lmlog_with(dir, |config| config.max_events_per_second(ADAPTIVE_TARGET));
    let started = Instant::now();
    let cpu_before = thread_cpu_ns();
    let (mut emitted, mut second) = (0u64, 0u64);
    while second < FLOOD_SECONDS {
        for _ in 0..4096 {
            let (key, latency_ms) = (black_box(KEY), black_box(0.125) * (emitted & 1023) as f64);
            lmlog::lm_event!(info, "cache_miss", key = key, second = second, latency_ms = latency_ms);
            emitted += 1;
        }
        second = started.elapsed().as_secs();
    }
    let cpu_ns = match (cpu_before, thread_cpu_ns()) {
        (Some(before), Some(after)) => after - before,
        _ => started.elapsed().as_nanos() as u64,
    };
    drop(guard);
    // Counted as the decoder writes each line: the flood's first second,
    // kept whole before the first correction, decodes to gigabytes of JSON
    // that need not reach the disk.
    let mut count = FloodCount::default();
    let mut decoder = lmlog_decode::Decoder::new(lmlog_decode::JsonLines::new(&mut count));
    decoder.decode_from(File::open(dir.join(P::FILE)).expect("open the lmlog file")).expect("decode lmlog file");
    let summary = decoder.finish().expect("decode lmlog file");
    assert_eq!(summary.damage, 0, "the lmlog file is damaged: {:?}", summary.diagnostics);
    assert!(count.pending.is_empty(), "every decoded line ends");
    let FloodCount { kept, converged, sampled_out, .. } = count;
    let mut row = row::<P>(scenario);
    row.events = emitted;
    row.events_per_sec = Some(converged as f64 / (FLOOD_SECONDS - CONVERGED_AFTER) as f64);
    row.target_per_sec = Some(ADAPTIVE_TARGET as f64);
    row.cpu_ns_per_event = Some(cpu_ns as f64 / emitted as f64);
    row.bytes_per_event = Some(file_len(&dir.join(P::FILE)) as f64 / kept.max(1) as f64);
    row.dropped = Some(emitted.saturating_sub(kept + sampled_out));
    row
}

/// What [`adaptive_flood`] counts in the decoded JSON Lines, line by line
/// as they are written.
#[derive(Default)]
struct FloodCount {
    /// The end of a line not yet written whole.
    pending: Vec<u8>,
    /// Events of the flooded call site in the file.
    kept: u64,
    /// Of those, the ones logged once the target had converged.
    converged: u64,
    /// Events sampling turned away, as the file's counts say.
    sampled_out: u64,
}

impl FloodCount {
    fn line(&mut self, line: &[u8]) {
        let line: serde_json::Value = serde_json::from_slice(line).expect("a JSON line");
        match line["event_type"].as_str() {
            Some("cache_miss") => {
                self.kept += 1;
                if line["fields"]["second"].as_u64().unwrap_or(0) >= CONVERGED_AFTER {
                    self.converged += 1;
                }
            }
            Some("lmlog.sampled_out") => self.sampled_out += line["fields"]["count"].as_u64().unwrap_or(0),
            _ => {}
        }
    }
}

impl std::io::Write for FloodCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(buf);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|&b| b == b'\n') {
            self.line(&pending[start..start + end]);
            start += end + 1;
        }
        pending.drain(..start);
        self.pending = pending;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// [`STARTUP`]: runs [`STARTUP_ONCE`] in [`STARTUP_PROCESSES`] fresh
/// processes, one after another; the medians of their `init` and program
/// times, and every event accounted for in every process's file.
fn startup<P: Peer>(scenario: &str, dir: &Path) -> Row {
    assert_eq!(P::NAME, "lmlog", "{STARTUP} is lmlog's own scenario");
    let exe = std::env::current_exe().expect("this executable");
    let runs: Vec<Row> = (0..STARTUP_PROCESSES)
        .map(|i| {
            let dir = dir.join(format!("process-{i}"));
            std::fs::create_dir_all(&dir).expect("a directory per process");
            // Sizes and timer are not used by the start-up program.
            let output = std::process::Command::new(&exe)
                .args(["--child", P::NAME, STARTUP_ONCE])
                .arg(&dir)
                .args(["1", "1", "1", "0"])
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("run the start-up program");
            assert!(output.status.success(), "the start-up program failed: {}", output.status);
            serde_json::from_slice(&output.stdout).expect("the start-up program's row")
        })
        .collect();
    let median = |value: fn(&Row) -> Option<f64>| {
        let mut values: Vec<f64> = runs.iter().filter_map(value).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    let mut row = row::<P>(scenario);
    row.init_ns = median(|r| r.init_ns);
    row.program_ns = median(|r| r.program_ns);
    row.events = runs.iter().map(|r| r.events).sum();
    row.dropped = Some(runs.iter().filter_map(|r| r.dropped).sum());
    row
}

/// [`STARTUP_ONCE`]: the short program, timed from before `init` to after
/// the guard is dropped; `dropped` is what its file does not hold.
fn startup_once<P: Peer>(scenario: &str, dir: &Path) -> Row {
    let started = Instant::now();
    let peer = P::start(dir);
    let init_ns = started.elapsed().as_nanos() as f64;
    for i in 0..STARTUP_EVENTS {
        emit_cache_miss(&peer, i);
    }
    drop(peer);
    let program_ns = started.elapsed().as_nanos() as f64;
    let mut row = row::<P>(scenario);
    row.init_ns = Some(init_ns);
    row.program_ns = Some(program_ns);
    row.events = STARTUP_EVENTS;
    let on_disk = count_lines_containing(&text_output::<P>(dir, 1, false).path, "cache_miss");
    row.dropped = Some(STARTUP_EVENTS.saturating_sub(on_disk));
    row
}

fn row<P: Peer>(scenario: &str) -> Row {
    Row { logger: P::NAME.to_string(), scenario: scenario.to_string(), runs: 1, ..Row::default() }
}

fn latency_histogram() -> Histogram<u64> {
    // Picoseconds, 3 significant digits, up to 100 s.
    Histogram::new_with_bounds(1, 100_000_000_000_000, 3).expect("histogram bounds")
}

fn fill_percentiles(row: &mut Row, picos: &Histogram<u64>) {
    let ns = |v: u64| Some(v as f64 / 1000.0);
    row.median_ns = ns(picos.value_at_quantile(0.5));
    row.p99_ns = ns(picos.value_at_quantile(0.99));
    let cut = picos.value_at_quantile(0.99);
    let (mut sum, mut calls) = (0u128, 0u64);
    for v in picos.iter_recorded().take_while(|v| v.value_iterated_to() <= cut) {
        sum += u128::from(v.value_iterated_to()) * u128::from(v.count_at_value());
        calls += v.count_at_value();
    }
    row.mean_below_p99_ns = (calls > 0).then(|| sum as f64 / calls as f64 / 1000.0);
    row.p999_ns = ns(picos.value_at_quantile(0.999));
    row.max_ns = ns(picos.max());
}

fn paced<P: Peer>(
    scenario: &str,
    dir: &Path,
    sizes: Sizes,
    timer: &Timer,
    needle: &str,
    emit: impl Fn(&P, u64),
) -> Row {
    let peer = P::start(dir);
    let gap = timer.ticks(PACE_NS);
    let mut picos = latency_histogram();
    for i in 0..WARMUP + sizes.samples {
        let before = tsc::start();
        emit(&peer, i);
        let after = tsc::stop();
        if i >= WARMUP {
            picos.saturating_record(timer.net_picos(after - before));
        }
        Timer::spin_until(after + gap);
    }
    peer.finish();
    let mut row = row::<P>(scenario);
    fill_percentiles(&mut row, &picos);
    row.events = WARMUP + sizes.samples;
    row.bytes_per_event = Some(file_len(&dir.join(P::FILE)) as f64 / row.events as f64);
    let on_disk = count_lines_containing(&text_output::<P>(dir, 1, false).path, needle);
    row.dropped = Some(row.events.saturating_sub(on_disk));
    row
}

/// Sub-nanosecond calls cannot be timed one by one with a ~10 ns timer: each
/// sample is the mean of a batch of back-to-back calls.
fn batched<P: Peer>(scenario: &str, dir: &Path, timer: &Timer, call: impl Fn(&P, u64)) -> Row {
    let peer = P::start(dir);
    let mut picos = latency_histogram();
    for batch in 0..DISABLED_BATCHES + DISABLED_BATCHES / 10 {
        let before = tsc::start();
        for j in 0..DISABLED_BATCH {
            call(&peer, j);
        }
        let after = tsc::stop();
        if batch >= DISABLED_BATCHES / 10 {
            picos.saturating_record(timer.net_picos(after - before) / DISABLED_BATCH);
        }
    }
    peer.finish();
    let mut row = row::<P>(scenario);
    fill_percentiles(&mut row, &picos);
    row.events = DISABLED_BATCH * DISABLED_BATCHES;
    let written = count_lines_containing(&text_output::<P>(dir, 1, false).path, "verbose");
    assert_eq!(written, 0, "{}: a disabled event reached the file", P::NAME);
    row
}

fn saturated<P: Peer>(scenario: &str, dir: &Path, sizes: Sizes, producers: u64) -> Vec<Row> {
    let peer = P::start(dir);
    let per_producer = sizes.events / producers;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for p in 0..producers {
            let peer = &peer;
            scope.spawn(move || {
                for i in p * per_producer..(p + 1) * per_producer {
                    emit_cache_miss(peer, i);
                }
            });
        }
    });
    peer.finish();
    let seconds = started.elapsed().as_secs_f64();
    let emitted = per_producer * producers;
    let bytes = file_len(&dir.join(P::FILE));
    // The one-producer file is timed as stored, the two-producer file
    // merged by time (both threads interleave in it).
    // The bridges' files are decoded only to be counted: the decode rows
    // are lmlog's.
    let decodes = if P::NAME == "lmlog" { DECODES_PER_RUN } else { 1 };
    let text = text_output::<P>(dir, decodes, producers > 1);
    let on_disk = count_lines_containing(&text.path, "cache_miss");
    let mut main = row::<P>(scenario);
    main.events = emitted;
    main.events_per_sec = Some(emitted as f64 / seconds);
    main.bytes_per_event = Some(bytes as f64 / emitted as f64);
    main.dropped = Some(emitted.saturating_sub(on_disk));
    let mut rows = vec![main];
    if let Some(decode) = text.decode.filter(|_| P::NAME == "lmlog") {
        let mut row = row::<P>(if producers == 1 { DECODE } else { DECODE_SORTED });
        row.events = decode.records;
        row.events_per_sec = Some(decode.records as f64 / decode.seconds);
        row.json_mb_per_sec = Some(decode.json_bytes as f64 / decode.seconds / 1e6);
        row.dropped = Some(emitted.saturating_sub(on_disk));
        rows.push(row);
    }
    if P::NAME == "lmlog" && producers == 1 {
        let digest = summarise(&dir.join(P::FILE));
        let mut row = row::<P>(SUMMARY);
        row.events = digest.records;
        row.events_per_sec = Some(digest.records as f64 / digest.seconds);
        row.digest_bytes = Some(digest.json_bytes);
        rows.push(row);
    }
    rows
}

/// What `lmlog-decode summary` does with the file at `path`, timed
/// [`DECODES_PER_RUN`] times; the median run (its `json_bytes` are the
/// digest text's bytes).
fn summarise(path: &Path) -> DecodeRun {
    let mut runs: Vec<DecodeRun> = (0..DECODES_PER_RUN)
        .map(|_| {
            let started = Instant::now();
            let mut summary = lmlog_decode::summary::Summary::new();
            let mut decoder = lmlog_decode::Decoder::new(&mut summary).with_time_order();
            decoder.decode_from(File::open(path).expect("open the lmlog file")).expect("summarise lmlog file");
            let tally = decoder.finish().expect("summarise lmlog file");
            let text = summary.digest(&tally).to_text();
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(tally.damage, 0, "the lmlog file is damaged: {:?}", tally.diagnostics);
            DecodeRun { seconds, records: tally.events, json_bytes: text.len() as u64 }
        })
        .collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    runs.swap_remove(runs.len() / 2)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A logger's output as one line per event.
struct TextOutput {
    path: std::path::PathBuf,
    decode: Option<DecodeRun>,
}

/// One run of the decoder over a binary log.
struct DecodeRun {
    seconds: f64,
    records: u64,
    json_bytes: u64,
}

/// Decodes timed in each run of a saturated scenario; their median is the
/// run's decode rate (one decode can be slowed several times over by the
/// kernel still settling the files the previous scenarios wrote).
const DECODES_PER_RUN: usize = 3;

/// lmlog writes binary: its text form is `lmlog-decode`'s JSON Lines, and
/// producing it is the decode scenario (in time order if `time_order`).
/// The other loggers write text.
fn text_output<P: Peer>(dir: &Path, decodes: usize, time_order: bool) -> TextOutput {
    let written = dir.join(P::FILE);
    if !P::BINARY {
        return TextOutput { path: written, decode: None };
    }
    let path = dir.join("lmlog.jsonl");
    let mut runs: Vec<DecodeRun> = (0..decodes.max(1))
        .map(|_| {
            let _ = std::fs::remove_file(&path);
            let out = std::io::BufWriter::with_capacity(1 << 20, File::create(&path).expect("create jsonl"));
            let started = Instant::now();
            let file = File::open(&written).expect("open the lmlog file");
            let mut decoder = lmlog_decode::Decoder::new(lmlog_decode::JsonLines::new(out));
            decoder.set_time_order(time_order);
            decoder.decode_from(file).expect("decode lmlog file");
            let summary = decoder.finish().expect("decode lmlog file");
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(summary.damage, 0, "the lmlog file is damaged: {:?}", summary.diagnostics);
            DecodeRun { seconds, records: summary.events, json_bytes: file_len(&path) }
        })
        .collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let median = runs.swap_remove(runs.len() / 2);
    TextOutput { path, decode: Some(median) }
}
