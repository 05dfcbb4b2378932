//! The field types that decode to something other than their postcard
//! shape (times, addresses, paths, errors, durations, UUIDs, date-times,
//! JSON values, and the derive's `display`, `debug` and `with` fields),
//! written by the runtime in a child process (`lmlog-scenario
//! field-types`) and decoded in every output format; and a `Duration`
//! written before it became a number of nanoseconds still decodes as it did.

use std::path::Path;
use std::process::Output;

use lmlog_format::{FieldDesc, Level, TypeDesc};
use lmlog_tests::synth::{Rec, Stream};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use serde_json::{json, Value};

use crate::support::{decode_command, run_scenario, TempDir};

const AT: &str = "2026-11-30T12:34:56.123456789Z";

fn decode(path: &Path, format: &str) -> Vec<String> {
    let output: Output = decode_command().args(["--quiet", "--format", format]).arg(path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn written() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new("field-types");
    let path = dir.path().join("field-types.lmlog");
    run_scenario(&["field-types", path.to_str().unwrap()]);
    (dir, path)
}

#[test]
fn every_field_type_decodes_to_json_lines() {
    let (_dir, path) = written();
    let lines = decode(&path, "jsonl");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let event: Value = serde_json::from_str(&lines[0]).unwrap();
    let expected = json!({
        "at": AT,
        "before_epoch": "1969-12-31T23:59:58.500000000Z",
        "elapsed": 31_808_000,
        "ip4": "192.168.1.20",
        "ip6": "2001:db8::1",
        "ip": "127.0.0.1",
        "peer": "10.0.0.7:8443",
        "peer6": "[::1]:9000",
        "path": "/var/log/app.lmlog",
        "path_buf": "relative/dir",
        "error": {"message": "loading the config failed", "sources": ["disk full"]},
        "boxed": {"message": "loading the config failed", "sources": ["permission denied"]},
        "io": {"message": "no such file", "sources": []},
        "id": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "chrono_at": AT,
        "time_at": AT,
        "json": {"a": [1, -2, 2.5, "x", null, true], "b": {"c": false}},
        "shown": "€12.50",
        "debugged": "Money { cents: 5 }",
        "amount_cents": 999,
        "price": "€1.00",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&event["fields"][key], value, "field {key}");
    }
    // `Duration::MAX` in nanoseconds is past serde_json's numbers: the text.
    assert!(lines[0].contains(&format!("\"longest\":{}", std::time::Duration::MAX.as_nanos())), "{}", lines[0]);
    assert_eq!(event["message"], format!("10.0.0.7:8443 took 31808000 at {AT}"));

    let adhoc: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        adhoc["fields"],
        json!({
            "peer": "10.0.0.7:8443",
            "elapsed": 1500,
            "err": {"message": "loading the config failed", "sources": ["disk full"]},
            "money": "€0.01",
            "debug_money": "Money { cents: 1 }",
            "at": AT,
        })
    );
    assert_eq!(adhoc["message"], "10.0.0.7:8443 in 1500");
}

#[test]
fn every_field_type_decodes_in_the_text_formats() {
    let (_dir, path) = written();
    let logfmt = decode(&path, "logfmt");
    let pretty = decode(&path, "pretty");
    for expected in [
        format!("at={AT}"),
        "elapsed=31808000".to_owned(),
        "peer6=[::1]:9000".to_owned(),
        "id=67e55044-10b1-426f-9247-bb680e5fe0c8".to_owned(),
        "path=/var/log/app.lmlog".to_owned(),
        "shown=€12.50".to_owned(),
        "debugged=\"Money { cents: 5 }\"".to_owned(),
    ] {
        assert!(logfmt[0].contains(&format!(" {expected} ")), "logfmt lacks {expected}: {}", logfmt[0]);
        assert!(pretty[0].contains(&format!(" {expected} ")), "pretty lacks {expected}: {}", pretty[0]);
    }
    // logfmt flattens nested values under dotted keys; pretty shows them as JSON.
    assert!(logfmt[0].contains(" error.message=\"loading the config failed\" error.sources.0=\"disk full\" "));
    assert!(
        logfmt[0].contains(" json.a.2=2.5 json.a.3=x json.a.4=null json.a.5=true json.b.c=false "),
        "{}",
        logfmt[0]
    );
    assert!(pretty[0].contains(r#" json={"a":[1,-2,2.5,"x",null,true],"b":{"c":false}} "#), "{}", pretty[0]);

    let otel = decode(&path, "otel-json");
    let request: ExportLogsServiceRequest = serde_json::from_str(&otel[0]).unwrap();
    let record = &request.resource_logs[0].scope_logs[0].log_records[0];
    let attribute = |key: &str| {
        let kv = record.attributes.iter().find(|kv| kv.key == key).unwrap_or_else(|| panic!("no attribute {key}"));
        kv.value.as_ref().and_then(|v| v.value.clone()).unwrap()
    };
    assert_eq!(attribute("at"), AnyValue::StringValue(AT.into()));
    assert_eq!(attribute("elapsed"), AnyValue::IntValue(31_808_000), "a duration is a number");
    assert_eq!(attribute("peer"), AnyValue::StringValue("10.0.0.7:8443".into()));
    assert_eq!(attribute("id"), AnyValue::StringValue("67e55044-10b1-426f-9247-bb680e5fe0c8".into()));
    assert_eq!(attribute("error.sources.0"), AnyValue::StringValue("disk full".into()));
    assert_eq!(attribute("json.a.1"), AnyValue::IntValue(-2));
    assert_eq!(attribute("json.b.c"), AnyValue::BoolValue(false));
    assert_eq!(attribute("amount_cents"), AnyValue::IntValue(999));
}

#[test]
fn field_types_can_be_filtered() {
    let (_dir, path) = written();
    let output = decode_command()
        .args(["--quiet", "--where", "peer=10.0.0.7:8443", "--where", "elapsed>1000000", "--where", "json.b.c=false"])
        .arg(&path)
        .output()
        .unwrap();
    let lines: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["event_type"], "field_types");
}

/// A stream written before `Duration` became a number of nanoseconds
/// described it as `struct Duration { secs: u64, nanos: u32 }`: it still
/// decodes to that object, beside a field of the new kind.
#[test]
fn a_duration_written_the_old_way_decodes_as_it_did() {
    static OLD: TypeDesc = TypeDesc::Struct(
        "Duration",
        &[
            FieldDesc { name: "secs", ty: &TypeDesc::U64, redacted: false },
            FieldDesc { name: "nanos", ty: &TypeDesc::U32, redacted: false },
        ],
    );
    static FIELDS: [FieldDesc; 2] = [
        FieldDesc { name: "old", ty: &OLD, redacted: false },
        FieldDesc { name: "new", ty: &TypeDesc::Quantity("ns", &TypeDesc::U128), redacted: false },
    ];
    let mut stream = Stream::standard();
    stream.schema(1, "timing", Level::Info, None, &FIELDS);
    // 0 s 31808 ns the old way (varints 0, 31808), 3.25 s the new way.
    let mut fields = vec![0x00, 0xc0, 0xf8, 0x01];
    lmlog_format::varint::push_u64(&mut fields, 3_250_000_000);
    stream.records(0, 0, &[Rec::new(1, 0, fields)]).end();
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_reader(stream.bytes.as_slice(), &mut out).unwrap();
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let line: Value = serde_json::from_str(String::from_utf8(out).unwrap().trim_end()).unwrap();
    assert_eq!(line["fields"], json!({"old": {"secs": 0, "nanos": 31808}, "new": 3_250_000_000u64}));
}
