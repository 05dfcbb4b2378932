//! `lmlog-scenario generic-sites FILE`: events of several types through one
//! `lm_event!` in generic functions, with `debug` filtered out, from the
//! main thread and two workers. The test decodes FILE and counts.
//!
//! - `disabled_first`: a debug event, then info events, alternating.
//! - `enabled_first`: info events, then a debug one, alternating.
//! - `three_types`: info, warn and error events (and a filtered debug one)
//!   through one call site, on three threads at once.

use std::path::Path;

use lmlog::{lm_event, LogEvent};

#[derive(LogEvent)]
#[lmlog(level = "debug")]
struct DebugEvent {
    n: u32,
}

#[derive(LogEvent)]
#[lmlog(level = "info")]
struct InfoEvent {
    n: u32,
}

#[derive(LogEvent)]
#[lmlog(level = "warn")]
struct WarnEvent {
    n: u32,
}

#[derive(LogEvent)]
#[lmlog(level = "error")]
struct ErrorEvent<'a> {
    n: u32,
    site: &'a str,
}

fn disabled_first<E: LogEvent>(event: E) {
    lm_event!(event);
}

fn enabled_first<E: LogEvent>(event: E) {
    lm_event!(event);
}

fn three_types<E: LogEvent>(event: E) {
    lm_event!(event);
}

/// Events per type per thread at the three-type site.
pub const ROUNDS: u32 = 1000;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false).filter("info"))?;
    for n in 0..3 {
        disabled_first(DebugEvent { n });
        disabled_first(InfoEvent { n });
    }
    for n in 0..3 {
        enabled_first(InfoEvent { n });
        enabled_first(DebugEvent { n });
    }
    let threads: Vec<_> = (0..3)
        .map(|t| {
            std::thread::Builder::new().name(format!("generic-{t}")).spawn(move || {
                for n in 0..ROUNDS {
                    // Each thread meets the types in a different order.
                    match (n + t) % 4 {
                        0 => three_types(InfoEvent { n }),
                        1 => three_types(DebugEvent { n }),
                        2 => three_types(WarnEvent { n }),
                        _ => three_types(ErrorEvent { n, site: "three_types" }),
                    }
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for thread in threads {
        thread.join().map_err(|_| "a generic-site thread panicked")?;
    }
    Ok(())
}
