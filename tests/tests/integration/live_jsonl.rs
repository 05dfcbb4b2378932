//! The runtime's own JSON Lines output (`Config::output_jsonl`): the file
//! holds what `lmlog-decode` would print, complete once the guard is
//! dropped (`lmlog-scenario live-jsonl`).

use crate::support::{run_scenario, TempDir};

#[test]
fn the_live_json_lines_output_holds_every_event() {
    let dir = TempDir::new("live-jsonl");
    let path = dir.path().join("app.jsonl");
    run_scenario(&["live-jsonl", path.to_str().unwrap()]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1 + 2 * 500);
    assert_eq!(lines[0]["message"], "service checkout up");
    assert_eq!(lines[0]["level"], "warn");
    for w in 0..2u64 {
        let steps: Vec<u64> = lines
            .iter()
            .filter(|l| l["event_type"] == "step" && l["fields"]["w"] == w)
            .map(|l| {
                assert_eq!(l["thread"]["name"], format!("jsonl-{w}"));
                l["fields"]["i"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(steps, (0..500).collect::<Vec<_>>(), "worker {w}, in order");
    }
}
