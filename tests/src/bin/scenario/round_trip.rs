//! `lmlog-scenario round-trip FILE`: one event with a field of every
//! supported type (and every awkward string), for a test that checks each
//! decoded value against what it should be.

use std::collections::BTreeMap;
use std::path::Path;

use crate::golden::Point;
use lmlog::{lm_event, Bytes, LogEvent, LogValue};

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

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), 1);
    map.insert("b\"q".to_string(), 2);
    {
        let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
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
    Ok(())
}
