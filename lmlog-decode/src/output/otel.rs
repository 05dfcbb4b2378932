//! The OpenTelemetry output: OTLP/JSON logs.

use std::io::{self, Write};

use lmlog_format::Level;

use super::flat::{Flat, Scalar};
use super::jsonl::{event_written, flush_all, FLUSH_AT};
use crate::events::{Callsite, Event, Item};
use crate::json;
use crate::resource::ResourceValue;

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

/// Appends `{"key":"..","value":{` (the caller writes the value and `}}`).
fn attr_open(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b"{\"key\":");
    json::write_str(out, key);
    out.extend_from_slice(b",\"value\":{");
}

/// Appends a string attribute.
fn str_attr(out: &mut Vec<u8>, key: &str, v: &str) {
    attr_open(out, key);
    out.extend_from_slice(b"\"stringValue\":");
    json::write_str(out, v);
    out.extend_from_slice(b"}}");
}

/// Appends an integer attribute.
fn int_attr(out: &mut Vec<u8>, key: &str, v: i64) {
    attr_open(out, key);
    out.extend_from_slice(b"\"intValue\":\"");
    json::write_int(out, v);
    out.extend_from_slice(b"\"}}");
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

/// Appends the AnyValue content of `v` (inside its braces).
fn any_value(out: &mut Vec<u8>, v: &Scalar<'_>) {
    match v {
        Scalar::Bool(b) => {
            out.extend_from_slice(b"\"boolValue\":");
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        Scalar::U64(n) => match i64::try_from(*n) {
            Ok(n) => {
                out.extend_from_slice(b"\"intValue\":\"");
                json::write_int(out, n);
                out.push(b'"');
            }
            Err(_) => {
                out.extend_from_slice(b"\"stringValue\":\"");
                json::write_int(out, *n);
                out.push(b'"');
            }
        },
        Scalar::I64(n) => {
            out.extend_from_slice(b"\"intValue\":\"");
            json::write_int(out, *n);
            out.push(b'"');
        }
        Scalar::Big(s) => {
            out.extend_from_slice(b"\"stringValue\":");
            json::write_str(out, s);
        }
        Scalar::F32(f) if f.is_finite() => {
            // The shortest text of the f32 (`0.1`, not `0.10000000149011612`).
            out.extend_from_slice(b"\"doubleValue\":");
            json::write_f32(out, *f);
        }
        Scalar::F32(f) => any_value(out, &Scalar::F64(f64::from(*f))),
        Scalar::F64(f) if f.is_finite() => {
            out.extend_from_slice(b"\"doubleValue\":");
            json::write_f64(out, *f);
        }
        // Proto3 JSON allows "NaN" for a double, but serde-based readers
        // (opentelemetry-proto) take only numbers: a string says it as well.
        Scalar::F64(f) if f.is_nan() => out.extend_from_slice(b"\"stringValue\":\"NaN\""),
        Scalar::F64(f) if *f > 0.0 => out.extend_from_slice(b"\"stringValue\":\"Infinity\""),
        Scalar::F64(_) => out.extend_from_slice(b"\"stringValue\":\"-Infinity\""),
        Scalar::Str(s) => {
            out.extend_from_slice(b"\"stringValue\":");
            json::write_str(out, s);
        }
        Scalar::Text(s) => {
            out.extend_from_slice(b"\"stringValue\":");
            json::write_str(out, s);
        }
        Scalar::Char(c) => {
            out.extend_from_slice(b"\"stringValue\":");
            json::write_str(out, c.encode_utf8(&mut [0; 4]));
        }
        Scalar::Bytes(b) => {
            out.extend_from_slice(b"\"bytesValue\":\"");
            write_base64(out, b);
            out.push(b'"');
        }
        Scalar::Null => {}
        Scalar::Redacted => out.extend_from_slice(b"\"stringValue\":\"<redacted>\""),
        Scalar::Empty(true) => out.extend_from_slice(b"\"arrayValue\":{\"values\":[]}"),
        Scalar::Empty(false) => out.extend_from_slice(b"\"kvlistValue\":{\"values\":[]}"),
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
        json::write_int(&mut head, severity_number(level));
        head.extend_from_slice(b",\"severityText\":");
        json::write_str(&mut head, level.as_str());
        head.extend_from_slice(b",\"eventName\":");
        json::write_str(&mut head, callsite.event_type());
        head.push(b',');
        let mut code = Vec::new();
        if let Some(s) = callsite.source() {
            code.push(b',');
            str_attr(&mut code, "code.filepath", s.file);
            code.push(b',');
            int_attr(&mut code, "code.lineno", i64::from(s.line));
            code.push(b',');
            str_attr(&mut code, "code.namespace", s.module);
            code.push(b',');
            str_attr(&mut code, "code.function", s.function);
        }
        OtelCallsite { head: head.into(), code: code.into() }
    }

    fn event(&mut self, event: Event<'_>, cs: &mut OtelCallsite) -> io::Result<()> {
        let Event { unix_nanos, thread, trace, operation, fields, callsite, .. } = event;
        let mut flat = Flat::default();
        let mut message = String::new();
        if fields.visit_with_message(&mut flat, &mut message).is_ok() {
            let b = &mut self.buf;
            b.extend_from_slice(&self.prefix);
            // fixed64: times before 1970 cannot be told; they become 0.
            let nanos = u64::try_from(unix_nanos).unwrap_or(0);
            b.extend_from_slice(b"{\"timeUnixNano\":\"");
            json::write_int(b, nanos);
            b.extend_from_slice(b"\",\"observedTimeUnixNano\":\"");
            json::write_int(b, nanos);
            b.extend_from_slice(b"\",");
            b.extend_from_slice(&cs.head);
            b.extend_from_slice(b"\"body\":{\"stringValue\":");
            match callsite.template() {
                Some(_) => json::write_str(b, &message),
                None => json::write_str(b, callsite.event_type()),
            }
            b.extend_from_slice(b"},\"attributes\":[");
            let mut first = true;
            for (key, value) in &flat.entries {
                if !first {
                    b.push(b',');
                }
                first = false;
                if *value == Scalar::Null {
                    // A KeyValue without a value: `None` or `()`.
                    b.extend_from_slice(b"{\"key\":");
                    json::write_str(b, key);
                    b.push(b'}');
                } else {
                    attr_open(b, key);
                    any_value(b, value);
                    b.extend_from_slice(b"}}");
                }
            }
            let code: &[u8] = if first && !cs.code.is_empty() { &cs.code[1..] } else { &cs.code };
            first &= cs.code.is_empty();
            b.extend_from_slice(code);
            if let Some(t) = thread {
                if !first {
                    b.push(b',');
                }
                first = false;
                int_attr(b, "thread.id", i64::from(t.id));
                if let Some(name) = t.name {
                    b.push(b',');
                    str_attr(b, "thread.name", name);
                }
            }
            if let Some(op) = &operation {
                if !first {
                    b.push(b',');
                }
                int_attr(b, "operation.id", op.id as i64);
                if let Some(name) = op.name {
                    b.push(b',');
                    str_attr(b, "operation.name", name);
                }
                if let Some(parent) = op.parent_id {
                    b.push(b',');
                    int_attr(b, "operation.parent_id", parent as i64);
                }
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
            for (key, value) in crate::resource_attributes(s) {
                if !attrs.is_empty() {
                    attrs.push(b',');
                }
                match value {
                    ResourceValue::Str(v) => str_attr(&mut attrs, key, v),
                    ResourceValue::Int(v) => int_attr(&mut attrs, key, v),
                }
            }
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
        let got: Vec<u8> = Level::ALL.iter().map(|l| severity_number(*l)).collect();
        assert_eq!(got, [17, 13, 9, 5, 1]);
    }

    #[test]
    fn values_are_typed() {
        let render = |v: Scalar<'_>| {
            let mut out = Vec::new();
            any_value(&mut out, &v);
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
    }
}
