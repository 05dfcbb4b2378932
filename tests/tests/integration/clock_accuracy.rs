//! A clock frame's appended tick rate replaces the session's.

use lmlog_decode::{DecodeSummary, Decoder, Item};

/// The Unix nanoseconds of each event of a stream, as decoded.
fn decoded_nanos(bytes: &[u8]) -> (Vec<i128>, DecodeSummary) {
    let mut nanos = Vec::new();
    let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
        if let Item::Event(event) = item {
            nanos.push(event.unix_nanos);
        }
    }));
    decoder.feed(bytes).expect("an intact preamble");
    let summary = decoder.finish().expect("decoding into memory cannot fail");
    (nanos, summary)
}

#[test]
fn a_clock_frames_rate_replaces_the_sessions_and_an_old_clock_frame_keeps_it() {
    use lmlog_format::Level;
    use lmlog_tests::synth::{Rec, Stream, ANCHOR_NANOS};

    let mut s = Stream::standard();
    s.schema(1, "tick", Level::Info, None, &[]);
    // The session's rate, 1 GHz: 1000 ticks after the anchor are 1 µs.
    s.records(1, 1_000, &[Rec::new(1, 0, vec![])]);
    // A measured rate of 2 GHz from this anchor on, for earlier ticks too.
    s.clock_rate(10_000, ANCHOR_NANOS + 10_000, 2e9);
    s.records(1, 8_000, &[Rec::new(1, 0, vec![]), Rec::new(1, 4_000, vec![])]);
    // An anchor without a rate (an older writer's) keeps the rate in force.
    s.clock(20_000, ANCHOR_NANOS + 50_000);
    s.records(1, 22_000, &[Rec::new(1, 0, vec![])]);
    // An unusable rate is reported and ignored; its anchor is taken.
    s.clock_rate(30_000, ANCHOR_NANOS + 90_000, f64::NAN);
    s.records(1, 32_000, &[Rec::new(1, 0, vec![])]);
    s.end();
    let (nanos, summary) = decoded_nanos(&s.bytes);
    let at = |offset: i128| ANCHOR_NANOS as i128 + offset;
    assert_eq!(nanos, [at(1_000), at(9_000), at(11_000), at(51_000), at(91_000)]);
    let diagnostics: Vec<String> = summary.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(diagnostics[0].contains("unusable clock rate of NaN"), "{diagnostics:?}");
}
