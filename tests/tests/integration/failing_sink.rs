//! A sink that fails: what the writer could not deliver is reported in the
//! stream, and everything after the failure decodes, including records of
//! call sites and threads whose descriptions were in the lost batches
//! (`lmlog-scenario failing-sink`).

use std::collections::BTreeSet;

use lmlog_decode::DiagnosticKind;

use crate::support::{decode_lines, run_scenario, TempDir};

#[test]
fn a_failing_sink_loses_only_its_batches_and_says_so() {
    let dir = TempDir::new("failing-sink");
    let path = dir.path().join("failing.lmlog");
    run_scenario(&["failing-sink", path.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "gaps the writer reports are not damage: {:?}", summary.diagnostics);
    // Rounds 3, 4 and 5 were lost whole; every other round is complete.
    let steady: BTreeSet<u64> = lines
        .iter()
        .filter(|l| l["event_type"] == "steady")
        .map(|l| l["fields"]["round"].as_u64().unwrap() * 1000 + l["fields"]["i"].as_u64().unwrap())
        .collect();
    let expected: BTreeSet<u64> =
        [0, 1, 2, 6, 7, 8, 9].iter().flat_map(|r| (0..100).map(move |i| r * 1000 + i)).collect();
    assert_eq!(steady, expected);
    // The call site and the threads first described in lost batches decode later.
    let rounds = |event: &str| -> Vec<u64> {
        lines.iter().filter(|l| l["event_type"] == event).map(|l| l["fields"]["round"].as_u64().unwrap()).collect()
    };
    assert_eq!(rounds("late_site"), [6, 7, 8, 9]);
    assert_eq!(rounds("from_late_thread"), [6, 7, 8, 9]);
    for line in lines.iter().filter(|l| l["event_type"] == "from_late_thread") {
        let round = line["fields"]["round"].as_u64().unwrap();
        assert_eq!(line["thread"]["name"], format!("late-thread-{round}"));
    }
    // One loss report, after round 5, counting every frame of the failed writes.
    let losses: Vec<_> = lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").collect();
    assert_eq!(losses.len(), 1, "{losses:?}");
    let position = lines.iter().position(|l| l["event_type"] == "lmlog.writer_loss").unwrap();
    assert_eq!(lines[position - 1]["fields"]["round"], 2);
    assert_eq!(lines[position + 1]["fields"]["round"], 6);
    assert!(losses[0]["fields"]["reason"].as_str().unwrap().contains("no space left on device"));
    let lost_frames = losses[0]["fields"]["frames"].as_u64().unwrap();
    let gaps: Vec<_> = summary
        .diagnostics
        .iter()
        .filter_map(|d| match d.kind {
            DiagnosticKind::MissingFrames { expected, found, reported_by_writer } => {
                Some((u64::from(found - expected), reported_by_writer))
            }
            _ => None,
        })
        .collect();
    assert_eq!(gaps, [(lost_frames, true)], "one gap, exactly the frames the writer reports lost");
}
