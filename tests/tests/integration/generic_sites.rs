//! Several event types through one `lm_event!` in a generic function: each
//! type is recorded or filtered by its own level, whatever order the site
//! meets them in (`lmlog-scenario generic-sites`).

use std::collections::HashMap;

use crate::support::{decode_lines, run_scenario, TempDir};

#[test]
fn every_enabled_type_at_a_generic_site_is_recorded_whatever_came_first() {
    let dir = TempDir::new("generic-sites");
    let log = dir.path().join("generic.lmlog");
    run_scenario(&["generic-sites", log.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&log);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(summary.dropped_events, 0);
    // (function, event type) -> values of n, in order
    let mut seen: HashMap<(String, String), Vec<u64>> = HashMap::new();
    for line in &lines {
        let function = line["source"]["function"].as_str().unwrap().rsplit("::").next().unwrap().to_owned();
        let key = (function, line["event_type"].as_str().unwrap().to_owned());
        seen.entry(key).or_default().push(line["fields"]["n"].as_u64().unwrap());
    }
    let get = |f: &str, t: &str| seen.get(&(f.to_owned(), t.to_owned())).cloned().unwrap_or_default();
    assert_eq!(get("disabled_first", "info_event"), [0, 1, 2], "the disabled type came first");
    assert_eq!(get("enabled_first", "info_event"), [0, 1, 2], "the enabled type came first");
    assert!(get("disabled_first", "debug_event").is_empty() && get("enabled_first", "debug_event").is_empty());
    // Three threads, each type on every fourth step.
    let per_type = 3 * 1000 / 4;
    assert_eq!(get("three_types", "info_event").len(), per_type);
    assert_eq!(get("three_types", "warn_event").len(), per_type);
    assert_eq!(get("three_types", "error_event").len(), per_type);
    assert!(get("three_types", "debug_event").is_empty());
    let levels: Vec<_> =
        lines.iter().filter(|l| l["event_type"] == "error_event").map(|l| l["level"].as_str().unwrap()).collect();
    assert!(levels.iter().all(|&l| l == "error"));
    assert_eq!(lines.len(), 3 + 3 + 3 * per_type);
}
