//! The text formats on one synthesized stream: a message template, a
//! nested struct, an empty sequence, a map, strings that need quoting,
//! bytes, a redacted field, a trace context, a named and an unnamed thread
//! (and, for the `lmlog-py` shape, a loss report: an event without a source).

use std::collections::BTreeMap;

use lmlog_format::types::TypeDesc;
use lmlog_format::Level;
use lmlog_tests::synth::{field, redacted, Rec, Stream};
use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::Decoder;

static USER: TypeDesc = TypeDesc::Struct(
    "User",
    &[
        lmlog_format::FieldDesc { name: "id", ty: &TypeDesc::U32, redacted: false },
        lmlog_format::FieldDesc { name: "name", ty: &TypeDesc::Str, redacted: false },
    ],
);

fn pc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

/// Event 1 (thread `main`, traced): `paid` with a message; event 2 (thread
/// 2, unnamed): `tick`, no message, no fields.
fn stream() -> Vec<u8> {
    let fields = [
        field("user", USER),
        field("note", TypeDesc::Str),
        field("amount", TypeDesc::F64),
        field("tags", TypeDesc::Seq(&TypeDesc::Str)),
        field("limits", TypeDesc::Map(&TypeDesc::Str, &TypeDesc::I64)),
        field("raw", TypeDesc::Bytes),
        redacted("pin", TypeDesc::U32),
    ];
    let mut body = pc(&(7u32, "Ann Lee", "a \"b\"=c", 12.5f64, Vec::<&str>::new()));
    body.extend(pc(&BTreeMap::from([("daily", -1i64)])));
    body.extend(pc(&3u8));
    body.extend_from_slice(b"foo");
    let mut traced = Rec::new(1, 1, body);
    let mut trace = [0u8; 25];
    trace[..16].copy_from_slice(&[0x4b; 16]);
    trace[16..24].copy_from_slice(&[0x0f; 8]);
    trace[24] = 1;
    traced.trace = Some(trace);
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(1, "paid", Level::Warn, Some("{user} paid {amount} ({note})"), &fields)
        .schema(2, "tick", Level::Trace, None, &[])
        .records(1, 0, &[traced])
        .records(2, 0, &[Rec::new(2, 2, vec![])]);
    s.bytes
}

/// The text `make(writer)` writes for [`stream`].
fn render<O: Output>(make: impl FnOnce(Vec<u8>) -> O, get: impl Fn(&O) -> &Vec<u8>) -> String {
    let mut d = Decoder::new(make(Vec::new()));
    d.feed(&stream()).unwrap();
    d.flush().unwrap();
    assert!(d.summary().is_clean(), "{:?}", d.summary().diagnostics);
    String::from_utf8(get(d.output()).clone()).unwrap()
}

#[test]
fn pretty_writes_one_plain_line_per_event() {
    let text = render(|w| Pretty::new(w, false), Pretty::get_ref);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "2026-11-25T13:23:10.133324124Z  WARN paid: {\"id\":7,\"name\":\"Ann Lee\"} paid 12.5 (a \"b\"=c) \
             user={\"id\":7,\"name\":\"Ann Lee\"} note=\"a \\\"b\\\"=c\" amount=12.5 tags=[] limits={\"daily\":-1} raw=666f6f \
             pin=<redacted> trace_id=4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b span_id=0f0f0f0f0f0f0f0f thread=main src/main.rs:9",
            "2026-11-25T13:23:10.133324125Z TRACE tick: thread=#2 src/main.rs:9",
        ]
    );
}

#[test]
fn pretty_colours_level_event_type_and_source() {
    let text = render(|w| Pretty::new(w, true), Pretty::get_ref);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("\x1b[2m2026-11-25T13:23:10.133324124Z\x1b[0m \x1b[33m WARN\x1b[0m \x1b[1mpaid:\x1b[0m "),
        "{first}"
    );
    assert!(first.ends_with(" \x1b[2msrc/main.rs:9\x1b[0m"), "{first}");
    assert!(text.lines().nth(1).unwrap().contains("\x1b[35mTRACE\x1b[0m"));
}

#[test]
fn logfmt_flattens_and_quotes() {
    let text = render(Logfmt::new, Logfmt::get_ref);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "time=2026-11-25T13:23:10.133324124Z level=warn event=paid \
             msg=\"{\\\"id\\\":7,\\\"name\\\":\\\"Ann Lee\\\"} paid 12.5 (a \\\"b\\\"=c)\" \
             user.id=7 user.name=\"Ann Lee\" note=\"a \\\"b\\\"=c\" amount=12.5 tags=[] limits.daily=-1 raw=666f6f pin=<redacted> \
             trace_id=4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b span_id=0f0f0f0f0f0f0f0f trace_flags=01 \
             thread.id=1 thread.name=main source=src/main.rs:9",
            "time=2026-11-25T13:23:10.133324125Z level=trace event=tick thread.id=2 source=src/main.rs:9",
        ]
    );
}

#[test]
fn otel_json_follows_the_otlp_json_mapping() {
    let text = render(OtelJson::new, OtelJson::get_ref);
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let resource = json!({"attributes": [
        {"key": "service.name", "value": {"stringValue": "app"}},
        {"key": "process.pid", "value": {"intValue": "42"}},
        {"key": "process.executable.name", "value": {"stringValue": "app"}},
        {"key": "process.executable.path", "value": {"stringValue": "/usr/bin/app"}},
        {"key": "k", "value": {"stringValue": "v"}},
    ]});
    let code = [
        json!({"key": "code.filepath", "value": {"stringValue": "src/main.rs"}}),
        json!({"key": "code.lineno", "value": {"intValue": "9"}}),
        json!({"key": "code.namespace", "value": {"stringValue": "app"}}),
        json!({"key": "code.function", "value": {"stringValue": "app::main"}}),
    ];
    let wrap = |record: Value| {
        json!({"resourceLogs": [{
            "resource": resource,
            "scopeLogs": [{"scope": {"name": "lmlog", "version": "0.1.0"}, "logRecords": [record]}],
        }]})
    };
    let mut attributes = vec![
        json!({"key": "user.id", "value": {"intValue": "7"}}),
        json!({"key": "user.name", "value": {"stringValue": "Ann Lee"}}),
        json!({"key": "note", "value": {"stringValue": "a \"b\"=c"}}),
        json!({"key": "amount", "value": {"doubleValue": 12.5}}),
        json!({"key": "tags", "value": {"arrayValue": {"values": []}}}),
        json!({"key": "limits.daily", "value": {"intValue": "-1"}}),
        json!({"key": "raw", "value": {"bytesValue": "Zm9v"}}),
        json!({"key": "pin", "value": {"stringValue": "<redacted>"}}),
    ];
    attributes.extend(code.clone());
    attributes.push(json!({"key": "thread.id", "value": {"intValue": "1"}}));
    attributes.push(json!({"key": "thread.name", "value": {"stringValue": "main"}}));
    assert_eq!(
        lines[0],
        wrap(json!({
            "timeUnixNano": "1795612990133324124",
            "observedTimeUnixNano": "1795612990133324124",
            "severityNumber": 13,
            "severityText": "warn",
            "eventName": "paid",
            "body": {"stringValue": "{\"id\":7,\"name\":\"Ann Lee\"} paid 12.5 (a \"b\"=c)"},
            "attributes": attributes,
            "traceId": "4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b",
            "spanId": "0f0f0f0f0f0f0f0f",
            "flags": 1,
        }))
    );
    let mut attributes = code.to_vec();
    attributes.push(json!({"key": "thread.id", "value": {"intValue": "2"}}));
    assert_eq!(
        lines[1],
        wrap(json!({
            "timeUnixNano": "1795612990133324125",
            "observedTimeUnixNano": "1795612990133324125",
            "severityNumber": 1,
            "severityText": "trace",
            "eventName": "tick",
            "body": {"stringValue": "tick"},
            "attributes": attributes,
        }))
    );
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>(), Ok(f));
    }
    assert_eq!(Format::NAMES.map(|n| n.parse::<Format>().unwrap()), Format::ALL);
    assert!("json".parse::<Format>().unwrap_err().to_string().contains("unknown format `json`"));
}

#[test]
fn lmlog_py_lays_events_out_as_the_python_package() {
    let mut bytes = stream();
    let mut loss = Stream::new();
    loss.next_seq = 5;
    loss.loss(3, 4096, "sink failed", 1_795_612_990_133_324_200);
    bytes.extend_from_slice(&loss.bytes);
    let mut d = Decoder::new(LmlogPyLines::new(Vec::new()));
    d.feed(&bytes).unwrap();
    d.flush().unwrap();
    let text = String::from_utf8(d.output().get_ref().clone()).unwrap();
    let resource = r#""resource":{"service.name":"app","process.pid":42,"process.executable.name":"app","process.executable.path":"/usr/bin/app","k":"v"}"#;
    let trace = r#""trace_id":"4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b","span_id":"0f0f0f0f0f0f0f0f","trace_flags":1,"trace_state":{},"span_name":"","span_kind":"""#;
    let source = r#""source":{"file":"src/main.rs","line":9,"function":"app::main"}"#;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                r#"{{"timestamp":"2026-11-25T13:23:10.133324+00:00",{source},{resource},"correlation":{{{trace}}},"trace":{{{trace}}},"event_type":"paid","level":"warning","context":{{"user":{{"id":7,"name":"Ann Lee"}},"note":"a \"b\"=c","amount":12.5,"tags":[],"limits":{{"daily":-1}},"raw":"666f6f","pin":"<redacted>"}}}}"#
            ),
            format!(
                r#"{{"timestamp":"2026-11-25T13:23:10.133324+00:00",{source},{resource},"event_type":"tick","level":"debug"}}"#
            ),
            format!(
                r#"{{"timestamp":"2026-11-25T13:23:10.133324+00:00","source":{{"file":"unknown","line":0,"function":"unknown"}},{resource},"event_type":"lmlog.writer_loss","level":"error","context":{{"frames":3,"bytes":4096,"reason":"sink failed"}}}}"#
            ),
        ]
    );
}

#[test]
fn shape_names_round_trip() {
    for s in Shape::ALL {
        assert_eq!(s.name().parse::<Shape>(), Ok(s));
    }
    assert_eq!(Shape::NAMES.map(|n| n.parse::<Shape>().unwrap()), Shape::ALL);
    assert!("python".parse::<Shape>().unwrap_err().to_string().contains("unknown shape `python`"));
}
