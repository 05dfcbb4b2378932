//! The digest as text (bounded, for people and language models) and as
//! JSON (for machines).

use std::fmt::{self, Write as _};

use super::digest::{Digest, EventTypeDigest, FieldDigest, LeftOut};
use super::fields::{cut, float_text, FieldValue, MAX_DISTINCT_VALUES};
use crate::json;

/// The most bytes the text form of a [`Digest`] takes, however large the log.
pub const TEXT_BUDGET: usize = 4096;

/// Longest line of the text form, in bytes.
const MAX_LINE: usize = 200;
/// Longest value or message shown in the text form, in bytes.
const MAX_SHOWN: usize = 100;
/// Sessions listed in the text form.
const SHOWN_SESSIONS: usize = 3;
/// Fields listed per event type in the text form.
const SHOWN_FIELDS: usize = 6;
/// Values listed per field in the text form.
const SHOWN_VALUES: usize = 4;
/// Room kept for a list's heading line.
const HEADING_ROOM: usize = 80;

impl fmt::Display for Digest {
    /// The text form: at most [`TEXT_BUDGET`] bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Appends `text` as one line, cut at [`MAX_LINE`] bytes.
fn line(out: &mut String, text: &str) {
    let kept = cut(text, MAX_LINE);
    out.push_str(kept);
    if kept.len() < text.len() {
        out.push('…');
    }
    out.push('\n');
}

/// `s` quoted and escaped (one line, whatever it holds), cut at [`MAX_SHOWN`] bytes.
fn quoted(s: &str) -> String {
    let kept = cut(s, MAX_SHOWN);
    let more = if kept.len() < s.len() { "…" } else { "" };
    format!("{kept:?}{more}")
}

/// A duration in nanoseconds, in the unit that suits it.
fn duration(nanos: i128) -> String {
    let n = nanos.unsigned_abs() as f64;
    let sign = if nanos < 0 { "-" } else { "" };
    if n < 1e3 {
        format!("{sign}{n} ns")
    } else if n < 1e6 {
        format!("{sign}{:.1} µs", n / 1e3)
    } else if n < 1e9 {
        format!("{sign}{:.1} ms", n / 1e6)
    } else {
        format!("{sign}{:.3} s", n / 1e9)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Digest {
    /// The text form, at most [`TEXT_BUDGET`] bytes: the header (events,
    /// span, sessions, levels, loss, rate), then as many event types and
    /// call sites, most frequent first, as fit, saying how many were left out.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        let rest = TEXT_BUDGET.saturating_sub(out.len());
        // Event types get three quarters of what is left; call sites the rest.
        let types_budget = rest - rest / 4;
        let blocks = self.event_types.iter().map(|t| (self.type_block(t), t.count));
        section(&mut out, "event types", blocks, self.event_types_left_out, types_budget);
        let blocks = self.callsites.iter().map(|s| {
            let at =
                if s.file.is_empty() { "(built in)".to_owned() } else { format!("{} {}:{}", s.module, s.file, s.line) };
            let mut block = String::new();
            line(&mut block, &format!("  {} {} ({}) {at}", s.count, s.event_type, s.level.as_str()));
            (block, s.count)
        });
        let sites_budget = TEXT_BUDGET.saturating_sub(out.len());
        section(&mut out, "call sites", blocks, self.callsites_left_out, sites_budget);
        out
    }

    fn write_header(&self, out: &mut String) {
        line(
            out,
            &format!(
                "lmlog summary: {} in {} ({} bytes)",
                plural(self.events, "event", "events"),
                plural(self.files, "file", "files"),
                self.bytes
            ),
        );
        if let (Some(first), Some(last)) = (self.first_unix_nanos, self.last_unix_nanos) {
            let (a, b) = (crate::format_timestamp(first), crate::format_timestamp(last));
            line(out, &format!("time: {a} to {b} ({})", duration(last - first)));
        }
        for s in self.sessions.iter().take(SHOWN_SESSIONS) {
            let mut text = String::from("session:");
            if let Some(service) = &s.service_name {
                let _ = write!(text, " service {service},");
            }
            if let Some(host) = &s.hostname {
                let _ = write!(text, " host {host},");
            }
            let _ = write!(text, " pid {}, lmlog {}", s.pid, s.writer_version);
            if let Some(exe) = &s.executable {
                let _ = write!(text, ", {exe}");
            }
            let _ = write!(text, " ({}", plural(s.sessions, "file", "files"));
            if s.first_file_index == s.last_file_index {
                let _ = write!(text, ", index {})", s.first_file_index);
            } else {
                let _ = write!(text, ", indices {} to {})", s.first_file_index, s.last_file_index);
            }
            line(out, &text);
        }
        let more = (self.sessions.len().saturating_sub(SHOWN_SESSIONS)) as u64 + self.sessions_left_out;
        if more > 0 {
            line(out, &format!("  … {more} more sessions"));
        }
        if !self.levels.is_empty() {
            let levels: Vec<String> = self.levels.iter().map(|l| format!("{} {}", l.level.as_str(), l.count)).collect();
            line(out, &format!("levels: {}", levels.join(", ")));
        }
        line(out, &self.loss_text());
        if let Some(rate) = &self.rate {
            let counts: Vec<String> = rate.counts.iter().map(u64::to_string).collect();
            let width = i128::from(rate.bucket_nanos);
            line(out, &format!("rate: events per {} from the first event: {}", duration(width), counts.join(" ")));
            let peak = rate.counts[rate.peak];
            let peak_start = rate.start_unix_nanos + rate.peak as i128 * width;
            let per_second = peak as f64 * 1e9 / rate.bucket_nanos as f64;
            line(
                out,
                &format!(
                    "peak: {peak} events in bucket {} (from {}), {per_second:.0} events/s",
                    rate.peak + 1,
                    crate::format_timestamp(peak_start)
                ),
            );
        }
    }

    fn loss_text(&self) -> String {
        let l = &self.loss;
        let mut parts = Vec::new();
        if l.drop_reports > 0 {
            parts.push(format!(
                "{} dropped by the runtime ({})",
                plural(l.dropped_events, "event", "events"),
                plural(l.drop_reports, "lmlog.dropped report", "lmlog.dropped reports")
            ));
        } else {
            parts.push("no events dropped".to_owned());
        }
        if l.writer_loss_reports > 0 {
            parts.push(format!(
                "the writer lost {} ({}, {} bytes; {})",
                plural(l.writer_lost_events, "event", "events"),
                plural(l.writer_lost_frames, "frame", "frames"),
                l.writer_lost_bytes,
                plural(l.writer_loss_reports, "lmlog.writer_loss report", "lmlog.writer_loss reports")
            ));
        } else {
            parts.push("nothing lost by the writer".to_owned());
        }
        if l.damage > 0 {
            parts.push(format!(
                "damage: {} ({} damaged regions, {} records frames cut short)",
                plural(l.damage, "problem", "problems"),
                l.damaged_regions,
                l.bad_records
            ));
        } else {
            parts.push("no damage".to_owned());
        }
        let notes = l.diagnostics.saturating_sub(l.damage);
        if notes > 0 {
            parts.push(plural(notes, "note", "notes"));
        }
        format!("loss: {}", parts.join("; "))
    }

    fn type_block(&self, t: &EventTypeDigest) -> String {
        let mut block = String::new();
        let start = self.first_unix_nanos.unwrap_or(t.first_unix_nanos);
        let kind = if t.builtin { ", built in" } else { "" };
        let when = if t.first_unix_nanos == t.last_unix_nanos {
            format!("at +{}", duration(t.first_unix_nanos - start))
        } else {
            format!("+{} to +{}", duration(t.first_unix_nanos - start), duration(t.last_unix_nanos - start))
        };
        line(
            &mut block,
            &format!(
                "  {} ({}{kind}): {}, {}, {when}",
                t.name,
                t.level.as_str(),
                plural(t.count, "event", "events"),
                plural(t.callsites as u64, "call site", "call sites"),
            ),
        );
        for field in t.fields.iter().take(SHOWN_FIELDS) {
            line(&mut block, &format!("    {}: {}", field.path, field_text(field, t.count)));
        }
        let more = t.fields.len().saturating_sub(SHOWN_FIELDS) + t.fields_left_out;
        if more > 0 {
            line(&mut block, &format!("    … {}", plural(more as u64, "more field", "more fields")));
        }
        for message in &t.messages {
            line(&mut block, &format!("    message: {}", quoted(message)));
        }
        block
    }

    /// The JSON form: one JSON object, whatever the log, with the keys
    /// `files`, `bytes`, `events`, `first` and `last` (RFC 3339 with
    /// nanoseconds, or null), `levels` (level name → count), `sessions`
    /// (`service_name`, `hostname`, `pid`, `executable`, `writer_version`,
    /// `sessions`, `first_file_index`, `last_file_index`),
    /// `sessions_left_out`, `rate` (`start`, `bucket_nanos`, `counts`,
    /// `peak`: an index into `counts`; null without events), `event_types`
    /// (`event_type`, `level`, `builtin`, `count`, `first`, `last`,
    /// `callsites`, `fields`, `fields_left_out`, `messages`; a field has
    /// `path`, `count`, `redacted`, `high_cardinality`, `values` (`value`,
    /// `count`) and, for numbers, `min`, `max`, `mean`),
    /// `event_types_left_out` (`count`, `events`), `callsites`
    /// (`event_type`, `level`, `module`, `file`, `line`, `count`),
    /// `callsites_left_out` and `loss` (the fields of [`Loss`](super::Loss)).
    pub fn to_json(&self) -> String {
        let mut j = Json::default();
        j.begin(b'{');
        j.key("files");
        j.int(self.files);
        j.key("bytes");
        j.int(self.bytes);
        j.key("events");
        j.int(self.events);
        j.key("first");
        j.time(self.first_unix_nanos);
        j.key("last");
        j.time(self.last_unix_nanos);
        j.key("levels");
        j.begin(b'{');
        for l in &self.levels {
            j.key(l.level.as_str());
            j.int(l.count);
        }
        j.end(b'}');
        j.key("sessions");
        j.begin(b'[');
        for s in &self.sessions {
            j.begin(b'{');
            j.key("service_name");
            j.opt_str(s.service_name.as_deref());
            j.key("hostname");
            j.opt_str(s.hostname.as_deref());
            j.key("pid");
            j.int(s.pid);
            j.key("executable");
            j.opt_str(s.executable.as_deref());
            j.key("writer_version");
            j.str(&s.writer_version);
            j.key("sessions");
            j.int(s.sessions);
            j.key("first_file_index");
            j.int(s.first_file_index);
            j.key("last_file_index");
            j.int(s.last_file_index);
            j.end(b'}');
        }
        j.end(b']');
        j.key("sessions_left_out");
        j.int(self.sessions_left_out);
        j.key("rate");
        match &self.rate {
            None => j.null(),
            Some(rate) => {
                j.begin(b'{');
                j.key("start");
                j.time(Some(rate.start_unix_nanos));
                j.key("bucket_nanos");
                j.int(rate.bucket_nanos);
                j.key("counts");
                j.begin(b'[');
                for &n in &rate.counts {
                    j.int(n);
                }
                j.end(b']');
                j.key("peak");
                j.int(rate.peak);
                j.end(b'}');
            }
        }
        j.key("event_types");
        j.begin(b'[');
        for t in &self.event_types {
            j.event_type(t);
        }
        j.end(b']');
        j.key("event_types_left_out");
        j.left_out(self.event_types_left_out);
        j.key("callsites");
        j.begin(b'[');
        for s in &self.callsites {
            j.begin(b'{');
            j.key("event_type");
            j.str(&s.event_type);
            j.key("level");
            j.str(s.level.as_str());
            j.key("module");
            j.str(&s.module);
            j.key("file");
            j.str(&s.file);
            j.key("line");
            j.int(s.line);
            j.key("count");
            j.int(s.count);
            j.end(b'}');
        }
        j.end(b']');
        j.key("callsites_left_out");
        j.left_out(self.callsites_left_out);
        let l = &self.loss;
        j.key("loss");
        j.begin(b'{');
        for (key, n) in [
            ("dropped_events", l.dropped_events),
            ("drop_reports", l.drop_reports),
            ("writer_lost_events", l.writer_lost_events),
            ("writer_lost_frames", l.writer_lost_frames),
            ("writer_lost_bytes", l.writer_lost_bytes),
            ("writer_loss_reports", l.writer_loss_reports),
            ("damage", l.damage),
            ("damaged_regions", l.damaged_regions),
            ("bad_records", l.bad_records),
            ("diagnostics", l.diagnostics),
        ] {
            j.key(key);
            j.int(n);
        }
        j.end(b'}');
        j.end(b'}');
        String::from_utf8(j.out).unwrap_or_default()
    }
}

/// Appends a list with its heading: as many blocks (text, events) as fit
/// in `budget` bytes, heading included, then how many were left out.
fn section(
    out: &mut String,
    heading: &str,
    blocks: impl Iterator<Item = (String, u64)>,
    left_out: LeftOut,
    budget: usize,
) {
    if budget < HEADING_ROOM {
        return;
    }
    let mut body = String::new();
    let mut shown = 0usize;
    let mut more = left_out;
    for (block, events) in blocks {
        if more.count == left_out.count && body.len() + block.len() + HEADING_ROOM <= budget {
            body.push_str(&block);
            shown += 1;
        } else {
            more.count += 1;
            more.events += events;
        }
    }
    if shown == 0 && more.count == 0 {
        return;
    }
    let mut text = format!("{heading}: {shown} of {}", shown + more.count);
    if more.count > 0 {
        let _ = write!(text, " ({} more with {})", more.count, plural(more.events, "event", "events"));
    }
    line(out, cut(&text, HEADING_ROOM - 1));
    out.push_str(&body);
}

/// A field's values, or its numbers, as one line's text.
fn field_text(f: &FieldDigest, events: u64) -> String {
    let mut text = String::new();
    if !f.values.is_empty() {
        let shown: Vec<String> =
            f.values.iter().take(SHOWN_VALUES).map(|v| format!("{} ({})", value_text(&v.value), v.count)).collect();
        text.push_str(&shown.join(", "));
        let more = f.values.len().saturating_sub(SHOWN_VALUES);
        if more > 0 {
            let _ = write!(text, ", … {}", plural(more as u64, "more value", "more values"));
        }
    } else if let Some(n) = &f.numbers {
        let _ = write!(text, "{} to {}, mean {}", n.min.text(), n.max.text(), mean_text(n.mean));
    }
    if f.high_cardinality {
        if !text.is_empty() {
            text.push_str(", ");
        }
        let _ = write!(text, "more than {MAX_DISTINCT_VALUES} distinct values");
    }
    if f.redacted > 0 {
        if !text.is_empty() {
            text.push_str(", ");
        }
        let _ = write!(text, "redacted ({})", f.redacted);
    }
    if f.count < events {
        let _ = write!(text, " [in {} of {events} events]", f.count);
    }
    text
}

fn mean_text(mean: f64) -> String {
    if mean.is_finite() && mean.abs() < 1e15 {
        let s = format!("{mean:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        float_text(mean)
    }
}

fn value_text(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => quoted(s),
        other => other.text(),
    }
}

/// A JSON writer that places the commas.
#[derive(Default)]
struct Json {
    out: Vec<u8>,
    /// A value was written at this level: the next needs a comma.
    comma: bool,
}

impl Json {
    fn value(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    fn begin(&mut self, bracket: u8) {
        self.value();
        self.out.push(bracket);
        self.comma = false;
    }

    fn end(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.comma = true;
    }

    fn key(&mut self, key: &str) {
        self.value();
        json::write_str(&mut self.out, key);
        self.out.push(b':');
        self.comma = false;
    }

    fn str(&mut self, s: &str) {
        self.value();
        json::write_str(&mut self.out, s);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    fn int<I: itoa::Integer>(&mut self, n: I) {
        self.value();
        json::write_int(&mut self.out, n);
    }

    fn f64(&mut self, v: f64) {
        self.value();
        json::write_f64(&mut self.out, v);
    }

    fn bool(&mut self, v: bool) {
        self.value();
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
    }

    fn null(&mut self) {
        self.value();
        self.out.extend_from_slice(b"null");
    }

    /// An RFC 3339 timestamp with nanoseconds, or null.
    fn time(&mut self, unix_nanos: Option<i128>) {
        match unix_nanos {
            Some(t) => self.str(&crate::format_timestamp(t)),
            None => self.null(),
        }
    }

    fn left_out(&mut self, l: LeftOut) {
        self.begin(b'{');
        self.key("count");
        self.int(l.count);
        self.key("events");
        self.int(l.events);
        self.end(b'}');
    }

    fn field_value(&mut self, v: &FieldValue) {
        match v {
            FieldValue::Bool(b) => self.bool(*b),
            FieldValue::Int(n) => self.int(*n),
            FieldValue::LargeUint(n) => self.int(*n),
            FieldValue::Float(x) => self.f64(*x),
            FieldValue::Str(s) => self.str(s),
            FieldValue::Null => self.null(),
        }
    }

    fn event_type(&mut self, t: &EventTypeDigest) {
        self.begin(b'{');
        self.key("event_type");
        self.str(&t.name);
        self.key("level");
        self.str(t.level.as_str());
        self.key("builtin");
        self.bool(t.builtin);
        self.key("count");
        self.int(t.count);
        self.key("first");
        self.time(Some(t.first_unix_nanos));
        self.key("last");
        self.time(Some(t.last_unix_nanos));
        self.key("callsites");
        self.int(t.callsites);
        self.key("fields");
        self.begin(b'[');
        for f in &t.fields {
            self.begin(b'{');
            self.key("path");
            self.str(&f.path);
            self.key("count");
            self.int(f.count);
            self.key("redacted");
            self.int(f.redacted);
            self.key("high_cardinality");
            self.bool(f.high_cardinality);
            self.key("values");
            self.begin(b'[');
            for v in &f.values {
                self.begin(b'{');
                self.key("value");
                self.field_value(&v.value);
                self.key("count");
                self.int(v.count);
                self.end(b'}');
            }
            self.end(b']');
            if let Some(n) = &f.numbers {
                self.key("min");
                self.number(n.min);
                self.key("max");
                self.number(n.max);
                self.key("mean");
                self.f64(n.mean);
            }
            self.end(b'}');
        }
        self.end(b']');
        self.key("fields_left_out");
        self.int(t.fields_left_out);
        self.key("messages");
        self.begin(b'[');
        for m in &t.messages {
            self.str(m);
        }
        self.end(b']');
        self.end(b'}');
    }

    fn number(&mut self, n: super::fields::Number) {
        match n {
            super::fields::Number::Int(v) => self.int(v),
            super::fields::Number::Float(v) => self.f64(v),
        }
    }
}
