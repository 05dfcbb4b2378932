//! The human-readable output: one line per event, in the manner of
//! tracing-subscriber's compact format and bunyan's `short` view.

use std::io::{self, Write};

use super::flat::Flat;
use super::jsonl::{event_written, flush_all, FLUSH_AT};
use lmlog_format::Level;

use crate::events::{Callsite, Event};
use crate::json::{self, TimestampFormatter};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";

/// The colour of a level's name (as tracing-subscriber colours them).
fn level_color(level: Level) -> &'static str {
    match level {
        Level::Error => "\x1b[31m",
        Level::Warn => "\x1b[33m",
        Level::Info => "\x1b[32m",
        Level::Debug => "\x1b[34m",
        Level::Trace => "\x1b[35m",
    }
}

/// Writes one line per event for people to read:
///
/// ```text
/// 2026-11-25T13:23:10.133324123Z  WARN payment_failed: payment of 12.5 failed user_id=7 order={"id":3} thread=worker-1 src/pay.rs:42
/// ```
///
/// The timestamp (RFC 3339, nanoseconds), the level, the event type, the
/// rendered message if the call site has one, the fields as `key=value`
/// (strings bare unless they hold spaces, quotes, `=` or control
/// characters, which get JSON quoting; composite values as compact JSON),
/// the trace context if any, the thread (name, else `#id`) and the source
/// `file:line`. With colour, the level is coloured, the event type bold and
/// keys, thread and source dim. Output is buffered in 64 KiB chunks.
#[non_exhaustive]
pub struct Pretty<W: Write> {
    out: W,
    buf: Vec<u8>,
    color: bool,
    ts: TimestampFormatter,
    message: String,
}

impl<W: Write> std::fmt::Debug for Pretty<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pretty").field("color", &self.color).finish_non_exhaustive()
    }
}

/// A call site prepared for [`Pretty`]: its fixed text.
#[derive(Debug)]
#[non_exhaustive]
pub struct PrettyCallsite {
    /// The level, padded to five characters and coloured if need be.
    level: Box<str>,
    /// The event type and `:`, bold if need be.
    event_type: Box<str>,
    /// ` file:line`, dim if need be; empty without a source.
    source: Box<str>,
}

impl<W: Write> Pretty<W> {
    /// An output writing lines to `out`, with ANSI colours if `color`.
    pub fn new(out: W, color: bool) -> Self {
        Pretty {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            color,
            ts: TimestampFormatter::new(),
            message: String::new(),
        }
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn styled(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// Appends ` key=` (the key dim).
    fn key(&mut self, key: &str) {
        self.buf.push(b' ');
        if self.color {
            self.buf.extend_from_slice(ITALIC.as_bytes());
            self.buf.extend_from_slice(key.as_bytes());
            self.buf.extend_from_slice(RESET.as_bytes());
            self.buf.extend_from_slice(DIM.as_bytes());
            self.buf.push(b'=');
            self.buf.extend_from_slice(RESET.as_bytes());
        } else {
            self.buf.extend_from_slice(key.as_bytes());
            self.buf.push(b'=');
        }
    }
}

/// Whether text written to `stream` should be coloured: it is a terminal
/// and `NO_COLOR` (<https://no-color.org>) is unset or empty.
///
/// ```
/// let color = lmlog_decode::wants_color(&std::io::stderr());
/// let _pretty = lmlog_decode::Pretty::new(std::io::stderr(), color);
/// ```
pub fn wants_color(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether a string must be quoted to read as one `key=value` value.
fn needs_quotes(s: &str) -> bool {
    s.is_empty() || s.chars().any(|c| c <= ' ' || c == '"' || c == '=' || c.is_control())
}

/// Appends `text` with control characters escaped (the line stays one line).
fn push_escaped(out: &mut Vec<u8>, text: &str) {
    if !text.chars().any(char::is_control) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut quoted = Vec::with_capacity(text.len() + 8);
    json::write_str_contents(&mut quoted, text.as_bytes());
    // JSON escaping also escapes quotes and backslashes; keep those as they were.
    let s = String::from_utf8_lossy(&quoted).replace("\\\"", "\"").replace("\\\\", "\\");
    out.extend_from_slice(s.as_bytes());
}

impl<W: Write> super::Output for Pretty<W> {
    type Callsite = PrettyCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> PrettyCallsite {
        let level = callsite.level();
        let name = format!("{:>5}", level.as_str().to_ascii_uppercase());
        let source = match callsite.source() {
            Some(s) => format!(" {}", self.styled(DIM, &format!("{}:{}", s.file, s.line))),
            None => String::new(),
        };
        PrettyCallsite {
            level: self.styled(level_color(level), &name).into(),
            event_type: self.styled(BOLD, &format!("{}:", callsite.event_type())).into(),
            source: source.into(),
        }
    }

    fn event(&mut self, event: Event<'_>, cs: &mut PrettyCallsite) -> io::Result<()> {
        let Event { unix_nanos, thread, trace, operation, global_context, flight_recorded, fields, .. } = event;
        let mut flat = Flat::default();
        self.message.clear();
        let read = fields.visit_with_message(&mut flat, &mut self.message);
        if read.is_ok() {
            if self.color {
                self.buf.extend_from_slice(DIM.as_bytes());
            }
            self.ts.write(&mut self.buf, unix_nanos);
            if self.color {
                self.buf.extend_from_slice(RESET.as_bytes());
            }
            self.buf.push(b' ');
            self.buf.extend_from_slice(cs.level.as_bytes());
            self.buf.push(b' ');
            self.buf.extend_from_slice(cs.event_type.as_bytes());
            if !self.message.is_empty() {
                self.buf.push(b' ');
                let message = std::mem::take(&mut self.message);
                push_escaped(&mut self.buf, &message);
                self.message = message;
            }
            for i in 0..flat.top.len() {
                self.key(flat.top[i].0);
                let value = flat.top_json(i);
                // A string that reads unambiguously bare goes bare.
                let text = std::str::from_utf8(value).unwrap_or_default();
                let bare = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .filter(|t| !t.contains('\\') && !needs_quotes(t));
                self.buf.extend_from_slice(bare.unwrap_or(text).as_bytes());
            }
            if let Some(op) = &operation {
                // `operation=checkout#3`, or `#3` when the name is unknown.
                self.key("operation");
                match op.name {
                    Some(name) if !needs_quotes(name) => self.buf.extend_from_slice(name.as_bytes()),
                    Some(name) => json::write_str(&mut self.buf, name),
                    None => {}
                }
                self.buf.push(b'#');
                json::write_int(&mut self.buf, op.id);
            }
            for (key, value) in global_context.iter().flat_map(|c| c.iter()) {
                self.key(&format!("global_context.{key}"));
                match value {
                    lmlog_format::ContextValue::Str(s) if !needs_quotes(s) => self.buf.extend_from_slice(s.as_bytes()),
                    other => json::write_context_value(&mut self.buf, other),
                }
            }
            if flight_recorded {
                self.key("flight_recorder");
                self.buf.extend_from_slice(b"true");
            }
            if let Some(t) = &trace {
                self.key("trace_id");
                json::write_hex(&mut self.buf, t.trace_id());
                self.key("span_id");
                json::write_hex(&mut self.buf, t.span_id());
            }
            if let Some(t) = thread {
                self.key("thread");
                match t.name {
                    Some(name) if !needs_quotes(name) => self.buf.extend_from_slice(name.as_bytes()),
                    Some(name) => json::write_str(&mut self.buf, name),
                    None => {
                        self.buf.push(b'#');
                        json::write_int(&mut self.buf, t.id);
                    }
                }
            }
            self.buf.extend_from_slice(cs.source.as_bytes());
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

    #[test]
    fn quoting_rules() {
        assert!(!needs_quotes("worker-1"));
        assert!(needs_quotes("a b"));
        assert!(needs_quotes("a=b"));
        assert!(needs_quotes("say \"hi\""));
        assert!(needs_quotes(""));
        let mut out = Vec::new();
        push_escaped(&mut out, "two\nlines \"q\" \\");
        assert_eq!(out, b"two\\nlines \"q\" \\");
    }
}
