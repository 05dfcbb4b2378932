//! Process-wide sampling (`lmlog-scenario process-sampling`): level rates
//! (0 and 1 exact, a binomial share, combined with a site's `sample:`),
//! errors never sampled out unless asked, the adaptive target under a
//! flood that steps down, a `Sampler` with a policy per module, and
//! trace-consistent decisions. In every case, for every call site, the
//! events kept plus the `lmlog.sampled_out` counts equal the events
//! emitted, exactly.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{decode_lines, scenario_output, TempDir};

/// Runs `process-sampling MODE`; returns the events each type emitted,
/// the decoded events (but the sampled-out reports), and the sampled-out
/// count per event type, after checking that kept + sampled out =
/// emitted for every event type, and that no other event is there.
fn run(mode: &str) -> (BTreeMap<String, u64>, Vec<Value>, BTreeMap<String, u64>) {
    let dir = TempDir::new(&format!("process-sampling-{mode}"));
    let path = dir.path().join("sampling.lmlog");
    let emitted: BTreeMap<String, u64> =
        serde_json::from_str(&scenario_output(&["process-sampling", mode, path.to_str().unwrap()])).unwrap();
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    let mut events = Vec::new();
    let mut sampled: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        if line["event_type"] == "lmlog.sampled_out" {
            let count = line["fields"]["count"].as_u64().unwrap();
            assert!(count > 0, "{line}");
            *sampled.entry(line["fields"]["event_type"].as_str().unwrap().to_owned()).or_default() += count;
        } else {
            events.push(line);
        }
    }
    let kept = kept_by_type(&events);
    for (event_type, &n) in &emitted {
        let (k, s) = (kept.get(event_type).copied().unwrap_or(0), sampled.get(event_type).copied().unwrap_or(0));
        assert_eq!(k + s, n, "{event_type}: {k} kept + {s} sampled out");
    }
    let other: Vec<_> = kept.keys().chain(sampled.keys()).filter(|t| !emitted.contains_key(*t)).collect();
    assert!(other.is_empty(), "no other event: {other:?}");
    (emitted, events, sampled)
}

fn kept_by_type(events: &[Value]) -> BTreeMap<String, u64> {
    let mut kept = BTreeMap::new();
    for event in events {
        *kept.entry(event["event_type"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    kept
}

/// Whether `kept` of `n` is within 5 sigma of a binomial share `p`
/// (outside it about once in 1.7 million runs).
fn binomial(kept: u64, n: u64, p: f64) -> bool {
    let (mean, sigma) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    (kept as f64 - mean).abs() < 5.0 * sigma
}

#[test]
fn level_rates_are_exact_at_zero_and_one_binomial_between_and_multiply_with_a_sites_own() {
    let (emitted, events, sampled) = run("levels");
    let kept = kept_by_type(&events);
    let kept = |t: &str| kept.get(t).copied().unwrap_or(0);
    assert_eq!(kept("trace_site"), 0, "rate 0 keeps nothing");
    assert_eq!(sampled["trace_site"], emitted["trace_site"]);
    assert_eq!(kept("info_site"), emitted["info_site"], "rate 1 keeps everything");
    assert_eq!(sampled.get("info_site"), None);
    assert!(binomial(kept("debug_site"), emitted["debug_site"], 0.25), "debug kept {}", kept("debug_site"));
    // `sample: 0.5` at a site whose level keeps 0.25: 0.125.
    assert!(
        binomial(kept("debug_sampled_site"), emitted["debug_sampled_site"], 0.125),
        "{}",
        kept("debug_sampled_site")
    );
    // `warn` and `error` have no rate: all kept, also at a generic site
    // whose other event type is sampled.
    for t in ["warn_site", "error_site", "generic_error"] {
        assert_eq!(kept(t), emitted[t], "{t}");
        assert_eq!(sampled.get(t), None, "{t}");
    }
    assert!(binomial(kept("generic_debug"), emitted["generic_debug"], 0.25), "{}", kept("generic_debug"));
    // A generic site whose first type is not sampled: its sampled second
    // type still is (it leaves the inline path of the first's kind).
    assert_eq!(kept("first_type_error"), 1);
    assert!(binomial(kept("second_type_debug"), emitted["second_type_debug"], 0.25), "{}", kept("second_type_debug"));
}

#[test]
fn the_adaptive_target_holds_a_flood_near_the_target_and_follows_the_load_down() {
    // The scenario's constants: a target of 2,000/s, a flood of 20,000/s
    // for 5 s, then 5,000/s for 5 s.
    const TARGET: f64 = 2_000.0;
    let (emitted, events, sampled) = run("adaptive");
    // Errors are never sampled out by the adaptive target.
    assert_eq!(sampled.get("flood_error"), None);
    assert!(emitted["flood_error"] > 0);
    // Events kept per second of the run (errors included: they count
    // toward the target).
    let mut per_second = [0u64; 10];
    for event in &events {
        let second = (event["fields"]["ms"].as_u64().unwrap() / 1000) as usize;
        per_second[second.min(9)] += 1;
    }
    assert!(per_second[0] as f64 > 2.0 * TARGET, "the first second is not corrected yet: {per_second:?}");
    // Within 3 s of the flood's start and of its step down, each second
    // keeps the target ± 20 %.
    for second in [3, 4, 8, 9] {
        let kept = per_second[second] as f64;
        assert!((kept - TARGET).abs() <= 0.2 * TARGET, "second {second}: {kept} kept; {per_second:?}");
    }
    // Most of the flood was sampled out, and counted.
    assert!(sampled["flood"] > emitted["flood"] / 2, "{sampled:?} of {emitted:?}");
}

#[test]
fn a_sampler_gives_each_module_its_policy() {
    let (emitted, events, sampled) = run("sampler");
    let kept = kept_by_type(&events);
    let kept = |t: &str| kept.get(t).copied().unwrap_or(0);
    assert_eq!(kept("kept_module"), emitted["kept_module"]);
    assert_eq!(kept("dropped_module"), 0);
    assert_eq!(sampled["dropped_module"], emitted["dropped_module"]);
    assert_eq!(kept("dropped_module_error"), emitted["dropped_module_error"], "kept by its event type");
    assert!(binomial(kept("halved_module"), emitted["halved_module"], 0.5), "{}", kept("halved_module"));
    // 5 a second: the loop takes well under a few seconds, so at most a
    // few windows' worth.
    let limited = kept("limited_module");
    assert!((5..=20).contains(&limited), "limited kept {limited}");
    for event in &events {
        let module = event["source"]["module"].as_str().unwrap_or_default();
        let expected = match event["event_type"].as_str().unwrap() {
            "kept_module" => "::kept",
            "halved_module" => "::halved",
            "limited_module" => "::limited",
            "dropped_module_error" => "::dropped",
            other => panic!("{other} should be sampled out"),
        };
        assert!(module.ends_with(expected), "{event}");
    }
}

#[test]
fn a_traces_events_are_kept_or_dropped_together() {
    let (emitted, events, _) = run("trace");
    let mut per_trace: BTreeMap<String, u64> = BTreeMap::new();
    for event in events.iter().filter(|e| e["event_type"] == "traced") {
        *per_trace.entry(event["trace"]["trace_id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let per_trace_events = emitted["traced"] / 40;
    for (trace, &kept) in &per_trace {
        assert_eq!(kept, per_trace_events, "trace {trace}: all of its events or none");
    }
    // Rate 0.5 over 40 traces: some kept, some dropped (all 40 one way
    // about once in 5·10¹¹ runs).
    assert!((1..40).contains(&per_trace.len()), "{} traces kept", per_trace.len());
    // Outside a span, each event is drawn on its own.
    let untraced = events.iter().filter(|e| e["event_type"] == "untraced").count() as u64;
    assert!(binomial(untraced, emitted["untraced"], 0.5), "untraced kept {untraced}");
}
