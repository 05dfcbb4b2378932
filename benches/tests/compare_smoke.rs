//! The comparison harness runs end to end on tiny sizes and reports exact
//! event counts with nothing dropped. Timings are not checked: they are
//! meaningless in a debug build on a shared machine.

use std::process::Command;

#[test]
fn quick_run_reports_every_scenario_with_exact_counts() {
    let json = std::env::temp_dir().join(format!("lmlog-compare-smoke-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(["--quick", "--only", "lmlog,ticklog", "--json"])
        .arg(&json)
        .output()
        .expect("run compare");
    assert!(output.status.success(), "compare failed: {}", String::from_utf8_lossy(&output.stderr));
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(markdown.contains("### Targets"), "{markdown}");

    let rows: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).ok();
    let row = |logger: &str, scenario: &str| {
        rows.iter()
            .find(|r| r["logger"] == logger && r["scenario"] == scenario)
            .unwrap_or_else(|| panic!("no row for {logger} {scenario}"))
    };
    for logger in ["lmlog", "ticklog"] {
        for scenario in ["paced_3_fields", "paced_8_fields"] {
            let r = row(logger, scenario);
            assert_eq!(r["events"], 20_000 + 5_000, "{logger} {scenario}: warm-up plus samples");
            assert_eq!(r["dropped"], 0, "{logger} {scenario}");
            assert!(r["median_ns"].as_f64().unwrap() <= r["p99_ns"].as_f64().unwrap());
            assert!(r["p99_ns"].as_f64().unwrap() <= r["max_ns"].as_f64().unwrap());
        }
        for scenario in ["saturated_1", "saturated_2"] {
            let r = row(logger, scenario);
            assert_eq!(r["events"], 20_000, "{logger} {scenario}");
            assert_eq!(r["dropped"], 0, "{logger} {scenario}");
            assert!(r["events_per_sec"].as_f64().unwrap() > 0.0);
            assert!(r["bytes_per_event"].as_f64().unwrap() > 0.0);
        }
        assert!(row(logger, "disabled")["median_ns"].as_f64().is_some());
    }
    // lmlog's own rows: every rejected event accounted for in the file,
    // paced or back to back; no disabled event written.
    for scenario in ["sampled_rejected", "sampled_rejected_batched", "disabled_paced"] {
        let r = row("lmlog", scenario);
        assert_eq!(r["dropped"], 0, "lmlog {scenario}");
        assert!(r["mean_below_p99_ns"].as_f64().is_some(), "lmlog {scenario}");
    }
    let decode = row("lmlog", "decode");
    assert_eq!(decode["events"], 20_000, "every record decoded");
    assert!(decode["json_mb_per_sec"].as_f64().unwrap() > 0.0);
}
