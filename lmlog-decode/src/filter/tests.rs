//! The filter: parsing of every flag's values, each predicate, and the
//! filtered output on synthesized streams.

use std::collections::BTreeMap;

use lmlog_format::types::{FieldDesc, TypeDesc, VariantDesc, VariantKindDesc};
use lmlog_format::Level;
use lmlog_tests::synth::{field, redacted, Rec, Stream, ANCHOR_NANOS};
use serde::Serialize;

use super::*;
use crate::{Decoder, JsonLines};

fn pc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

static CUSTOMER: TypeDesc =
    TypeDesc::Struct("Customer", &[FieldDesc { name: "id", ty: &TypeDesc::U64, redacted: false }]);
static ORDER: TypeDesc = TypeDesc::Struct(
    "Order",
    &[
        FieldDesc { name: "customer", ty: &CUSTOMER, redacted: false },
        FieldDesc { name: "total", ty: &TypeDesc::F64, redacted: false },
    ],
);
static SHAPE: TypeDesc = TypeDesc::Enum(
    "Shape",
    &[
        VariantDesc { name: "Empty", kind: VariantKindDesc::Unit },
        VariantDesc { name: "Circle", kind: VariantKindDesc::Newtype(&TypeDesc::F64) },
        VariantDesc {
            name: "Rect",
            kind: VariantKindDesc::Struct(&[FieldDesc { name: "w", ty: &TypeDesc::U16, redacted: false }]),
        },
    ],
);

#[derive(Serialize)]
enum Shape {
    Empty,
    Circle(f64),
    Rect { w: u16 },
}

/// A payment event: user, latency, order (customer id, total), tags.
fn payment(delta: i64, user: &str, latency: u64, customer: u64, total: f64, tags: &[&str]) -> Rec {
    let mut body = pc(&(user, latency, (customer, total)));
    body.extend(pc(&tags.to_vec()));
    Rec::new(1, delta, body)
}

/// Two threads (`main` 1, `worker-1` 2), three call sites of three levels,
/// a traced event, a drop report and a writer-loss event. Ticks are
/// nanoseconds from [`ANCHOR_NANOS`].
fn stream() -> Vec<u8> {
    let mut traced = payment(10, "user:9", 50, 9, 1.0, &[]);
    traced.trace = Some(std::array::from_fn(|i| if i < 16 { 0xab } else { 1 }));
    let mut dropped = Vec::new();
    lmlog_format::varint::push_u64(&mut dropped, 5);
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .thread(2, Some("worker-1"))
        .schema(
            1,
            "payment_failed",
            Level::Warn,
            Some("payment of {user} failed"),
            &[
                field("user", TypeDesc::Str),
                field("latency_us", TypeDesc::U64),
                field("order", ORDER),
                field("tags", TypeDesc::Seq(&TypeDesc::Str)),
            ],
        )
        .schema(2, "cache_miss", Level::Info, None, &[field("key", TypeDesc::Str), field("latency_us", TypeDesc::F64)])
        .schema(3, "tick", Level::Debug, None, &[])
        .records(
            1,
            100,
            &[
                payment(0, "user:7", 150, 7, 12.5, &["urgent", "eu"]),
                Rec::new(2, 100, pc(&("user:7", 99.5f64))),
                Rec::new(3, 100, vec![]),
            ],
        )
        .records(
            2,
            1_000,
            &[
                payment(0, "user:8", 100, 8, 3.0, &["eu"]),
                traced,
                Rec::new(2, 100, pc(&("user:8", 250.0f64))),
                Rec::new(0, 1, dropped),
            ],
        )
        .loss(1, 10, "disk full", ANCHOR_NANOS + 5_000);
    s.bytes
}

/// `event_type` and fields of every line the filter keeps from [`stream`].
fn kept(filter: Filter) -> Vec<String> {
    let mut out = Vec::new();
    let mut decoder = Decoder::new(Filtered::new(filter, JsonLines::new(&mut out)));
    decoder.feed(&stream()).unwrap();
    let summary = decoder.finish().unwrap();
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{} {}", v["event_type"].as_str().unwrap(), v["fields"])
        })
        .collect()
}

/// The event types of what the filter keeps.
fn types(filter: Filter) -> Vec<String> {
    kept(filter).into_iter().map(|l| l.split(' ').next().unwrap().to_owned()).collect()
}

fn w(s: &str) -> Where {
    s.parse().unwrap()
}

#[test]
fn an_empty_filter_keeps_everything() {
    assert!(Filter::new().is_empty());
    assert_eq!(
        types(Filter::new()),
        [
            "payment_failed",
            "cache_miss",
            "tick",
            "payment_failed",
            "payment_failed",
            "cache_miss",
            "lmlog.dropped",
            "lmlog.writer_loss"
        ]
    );
}

#[test]
fn level_keeps_that_level_and_more_severe() {
    let warn = Filter::new().level("warn".parse().unwrap());
    assert!(!warn.is_empty());
    assert_eq!(
        types(warn),
        ["payment_failed", "payment_failed", "payment_failed", "lmlog.dropped", "lmlog.writer_loss"]
    );
    assert_eq!(types(Filter::new().level("error".parse().unwrap())), ["lmlog.writer_loss"]);
    assert_eq!(types(Filter::new().level("TRACE".parse().unwrap())).len(), 8);
}

#[test]
fn event_globs_match_event_types_built_ins_included() {
    let f = Filter::new().events("payment_*,cache_miss".parse().unwrap());
    assert_eq!(types(f).len(), 5);
    assert_eq!(types(Filter::new().events("t?ck".parse().unwrap())), ["tick"]);
    assert_eq!(types(Filter::new().events("lmlog.*".parse().unwrap())), ["lmlog.dropped", "lmlog.writer_loss"]);
    assert!(types(Filter::new().events("tic".parse().unwrap())).is_empty());
}

#[test]
fn globs() {
    let g = |p: &str, n: &str| p.parse::<Glob>().unwrap().matches(n);
    assert!(g("*", "") && g("*", "anything"));
    assert!(g("a*b*c", "a_b_x_c") && !g("a*b*c", "a_b_x_d"));
    assert!(g("*_miss", "cache_miss") && !g("*_miss", "cache_missed"));
    assert!(g("??", "ab") && !g("??", "abc") && !g("??", "a"));
    assert!(g("x, cache_miss", "cache_miss"), "patterns are trimmed");
    assert!(g("é*", "école"), "characters, not bytes");
    assert!(matches!("a,,b".parse::<Glob>(), Err(FilterError::Event(_))));
    assert!(matches!("".parse::<Glob>(), Err(FilterError::Event(_))));
}

#[test]
fn modules_match_themselves_and_submodules() {
    assert!(module_matches("db::pool", "db::pool"));
    assert!(module_matches("db::pool", "db::pool::conn"));
    assert!(!module_matches("db::pool", "db::poolx"));
    assert!(!module_matches("db::pool", "db"));
    assert!(!module_matches("db::pool", "app::db::pool"));
    // The synthesized call sites are in module `app`; built-ins have no module.
    assert_eq!(types(Filter::new().module("app".parse().unwrap())).len(), 6);
    assert!(types(Filter::new().module("ap".parse().unwrap())).is_empty());
    for bad in ["", "db::", "::db", "db:pool", "a b"] {
        assert_eq!(bad.parse::<ModulePath>(), Err(FilterError::Module(bad.to_owned())), "{bad}");
    }
}

#[test]
fn threads_by_name_or_id() {
    let by_name = types(Filter::new().thread("worker-1".parse().unwrap()));
    assert_eq!(by_name, ["payment_failed", "payment_failed", "cache_miss", "lmlog.dropped"]);
    assert_eq!(types(Filter::new().thread("2".parse().unwrap())), by_name);
    assert_eq!(types(Filter::new().thread("main".parse().unwrap())), ["payment_failed", "cache_miss", "tick"]);
    assert!(types(Filter::new().thread("nobody".parse().unwrap())).is_empty());
    let t: ThreadFilter = "7".parse().unwrap();
    assert!(t.matches(7, None) && t.matches(1, Some("7")) && !t.matches(1, Some("x")));
    assert_eq!("".parse::<ThreadFilter>(), Err(FilterError::Thread));
}

#[test]
fn time_ranges_are_inclusive() {
    let at = |ticks: i128| i128::from(ANCHOR_NANOS) + ticks;
    // Thread 1 at 100, 200, 300; thread 2 at 1000, 1010, 1110, 1111; loss at 5000.
    assert_eq!(types(Filter::new().since(at(1010))).len(), 4);
    assert_eq!(types(Filter::new().until(at(200))), ["payment_failed", "cache_miss"]);
    assert_eq!(types(Filter::new().since(at(200)).until(at(1000))), ["cache_miss", "tick", "payment_failed"]);
    assert!(types(Filter::new().since(at(5001))).is_empty());
}

#[test]
fn times_parse_as_rfc3339_or_relative() {
    let t = |s: &str| parse_time("--since", s, 1_000_000_000_000_000_000);
    assert_eq!(t("2026-11-25T13:23:10.133324123Z"), Ok(i128::from(ANCHOR_NANOS)));
    assert_eq!(t("2026-11-25T14:23:10.133324123+01:00"), Ok(i128::from(ANCHOR_NANOS)));
    assert_eq!(t("2026-11-25t13:23:10.5z"), Ok(i128::from(ANCHOR_NANOS) - 133_324_123 + 500_000_000));
    assert_eq!(t("2024-02-29T00:00:00-00:30"), Ok(1_709_166_600_000_000_000));
    assert_eq!(t("1969-12-31T23:59:59Z"), Ok(-1_000_000_000));
    assert_eq!(t("30s"), Ok(1_000_000_000_000_000_000 - 30_000_000_000));
    assert_eq!(t("15m"), Ok(1_000_000_000_000_000_000 - 900_000_000_000));
    assert_eq!(t("2h"), Ok(1_000_000_000_000_000_000 - 7_200_000_000_000));
    assert_eq!(t("1d"), Ok(1_000_000_000_000_000_000 - 86_400_000_000_000));
    for bad in [
        "",
        "15",
        "m",
        "15x",
        "-5m",
        "2026-11-25",
        "2026-11-25T13:23:10",
        "2026-02-30T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T13:23:10.Z",
        "2026-11-25T13:23:10.1234567891Z",
        "2026-11-25T13:23:10+0100",
        "yesterday",
    ] {
        assert_eq!(t(bad), Err(FilterError::Time { flag: "--since", value: bad.to_owned() }), "{bad}");
    }
    let e = parse_time("--until", "soon", 0).unwrap_err();
    assert_eq!(e.flag(), "--until");
    assert!(e.to_string().starts_with("--until: `soon`"), "{e}");
}

#[test]
fn trace_ids() {
    let id = TraceId(std::array::from_fn(|_| 0xab));
    assert_eq!("abababababababababababababababab".parse(), Ok(id));
    assert_eq!("ABABABABABABABABABABABABABABABAB".parse(), Ok(id));
    assert_eq!(
        kept(Filter::new().trace_id(id)),
        [r#"payment_failed {"latency_us":50,"order":{"customer":{"id":9},"total":1.0},"tags":[],"user":"user:9"}"#]
    );
    assert!(types(Filter::new().trace_id(TraceId([0xab; 16])).level("error".parse().unwrap())).is_empty());
    assert!(types(Filter::new().trace_id(TraceId([0; 16]))).is_empty());
    for bad in [
        "",
        "ab",
        "abababababababababababababababag",
        "abababababababababababababababab00",
        "+bababababababababababababababab",
    ] {
        assert_eq!(bad.parse::<TraceId>(), Err(FilterError::TraceId(bad.to_owned())), "{bad}");
    }
}

#[test]
fn levels_parse_leniently_and_name_the_flag() {
    assert_eq!("Warning".parse(), Ok(LevelFilter(Level::Warn)));
    let e = "loud".parse::<LevelFilter>().unwrap_err();
    assert_eq!(e, FilterError::Level("loud".into()));
    assert_eq!(e.to_string(), "--level: unknown level `loud` (expected one of trace, debug, info, warn, error)");
}

#[test]
fn where_conditions_parse() {
    let c = w("latency_us>=100");
    assert_eq!((c.path(), c.op(), c.value()), (&["latency_us".to_owned()][..], Op::Ge, "100"));
    assert_eq!(w("key=user:7").value(), "user:7");
    assert_eq!(w("a=b=c").value(), "b=c");
    assert_eq!(w("a!=").op(), Op::Ne);
    assert_eq!(w(" a <1").path(), ["a"]);
    assert_eq!(w("key = user:7 ").value(), "user:7");
    for (op, s) in
        [(Op::Eq, "a=1"), (Op::Ne, "a!=1"), (Op::Gt, "a>1"), (Op::Ge, "a>=1"), (Op::Lt, "a<1"), (Op::Le, "a<=1")]
    {
        assert_eq!(w(s).op(), op, "{s}");
    }
    for bad in ["latency_us", "=1", "a..b=1", ".a=1", "a!1", "a!"] {
        let e = bad.parse::<Where>().unwrap_err();
        assert!(matches!(e, FilterError::Where { .. }), "{bad}");
        assert_eq!(e.flag(), "--where");
    }
}

#[test]
fn where_compares_numbers_as_numbers() {
    assert_eq!(types(Filter::new().condition(w("latency_us>100"))), ["payment_failed", "cache_miss"]);
    assert_eq!(types(Filter::new().condition(w("latency_us>=100"))).len(), 3);
    assert_eq!(types(Filter::new().condition(w("latency_us<99.6"))), ["cache_miss", "payment_failed"]);
    assert_eq!(types(Filter::new().condition(w("latency_us=250"))), ["cache_miss"]);
    assert_eq!(types(Filter::new().condition(w("latency_us=250.0"))), ["cache_miss"]);
    assert_eq!(types(Filter::new().condition(w("latency_us=1e2"))), ["payment_failed"]);
    // Not a number: never equal to a number, and `!=` holds.
    assert!(types(Filter::new().condition(w("latency_us=fast"))).is_empty());
    assert_eq!(types(Filter::new().condition(w("latency_us!=fast"))).len(), 5);
    assert!(types(Filter::new().condition(w("latency_us>fast"))).is_empty());
}

#[test]
fn where_compares_strings_as_strings() {
    assert_eq!(types(Filter::new().condition(w("key=user:7"))), ["cache_miss"]);
    assert_eq!(types(Filter::new().condition(w("user=user:7"))), ["payment_failed"]);
    assert_eq!(types(Filter::new().condition(w("user>user:7"))), ["payment_failed", "payment_failed"]);
    assert_eq!(types(Filter::new().condition(w("user!=user:7"))), ["payment_failed", "payment_failed"]);
    // Several conditions must all hold; a missing field holds for no operator.
    let f = Filter::new().condition(w("user!=user:7")).condition(w("latency_us<100"));
    assert_eq!(kept(f).len(), 1);
    assert!(types(Filter::new().condition(w("nope!=1"))).is_empty());
}

#[test]
fn where_follows_dotted_paths_into_nested_values() {
    assert_eq!(types(Filter::new().condition(w("order.customer.id=7"))), ["payment_failed"]);
    assert_eq!(types(Filter::new().condition(w("order.customer.id>7"))).len(), 2);
    assert_eq!(types(Filter::new().condition(w("order.total<=3"))).len(), 2);
    assert!(types(Filter::new().condition(w("order.customer=7"))).is_empty(), "a struct is no leaf");
    assert!(types(Filter::new().condition(w("order.id=7"))).is_empty());
    // Sequences: any element, or one by index; `!=`: no element equal.
    assert_eq!(types(Filter::new().condition(w("tags=eu"))).len(), 2);
    assert_eq!(types(Filter::new().condition(w("tags.0=eu"))).len(), 1);
    assert_eq!(types(Filter::new().condition(w("tags.1=eu"))).len(), 1);
    assert_eq!(kept(Filter::new().condition(w("tags!=urgent"))).len(), 1, "the empty list has no value");
}

/// Decodes one event of fields `fields` and body `body`; whether `condition` holds.
fn holds(fields: &[FieldDesc], body: Vec<u8>, condition: &str) -> bool {
    let mut s = Stream::standard();
    s.thread(1, None).schema(1, "e", Level::Info, None, fields).records(1, 0, &[Rec::new(1, 0, body)]);
    let mut out = Vec::new();
    let mut decoder = Decoder::new(Filtered::new(Filter::new().condition(w(condition)), JsonLines::new(&mut out)));
    decoder.feed(&s.bytes).unwrap();
    assert!(decoder.finish().unwrap().is_clean());
    !out.is_empty()
}

#[test]
fn where_sees_maps_enums_options_and_other_scalars() {
    let map = [field("m", TypeDesc::Map(&TypeDesc::Str, &TypeDesc::U32))];
    let body = || pc(&BTreeMap::from([("a", 1u32), ("b", 2)]));
    assert!(holds(&map, body(), "m.b=2") && !holds(&map, body(), "m.a=2") && !holds(&map, body(), "m=a"));
    let int_keys = [field("m", TypeDesc::Map(&TypeDesc::I16, &TypeDesc::Str))];
    assert!(holds(&int_keys, pc(&BTreeMap::from([(-3i16, "x")])), "m.-3=x"));
    let shapes = [field("s", TypeDesc::Seq(&SHAPE))];
    let body = || pc(&vec![Shape::Empty, Shape::Circle(1.5), Shape::Rect { w: 3 }]);
    assert!(holds(&shapes, body(), "s=Empty"));
    assert!(holds(&shapes, body(), "s.Circle>1") && !holds(&shapes, body(), "s.Circle>2"));
    assert!(holds(&shapes, body(), "s.Rect.w=3") && holds(&shapes, body(), "s.2.Rect.w=3"));
    assert!(!holds(&shapes, body(), "s.0.Rect.w=3"));
    let scalars = [
        field("b", TypeDesc::Bool),
        field("o", TypeDesc::Option(&TypeDesc::U8)),
        field("c", TypeDesc::Char),
        field("big", TypeDesc::U128),
        field("neg", TypeDesc::I64),
        redacted("pin", TypeDesc::U32),
        field("after", TypeDesc::Str),
    ];
    let body = || pc(&(true, None::<u8>, 'x', u128::MAX, -5i64, "end"));
    assert!(holds(&scalars, body(), "b=true") && !holds(&scalars, body(), "b=false"));
    assert!(holds(&scalars, body(), "o=null") && holds(&scalars, body(), "c=x"));
    assert!(holds(&scalars, body(), "big>1e38") && holds(&scalars, body(), "neg<-4"));
    assert!(!holds(&scalars, body(), "pin=1") && !holds(&scalars, body(), "pin!=1"), "redacted: no value");
    assert!(holds(&scalars, body(), "after=end"));
    let some = [field("o", TypeDesc::Option(&TypeDesc::U8))];
    assert!(holds(&some, pc(&Some(4u8)), "o=4"));
}

#[test]
fn combined_filters_must_all_pass() {
    let f = Filter::new()
        .level("warn".parse().unwrap())
        .events("payment_*".parse().unwrap())
        .thread("worker-1".parse().unwrap())
        .condition(w("latency_us>=100"));
    assert_eq!(
        kept(f),
        [
            r#"payment_failed {"latency_us":100,"order":{"customer":{"id":8},"total":3.0},"tags":["eu"],"user":"user:8"}"#
        ]
    );
}

#[test]
fn records_that_do_not_decode_are_reported_under_a_where_filter() {
    let mut s = Stream::standard();
    s.thread(1, None).schema(1, "e", Level::Info, None, &[field("s", TypeDesc::Str)]).records(
        1,
        0,
        &[Rec::new(1, 0, vec![9, b'a'])],
    );
    let mut out = Vec::new();
    let mut decoder = Decoder::new(Filtered::new(Filter::new().condition(w("s=a")), JsonLines::new(&mut out)));
    decoder.feed(&s.bytes).unwrap();
    let summary = decoder.finish().unwrap();
    assert!(!summary.is_clean());
    assert!(out.is_empty());
}
