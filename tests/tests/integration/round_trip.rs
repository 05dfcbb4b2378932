//! Every supported field type through the real runtime: encode in a child
//! process (`lmlog-scenario round-trip`), decode, compare each value with
//! what it must be.

use crate::support::{run_scenario, TempDir};

#[test]
fn every_type_round_trips_to_json() {
    let dir = TempDir::new("round-trip");
    let path = dir.path().join("round-trip.lmlog");
    run_scenario(&["round-trip", path.to_str().unwrap()]);
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
}
