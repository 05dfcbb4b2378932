//! `lmlog-scenario process-sampling (levels|adaptive|sampler|trace) FILE`:
//! process-wide sampling (`Config::sample_level`,
//! `Config::max_events_per_second`, `Config::sampler`, trace-consistent
//! decisions). Each prints, as one JSON object, how many events each event
//! type emitted.
//!
//! - `levels`: level rates 0 (trace), 0.25 (debug) and 1 (info); a debug
//!   site with `sample: 0.5` as well (the rates multiply); `warn` and
//!   `error` sites without a rate, and a generic site logging debug and
//!   error events, and another logging error events first, then debug
//!   ones (its second event type is the sampled one).
//! - `adaptive`: a target of [`TARGET`] events a second under a flood of
//!   [`FLOOD`] `info` events a second for [`PHASE_MS`], then of
//!   [`FLOOD`]` / 4` for as long; each event carries `ms`, the time since
//!   the start. Errors come now and then (kept, never sampled out).
//! - `sampler`: a `Sampler` giving each module of [`modules`] its own
//!   policy.
//! - `trace`: `sample_level(Info, 0.5)`, [`TRACES`] traces of
//!   [`PER_TRACE`] events each over two threads, then as many events
//!   outside any span.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use lmlog::{lm_event, Level, LogEvent, SamplePolicy, SiteInfo};

type Counts = BTreeMap<&'static str, u64>;

/// The adaptive scenario's target, events per second.
pub const TARGET: u64 = 2_000;
/// Its flood, events per second.
pub const FLOOD: u64 = 20_000;
/// The length of each of its two phases.
pub const PHASE_MS: u64 = 5_000;
/// Traces of the trace scenario, and events per trace.
pub const TRACES: u64 = 40;
pub const PER_TRACE: u64 = 20;

pub fn run(mode: &str, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new().output(path).env_filter(false).filter("trace");
    let counts = match mode {
        "levels" => levels(config)?,
        "adaptive" => adaptive(config)?,
        "sampler" => sampler(config)?,
        "trace" => trace(config)?,
        _ => return Err(format!("unknown process-sampling mode {mode}").into()),
    };
    let counts: serde_json::Map<String, serde_json::Value> =
        counts.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    println!("{}", serde_json::Value::Object(counts));
    Ok(())
}

#[derive(LogEvent)]
#[lmlog(name = "generic_debug", level = "debug")]
struct GenericDebug {
    n: u64,
}

#[derive(LogEvent)]
#[lmlog(name = "generic_error", level = "error")]
struct GenericError {
    n: u64,
}

#[derive(LogEvent)]
#[lmlog(name = "second_type_debug", level = "debug")]
struct SecondTypeDebug {
    n: u64,
}

#[derive(LogEvent)]
#[lmlog(name = "first_type_error", level = "error")]
struct FirstTypeError {
    n: u64,
}

/// One call site for every event type `E`.
fn log_generic<E: LogEvent>(event: E) {
    lm_event!(event);
}

/// Another: its first event type (an error) is not sampled, its second
/// (debug) is.
fn log_generic_error_first<E: LogEvent>(event: E) {
    lm_event!(event);
}

fn levels(config: lmlog::Config) -> Result<Counts, Box<dyn std::error::Error>> {
    let config = config.sample_level(Level::Trace, 0.0).sample_level(Level::Debug, 0.25).sample_level(Level::Info, 1.0);
    let _guard = lmlog::init(config)?;
    let mut counts = Counts::new();
    log_generic_error_first(FirstTypeError { n: 0 });
    let threads: Vec<_> = (0..4u64)
        .map(|thread| {
            std::thread::spawn(move || {
                for n in 0..10_000u64 {
                    lm_event!(trace, "trace_site", thread, n);
                    lm_event!(debug, "debug_site", thread, n);
                    lm_event!(debug, "debug_sampled_site", sample: 0.5, thread, n);
                    lm_event!(info, "info_site", thread, n);
                }
                for n in 0..1_000u64 {
                    lm_event!(warn, "warn_site", thread, n);
                    lm_event!(error, "error_site", thread, n);
                    log_generic(GenericDebug { n });
                    log_generic(GenericError { n });
                    log_generic_error_first(SecondTypeDebug { n });
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")?;
    }
    for (event_type, n) in [
        ("trace_site", 40_000),
        ("debug_site", 40_000),
        ("debug_sampled_site", 40_000),
        ("info_site", 40_000),
        ("warn_site", 4_000),
        ("error_site", 4_000),
        ("generic_debug", 4_000),
        ("generic_error", 4_000),
        ("first_type_error", 1),
        ("second_type_debug", 4_000),
    ] {
        counts.insert(event_type, n);
    }
    Ok(counts)
}

fn adaptive(config: lmlog::Config) -> Result<Counts, Box<dyn std::error::Error>> {
    let _guard = lmlog::init(config.max_events_per_second(TARGET))?;
    let mut counts = Counts::new();
    let start = Instant::now();
    let mut emitted = 0u64;
    for (phase, rate) in [(1, FLOOD), (2, FLOOD / 4)] {
        let phase_start = start + Duration::from_millis((phase - 1) * PHASE_MS);
        let phase_end = phase_start + Duration::from_millis(PHASE_MS);
        let mut phase_emitted = 0u64;
        loop {
            let now = Instant::now();
            if now >= phase_end {
                break;
            }
            // Paced by the clock: as many events as the rate allows so far.
            let due = (now - phase_start).as_secs_f64() * rate as f64;
            while (phase_emitted as f64) < due {
                let ms = start.elapsed().as_millis() as u64;
                lm_event!(info, "flood", phase, ms);
                phase_emitted += 1;
                if phase_emitted.is_multiple_of(2_000) {
                    lm_event!(error, "flood_error", phase, ms);
                    *counts.entry("flood_error").or_default() += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        emitted += phase_emitted;
    }
    counts.insert("flood", emitted);
    Ok(counts)
}

/// Modules whose call sites the sampler tells apart.
mod modules {
    pub mod kept {
        pub fn log(n: u64) {
            lmlog::lm_event!(info, "kept_module", n);
        }
    }
    pub mod dropped {
        pub fn log(n: u64) {
            lmlog::lm_event!(info, "dropped_module", n);
        }
        /// An error in the dropped module: the sampler keeps it by its
        /// event type.
        pub fn error(n: u64) {
            lmlog::lm_event!(error, "dropped_module_error", n);
        }
    }
    pub mod halved {
        pub fn log(n: u64) {
            lmlog::lm_event!(info, "halved_module", n);
        }
    }
    pub mod limited {
        pub fn log(n: u64) {
            lmlog::lm_event!(info, "limited_module", n);
        }
    }
}

fn sampler(config: lmlog::Config) -> Result<Counts, Box<dyn std::error::Error>> {
    let config = config.sampler(|site: &SiteInfo| {
        if site.event_type == "dropped_module_error" {
            SamplePolicy::KEEP
        } else if site.module.ends_with("::dropped") {
            SamplePolicy::DROP
        } else if site.module.ends_with("::halved") {
            SamplePolicy::sample(0.5)
        } else if site.module.ends_with("::limited") {
            SamplePolicy::rate_limit(5)
        } else {
            SamplePolicy::KEEP
        }
    });
    let _guard = lmlog::init(config)?;
    for n in 0..10_000u64 {
        modules::kept::log(n);
        modules::dropped::log(n);
        modules::halved::log(n);
        modules::limited::log(n);
        if n.is_multiple_of(100) {
            modules::dropped::error(n);
        }
    }
    Ok(Counts::from([
        ("kept_module", 10_000),
        ("dropped_module", 10_000),
        ("halved_module", 10_000),
        ("limited_module", 10_000),
        ("dropped_module_error", 100),
    ]))
}

fn trace(config: lmlog::Config) -> Result<Counts, Box<dyn std::error::Error>> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    use opentelemetry::Context;

    let _guard = lmlog::init(config.sample_level(Level::Info, 0.5))?;
    // Each trace's events come from two threads, as a request handed from
    // one to another would.
    let threads: Vec<_> = (0..2u64)
        .map(|thread| {
            std::thread::spawn(move || {
                for trace in 1..=TRACES {
                    // Ids a real generator could give: random-looking, fixed.
                    let id = u128::from(trace).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1;
                    let span = SpanContext::new(
                        TraceId::from_bytes(id.to_be_bytes()),
                        SpanId::from_bytes((trace * 2 + thread + 1).to_be_bytes()),
                        TraceFlags::SAMPLED,
                        true,
                        TraceState::default(),
                    );
                    let _attached = Context::current().with_remote_span_context(span).attach();
                    for n in 0..PER_TRACE / 2 {
                        lm_event!(info, "traced", trace, thread, n);
                    }
                }
                for n in 0..TRACES * PER_TRACE / 2 {
                    lm_event!(info, "untraced", thread, n);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")?;
    }
    Ok(Counts::from([("traced", TRACES * PER_TRACE), ("untraced", TRACES * PER_TRACE)]))
}
