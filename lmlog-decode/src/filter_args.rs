//! The filter flags of the command (`--level`, `--event`, ...), turned
//! into a [`Filter`].

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use lmlog_decode::filter::{parse_time, Filter, FilterError};

/// Filters: an event is written only if it passes every one given.
#[derive(Debug, Args)]
#[command(next_help_heading = "Filters (combinable: an event must pass all of them)")]
pub struct FilterArgs {
    /// Only events of LEVEL and more severe ones.
    ///
    /// Levels: trace, debug, info, warn, error. Example: `lmlog-decode
    /// --level warn app.lmlog` keeps warn and error.
    #[arg(long, value_name = "LEVEL")]
    level: Option<String>,
    /// Only event types matching one of these globs, separated by commas.
    ///
    /// `*` matches any text, `?` one character. Example: `lmlog-decode
    /// --event 'payment_*,cache_miss' app.lmlog`.
    #[arg(long, value_name = "GLOBS")]
    event: Option<String>,
    /// Only events of this module and its submodules.
    ///
    /// Example: `lmlog-decode --module db::pool app.lmlog` keeps `db::pool`
    /// and `db::pool::conn`, not `db::poolx`.
    #[arg(long, value_name = "PATH")]
    module: Option<String>,
    /// Only events of this thread, by name, or by id if numeric.
    ///
    /// Example: `lmlog-decode --thread worker-1 app.lmlog`, `--thread 3`.
    #[arg(long, value_name = "NAME|ID")]
    thread: Option<String>,
    /// Only events at or after this time: RFC 3339, or a time before now.
    ///
    /// Example: `lmlog-decode --since 15m app.lmlog` (also `30s`, `2h`,
    /// `1d`), `--since 2026-11-30T12:00:00Z`.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only events at or before this time (as `--since`).
    ///
    /// Example: `lmlog-decode --since 2h --until 1h app.lmlog`.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only events of this trace (32 hex digits).
    ///
    /// Example: `lmlog-decode --trace-id 4bf92f3577b34da6a3ce929d0e0e4736 app.lmlog`.
    #[arg(long = "trace-id", value_name = "HEX")]
    trace_id: Option<String>,
    /// Only events whose field satisfies the condition (repeatable; all must hold).
    ///
    /// Operators `=`, `!=`, `>`, `>=`, `<`, `<=`; numbers compare as
    /// numbers, other values as text; a dotted path reaches into nested
    /// values. Example: `lmlog-decode --where 'latency_us>100' --where
    /// 'key=user:7' app.lmlog`, `--where 'order.customer.id=7'`.
    #[arg(long = "where", value_name = "COND")]
    conditions: Vec<String>,
}

impl FilterArgs {
    /// The filter the flags describe.
    pub fn filter(&self) -> Result<Filter, FilterError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
        let mut filter = Filter::new();
        if let Some(level) = &self.level {
            filter = filter.level(level.parse()?);
        }
        if let Some(event) = &self.event {
            filter = filter.events(event.parse()?);
        }
        if let Some(module) = &self.module {
            filter = filter.module(module.parse()?);
        }
        if let Some(thread) = &self.thread {
            filter = filter.thread(thread.parse()?);
        }
        if let Some(since) = &self.since {
            filter = filter.since(parse_time("--since", since, now)?);
        }
        if let Some(until) = &self.until {
            filter = filter.until(parse_time("--until", until, now)?);
        }
        if let Some(id) = &self.trace_id {
            filter = filter.trace_id(id.parse()?);
        }
        for condition in &self.conditions {
            filter = filter.condition(condition.parse()?);
        }
        Ok(filter)
    }
}
