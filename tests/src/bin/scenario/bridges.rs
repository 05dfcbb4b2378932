//! `lmlog-scenario bridges MODE FILE`: records through the `log` and
//! `tracing` bridges. Every bridged record carries `n` (which record) and
//! `line` (the line of its macro, for the source location), except where
//! a mode says otherwise.
//!
//! - `log`: the `log` bridge under the filter
//!   `info,chatty=warn,lmlog_scenario::bridges::verbose=debug`; prints
//!   `max_level=LEVEL` (what the bridge set). Records: n=1 key-values of
//!   every kind, n=2..4 error/warn/info, n=5 three times from one line, n=6
//!   a message without arguments, n=7 target `chatty` at warn; not recorded:
//!   info from `chatty`, debug from this module, trace from `verbose`;
//!   recorded: n=8 debug from `verbose`; n=9 and n=10 records built at one
//!   line with other keys each time; n=11 in an OpenTelemetry trace.
//! - `tracing`: the `tracing` layer under `info,chatty=warn`. n=1 fields of
//!   every kind in span `checkout` {order_id 42, region "eu"}, then the
//!   span records `user` "ada", n=2 in it with a field left empty, n=3
//!   outside any span without a message, n=4 warn from target `chatty`;
//!   not recorded: info from `chatty`, debug; n=5 in an OpenTelemetry
//!   trace. Prints `max_level=LEVEL`
//!   (`tracing`'s, from the layer's hint).
//! - `service`: the example of a service: its own `lm_event!` (n=1), a
//!   dependency logging through `log` (n=2), another through `tracing` in a
//!   span (n=3), both bridges installed (and `tracing` also handing its
//!   events to `log`: each must be recorded once).
//! - `log-tracer`: `tracing-log`'s `LogTracer` and the `tracing` layer: one
//!   `log::warn!` (`LogTracer` keeps no key-values: its line is printed as
//!   `line=N`).

use std::path::Path;

use lmlog::lm_event;

fn init(path: &Path, filter: &str) -> Result<lmlog::Guard, Box<dyn std::error::Error>> {
    Ok(lmlog::init(lmlog::Config::new().output(path).filter(filter).env_filter(false))?)
}

fn tracing_layer() -> Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::layer::SubscriberExt;
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lmlog::bridge::tracing::layer()))?;
    Ok(())
}

pub fn run(mode: &str, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    match mode {
        "log" => log_records(path),
        "tracing" => tracing_events(path),
        "service" => service(path),
        "log-tracer" => log_tracer(path),
        _ => Err(format!("unknown bridges mode {mode}").into()),
    }
}

mod verbose {
    pub fn run() {
        let line = line!() + 1;
        log::debug!(n = 8, line = line; "verbose debug");
        log::trace!(n = 0, line = line; "verbose trace: not recorded");
    }
}

fn log_records(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = init(path, "info,chatty=warn,lmlog_scenario::bridges::verbose=debug")?;
    lmlog::bridge::log::init()?;
    println!("max_level={}", log::max_level());
    let addr = std::net::IpAddr::from([10, 0, 0, 7]);
    let path_buf = std::path::PathBuf::from("/srv/data");
    let line = line!() + 1;
    log::info!(n = 1, line = line, count = 3u64, delta = -2i64, ratio = 0.5f64, ok = true, name = "ada", big = u128::MAX, addr:% = addr, path:? = path_buf, initial = 'x'; "order {} done in {} ms", 42, 1.5);
    let line = line!() + 1;
    log::error!(n = 2, line = line; "error {}", 2);
    let line = line!() + 1;
    log::warn!(n = 3, line = line; "warn {}", 3);
    let line = line!() + 1;
    log::info!(n = 4, line = line; "info {}", 4);
    for i in 0..3u32 {
        let line = line!() + 1;
        log::info!(n = 5, line = line, i = i; "repeated {}", i);
    }
    let line = line!() + 1;
    log::info!(n = 6, line = line; "plain message");
    let line = line!() + 1;
    log::warn!(target: "chatty", n = 7, line = line; "chatty warn");
    log::info!(target: "chatty", n = 0; "chatty info: not recorded");
    log::debug!(n = 0; "debug: not recorded");
    verbose::run();
    // One call site (as a logging facade that builds records would make):
    // other keys each time.
    let line = line!();
    record_at(
        line,
        &[("n", 9u32.into()), ("line", line.into()), ("first", "only here".into())],
        format_args!("keys 9"),
    );
    record_at(line, &[("n", 10u32.into()), ("line", line.into()), ("second", 2u32.into())], format_args!("keys 10"));
    let _span = attach_trace()?;
    let line = line!() + 1;
    log::info!(n = 11, line = line; "in a trace");
    Ok(())
}

/// The trace the last record of `log` and `tracing` modes is in.
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Makes an OpenTelemetry span of [`TRACE_ID`] current (until dropped).
fn attach_trace() -> Result<opentelemetry::ContextGuard, Box<dyn std::error::Error>> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    let span = SpanContext::new(
        TraceId::from_hex(TRACE_ID)?,
        SpanId::from_hex("00f067aa0ba902b7")?,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Ok(opentelemetry::Context::current().with_remote_span_context(span).attach())
}

/// A record built by hand: from this file, at `line`.
fn record_at(line: u32, kvs: &[(&str, log::kv::Value<'_>)], args: std::fmt::Arguments<'_>) {
    let record = log::Record::builder()
        .level(log::Level::Info)
        .target(module_path!())
        .file(Some(file!()))
        .line(Some(line))
        .key_values(&kvs)
        .args(args)
        .build();
    log::logger().log(&record);
}

fn tracing_events(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = init(path, "info,chatty=warn")?;
    tracing_layer()?;
    println!("max_level={}", tracing::level_filters::LevelFilter::current());
    let addr = std::net::IpAddr::from([10, 0, 0, 7]);
    let error = std::io::Error::other("disk full");
    let span = tracing::info_span!("checkout", order_id = 42u64, region = "eu", user = tracing::field::Empty);
    {
        let _entered = span.enter();
        let line = line!() + 1;
        tracing::info!(n = 1u64, line, count = 3u64, delta = -2i64, ratio = 0.5f64, ok = true, name = "ada", big = u128::MAX, addr = %addr, list = ?[1, 2], error = &error as &(dyn std::error::Error + 'static), "paid {} EUR", 12.5);
        span.record("user", "ada");
        let line = line!() + 1;
        tracing::info!(n = 2u64, line, missing = tracing::field::Empty, "in the span");
    }
    let line = line!() + 1;
    tracing::warn!(n = 3u64, line);
    let line = line!() + 1;
    tracing::warn!(target: "chatty", n = 4u64, line, "chatty warn");
    tracing::info!(target: "chatty", n = 0u64, "chatty info: not recorded");
    tracing::debug!(n = 0u64, "debug: not recorded");
    let _span = attach_trace()?;
    let line = line!() + 1;
    tracing::info!(n = 5u64, line, "in a trace");
    Ok(())
}

/// A dependency that logs through `log`.
mod dep_log {
    pub fn fetch(key: &str) {
        let line = line!() + 1;
        log::info!(n = 2, line = line, key = key; "fetched {}", key);
    }
}

/// A dependency that logs through `tracing`.
mod dep_tracing {
    pub fn serve(path: &str) {
        let span = tracing::info_span!("request", path);
        let _entered = span.enter();
        let line = line!() + 1;
        tracing::info!(n = 3u64, line, status = 200u64, "served {}", path);
    }
}

fn service(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = init(path, "info")?;
    lmlog::bridge::log::init()?;
    tracing_layer()?;
    let line = line!() + 1;
    lm_event!(info, "app_started", "service up", n = 1u64, line = line);
    dep_log::fetch("user:7");
    dep_tracing::serve("/orders");
    Ok(())
}

fn log_tracer(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = init(path, "info")?;
    tracing_log::LogTracer::init()?;
    tracing_layer()?;
    println!("line={}", line!() + 1);
    log::warn!(target: "legacy", "through LogTracer {}", 1);
    Ok(())
}
