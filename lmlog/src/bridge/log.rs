//! The `log` bridge (cargo feature `log`): lmlog as the `log` crate's
//! logger, so that code and dependencies logging with `log::info!` write
//! into the same stream as `lm_event!`.
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog").filter("info,hyper=warn"))?;
//!     lmlog::bridge::log::init()?;
//!     log::info!(target: "hyper", order_id = 42, user = "ada"; "checkout took {} ms", 12);
//!     Ok(())
//! }
//! ```
//!
//! Each record becomes an event of type `log` at the record's level, with
//! the module its target, the source its file and line, `message` its
//! formatted text (also the event's message), and one field per key-value
//! (`log`'s `kv` feature) in the order given, typed as it is at run time:
//! numbers, strings and booleans as themselves, anything else its
//! `Display` text. Each distinct (target, file, line, level) is one call
//! site; a call site whose records carry another set of keys gets one
//! schema per set.

use ::log::kv::{self, Key, Source, Value, VisitSource, VisitValue};
use ::log::{LevelFilter, Log, Metadata, Record, SetLoggerError};
use lmlog_format::Level;

use super::{located, Location};
use crate::event::EventSchema;
use crate::producer::{emit_dynamic, EncodeFields};
use crate::state::STATE;
use crate::value::{json, Encoder, FormattedStr};

/// Installs lmlog as the `log` crate's logger. Call it after
/// [`lmlog::init`](crate::init): it sets [`log::max_level`]
/// to the most verbose level the running filter records anywhere, so that
/// `log`'s macros skip what would be filtered out without reaching the
/// bridge (a record that does reach it is filtered by its target, like a
/// macro call site by its module).
///
/// # Errors
/// When another logger is already set (a process has at most one).
pub fn init() -> Result<(), SetLoggerError> {
    ::log::set_logger(&LOGGER)?;
    ::log::set_max_level(level_filter(STATE.max_level()));
    Ok(())
}

/// The bridge's logger: what [`init`] installs.
struct Bridge;

static LOGGER: Bridge = Bridge;

fn level_filter(level: Option<Level>) -> LevelFilter {
    match level {
        None => LevelFilter::Off,
        Some(Level::Error) => LevelFilter::Error,
        Some(Level::Warn) => LevelFilter::Warn,
        Some(Level::Info) => LevelFilter::Info,
        Some(Level::Debug) => LevelFilter::Debug,
        Some(Level::Trace) => LevelFilter::Trace,
    }
}

pub(super) fn level(level: ::log::Level) -> Level {
    match level {
        ::log::Level::Error => Level::Error,
        ::log::Level::Warn => Level::Warn,
        ::log::Level::Info => Level::Info,
        ::log::Level::Debug => Level::Debug,
        ::log::Level::Trace => Level::Trace,
    }
}

impl Log for Bridge {
    /// Whether the filter records `metadata`'s level for its target (takes
    /// the registry's lock: records themselves are decided per call site,
    /// without one).
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        STATE.filter_enabled(metadata.target(), level(metadata.level()))
    }

    fn log(&self, record: &Record<'_>) {
        #[cfg(feature = "tracing")]
        if super::tracing::just_recorded(record) {
            return;
        }
        let location = Location {
            target: record.target(),
            file: record.file(),
            line: record.line().unwrap_or(0),
            level: level(record.level()),
        };
        let kvs = record.key_values();
        let (site, schema) = located("log", location, |schema| keys_match(schema, kvs), || key_names(kvs));
        if !site.callsite.load().enables(schema.level) {
            return;
        }
        let message = Message::new(record.args());
        emit_dynamic(site.callsite, schema, &Fields { message: message.as_str(), kvs });
    }

    fn flush(&self) {
        crate::flush();
    }
}

/// A record's formatted message: its text as is when it has no arguments,
/// else formatted on the stack (longer than [`FormattedStr::INLINE`]
/// bytes, on the heap).
// On the stack for one call: the size is the point (no allocation).
#[allow(clippy::large_enum_variant)]
enum Message<'a> {
    Static(&'a str),
    Formatted(FormattedStr),
}

impl<'a> Message<'a> {
    fn new(args: &std::fmt::Arguments<'a>) -> Message<'a> {
        match args.as_str() {
            Some(text) => Message::Static(text),
            None => Message::Formatted(FormattedStr::display(args)),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Message::Static(text) => text,
            Message::Formatted(text) => text.as_str(),
        }
    }
}

/// Whether the keys of `kvs` are `schema`'s fields after the message, in
/// order.
fn keys_match(schema: &EventSchema, kvs: &dyn Source) -> bool {
    struct Compare<'s> {
        expected: std::slice::Iter<'s, lmlog_format::FieldDesc>,
        same: bool,
    }
    impl<'kvs> VisitSource<'kvs> for Compare<'_> {
        fn visit_pair(&mut self, key: Key<'kvs>, _: Value<'kvs>) -> Result<(), kv::Error> {
            self.same &= self.expected.next().is_some_and(|f| f.name == key.as_str());
            Ok(())
        }
    }
    let mut compare = Compare { expected: schema.fields[1..].iter(), same: true };
    let _ = kvs.visit(&mut compare);
    compare.same && compare.expected.next().is_none()
}

/// The keys of `kvs`, for a new schema.
fn key_names(kvs: &dyn Source) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'kvs> VisitSource<'kvs> for Names {
        fn visit_pair(&mut self, key: Key<'kvs>, _: Value<'kvs>) -> Result<(), kv::Error> {
            self.0.push(key.as_str().to_owned());
            Ok(())
        }
    }
    let mut names = Names(Vec::new());
    let _ = kvs.visit(&mut names);
    names.0
}

/// A record's fields: the message, then each key-value's value.
struct Fields<'a> {
    message: &'a str,
    kvs: &'a dyn Source,
}

impl EncodeFields for Fields<'_> {
    fn encode_fields(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.message.as_bytes());
        let _ = self.kvs.visit(&mut Values(enc));
    }
}

/// Writes each value as a `json` value.
struct Values<'e, 'b>(&'e mut Encoder<'b>);

impl<'kvs> VisitSource<'kvs> for Values<'_, '_> {
    fn visit_pair(&mut self, _: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        value.visit(&mut JsonValue(self.0))
    }
}

/// Writes one value as a `json` value.
pub(super) struct JsonValue<'e, 'b>(pub(super) &'e mut Encoder<'b>);

impl<'v> VisitValue<'v> for JsonValue<'_, '_> {
    fn visit_any(&mut self, value: Value<'_>) -> Result<(), kv::Error> {
        json::str(self.0, FormattedStr::display(&value).as_str());
        Ok(())
    }
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        json::null(self.0);
        Ok(())
    }
    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        json::u64(self.0, value);
        Ok(())
    }
    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        json::i64(self.0, value);
        Ok(())
    }
    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        json::u128(self.0, value);
        Ok(())
    }
    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        json::i128(self.0, value);
        Ok(())
    }
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        json::f64(self.0, value);
        Ok(())
    }
    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        json::bool(self.0, value);
        Ok(())
    }
    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        json::str(self.0, value);
        Ok(())
    }
    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        json::str(self.0, value.encode_utf8(&mut [0; 4]));
        Ok(())
    }
}
