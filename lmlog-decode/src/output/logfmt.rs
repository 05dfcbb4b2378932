//! The logfmt output.

use std::io::{self, Write};

use super::flat::{Flat, Scalar};
use super::jsonl::{event_written, flush_all, FLUSH_AT};
use crate::events::{Callsite, Event};
use crate::json::{self, TimestampFormatter};

/// Writes one logfmt line per event:
///
/// ```text
/// time=2026-11-25T13:23:10.133324123Z level=warn event=payment_failed msg="payment of 12.5 failed" user_id=7 order.id=3 thread.id=2 thread.name=worker-1 source=src/pay.rs:42
/// ```
///
/// `time` (RFC 3339, nanoseconds), `level`, `event` (the event type),
/// `msg` if the call site has a message template, the fields, nested
/// values flattened under dotted keys (`order.items.0.sku`; an empty
/// sequence is `[]`, an empty map or struct `{}`), `operation.id`,
/// `operation.name` and `operation.parent_id` if the event has an
/// operation, `global_context.KEY` for each key of the global context it
/// was emitted with, `flight_recorder=true` if the flight recorder kept
/// it, `trace_id`, `span_id`
/// and `trace_flags` if the event has a trace context, `thread.id`,
/// `thread.name` and `source` (`file:line`).
///
/// A value is quoted when it is empty or holds a space, a control
/// character, `"` or `=`; inside quotes `"` and `\` are escaped with a
/// backslash, and control characters as `\n`, `\r`, `\t` or `\u00XX`.
/// Characters other than letters, digits and `_ - . / : @` in keys become
/// `_`. Output is buffered in 64 KiB chunks.
#[non_exhaustive]
pub struct Logfmt<W: Write> {
    out: W,
    buf: Vec<u8>,
    ts: TimestampFormatter,
    text: String,
}

impl<W: Write> std::fmt::Debug for Logfmt<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logfmt").field("buffered", &self.buf.len()).finish_non_exhaustive()
    }
}

/// A call site prepared for [`Logfmt`]: its fixed text.
#[derive(Debug)]
#[non_exhaustive]
pub struct LogfmtCallsite {
    /// ` level=... event=...`.
    head: Box<[u8]>,
    /// ` source=file:line`; empty without a source.
    source: Box<[u8]>,
}

/// Appends `s` as a logfmt value, quoted if need be.
pub(crate) fn write_value(out: &mut Vec<u8>, s: &str) {
    let quote = s.is_empty() || s.chars().any(|c| c <= ' ' || c == '"' || c == '=' || c.is_control());
    if !quote {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if c.is_control() => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

/// Appends ` key=` with the key's unusable characters replaced.
fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b' ');
    if key.is_empty() {
        out.push(b'_');
    }
    for c in key.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '@') {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        } else {
            out.push(b'_');
        }
    }
    out.push(b'=');
}

impl<W: Write> Logfmt<W> {
    /// An output writing logfmt lines to `out`.
    pub fn new(out: W) -> Self {
        Logfmt { out, buf: Vec::with_capacity(FLUSH_AT + 4096), ts: TimestampFormatter::new(), text: String::new() }
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn scalar(&mut self, v: &Scalar<'_>) {
        self.text.clear();
        v.text(&mut self.text);
        write_value(&mut self.buf, &self.text);
    }
}

impl<W: Write> super::Output for Logfmt<W> {
    type Callsite = LogfmtCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> LogfmtCallsite {
        let mut head = b" level=".to_vec();
        head.extend_from_slice(callsite.level().as_str().as_bytes());
        write_key(&mut head, "event");
        write_value(&mut head, callsite.event_type());
        let mut source = Vec::new();
        if let Some(s) = callsite.source() {
            write_key(&mut source, "source");
            write_value(&mut source, &format!("{}:{}", s.file, s.line));
        }
        LogfmtCallsite { head: head.into(), source: source.into() }
    }

    fn event(&mut self, event: Event<'_>, cs: &mut LogfmtCallsite) -> io::Result<()> {
        let Event { unix_nanos, thread, trace, operation, global_context, flight_recorded, fields, .. } = event;
        let mut flat = Flat::default();
        let mut message = String::new();
        let has_message = event.callsite.template().is_some();
        if fields.visit_with_message(&mut flat, &mut message).is_ok() {
            self.buf.extend_from_slice(b"time=");
            self.ts.write(&mut self.buf, unix_nanos);
            self.buf.extend_from_slice(&cs.head);
            if has_message {
                write_key(&mut self.buf, "msg");
                write_value(&mut self.buf, &message);
            }
            for (key, value) in &flat.entries {
                write_key(&mut self.buf, key);
                self.scalar(value);
            }
            if let Some(op) = &operation {
                write_key(&mut self.buf, "operation.id");
                json::write_int(&mut self.buf, op.id);
                if let Some(name) = op.name {
                    write_key(&mut self.buf, "operation.name");
                    write_value(&mut self.buf, name);
                }
                if let Some(parent) = op.parent_id {
                    write_key(&mut self.buf, "operation.parent_id");
                    json::write_int(&mut self.buf, parent);
                }
            }
            for (key, value) in global_context.iter().flat_map(|c| c.iter()) {
                write_key(&mut self.buf, &format!("global_context.{key}"));
                match value {
                    lmlog_format::ContextValue::Str(s) => write_value(&mut self.buf, s),
                    other => json::write_context_value(&mut self.buf, other),
                }
            }
            if flight_recorded {
                write_key(&mut self.buf, "flight_recorder");
                self.buf.extend_from_slice(b"true");
            }
            if let Some(t) = &trace {
                write_key(&mut self.buf, "trace_id");
                json::write_hex(&mut self.buf, t.trace_id());
                write_key(&mut self.buf, "span_id");
                json::write_hex(&mut self.buf, t.span_id());
                write_key(&mut self.buf, "trace_flags");
                json::write_hex(&mut self.buf, &[t.flags()]);
            }
            if let Some(t) = thread {
                write_key(&mut self.buf, "thread.id");
                json::write_int(&mut self.buf, t.id);
                if let Some(name) = t.name {
                    write_key(&mut self.buf, "thread.name");
                    write_value(&mut self.buf, name);
                }
            }
            self.buf.extend_from_slice(&cs.source);
            self.buf.push(b'\n');
        }
        event_written(&mut self.out, &mut self.buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_all(&mut self.out, &mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> String {
        let mut out = Vec::new();
        write_value(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_quoted_and_escaped_when_needed() {
        assert_eq!(value("plain"), "plain");
        assert_eq!(value("back\\slash"), "back\\slash");
        assert_eq!(value(""), "\"\"");
        assert_eq!(value("two words"), "\"two words\"");
        assert_eq!(value("a=b"), "\"a=b\"");
        assert_eq!(value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(value("a\nb\\"), "\"a\\nb\\\\\"");
        assert_eq!(value("bell\u{7}"), "\"bell\\u0007\"");
    }

    #[test]
    fn keys_lose_unusable_characters() {
        let mut out = Vec::new();
        write_key(&mut out, "a b=\"c\".d");
        assert_eq!(out, b" a_b__c_.d=");
    }
}
