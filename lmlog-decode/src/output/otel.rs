//! The OpenTelemetry output: OTLP/JSON logs.

use std::io::{self, Write};

use super::flat::Flat;
#[cfg(test)]
use super::flat::Scalar;
use super::jsonl::{event_written, flush_all, FLUSH_AT};
use super::otel_model::{self, Attributes, OtelValue};
use crate::events::{Callsite, Event, Item};
use crate::json;

/// Writes the OpenTelemetry logs data model as OTLP/JSON: one
/// `ExportLogsServiceRequest` object per line, holding one log record.
///
/// The resource carries the session's `service.name`, `host.name`,
/// `process.pid`, `process.executable.name` (the file name),
/// `process.executable.path` and the configured resource pairs; the scope
/// is `lmlog` with the writer's version. A record has `timeUnixNano` and
/// `observedTimeUnixNano` (both the event's time: the decoder observes
/// nothing later), `severityNumber` (trace 1, debug 5, info 9, warn 13,
/// error 17) and `severityText` (the level name), `body` (the rendered
/// message, else the event type), `eventName` (the event type),
/// `attributes` (the fields flattened under dotted keys, then
/// `code.filepath`, `code.lineno`, `code.namespace`, `code.function`,
/// `thread.id` and `thread.name`), and `traceId`, `spanId` (hex) and
/// `flags` when the event has a trace context.
///
/// The encoding follows OTLP/JSON: camelCase names, 64-bit integers as
/// strings, integers beyond `i64` as `stringValue`, bytes as base64
/// `bytesValue`, non-finite floats as the `stringValue` `"NaN"`,
/// `"Infinity"` or `"-Infinity"` (readers built on serde, such as the
/// `opentelemetry-proto` crate, take no strings in `doubleValue`), an empty
/// sequence as an empty `arrayValue`, an empty map or struct as an empty
/// `kvlistValue`, and `None` and `()` as an attribute without a value.
/// Every line parses as an `ExportLogsServiceRequest` with
/// `opentelemetry-proto` (`with-serde`). Output is buffered in 64 KiB
/// chunks.
#[non_exhaustive]
pub struct OtelJson<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Everything of a line before its log record.
    prefix: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for OtelJson<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelJson").field("buffered", &self.buf.len()).finish_non_exhaustive()
    }
}

/// A call site prepared for [`OtelJson`]: its fixed JSON.
#[derive(Debug)]
#[non_exhaustive]
pub struct OtelCallsite {
    /// `"severityNumber":..,"severityText":"..","eventName":"..",`
    head: Box<[u8]>,
    /// The `code.*` attributes, each preceded by a comma.
    code: Box<[u8]>,
}

/// The line end: closes the record, `logRecords`, the scope, `scopeLogs`,
/// the resource and `resourceLogs`.
const SUFFIX: &[u8] = b"]}]}]}\n";

/// Writes attributes as OTLP/JSON `KeyValue` objects, separated by commas.
struct JsonAttributes<'b> {
    out: &'b mut Vec<u8>,
    /// Whether an attribute was written (the next one needs a comma).
    any: bool,
}

impl<'b> JsonAttributes<'b> {
    /// Attributes appended to `out`; `any` says whether a list there already has some.
    fn new(out: &'b mut Vec<u8>, any: bool) -> Self {
        JsonAttributes { out, any }
    }
}

impl Attributes for JsonAttributes<'_> {
    fn attribute(&mut self, key: &str, value: OtelValue<'_>) {
        let out = &mut *self.out;
        if self.any {
            out.push(b',');
        }
        self.any = true;
        out.extend_from_slice(b"{\"key\":");
        json::write_str(out, key);
        if value != OtelValue::Absent {
            // A KeyValue without a value (`None`, `()`) has no `value`.
            out.extend_from_slice(b",\"value\":{");
            any_value(out, &value);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// Appends the standard base64 text of `bytes` (with padding).
fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

/// Appends the OTLP/JSON AnyValue content of `v` (inside its braces).
fn any_value(out: &mut Vec<u8>, v: &OtelValue<'_>) {
    match v {
        OtelValue::Bool(b) => {
            out.extend_from_slice(b"\"boolValue\":");
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        OtelValue::Int(n) => {
            out.extend_from_slice(b"\"intValue\":\"");
            json::write_int(out, *n);
            out.push(b'"');
        }
        OtelValue::Double(f) if f.is_finite() => {
            out.extend_from_slice(b"\"doubleValue\":");
            json::write_f64(out, *f);
        }
        // Proto3 JSON allows "NaN" for a double, but serde-based readers
        // (opentelemetry-proto) take only numbers: a string says it as well.
        OtelValue::Double(f) if f.is_nan() => out.extend_from_slice(b"\"stringValue\":\"NaN\""),
        OtelValue::Double(f) if *f > 0.0 => out.extend_from_slice(b"\"stringValue\":\"Infinity\""),
        OtelValue::Double(_) => out.extend_from_slice(b"\"stringValue\":\"-Infinity\""),
        OtelValue::Str(s) => {
            out.extend_from_slice(b"\"stringValue\":");
            json::write_str(out, s);
        }
        OtelValue::Bytes(b) => {
            out.extend_from_slice(b"\"bytesValue\":\"");
            write_base64(out, b);
            out.push(b'"');
        }
        OtelValue::EmptyArray => out.extend_from_slice(b"\"arrayValue\":{\"values\":[]}"),
        OtelValue::EmptyKvlist => out.extend_from_slice(b"\"kvlistValue\":{\"values\":[]}"),
        OtelValue::Absent => {}
    }
}

impl<W: Write> OtelJson<W> {
    /// An output writing OTLP/JSON lines to `out`.
    pub fn new(out: W) -> Self {
        let mut o = OtelJson { out, buf: Vec::with_capacity(FLUSH_AT + 4096), prefix: Vec::new() };
        o.set_resource(&[], None);
        o
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Renders the line prefix for resource attributes `attrs` (already
    /// rendered, comma-separated) and the writer's version.
    fn set_resource(&mut self, attrs: &[u8], version: Option<&str>) {
        let p = &mut self.prefix;
        p.clear();
        p.extend_from_slice(b"{\"resourceLogs\":[{\"resource\":{\"attributes\":[");
        p.extend_from_slice(attrs);
        p.extend_from_slice(b"]},\"scopeLogs\":[{\"scope\":{\"name\":\"lmlog\"");
        if let Some(v) = version {
            p.extend_from_slice(b",\"version\":");
            json::write_str(p, v);
        }
        p.extend_from_slice(b"},\"logRecords\":[");
    }
}

impl<W: Write> super::Output for OtelJson<W> {
    type Callsite = OtelCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> OtelCallsite {
        let level = callsite.level();
        let mut head = b"\"severityNumber\":".to_vec();
        json::write_int(&mut head, otel_model::severity_number(level));
        head.extend_from_slice(b",\"severityText\":");
        json::write_str(&mut head, level.as_str());
        head.extend_from_slice(b",\"eventName\":");
        json::write_str(&mut head, callsite.event_type());
        head.push(b',');
        let mut code = Vec::new();
        otel_model::code_attributes(callsite, &mut JsonAttributes::new(&mut code, false));
        OtelCallsite { head: head.into(), code: code.into() }
    }

    fn event(&mut self, event: Event<'_>, cs: &mut OtelCallsite) -> io::Result<()> {
        let Event { unix_nanos, thread, trace, operation, global_context, flight_recorded, fields, callsite, .. } =
            event;
        let mut flat = Flat::default();
        let mut message = String::new();
        if fields.visit_with_message(&mut flat, &mut message).is_ok() {
            let b = &mut self.buf;
            b.extend_from_slice(&self.prefix);
            let nanos = otel_model::time_unix_nano(unix_nanos);
            b.extend_from_slice(b"{\"timeUnixNano\":\"");
            json::write_int(b, nanos);
            b.extend_from_slice(b"\",\"observedTimeUnixNano\":\"");
            json::write_int(b, nanos);
            b.extend_from_slice(b"\",");
            b.extend_from_slice(&cs.head);
            b.extend_from_slice(b"\"body\":{\"stringValue\":");
            json::write_str(b, otel_model::body(callsite, &message));
            b.extend_from_slice(b"},\"attributes\":[");
            let mut attributes = JsonAttributes::new(b, false);
            otel_model::field_attributes(&flat.entries, &mut attributes);
            if !cs.code.is_empty() {
                // The call site's `code.*` attributes, rendered once.
                if attributes.any {
                    attributes.out.push(b',');
                }
                attributes.out.extend_from_slice(&cs.code);
                attributes.any = true;
            }
            if let Some(t) = &thread {
                otel_model::thread_attributes(t, &mut attributes);
            }
            if let Some(op) = &operation {
                otel_model::operation_attributes(op, &mut attributes);
            }
            if let Some(context) = global_context {
                otel_model::global_context_attributes(context, &mut attributes);
            }
            if flight_recorded {
                otel_model::flight_recorder_attribute(&mut attributes);
            }
            b.push(b']');
            if let Some(t) = &trace {
                b.extend_from_slice(b",\"traceId\":\"");
                json::write_hex(b, t.trace_id());
                b.extend_from_slice(b"\",\"spanId\":\"");
                json::write_hex(b, t.span_id());
                b.extend_from_slice(b"\",\"flags\":");
                json::write_int(b, t.flags());
            }
            b.push(b'}');
            b.extend_from_slice(SUFFIX);
        }
        event_written(&mut self.out, &mut self.buf)
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let Item::Session(s) = item {
            let mut attrs = Vec::new();
            otel_model::resource_attributes(s, &mut JsonAttributes::new(&mut attrs, false));
            self.set_resource(&attrs, Some(&s.writer_version));
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_all(&mut self.out, &mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use lmlog_format::Level;

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_base64(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(b64(b""), "");
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
        assert_eq!(b64(b"foob"), "Zm9vYg==");
        assert_eq!(b64(b"fooba"), "Zm9vYmE=");
        assert_eq!(b64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn severity_numbers_follow_the_otel_mapping() {
        let got: Vec<u8> = Level::ALL.iter().map(|l| otel_model::severity_number(*l)).collect();
        assert_eq!(got, [17, 13, 9, 5, 1]);
    }

    #[test]
    fn values_are_typed() {
        let render = |v: Scalar<'_>| {
            let mut out = Vec::new();
            otel_model::with_value(&v, |v| any_value(&mut out, &v));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(render(Scalar::U64(7)), r#""intValue":"7""#);
        assert_eq!(render(Scalar::U64(u64::MAX)), r#""stringValue":"18446744073709551615""#);
        assert_eq!(render(Scalar::I64(-3)), r#""intValue":"-3""#);
        assert_eq!(render(Scalar::F64(1.5)), r#""doubleValue":1.5"#);
        assert_eq!(render(Scalar::F64(f64::NEG_INFINITY)), r#""stringValue":"-Infinity""#);
        assert_eq!(render(Scalar::F32(f32::NAN)), r#""stringValue":"NaN""#);
        assert_eq!(render(Scalar::Empty(true)), r#""arrayValue":{"values":[]}"#);
        assert_eq!(render(Scalar::Bool(true)), r#""boolValue":true"#);
        assert_eq!(render(Scalar::Str("a\"b")), r#""stringValue":"a\"b""#);
        assert_eq!(render(Scalar::Bytes(b"foo")), r#""bytesValue":"Zm9v""#);
        assert_eq!(render(Scalar::F32(0.1)), r#""doubleValue":0.1"#);
    }
}
