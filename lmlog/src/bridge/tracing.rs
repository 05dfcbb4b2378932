//! The `tracing` bridge (cargo feature `tracing`): a
//! [`tracing_subscriber::Layer`] that writes `tracing`'s events into
//! lmlog's stream.
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog"))?;
//!     // Not `.init()`: with `tracing-subscriber`'s `tracing-log` feature it
//!     // would take the `log` crate's logger, which the `log` bridge wants.
//!     let layered = tracing_subscriber::registry().with(lmlog::bridge::tracing::layer());
//!     tracing::subscriber::set_global_default(layered)?;
//!     let span = tracing::info_span!("checkout", order_id = 42);
//!     let _entered = span.enter();
//!     tracing::info!(items = 3, "paid {} EUR", 12.5);
//!     Ok(())
//! }
//! ```
//!
//! Each tracing call site is one lmlog call site, registered when
//! `tracing` registers it (`register_callsite`). Its events have the event
//! type `tracing`, the module their target, the source their file and line,
//! and one field per field of the call site (`metadata.fields()`, in that
//! order): `message` (the formatted message, also the event's message) as
//! text, the others of the self-describing `json` type (numbers, strings
//! and booleans as themselves, errors and `Debug` values as their text); a
//! field an event does not record decodes as `null`. After them comes
//! `span`: `null` outside any span, else the event's span as an object,
//! `{"name": …}` followed by the span's fields (recorded when it was
//! created and by `Span::record`, encoded once and copied into each event).
//! A call site that has a field named `span` of its own has no `span` field
//! added.
//!
//! The filter decides by target and level, as for macro call sites; the
//! layer never disables events for the subscriber's other layers. Its
//! level hint is the most verbose level the filter records anywhere (as
//! the `log` bridge sets `log::max_level`), so more verbose events cost
//! `tracing`'s one level check: install the layer after
//! [`lmlog::init`](crate::init).
//!
//! Events that `tracing-log`'s `LogTracer` made from `log` records are
//! recorded as the `log` bridge records them (event type `log`, the
//! record's own target, file and line, and its message).
//!
//! With the `log` bridge installed as well, a `tracing` event that
//! `tracing` also hands to `log` (its `log-always` feature) is recorded
//! once: the `log` bridge skips the record that repeats the event (or the
//! new span) this thread just handed the layer, and the records of spans'
//! life cycle (targets `tracing::span` and `tracing::span::active`).

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use lmlog_format::{FieldDesc, Level, TypeDesc};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, LevelFilter, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::{json_field, lock, new_callsite, new_schema, Location, MESSAGE};
use crate::callsite::Callsite;
use crate::event::EventSchema;
use crate::producer::{emit_dynamic, EncodeFields};
use crate::state::STATE;
use crate::value::json::{self, JsonOut};
use crate::value::{Encoder, FormattedStr};

/// The layer that writes `tracing` events into lmlog; add it to a
/// `tracing_subscriber::registry()` (or any subscriber with
/// [`LookupSpan`]). Call [`lmlog::init`](crate::init) first: before it,
/// and after the runtime's guard is dropped, events are not recorded.
pub fn layer() -> BridgeLayer {
    LAYER_MADE.store(true, Ordering::Relaxed);
    BridgeLayer { _private: () }
}

/// See [`layer`].
#[derive(Debug)]
pub struct BridgeLayer {
    _private: (),
}

/// The field of an event's span.
const SPAN: &str = "span";

/// A tracing call site's lmlog call site and schema.
#[derive(Debug)]
struct TracingSite {
    callsite: &'static Callsite,
    schema: &'static EventSchema,
    /// Index of the `message` field, if the call site has one.
    message: Option<usize>,
    /// Number of the call site's own fields.
    fields: usize,
    /// Whether the schema ends with [`SPAN`].
    span: bool,
}

/// Every tracing call site's site, by the address of its metadata.
static SITES: Mutex<Option<HashMap<usize, &'static TracingSite>>> = Mutex::new(None);

thread_local! {
    static CACHED: super::ThreadCache<&'static TracingSite> = const { super::new_thread_cache() };
    /// The last event or span this thread handed the layer, for the `log`
    /// bridge to skip the record `tracing` may make of it.
    static LAST_EVENT: Cell<Option<&'static Metadata<'static>>> = const { Cell::new(None) };
}

fn level(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::DEBUG => Level::Debug,
        _ => Level::Trace,
    }
}

fn address(metadata: &'static Metadata<'static>) -> u64 {
    metadata as *const Metadata<'static> as usize as u64
}

/// The site of `metadata` (an event's), registered on first use.
fn register(metadata: &'static Metadata<'static>) -> &'static TracingSite {
    let mut sites = lock(&SITES);
    let sites = sites.get_or_insert_with(HashMap::new);
    let key = address(metadata) as usize;
    if let Some(site) = sites.get(&key) {
        return site;
    }
    let names = metadata.fields();
    let mut fields: Vec<FieldDesc> = names
        .iter()
        .map(|f| match f.name() {
            MESSAGE => FieldDesc { name: MESSAGE, ty: &TypeDesc::Str, redacted: false },
            name => json_field(name),
        })
        .collect();
    let own = fields.len();
    let span = names.field(SPAN).is_none();
    if span {
        fields.push(FieldDesc { name: SPAN, ty: &TypeDesc::Json, redacted: false });
    }
    let callsite = new_callsite(metadata.target(), metadata.file().unwrap_or(""), metadata.line().unwrap_or(0));
    let schema = new_schema("tracing", level(metadata.level()), fields);
    let message = names.field(MESSAGE).map(|f| f.index());
    let site: &'static TracingSite = Box::leak(Box::new(TracingSite { callsite, schema, message, fields: own, span }));
    sites.insert(key, site);
    site
}

/// The site of `metadata` from this thread's cache, else the registry.
fn site(metadata: &'static Metadata<'static>) -> &'static TracingSite {
    let key = address(metadata);
    let cached = CACHED.try_with(|cache| cache.try_borrow().ok().and_then(|c| c.get(&key).copied())).ok().flatten();
    if let Some(site) = cached {
        return site;
    }
    let site = register(metadata);
    super::cache_insert(&CACHED, key, site);
    site
}

/// A layer has been made: `tracing`'s spans are recorded as the `span`
/// field of their events, not as `log` records of their life cycle.
static LAYER_MADE: AtomicBool = AtomicBool::new(false);

/// Whether `record` is one `tracing` made (its `log` / `log-always`
/// features) of what the layer records already: of the event or span this
/// thread handed the layer last (forgotten once asked about), or of a
/// span's life cycle (targets `tracing::span` and `tracing::span::active`).
#[cfg(feature = "log")]
pub(super) fn just_recorded(record: &::log::Record<'_>) -> bool {
    if !LAYER_MADE.load(Ordering::Relaxed) {
        return false;
    }
    if record.target().strip_prefix("tracing::span").is_some_and(|rest| rest.is_empty() || rest == "::active") {
        return true;
    }
    let Ok(Some(last)) = LAST_EVENT.try_with(Cell::take) else { return false };
    last.target() == record.target()
        && last.file() == record.file()
        && last.line() == record.line()
        && level(last.level()) == super::log::level(record.level())
}

/// The span fields kept in a span's extensions: a `json` object's members
/// (without the count), encoded once.
struct SpanFields {
    name: &'static str,
    count: usize,
    members: Vec<u8>,
}

impl<S> tracing_subscriber::Layer<S> for BridgeLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() {
            register(metadata);
        }
        // Whether an event is recorded is decided when it comes, by the
        // lmlog filter (which may change); other layers decide for
        // themselves.
        Interest::always()
    }

    /// The most verbose level the running filter records anywhere, so that
    /// `tracing`'s macros skip more verbose events without calling the
    /// subscriber (read when the subscriber is installed); no hint when no
    /// runtime runs yet.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        STATE.max_level().map(|level| match level {
            Level::Error => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Debug => LevelFilter::DEBUG,
            Level::Trace => LevelFilter::TRACE,
        })
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let _ = LAST_EVENT.try_with(|last| last.set(Some(attrs.metadata())));
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields { name: attrs.metadata().name(), count: 0, members: Vec::new() };
        attrs.record(&mut Visitor(&mut Values(&mut fields)));
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut Visitor(&mut Values(fields)));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let _ = LAST_EVENT.try_with(|last| last.set(Some(metadata)));
        if event.is_log() {
            return on_log_event(event);
        }
        let site = site(metadata);
        if !site.callsite.load().enables(site.schema.level) {
            return;
        }
        let span = if site.span { ctx.event_span(event) } else { None };
        let extensions = span.as_ref().map(|span| span.extensions());
        let span_fields = extensions.as_ref().and_then(|e| e.get::<SpanFields>());
        emit_dynamic(site.callsite, site.schema, &EventFields { event, site, span: span_fields });
    }
}

/// An event that `LogTracer` made from a `log` record: recorded as the
/// `log` bridge records one, at the record's own location.
fn on_log_event(event: &Event<'_>) {
    let Some(normalized) = event.normalized_metadata() else { return };
    let location = Location {
        target: normalized.target(),
        file: normalized.file(),
        line: normalized.line().unwrap_or(0),
        level: level(normalized.level()),
    };
    let (site, schema) = super::located("log", location, |s| s.fields.len() == 1, Vec::new);
    if site.callsite.load().enables(schema.level) {
        emit_dynamic(site.callsite, schema, &LogEventMessage(event));
    }
}

/// The message of a `LogTracer` event.
struct LogEventMessage<'a>(&'a Event<'a>);

impl EncodeFields for LogEventMessage<'_> {
    fn encode_fields(&self, enc: &mut Encoder<'_>) {
        struct Message(Option<FormattedStr>);
        impl Visit for Message {
            fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
                if field.name() == MESSAGE {
                    self.0 = Some(FormattedStr::debug(value));
                }
            }
        }
        let mut message = Message(None);
        self.0.record(&mut message);
        enc.write_len_prefixed(message.0.as_ref().map_or("", |m| m.as_str()).as_bytes());
    }
}

/// An event's fields, in its call site's order, then its span.
struct EventFields<'a> {
    event: &'a Event<'a>,
    site: &'static TracingSite,
    span: Option<&'a SpanFields>,
}

impl EncodeFields for EventFields<'_> {
    fn encode_fields(&self, enc: &mut Encoder<'_>) {
        let mut writer = InOrder { enc, next: 0, message: self.site.message };
        self.event.record(&mut Visitor(&mut writer));
        writer.skip_to(self.site.fields);
        if self.site.span {
            match self.span {
                None => json::null(enc),
                Some(span) => {
                    json::object(enc, span.count + 1);
                    json::key(enc, "name");
                    json::str(enc, span.name);
                    enc.write_bytes(&span.members);
                }
            }
        }
    }
}

/// A field's value as `tracing` hands it over.
enum FieldValue<'a> {
    Debug(&'a dyn Debug),
    Str(&'a str),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F64(f64),
    Bool(bool),
    Error(&'a (dyn std::error::Error + 'static)),
}

/// Writes `value` as a `json` value.
fn write_json(out: &mut impl JsonOut, value: FieldValue<'_>) {
    match value {
        FieldValue::Debug(v) => json::str(out, FormattedStr::debug(v).as_str()),
        FieldValue::Str(v) => json::str(out, v),
        FieldValue::U64(v) => json::u64(out, v),
        FieldValue::I64(v) => json::i64(out, v),
        FieldValue::U128(v) => json::u128(out, v),
        FieldValue::I128(v) => json::i128(out, v),
        FieldValue::F64(v) => json::f64(out, v),
        FieldValue::Bool(v) => json::bool(out, v),
        FieldValue::Error(v) => json::str(out, FormattedStr::display(v).as_str()),
    }
}

/// Something that takes fields one by one.
trait FieldSink {
    fn field(&mut self, field: &Field, value: FieldValue<'_>);
}

/// A span's fields: appended as object members.
struct Values<'a>(&'a mut SpanFields);

impl FieldSink for Values<'_> {
    fn field(&mut self, field: &Field, value: FieldValue<'_>) {
        json::key(&mut self.0.members, field.name());
        write_json(&mut self.0.members, value);
        self.0.count += 1;
    }
}

/// An event's fields, written in the order of its call site's fields:
/// the message as text, the others as `json` values, `null` (or an empty
/// message) for each field the event does not record. `tracing` hands an
/// event's values over in that order; a value out of order is left out.
struct InOrder<'e, 'b> {
    enc: &'e mut Encoder<'b>,
    next: usize,
    message: Option<usize>,
}

impl InOrder<'_, '_> {
    /// Writes the fields before `index` that were not recorded.
    fn skip_to(&mut self, index: usize) {
        while self.next < index {
            if Some(self.next) == self.message {
                self.enc.write_len_prefixed(b"");
            } else {
                json::null(self.enc);
            }
            self.next += 1;
        }
    }
}

impl FieldSink for InOrder<'_, '_> {
    fn field(&mut self, field: &Field, value: FieldValue<'_>) {
        let index = field.index();
        if index < self.next {
            return;
        }
        self.skip_to(index);
        if Some(index) == self.message {
            match value {
                FieldValue::Str(text) => self.enc.write_len_prefixed(text.as_bytes()),
                FieldValue::Debug(args) => self.enc.write_len_prefixed(FormattedStr::debug(args).as_str().as_bytes()),
                other => self.enc.write_len_prefixed(FormattedStr::display(&Text(other)).as_str().as_bytes()),
            }
        } else {
            write_json(self.enc, value);
        }
        self.next = index + 1;
    }
}

/// A value's text, for a `message` field given as something else than
/// text.
struct Text<'a>(FieldValue<'a>);

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            FieldValue::Debug(v) => write!(f, "{v:?}"),
            FieldValue::Str(v) => f.write_str(v),
            FieldValue::U64(v) => write!(f, "{v}"),
            FieldValue::I64(v) => write!(f, "{v}"),
            FieldValue::U128(v) => write!(f, "{v}"),
            FieldValue::I128(v) => write!(f, "{v}"),
            FieldValue::F64(v) => write!(f, "{v}"),
            FieldValue::Bool(v) => write!(f, "{v}"),
            FieldValue::Error(v) => write!(f, "{v}"),
        }
    }
}

/// Hands `tracing`'s values to a [`FieldSink`].
struct Visitor<'a, T>(&'a mut T);

impl<T: FieldSink> Visit for Visitor<'_, T> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.field(field, FieldValue::Debug(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.field(field, FieldValue::Str(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.field(field, FieldValue::U64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.field(field, FieldValue::I64(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.0.field(field, FieldValue::U128(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.0.field(field, FieldValue::I128(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.field(field, FieldValue::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.field(field, FieldValue::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.field(field, FieldValue::Error(value));
    }
}
