//! `lmlog-decode --shape lmlog-py` against what the Python LMLog 0.3.0
//! writes: the `pyshape` scenario emits the events that
//! `tests/fixtures/lmlog-py/capture.py` logged through the Python package
//! (its lines are the fixture `lmlog-0.3.0.jsonl`), and each decoded line
//! must have the Python line's keys in its order, its value types and
//! encodings, and its values where both are deterministic.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::process::Command;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

use crate::support::{decode_command, TempDir};

/// A JSON value whose objects keep their keys in the order written.
#[derive(Debug, Clone, PartialEq)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar(Value),
}

impl Ordered {
    fn keys(&self) -> Vec<&str> {
        match self {
            Ordered::Object(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn at(&self, key: &str) -> &Ordered {
        self.get(key).unwrap_or_else(|| panic!("no `{key}` in {self:?}"))
    }

    fn str(&self) -> &str {
        match self {
            Ordered::Scalar(Value::String(s)) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    /// The JSON type: what a reader of the line would branch on.
    fn kind(&self) -> &'static str {
        match self {
            Ordered::Object(_) => "object",
            Ordered::Array(_) => "array",
            Ordered::Scalar(Value::String(_)) => "string",
            Ordered::Scalar(Value::Number(n)) if n.is_f64() => "float",
            Ordered::Scalar(Value::Number(_)) => "integer",
            Ordered::Scalar(Value::Bool(_)) => "bool",
            Ordered::Scalar(_) => "null",
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(json!(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(json!(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(json!(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(json!(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(json!(v)))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_lines(text: &str) -> Vec<Ordered> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The Python package's lines.
fn python_lines() -> Vec<Ordered> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lmlog-py/lmlog-0.3.0.jsonl");
    parse_lines(&std::fs::read_to_string(path).unwrap())
}

/// The `pyshape` scenario's log (backtraces on), decoded with `--shape lmlog-py`.
fn lmlog_lines(dir: &Path) -> Vec<Ordered> {
    let path = dir.join("pyshape.lmlog");
    let output = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"))
        .args(["pyshape", path.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let decoded = decode_command().args(["--shape", "lmlog-py"]).arg(&path).output().unwrap();
    assert!(decoded.status.success(), "{}", String::from_utf8_lossy(&decoded.stderr));
    parse_lines(&String::from_utf8(decoded.stdout).unwrap())
}

/// Whether `s` is Python's `datetime.now(UTC).isoformat()`:
/// `2026-11-30T19:39:34.218110+00:00`.
fn is_python_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 32
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..26)
        && &s[26..] == "+00:00"
}

fn set<'a>(keys: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    keys.into_iter().collect()
}

/// Checks `ours` against `python`, objects of the same role: keys in the
/// same order (`extra` are ours alone, wherever they are; `missing` Python's
/// alone), the same type for every shared key, and the same value but for
/// the keys in `varies`.
fn same_object(what: &str, python: &Ordered, ours: &Ordered, extra: &[&str], missing: &[&str], varies: &[&str]) {
    let python_keys: Vec<&str> = python.keys().into_iter().filter(|k| !missing.contains(k)).collect();
    let our_keys: Vec<&str> = ours.keys().into_iter().filter(|k| !extra.contains(k)).collect();
    assert_eq!(our_keys, python_keys, "{what}: keys");
    assert_eq!(
        set(ours.keys()).difference(&set(python.keys())).copied().collect::<BTreeSet<_>>(),
        set(extra.iter().copied()),
        "{what}: the keys only lmlog writes"
    );
    assert_eq!(
        set(python.keys()).difference(&set(ours.keys())).copied().collect::<BTreeSet<_>>(),
        set(missing.iter().copied()),
        "{what}: the keys only Python writes"
    );
    for key in python_keys {
        let (p, o) = (python.at(key), ours.at(key));
        assert_eq!(o.kind(), p.kind(), "{what}.{key}: type of {o:?} and {p:?}");
        if !varies.contains(&key) {
            assert_eq!(o, p, "{what}.{key}");
        }
    }
}

#[test]
fn lines_have_the_python_packages_layout() {
    let dir = TempDir::new("pyshape");
    let python = python_lines();
    let ours = lmlog_lines(dir.path());

    // Python ends a failed operation with `operation_error` and then
    // `operation_end` too; lmlog with `operation_error` alone. The last
    // seven of lmlog's lines have no Python counterpart (baggage, which the
    // Python package cannot encode, a numeric entity id, nested operations).
    let event_type = |l: &Ordered| l.at("event_type").str().to_owned();
    let python: Vec<&Ordered> = python
        .iter()
        .filter(|l| !(event_type(l) == "operation_end" && l.at("correlation").at("operation_id").str() == "refund"))
        .collect();
    assert_eq!(ours.len(), python.len() + 7);
    let types: Vec<String> = python.iter().map(|l| event_type(l)).collect();
    assert_eq!(ours[..python.len()].iter().map(event_type).collect::<Vec<_>>(), types);

    for (p, o) in python.iter().zip(&ours) {
        let what = event_type(p);
        // The global context was set around `config_loaded` only: both
        // lines have it there, between `resource` and what follows, with
        // the same keys and values.
        if p.get("global_context").is_some() || o.get("global_context").is_some() {
            assert_eq!(what, "config_loaded");
            assert_eq!(p.keys()[..4], ["timestamp", "source", "resource", "global_context"]);
            same_object(
                &format!("{what}.global_context"),
                p.at("global_context"),
                o.at("global_context"),
                &[],
                &[],
                &[],
            );
        }
        same_object(&what, p, o, &[], &[], &["timestamp", "source", "resource", "correlation", "trace", "context"]);

        for line in [p, o] {
            let ts = line.at("timestamp").str();
            assert!(is_python_timestamp(ts), "{what}: timestamp {ts}");
        }
        same_object(&format!("{what}.source"), p.at("source"), o.at("source"), &[], &[], &["file", "line", "function"]);
        same_object(
            &format!("{what}.resource"),
            p.at("resource"),
            o.at("resource"),
            &["process.executable.name", "process.executable.path", "host.arch", "os.type"],
            &["service.version", "host.type", "os.name"],
            &["service.instance.id", "process.pid", "telemetry.sdk.language", "telemetry.sdk.version"],
        );
        assert_eq!(o.at("resource").at("telemetry.sdk.language").str(), "rust");

        if let Some(pc) = p.get("correlation") {
            let in_operation = pc.get("operation_id").is_some();
            let extra: &[&str] = if in_operation { &["lmlog.operation.id"] } else { &[] };
            same_object(
                &format!("{what}.correlation"),
                pc,
                o.at("correlation"),
                extra,
                &[],
                &["span_name", "span_kind"],
            );
        }
        if let Some(pt) = p.get("trace") {
            let ot = o.at("trace");
            same_object(&format!("{what}.trace"), pt, ot, &[], &[], &["span_name", "span_kind"]);
            assert_eq!(ot.at("trace_id").str(), "4bf92f3577b34da6a3ce929d0e0e4736");
            for key in ot.keys() {
                assert_eq!(o.at("correlation").at(key), ot.at(key), "{what}: correlation repeats the trace's {key}");
            }
        }
        if let Some(pc) = p.get("context") {
            let oc = o.at("context");
            let (extra, varies): (&[&str], &[&str]) = match what.as_str() {
                "operation_end" | "operation_error" => (&["outcome"], &["duration_ms"]),
                "exception" => (&["sources"], &["exception_type", "traceback"]),
                _ => (&[], &[]),
            };
            // Key order inside `context` follows each logger's own field
            // order: compared as sets, through `same_object` on sorted copies.
            let sorted = |c: &Ordered| {
                let mut entries = match c {
                    Ordered::Object(e) => e.clone(),
                    other => panic!("{what}: context {other:?}"),
                };
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Ordered::Object(entries)
            };
            same_object(&format!("{what}.context"), &sorted(pc), &sorted(oc), extra, &[], varies);
            if what == "exception" {
                assert!(oc.at("exception_type").str().ends_with("::ChargeError"), "{oc:?}");
                assert_eq!(oc.at("sources"), &Ordered::Array(vec![Ordered::Scalar(json!("connection reset by peer"))]));
            }
            if what.starts_with("operation_") {
                assert_eq!(oc.keys()[0], "operation_id", "{what}: Python puts operation_id first");
            }
        }
    }
}

#[test]
fn baggage_entity_ids_and_unset_fields_take_the_python_forms() {
    let dir = TempDir::new("pyshape-extra");
    let ours = lmlog_lines(dir.path());
    let [.., with_baggage, invoice, _, _, _, _, _] = ours.as_slice() else { panic!("too few lines") };

    assert_eq!(with_baggage.at("event_type").str(), "tenant_resolved");
    let baggage = Ordered::Object(vec![("tenant".into(), Ordered::Scalar(json!("acme")))]);
    assert_eq!(with_baggage.at("trace").keys().last(), Some(&"baggage"));
    assert_eq!(with_baggage.at("trace").at("baggage"), &baggage);
    assert_eq!(with_baggage.at("correlation").at("baggage"), &baggage);

    // A number is written as Python's `str(entity_id)`; a `None` field is
    // left out, and so is a `context` left empty.
    assert_eq!(invoice.at("event_type").str(), "invoice_sent");
    assert_eq!(invoice.at("entity_id"), &Ordered::Scalar(json!("9001")));
    assert_eq!(invoice.keys(), ["timestamp", "source", "resource", "event_type", "level", "entity_type", "entity_id"]);
}

#[test]
fn the_shape_does_not_combine_with_other_formats() {
    let dir = TempDir::new("pyshape-usage");
    let path = dir.path().join("none.lmlog");
    for format in ["pretty", "logfmt", "otel-json"] {
        let output = decode_command().args(["--shape", "lmlog-py", "--format", format]).arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "--format {format}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--shape lmlog-py shapes JSON Lines"), "{stderr}");
    }
}

#[test]
fn a_nested_operation_adds_its_fields_to_the_enclosing_ones() {
    let dir = TempDir::new("pyshape-nested");
    let ours = lmlog_lines(dir.path());
    let [.., outer_start, inner_start, picked, inner_end, outer_end] = ours.as_slice() else { panic!("too few lines") };
    let types: Vec<&str> =
        [outer_start, inner_start, picked, inner_end, outer_end].map(|l| l.at("event_type").str()).to_vec();
    assert_eq!(types, ["operation_start", "operation_start", "item_picked", "operation_end", "operation_end"]);
    let id = |l: &Ordered| match l.at("correlation").at("lmlog.operation.id") {
        Ordered::Scalar(Value::Number(n)) => n.as_u64().unwrap(),
        other => panic!("{other:?}"),
    };
    let (outer, inner) = (id(outer_start), id(inner_start));
    assert_ne!(outer, inner);

    // As Python's nested `operation_context`: the enclosing operation's
    // fields, the inner one's `operation_id`, its fields overriding.
    let s = |v: &str| Ordered::Scalar(json!(v));
    let n = |v: u64| Ordered::Scalar(json!(v));
    let correlation = Ordered::Object(vec![
        ("operation_id".into(), s("pick")),
        ("warehouse".into(), s("w1")),
        ("priority".into(), s("high")),
        ("lmlog.operation.id".into(), n(inner)),
        ("lmlog.operation.parent_id".into(), n(outer)),
    ]);
    for line in [inner_start, picked, inner_end] {
        assert_eq!(line.at("correlation"), &correlation, "{line:?}");
    }
    // An end's context holds its own start fields only, as Python's.
    assert_eq!(inner_end.at("context").keys(), ["operation_id", "priority", "duration_ms", "outcome"]);
    assert_eq!(inner_end.at("context").at("priority"), &s("high"));
    assert_eq!(
        outer_end.at("correlation"),
        &Ordered::Object(vec![
            ("operation_id".into(), s("fulfilment")),
            ("warehouse".into(), s("w1")),
            ("priority".into(), s("low")),
            ("lmlog.operation.id".into(), n(outer)),
        ])
    );
}
