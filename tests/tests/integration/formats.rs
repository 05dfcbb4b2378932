//! `lmlog-decode --format pretty|logfmt|otel-json` on a file the runtime
//! wrote (`lmlog-scenario golden`: three threads, a message template,
//! nested values, a trace context), checked event by event against the
//! JSON Lines output (`otel-json` also read back with `opentelemetry-proto`);
//! and `--color` of `pretty` on a terminal and a pipe.

use std::path::Path;
use std::process::{Command, Output};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use serde_json::Value;

use crate::support::{decode_command, run_scenario, TempDir};

fn decode(path: &Path, args: &[&str]) -> Output {
    decode_command().args(args).arg(path).env_remove("NO_COLOR").output().expect("run lmlog-decode")
}

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output").lines().map(str::to_owned).collect()
}

/// The thread name of a JSON Lines event, if any.
fn thread_name(event: &Value) -> Option<&str> {
    event["thread"]["name"].as_str()
}

#[test]
fn every_format_holds_every_event_of_a_runtime_file() {
    let dir = TempDir::new("formats");
    run_scenario(&["golden", dir.path().to_str().unwrap()]);
    let path = dir.path().join("every_type.lmlog");

    let jsonl = decode(&path, &["--quiet"]);
    let events: Vec<Value> = lines(&jsonl).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.len() > 20, "{} events", events.len());
    assert!(events.iter().any(|e| e.get("trace").is_some()));
    assert!(events.iter().filter_map(thread_name).any(|n| n != "main"));
    let default = decode(&path, &["--quiet", "--format", "jsonl"]);
    assert_eq!(default.stdout, jsonl.stdout, "--format jsonl is the default output");

    let pretty = decode(&path, &["--quiet", "--format", "pretty"]);
    let logfmt = decode(&path, &["--quiet", "--format", "logfmt"]);
    let otel = decode(&path, &["--quiet", "--format", "otel-json"]);
    for out in [&pretty, &logfmt, &otel] {
        assert_eq!(out.status.code(), jsonl.status.code(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (pretty, logfmt, otel) = (lines(&pretty), lines(&logfmt), lines(&otel));
    assert_eq!(pretty.len(), events.len());
    assert_eq!(logfmt.len(), events.len());
    assert_eq!(otel.len(), events.len());

    for (i, event) in events.iter().enumerate() {
        let ts = event["timestamp"].as_str().unwrap();
        let level = event["level"].as_str().unwrap();
        let event_type = event["event_type"].as_str().unwrap();
        let source = event.get("source").map(|s| format!("{}:{}", s["file"].as_str().unwrap(), s["line"]));

        // pretty: time, level, event type, message, ..., thread, source.
        let line = &pretty[i];
        assert!(line.starts_with(&format!("{ts} {:>5} {event_type}:", level.to_uppercase())), "{line}");
        assert!(!line.contains('\x1b'), "no colour on a pipe: {line}");
        if let Some(source) = &source {
            assert!(line.ends_with(&format!(" {source}")), "{line}");
        }
        if let Some(name) = thread_name(event) {
            assert!(line.contains(&format!(" thread={name}")), "{line}");
        }

        // logfmt
        let line = &logfmt[i];
        assert!(line.starts_with(&format!("time={ts} level={level} event={event_type}")), "{line}");
        if let Some(id) = event["thread"]["id"].as_u64() {
            assert!(line.contains(&format!(" thread.id={id}")), "{line}");
        }
        if let Some(trace) = event.get("trace") {
            assert!(line.contains(&format!(" trace_id={}", trace["trace_id"].as_str().unwrap())), "{line}");
        }

        // otel-json: a request the OpenTelemetry crate's OTLP/JSON reader takes.
        if let Err(e) = serde_json::from_str::<ExportLogsServiceRequest>(&otel[i]) {
            panic!("not an OTLP/JSON ExportLogsServiceRequest ({e}): {}", otel[i]);
        }
        let request: Value = serde_json::from_str(&otel[i]).unwrap();
        let resource_logs = &request["resourceLogs"][0];
        let scope_logs = &resource_logs["scopeLogs"][0];
        assert_eq!(scope_logs["scope"]["name"], "lmlog");
        let record = &scope_logs["logRecords"][0];
        let nanos: i128 = record["timeUnixNano"].as_str().unwrap().parse().unwrap();
        assert_eq!(lmlog_decode::format_timestamp(nanos), ts, "nanosecond precision");
        assert_eq!(record["observedTimeUnixNano"], record["timeUnixNano"]);
        let severity = match level {
            "trace" => 1,
            "debug" => 5,
            "info" => 9,
            "warn" => 13,
            _ => 17,
        };
        assert_eq!(record["severityNumber"], severity);
        assert_eq!(record["severityText"], level);
        assert_eq!(record["eventName"], event_type);
        let body = event.get("message").unwrap_or(&event["event_type"]);
        assert_eq!(record["body"]["stringValue"], *body);
        match event.get("trace") {
            Some(trace) => {
                assert_eq!(record["traceId"], trace["trace_id"]);
                assert_eq!(record["spanId"], trace["span_id"]);
                assert_eq!(record["flags"], u64::from_str_radix(trace["trace_flags"].as_str().unwrap(), 16).unwrap());
            }
            None => assert!(record.get("traceId").is_none()),
        }
        let attrs: Vec<(String, Value)> = record["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["key"].as_str().unwrap().to_owned(), a["value"].clone()))
            .collect();
        let attr = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        if let Some(name) = thread_name(event) {
            assert_eq!(attr("thread.name").unwrap()["stringValue"], name);
        }
        if let Some(s) = event.get("source") {
            assert_eq!(attr("code.filepath").unwrap()["stringValue"], s["file"]);
            assert_eq!(attr("code.lineno").unwrap()["intValue"], s["line"].to_string());
            assert_eq!(attr("code.namespace").unwrap()["stringValue"], s["module"]);
        }
    }

    // Nested values, event `every_type`: compact JSON in `pretty`, dotted
    // keys in `logfmt` and `otel-json`.
    let i = events.iter().position(|e| e["event_type"] == "every_type").unwrap();
    assert!(pretty[i].contains(r#" point={"x":-4,"label":"origin"} "#), "{}", pretty[i]);
    assert!(pretty[i].contains(r#" shapes=["Empty",{"Circle":1.5},{"Pair":[1,-1]},{"Rect":{"w":3,"height":4}}] "#));
    assert!(logfmt[i].contains(" point.x=-4 point.label=origin "), "{}", logfmt[i]);
    assert!(logfmt[i].contains(" shapes.0=Empty shapes.1.Circle=1.5 shapes.2.Pair.0=1 shapes.2.Pair.1=-1 "));
    assert!(logfmt[i].contains(" shapes.3.Rect.w=3 shapes.3.Rect.height=4 "));
    let request: Value = serde_json::from_str(&otel[i]).unwrap();
    let attrs = &request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"];
    let find = |key: &str| attrs.as_array().unwrap().iter().find(|a| a["key"] == key).map(|a| a["value"].clone());
    assert_eq!(find("point.x").unwrap(), serde_json::json!({"intValue": "-4"}));
    assert_eq!(find("shapes.3.Rect.height").unwrap(), serde_json::json!({"intValue": "4"}));
    assert_eq!(find("u64v").unwrap(), serde_json::json!({"stringValue": "18446744073709551615"}));
    assert_eq!(find("bytes").unwrap(), serde_json::json!({"bytesValue": "3q2+7w=="}));
    assert_eq!(find("nan").unwrap(), serde_json::json!({"stringValue": "NaN"}));
    assert_eq!(find("f32v").unwrap(), serde_json::json!({"doubleValue": 0.1}));
    let unit = attrs.as_array().unwrap().iter().find(|a| a["key"] == "unit").unwrap();
    assert!(unit.get("value").is_none(), "`()` is an attribute without a value: {unit}");
    let resource = &request["resourceLogs"][0]["resource"]["attributes"];
    let keys: Vec<&str> = resource.as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    for key in ["service.name", "host.name", "process.pid", "process.executable.name"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

/// Runs `lmlog-decode ARGS` under `script` (util-linux), so that its
/// standard output is a terminal; returns what it wrote.
fn on_a_terminal(path: &Path, args: &str) -> String {
    let bin = decode_command().get_program().to_str().unwrap().to_owned();
    let command = format!("'{bin}' {args} '{}'", path.display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run script (util-linux)");
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pretty_is_coloured_on_a_terminal_and_plain_on_a_pipe() {
    let dir = TempDir::new("formats-color");
    let path = dir.path().join("otel.lmlog");
    run_scenario(&["otel", path.to_str().unwrap()]);

    let auto = on_a_terminal(&path, "--format pretty");
    assert!(auto.contains("\x1b[32m INFO\x1b[0m \x1b[1min_span:\x1b[0m"), "{auto:?}");
    let never = on_a_terminal(&path, "--format pretty --color never");
    assert!(never.contains(" INFO in_span: n=1 ") && !never.contains('\x1b'), "{never:?}");

    let piped = decode(&path, &["--format", "pretty"]);
    assert!(piped.status.success());
    let piped = String::from_utf8(piped.stdout).unwrap();
    assert!(piped.contains(" INFO in_span: n=1 ") && !piped.contains('\x1b'), "{piped:?}");
    let always = String::from_utf8(decode(&path, &["--format", "pretty", "--color", "always"]).stdout).unwrap();
    assert!(always.contains("\x1b[32m INFO\x1b[0m"), "{always:?}");
}

#[test]
fn unknown_format_is_a_usage_error() {
    let dir = TempDir::new("formats-bad");
    let path = dir.path().join("otel.lmlog");
    run_scenario(&["otel", path.to_str().unwrap()]);
    let out = decode(&path, &["--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'yaml'") && stderr.contains("otel-json"), "{stderr}");
    assert!(out.stdout.is_empty());
}
