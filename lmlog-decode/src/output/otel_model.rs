//! The mapping of lmlog events to the OpenTelemetry logs data model, shared
//! by the OTLP/JSON output ([`OtelJson`](super::OtelJson)) and the OTLP
//! protobuf exporter (`crate::otlp`): which resource and record attributes,
//! under which keys, with which values. Each output only encodes what this
//! module hands it.

use lmlog_format::{Level, SessionInfo};

use super::flat::Scalar;
use crate::events::{Callsite, GlobalContext, OperationRef, Thread};
use crate::resource::ResourceValue;

/// An attribute value as the OpenTelemetry data model types it (an
/// `AnyValue`, or no value at all).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OtelValue<'a> {
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// An empty sequence.
    EmptyArray,
    /// An empty map or struct.
    EmptyKvlist,
    /// `None` or `()`: a key without a value.
    Absent,
}

/// Where the mapping puts attributes: an output's encoder.
pub(crate) trait Attributes {
    /// One attribute.
    fn attribute(&mut self, key: &str, value: OtelValue<'_>);
}

/// The OpenTelemetry severity number of a level.
pub(crate) fn severity_number(level: Level) -> u8 {
    match level {
        Level::Trace => 1,
        Level::Debug => 5,
        Level::Info => 9,
        Level::Warn => 13,
        Level::Error => 17,
    }
}

/// The record's time (and observed time: the decoder observes nothing
/// later) in the `fixed64` of the data model: times before 1970, or beyond
/// it, cannot be told and become 0.
pub(crate) fn time_unix_nano(unix_nanos: i128) -> u64 {
    u64::try_from(unix_nanos).unwrap_or(0)
}

/// The record's body: the rendered message, else the event type.
pub(crate) fn body<'a>(callsite: &'a Callsite, message: &'a str) -> &'a str {
    match callsite.template() {
        Some(_) => message,
        None => callsite.event_type(),
    }
}

/// Hands the typed value of `scalar` to `with` (integers beyond `i64` as
/// their decimal text; the text a scalar stands for where it has no type of
/// its own).
pub(crate) fn with_value<R>(scalar: &Scalar<'_>, with: impl FnOnce(OtelValue<'_>) -> R) -> R {
    let mut text = [0; 4];
    match scalar {
        Scalar::Bool(b) => with(OtelValue::Bool(*b)),
        Scalar::U64(n) => match i64::try_from(*n) {
            Ok(n) => with(OtelValue::Int(n)),
            Err(_) => with(OtelValue::Str(&n.to_string())),
        },
        Scalar::I64(n) => with(OtelValue::Int(*n)),
        Scalar::Big(s) | Scalar::Text(s) => with(OtelValue::Str(s)),
        Scalar::F32(f) => with(OtelValue::Double(f32_as_decimal(*f))),
        Scalar::F64(f) => with(OtelValue::Double(*f)),
        Scalar::Str(s) => with(OtelValue::Str(s)),
        Scalar::Char(c) => with(OtelValue::Str(c.encode_utf8(&mut text))),
        Scalar::Bytes(b) => with(OtelValue::Bytes(b)),
        Scalar::Null => with(OtelValue::Absent),
        Scalar::Redacted => with(OtelValue::Str("<redacted>")),
        Scalar::Empty(true) => with(OtelValue::EmptyArray),
        Scalar::Empty(false) => with(OtelValue::EmptyKvlist),
    }
}

/// The double an `f32` stands for: the one its shortest decimal text
/// reads as (`0.1`, not `0.10000000149011612`), as the JSON outputs write it.
fn f32_as_decimal(f: f32) -> f64 {
    if !f.is_finite() {
        return f64::from(f);
    }
    ryu::Buffer::new().format_finite(f).parse().unwrap_or(f64::from(f))
}

/// The resource attributes of a session, as [`crate::resource_attributes`]
/// lists them.
pub(crate) fn resource_attributes(session: &SessionInfo, out: &mut impl Attributes) {
    for (key, value) in crate::resource_attributes(session) {
        match value {
            ResourceValue::Str(v) => out.attribute(key, OtelValue::Str(v)),
            ResourceValue::Int(v) => out.attribute(key, OtelValue::Int(v)),
        }
    }
}

/// The `code.*` attributes of a call site with a source location.
pub(crate) fn code_attributes(callsite: &Callsite, out: &mut impl Attributes) {
    if let Some(s) = callsite.source() {
        out.attribute("code.filepath", OtelValue::Str(s.file));
        out.attribute("code.lineno", OtelValue::Int(i64::from(s.line)));
        out.attribute("code.namespace", OtelValue::Str(s.module));
        out.attribute("code.function", OtelValue::Str(s.function));
    }
}

/// The `thread.*` attributes of an event's thread.
pub(crate) fn thread_attributes(thread: &Thread<'_>, out: &mut impl Attributes) {
    out.attribute("thread.id", OtelValue::Int(i64::from(thread.id)));
    if let Some(name) = thread.name {
        out.attribute("thread.name", OtelValue::Str(name));
    }
}

/// The `global_context.*` attributes of the global context an event was
/// emitted with.
pub(crate) fn global_context_attributes(context: &GlobalContext, out: &mut impl Attributes) {
    use lmlog_format::ContextValue;
    let mut key = String::new();
    for (name, value) in context.iter() {
        key.clear();
        key.push_str("global_context.");
        key.push_str(name);
        let value = match value {
            ContextValue::Str(s) => OtelValue::Str(s),
            ContextValue::I64(v) => OtelValue::Int(*v),
            ContextValue::U64(v) => match i64::try_from(*v) {
                Ok(v) => OtelValue::Int(v),
                Err(_) => OtelValue::Double(*v as f64),
            },
            ContextValue::F64(v) => OtelValue::Double(*v),
            ContextValue::Bool(v) => OtelValue::Bool(*v),
        };
        out.attribute(&key, value);
    }
}

/// The `operation.*` attributes of the operation an event ran in.
pub(crate) fn operation_attributes(op: &OperationRef<'_>, out: &mut impl Attributes) {
    // The data model's integers are i64: an id takes its bits, as the
    // OTLP/JSON output has always written it.
    out.attribute("operation.id", OtelValue::Int(op.id as i64));
    if let Some(name) = op.name {
        out.attribute("operation.name", OtelValue::Str(name));
    }
    if let Some(parent) = op.parent_id {
        out.attribute("operation.parent_id", OtelValue::Int(parent as i64));
    }
}

/// `lmlog.flight_recorder` (true) on an event the flight recorder kept.
pub(crate) fn flight_recorder_attribute(out: &mut impl Attributes) {
    out.attribute("lmlog.flight_recorder", OtelValue::Bool(true));
}

/// The attributes of an event's fields, flattened under dotted keys.
pub(crate) fn field_attributes(entries: &[(String, Scalar<'_>)], out: &mut impl Attributes) {
    for (key, value) in entries {
        with_value(value, |v| out.attribute(key, v));
    }
}
