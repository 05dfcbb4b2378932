//! `lmlog-decode --otlp-endpoint URL` and `--otlp`: logs written by child
//! processes, exported to receivers in this test, real HTTP servers
//! (`tiny_http`) that gunzip every request body and decode it with the
//! official protocol types (`opentelemetry-proto`, prost). Every record is
//! checked against the decoder's other outputs; receivers that fail first
//! (503 with `Retry-After`, a dropped connection), refuse (400) or reject
//! part of a batch prove that nothing is lost, repeated or left uncounted;
//! the endpoint and headers come from flags and the OpenTelemetry
//! environment variables, and header values never reach the output;
//! `--follow` ships a log while its application writes it; `https://` works
//! with the CA given by `--otlp-ca` and fails at once without it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value as AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use serde_json::Value;

use crate::support::{decode_command, holding_live_series, run_scenario, scenario_command, TempDir, SCENARIO_WATCHDOG};

/// How a receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// 200 with an empty `ExportLogsServiceResponse`.
    Accept,
    /// 200 with a partial success rejecting this many records.
    PartialReject(i64),
    /// This status, with this `Retry-After` if any.
    Status(u16, Option<&'static str>),
}

/// One request as a receiver got it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    request: ExportLogsServiceRequest,
    /// The status it was answered with.
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn records(&self) -> impl Iterator<Item = &LogRecord> {
        self.request.resource_logs.iter().flat_map(|r| &r.scope_logs).flat_map(|s| &s.log_records)
    }
}

/// An OTLP/HTTP receiver on a port of the loopback interface: answers the
/// requests with `script`, then accepts everything.
struct Receiver {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    received: Arc<Mutex<Vec<Received>>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(script: Vec<Reply>) -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind a receiver"));
        let addr = server.server_addr().to_ip().expect("an IP address");
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let thread = std::thread::spawn({
            let (server, received) = (Arc::clone(&server), Arc::clone(&received));
            move || {
                let mut script = script.into_iter();
                // `recv` fails once the test unblocks the server.
                while let Ok(mut request) = server.recv() {
                    let reply = script.next().unwrap_or(Reply::Accept);
                    let headers: Vec<(String, String)> = request
                        .headers()
                        .iter()
                        .map(|h| (h.field.as_str().as_str().to_owned(), h.value.as_str().to_owned()))
                        .collect();
                    let mut body = Vec::new();
                    request.as_reader().read_to_end(&mut body).expect("read a request body");
                    let gzipped =
                        headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("content-encoding") && v == "gzip");
                    assert!(gzipped, "requests are gzipped: {headers:?}");
                    let mut plain = Vec::new();
                    flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut plain).expect("a gzip body");
                    let decoded =
                        ExportLogsServiceRequest::decode(plain.as_slice()).expect("an ExportLogsServiceRequest");
                    let (status, response) = match reply {
                        Reply::Accept => (200, ExportLogsServiceResponse::default()),
                        Reply::PartialReject(n) => (
                            200,
                            ExportLogsServiceResponse {
                                partial_success: Some(ExportLogsPartialSuccess {
                                    rejected_log_records: n,
                                    error_message: "too old".to_owned(),
                                }),
                            },
                        ),
                        Reply::Status(status, _) => (status, ExportLogsServiceResponse::default()),
                    };
                    received.lock().unwrap().push(Received {
                        path: request.url().to_owned(),
                        headers,
                        request: decoded,
                        status,
                    });
                    let mut response =
                        tiny_http::Response::from_data(response.encode_to_vec()).with_status_code(status);
                    response.add_header(header("content-type", "application/x-protobuf"));
                    if let Reply::Status(_, Some(after)) = reply {
                        response.add_header(header("retry-after", after));
                    }
                    let _ = request.respond(response);
                }
            }
        });
        Receiver { addr, server, received, thread: Some(thread) }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The records of the accepted requests, in the order received.
    fn accepted_records(&self) -> Vec<LogRecord> {
        self.received()
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.records().cloned().collect::<Vec<_>>())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a header")
}

/// A TCP relay in front of `backend`: it passes bytes both ways, except
/// that on its first connection, bytes the client sends after the backend
/// answered (a second request on a kept-alive connection) are not passed:
/// both sides of that connection are closed instead, as when a connection
/// drops.
fn dropping_relay(backend: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a relay");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { return };
            let server = TcpStream::connect(backend).expect("connect to the receiver");
            let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Backend to client: notes that an answer went by.
            std::thread::spawn({
                let (mut from, mut to, answered) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap(), Arc::clone(&answered));
                move || {
                    let mut buf = [0; 16 * 1024];
                    while let Ok(k @ 1..) = from.read(&mut buf) {
                        answered.store(true, std::sync::atomic::Ordering::SeqCst);
                        if to.write_all(&buf[..k]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                }
            });
            // Client to backend.
            std::thread::spawn(move || {
                let (mut from, mut to) = (client, server);
                let mut buf = [0; 16 * 1024];
                while let Ok(k @ 1..) = from.read(&mut buf) {
                    if n == 0 && answered.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    if to.write_all(&buf[..k]).is_err() {
                        break;
                    }
                }
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
            });
        }
    });
    addr
}

/// `lmlog-decode` without the OpenTelemetry variables of the test's environment.
fn decoder() -> Command {
    let mut command = decode_command();
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    ] {
        command.env_remove(var);
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run lmlog-decode")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON Lines of `lmlog-decode ARGS`.
fn jsonl(args: &[&str]) -> Vec<Value> {
    let out = run(decoder().arg("--quiet").args(args));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn string(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> Option<&str> {
    match value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> Option<i64> {
    match value.as_ref()?.value.as_ref()? {
        AnyValue::IntValue(n) => Some(*n),
        _ => None,
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attributes.iter().find(|a| a.key == key)
}

/// A record with its non-finite doubles as OTLP/JSON writes them (strings),
/// so that it compares to one read from `--format otel-json`.
fn as_json_writes_it(mut record: LogRecord) -> LogRecord {
    for a in &mut record.attributes {
        if let Some(AnyValue::DoubleValue(f)) = a.value.as_ref().and_then(|v| v.value.as_ref()) {
            let text = match *f {
                f if f.is_nan() => "NaN",
                f if f == f64::INFINITY => "Infinity",
                f if f == f64::NEG_INFINITY => "-Infinity",
                _ => continue,
            };
            a.value = Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(AnyValue::StringValue(text.to_owned())),
            });
        }
    }
    record
}

#[test]
fn every_record_reaches_the_collector_mapped_as_otel_json_maps_it() {
    let dir = TempDir::new("otlp-records");
    run_scenario(&["golden", dir.path().to_str().unwrap()]);
    let path = dir.path().join("every_type.lmlog");
    let file = path.to_str().unwrap();
    let events = jsonl(&[file]);
    assert!(events.len() > 20 && events.iter().any(|e| e.get("trace").is_some()));

    let receiver = Receiver::start(vec![]);
    // Quiet: the scenario leaves a gap the writer reports; the final line is still printed.
    let out = run(decoder().args(["--quiet", "--otlp-endpoint", &receiver.url(), file]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout.is_empty(), "nothing on standard output");
    let endpoint = format!("{}/v1/logs", receiver.url());
    assert_eq!(err, format!("lmlog-decode: sent {} events to {endpoint} (0 rejected, 0 retries)\n", events.len()));

    let requests = receiver.received();
    for r in &requests {
        assert_eq!(r.path, "/v1/logs");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        let resource_logs = &r.request.resource_logs[0];
        let resource = &resource_logs.resource.as_ref().unwrap().attributes;
        for key in ["service.name", "host.name", "process.pid", "process.executable.name"] {
            assert!(attribute(resource, key).is_some(), "{key} missing from {resource:?}");
        }
        let scope = resource_logs.scope_logs[0].scope.as_ref().unwrap();
        assert_eq!(scope.name, "lmlog");
        assert!(!scope.version.is_empty());
    }
    let records = receiver.accepted_records();
    assert_eq!(records.len(), events.len());
    for (record, event) in records.iter().zip(&events) {
        assert_eq!(record.event_name, event["event_type"].as_str().unwrap());
        assert_eq!(record.severity_text, event["level"].as_str().unwrap());
        let severity = match record.severity_text.as_str() {
            "trace" => 1,
            "debug" => 5,
            "info" => 9,
            "warn" => 13,
            _ => 17,
        };
        assert_eq!(record.severity_number, severity);
        let nanos = i128::from(record.time_unix_nano);
        assert_eq!(lmlog_decode::format_timestamp(nanos), event["timestamp"].as_str().unwrap());
        assert_eq!(record.observed_time_unix_nano, record.time_unix_nano);
        let body = event.get("message").unwrap_or(&event["event_type"]);
        assert_eq!(string(&record.body), body.as_str());
        match event.get("trace") {
            Some(trace) => {
                assert_eq!(hex(&record.trace_id), trace["trace_id"].as_str().unwrap());
                assert_eq!(hex(&record.span_id), trace["span_id"].as_str().unwrap());
                assert_eq!(format!("{:02x}", record.flags), trace["trace_flags"].as_str().unwrap());
            }
            None => assert!(record.trace_id.is_empty() && record.span_id.is_empty() && record.flags == 0),
        }
        if let Some(source) = event.get("source") {
            let lineno = attribute(&record.attributes, "code.lineno").unwrap();
            assert_eq!(int(&lineno.value), source["line"].as_i64());
            let file = attribute(&record.attributes, "code.filepath").unwrap();
            assert_eq!(string(&file.value), source["file"].as_str());
        }
        if let Some(name) = event["thread"]["name"].as_str() {
            assert_eq!(string(&attribute(&record.attributes, "thread.name").unwrap().value), Some(name));
        }
        // Every scalar field is an attribute under its key.
        for (key, value) in event["fields"].as_object().into_iter().flatten() {
            match value {
                Value::String(s) => match attribute(&record.attributes, key)
                    .and_then(|a| a.value.as_ref()?.value.as_ref())
                {
                    Some(AnyValue::StringValue(v)) => assert_eq!(v, s, "{key}"),
                    // Bytes are hex text in JSON Lines.
                    Some(AnyValue::BytesValue(v)) => assert_eq!(hex(v), *s, "{key}"),
                    // Non-finite floats are text in JSON Lines, doubles in OTLP.
                    Some(AnyValue::DoubleValue(v)) => {
                        let text: f64 = s.parse().unwrap_or_else(|_| panic!("{key}: {s}"));
                        assert!(!v.is_finite() && (v.is_nan() && text.is_nan() || *v == text), "{key}: {v} for {s:?}")
                    }
                    other => panic!("{key}: {other:?} for {s:?}"),
                },
                Value::Number(n) if n.is_i64() => {
                    assert_eq!(int(&attribute(&record.attributes, key).unwrap().value), n.as_i64(), "{key}")
                }
                _ => {}
            }
        }
    }
    // Nested values under dotted keys, typed.
    let every = records.iter().find(|r| r.event_name == "every_type").unwrap();
    assert_eq!(int(&attribute(&every.attributes, "point.x").unwrap().value), Some(-4));
    assert_eq!(int(&attribute(&every.attributes, "shapes.3.Rect.height").unwrap().value), Some(4));
    assert_eq!(string(&attribute(&every.attributes, "u64v").unwrap().value), Some("18446744073709551615"));
    assert!(attribute(&every.attributes, "unit").unwrap().value.is_none());

    // One mapping: each record is the one `--format otel-json` writes.
    let otel = run(decoder().args(["--quiet", "--format", "otel-json", file]));
    let lines: Vec<ExportLogsServiceRequest> =
        String::from_utf8(otel.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        let from_json = &line.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(*from_json, as_json_writes_it(record.clone()));
        assert_eq!(line.resource_logs[0].resource, requests[0].request.resource_logs[0].resource);
    }

    // Filters apply to what is exported.
    let warnings = jsonl(&["--level", "warn", file]);
    assert!(!warnings.is_empty() && warnings.len() < events.len());
    let receiver = Receiver::start(vec![]);
    let out = run(decoder().args(["--level", "warn", "--otlp-endpoint", &receiver.url(), file]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = receiver.accepted_records();
    let types =
        |events: &[Value]| events.iter().map(|e| e["event_type"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(records.iter().map(|r| r.event_name.clone()).collect::<Vec<_>>(), types(&warnings));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each record's (run, i) fields, counted.
fn run_and_i(records: &[LogRecord]) -> BTreeMap<(i64, i64), u32> {
    let mut seen = BTreeMap::new();
    for r in records {
        let field =
            |key| int(&attribute(&r.attributes, key).unwrap_or_else(|| panic!("{key} in {r:?}")).value).unwrap();
        *seen.entry((field("run"), field("i"))).or_default() += 1;
    }
    seen
}

/// A series of 11 or more files, 5000 events.
fn rotated_series(dir: &Path) -> std::path::PathBuf {
    run_scenario(&["rotation", dir.to_str().unwrap(), "0"]);
    dir.join("app.lmlog")
}

#[test]
fn a_receiver_that_fails_first_gets_every_event_once_in_batches() {
    let dir = TempDir::new("otlp-retries");
    let live = rotated_series(dir.path());
    let live = live.to_str().unwrap();
    let events = jsonl(&[live]);
    assert_eq!(events.len(), 5_000);

    // 503 with Retry-After: 1, then (the relay) a dropped connection, then 200s.
    let receiver = Receiver::start(vec![Reply::Status(503, Some("1"))]);
    let relay = dropping_relay(receiver.addr);
    let out = run(decoder().args(["--otlp-endpoint", &format!("http://{relay}"), live]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.ends_with(&format!("lmlog-decode: sent 5000 events to http://{relay}/v1/logs (0 rejected, 2 retries)\n")),
        "{err}"
    );
    let requests = receiver.received();
    assert_eq!(requests[0].status, 503);
    assert!(requests[1..].iter().all(|r| r.status == 200));
    // The batch that failed twice came again, whole.
    assert_eq!(requests[0].request, requests[1].request);
    assert!(requests.iter().all(|r| r.records().count() <= 512), "batches of at most 512");
    assert!(requests.iter().filter(|r| r.status == 200).count() >= 5_000usize.div_ceil(512));

    let records = receiver.accepted_records();
    let seen = run_and_i(&records);
    assert_eq!(records.len(), 5_000, "nothing lost, nothing twice");
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), (0..5_000).map(|i| (0, i)).collect::<Vec<_>>());
    assert!(seen.values().all(|&n| n == 1));
}

#[test]
fn refusals_and_partial_rejections_are_counted_and_fail_the_command() {
    let dir = TempDir::new("otlp-rejections");
    run_scenario(&["golden", dir.path().to_str().unwrap()]);
    let file = dir.path().join("every_type.lmlog");
    let file = file.to_str().unwrap();
    let events = jsonl(&[file]).len();

    let refusing = Receiver::start(vec![Reply::Status(400, None); 100]);
    let out = run(decoder().args(["--otlp-endpoint", &refusing.url(), file]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(refusing.received().len(), 1, "a refusal is not retried");
    assert!(err.contains("the collector rejected a batch of") && err.contains("HTTP status 400"), "{err}");
    let last = err.lines().last().unwrap();
    assert_eq!(
        last,
        format!("lmlog-decode: sent 0 events to {}/v1/logs ({events} rejected, 0 retries)", refusing.url())
    );

    let partial = Receiver::start(vec![Reply::PartialReject(2)]);
    let out = run(decoder().args(["--otlp-endpoint", &partial.url(), file]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("the collector rejected 2 of {events} events: too old")), "{err}");
    assert!(err.ends_with(&format!(
        "sent {} events to {}/v1/logs (2 rejected, 0 retries)\n",
        events - 2,
        partial.url()
    )));
}

#[test]
fn the_endpoint_comes_from_the_environment_only_with_otlp() {
    let dir = TempDir::new("otlp-env");
    run_scenario(&["otel", dir.path().join("otel.lmlog").to_str().unwrap()]);
    let file = dir.path().join("otel.lmlog");

    // The logs endpoint, used as it is.
    let receiver = Receiver::start(vec![]);
    let logs_endpoint = format!("{}/custom/logs", receiver.url());
    let out = run(decoder()
        .env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &logs_endpoint)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .arg("--otlp")
        .arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("lmlog-decode: sent 4 events to {logs_endpoint} (0 rejected, 0 retries)\n"));
    assert_eq!(receiver.received().iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["/custom/logs"]);

    // The base endpoint, plus /v1/logs.
    let receiver = Receiver::start(vec![]);
    let out =
        run(decoder().env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{}/", receiver.url())).arg("--otlp").arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(receiver.received().iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["/v1/logs"]);
    assert_eq!(receiver.accepted_records().len(), 4);

    // The variables alone switch nothing on: JSON Lines, nothing sent.
    let receiver = Receiver::start(vec![]);
    let out = run(decoder().env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url()).arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 4);
    assert!(receiver.received().is_empty());

    // --otlp with neither: a usage error.
    let out = run(decoder().arg("--otlp").arg(&file));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") && err.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn headers_reach_the_collector_and_are_never_printed() {
    let dir = TempDir::new("otlp-headers");
    let file = dir.path().join("otel.lmlog");
    run_scenario(&["otel", file.to_str().unwrap()]);

    let receiver = Receiver::start(vec![]);
    let out = run(decoder()
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=shop, authorization=Bearer%20s3cret-env")
        .args(["--otlp-endpoint", &receiver.url(), "--otlp-header", "x-api-key=s3cret-flag"])
        .arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = &receiver.received()[0];
    assert_eq!(got.header("x-tenant"), Some("shop"));
    assert_eq!(got.header("authorization"), Some("Bearer s3cret-env"));
    assert_eq!(got.header("x-api-key"), Some("s3cret-flag"));
    assert!(!stderr(&out).contains("s3cret"));

    // A collector that keeps failing: the command gives up (exit 2) and
    // says why, without the headers.
    let failing = Receiver::start(vec![Reply::Status(503, Some("0")); 100]);
    let out = run(decoder()
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret-env")
        .args(["--otlp-endpoint", &failing.url(), "--otlp-header", "x-api-key=s3cret-flag"])
        .arg(&file));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(failing.received().len(), 8, "8 attempts");
    assert!(err.contains("gave up sending to") && err.contains("after 8 attempts: HTTP status 503"), "{err}");
    assert!(err.ends_with("(0 rejected, 4 not sent, 7 retries)\n"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    // A header that cannot be sent is named, its value not shown.
    let out = run(decoder()
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%0As3cret-env")
        .args(["--otlp-endpoint", &receiver.url()])
        .arg(&file));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("authorization") && !err.contains("s3cret"), "{err}");
    let out = run(decoder().args(["--otlp-endpoint", &receiver.url(), "--otlp-header", "s3cret-no-key"]).arg(&file));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("KEY=VALUE") && !err.contains("s3cret"), "{err}");
}

#[test]
fn follow_ships_a_live_log_to_the_collector() {
    let dir = TempDir::new("otlp-follow");
    let live = dir.path().join("app.lmlog");
    let receiver = Receiver::start(vec![]);
    let mut follow = decoder()
        .args(["--follow", "--otlp-endpoint", &receiver.url()])
        .arg(&live)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut app = scenario_command(&["live-series", dir.path().to_str().unwrap(), "exit"]).spawn().expect("spawn");
    assert!(wait(&mut app).success());
    let status = wait(&mut follow);
    let mut err = String::new();
    follow.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let mut out = String::new();
    follow.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(out.is_empty());
    assert!(
        err.ends_with(&format!("sent 3000 events to {}/v1/logs (0 rejected, 0 retries)\n", receiver.url())),
        "{err}"
    );
    let records = receiver.accepted_records();
    let mut seen: BTreeMap<(i64, i64), u32> = BTreeMap::new();
    for r in &records {
        let field = |key| int(&attribute(&r.attributes, key).unwrap().value).unwrap();
        *seen.entry((field("worker"), field("i"))).or_default() += 1;
    }
    assert_eq!(records.len(), 3_000);
    assert_eq!(seen.len(), 3_000, "every event once");
    assert!(receiver.received().len() >= 3_000usize.div_ceil(512));
}

#[test]
fn a_shipper_sends_what_waits_while_following_and_its_counts_on_sigterm() {
    let dir = TempDir::new("otlp-follow-hold");
    let live = dir.path().join("app.lmlog");
    // The application logs everything, flushes and waits: the last batch
    // is not full, and only its age sends it.
    let mut app = holding_live_series(dir.path());

    let receiver = Receiver::start(vec![]);
    let mut follow = decoder()
        .args(["--follow", "--otlp-endpoint", &receiver.url()])
        .arg(&live)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + SCENARIO_WATCHDOG;
    while receiver.accepted_records().len() < 3_000 {
        assert!(Instant::now() < deadline, "{} of 3000 events arrived", receiver.accepted_records().len());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(follow.try_wait().expect("wait").is_none(), "the shipper waits for more");
    // SAFETY: `kill` on the id of a child process this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(follow.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = wait(&mut follow);
    let mut err = String::new();
    follow.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, format!("lmlog-decode: sent 3000 events to {}/v1/logs (0 rejected, 0 retries)\n", receiver.url()));
    assert_eq!(receiver.accepted_records().len(), 3_000);
    drop(app.stdin.take());
    assert!(wait(&mut app).success());
}

/// Waits for `child`; kills it and fails after the watchdog (a guard
/// against a hang, not a time bound).
fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + SCENARIO_WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("still running after {SCENARIO_WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A CA made for the test, and a certificate for `127.0.0.1` it signed:
/// the CA's PEM, and a rustls server configuration serving the certificate.
fn test_ca() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    (ca_cert.pem(), Arc::new(config))
}

/// A TLS terminator in front of `backend`: serves `config`'s certificate
/// and passes the plain bytes on, both ways.
fn tls_relay(backend: SocketAddr, config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a TLS relay");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                // A client that gives up on the certificate ends here.
                let _ = terminate_tls(client, backend, config);
            });
        }
    });
    addr
}

/// Relays one TLS connection to `backend` until either side closes.
fn terminate_tls(client: TcpStream, backend: SocketAddr, config: Arc<rustls::ServerConfig>) -> std::io::Result<()> {
    let mut server = TcpStream::connect(backend)?;
    // Both directions on one thread (a TLS stream is not split): short
    // read timeouts let each side be polled in turn.
    client.set_read_timeout(Some(Duration::from_millis(5)))?;
    server.set_read_timeout(Some(Duration::from_millis(5)))?;
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, client);
    let waiting =
        |e: &std::io::Error| matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut);
    let mut buf = [0; 16 * 1024];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(k) => server.write_all(&buf[..k])?,
            Err(e) if waiting(&e) => {}
            Err(e) => return Err(e),
        }
        match server.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(k) => {
                tls.write_all(&buf[..k])?;
                tls.flush()?;
            }
            Err(e) if waiting(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn https_with_the_ca_given_and_a_refusal_without_it() {
    let dir = TempDir::new("otlp-https");
    let file = dir.path().join("otel.lmlog");
    run_scenario(&["otel", file.to_str().unwrap()]);
    let (ca_pem, config) = test_ca();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let receiver = Receiver::start(vec![]);
    let url = format!("https://{}", tls_relay(receiver.addr, config));

    let out = run(decoder().args(["--otlp-endpoint", &url, "--otlp-ca"]).arg(&ca).arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("lmlog-decode: sent 4 events to {url}/v1/logs (0 rejected, 0 retries)\n"));
    assert_eq!(receiver.accepted_records().len(), 4);

    // The system's roots do not know the test's CA: no retry cures that.
    let out = run(decoder().args(["--otlp-endpoint", &url, "--otlp-header", "authorization=s3cret"]).arg(&file));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("after 1 attempt: ") && err.contains("certificate"), "{err}");
    assert!(err.ends_with("(0 rejected, 4 not sent, 0 retries)\n") && !err.contains("s3cret"), "{err}");
    assert_eq!(receiver.accepted_records().len(), 4, "nothing more arrived");

    // A CA file that holds no certificate.
    let out = run(decoder().args(["--otlp-endpoint", &url, "--otlp-ca"]).arg(&file).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no PEM certificate"), "{}", stderr(&out));
}
