//! The digest: plain data, built from a [`Summary`]'s counts.

use lmlog_format::Level;

use super::fields::{FieldStats, FieldValue, NumberStats};
use super::{Summary, RATE_BUCKETS};
use crate::report::DecodeSummary;
use crate::{DROPPED_EVENT_TYPE, WRITER_LOSS_EVENT_TYPE};

/// Event types kept in a digest, most frequent first; the rest are counted
/// in [`Digest::event_types_left_out`].
pub const MAX_EVENT_TYPES: usize = 50;
/// Call sites kept in a digest, most frequent first; the rest are counted
/// in [`Digest::callsites_left_out`].
pub const MAX_CALLSITES: usize = 50;

/// A digest of a log; see the [module documentation](super). Its
/// `Display` is the text form (at most [`TEXT_BUDGET`](super::TEXT_BUDGET)
/// bytes), [`to_json`](Self::to_json) the JSON form.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Digest {
    /// Files in the input (file preambles: a file that several runs
    /// appended to counts once per run).
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Events, the built-in loss events included (as many as the JSON
    /// Lines output has lines).
    pub events: u64,
    /// When the earliest event happened (nanoseconds since the Unix epoch).
    pub first_unix_nanos: Option<i128>,
    /// When the latest event happened.
    pub last_unix_nanos: Option<i128>,
    /// Events per level, most severe first; levels without events left out.
    pub levels: Vec<LevelCount>,
    /// The writing processes.
    pub sessions: Vec<SessionDigest>,
    /// Session frames of further processes, not kept.
    pub sessions_left_out: u64,
    /// Events over time; `None` without events.
    pub rate: Option<Rate>,
    /// Event types, most frequent first (at most [`MAX_EVENT_TYPES`]).
    pub event_types: Vec<EventTypeDigest>,
    /// The event types not in [`event_types`](Self::event_types).
    pub event_types_left_out: LeftOut,
    /// Call sites, most frequent first (at most [`MAX_CALLSITES`]).
    pub callsites: Vec<CallsiteDigest>,
    /// The call sites not in [`callsites`](Self::callsites).
    pub callsites_left_out: LeftOut,
    /// What was lost or damaged.
    pub loss: Loss,
}

/// The events of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LevelCount {
    /// The level.
    pub level: Level,
    /// Its events.
    pub count: u64,
}

/// Items of a list that a digest leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeftOut {
    /// How many.
    pub count: usize,
    /// Their events.
    pub events: u64,
}

/// A process that wrote the log, over all the files (sessions) it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionDigest {
    /// Its service name (OpenTelemetry `service.name`), if configured.
    pub service_name: Option<String>,
    /// Its host name, if known.
    pub hostname: Option<String>,
    /// Its process id.
    pub pid: u32,
    /// Its executable, if known.
    pub executable: Option<String>,
    /// The version of lmlog that wrote it.
    pub writer_version: String,
    /// Its session frames (one per file it wrote).
    pub sessions: u64,
    /// The lowest index in its rotated series of a file it wrote.
    pub first_file_index: u32,
    /// The highest.
    pub last_file_index: u32,
}

/// Events over time: equal buckets from the first event to the last.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rate {
    /// Start of the first bucket (the first event), nanoseconds since the Unix epoch.
    pub start_unix_nanos: i128,
    /// Length of a bucket in nanoseconds.
    pub bucket_nanos: u64,
    /// Events per bucket ([`RATE_BUCKETS`](super::RATE_BUCKETS), or one if
    /// every event has the same time).
    pub counts: Vec<u64>,
    /// The index of the bucket with the most events (the first of equals).
    pub peak: usize,
}

/// One event type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventTypeDigest {
    /// Its name.
    pub name: String,
    /// The most severe level of its call sites.
    pub level: Level,
    /// Whether it is one of the decoder's built-in types
    /// ([`DROPPED_EVENT_TYPE`], [`WRITER_LOSS_EVENT_TYPE`]).
    pub builtin: bool,
    /// Its events.
    pub count: u64,
    /// When the first happened (nanoseconds since the Unix epoch).
    pub first_unix_nanos: i128,
    /// When the last happened.
    pub last_unix_nanos: i128,
    /// The call sites that emit it.
    pub callsites: usize,
    /// Its fields, top-level and nested (by dotted path), in the order
    /// first seen.
    pub fields: Vec<FieldDigest>,
    /// Field paths beyond [`MAX_FIELDS_PER_TYPE`](super::MAX_FIELDS_PER_TYPE)
    /// that were not tracked (counted up to that bound again).
    pub fields_left_out: usize,
    /// For warn and error types, the first distinct rendered messages (at
    /// most [`MAX_MESSAGES`](super::MAX_MESSAGES), each cut at 200 bytes).
    pub messages: Vec<String>,
}

/// One field of an event type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FieldDigest {
    /// The field's name, dotted for a field of a nested struct (`order.customer.id`).
    pub path: String,
    /// Values seen (redacted ones included).
    pub count: u64,
    /// Redacted values (not recorded by the writer).
    pub redacted: u64,
    /// Its distinct values, most frequent first, when there were at most
    /// [`MAX_DISTINCT_VALUES`](super::MAX_DISTINCT_VALUES); empty if
    /// [`high_cardinality`](Self::high_cardinality).
    pub values: Vec<ValueCount>,
    /// More than [`MAX_DISTINCT_VALUES`](super::MAX_DISTINCT_VALUES)
    /// distinct values were seen.
    pub high_cardinality: bool,
    /// Minimum, maximum and mean, if the field held numbers.
    pub numbers: Option<NumberStats>,
}

/// A value and how often it was seen.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValueCount {
    /// The value.
    pub value: FieldValue,
    /// How often.
    pub count: u64,
}

/// One call site, over every session that described it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallsiteDigest {
    /// The event type it emits.
    pub event_type: String,
    /// Its level.
    pub level: Level,
    /// Its module (empty for the built-in call sites).
    pub module: String,
    /// Its file (empty for the built-in call sites).
    pub file: String,
    /// Its line (0 for the built-in call sites).
    pub line: u32,
    /// Its events.
    pub count: u64,
}

/// What was lost or damaged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loss {
    /// Events the runtime dropped (the sum of the `lmlog.dropped` reports).
    pub dropped_events: u64,
    /// `lmlog.dropped` reports.
    pub drop_reports: u64,
    /// Events the writer could not deliver (`lmlog.writer_loss` reports
    /// of lmlog 0.2 on; older reports count frames only).
    pub writer_lost_events: u64,
    /// Frames the writer could not deliver.
    pub writer_lost_frames: u64,
    /// Bytes the writer could not deliver.
    pub writer_lost_bytes: u64,
    /// `lmlog.writer_loss` reports.
    pub writer_loss_reports: u64,
    /// Problems found in the stream that lose data (damaged frames,
    /// records that do not decode, missing frames...).
    pub damage: u64,
    /// Damaged regions skipped.
    pub damaged_regions: u64,
    /// Records frames cut short by a record that did not decode.
    pub bad_records: u64,
    /// Every diagnostic (notes included, such as a missing end frame).
    pub diagnostics: u64,
}

/// Builds the digest of `summary`'s counts and `tally`'s.
pub(super) fn build(summary: &Summary, tally: &DecodeSummary) -> Digest {
    let has_events = summary.events > 0;
    let (first, last) = (summary.first, summary.last);
    let rate = has_events.then(|| {
        let (counts, bucket_nanos) = summary.rate.buckets(first, last, RATE_BUCKETS);
        let peak = counts.iter().enumerate().rev().max_by_key(|&(_, n)| *n).map_or(0, |(i, _)| i);
        Rate { start_unix_nanos: first, bucket_nanos, counts, peak }
    });

    let mut active_sites = vec![0usize; summary.types.len()];
    for s in summary.sites.iter().filter(|s| s.count > 0) {
        active_sites[s.kind] += 1;
    }
    let mut types: Vec<_> = summary.types.iter().enumerate().filter(|(_, t)| t.count > 0).collect();
    types.sort_by(|(_, a), (_, b)| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    let event_types_left_out = left_out(types.iter().skip(MAX_EVENT_TYPES).map(|(_, t)| t.count));
    let event_types = types
        .iter()
        .take(MAX_EVENT_TYPES)
        .map(|&(kind, t)| EventTypeDigest {
            name: t.name.to_string(),
            level: t.level,
            builtin: t.builtin,
            count: t.count,
            first_unix_nanos: t.first,
            last_unix_nanos: t.last,
            callsites: active_sites[kind],
            fields: t.fields.stats.iter().filter(|f| f.count > 0).map(field).collect(),
            fields_left_out: t.fields.left_out.len(),
            messages: t.messages.clone(),
        })
        .collect();

    let mut sites: Vec<_> = summary.sites.iter().filter(|s| s.count > 0).collect();
    sites.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| (&a.module, &a.file, a.line).cmp(&(&b.module, &b.file, b.line)))
    });
    let callsites_left_out = left_out(sites.iter().skip(MAX_CALLSITES).map(|s| s.count));
    let callsites = sites
        .iter()
        .take(MAX_CALLSITES)
        .map(|s| CallsiteDigest {
            event_type: summary.types[s.kind].name.to_string(),
            level: s.level,
            module: s.module.to_string(),
            file: s.file.to_string(),
            line: s.line,
            count: s.count,
        })
        .collect();

    let builtin = |name: &str| summary.types.iter().find(|t| t.builtin && &*t.name == name);
    let int_sum = |name: &str, field: &str| {
        builtin(name)
            .and_then(|t| t.fields.stats.iter().find(|f| &*f.path == field))
            .map_or(0, |f| u64::try_from(f.int_sum).unwrap_or(u64::MAX))
    };
    let loss = Loss {
        dropped_events: tally.dropped_events,
        drop_reports: builtin(DROPPED_EVENT_TYPE).map_or(0, |t| t.count),
        writer_lost_events: tally.writer_lost_events,
        writer_lost_frames: tally.writer_lost_frames,
        writer_lost_bytes: int_sum(WRITER_LOSS_EVENT_TYPE, "bytes"),
        writer_loss_reports: builtin(WRITER_LOSS_EVENT_TYPE).map_or(0, |t| t.count),
        damage: tally.damage,
        damaged_regions: tally.damaged_regions,
        bad_records: tally.bad_records,
        diagnostics: tally.diagnostics_total,
    };

    Digest {
        files: tally.files,
        bytes: tally.bytes_read,
        events: summary.events,
        first_unix_nanos: has_events.then_some(first),
        last_unix_nanos: has_events.then_some(last),
        levels: Level::ALL
            .iter()
            .zip(summary.levels)
            .filter(|(_, count)| *count > 0)
            .map(|(&level, count)| LevelCount { level, count })
            .collect(),
        sessions: summary
            .sessions
            .iter()
            .map(|s| SessionDigest {
                service_name: s.service_name.clone(),
                hostname: s.hostname.clone(),
                pid: s.pid,
                executable: s.executable.clone(),
                writer_version: s.writer_version.clone(),
                sessions: s.sessions,
                first_file_index: s.first_file_index,
                last_file_index: s.last_file_index,
            })
            .collect(),
        sessions_left_out: summary.sessions_left_out,
        rate,
        event_types,
        event_types_left_out,
        callsites,
        callsites_left_out,
        loss,
    }
}

fn left_out(counts: impl Iterator<Item = u64>) -> LeftOut {
    counts.fold(LeftOut::default(), |acc, n| LeftOut { count: acc.count + 1, events: acc.events + n })
}

fn field(f: &FieldStats) -> FieldDigest {
    let mut values: Vec<ValueCount> =
        f.distinct.iter().map(|(value, count)| ValueCount { value: value.clone(), count: *count }).collect();
    // Stable: equal counts stay in the order first seen.
    values.sort_by_key(|v| std::cmp::Reverse(v.count));
    FieldDigest {
        path: f.path.to_string(),
        count: f.count,
        redacted: f.redacted,
        values,
        high_cardinality: f.high_cardinality,
        numbers: f.number_stats(),
    }
}
