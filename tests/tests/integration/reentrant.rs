//! Logging from inside a value that is being logged
//! (`lmlog-scenario reentrant`): an event emitted by a field's encoder is
//! dropped and counted, the event being logged is written, nothing hangs;
//! an event emitted by a `%` field's `Display` is an ordinary event, since
//! `%` values are formatted before the record is written.

use crate::support::{decode_lines, events_counted_lost, scenario_output_within_watchdog, TempDir};

/// `lmlog-scenario reentrant`'s rounds.
const ROUNDS: u64 = 50;

#[test]
fn events_from_inside_an_encoder_are_counted_and_the_outer_events_written() {
    let dir = TempDir::new("reentrant");
    let path = dir.path().join("reentrant.lmlog");
    scenario_output_within_watchdog(&["reentrant", path.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);

    let on_main: Vec<(String, u64)> = lines
        .iter()
        .filter(|l| l["thread"]["name"] == "main")
        .map(|l| {
            let fields = &l["fields"];
            let n = fields["i"].as_u64().or(fields["n"].as_u64()).expect("a round number");
            (l["event_type"].as_str().unwrap().to_owned(), n)
        })
        .collect();
    let expected: Vec<(String, u64)> = (0..ROUNDS)
        .flat_map(|i| {
            ["outer_value", "from_inside_display", "outer_display", "plain"].map(|event| (event.to_owned(), i))
        })
        .collect();
    assert_eq!(on_main, expected, "every event but those from inside an encoder, in order");
    for line in &lines {
        match line["event_type"].as_str().unwrap() {
            "outer_value" => assert_eq!(line["fields"]["inner"], line["fields"]["i"]),
            "outer_display" => assert_eq!(line["fields"]["shown"], format!("shown-{}", line["fields"]["i"])),
            _ => {}
        }
    }

    // Each inner event of an encoder counted once, as the writer reports it.
    assert_eq!(events_counted_lost(&lines), ROUNDS);
    assert_eq!(summary.dropped_events, 0);
    let losses: Vec<&str> = lines
        .iter()
        .filter(|l| l["event_type"] == "lmlog.writer_loss")
        .map(|l| l["fields"]["reason"].as_str().unwrap())
        .collect();
    assert!(!losses.is_empty());
    for reason in losses {
        assert!(
            reason.ends_with(" events emitted during thread exit or from inside an encoder were dropped"),
            "{reason}"
        );
    }
}
