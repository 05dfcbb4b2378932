//! The filter flags of the command (`--level`, `--event`, ...), turned
//! into a [`Filter`].

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use lmlog_decode::filter::{parse_time, Filter, FilterError};

/// Filters: an event is written only if it passes every one given.
#[derive(Debug, Args)]
#[command(next_help_heading = "Filters (combinable: an event must pass all of them)")]
pub struct FilterArgs {
    /// Only events of LEVEL and more severe ones: `--level warn` keeps warn
    /// and error (trace, debug, info, warn, error).
    #[arg(long, value_name = "LEVEL")]
    level: Option<String>,
    /// Only event types matching one of these globs (`*`, `?`), separated
    /// by commas: `--event 'payment_*,cache_miss'`.
    #[arg(long, value_name = "GLOBS")]
    event: Option<String>,
    /// Only events of this module and its submodules: `--module db::pool`
    /// keeps `db::pool` and `db::pool::conn`, not `db::poolx`.
    #[arg(long, value_name = "PATH")]
    module: Option<String>,
    /// Only events of this thread, by name, or by id if numeric:
    /// `--thread worker-1`, `--thread 3`.
    #[arg(long, value_name = "NAME|ID")]
    thread: Option<String>,
    /// Only events at or after this time: RFC 3339
    /// (`2026-11-30T12:00:00Z`) or a time before now (`30s`, `15m`, `2h`, `1d`).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only events at or before this time (as `--since`).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only events of this trace (32 hex digits).
    #[arg(long = "trace-id", value_name = "HEX")]
    trace_id: Option<String>,
    /// Only events whose field satisfies the condition (repeatable; all
    /// must hold): `--where 'latency_us>100'`, `--where 'key=user:7'`,
    /// `--where 'order.customer.id=7'`. Operators `=`, `!=`, `>`, `>=`,
    /// `<`, `<=`; numbers compare as numbers, other values as text.
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
