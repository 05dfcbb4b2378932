//! A sink that fails: with the spill buffer, what it did not take is
//! written late, in order, and the outage is reported in the stream; with
//! the spill buffer off, what the writer could not deliver is reported, and
//! everything after the failure decodes, including records of call sites
//! and threads whose descriptions were in the lost batches
//! (`lmlog-scenario failing-sink`, `failing-rotation`).

use std::collections::BTreeSet;

use crate::support::{decode_lines, frame_gaps, run_scenario, TempDir};

/// Bytes of spill buffer that hold every batch of these scenarios.
const ROOMY: &str = "67108864";

#[test]
fn a_failing_sink_gets_the_held_batches_late_and_in_order_and_the_outage_is_reported() {
    let dir = TempDir::new("failing-sink-spill");
    let path = dir.path().join("failing.lmlog");
    run_scenario(&["failing-sink", path.to_str().unwrap(), ROOMY]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let steady: Vec<u64> = lines
        .iter()
        .filter(|l| l["event_type"] == "steady")
        .map(|l| l["fields"]["round"].as_u64().unwrap() * 1000 + l["fields"]["i"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (0..10).flat_map(|r| (0..100).map(move |i| r * 1000 + i)).collect();
    assert_eq!(steady, expected, "every round, in order");
    let rounds = |event: &str| -> Vec<u64> {
        lines.iter().filter(|l| l["event_type"] == event).map(|l| l["fields"]["round"].as_u64().unwrap()).collect()
    };
    assert_eq!(rounds("late_site"), [3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(rounds("from_late_thread"), [3, 4, 5, 6, 7, 8, 9]);
    // One report, after the held rounds, before round 6: nothing lost, the
    // failed writes (three, and the breaker's trial if it came before the
    // scenario made the sink work again), and the 3 × 102 events written
    // late.
    let position = lines.iter().position(|l| l["event_type"] == "lmlog.writer_loss").unwrap();
    assert_eq!(lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").count(), 1);
    let loss = &lines[position]["fields"];
    assert_eq!((loss["events"].as_u64(), loss["frames"].as_u64()), (Some(0), Some(0)));
    assert!(loss["failed_writes"].as_u64().unwrap() >= 3, "{loss}");
    assert_eq!(loss["delayed_events"].as_u64(), Some(306));
    assert_eq!(loss["dropped_end"], "none");
    assert_eq!(lines[position - 1]["fields"]["round"], 5);
    assert_eq!(lines[position + 1]["fields"]["round"], 6);
}

#[test]
fn without_a_spill_a_failing_sink_loses_only_its_batches_and_says_so() {
    let dir = TempDir::new("failing-sink");
    let path = dir.path().join("failing.lmlog");
    run_scenario(&["failing-sink", path.to_str().unwrap(), "0"]);
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
    // Rounds 3, 4 and 5: 100 steady events, one of the late call site and
    // one from the late thread each.
    assert_eq!(losses[0]["fields"]["events"].as_u64(), Some(3 * 102));
    let gaps = frame_gaps(&summary);
    assert_eq!(gaps, [(lost_frames, true)], "one gap, exactly the frames the writer reports lost");
}

/// A loss pending when the sink rotates is reported in the file it
/// concerns, before that file's end; a new file whose first write (preamble,
/// session, schemas) is lost is started again, so it still decodes on its
/// own (`lmlog-scenario failing-rotation`).
#[test]
fn losses_around_a_rotation_stay_in_their_files_and_a_lost_file_start_is_written_again() {
    let dir = TempDir::new("failing-rotation");
    run_scenario(&["failing-rotation", dir.path().to_str().unwrap(), "0"]);
    let decode = |index: u32| {
        let (lines, summary) = decode_lines(&dir.path().join(format!("app.lmlog.{index}")));
        assert!(summary.is_clean(), "file {index}: {:?}", summary.diagnostics);
        assert_eq!(summary.files, 1, "file {index} holds one preamble");
        let rounds: BTreeSet<u64> = lines
            .iter()
            .filter(|l| l["event_type"] == "step")
            .map(|l| l["fields"]["round"].as_u64().unwrap())
            .collect();
        let losses = lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").count();
        (rounds, losses, summary.clean_end)
    };
    // Round 0 went through; round 1 was lost and is reported before the
    // file ends for the rotation.
    let (rounds, losses, ended) = decode(0);
    assert_eq!(rounds, BTreeSet::from([0]));
    assert_eq!(losses, 1);
    assert!(ended, "the rotated file ends with an end frame");
    // Round 2 was lost with the new file's start; the file starts again
    // and reports it; round 3 went through.
    let (rounds, losses, ended) = decode(1);
    assert_eq!(rounds, BTreeSet::from([3]));
    assert_eq!(losses, 1);
    assert!(ended);
}

/// With the spill buffer, nothing is lost around a rotation: the rotation
/// waits until the held batch reached the file it belongs to, and a new
/// file whose first write failed gets it late, whole.
#[test]
fn held_batches_around_a_rotation_land_in_their_files() {
    let dir = TempDir::new("failing-rotation-spill");
    run_scenario(&["failing-rotation", dir.path().to_str().unwrap(), ROOMY]);
    for (index, expected) in [(0, [0, 1]), (1, [2, 3])] {
        let (lines, summary) = decode_lines(&dir.path().join(format!("app.lmlog.{index}")));
        assert!(summary.is_clean(), "file {index}: {:?}", summary.diagnostics);
        assert!(summary.clean_end, "file {index}");
        let rounds: BTreeSet<u64> = lines
            .iter()
            .filter(|l| l["event_type"] == "step")
            .map(|l| l["fields"]["round"].as_u64().unwrap())
            .collect();
        assert_eq!(rounds, BTreeSet::from(expected), "file {index}");
        assert_eq!(lines.iter().filter(|l| l["event_type"] == "step").count(), 100, "file {index}");
        let losses: Vec<_> = lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").collect();
        assert_eq!(losses.len(), 1, "file {index}: {losses:?}");
        let loss = &losses[0]["fields"];
        assert_eq!((loss["events"].as_u64(), loss["delayed_events"].as_u64()), (Some(0), Some(50)), "file {index}");
    }
}
