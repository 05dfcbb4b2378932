//! Filters: which events an output gets.
//!
//! A [`Filter`] is a set of conditions that must all hold: a minimum level,
//! event-type globs, a module, a thread, a time range, a trace id and
//! conditions on field values ([`Where`]). [`Filtered`] wraps any
//! [`Output`] and hands it only the events the filter accepts, so every
//! output format gets filtering for free.
//!
//! Rejected events are never rendered. What depends only on the call site
//! (level, event type, module, which fields it has) is decided once per
//! call site; thread, time and trace are checked on each event before its
//! fields are read; the fields are read for [`Where`] conditions only for
//! events that passed every other check, and only accepted events reach
//! the wrapped output.
//!
//! ```
//! use lmlog_decode::filter::{Filter, Filtered};
//! use lmlog_decode::{Decoder, JsonLines};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let filter = Filter::new().level("warn".parse()?).events("payment_*,cache_miss".parse()?).condition("latency_us>100".parse()?);
//! let mut jsonl = Vec::new();
//! let mut decoder = Decoder::new(Filtered::new(filter, JsonLines::new(&mut jsonl)));
//! decoder.feed(&lmlog_format::frame::preamble())?;
//! decoder.finish()?;
//! assert!(jsonl.is_empty());
//! # Ok(()) }
//! ```

mod parse;
mod value;

use std::io;

use lmlog_format::Level;

use crate::events::{Callsite, Event, Item};
use crate::output::Output;

pub use parse::{parse_time, FilterError, Glob, LevelFilter, ModulePath, ThreadFilter, TraceId};
pub use value::{Op, Where};

/// Conditions on events, all of which must hold (an empty filter accepts
/// everything). The built-in events ([`DROPPED_EVENT_TYPE`](crate::DROPPED_EVENT_TYPE),
/// [`WRITER_LOSS_EVENT_TYPE`](crate::WRITER_LOSS_EVENT_TYPE)) pass the
/// level and event-type conditions by their own level and type.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Filter {
    /// The least severe level accepted (`warn` accepts warn and error).
    pub level: Option<Level>,
    /// Event-type globs, any of which may match.
    pub events: Option<Glob>,
    /// A module: events of it and of its submodules are accepted (never
    /// the built-in events, which have no source).
    pub module: Option<String>,
    /// A thread, by name or id (never writer-loss events, which have no thread).
    pub thread: Option<ThreadFilter>,
    /// Events at or after this instant (nanoseconds since the Unix epoch).
    pub since: Option<i128>,
    /// Events at or before this instant (nanoseconds since the Unix epoch).
    pub until: Option<i128>,
    /// The trace the event belongs to (never events outside a span).
    pub trace_id: Option<[u8; 16]>,
    /// Conditions on field values.
    pub conditions: Vec<Where>,
}

impl Filter {
    /// A filter that accepts every event.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Accepts `level` and more severe levels only.
    pub fn level(mut self, level: LevelFilter) -> Filter {
        self.level = Some(level.0);
        self
    }

    /// Accepts only event types that match one of `globs`.
    pub fn events(mut self, globs: Glob) -> Filter {
        self.events = Some(globs);
        self
    }

    /// Accepts only events of `module` and its submodules.
    pub fn module(mut self, module: ModulePath) -> Filter {
        self.module = Some(module.0);
        self
    }

    /// Accepts only events of `thread`.
    pub fn thread(mut self, thread: ThreadFilter) -> Filter {
        self.thread = Some(thread);
        self
    }

    /// Accepts only events at or after `unix_nanos`.
    pub fn since(mut self, unix_nanos: i128) -> Filter {
        self.since = Some(unix_nanos);
        self
    }

    /// Accepts only events at or before `unix_nanos`.
    pub fn until(mut self, unix_nanos: i128) -> Filter {
        self.until = Some(unix_nanos);
        self
    }

    /// Accepts only events of the trace `id`.
    pub fn trace_id(mut self, id: TraceId) -> Filter {
        self.trace_id = Some(id.0);
        self
    }

    /// Adds a condition on field values.
    pub fn condition(mut self, condition: Where) -> Filter {
        self.conditions.push(condition);
        self
    }

    /// Whether the filter accepts everything.
    pub fn is_empty(&self) -> bool {
        self.level.is_none()
            && self.events.is_none()
            && self.module.is_none()
            && self.thread.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.trace_id.is_none()
            && self.conditions.is_empty()
    }

    /// Whether events of `callsite` can pass: its level, event type,
    /// module, and whether it has the top-level field every condition names.
    pub fn accepts_callsite(&self, callsite: &Callsite) -> bool {
        if self.level.is_some_and(|min| callsite.level() > min) {
            return false;
        }
        if self.events.as_ref().is_some_and(|g| !g.matches(callsite.event_type())) {
            return false;
        }
        if let Some(module) = &self.module {
            match callsite.source() {
                Some(source) if module_matches(module, source.module) => {}
                _ => return false,
            }
        }
        self.conditions.iter().all(|c| callsite.fields().iter().any(|f| f.name == c.path()[0]))
    }

    /// Whether `event` passes the checks that do not read its fields:
    /// thread, time and trace (its call site's checks are
    /// [`accepts_callsite`](Self::accepts_callsite)).
    pub fn accepts_event(&self, event: &Event<'_>) -> bool {
        if let Some(thread) = &self.thread {
            if !event.thread.is_some_and(|t| thread.matches(t.id, t.name)) {
                return false;
            }
        }
        if self.since.is_some_and(|s| event.unix_nanos < s) || self.until.is_some_and(|u| event.unix_nanos > u) {
            return false;
        }
        if let Some(id) = &self.trace_id {
            if event.trace.is_none_or(|t| t.trace_id() != id) {
                return false;
            }
        }
        true
    }
}

/// Whether `module` is `filter` or one of its submodules.
fn module_matches(filter: &str, module: &str) -> bool {
    module.strip_prefix(filter).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// An [`Output`] that hands the wrapped output only the events a
/// [`Filter`] accepts; every other item goes through.
#[derive(Debug)]
#[non_exhaustive]
pub struct Filtered<O> {
    filter: Filter,
    inner: O,
    /// Whether the last event went to the inner output (for `retract`).
    passed_last: bool,
}

impl<O: Output> Filtered<O> {
    /// `inner`, getting only the events `filter` accepts.
    pub fn new(filter: Filter, inner: O) -> Self {
        Filtered { filter, inner, passed_last: false }
    }

    /// The wrapped output.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped output, mutably.
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// Unwraps the wrapped output.
    pub fn into_inner(self) -> O {
        self.inner
    }
}

/// What [`Filtered`] keeps per call site: whether its events can pass, and
/// what the wrapped output prepared.
#[derive(Debug)]
#[non_exhaustive]
pub struct FilteredCallsite<C> {
    /// Whether the call site's level, event type, module and fields pass.
    pub accepted: bool,
    /// What the wrapped output prepared for the call site.
    pub inner: C,
}

impl<O: Output> Output for Filtered<O> {
    type Callsite = FilteredCallsite<O::Callsite>;

    fn callsite(&mut self, callsite: &Callsite) -> Self::Callsite {
        FilteredCallsite { accepted: self.filter.accepts_callsite(callsite), inner: self.inner.callsite(callsite) }
    }

    #[inline]
    fn event(&mut self, mut event: Event<'_>, prepared: &mut Self::Callsite) -> io::Result<()> {
        self.passed_last = false;
        if !prepared.accepted || !self.filter.accepts_event(&event) {
            return Ok(());
        }
        if !self.filter.conditions.is_empty() && !value::fields_match(&self.filter.conditions, &mut event.fields) {
            return Ok(());
        }
        self.passed_last = true;
        self.inner.event(event, &mut prepared.inner)
    }

    fn retract(&mut self) {
        if self.passed_last {
            self.inner.retract();
        }
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        self.inner.item(item)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
