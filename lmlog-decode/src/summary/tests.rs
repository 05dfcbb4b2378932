//! The summary's aggregation on synthesized streams.

use lmlog_format::types::{TypeDesc, VariantDesc, VariantKindDesc};
use lmlog_format::{FieldDesc, Level};
use lmlog_tests::synth::{field, redacted, Rec, Stream, ANCHOR_NANOS};
use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::Decoder;

static USER: TypeDesc = TypeDesc::Struct(
    "User",
    &[
        FieldDesc { name: "id", ty: &TypeDesc::U32, redacted: false },
        FieldDesc { name: "tier", ty: &TypeDesc::Str, redacted: false },
    ],
);

static STATE: TypeDesc = TypeDesc::Enum(
    "State",
    &[
        VariantDesc { name: "Idle", kind: VariantKindDesc::Unit },
        VariantDesc { name: "Busy", kind: VariantKindDesc::Newtype(&TypeDesc::U32) },
    ],
);

fn pc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

/// Decodes `bytes` into a summary; returns its digest.
fn digest(bytes: &[u8]) -> Digest {
    let mut summary = Summary::new();
    let mut decoder = Decoder::new(&mut summary);
    decoder.feed(bytes).unwrap();
    let tally = decoder.finish().unwrap();
    summary.digest(&tally)
}

fn event_type<'d>(d: &'d Digest, name: &str) -> &'d EventTypeDigest {
    d.event_types.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no event type {name}"))
}

fn field_of<'d>(t: &'d EventTypeDigest, path: &str) -> &'d FieldDigest {
    t.fields.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no field {path} in {}", t.name))
}

/// `request` (info, 40 events one millisecond apart: `route` takes two
/// values, `user` is nested, `token` is redacted, `latency_us` counts up,
/// `state` alternates between two variants), `payment_failed` (warn, five
/// events, messages with four distinct amounts) and `started` (error,
/// constant message, twice).
fn stream() -> Vec<u8> {
    let request = [
        field("route", TypeDesc::Str),
        field("latency_us", TypeDesc::U64),
        field("user", USER),
        field("state", STATE),
        field("note", TypeDesc::Option(&TypeDesc::Str)),
        redacted("token", TypeDesc::Str),
    ];
    let payment = [field("amount", TypeDesc::F64)];
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(1, "request", Level::Info, Some("{route} took {latency_us}"), &request)
        .schema(2, "payment_failed", Level::Warn, Some("payment of {amount} failed"), &payment)
        .schema(3, "started", Level::Error, Some("started"), &[]);
    let mut recs = Vec::new();
    for i in 0..40u64 {
        let route = if i % 4 == 0 { "/pay" } else { "/home" };
        let mut body = pc(&(route, i, (i as u32 % 20, "gold")));
        // State: Idle (0) or Busy(i) (1, then the u32).
        body.extend(if i % 2 == 0 { pc(&0u32) } else { pc(&(1u32, i as u32)) });
        body.extend(pc(&None::<&str>));
        recs.push(Rec::new(1, if i == 0 { 0 } else { 1_000_000 }, body));
    }
    s.records(1, 0, &recs);
    let amounts = [12.5f64, 12.5, 7.0, 3.25, 99.0];
    let recs: Vec<Rec> = amounts.iter().map(|a| Rec::new(2, 1, pc(a))).collect();
    s.records(1, 40_000_000, &recs);
    s.records(1, 40_000_010, &[Rec::new(3, 0, vec![]), Rec::new(3, 1, vec![])]);
    s.end();
    s.bytes
}

#[test]
fn counts_per_type_call_site_and_level() {
    let d = digest(&stream());
    assert_eq!(d.events, 47);
    assert_eq!(d.files, 1);
    let names: Vec<&str> = d.event_types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["request", "payment_failed", "started"]);
    let counts: Vec<u64> = d.event_types.iter().map(|t| t.count).collect();
    assert_eq!(counts, [40, 5, 2]);
    let levels: Vec<(Level, u64)> = d.levels.iter().map(|l| (l.level, l.count)).collect();
    assert_eq!(levels, [(Level::Error, 2), (Level::Warn, 5), (Level::Info, 40)]);
    assert_eq!(d.callsites.len(), 3);
    assert_eq!(d.callsites[0].count, 40);
    assert_eq!(
        (d.callsites[0].module.as_str(), d.callsites[0].file.as_str(), d.callsites[0].line),
        ("app", "src/main.rs", 9)
    );
    let first = ANCHOR_NANOS as i128;
    assert_eq!(d.first_unix_nanos, Some(first));
    assert_eq!(d.last_unix_nanos, Some(first + 40_000_011));
    let request = event_type(&d, "request");
    assert_eq!((request.first_unix_nanos, request.last_unix_nanos), (first, first + 39_000_000));
    assert_eq!(d.sessions.len(), 1);
    assert_eq!((d.sessions[0].pid, d.sessions[0].service_name.as_deref()), (42, Some("app")));
    assert_eq!(d.loss, Loss { diagnostics: 0, ..Loss::default() });
}

#[test]
fn field_values_numbers_and_cardinality() {
    let d = digest(&stream());
    let request = event_type(&d, "request");
    let route = field_of(request, "route");
    let values: Vec<(FieldValue, u64)> = route.values.iter().map(|v| (v.value.clone(), v.count)).collect();
    assert_eq!(values, [(FieldValue::Str("/home".into()), 30), (FieldValue::Str("/pay".into()), 10)]);
    assert!(!route.high_cardinality && route.numbers.is_none());

    let latency = field_of(request, "latency_us");
    assert!(latency.high_cardinality && latency.values.is_empty());
    let n = latency.numbers.unwrap();
    assert_eq!((n.count, n.min, n.max, n.mean), (40, Number::Int(0), Number::Int(39), 19.5));

    // Nested: 20 distinct ids (more than the bound), one tier.
    let id = field_of(request, "user.id");
    assert!(id.high_cardinality);
    assert_eq!(id.numbers.unwrap().max, Number::Int(19));
    assert_eq!(
        field_of(request, "user.tier").values,
        [ValueCount { value: FieldValue::Str("gold".into()), count: 40 }]
    );
    assert!(request.fields.iter().all(|f| f.path != "user"), "a struct has no value of its own");

    // An enum's value is its variant's name.
    let state: Vec<(FieldValue, u64)> =
        field_of(request, "state").values.iter().map(|v| (v.value.clone(), v.count)).collect();
    assert_eq!(state, [(FieldValue::Str("Idle".into()), 20), (FieldValue::Str("Busy".into()), 20)]);
    assert_eq!(field_of(request, "note").values, [ValueCount { value: FieldValue::Null, count: 40 }]);
    let token = field_of(request, "token");
    assert_eq!((token.count, token.redacted), (40, 40));
    assert!(token.values.is_empty());

    // Floats: distinct values and numbers.
    let amount = field_of(event_type(&d, "payment_failed"), "amount");
    assert_eq!(amount.values.len(), 4);
    assert_eq!(amount.values[0], ValueCount { value: FieldValue::Float(12.5), count: 2 });
    let n = amount.numbers.unwrap();
    assert_eq!((n.min, n.max), (Number::Float(3.25), Number::Float(99.0)));
}

#[test]
fn first_distinct_messages_of_warn_and_error_types_only() {
    let d = digest(&stream());
    assert_eq!(
        event_type(&d, "payment_failed").messages,
        ["payment of 12.5 failed", "payment of 7.0 failed", "payment of 3.25 failed"]
    );
    assert_eq!(event_type(&d, "started").messages, ["started"]);
    assert!(event_type(&d, "request").messages.is_empty(), "info messages are not kept");
}

#[test]
fn rate_over_the_span_with_its_peak() {
    let d = digest(&stream());
    let rate = d.rate.unwrap();
    assert_eq!(rate.counts.len(), RATE_BUCKETS);
    assert_eq!(rate.counts.iter().sum::<u64>(), 47);
    assert_eq!(rate.start_unix_nanos, ANCHOR_NANOS as i128);
    // 40,000,012 ns in 16 buckets.
    assert_eq!(rate.bucket_nanos, 2_500_001);
    // Three requests per bucket (2.5 ms), and the last holds the seven others too.
    assert_eq!(rate.counts[0], 3);
    assert_eq!(rate.peak, 15);
    assert_eq!(rate.counts[15], 2 + 7);
}

#[test]
fn drops_and_writer_loss_are_counted() {
    let mut s = Stream::standard();
    s.schema(1, "tick", Level::Info, None, &[]);
    s.records(
        1,
        0,
        &[Rec::new(1, 0, vec![]), Rec::new(0, 5, vec![7]), Rec::new(1, 1, vec![]), Rec::new(0, 1, vec![2])],
    );
    s.loss(3, 4096, "sink failed", ANCHOR_NANOS + 100);
    let d = digest(&s.bytes);
    assert_eq!(d.events, 5);
    assert_eq!((d.loss.dropped_events, d.loss.drop_reports), (9, 2));
    assert_eq!((d.loss.writer_lost_frames, d.loss.writer_lost_bytes, d.loss.writer_loss_reports), (3, 4096, 1));
    let dropped = event_type(&d, crate::DROPPED_EVENT_TYPE);
    assert!(dropped.builtin);
    assert_eq!(dropped.messages, ["7 events dropped: staging buffer full", "2 events dropped: staging buffer full"]);
    let lost = event_type(&d, crate::WRITER_LOSS_EVENT_TYPE);
    assert_eq!(
        field_of(lost, "reason").values,
        [ValueCount { value: FieldValue::Str("sink failed".into()), count: 1 }]
    );
    let text = d.to_text();
    assert!(text.contains("loss: 9 events dropped by the runtime (2 lmlog.dropped reports)"), "{text}");
    assert!(text.contains("the writer lost 0 events (3 frames, 4096 bytes; 1 lmlog.writer_loss report)"), "{text}");
    // No end frame: a note, not damage.
    assert!(text.contains("no damage; 1 note"), "{text}");
}

#[test]
fn a_record_that_does_not_decode_is_not_counted() {
    let mut s = Stream::standard();
    s.schema(1, "named", Level::Info, None, &[field("name", TypeDesc::Str)]);
    // The second record's string runs past the frame.
    s.records(1, 0, &[Rec::new(1, 0, pc(&"ok")), Rec::new(1, 1, vec![9, b'x'])]);
    let d = digest(&s.bytes);
    assert_eq!(d.events, 1);
    let named = event_type(&d, "named");
    assert_eq!(named.count, 1);
    assert_eq!(field_of(named, "name").count, 1);
    assert_eq!((d.loss.damage, d.loss.bad_records), (1, 1));
}

#[test]
fn several_files_are_summed_and_their_sessions_merged() {
    let one = stream();
    let mut bytes = one.clone();
    bytes.extend_from_slice(&one);
    let d = digest(&bytes);
    assert_eq!((d.files, d.events), (2, 94));
    assert_eq!(event_type(&d, "request").count, 80);
    assert_eq!(d.callsites[0].count, 80);
    assert_eq!(d.callsites.len(), 3, "the same call sites in both files");
    assert_eq!(d.sessions.len(), 1);
    assert_eq!(d.sessions[0].sessions, 2);
}

/// A stream with 300 event types, long names, long messages and many fields.
fn wide_stream() -> Vec<u8> {
    let names: Vec<String> = (0..300).map(|i| format!("event_type_with_a_rather_long_name_number_{i:03}")).collect();
    let fields: Vec<FieldDesc> = (0..40)
        .map(|i| field(crate::summary::tests::leak_str(format!("field_with_a_long_name_{i:02}")), TypeDesc::Str))
        .collect();
    let fields = lmlog_tests::synth::leak(fields);
    let mut s = Stream::standard();
    for (i, name) in names.iter().enumerate() {
        let id = i as u32 + 1;
        let level = if i % 2 == 0 { Level::Error } else { Level::Info };
        s.schema(id, name, level, Some("{field_with_a_long_name_00} went wrong in a long way"), fields);
        let recs: Vec<Rec> = (0..(300 - i))
            .map(|n| {
                let mut body = Vec::new();
                for f in 0..40 {
                    body.extend(pc(&format!("{}-value-{n}-{f}", "long ".repeat(20))));
                }
                Rec::new(id, 1, body)
            })
            .collect();
        s.records(1, i as u64 * 1000, &recs);
    }
    s.bytes
}

fn leak_str(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn the_text_stays_within_its_budget_and_says_what_it_left_out() {
    let d = digest(&wide_stream());
    assert_eq!(d.event_types.len(), digest::MAX_EVENT_TYPES);
    assert_eq!(d.event_types_left_out.count, 250);
    let text = d.to_text();
    assert!(text.len() <= TEXT_BUDGET, "{} bytes:\n{text}", text.len());
    let heading = text.lines().find(|l| l.starts_with("event types: ")).unwrap();
    let shown: usize = heading["event types: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(shown >= 1, "{heading}");
    let left: u64 = d.event_types.iter().skip(shown).map(|t| t.count).sum::<u64>() + d.event_types_left_out.events;
    assert!(heading.ends_with(&format!("of 300 ({} more with {left} events)", 300 - shown)), "{heading}");
    assert!(text.lines().any(|l| l.starts_with("call sites: ")), "{text}");
    assert!(text.contains("more fields"), "{text}");
    // Every line is cut, and messages are quoted on one line.
    assert!(text.lines().all(|l| l.len() <= 200 + '…'.len_utf8()));
}

#[test]
fn json_is_one_document_that_agrees_with_the_digest() {
    let bytes = stream();
    let d = digest(&bytes);
    let v: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(v["events"], 47);
    assert_eq!(v["first"], crate::format_timestamp(ANCHOR_NANOS as i128));
    assert_eq!(v["levels"]["warn"], 5);
    assert_eq!(v["event_types"][0]["event_type"], "request");
    assert_eq!(v["event_types"][0]["count"], 40);
    let fields = v["event_types"][0]["fields"].as_array().unwrap();
    let route = fields.iter().find(|f| f["path"] == "route").unwrap();
    assert_eq!(route["values"][0], serde_json::json!({"value": "/home", "count": 30}));
    let latency = fields.iter().find(|f| f["path"] == "latency_us").unwrap();
    assert_eq!((&latency["min"], &latency["max"], &latency["mean"]), (&0.into(), &39.into(), &19.5.into()));
    assert_eq!(latency["high_cardinality"], true);
    assert_eq!(v["event_types"][1]["messages"][2], "payment of 3.25 failed");
    assert_eq!(v["rate"]["counts"].as_array().unwrap().len(), RATE_BUCKETS);
    assert_eq!(v["callsites"][0]["line"], 9);
    assert_eq!(v["sessions"][0]["service_name"], "app");
    assert_eq!(v["loss"]["dropped_events"], 0);
    // Large logs too.
    let wide: Value = serde_json::from_str(&digest(&wide_stream()).to_json()).unwrap();
    assert_eq!(wide["event_types_left_out"]["count"], 250);
}

#[test]
fn an_empty_stream_has_an_empty_digest() {
    let d = digest(&lmlog_format::frame::preamble());
    assert_eq!(d.events, 0);
    assert!(d.rate.is_none() && d.first_unix_nanos.is_none());
    assert_eq!(d.to_text(), "lmlog summary: 0 events in 1 file (12 bytes)\nloss: no events dropped; nothing lost by the writer; no damage\n");
    let v: Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(v["first"], Value::Null);
}

#[test]
fn messages_stop_being_rendered_when_they_keep_repeating() {
    // Two amounts alternate; a third comes at event `third`.
    let digest_with_third_at = |third: usize| {
        let mut s = Stream::standard();
        s.schema(1, "slow", Level::Warn, Some("took {ms}"), &[field("ms", TypeDesc::U32)]);
        let recs: Vec<Rec> =
            (0..3000).map(|i| Rec::new(1, 1, pc(&(if i == third { 99u32 } else { i as u32 % 2 })))).collect();
        s.records(1, 0, &recs);
        digest(&s.bytes)
    };
    assert_eq!(event_type(&digest_with_third_at(500), "slow").messages, ["took 0", "took 1", "took 99"]);
    // After 1,024 repeats in a row, no more rendering: the third is not seen.
    let late = digest_with_third_at(2000);
    let slow = event_type(&late, "slow");
    assert_eq!(slow.messages, ["took 0", "took 1"]);
    // Its fields still are.
    assert_eq!(field_of(slow, "ms").values.len(), 3);
}

/// Times, addresses and UUIDs are counted by their text; a duration is a number.
#[test]
fn new_field_types_are_counted_by_their_text() {
    let fields = [
        field("at", TypeDesc::Timestamp),
        field("peer", TypeDesc::SocketAddr),
        field("id", TypeDesc::Uuid),
        field("elapsed", TypeDesc::Quantity("ns", &TypeDesc::U128)),
    ];
    let mut s = Stream::standard();
    s.schema(1, "request", Level::Info, None, &fields);
    let recs: Vec<Rec> = (0..3u128)
        .map(|i| {
            let mut body = pc(&0i128);
            body.extend([4, 10, 0, 0, 1, 0xbb, 0x03]);
            body.extend([0xab; 16]);
            body.extend(pc(&(1000 + i)));
            Rec::new(1, 1, body)
        })
        .collect();
    s.records(0, 0, &recs).end();
    let d = digest(&s.bytes);
    let request = event_type(&d, "request");
    let text = |path: &str| field_of(request, path).values.iter().map(|v| v.value.clone()).collect::<Vec<_>>();
    assert_eq!(text("at"), [FieldValue::Str("1970-01-01T00:00:00.000000000Z".into())]);
    assert_eq!(text("peer"), [FieldValue::Str("10.0.0.1:443".into())]);
    assert_eq!(text("id"), [FieldValue::Str("abababab-abab-abab-abab-abababababab".into())]);
    let elapsed = field_of(request, "elapsed").numbers.unwrap();
    assert_eq!((elapsed.min, elapsed.max), (Number::Int(1000), Number::Int(1002)));
}
