//! Every supported field type through the real runtime: encode → file →
//! lmlog-decode → JSON.

use std::collections::BTreeMap;

use lmlog::{lm_event, Bytes, LogEvent, LogValue};

#[derive(LogValue)]
struct Point {
    x: i32,
    label: Option<String>,
}

#[derive(LogValue)]
enum Shape {
    Empty,
    Circle(f64),
    Rect { w: u16, h: u16 },
}

#[derive(LogEvent)]
#[lmlog(name = "everything", level = "info", message = "s={s} f={f64v} secret={pin}")]
struct Everything<'a> {
    u8v: u8,
    u16v: u16,
    u32v: u32,
    u64v: u64,
    u128v: u128,
    i8v: i8,
    i16v: i16,
    i32v: i32,
    i64v: i64,
    i128v: i128,
    f32v: f32,
    f64v: f64,
    nan: f64,
    inf: f64,
    neg_inf: f32,
    yes: bool,
    ch: char,
    s: &'a str,
    empty: String,
    unicode: &'a str,
    nasty: &'a str,
    none: Option<u32>,
    some: Option<&'a str>,
    list: Vec<u16>,
    slice: &'a [i64],
    array: [u8; 3],
    tuple: (u8, &'a str, bool),
    bytes: Bytes<'a>,
    map: BTreeMap<String, u32>,
    point: Point,
    shapes: Vec<Shape>,
    #[lmlog(redact)]
    pin: &'a str,
    #[lmlog(skip)]
    _internal: u64,
}

#[test]
fn every_type_round_trips_to_json() {
    let path = std::env::temp_dir().join(format!("lmlog-roundtrip-{}.lmlog", std::process::id()));
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), 1);
    map.insert("b\"q".to_string(), 2);
    {
        let _guard = lmlog::init(lmlog::Config::new().output(&path)).unwrap();
        lm_event!(Everything {
            u8v: 255,
            u16v: 65535,
            u32v: 4_000_000_000,
            u64v: u64::MAX,
            u128v: u128::MAX,
            i8v: -128,
            i16v: -300,
            i32v: i32::MIN,
            i64v: i64::MIN,
            i128v: i128::MIN,
            f32v: 1.5,
            f64v: 12.5,
            nan: f64::NAN,
            inf: f64::INFINITY,
            neg_inf: f32::NEG_INFINITY,
            yes: true,
            ch: 'ß',
            s: "plain",
            empty: String::new(),
            unicode: "héllo wörld ✓ 日本",
            nasty: "quote\" backslash\\ newline\n tab\t cr\r bell\u{7} nul\0",
            none: None,
            some: Some("x"),
            list: vec![1, 300],
            slice: &[-1, 0, 1],
            array: [1, 2, 3],
            tuple: (9, "t", false),
            bytes: Bytes(&[0xde, 0xad, 0x00]),
            map,
            point: Point { x: -4, label: Some("p".into()) },
            shapes: vec![Shape::Empty, Shape::Circle(2.0), Shape::Rect { w: 3, h: 4 }],
            pin: "1234",
            _internal: 99,
        });
    }
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut out).unwrap();
    assert!(summary.is_clean());
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "control characters must not break the line: {text}");
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    let f = &line["fields"];
    let expected = serde_json::json!({
        "u8v": 255, "u16v": 65535, "u32v": 4_000_000_000u64, "u64v": u64::MAX,
        "i8v": -128, "i16v": -300, "i32v": i32::MIN, "i64v": i64::MIN,
        "f32v": 1.5, "f64v": 12.5, "nan": "NaN", "inf": "inf", "neg_inf": "-inf",
        "yes": true, "ch": "ß", "s": "plain", "empty": "", "unicode": "héllo wörld ✓ 日本",
        "nasty": "quote\" backslash\\ newline\n tab\t cr\r bell\u{7} nul\0",
        "none": null, "some": "x", "list": [1, 300], "slice": [-1, 0, 1], "array": [1, 2, 3],
        "tuple": [9, "t", false], "bytes": "dead00", "map": {"a": 1, "b\"q": 2},
        "point": {"x": -4, "label": "p"},
        "shapes": ["Empty", {"Circle": 2.0}, {"Rect": {"w": 3, "h": 4}}],
        "pin": "<redacted>",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&f[key], value, "field {key}");
    }
    // 128-bit extremes exceed serde_json's number range: compare the text.
    assert!(text.contains(&format!("\"u128v\":{}", u128::MAX)), "{text}");
    assert!(text.contains(&format!("\"i128v\":{}", i128::MIN)), "{text}");
    assert!(f.get("_internal").is_none());
    assert_eq!(line["message"], "s=plain f=12.5 secret=<redacted>");
    assert_eq!(line["level"], "info");
    std::fs::remove_file(&path).ok();
}
