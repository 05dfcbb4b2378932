//! Value decoding, message templates and whole event lines.

use std::collections::BTreeMap;

use lmlog_decode::{DiagnosticKind, Severity};
use lmlog_format::frame::{push_frame, FRAME_HEADER_LEN};
use lmlog_format::types::{FieldDesc, TypeDesc, VariantDesc, VariantKindDesc};
use lmlog_format::varint::{push_u64, zigzag_i64};
use lmlog_format::{FrameKind, Level};
use lmlog_tests::synth::*;
use serde::Serialize;

/// Decodes one event of a schema with `fields` and returns its `fields` object text.
fn fields_json(fields: &[FieldDesc], body: Vec<u8>) -> Result<String, String> {
    let mut s = Stream::standard();
    s.schema(1, "ev", Level::Info, None, fields).records(0, 0, &[Rec::new(1, 0, body)]);
    let (out, summary) = decode(&s.bytes);
    if let Some(d) = summary.diagnostics.iter().find(|d| d.is_damage()) {
        assert!(out.is_empty(), "{out}");
        return Err(d.to_string());
    }
    assert_valid_jsonl(&out);
    let line = out.lines().next().expect("one line");
    let start = line.find("\"fields\":").expect("fields") + "\"fields\":".len();
    let end = line.find(",\"source\":").expect("source");
    Ok(line[start..end].to_owned())
}

/// The JSON text of a single field `v` of type `ty` encoded as `body`.
fn value_json(ty: TypeDesc, body: Vec<u8>) -> Result<String, String> {
    let text = fields_json(&[field("v", ty)], body)?;
    Ok(text.strip_prefix("{\"v\":").and_then(|t| t.strip_suffix('}')).expect("one field").to_owned())
}

/// Encodes `v` with postcard and expects serde_json's text for it.
fn check<T: Serialize>(ty: TypeDesc, v: &T) {
    let body = postcard::to_allocvec(v).unwrap();
    let expected = serde_json::to_string(v).unwrap();
    assert_eq!(value_json(ty, body).unwrap(), expected, "{ty:?}");
}

fn check_raw(ty: TypeDesc, body: Vec<u8>, expected: &str) {
    assert_eq!(value_json(ty, body).unwrap(), expected, "{ty:?}");
}

fn check_err(ty: TypeDesc, body: Vec<u8>, needle: &str) {
    let e = value_json(ty, body).unwrap_err();
    assert!(e.contains(needle), "{e:?} should mention {needle:?}");
}

fn pc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

#[test]
fn scalars() {
    check(TypeDesc::Bool, &true);
    check(TypeDesc::Bool, &false);
    check(TypeDesc::U8, &0u8);
    check(TypeDesc::U8, &255u8);
    check(TypeDesc::U16, &u16::MAX);
    check(TypeDesc::U32, &u32::MAX);
    check(TypeDesc::U32, &300u32);
    check(TypeDesc::U64, &u64::MAX);
    check(TypeDesc::U64, &0u64);
    check(TypeDesc::I8, &i8::MIN);
    check(TypeDesc::I8, &-1i8);
    check(TypeDesc::I16, &i16::MIN);
    check(TypeDesc::I16, &i16::MAX);
    check(TypeDesc::I32, &i32::MIN);
    check(TypeDesc::I64, &i64::MIN);
    check(TypeDesc::I64, &i64::MAX);
    check_raw(TypeDesc::U128, pc(&u128::MAX), "340282366920938463463374607431768211455");
    check_raw(TypeDesc::U128, pc(&0u128), "0");
    check_raw(TypeDesc::I128, pc(&i128::MIN), "-170141183460469231731687303715884105728");
    check_raw(TypeDesc::I128, pc(&i128::MAX), "170141183460469231731687303715884105727");
    check(TypeDesc::Unit, &());
}

#[test]
fn floats() {
    check(TypeDesc::F64, &12.5f64);
    check_raw(TypeDesc::F64, pc(&12.0f64), "12.0");
    check_raw(TypeDesc::F64, pc(&-0.0f64), "-0.0");
    check_raw(TypeDesc::F64, pc(&1e300f64), "1e300");
    check_raw(TypeDesc::F64, pc(&-1.5e-300f64), "-1.5e-300");
    check_raw(TypeDesc::F64, pc(&f64::MIN_POSITIVE), "2.2250738585072014e-308");
    check(TypeDesc::F64, &0.1f64);
    check_raw(TypeDesc::F64, pc(&f64::NAN), "\"NaN\"");
    check_raw(TypeDesc::F64, pc(&f64::INFINITY), "\"inf\"");
    check_raw(TypeDesc::F64, pc(&f64::NEG_INFINITY), "\"-inf\"");
    check_raw(TypeDesc::F32, pc(&0.1f32), "0.1");
    check_raw(TypeDesc::F32, pc(&3.0f32), "3.0");
    check_raw(TypeDesc::F32, pc(&f32::NAN), "\"NaN\"");
    check_raw(TypeDesc::F32, pc(&f32::NEG_INFINITY), "\"-inf\"");
    check_raw(TypeDesc::F32, pc(&f32::MAX), "3.4028235e38");
}

#[test]
fn strings_and_chars() {
    for s in [
        "",
        "plain",
        "ünïcødé ✓ 🦀",
        "quote \" and \\ backslash",
        "line\nbreak\r\ttab",
        "\u{0}\u{1}\u{1f}\u{7f}",
        "\u{2028}",
    ] {
        check(TypeDesc::Str, &s);
    }
    for c in ['a', 'é', '🦀', '"', '\n', '\\', '\u{0}'] {
        check(TypeDesc::Char, &c);
    }
    // Output never contains a raw control character.
    let text = value_json(TypeDesc::Str, pc(&"a\nb\u{1b}c")).unwrap();
    assert_eq!(text, "\"a\\nb\\u001bc\"");
}

#[test]
fn bytes_are_hex() {
    check_raw(TypeDesc::Bytes, pc(&Vec::<u8>::new()), "\"\"");
    check_raw(TypeDesc::Bytes, pc(&vec![0u8, 255, 16, 0xab]), "\"00ff10ab\"");
}

#[test]
fn options_sequences_tuples() {
    check(TypeDesc::Option(&TypeDesc::U32), &None::<u32>);
    check(TypeDesc::Option(&TypeDesc::U32), &Some(7u32));
    check(TypeDesc::Option(&TypeDesc::Option(&TypeDesc::Str)), &Some(Some("x")));
    check(TypeDesc::Seq(&TypeDesc::U32), &vec![1u32, 300, 70000]);
    check(TypeDesc::Seq(&TypeDesc::Str), &Vec::<String>::new());
    check(TypeDesc::Seq(&TypeDesc::Seq(&TypeDesc::I8)), &vec![vec![-1i8], vec![], vec![1, 2]]);
    check(TypeDesc::Array(3, &TypeDesc::U8), &[1u8, 2, 3]);
    check(TypeDesc::Array(2, &TypeDesc::Str), &["a", "b"]);
    check(TypeDesc::Array(0, &TypeDesc::Str), &[(); 0]);
    check(TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::Str, TypeDesc::F64]), &(1u8, "two", 3.5f64));
    check(TypeDesc::Seq(&TypeDesc::Unit), &vec![(), (), ()]);
}

#[test]
fn maps() {
    let m: BTreeMap<String, u32> = [("a".to_owned(), 1), ("b\"q".to_owned(), 2)].into();
    check(TypeDesc::Map(&TypeDesc::Str, &TypeDesc::U32), &m);
    let m: BTreeMap<u32, String> = [(1, "x".to_owned()), (300, "y".to_owned())].into();
    check(TypeDesc::Map(&TypeDesc::U32, &TypeDesc::Str), &m);
    let m: BTreeMap<i64, bool> = [(-5, true), (7, false)].into();
    check(TypeDesc::Map(&TypeDesc::I64, &TypeDesc::Bool), &m);
    let m: BTreeMap<char, u8> = [('a', 1), ('"', 2)].into();
    check(TypeDesc::Map(&TypeDesc::Char, &TypeDesc::U8), &m);
    check(TypeDesc::Map(&TypeDesc::Str, &TypeDesc::U8), &BTreeMap::<String, u8>::new());
    let m: BTreeMap<bool, u8> = [(false, 0), (true, 1)].into();
    check_raw(TypeDesc::Map(&TypeDesc::Bool, &TypeDesc::U8), pc(&m), r#"{"false":0,"true":1}"#);
    let m: BTreeMap<u128, u8> = [(u128::MAX, 1)].into();
    check_raw(
        TypeDesc::Map(&TypeDesc::U128, &TypeDesc::U8),
        pc(&m),
        r#"{"340282366920938463463374607431768211455":1}"#,
    );
    // Keys that are not strings or integers use their JSON text.
    let m: Vec<(f64, u8)> = vec![(1.5, 1), (f64::NAN, 2)];
    let mut body = Vec::new();
    push_u64(&mut body, 2);
    for (k, v) in &m {
        body.extend_from_slice(&k.to_le_bytes());
        body.push(*v);
    }
    check_raw(TypeDesc::Map(&TypeDesc::F64, &TypeDesc::U8), body, r#"{"1.5":1,"NaN":2}"#);
    let m: BTreeMap<(u8, String), u8> = [((1, "a\"".to_owned()), 9)].into();
    check_raw(
        TypeDesc::Map(&TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::Str]), &TypeDesc::U8),
        pc(&m),
        r#"{"[1,\"a\\\"\"]":9}"#,
    );
    let m: BTreeMap<Vec<u8>, u8> = [(vec![0xde, 0xad], 1)].into();
    check_raw(TypeDesc::Map(&TypeDesc::Bytes, &TypeDesc::U8), pc(&m), r#"{"dead":1}"#);
    let m: BTreeMap<Option<u8>, u8> = [(None, 1), (Some(2), 3)].into();
    check_raw(TypeDesc::Map(&TypeDesc::Option(&TypeDesc::U8), &TypeDesc::U8), pc(&m), r#"{"null":1,"2":3}"#);
}

#[derive(Serialize)]
struct Inner {
    x: i32,
    name: String,
}

#[derive(Serialize)]
struct Outer {
    id: u64,
    inner: Inner,
    list: Vec<Inner>,
    opt: Option<Inner>,
    t: (u8, char),
    e: Vec<E>,
}

#[derive(Serialize)]
enum E {
    A,
    B(u8),
    C(u8, String),
    D { x: i32, y: Option<String> },
}

static INNER: [FieldDesc; 2] = [
    FieldDesc { name: "x", ty: &TypeDesc::I32, redacted: false },
    FieldDesc { name: "name", ty: &TypeDesc::Str, redacted: false },
];
static E_D: [FieldDesc; 2] = [
    FieldDesc { name: "x", ty: &TypeDesc::I32, redacted: false },
    FieldDesc { name: "y", ty: &TypeDesc::Option(&TypeDesc::Str), redacted: false },
];
static E_VARIANTS: [VariantDesc; 4] = [
    VariantDesc { name: "A", kind: VariantKindDesc::Unit },
    VariantDesc { name: "B", kind: VariantKindDesc::Newtype(&TypeDesc::U8) },
    VariantDesc { name: "C", kind: VariantKindDesc::Tuple(&[TypeDesc::U8, TypeDesc::Str]) },
    VariantDesc { name: "D", kind: VariantKindDesc::Struct(&E_D) },
];
static E_TY: TypeDesc = TypeDesc::Enum("E", &E_VARIANTS);
static INNER_TY: TypeDesc = TypeDesc::Struct("Inner", &INNER);
static OUTER: [FieldDesc; 6] = [
    FieldDesc { name: "id", ty: &TypeDesc::U64, redacted: false },
    FieldDesc { name: "inner", ty: &INNER_TY, redacted: false },
    FieldDesc { name: "list", ty: &TypeDesc::Seq(&INNER_TY), redacted: false },
    FieldDesc { name: "opt", ty: &TypeDesc::Option(&INNER_TY), redacted: false },
    FieldDesc { name: "t", ty: &TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::Char]), redacted: false },
    FieldDesc { name: "e", ty: &TypeDesc::Seq(&E_TY), redacted: false },
];

#[test]
fn structs_and_enums() {
    let v = Outer {
        id: 9,
        inner: Inner { x: -3, name: "in\"ner".into() },
        list: vec![Inner { x: 1, name: "".into() }, Inner { x: 2, name: "ü".into() }],
        opt: None,
        t: (4, 'z'),
        e: vec![E::A, E::B(7), E::C(1, "c".into()), E::D { x: -1, y: Some("y".into()) }, E::D { x: 0, y: None }],
    };
    check(TypeDesc::Struct("Outer", &OUTER), &v);
    check(E_TY, &E::A);
    check(E_TY, &E::B(255));
    check(E_TY, &E::C(0, "\n".into()));
    check(E_TY, &E::D { x: i32::MAX, y: None });
    check_raw(E_TY, pc(&E::D { x: 5, y: Some("s".into()) }), r#"{"D":{"x":5,"y":"s"}}"#);
    check_raw(E_TY, pc(&E::A), r#""A""#);
    check_raw(TypeDesc::Struct("Empty", &[]), vec![], "{}");
}

#[test]
fn redacted_fields_have_no_bytes() {
    // Top level: a, <secret>, b.
    let fields = [field("a", TypeDesc::U32), redacted("secret", TypeDesc::Str), field("b", TypeDesc::Str)];
    let mut body = pc(&5u32);
    body.extend(pc(&"bee"));
    assert_eq!(fields_json(&fields, body).unwrap(), r#"{"a":5,"secret":"<redacted>","b":"bee"}"#);
    // Inside a nested struct and an enum struct variant.
    let inner = leak([field("x", TypeDesc::I32), redacted("password", TypeDesc::Option(&TypeDesc::Str))]);
    let variants = leak([VariantDesc { name: "Login", kind: VariantKindDesc::Struct(inner) }]);
    let fields = [field("user", TypeDesc::Struct("User", inner)), field("ev", TypeDesc::Enum("Ev", variants))];
    let mut body = pc(&-2i32);
    body.push(0); // variant index 0
    body.extend(pc(&3i32));
    assert_eq!(
        fields_json(&fields, body).unwrap(),
        r#"{"user":{"x":-2,"password":"<redacted>"},"ev":{"Login":{"x":3,"password":"<redacted>"}}}"#
    );
    // A sequence of structs whose fields are all redacted (zero bytes per element).
    let all_redacted = leak([redacted("k", TypeDesc::Str)]);
    let fields = [field("v", TypeDesc::Seq(leak(TypeDesc::Struct("S", all_redacted))))];
    assert_eq!(fields_json(&fields, vec![2]).unwrap(), r#"{"v":[{"k":"<redacted>"},{"k":"<redacted>"}]}"#);
}

#[test]
fn invalid_values_are_record_errors() {
    check_err(TypeDesc::Bool, vec![2], "invalid bool byte 2");
    check_err(TypeDesc::Option(&TypeDesc::U8), vec![3, 1], "invalid option tag 3");
    check_err(TypeDesc::Str, vec![2, 0xff, 0xfe], "not valid UTF-8");
    check_err(TypeDesc::Char, pc(&"ab"), "exactly one");
    check_err(TypeDesc::Char, pc(&""), "exactly one");
    check_err(E_TY, vec![4], "variant index 4");
    check_err(TypeDesc::U16, pc(&70000u32), "16 bits");
    check_err(TypeDesc::U32, pc(&(u32::MAX as u64 + 1)), "32 bits");
    check_err(TypeDesc::I16, pc(&(i16::MAX as i32 + 1)), "16 bits");
    check_err(TypeDesc::U64, vec![0xff; 11], "64 bits");
    check_err(TypeDesc::U128, vec![0xff; 20], "overflow");
    check_err(TypeDesc::F64, vec![0; 7], "ends early");
    check_err(TypeDesc::U8, vec![], "ends early");
    check_err(TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::U8]), vec![1], "ends early");
}

#[test]
fn hostile_lengths_fail_fast() {
    let huge = |n: u64| {
        let mut b = Vec::new();
        push_u64(&mut b, n);
        b.extend_from_slice(b"abc");
        b
    };
    for n in [u64::MAX, u64::MAX >> 1, 1 << 40, 4] {
        check_err(TypeDesc::Str, huge(n), "exceeds the bytes that remain");
        check_err(TypeDesc::Bytes, huge(n), "exceeds the bytes that remain");
        check_err(TypeDesc::Seq(&TypeDesc::U64), huge(n), "exceeds the bytes that remain");
        check_err(TypeDesc::Map(&TypeDesc::Str, &TypeDesc::U8), huge(n), "exceeds the bytes that remain");
    }
    check_err(TypeDesc::Seq(&TypeDesc::Unit), huge(1 << 40), "zero-sized elements");
    check_err(TypeDesc::Seq(&TypeDesc::Tuple(&[])), huge(u64::MAX), "zero-sized elements");
    check_raw(TypeDesc::Seq(&TypeDesc::Unit), pc(&vec![(); 4]), "[null,null,null,null]");
    // A schema describing a gigantic array of zero-sized values hits the output cap.
    check_err(TypeDesc::Array(u32::MAX, &TypeDesc::Array(u32::MAX, &TypeDesc::Unit)), vec![], "more than");
}

fn one_event(message: &str, fields: &[FieldDesc], body: Vec<u8>) -> serde_json::Value {
    let mut s = Stream::standard();
    s.schema(1, "ev", Level::Info, Some(message), fields).records(0, 0, &[Rec::new(1, 0, body)]);
    let (out, summary) = decode(&s.bytes);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_valid_jsonl(&out);
    serde_json::from_str(out.lines().next().unwrap()).unwrap()
}

fn message(template: &str, fields: &[FieldDesc], body: Vec<u8>) -> String {
    one_event(template, fields, body)["message"].as_str().unwrap().to_owned()
}

#[test]
fn templates() {
    let f = [field("amount", TypeDesc::F64), field("user_id", TypeDesc::U64)];
    let mut body = pc(&12.5f64);
    body.extend(pc(&7u64));
    assert_eq!(
        message("payment of {amount} failed for user {user_id}", &f, body.clone()),
        "payment of 12.5 failed for user 7"
    );
    assert_eq!(message("{user_id}{amount}", &f, body.clone()), "712.5");
    assert_eq!(message("no placeholders", &f, body.clone()), "no placeholders");
    assert_eq!(message("", &f, body.clone()), "");
    assert_eq!(message("{{amount}} {{{amount}}}", &f, body.clone()), "{amount} {12.5}");
    assert_eq!(message("{nope} and {user_id}", &f, body.clone()), "{nope} and 7");

    // Strings and chars raw, with quotes and line breaks kept (escaped in JSON).
    let f = [field("s", TypeDesc::Str), field("c", TypeDesc::Char)];
    let mut body = pc(&"say \"hi\"\nbye\\");
    body.extend(pc(&'✓'));
    let ev = one_event("<{s}> {c}", &f, body);
    assert_eq!(ev["message"], "<say \"hi\"\nbye\\> ✓");
    assert_eq!(ev["fields"]["s"], "say \"hi\"\nbye\\");

    // Floats, bools, bytes, options, unit.
    let f = [
        field("n", TypeDesc::F64),
        field("i", TypeDesc::F32),
        field("b", TypeDesc::Bool),
        field("x", TypeDesc::Bytes),
        field("o", TypeDesc::Option(&TypeDesc::Str)),
        field("p", TypeDesc::Option(&TypeDesc::Str)),
        field("u", TypeDesc::Unit),
    ];
    let mut body = pc(&f64::NAN);
    body.extend(pc(&f32::NEG_INFINITY));
    body.extend(pc(&true));
    body.extend(pc(&vec![1u8, 0xff]));
    body.extend(pc(&None::<&str>));
    body.extend(pc(&Some("some")));
    assert_eq!(message("{n} {i} {b} {x} {o} {p} {u}", &f, body), "NaN -inf true 01ff null some null");

    // Nested values as compact JSON; redacted fields as <redacted>.
    let f = [
        field("p", TypeDesc::Struct("Inner", &INNER)),
        field("v", TypeDesc::Seq(&TypeDesc::Str)),
        redacted("secret", TypeDesc::Str),
        field("e", E_TY),
        field("e2", E_TY),
    ];
    let mut body = pc(&Inner { x: 1, name: "a\"b".into() });
    body.extend(pc(&vec!["q"]));
    body.extend(pc(&E::B(3)));
    body.extend(pc(&E::A));
    let ev = one_event("{p} {v} {secret} {e} {e2}", &f, body);
    assert_eq!(ev["message"], r#"{"x":1,"name":"a\"b"} ["q"] <redacted> {"B":3} A"#);
    assert_eq!(ev["fields"]["secret"], "<redacted>");
}

#[test]
fn bad_template_is_reported_and_shown_verbatim() {
    let mut s = Stream::standard();
    s.schema(1, "ev", Level::Info, Some("oops {unclosed"), &[]).records(0, 0, &[Rec::new(1, 0, vec![])]);
    let (out, summary) = decode(&s.bytes);
    assert!(out.contains(r#""message":"oops {unclosed""#), "{out}");
    assert!(matches!(summary.diagnostics[0].kind, DiagnosticKind::BadTemplate { callsite: 1, .. }));
}

const TRACE: [u8; 25] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36, 0x00, 0xf0, 0x67,
    0xaa, 0x0b, 0xa9, 0x02, 0xb7, 0x01,
];

#[test]
fn full_event_line_matches_the_documented_shape() {
    let fields = [
        field("user_id", TypeDesc::U64),
        field("amount", TypeDesc::F64),
        field("reason", TypeDesc::Str),
        field("tags", TypeDesc::Seq(&TypeDesc::Str)),
    ];
    let mut body = pc(&7u64);
    body.extend(pc(&12.5f64));
    body.extend(pc(&"card_declined"));
    body.extend(pc(&vec!["eu"]));
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(3, "payment_failed", Level::Warn, Some("payment of {amount} failed for user {user_id}"), &fields)
        .records(1, 0, &[Rec { id: 3, delta: 0, trace: Some(TRACE), body }])
        .end();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(
        out,
        concat!(
            r#"{"timestamp":"2026-11-25T13:23:10.133324123Z","level":"warn","event_type":"payment_failed","#,
            r#""message":"payment of 12.5 failed for user 7","#,
            r#""fields":{"user_id":7,"amount":12.5,"reason":"card_declined","tags":["eu"]},"#,
            r#""source":{"module":"app","file":"src/main.rs","line":9,"column":5,"function":"app::main"},"#,
            r#""thread":{"id":1,"name":"main"},"#,
            r#""trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}}"#,
            "\n"
        )
    );
    assert!(summary.is_clean() && summary.clean_end);
    assert_eq!(summary.diagnostics, vec![]);
    assert_eq!((summary.events, summary.frames, summary.files), (1, 5, 1));
}

#[test]
fn drop_reports_and_writer_loss() {
    let mut count = Vec::new();
    push_u64(&mut count, 17);
    let mut s = Stream::standard();
    s.thread(2, None)
        .records(2, 5, &[Rec::new(0, 0, count.clone()), Rec { id: 0, delta: 1, trace: Some(TRACE), body: count }])
        .loss(3, 1234, "disk full", ANCHOR_NANOS)
        .end();
    let (out, summary) = decode(&s.bytes);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"timestamp":"2026-11-25T13:23:10.133324128Z","level":"warn","event_type":"lmlog.dropped","message":"17 events dropped: staging buffer full","fields":{"count":17},"thread":{"id":2}}"#
    );
    assert!(lines[1].ends_with(r#""fields":{"count":17},"thread":{"id":2},"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}}"#), "{}", lines[1]);
    assert_eq!(
        lines[2],
        r#"{"timestamp":"2026-11-25T13:23:10.133324123Z","level":"error","event_type":"lmlog.writer_loss","message":"the writer lost 3 frames (1234 bytes): disk full","fields":{"frames":3,"bytes":1234,"reason":"disk full"}}"#
    );
    assert_eq!(summary.dropped_events, 34);
    assert_eq!(summary.writer_lost_frames, 3);
    assert_eq!(summary.events, 3);
    assert!(summary.is_clean());
}

#[test]
fn a_writer_loss_with_the_appended_detail_counts_events() {
    use lmlog_format::schema::to_payload;
    use lmlog_format::{DroppedEnd, LossDetail, LossReport, WriterLoss};
    let loss = |reason: &str| WriterLoss {
        frames: 2,
        bytes: 700,
        reason: reason.into(),
        first_unix_nanos: ANCHOR_NANOS - 5,
        last_unix_nanos: ANCHOR_NANOS,
    };
    let detail = LossDetail { events: 41, dropped_end: DroppedEnd::Newest, failed_writes: 6, delayed_events: 900 };
    let mut s = Stream::standard();
    s.frame(FrameKind::Loss, &to_payload(&LossReport { loss: loss("disk full"), detail: Some(detail) }))
        .frame(FrameKind::Loss, &to_payload(&LossReport { loss: loss(""), detail: Some(detail) }))
        .loss(1, 10, "old layout", ANCHOR_NANOS)
        .end();
    let (out, summary) = decode(&s.bytes);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"timestamp":"2026-11-25T13:23:10.133324123Z","level":"error","event_type":"lmlog.writer_loss","message":"the writer lost 41 events (2 frames, 700 bytes): disk full","fields":{"frames":2,"bytes":700,"reason":"disk full","events":41,"dropped_end":"newest","failed_writes":6,"delayed_events":900}}"#
    );
    assert!(lines[1].contains(r#""message":"the writer lost 41 events (2 frames, 700 bytes)","#), "{}", lines[1]);
    assert!(lines[2].ends_with(r#""fields":{"frames":1,"bytes":10,"reason":"old layout"}}"#), "{}", lines[2]);
    assert_eq!((summary.writer_lost_events, summary.writer_lost_frames, summary.events), (82, 5, 3));
    assert!(summary.is_clean());
}

fn timestamps(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamp"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn clock_anchors_and_tick_deltas() {
    let mut s = Stream::new();
    // 2 GHz ticks; tick 1000 is 1970-01-01T00:00:01Z.
    s.session(2e9, 1000, 1_000_000_000).schema(1, "e", Level::Debug, None, &[]);
    s.records(0, 1000, &[Rec::new(1, 0, vec![]), Rec::new(1, 2000, vec![]), Rec::new(1, -3000, vec![])]);
    // A newer anchor: tick 10_000 is 2000-02-29T00:00:00Z.
    s.clock(10_000, 951_782_400_000_000_000).records(0, 10_000, &[Rec::new(1, 2, vec![]), Rec::new(1, -4, vec![])]);
    let (out, summary) = decode(&s.bytes);
    assert!(summary.is_clean());
    assert_eq!(
        timestamps(&out),
        [
            "1970-01-01T00:00:01.000000000Z",
            "1970-01-01T00:00:01.000001000Z",
            "1970-01-01T00:00:00.999999500Z",
            "2000-02-29T00:00:00.000000001Z",
            "2000-02-28T23:59:59.999999999Z",
        ]
    );
}

#[test]
fn threads_levels_and_sources() {
    let mut s = Stream::standard();
    s.thread(1, Some("wörker \"1\"")).thread(2, None);
    s.schema(1, "e", Level::Trace, None, &[]).schema(2, "f", Level::Error, None, &[]);
    s.records(1, 0, &[Rec::new(1, 0, vec![])]).records(2, 0, &[Rec::new(2, 0, vec![])]).records(
        7,
        0,
        &[Rec::new(1, 0, vec![])],
    );
    // A later thread frame renames thread 1.
    s.thread(1, Some("renamed")).records(1, 0, &[Rec::new(1, 0, vec![])]);
    let (out, _) = decode(&s.bytes);
    let v: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(v[0]["thread"], serde_json::json!({"id": 1, "name": "wörker \"1\""}));
    assert_eq!(v[0]["level"], "trace");
    assert_eq!(v[1]["thread"], serde_json::json!({"id": 2}));
    assert_eq!(v[1]["level"], "error");
    assert_eq!(v[2]["thread"], serde_json::json!({"id": 7}));
    assert_eq!(v[3]["thread"]["name"], "renamed");
    assert_eq!(
        v[0]["source"],
        serde_json::json!({"module":"app","file":"src/main.rs","line":9,"column":5,"function":"app::main"})
    );
    assert!(v[0].get("message").is_none() && v[0].get("trace").is_none());
}

#[test]
fn line_ends_follow_each_frame_thread() {
    // Lines end with a per call site and thread pre-rendered run: it must
    // follow the thread of every frame, renames, traces and a new file.
    let mut s = Stream::standard();
    s.thread(1, Some("one")).thread(2, Some("two"));
    s.schema(1, "a", Level::Info, None, &[field("x", TypeDesc::U8)]).schema(
        2,
        "b",
        Level::Warn,
        Some("b {x}"),
        &[field("x", TypeDesc::U8)],
    );
    let traced = Rec { trace: Some([7; 25]), ..Rec::new(2, 0, vec![3]) };
    let mut expected = Vec::new();
    for round in 0..3u8 {
        for thread in [1u32, 2, 9, 1] {
            s.records(thread, 0, &[Rec::new(1, 0, vec![round]), traced.clone(), Rec::new(2, 0, vec![round])]);
            let t = match thread {
                1 if round == 2 => serde_json::json!({"id": 1, "name": "uno"}),
                1 => serde_json::json!({"id": 1, "name": "one"}),
                2 => serde_json::json!({"id": 2, "name": "two"}),
                _ => serde_json::json!({"id": thread}),
            };
            expected.extend([t.clone(), t.clone(), t]);
        }
        if round == 1 {
            s.thread(1, Some("uno"));
        }
    }
    let mut second = Stream::standard();
    second.schema(1, "a", Level::Info, None, &[field("x", TypeDesc::U8)]);
    second.records(1, 0, &[Rec::new(1, 0, vec![1])]);
    expected.push(serde_json::json!({"id": 1}));
    let mut bytes = s.bytes.clone();
    bytes.extend_from_slice(&second.bytes);
    let (out, summary) = decode(&bytes);
    assert!(summary.bad_records == 0, "{summary:?}");
    assert_valid_jsonl(&out);
    let v: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(v.len(), expected.len());
    for (i, (line, thread)) in v.iter().zip(&expected).enumerate() {
        assert_eq!(&line["thread"], thread, "line {i}: {line}");
        assert_eq!(line["source"]["function"], "app::main", "line {i}");
        assert_eq!(line.get("trace").is_some(), i < 36 && i % 3 == 1, "line {i}: {line}");
    }
    assert_eq!(v[1]["trace"]["span_id"], "0707070707070707");
    assert_eq!(v[1]["message"], "b 3");
}

#[test]
fn concatenated_files_reset_schemas() {
    let mut a = Stream::standard();
    a.schema(1, "first_file", Level::Info, None, &[]).schema(2, "only_in_first", Level::Info, None, &[]);
    a.records(0, 0, &[Rec::new(1, 0, vec![]), Rec::new(2, 0, vec![])]).end();
    let mut b = Stream::standard();
    b.schema(1, "second_file", Level::Info, None, &[field("x", TypeDesc::U8)]);
    b.records(0, 0, &[Rec::new(1, 0, vec![5])]).records(0, 0, &[Rec::new(2, 0, vec![])]);
    // Within a file, a later schema with the same id replaces the earlier one.
    b.schema(1, "replaced", Level::Info, None, &[]).records(0, 0, &[Rec::new(1, 0, vec![])]).end();
    let mut bytes = a.bytes.clone();
    bytes.extend_from_slice(&b.bytes);
    let (out, summary) = decode(&bytes);
    let types: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["first_file", "only_in_first", "second_file", "replaced"]);
    assert_eq!(summary.files, 2);
    assert_eq!(summary.damage, 1);
    let d = &summary.diagnostics[0];
    assert!(matches!(d.kind, DiagnosticKind::UnknownCallsite { callsite: 2, .. }), "{d}");
    let second_records = b.frames[3].0 + a.bytes.len();
    // The record starts after the frame header and the 2-byte records header.
    assert_eq!(d.offset, (second_records + FRAME_HEADER_LEN + 2) as u64);
}

#[test]
fn unknown_frame_kinds_are_skipped_with_a_note() {
    let mut s = Stream::standard();
    s.schema(1, "e", Level::Info, None, &[]);
    // A CRC-valid frame of kind 99, e.g. from a newer writer.
    let mut frame = Vec::new();
    push_frame(&mut frame, FrameKind::End, s.next_seq, b"future stuff");
    frame[4] = 99;
    let crc = lmlog_format::frame::frame_crc(99, 0, Some(s.next_seq), b"future stuff");
    frame[14..18].copy_from_slice(&crc.to_le_bytes());
    s.bytes.extend_from_slice(&frame);
    s.next_seq += 1;
    s.records(0, 0, &[Rec::new(1, 0, vec![])]).end();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 1);
    assert!(summary.is_clean());
    assert_eq!(summary.diagnostics.len(), 1);
    assert_eq!(summary.diagnostics[0].severity(), Severity::Note);
    assert!(summary.diagnostics[0].to_string().contains("unknown kind 99"));
}

#[test]
fn missing_end_is_only_a_note() {
    let mut s = Stream::standard();
    s.schema(1, "e", Level::Info, None, &[]).records(0, 0, &[Rec::new(1, 0, vec![])]);
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 1);
    assert!(summary.is_clean() && !summary.clean_end);
    assert_eq!(summary.diagnostics.len(), 1);
    assert_eq!(summary.diagnostics[0].kind, DiagnosticKind::MissingEnd);
    assert_eq!(summary.diagnostics[0].offset, s.bytes.len() as u64);
}

#[test]
fn many_records_in_big_frames_flush_in_chunks() {
    let fields = [field("key", TypeDesc::Str), field("n", TypeDesc::U32)];
    let mut s = Stream::standard();
    s.schema(1, "cache_miss", Level::Info, Some("miss {key}"), &fields);
    let mut expected = 0;
    for f in 0..5 {
        let recs: Vec<Rec> = (0..3000u32)
            .map(|i| {
                let mut body = pc(&format!("user:{i}"));
                body.extend(pc(&(i * f)));
                Rec::new(1, i as i64 % 7 - 3, body)
            })
            .collect();
        expected += recs.len();
        s.records(0, 1_000_000, &recs);
    }
    s.end();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), expected);
    assert_eq!(summary.events, expected as u64);
    assert!(summary.is_clean());
    for chunk in [1, 13, 4096] {
        let (chunked, _) = decode_chunked(&s.bytes, chunk).unwrap();
        assert!(chunked == out, "chunk size {chunk} changes the output");
    }
    // Integer deltas: the i-th record of every frame has the same ticks.
    let _ = zigzag_i64(0);
}

#[test]
fn times_addresses_uuids_quantities() {
    check_raw(TypeDesc::Timestamp, pc(&1_796_042_096_123_456_789i128), "\"2026-11-30T12:34:56.123456789Z\"");
    check_raw(TypeDesc::Timestamp, pc(&-1_500_000_000i128), "\"1969-12-31T23:59:58.500000000Z\"");
    check_raw(TypeDesc::IpAddr, vec![4, 10, 0, 0, 1], "\"10.0.0.1\"");
    let mut v6 = vec![16];
    v6.extend_from_slice(&"2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    check_raw(TypeDesc::IpAddr, v6.clone(), "\"2001:db8::1\"");
    check_raw(TypeDesc::SocketAddr, vec![4, 10, 0, 0, 1, 0xbb, 0x03], "\"10.0.0.1:443\"");
    v6.extend_from_slice(&pc(&80u16));
    check_raw(TypeDesc::SocketAddr, v6, "\"[2001:db8::1]:80\"");
    let uuid = 0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8u128.to_be_bytes().to_vec();
    check_raw(TypeDesc::Uuid, uuid, "\"67e55044-10b1-426f-9247-bb680e5fe0c8\"");
    check_raw(TypeDesc::Quantity("ns", &TypeDesc::U128), pc(&31_808u128), "31808");
    // As a map key, as inside any composite.
    check_raw(TypeDesc::Map(&TypeDesc::IpAddr, &TypeDesc::U8), vec![1, 4, 1, 2, 3, 4, 9], "{\"1.2.3.4\":9}");
}

/// Builds a `TypeDesc::Json` value: kind then content.
fn json_value(kind: lmlog_format::JsonKind, content: &[u8]) -> Vec<u8> {
    let mut b = vec![kind as u8];
    b.extend_from_slice(content);
    b
}

#[test]
fn json_values_decode_as_themselves() {
    use lmlog_format::JsonKind as K;
    let mut object = vec![K::Object as u8, 2];
    object.extend(pc(&"a"));
    object.extend(json_value(K::Array, &[3, K::Null as u8, K::True as u8, K::U64 as u8, 7]));
    object.extend(pc(&"b\"q"));
    let mut inner = vec![K::I64 as u8];
    inner.extend(pc(&-3i64));
    object.extend(inner);
    check_raw(TypeDesc::Json, object, r#"{"a":[null,true,7],"b\"q":-3}"#);
    check_raw(TypeDesc::Json, json_value(K::F64, &2.5f64.to_le_bytes()), "2.5");
    check_raw(TypeDesc::Json, json_value(K::String, &pc(&"x\ny")), "\"x\\ny\"");
    check_raw(TypeDesc::Json, json_value(K::False, &[]), "false");
}

#[test]
fn invalid_new_values_are_record_errors() {
    check_err(TypeDesc::IpAddr, vec![5, 1, 2, 3, 4, 5], "IP address of 5 bytes");
    check_err(TypeDesc::SocketAddr, vec![4, 1, 2, 3, 4], "ends early");
    check_err(TypeDesc::Uuid, vec![0; 15], "ends early");
    check_err(TypeDesc::Json, vec![9], "unknown JSON value kind 9");
    check_err(TypeDesc::Json, vec![lmlog_format::JsonKind::Array as u8, 5, 0], "exceeds the bytes that remain");
    // Nesting past the bound is an error, not a stack overflow.
    let deep = [lmlog_format::JsonKind::Array as u8, 1].repeat(100_000);
    check_err(TypeDesc::Json, deep, "nested deeper than 64");
    let mut at_bound = [lmlog_format::JsonKind::Array as u8, 1].repeat(63);
    at_bound.push(lmlog_format::JsonKind::Null as u8);
    assert_eq!(value_json(TypeDesc::Json, at_bound).unwrap(), format!("{}null{}", "[".repeat(63), "]".repeat(63)));
}
