//! OpenTelemetry metrics (cargo feature `otel-metrics`), recorded by the
//! writer thread through the global meter provider: nothing is counted on
//! the calling thread's path.
//!
//! Per drain, the writer hands [`Metrics::observe`] every stretch of records
//! it drains from the staging rings; the records are walked (`walk`) to
//! count events per call site and to collect the values of the fields
//! marked `#[lmlog(metric)]`. At the end of the drain, once the staging
//! space is handed back (producers never wait on the SDK),
//! [`Metrics::end_drain`] adds each call site's count to `lmlog.events`
//! once, records the collected values in their histograms, and adds the
//! drain's sampled-out and dropped increments (the numbers `lmlog::stats`
//! publishes) to their counters.
//!
//! Instruments (README, "Metrics"):
//!
//! | name | kind | unit | attributes |
//! |---|---|---|---|
//! | `lmlog.events` | counter (u64) | `{event}` | `event_type`, `level` |
//! | `lmlog.sampled_out` | counter (u64) | `{event}` | `event_type`, `level` |
//! | `lmlog.dropped` | counter (u64) | `{event}` | none |
//! | `lmlog.field.<field>` | histogram (f64) | the attribute's unit | `event_type` |

mod walk;

use std::collections::HashMap;

use lmlog_format::{FieldDesc, SampledCount};
use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{InstrumentationScope, KeyValue};

use crate::callsite::Interned;
use crate::event::EventSchema;
use walk::Cursor;

/// What the writer records for one call site (one interned id).
struct Site {
    /// `event_type` and `level`.
    attributes: [KeyValue; 2],
    /// `event_type` alone, for the fields' histograms.
    event_type: [KeyValue; 1],
    fields: &'static [FieldDesc],
    /// The fields marked `metric`, in field order: index, histogram, and
    /// this drain's values (recorded once the drain has handed the staging
    /// space back, so producers never wait on the SDK).
    histograms: Vec<(usize, Histogram<f64>, Vec<f64>)>,
}

/// The writer's instruments and its per-drain tallies; see the module
/// documentation.
pub(crate) struct Metrics {
    meter: Meter,
    events: Counter<u64>,
    sampled_out: Counter<u64>,
    dropped: Counter<u64>,
    /// Histograms by field name and unit: one instrument for a field that
    /// several event types mark (told apart by `event_type`).
    histograms: HashMap<(&'static str, &'static str), Histogram<f64>>,
    /// By interned id − 1.
    sites: Vec<Site>,
    /// This drain's events, by id.
    counts: Vec<u64>,
    /// Ids whose count is not 0.
    counted: Vec<u32>,
    /// The dropped events already added (`lmlog::stats`' running total).
    dropped_recorded: u64,
}

impl Metrics {
    /// The instruments, from the global meter provider as it is now (an
    /// application installs its provider before `lmlog::init`).
    pub(crate) fn new() -> Metrics {
        let scope = InstrumentationScope::builder("lmlog").with_version(env!("CARGO_PKG_VERSION")).build();
        let meter = opentelemetry::global::meter_with_scope(scope);
        let counter = |name: &'static str, description: &'static str| {
            meter.u64_counter(name).with_unit("{event}").with_description(description).build()
        };
        Metrics {
            events: counter("lmlog.events", "Events the writer took from the staging buffers"),
            sampled_out: counter("lmlog.sampled_out", "Events a call site's sampling or rate limit turned away"),
            dropped: counter("lmlog.dropped", "Events lost and counted in the log (full staging buffer, failing sink)"),
            meter,
            histograms: HashMap::new(),
            sites: Vec::new(),
            counts: Vec::new(),
            counted: Vec::new(),
            dropped_recorded: 0,
        }
    }

    /// The number of call sites whose instruments are ready: the writer
    /// hands [`learn`](Self::learn) those from this id on.
    pub(crate) fn sites_known(&self) -> u32 {
        self.sites.len() as u32
    }

    /// Call sites interned since the last call, with ids from
    /// `sites_known() + 1` on.
    pub(crate) fn learn(&mut self, interned: &[Interned]) {
        for interned in interned {
            let site = self.site(interned.schema);
            self.sites.push(site);
        }
        self.counts.resize(self.sites.len() + 1, 0);
    }

    fn site(&mut self, schema: &'static EventSchema) -> Site {
        let event_type = KeyValue::new("event_type", schema.name);
        let histograms = schema
            .metrics
            .iter()
            .filter(|metric| schema.fields.get(usize::from(metric.field)).is_some_and(is_number))
            .map(|metric| {
                let field = &schema.fields[usize::from(metric.field)];
                let meter = &self.meter;
                let histogram = self.histograms.entry((field.name, metric.unit)).or_insert_with(|| {
                    meter
                        .f64_histogram(format!("lmlog.field.{}", field.name))
                        .with_unit(metric.unit)
                        .with_description("Values of an event field marked #[lmlog(metric)]")
                        .build()
                });
                (usize::from(metric.field), histogram.clone(), Vec::new())
            })
            .collect();
        Site {
            attributes: [event_type.clone(), KeyValue::new("level", schema.level.as_str())],
            event_type: [event_type],
            fields: schema.fields,
            histograms,
        }
    }

    /// Walks a stretch of whole records just drained: counts them by call
    /// site and records their metric fields.
    pub(crate) fn observe(&mut self, records: &[u8]) {
        let mut cursor = Cursor::new(records);
        while !cursor.is_empty() {
            if self.record(&mut cursor).is_none() {
                // Our own producers wrote these bytes: a record that does not
                // parse is a bug; the rest of the stretch goes uncounted.
                debug_assert!(false, "a staged record does not parse");
                return;
            }
        }
    }

    fn record(&mut self, cursor: &mut Cursor<'_>) -> Option<()> {
        let id = cursor.record_header()?;
        if id == lmlog_format::frame::DROP_REPORT_ID {
            return Some(());
        }
        let site = self.sites.get_mut(id as usize - 1)?;
        let count = &mut self.counts[id as usize];
        if *count == 0 {
            self.counted.push(id);
        }
        *count += 1;
        let mut marked = site.histograms.iter_mut().peekable();
        for (index, field) in site.fields.iter().enumerate() {
            if field.redacted {
                continue;
            }
            match marked.next_if(|(marked, ..)| *marked == index) {
                Some((_, _, values)) => values.push(cursor.number(field.ty)?),
                None => cursor.skip_value(field.ty)?,
            }
        }
        Some(())
    }

    /// Ends a drain: each call site's events (once per site) and metric
    /// values, the sampled increments the drain collected, and the dropped
    /// events since the last drain (`dropped_total`:
    /// `lmlog::stats().dropped`).
    pub(crate) fn end_drain(&mut self, sampled: &[SampledCount], dropped_total: u64) {
        for id in self.counted.drain(..) {
            let count = std::mem::take(&mut self.counts[id as usize]);
            let site = &mut self.sites[id as usize - 1];
            self.events.add(count, &site.attributes);
            for (_, histogram, values) in &mut site.histograms {
                for value in values.drain(..) {
                    histogram.record(value, &site.event_type);
                }
            }
        }
        for &SampledCount { id, count } in sampled {
            // Every id a report names was interned before it was read.
            if let Some(site) = (id as usize).checked_sub(1).and_then(|i| self.sites.get(i)) {
                self.sampled_out.add(count, &site.attributes);
            }
        }
        if dropped_total > self.dropped_recorded {
            self.dropped.add(dropped_total - self.dropped_recorded, &[]);
            self.dropped_recorded = dropped_total;
        }
    }
}

/// Whether `field` holds a number the writer can read back (what the
/// derive's check lets through).
fn is_number(field: &FieldDesc) -> bool {
    use lmlog_format::TypeDesc::*;
    !field.redacted && matches!(field.ty, U8 | U16 | U32 | U64 | U128 | I8 | I16 | I32 | I64 | I128 | F32 | F64)
}
