//! `lmlog::global_context` in a real process (`lmlog-scenario
//! global-context`): every decoded event carries the context in effect
//! when it was emitted, from whichever thread, across rotated files, and
//! no `global_context` key once it is cleared; each file of the series
//! decodes with the context it started with.

use serde_json::{json, Value};

use crate::support::{decode_command, decode_lines, run_scenario, series, TempDir};

fn context(line: &Value) -> Option<&Value> {
    line.get("global_context")
}

#[test]
fn events_carry_the_global_context_in_effect_when_emitted() {
    let dir = TempDir::new("global-context");
    run_scenario(&["global-context", dir.path().to_str().unwrap()]);
    let files = series(dir.path(), "app.lmlog");
    assert!(files.len() >= 3, "the bulk events span several files: {files:?}");

    // The whole series, decoded in one go (the directory).
    let output = decode_command().arg(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_type = |t: &str| lines.iter().find(|l| l["event_type"] == t).unwrap_or_else(|| panic!("no {t}"));
    assert_eq!(context(by_type("started")), Some(&json!({"tier": "gold"})));
    let configured = json!({"region": "eu-west-1", "replicas": 3, "tier": "gold"});
    assert_eq!(context(by_type("configured")), Some(&configured));
    assert_eq!(by_type("from_worker")["thread"]["name"], "worker");
    assert_eq!(context(by_type("from_worker")), Some(&configured));
    assert_eq!(context(by_type("scaled")), Some(&json!({"region": "eu-west-1", "tier": "gold"})));
    let bulk: Vec<&Value> = lines.iter().filter(|l| l["event_type"] == "bulk").collect();
    assert_eq!(bulk.len(), 2000);
    // One thread, in order: its timestamps never go back, also where its
    // ring grew and where the files rotated (the context is looked up by
    // them).
    let times: Vec<&str> = lines.iter().map(|l| l["timestamp"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "timestamps go back: {times:?}");
    for line in &bulk {
        let i = line["fields"]["i"].as_u64().unwrap();
        let expected = if i < 1000 {
            json!({"region": "eu-west-1", "tier": "gold"})
        } else {
            json!({"region": "eu-west-1", "replicas": 5, "tier": "gold"})
        };
        assert_eq!(context(line), Some(&expected), "bulk {i}");
    }
    assert_eq!(context(by_type("cleared")), None, "no key at all once cleared");
    assert_eq!(context(by_type("relabelled")), Some(&json!({"late": true})));

    // Each later file decodes on its own with the context it started with.
    for file in &files[1..] {
        let (lines, summary) = decode_lines(file);
        assert!(summary.is_clean(), "{}: {:?}", file.display(), summary.diagnostics);
        for line in lines.iter().filter(|l| l["event_type"] == "bulk") {
            let i = line["fields"]["i"].as_u64().unwrap();
            let replicas = context(line).and_then(|c| c.get("replicas")).cloned();
            assert_eq!(replicas, (i >= 1000).then(|| json!(5)), "{}: bulk {i}", file.display());
            assert_eq!(context(line).unwrap()["region"], "eu-west-1");
        }
    }

    // The other outputs show it too.
    let logfmt = decode_command().args(["--format", "logfmt"]).arg(dir.path()).output().unwrap();
    let logfmt = String::from_utf8(logfmt.stdout).unwrap();
    let configured = logfmt.lines().find(|l| l.contains("event=configured")).unwrap();
    assert!(
        configured.contains(" global_context.region=eu-west-1 global_context.replicas=3 global_context.tier=gold"),
        "{configured}"
    );
    let otel = decode_command().args(["--format", "otel-json"]).arg(dir.path()).output().unwrap();
    let otel = String::from_utf8(otel.stdout).unwrap();
    let scaled = otel.lines().find(|l| l.contains("\"scaled\"")).unwrap();
    assert!(scaled.contains(r#"{"key":"global_context.region","value":{"stringValue":"eu-west-1"}}"#), "{scaled}");
}
