//! Compile-time structured binary logging.
//!
//! `#[derive(LogEvent)]` and [`lm_event!`] turn event types and call sites
//! into static schemas and interned call-site ids at compile time. At run time
//! the calling thread only copies a compact binary record into its own staging
//! buffer; a background writer thread frames the records (sync marker, length,
//! CRC) and writes them, together with the schemas, to a self-describing file
//! that `lmlog-decode` turns into JSON Lines.
//!
//! ```no_run
//! use lmlog::{lm_event, LogEvent};
//!
//! #[derive(LogEvent)]
//! #[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id}")]
//! struct PaymentFailed<'a> {
//!     user_id: u64,
//!     amount: f64,
//!     reason: &'a str,
//! }
//!
//! fn main() -> Result<(), lmlog::InitError> {
//!     let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog"))?;
//!     lm_event!(PaymentFailed { user_id: 7, amount: 12.5, reason: "card_declined" });
//!     lm_event!(info, "cache_miss", key = "user:7", latency_us = 130u32);
//!     lm_event!(debug, "order_shipped", "order {order_id} shipped to {city}", order_id = 42u64, city = "Oslo");
//!     lmlog::flush();
//!     Ok(())
//! } // dropping the guard flushes and joins the writer
//! ```
//!
//! See ARCHITECTURE.md for how the pieces fit and FORMAT.md for the bytes.
#![warn(missing_docs)]

extern crate self as lmlog;

mod attributes;
#[cfg(any(feature = "log", feature = "tracing"))]
pub mod bridge;
mod callsite;
mod clock;
mod compress_budget;
mod config;
#[cfg(feature = "config-file")]
mod config_file;
mod diagnostics;
mod driver;
mod event;
pub mod events;
#[cfg(unix)]
mod fatal;
mod filter;
mod flight;
mod framer;
pub mod global_context;
#[cfg(feature = "otel-metrics")]
mod metrics;
mod operation;
mod producer;
mod resource;
mod ring;
mod runtime;
mod sampling;
mod sink;
mod staging;
mod state;
mod stats;
mod status;
#[cfg(feature = "otel")]
mod trace;
mod value;
mod writer;

pub use config::{Compression, Config, Overflow};
#[cfg(feature = "config-file")]
pub use config_file::ConfigFileError;
pub use event::{EventSchema, LogEvent, MetricField};
pub use filter::{Filter, FilterError};
pub use lmlog_format::Level;
pub use lmlog_macros::{capture_errors, lm_event, log_calls, log_performance, LogEvent, LogValue};
pub use operation::{Instrumented, Operation};
pub use runtime::{flush, init, is_active, sink_status, stats, Guard, InitError};
pub use sampling::{SamplePolicy, Sampler, SiteInfo};
pub use sink::{FileOptions, FileSink, Sink, WriteSink};
pub use stats::Stats;
pub use status::{BreakerState, SinkStatus};
pub use value::{Bytes, Encoder, ErrorSources, FormattedStr, LogValue};

/// Logs an error as an `exception` event at `error`: its type
/// (`exception_type`), its `Display` text (`exception_message`), the
/// messages of its `source()` chain (`sources`), a `backtrace` when
/// backtraces are enabled (`RUST_BACKTRACE` or `RUST_LIB_BACKTRACE`; else
/// `null`), then fields of your own as in [`lm_event!`].
///
/// Takes a reference to any `Error` type, a `dyn Error`, a pointer to one
/// (`Box<dyn Error>`, `anyhow::Error`), or, failing those, anything
/// `Display` (its text, without sources). Nothing is formatted or captured
/// unless `error` events of this module are recorded.
///
/// ```
/// use lmlog::lm_exception;
///
/// # fn charge() -> Result<(), std::io::Error> { Err(std::io::Error::other("card declined")) }
/// if let Err(err) = charge() {
///     lm_exception!(&err, operation = "charge", order_id = 42u64);
/// }
/// ```
#[macro_export]
macro_rules! lm_exception {
    ($error:expr $(, $($field:tt)*)?) => {{
        #[allow(unused_imports)]
        use $crate::events::exception_source::{AsDisplay as _, AsErrorLike as _, ThroughPointer as _};
        let __lmlog_exception = (&&&$crate::events::exception_source::ExceptionSource($error)).exception_of();
        $crate::lm_event!(
            error,
            "exception",
            "{exception_type}: {exception_message}",
            exception_type = __lmlog_exception.type_name,
            exception_message = %__lmlog_exception.message,
            sources = $crate::events::MaybeSources(__lmlog_exception.error),
            backtrace = $crate::events::captured_backtrace(),
            $($($field)*)?
        )
    }};
}

/// Starts an [`Operation`]: logs `operation_start` (at `info`, with
/// `operation` = the name and the fields given, as in [`lm_event!`]) and
/// returns the guard. Every event of this thread carries the operation
/// (decoded as `"operation": {"id", "name", "parent_id"}`) until the guard
/// is dropped, which logs `operation_end` (`duration_ms`, `outcome`), or
/// `operation_error` after [`Operation::fail`] or during a panic. An
/// operation started inside another one knows it as its parent. In async
/// code, run the work with [`Operation::instrument`].
///
/// ```
/// use lmlog::{lm_event, lm_operation};
///
/// let _checkout = lm_operation!("checkout", user_type = "premium");
/// lm_event!(info, "cart_loaded", items = 3u32); // tagged with "checkout"
/// {
///     let _payment = lm_operation!("payment"); // its parent is "checkout"
/// }
/// ```
#[macro_export]
macro_rules! lm_operation {
    ($name:literal $(, $($field:tt)*)?) => {{
        static __LMLOG_OPERATION_SITES: $crate::__private::OperationSites = $crate::__private::OperationSites {
            end: |end| {
                $crate::lm_event!(
                    info,
                    "operation_end",
                    "{operation} ended after {duration_ms} ms",
                    operation = end.name,
                    duration_ms = end.duration_ms,
                    outcome = end.outcome,
                )
            },
            error: |end| {
                $crate::lm_event!(
                    error,
                    "operation_error",
                    "{operation} failed after {duration_ms} ms: {error}",
                    operation = end.name,
                    duration_ms = end.duration_ms,
                    outcome = end.outcome,
                    error = end.error,
                )
            },
        };
        let __lmlog_operation = $crate::Operation::begin($name, &__LMLOG_OPERATION_SITES);
        $crate::lm_event!(info, "operation_start", "{operation} started", operation = $name, $($($field)*)?);
        __lmlog_operation
    }};
}

/// The most verbose level compiled in, from the `max_level_*` and
/// `release_max_level_*` cargo features; `None` when logging is compiled out.
/// Call sites above it cost nothing: the check is on constants.
pub const STATIC_MAX_LEVEL: Option<Level> = static_max_level();

const fn static_max_level() -> Option<Level> {
    if !cfg!(debug_assertions) {
        if cfg!(feature = "release_max_level_off") {
            return None;
        } else if cfg!(feature = "release_max_level_error") {
            return Some(Level::Error);
        } else if cfg!(feature = "release_max_level_warn") {
            return Some(Level::Warn);
        } else if cfg!(feature = "release_max_level_info") {
            return Some(Level::Info);
        } else if cfg!(feature = "release_max_level_debug") {
            return Some(Level::Debug);
        } else if cfg!(feature = "release_max_level_trace") {
            return Some(Level::Trace);
        }
    }
    if cfg!(feature = "max_level_off") {
        None
    } else if cfg!(feature = "max_level_error") {
        Some(Level::Error)
    } else if cfg!(feature = "max_level_warn") {
        Some(Level::Warn)
    } else if cfg!(feature = "max_level_info") {
        Some(Level::Info)
    } else if cfg!(feature = "max_level_debug") {
        Some(Level::Debug)
    } else {
        Some(Level::Trace)
    }
}

/// Items the macros expand to. Not a public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::callsite::{function_name, Callsite, CallsiteMeta, CallsiteState};
    pub use crate::event::{metric_field, EventSchema, LogEvent, MetricField};
    pub use crate::producer::emit;
    pub use crate::sampling::Sampling;
    pub use crate::value::{encode_with, with_type, Encoder, FormattedStr, LogValue, Prechecked};
    pub use lmlog_format::{FieldDesc, Level, TypeDesc, VariantDesc, VariantKindDesc};
    pub use lmlog_macros::level_enabled;

    pub use crate::attributes::{panic_message, returned, CatchUnwind};
    pub use crate::operation::{OperationEnd, OperationSites};

    /// Whether `callsite` records events at `level`: one relaxed load once
    /// the site is registered; the first call registers it (for
    /// `level_enabled!`, whose site writes no event of its own).
    #[inline(always)]
    pub fn interested(callsite: &'static Callsite, level: Level) -> bool {
        let state = callsite.load();
        state.enables(level) && (state.is_decided() || crate::state::STATE.register(callsite).enables(level))
    }

    /// Whether `level` is compiled in (see [`crate::STATIC_MAX_LEVEL`]).
    #[inline(always)]
    pub const fn static_enabled(level: Level) -> bool {
        match crate::STATIC_MAX_LEVEL {
            Some(max) => level as u8 <= max as u8,
            None => false,
        }
    }
}
