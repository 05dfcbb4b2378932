//! The event decoder alone: typed fields, messages, built-in events, the
//! other items, and laziness.

use std::collections::BTreeMap;

use lmlog_format::types::{TypeDesc, VariantDesc, VariantKindDesc};
use lmlog_format::varint::push_u64;
use lmlog_format::Level;
use lmlog_tests::synth::{field, redacted, Rec, Stream, ANCHOR_NANOS};
use serde::Serialize;

use super::fields::JsonText;
use super::*;
use crate::output::from_fn;
use crate::{DecodeSummary, Decoder};

/// A visitor that writes down every call.
#[derive(Default)]
struct Log(Vec<String>);

impl<'a> Visitor<'a> for Log {
    fn field(&mut self, name: &'a str) {
        self.0.push(format!("field {name}"));
    }
    fn redacted(&mut self) {
        self.0.push("redacted".into());
    }
    fn bool(&mut self, v: bool) {
        self.0.push(format!("bool {v}"));
    }
    fn u8(&mut self, v: u8) {
        self.0.push(format!("u8 {v}"));
    }
    fn u16(&mut self, v: u16) {
        self.0.push(format!("u16 {v}"));
    }
    fn u32(&mut self, v: u32) {
        self.0.push(format!("u32 {v}"));
    }
    fn u64(&mut self, v: u64) {
        self.0.push(format!("u64 {v}"));
    }
    fn u128(&mut self, v: u128) {
        self.0.push(format!("u128 {v}"));
    }
    fn i8(&mut self, v: i8) {
        self.0.push(format!("i8 {v}"));
    }
    fn i16(&mut self, v: i16) {
        self.0.push(format!("i16 {v}"));
    }
    fn i32(&mut self, v: i32) {
        self.0.push(format!("i32 {v}"));
    }
    fn i64(&mut self, v: i64) {
        self.0.push(format!("i64 {v}"));
    }
    fn i128(&mut self, v: i128) {
        self.0.push(format!("i128 {v}"));
    }
    fn f32(&mut self, v: f32) {
        self.0.push(format!("f32 {v}"));
    }
    fn f64(&mut self, v: f64) {
        self.0.push(format!("f64 {v}"));
    }
    fn char(&mut self, v: char) {
        self.0.push(format!("char {v}"));
    }
    fn str(&mut self, v: &'a str) {
        self.0.push(format!("str {v}"));
    }
    fn bytes(&mut self, v: &'a [u8]) {
        self.0.push(format!("bytes {v:?}"));
    }
    fn unit(&mut self) {
        self.0.push("unit".into());
    }
    fn none(&mut self) {
        self.0.push("none".into());
    }
    fn some(&mut self) {
        self.0.push("some".into());
    }
    fn begin_seq(&mut self, kind: SeqKind, len: usize) {
        self.0.push(format!("begin {kind:?} {len}"));
    }
    fn end_seq(&mut self) {
        self.0.push("end seq".into());
    }
    fn begin_map(&mut self, len: usize) {
        self.0.push(format!("begin map {len}"));
    }
    fn end_map(&mut self) {
        self.0.push("end map".into());
    }
    fn begin_struct(&mut self, name: &'a str) {
        self.0.push(format!("begin struct {name}"));
    }
    fn end_struct(&mut self) {
        self.0.push("end struct".into());
    }
    fn begin_variant(&mut self, enum_name: &'a str, variant: &'a str, index: u32, unit: bool) {
        self.0.push(format!("begin variant {enum_name}::{variant} {index} {unit}"));
    }
    fn end_variant(&mut self) {
        self.0.push("end variant".into());
    }
}

/// Decodes `bytes`, handing every event to `f`; returns the summary.
fn each_event(bytes: &[u8], mut f: impl FnMut(Event<'_>)) -> DecodeSummary {
    let mut decoder = Decoder::new(from_fn(|item| {
        if let Item::Event(e) = item {
            f(e)
        }
    }));
    decoder.feed(bytes).unwrap();
    decoder.finish().unwrap()
}

fn pc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

#[derive(Serialize)]
enum Shape {
    Empty,
    Circle(f64),
    Pair(u8, i8),
    Rect { w: u16, h: u16 },
}

static POINT: TypeDesc = TypeDesc::Struct(
    "Point",
    &[
        lmlog_format::FieldDesc { name: "x", ty: &TypeDesc::I32, redacted: false },
        lmlog_format::FieldDesc { name: "secret", ty: &TypeDesc::Str, redacted: true },
        lmlog_format::FieldDesc { name: "label", ty: &TypeDesc::Str, redacted: false },
    ],
);

static SHAPE: TypeDesc = TypeDesc::Enum(
    "Shape",
    &[
        VariantDesc { name: "Empty", kind: VariantKindDesc::Unit },
        VariantDesc { name: "Circle", kind: VariantKindDesc::Newtype(&TypeDesc::F64) },
        VariantDesc { name: "Pair", kind: VariantKindDesc::Tuple(&[TypeDesc::U8, TypeDesc::I8]) },
        VariantDesc {
            name: "Rect",
            kind: VariantKindDesc::Struct(&[
                lmlog_format::FieldDesc { name: "w", ty: &TypeDesc::U16, redacted: false },
                lmlog_format::FieldDesc { name: "h", ty: &TypeDesc::U16, redacted: false },
            ]),
        },
    ],
);

/// One event with a field of every type, its body, and what [`Log`] sees.
fn every_type() -> (Stream, Vec<String>) {
    let fields = [
        field("b", TypeDesc::Bool),
        field("u8", TypeDesc::U8),
        field("u16", TypeDesc::U16),
        field("u32", TypeDesc::U32),
        field("u64", TypeDesc::U64),
        field("u128", TypeDesc::U128),
        field("i8", TypeDesc::I8),
        field("i16", TypeDesc::I16),
        field("i32", TypeDesc::I32),
        field("i64", TypeDesc::I64),
        field("i128", TypeDesc::I128),
        field("f32", TypeDesc::F32),
        field("f64", TypeDesc::F64),
        field("c", TypeDesc::Char),
        field("s", TypeDesc::Str),
        field("bytes", TypeDesc::Bytes),
        field("unit", TypeDesc::Unit),
        field("none", TypeDesc::Option(&TypeDesc::U8)),
        field("some", TypeDesc::Option(&TypeDesc::Str)),
        field("seq", TypeDesc::Seq(&TypeDesc::U32)),
        field("array", TypeDesc::Array(2, &TypeDesc::Bool)),
        field("tuple", TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::Str])),
        field("map", TypeDesc::Map(&TypeDesc::I16, &TypeDesc::Str)),
        field("point", POINT),
        field("shapes", TypeDesc::Seq(&SHAPE)),
        redacted("pin", TypeDesc::U32),
    ];
    let mut body = Vec::new();
    body.extend(pc(&(true, 255u8, 65535u16, 4_000_000_000u32, u64::MAX, u128::MAX)));
    body.extend(pc(&(-128i8, -300i16, i32::MIN, i64::MIN, i128::MIN)));
    body.extend(pc(&(0.5f32, -12.25f64, 'ß', "tab\there", serde_bytes(&[0xde, 0xad]), ())));
    body.extend(pc(&(None::<u8>, Some("yes"), vec![1u32, 300], [true, false], (9u8, "nine"))));
    body.extend(pc(&BTreeMap::from([(-3i16, "minus"), (7, "seven")])));
    body.extend(pc(&(-4i32, "origin"))); // `point`, whose redacted field has no bytes
    body.extend(pc(&vec![Shape::Empty, Shape::Circle(1.5), Shape::Pair(1, -1), Shape::Rect { w: 3, h: 4 }]));
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(1, "every", Level::Info, Some("s={s} point={point} pin={pin} {nope}"), &fields)
        .records(1, 5, &[Rec::new(1, 0, body)]);
    #[rustfmt::skip]
    let expected = [
        "field b", "bool true", "field u8", "u8 255", "field u16", "u16 65535", "field u32", "u32 4000000000",
        "field u64", "u64 18446744073709551615", "field u128", "u128 340282366920938463463374607431768211455",
        "field i8", "i8 -128", "field i16", "i16 -300", "field i32", "i32 -2147483648", "field i64",
        "i64 -9223372036854775808", "field i128", "i128 -170141183460469231731687303715884105728", "field f32",
        "f32 0.5", "field f64", "f64 -12.25", "field c", "char ß", "field s", "str tab\there", "field bytes",
        "bytes [222, 173]", "field unit", "unit", "field none", "none", "field some", "some", "str yes",
        "field seq", "begin Seq 2", "u32 1", "u32 300", "end seq", "field array", "begin Array 2", "bool true",
        "bool false", "end seq", "field tuple", "begin Tuple 2", "u8 9", "str nine", "end seq", "field map",
        "begin map 2", "i16 -3", "str minus", "i16 7", "str seven", "end map", "field point",
        "begin struct Point", "field x", "i32 -4", "field secret", "redacted", "field label", "str origin",
        "end struct", "field shapes", "begin Seq 4", "begin variant Shape::Empty 0 true", "end variant",
        "begin variant Shape::Circle 1 false", "f64 1.5", "end variant", "begin variant Shape::Pair 2 false",
        "begin Tuple 2", "u8 1", "i8 -1", "end seq", "end variant", "begin variant Shape::Rect 3 false",
        "begin struct Rect", "field w", "u16 3", "field h", "u16 4", "end struct", "end variant", "end seq",
        "field pin", "redacted",
    ];
    (s, expected.iter().map(|s| s.to_string()).collect())
}

/// `&[u8]` as postcard encodes a byte string.
fn serde_bytes(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}

#[test]
fn a_visitor_sees_every_value_type() {
    let (s, expected) = every_type();
    let mut calls = Vec::new();
    let summary = each_event(&s.bytes, |e| {
        let mut log = Log::default();
        e.fields.visit(&mut log).unwrap();
        calls = log.0;
    });
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(summary.events, 1);
    assert_eq!(calls, expected);
}

/// Decodes `bytes` to JSON Lines.
fn jsonl(bytes: &[u8]) -> (String, DecodeSummary) {
    let mut out = Vec::new();
    let summary = crate::decode_reader(bytes, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

#[test]
fn visited_json_and_messages_match_the_json_lines_output() {
    let (s, _) = every_type();
    let (mut visited, mut message) = (String::new(), String::new());
    each_event(&s.bytes, |e| {
        let mut json = JsonText::default();
        e.fields.visit_with_message(&mut json, &mut message).unwrap();
        visited = format!("{{{}}}", String::from_utf8(json.buf).unwrap());
    });
    let mut fast = String::new();
    each_event(&s.bytes, |e| fast = e.fields.to_json().unwrap());
    let mut message_only = None;
    each_event(&s.bytes, |e| message_only = e.fields.message().unwrap());

    assert_eq!(visited, fast);
    let (mut line, _) = jsonl(&s.bytes);
    assert!(line.contains(&format!("\"fields\":{fast},")), "{line}\n{fast}");
    assert_eq!(
        message,
        "s=tab\there point={\"x\":-4,\"secret\":\"<redacted>\",\"label\":\"origin\"} pin=<redacted> {nope}"
    );
    assert_eq!(message_only.as_deref(), Some(message.as_str()));
    // The JSON Lines message is the same text, escaped.
    let mut escaped = Vec::new();
    crate::json::write_str(&mut escaped, &message);
    line.truncate(line.find(",\"fields\"").unwrap());
    assert!(line.ends_with(&format!("\"message\":{}", String::from_utf8(escaped).unwrap())), "{line}");
}

/// Three frames of events of two call sites, a drop report, a trace
/// context, a loss frame, a watermark, an end.
fn mixed() -> Stream {
    let mut body = Vec::new();
    push_u64(&mut body, 3);
    body.extend_from_slice(b"abc");
    let mut traced = Rec::new(2, 7, vec![1]);
    traced.trace = Some(std::array::from_fn(|i| i as u8));
    let mut dropped = Vec::new();
    push_u64(&mut dropped, 12);
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(1, "a", Level::Info, Some("got {s}"), &[field("s", TypeDesc::Str)])
        .schema(2, "b", Level::Debug, None, &[field("n", TypeDesc::U8)])
        .records(1, 100, &[Rec::new(1, 0, body.clone()), traced, Rec::new(1, -3, body.clone())])
        .records(2, 200, &[Rec::new(0, 1, dropped), Rec::new(2, 1, vec![9])])
        .loss(4, 400, "disk full", ANCHOR_NANOS + 77)
        .frame(
            lmlog_format::FrameKind::Watermark,
            &lmlog_format::schema::to_payload(&lmlog_format::Watermark { ticks: 150 }),
        )
        .records(1, 300, &[Rec::new(2, 0, vec![1]), Rec::new(1, 1, body)])
        .end();
    s
}

/// What an event says, its fields aside.
fn describe(e: &Event<'_>) -> String {
    let thread = e.thread.map(|t| format!("{}:{:?}", t.id, t.name));
    let trace = e.trace.map(|t| format!("{:02x}{:02x}/{}", t.trace_id()[0], t.span_id()[0], t.flags()));
    format!(
        "{} {} {:?} {:?} {thread:?} {trace:?}",
        e.unix_nanos - ANCHOR_NANOS as i128,
        e.event_type(),
        e.level(),
        e.ticks
    )
}

#[test]
fn events_that_leave_their_fields_unread_come_out_whole_and_in_place() {
    let s = mixed();
    let mut lazy = Vec::new();
    let lazy_summary = each_event(&s.bytes, |e| lazy.push(describe(&e)));
    let mut eager = Vec::new();
    let eager_summary = each_event(&s.bytes, |e| {
        eager.push(describe(&e));
        e.fields.to_json().unwrap();
    });
    assert_eq!(lazy, eager);
    assert_eq!(lazy_summary, eager_summary);
    assert!(lazy_summary.is_clean());
    assert_eq!(
        lazy,
        [
            "100 a Info Some(100) Some(\"1:Some(\\\"main\\\")\") None",
            "107 b Debug Some(107) Some(\"1:Some(\\\"main\\\")\") Some(\"0010/24\")",
            "104 a Info Some(104) Some(\"1:Some(\\\"main\\\")\") None",
            "201 lmlog.dropped Warn Some(201) Some(\"2:None\") None",
            "202 b Debug Some(202) Some(\"2:None\") None",
            "77 lmlog.writer_loss Error None None None",
            "300 b Debug Some(300) Some(\"1:Some(\\\"main\\\")\") None",
            "301 a Info Some(301) Some(\"1:Some(\\\"main\\\")\") None",
        ]
    );
    let (_, json_summary) = jsonl(&s.bytes);
    assert_eq!(lazy_summary, json_summary, "the same tally as the JSON Lines output");
}

#[test]
fn a_bad_record_is_found_by_skipping_as_by_reading() {
    let mut s = Stream::standard();
    let bad_utf8 = vec![2, 0xff, 0xfe];
    s.schema(1, "a", Level::Info, None, &[field("s", TypeDesc::Str)])
        .records(0, 0, &[Rec::new(1, 0, vec![1, b'x']), Rec::new(1, 1, bad_utf8), Rec::new(1, 1, vec![1, b'y'])])
        .records(0, 9, &[Rec::new(1, 0, vec![1, b'z'])]);
    let mut lazy = 0;
    let lazy_summary = each_event(&s.bytes, |_| lazy += 1);
    let (json, json_summary) = jsonl(&s.bytes);
    assert_eq!(lazy_summary, json_summary);
    assert_eq!(json.lines().count(), 2);
    // The handler saw the bad record's event too: it did not read its fields.
    assert_eq!(lazy, 3);
    assert!(matches!(lazy_summary.diagnostics[0].kind, crate::DiagnosticKind::BadRecord { callsite: Some(1), .. }));
}

#[test]
fn built_in_events_and_the_other_items() {
    let s = mixed();
    let mut items = Vec::new();
    let mut decoder = Decoder::new(from_fn(|item| {
        items.push(match item {
            Item::Event(e) if e.callsite.is_builtin() => {
                let c = e.callsite;
                assert!(c.source().is_none() && c.id() == 0 && c.fingerprint() == 0);
                let names: Vec<&str> = c.fields().iter().map(|f| f.name.as_str()).collect();
                format!("{} {names:?} {:?}", c.message_template().unwrap(), e.fields.message().unwrap())
            }
            Item::Event(e) => {
                let source = e.callsite.source().unwrap();
                assert_eq!((source.module, source.line, source.column), ("app", 9, 5));
                format!("event {}", e.event_type())
            }
            Item::Session(info) => format!("session {}", info.pid),
            Item::Watermark(w) => format!("watermark {} {}", w.ticks, w.unix_nanos - ANCHOR_NANOS as i128),
            Item::SessionEnd(end) => format!("end {}", end.reason),
            Item::EndOfStream => "end of stream".into(),
        });
    }));
    decoder.feed(&s.bytes).unwrap();
    let summary = decoder.finish().unwrap();
    assert_eq!(summary.dropped_events, 12);
    assert_eq!(summary.writer_lost_frames, 4);
    assert_eq!(summary.watermarks, 1);
    assert_eq!(
        items,
        [
            "session 42",
            "event a",
            "event b",
            "event a",
            "{count} events dropped: staging buffer full [\"count\"] Some(\"12 events dropped: staging buffer full\")",
            "event b",
            "the writer lost {frames} frames ({bytes} bytes): {reason} [\"frames\", \"bytes\", \"reason\"] \
             Some(\"the writer lost 4 frames (400 bytes): disk full\")",
            "watermark 150 150",
            "event b",
            "event a",
            "end shutdown",
            "end of stream",
        ]
    );
}

#[test]
fn thread_keys_tell_threads_and_descriptions_apart() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[]);
    s.thread(1, Some("one")).records(1, 0, &[Rec::new(1, 0, vec![])]).records(1, 0, &[Rec::new(1, 0, vec![])]);
    s.records(2, 0, &[Rec::new(1, 0, vec![])]).records(1, 0, &[Rec::new(1, 0, vec![])]);
    s.thread(1, Some("renamed")).records(1, 0, &[Rec::new(1, 0, vec![])]);
    let mut threads = Vec::new();
    each_event(&s.bytes, |e| {
        let t = e.thread.unwrap();
        threads.push((t.key, t.name.map(str::to_owned)));
    });
    let keys: Vec<u64> = threads.iter().map(|t| t.0).collect();
    assert_eq!(keys[0], keys[1], "same thread, same description");
    assert_ne!(keys[1], keys[2]);
    assert_ne!(keys[2], keys[3]);
    assert_ne!(keys[3], keys[4], "a new description");
    assert_eq!(threads[4].1.as_deref(), Some("renamed"));
    assert_eq!(threads[2].1, None);
}

/// What a time-ordered decoder hands on: `t<thread>@<ticks>` per event,
/// `wm@<ticks>` per watermark, `end`, `eos`.
fn ordered_items(bytes: &[u8]) -> (Vec<String>, DecodeSummary) {
    let mut items = Vec::new();
    let mut decoder = Decoder::new(from_fn(|item| match item {
        Item::Event(e) => items.push(match e.thread {
            Some(t) => format!("t{}@{}", t.id, e.ticks.unwrap()),
            None => format!("{}@{}", e.event_type(), e.unix_nanos - ANCHOR_NANOS as i128),
        }),
        Item::Watermark(w) => items.push(format!("wm@{}", w.ticks)),
        Item::SessionEnd(_) => items.push("end".into()),
        Item::EndOfStream => items.push("eos".into()),
        _ => {}
    }))
    .with_time_order();
    decoder.feed(bytes).unwrap();
    let summary = decoder.finish().unwrap();
    (items, summary)
}

/// Records of call site 1 (no fields) at these tick deltas.
fn recs(deltas: &[i64]) -> Vec<Rec> {
    deltas.iter().map(|&d| Rec::new(1, d, vec![])).collect()
}

#[test]
fn time_order_merges_threads_up_to_each_watermark() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[]);
    s.records(1, 10, &recs(&[0, 20, 20])); // 10 30 50
    s.records(2, 20, &recs(&[0, 20])); // 20 40
    s.records(3, 5, &recs(&[0, 55])); // 5 60
    s.watermark(35);
    s.records(2, 45, &recs(&[0])); // 45
    s.records(1, 70, &recs(&[0])); // 70
    s.watermark(65).end();
    let (items, summary) = ordered_items(&s.bytes);
    assert_eq!(
        items,
        [
            "t3@5", "t1@10", "t2@20", "t1@30", "wm@35", "t2@40", "t2@45", "t1@50", "t3@60", "wm@65", "t1@70", "end",
            "eos"
        ]
    );
    assert_eq!(summary.events, 9);
    assert!(summary.is_clean());
}

#[test]
fn time_order_keeps_each_thread_in_its_own_order_and_lets_late_records_out_at_once() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[]);
    // Thread 1's clock steps back (another core's TSC): its order stands.
    s.records(1, 100, &recs(&[0, -50, 100])); // 100 50 150
    s.records(2, 60, &recs(&[0])); // 60
    s.watermark(200);
    // A late record (its thread was suspended past a drain): out at once.
    s.records(3, 10, &recs(&[0]));
    s.records(2, 300, &recs(&[0]));
    s.end();
    let (items, _) = ordered_items(&s.bytes);
    assert_eq!(items, ["t2@60", "t1@100", "t1@50", "t1@150", "wm@200", "t3@10", "t2@300", "end", "eos"]);
}

#[test]
fn time_order_hands_on_a_file_before_the_next_one_replaces_its_call_sites() {
    let mut s = Stream::standard();
    s.schema(1, "first", Level::Info, None, &[]);
    s.records(1, 10, &recs(&[0]));
    // No watermark and no end frame: the file is cut short.
    s.preamble().session(1e9, 0, ANCHOR_NANOS);
    s.schema(1, "second", Level::Info, None, &[]);
    s.records(1, 5, &recs(&[0]));
    s.end();
    let mut types = Vec::new();
    let mut decoder = Decoder::new(from_fn(|item| {
        if let Item::Event(e) = item {
            types.push(e.event_type().to_owned());
        }
    }))
    .with_time_order();
    decoder.feed(&s.bytes).unwrap();
    let summary = decoder.finish().unwrap();
    assert_eq!(types, ["first", "second"], "files come out one after another, each with its own call sites");
    assert_eq!(summary.files, 2);
}

#[test]
fn time_order_reports_a_bad_record_and_decodes_the_rest() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[field("n", TypeDesc::U8)]);
    // The second record of thread 1 lacks its byte: the frame ends there.
    s.records(1, 10, &[Rec::new(1, 0, vec![1]), Rec::new(1, 10, vec![])]);
    s.compressed_records(2, 15, &[Rec::new(1, 0, vec![2]), Rec::new(1, 10, vec![3])]);
    s.records(3, 1, &[Rec::new(9, 0, vec![])]); // an unknown call site
    s.end();
    let (items, summary) = ordered_items(&s.bytes);
    // `from_fn` sees the bad record before its fields are found short (it
    // cannot withdraw it); the events after it in its frame are skipped.
    assert_eq!(items, ["t1@10", "t2@15", "t1@20", "t2@25", "end", "eos"]);
    assert_eq!(summary.events, 3);
    assert_eq!(summary.bad_records, 2);
    let kinds: Vec<_> = summary.diagnostics.iter().map(|d| format!("{:?}", d.kind)).collect();
    assert!(kinds.iter().any(|k| k.starts_with("BadRecord")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.starts_with("UnknownCallsite")), "{kinds:?}");
}

#[test]
fn time_order_off_again_hands_on_what_it_held() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[]);
    s.records(1, 10, &recs(&[0, 1]));
    let mut events = 0;
    let mut decoder = Decoder::new(from_fn(|item| {
        if let Item::Event(_) = item {
            events += 1;
        }
    }))
    .with_time_order();
    decoder.feed(&s.bytes).unwrap();
    assert_eq!(decoder.summary().events, 0, "held: no watermark yet");
    decoder.set_time_order(false);
    decoder.flush().unwrap();
    assert_eq!(decoder.summary().events, 0, "the summary is synced by the next feed");
    decoder.feed(&[]).unwrap();
    assert_eq!(decoder.summary().events, 2);
    decoder.finish().unwrap();
    assert_eq!(events, 2);
}

/// A series rotated in the middle of a drain: the first file ends with
/// thread 1's records of the drain, the next starts with thread 2's.
fn rotated_mid_drain(second_pid: u32) -> Stream {
    let mut s = Stream::standard();
    s.schema(1, "before", Level::Info, None, &[]);
    s.records(1, 10, &recs(&[0, 20])); // 10 30
    s.end_because(lmlog_format::EndInfo::ROTATED);
    s.preamble().session_of(second_pid, 1e9, 0, ANCHOR_NANOS);
    // The call site described again, in other words: each file's records
    // are decoded with their own file's descriptions.
    s.schema(1, "after", Level::Info, None, &[]);
    s.records(2, 20, &recs(&[0, 20])); // 20 40
    s.watermark(35);
    s.records(1, 45, &recs(&[0]));
    s.end();
    s
}

#[test]
fn time_order_merges_across_a_rotation_of_the_same_process() {
    let s = rotated_mid_drain(42);
    let mut seen = Vec::new();
    let mut decoder = Decoder::new(from_fn(|item| {
        if let Item::Event(e) = item {
            seen.push(format!("{}@{}:{}", e.event_type(), e.ticks.unwrap(), e.thread.unwrap().id));
        }
    }))
    .with_time_order();
    decoder.feed(&s.bytes).unwrap();
    let summary = decoder.finish().unwrap();
    assert_eq!(seen, ["before@10:1", "after@20:2", "before@30:1", "after@40:2", "after@45:1"]);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
}

#[test]
fn time_order_does_not_merge_across_files_of_another_process() {
    let s = rotated_mid_drain(43);
    let (items, summary) = ordered_items(&s.bytes);
    // The rotation's end frame is handed on at once (its file's records
    // might have gone on in the next file); the next file's session, of
    // another process, hands them on.
    assert_eq!(items, ["end", "t1@10", "t1@30", "t2@20", "wm@35", "t2@40", "t1@45", "end", "eos"]);
    assert!(summary.is_clean());
}

#[test]
fn a_records_frame_without_records_decodes_to_nothing_in_either_order() {
    let mut s = Stream::standard();
    s.schema(1, "a", Level::Info, None, &[]);
    s.records(1, 10, &[]);
    s.records(2, 20, &recs(&[0]));
    s.records(1, 30, &[]);
    s.watermark(25).end();
    let (items, summary) = ordered_items(&s.bytes);
    assert_eq!(items, ["t2@20", "wm@25", "end", "eos"]);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let unordered = each_event(&s.bytes, |_| {});
    assert!(unordered.is_clean() && unordered.events == 1);
}

#[test]
fn time_order_merges_across_several_rotations_within_one_drain() {
    let mut s = Stream::standard();
    s.schema(1, "first", Level::Info, None, &[]);
    s.records(1, 10, &recs(&[0, 40])); // 10 50
    s.end_because(lmlog_format::EndInfo::ROTATED);
    s.preamble().session(1e9, 0, ANCHOR_NANOS);
    s.schema(1, "second", Level::Info, None, &[]);
    s.records(2, 20, &recs(&[0])); // 20
    s.end_because(lmlog_format::EndInfo::ROTATED);
    s.preamble().session(1e9, 0, ANCHOR_NANOS);
    s.schema(1, "third", Level::Info, None, &[]);
    s.records(3, 30, &recs(&[0, 30])); // 30 60
    s.watermark(55).end();
    let mut seen = Vec::new();
    let mut decoder = Decoder::new(from_fn(|item| {
        if let Item::Event(e) = item {
            seen.push(format!("{}@{}", e.event_type(), e.ticks.unwrap()));
        }
    }))
    .with_time_order();
    decoder.feed(&s.bytes).unwrap();
    let summary = decoder.finish().unwrap();
    assert_eq!(seen, ["first@10", "second@20", "third@30", "first@50", "third@60"]);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
}

#[test]
fn a_sampled_frame_becomes_one_sampled_out_event_per_call_site_and_an_unknown_id_is_reported() {
    let report = lmlog_format::SampledReport {
        ticks: 5_000,
        sites: vec![
            lmlog_format::SampledCount { id: 1, count: 41 },
            lmlog_format::SampledCount { id: 9, count: 3 },
            lmlog_format::SampledCount { id: 2, count: 7 },
        ],
    };
    let mut s = Stream::standard();
    s.schema(1, "cache_miss", Level::Info, None, &[field("key", TypeDesc::U32)])
        .schema(2, "burst", Level::Warn, None, &[])
        .frame(lmlog_format::FrameKind::Sampled, &lmlog_format::schema::to_payload(&report))
        .end();
    let (out, summary) = jsonl(&s.bytes);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["event_type"], "lmlog.sampled_out");
    assert_eq!(lines[0]["fields"]["event_type"], "cache_miss");
    assert_eq!(lines[0]["fields"]["count"], 41);
    assert_eq!(lines[1]["fields"]["event_type"], "burst");
    assert_eq!(lines[1]["fields"]["count"], 7);
    assert_eq!(lines[0]["timestamp"], crate::format_timestamp(ANCHOR_NANOS as i128 + 5_000));
    assert!(lines[0].get("thread").is_none(), "{out}");
    let kinds: Vec<_> = summary.diagnostics.iter().map(|d| format!("{:?}", d.kind)).collect();
    assert_eq!(kinds.len(), 1, "{kinds:?}");
    assert!(kinds[0].contains("unknown call site 9"), "{kinds:?}");
}
