//! OTLP/HTTP export: decoded events sent to an OpenTelemetry Collector (or
//! any OTLP/HTTP logs receiver) as protobuf, in batches (cargo feature
//! `otlp`, on in the default build).
//!
//! [`OtlpExporter`] is an [`Output`]: give it to a [`Decoder`](crate::Decoder)
//! (lent, `&mut exporter`, to read its [`ExportReport`] afterwards) and call
//! [`OtlpExporter::finish`] once decoding ended. Events are mapped to the
//! OpenTelemetry logs data model exactly as the OTLP/JSON output
//! ([`OtelJson`](crate::OtelJson)) maps them (one shared mapping): resource
//! from the session, scope `lmlog`, time, severity, body, event name,
//! attributes from the fields under dotted keys plus `code.*`, `thread.*`
//! and `operation.*`, trace context.
//!
//! Requests are `ExportLogsServiceRequest`s of the official protocol types
//! (`opentelemetry-proto`), encoded with prost, gzipped
//! (`Content-Encoding: gzip`) and POSTed with `Content-Type:
//! application/x-protobuf` to the endpoint, over `https://` with rustls
//! when the endpoint says so. A batch goes when it holds
//! [`BatchLimits::max_records`] records or about [`BatchLimits::max_bytes`],
//! at a flush once its first record waited [`BatchLimits::max_delay`], at a
//! new session (another resource) and at the end. Connection failures and
//! 429, 502, 503 and 504 responses are retried ([`RetryPolicy`]); any other
//! non-2xx response rejects the batch, and a partial success rejects the
//! records it counts. When a batch cannot be delivered within the retry
//! policy, the exporter gives up: the event in hand fails with an I/O error
//! that stops the decoder, and the report counts the records not sent.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use lmlog_decode::otlp::{ExportConfig, OtlpExporter};
//! use lmlog_decode::Decoder;
//! let config = ExportConfig::new("http://localhost:4318/v1/logs").header("x-tenant", "shop")?;
//! let mut exporter = OtlpExporter::new(config)?;
//! let mut decoder = Decoder::new(&mut exporter).with_time_order();
//! decoder.decode_from(std::fs::File::open("app.lmlog")?)?;
//! decoder.finish()?;
//! let report = exporter.finish();
//! eprintln!("{report}");
//! # Ok(()) }
//! ```

mod config;
mod transport;

use std::fmt;
use std::io;
use std::time::Instant;

use lmlog_format::SessionInfo;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

pub use config::{
    endpoint_from_env, parse_headers, split_header, BatchLimits, ConfigError, ExportConfig, RetryPolicy, LOGS_PATH,
};

use crate::events::{Callsite, Event, Item};
use crate::output::otel_model::{self, Attributes, OtelValue};
use crate::output::Output;
use transport::{Outcome, Transport};

/// The name of the instrumentation scope of every record.
const SCOPE: &str = "lmlog";

/// An [`Output`] that exports events to an OTLP/HTTP logs endpoint; see
/// the [module documentation](self).
pub struct OtlpExporter {
    transport: Transport,
    batch: BatchLimits,
    resource: Resource,
    scope_version: String,
    pending: Vec<LogRecord>,
    /// The encoded size of `pending`'s records, about.
    pending_bytes: usize,
    /// When the first pending record was added.
    oldest: Option<Instant>,
    report: ExportReport,
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &self.transport.endpoint())
            .field("pending", &self.pending.len())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// What an [`OtlpExporter`] did, in exact counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportReport {
    /// The endpoint.
    pub endpoint: String,
    /// Records the collector accepted.
    pub sent: u64,
    /// Records the collector rejected (a non-retryable status for their
    /// batch, or counted in a partial success).
    pub rejected: u64,
    /// Records never delivered because the exporter gave up.
    pub unsent: u64,
    /// Requests made again after a failure.
    pub retries: u64,
    /// Why the exporter gave up, if it did: the endpoint, the attempts and
    /// the last failure (as [`GaveUp`] says it).
    pub gave_up: Option<String>,
}

impl ExportReport {
    /// Whether every record was accepted.
    pub fn is_complete(&self) -> bool {
        self.rejected == 0 && self.unsent == 0 && self.gave_up.is_none()
    }
}

/// `sent N events to URL (R rejected, K retries)`, with `U not sent` when
/// the exporter gave up.
impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = if self.sent == 1 { "event" } else { "events" };
        write!(f, "sent {} {events} to {} ({} rejected, ", self.sent, self.endpoint, self.rejected)?;
        if self.gave_up.is_some() || self.unsent > 0 {
            write!(f, "{} not sent, ", self.unsent)?;
        }
        let retries = if self.retries == 1 { "retry" } else { "retries" };
        write!(f, "{} {retries})", self.retries)
    }
}

/// The exporter gave up delivering a batch (the error the decoder stops
/// with): the retries ran out, or the failure is one no retry cures (a
/// certificate the trusted roots do not vouch for).
#[derive(Debug, thiserror::Error)]
#[error("gave up sending to {endpoint} after {attempts} {}: {last}", if *attempts == 1 { "attempt" } else { "attempts" })]
#[non_exhaustive]
pub struct GaveUp {
    /// The endpoint.
    pub endpoint: String,
    /// Attempts made for the batch.
    pub attempts: u32,
    /// The last failure.
    pub last: String,
}

/// A call site prepared for [`OtlpExporter`]: what its records share.
#[derive(Debug)]
#[non_exhaustive]
pub struct OtlpCallsite {
    severity_number: i32,
    severity_text: &'static str,
    event_name: String,
    /// The `code.*` attributes.
    code: Vec<KeyValue>,
}

/// Collects attributes as protobuf `KeyValue`s.
struct ProtoAttributes<'a>(&'a mut Vec<KeyValue>);

impl Attributes for ProtoAttributes<'_> {
    fn attribute(&mut self, key: &str, value: OtelValue<'_>) {
        self.0.push(KeyValue { key: key.to_owned(), value: any_value(value), ..Default::default() });
    }
}

/// The protobuf `AnyValue` of a value (`None` for a key without a value).
fn any_value(value: OtelValue<'_>) -> Option<AnyValue> {
    use any_value::Value;
    let value = match value {
        OtelValue::Bool(b) => Value::BoolValue(b),
        OtelValue::Int(n) => Value::IntValue(n),
        OtelValue::Double(f) => Value::DoubleValue(f),
        OtelValue::Str(s) => Value::StringValue(s.to_owned()),
        OtelValue::Bytes(b) => Value::BytesValue(b.to_vec()),
        OtelValue::EmptyArray => Value::ArrayValue(ArrayValue::default()),
        OtelValue::EmptyKvlist => Value::KvlistValue(KeyValueList::default()),
        OtelValue::Absent => return None,
    };
    Some(AnyValue { value: Some(value) })
}

impl OtlpExporter {
    /// An exporter sending to `config`'s endpoint. Fails if the endpoint is
    /// not an `http://` or `https://` URL or the CA file cannot be used;
    /// nothing is sent before the first batch.
    pub fn new(config: ExportConfig) -> Result<OtlpExporter, ConfigError> {
        let transport = Transport::new(&config)?;
        let report = ExportReport { endpoint: transport.endpoint().to_owned(), ..ExportReport::default() };
        Ok(OtlpExporter {
            transport,
            batch: config.batch,
            resource: Resource::default(),
            scope_version: String::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            oldest: None,
            report,
        })
    }

    /// What was done so far.
    pub fn report(&self) -> &ExportReport {
        &self.report
    }

    /// Sends what is pending (unless the exporter gave up, when it is
    /// counted as not sent) and returns the report.
    pub fn finish(&mut self) -> ExportReport {
        if self.report.gave_up.is_none() {
            // A failure is in the report.
            let _ = self.send_pending();
        } else {
            self.report.unsent += self.pending.len() as u64;
            self.pending.clear();
        }
        self.report.retries = self.transport.retries;
        self.report.clone()
    }

    /// Sends the pending records as one request.
    fn send_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.report.gave_up.is_some() {
            self.report.unsent += self.pending.len() as u64;
            self.pending.clear();
            return Ok(());
        }
        let records = std::mem::take(&mut self.pending);
        let count = records.len() as u64;
        self.pending_bytes = 0;
        self.oldest = None;
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(self.resource.clone()),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: SCOPE.to_owned(),
                        version: self.scope_version.clone(),
                        ..Default::default()
                    }),
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let outcome = self.transport.send(&request.encode_to_vec());
        self.report.retries = self.transport.retries;
        match outcome {
            Outcome::Accepted { rejected, message } => {
                let rejected = rejected.min(count);
                self.report.sent += count - rejected;
                self.report.rejected += rejected;
                if rejected > 0 {
                    let why = message.map(|m| format!(": {m}")).unwrap_or_default();
                    eprintln!("lmlog-decode: the collector rejected {rejected} of {count} events{why}");
                }
                Ok(())
            }
            Outcome::Refused { status } => {
                self.report.rejected += count;
                eprintln!("lmlog-decode: the collector rejected a batch of {count} events with HTTP status {status}");
                Ok(())
            }
            Outcome::GaveUp { attempts, last } => {
                self.report.unsent += count;
                let gave_up = GaveUp { endpoint: self.report.endpoint.clone(), attempts, last };
                self.report.gave_up = Some(gave_up.to_string());
                Err(io::Error::other(gave_up))
            }
        }
    }

    /// Sends the batch if it is full.
    fn send_if_full(&mut self) -> io::Result<()> {
        if self.pending.len() >= self.batch.max_records || self.pending_bytes >= self.batch.max_bytes {
            self.send_pending()
        } else {
            Ok(())
        }
    }
}

impl Output for OtlpExporter {
    type Callsite = OtlpCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> OtlpCallsite {
        let level = callsite.level();
        let mut code = Vec::new();
        otel_model::code_attributes(callsite, &mut ProtoAttributes(&mut code));
        OtlpCallsite {
            severity_number: i32::from(otel_model::severity_number(level)),
            severity_text: level.as_str(),
            event_name: callsite.event_type().to_owned(),
            code,
        }
    }

    fn event(&mut self, event: Event<'_>, cs: &mut OtlpCallsite) -> io::Result<()> {
        if self.report.gave_up.is_some() {
            // Only reached if the caller goes on after the error: counted, not sent.
            self.report.unsent += 1;
            return Ok(());
        }
        let Event { unix_nanos, thread, trace, operation, global_context, flight_recorded, fields, callsite, .. } =
            event;
        let mut flat = crate::output::flat::Flat::default();
        let mut message = String::new();
        if fields.visit_with_message(&mut flat, &mut message).is_err() {
            // The decoder reports the record.
            return Ok(());
        }
        let mut attributes = Vec::with_capacity(flat.entries.len() + cs.code.len() + 2);
        otel_model::field_attributes(&flat.entries, &mut ProtoAttributes(&mut attributes));
        attributes.extend(cs.code.iter().cloned());
        if let Some(t) = &thread {
            otel_model::thread_attributes(t, &mut ProtoAttributes(&mut attributes));
        }
        if let Some(op) = &operation {
            otel_model::operation_attributes(op, &mut ProtoAttributes(&mut attributes));
        }
        if let Some(context) = global_context {
            otel_model::global_context_attributes(context, &mut ProtoAttributes(&mut attributes));
        }
        if flight_recorded {
            otel_model::flight_recorder_attribute(&mut ProtoAttributes(&mut attributes));
        }
        let time = otel_model::time_unix_nano(unix_nanos);
        let body = otel_model::body(callsite, &message);
        let record = LogRecord {
            time_unix_nano: time,
            observed_time_unix_nano: time,
            severity_number: cs.severity_number,
            severity_text: cs.severity_text.to_owned(),
            body: any_value(OtelValue::Str(body)),
            attributes,
            flags: trace.map_or(0, |t| u32::from(t.flags())),
            trace_id: trace.map_or_else(Vec::new, |t| t.trace_id().to_vec()),
            span_id: trace.map_or_else(Vec::new, |t| t.span_id().to_vec()),
            event_name: cs.event_name.clone(),
            ..Default::default()
        };
        self.pending_bytes += record.encoded_len();
        self.pending.push(record);
        self.oldest.get_or_insert_with(Instant::now);
        self.send_if_full()
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let Item::Session(session) = item {
            let resource = resource(session);
            if resource != self.resource || session.writer_version != self.scope_version {
                // A batch holds one resource: the records so far go with
                // theirs. (The files of one process's series share it.)
                self.send_pending()?;
                self.resource = resource;
                self.scope_version.clone_from(&session.writer_version);
            }
        }
        Ok(())
    }

    /// Sends the batch if its first record waited [`BatchLimits::max_delay`].
    fn flush(&mut self) -> io::Result<()> {
        match self.oldest {
            Some(oldest) if oldest.elapsed() >= self.batch.max_delay => self.send_pending(),
            _ => Ok(()),
        }
    }
}

/// The resource of a session's records.
fn resource(session: &SessionInfo) -> Resource {
    let mut attributes = Vec::new();
    otel_model::resource_attributes(session, &mut ProtoAttributes(&mut attributes));
    Resource { attributes, ..Default::default() }
}
