//! Per-call-site sampling and rate limits (`lmlog-scenario sampling`):
//! for every call site, the events kept plus the `lmlog.sampled_out`
//! counts equal the events emitted, exactly, across threads that exited
//! and one still alive at shutdown; the kept share of `sample: 0.1` is
//! binomial; a rate limit keeps at most its number per window and keeps
//! events again in the next window.

use std::collections::BTreeMap;

use crate::support::{decode_lines, scenario_output, TempDir};

#[test]
fn kept_and_sampled_out_add_up_to_emitted_for_every_call_site() {
    let dir = TempDir::new("sampling");
    let path = dir.path().join("sampling.lmlog");
    let emitted: BTreeMap<String, u64> =
        serde_json::from_str(&scenario_output(&["sampling", path.to_str().unwrap()])).unwrap();
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);

    let mut kept: BTreeMap<String, u64> = BTreeMap::new();
    let mut sampled: BTreeMap<String, u64> = BTreeMap::new();
    let mut reports = 0;
    for line in &lines {
        let event_type = line["event_type"].as_str().unwrap();
        if event_type == "lmlog.sampled_out" {
            reports += 1;
            let fields = &line["fields"];
            assert_eq!(line["level"], "info");
            assert!(fields["file"].as_str().unwrap().ends_with("sampling.rs"), "{line}");
            assert!(fields["module"].as_str().unwrap().ends_with("sampling"), "{line}");
            assert!(fields["line"].as_u64().unwrap() > 0, "{line}");
            let count = fields["count"].as_u64().unwrap();
            assert!(count > 0, "a report counts something: {line}");
            let site = fields["event_type"].as_str().unwrap();
            let message =
                format!("{count} {site} events sampled out at {}:{}", fields["file"].as_str().unwrap(), fields["line"]);
            assert_eq!(line["message"], message.as_str());
            *sampled.entry(site.to_owned()).or_default() += count;
        } else {
            *kept.entry(event_type.to_owned()).or_default() += 1;
        }
    }
    assert!(reports > 0);
    for (event_type, &emitted) in &emitted {
        let (k, s) = (kept.get(event_type).copied().unwrap_or(0), sampled.get(event_type).copied().unwrap_or(0));
        assert_eq!(k + s, emitted, "{event_type}: {k} kept + {s} sampled out");
    }
    assert_eq!(kept.keys().collect::<Vec<_>>(), emitted.keys().collect::<Vec<_>>(), "no other event");

    // `sample: 0.1` over 112,500 events: mean 11,250, sigma about 100.6;
    // outside 5 sigma about once in 1.7 million runs.
    let n = emitted["cache_miss"] as f64;
    let (mean, sigma) = (n * 0.1, (n * 0.1 * 0.9).sqrt());
    let k = kept["cache_miss"] as f64;
    assert!((k - mean).abs() < 5.0 * sigma, "cache_miss kept {k} of {n}");
    // The derive's `sample = 0.5` over 900 events: sigma 15.
    let k = kept["order_seen"] as f64;
    assert!((k - 450.0).abs() < 75.0, "order_seen kept {k} of 900");
    // An error site without options keeps every event.
    assert_eq!(sampled.get("worker_done"), None);

    // `rate_limit: 2`, process-wide: the 90 `burst` events, logged back to
    // back by 9 threads one after the other (well within a few seconds),
    // keep 2 per window.
    assert!((2..=8).contains(&kept["burst"]), "burst kept {}", kept["burst"]);
    // The main thread's two rounds of 5, 1.1 s apart, each keep 2 (3 or 4
    // when a round straddles a window boundary): the limit lets events
    // through again after its window.
    assert!((4..=8).contains(&kept["window"]), "window kept {}", kept["window"]);
}

/// `lmlog::stats()` after `flush()` in a process whose threads dropped
/// events (small buffers, `Overflow::Drop`) and sampled some out: the
/// counts add up to the events emitted, and each agrees with the file.
#[test]
fn stats_add_up_after_flush_and_agree_with_the_file() {
    let dir = TempDir::new("sampling-stats");
    let path = dir.path().join("stats.lmlog");
    let stats: serde_json::Value = serde_json::from_str(&scenario_output(&["stats", path.to_str().unwrap()])).unwrap();
    let get = |key: &str| stats[key].as_u64().unwrap_or_else(|| panic!("no {key} in {stats}"));
    assert_eq!(get("emitted"), get("expected_emitted"), "{stats}");
    assert_eq!(get("written") + get("sampled_out") + get("dropped"), get("emitted"), "{stats}");
    assert!(get("dropped") > 0, "the small buffers dropped events: {stats}");
    assert_eq!((get("sink_errors"), get("held_events")), (0, 0), "{stats}");
    assert!(get("staging_high_water_bytes") > 0 && get("writer_busy_permille") <= 1000, "{stats}");

    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let sum = |event_type: &str, field: &str| -> u64 {
        lines.iter().filter(|l| l["event_type"] == event_type).map(|l| l["fields"][field].as_u64().unwrap()).sum()
    };
    let kept = lines.iter().filter(|l| !l["event_type"].as_str().unwrap().starts_with("lmlog.")).count() as u64;
    // The file holds what was written before the flush; nothing was
    // emitted after it.
    assert_eq!(kept, get("written"), "{stats}");
    assert_eq!(sum("lmlog.sampled_out", "count"), get("sampled_out"), "{stats}");
    assert_eq!(sum("lmlog.dropped", "count"), get("dropped"), "{stats}");
    assert!(get("bytes_written") > 0 && get("bytes_written") <= std::fs::metadata(&path).unwrap().len(), "{stats}");
}
