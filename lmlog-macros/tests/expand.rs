//! What the macros expand to, checked through the public traits: schemas,
//! type descriptors and encodings (against postcard through serde), and
//! `lm_event!` in the places it must compile without warnings. The runtime is
//! not started here (see `runtime.rs` for that).
#![deny(warnings)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use lmlog::__private::{FieldDesc, TypeDesc, VariantDesc, VariantKindDesc};
use lmlog::{lm_event, Encoder, EventSchema, Level, LogEvent, LogValue};
use serde::Serialize;

fn encode_value<T: LogValue + ?Sized>(value: &T) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut enc = Encoder::new(&mut buf);
    value.encode(&mut enc);
    assert!(!enc.overflowed());
    enc.written().to_vec()
}

fn encode_event<E: LogEvent>(event: &E) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut enc = Encoder::new(&mut buf);
    event.encode_fields(&mut enc);
    assert!(!enc.overflowed());
    enc.written().to_vec()
}

const fn field(name: &'static str, ty: &'static TypeDesc) -> FieldDesc {
    FieldDesc { name, ty, redacted: false }
}

const fn redacted(name: &'static str) -> FieldDesc {
    FieldDesc { name, ty: &TypeDesc::Str, redacted: true }
}

fn same_as_postcard<T: LogValue + Serialize>(value: &T) {
    assert_eq!(encode_value(value), postcard::to_allocvec(value).unwrap(), "{}", std::any::type_name::<T>());
}

// ---------------------------------------------------------------- LogValue

#[derive(LogValue, Serialize)]
struct Address<'a> {
    street: &'a str,
    #[lmlog(rename = "zip")]
    #[serde(rename = "zip")]
    postal_code: u32,
    #[lmlog(skip)]
    #[serde(skip)]
    _cache: NotLoggable,
    #[lmlog(redact)]
    #[serde(skip)]
    door_code: u16,
}

#[derive(LogValue, Serialize)]
struct Customer<'a> {
    id: u64,
    name: String,
    address: Address<'a>,
    tags: Vec<&'a str>,
    scores: BTreeMap<String, i32>,
    nickname: Option<String>,
}

#[derive(LogValue, Serialize)]
struct UserId(u64);

#[derive(LogValue, Serialize)]
struct Pair(
    u8,
    #[lmlog(skip)]
    #[serde(skip)]
    NotLoggable,
    i64,
);

#[derive(LogValue, Serialize)]
struct Marker;

#[derive(LogValue, Serialize)]
enum Payment<'a> {
    Cash,
    #[lmlog(rename = "card")]
    #[serde(rename = "card")]
    Card(&'a str),
    Split(u32, i16),
    Empty(),
    Wire {
        iban: &'a str,
        #[lmlog(redact)]
        #[serde(skip)]
        pin: u16,
        amount: f64,
    },
    Nested(Address<'a>),
}

#[derive(LogValue, Serialize)]
enum Choice<T> {
    None,
    One(T),
    Many(Vec<T>),
}

#[derive(LogValue, Serialize)]
struct Wrapper<T, U: ?Sized> {
    value: T,
    #[lmlog(skip)]
    #[serde(skip)]
    _marker: std::marker::PhantomData<U>,
}

/// A type without `LogValue`: allowed in skipped fields.
#[derive(Default)]
struct NotLoggable;

impl Serialize for NotLoggable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

fn address() -> Address<'static> {
    Address { street: "Main St", postal_code: 12345, _cache: NotLoggable, door_code: 4711 }
}

#[test]
fn log_value_descriptors() {
    const ADDRESS: TypeDesc = TypeDesc::Struct(
        "Address",
        &[
            FieldDesc { name: "street", ty: &TypeDesc::Str, redacted: false },
            FieldDesc { name: "zip", ty: &TypeDesc::U32, redacted: false },
            FieldDesc { name: "door_code", ty: &TypeDesc::Str, redacted: true },
        ],
    );
    assert_eq!(*<Address as LogValue>::TYPE, ADDRESS);
    const CUSTOMER: TypeDesc = TypeDesc::Struct(
        "Customer",
        &[
            field("id", &TypeDesc::U64),
            field("name", &TypeDesc::Str),
            field("address", &ADDRESS),
            field("tags", &TypeDesc::Seq(&TypeDesc::Str)),
            field("scores", &TypeDesc::Map(&TypeDesc::Str, &TypeDesc::I32)),
            field("nickname", &TypeDesc::Option(&TypeDesc::Str)),
        ],
    );
    assert_eq!(*<Customer as LogValue>::TYPE, CUSTOMER);
    assert_eq!(*<UserId as LogValue>::TYPE, TypeDesc::U64);
    assert_eq!(*<Pair as LogValue>::TYPE, TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::I64]));
    assert_eq!(*<Marker as LogValue>::TYPE, TypeDesc::Unit);
    assert_eq!(
        *<Payment as LogValue>::TYPE,
        TypeDesc::Enum(
            "Payment",
            &[
                VariantDesc { name: "Cash", kind: VariantKindDesc::Unit },
                VariantDesc { name: "card", kind: VariantKindDesc::Newtype(&TypeDesc::Str) },
                VariantDesc { name: "Split", kind: VariantKindDesc::Tuple(&[TypeDesc::U32, TypeDesc::I16]) },
                VariantDesc { name: "Empty", kind: VariantKindDesc::Tuple(&[]) },
                VariantDesc {
                    name: "Wire",
                    kind: VariantKindDesc::Struct(&[
                        FieldDesc { name: "iban", ty: &TypeDesc::Str, redacted: false },
                        FieldDesc { name: "pin", ty: &TypeDesc::Str, redacted: true },
                        FieldDesc { name: "amount", ty: &TypeDesc::F64, redacted: false },
                    ]),
                },
                VariantDesc { name: "Nested", kind: VariantKindDesc::Newtype(&ADDRESS) },
            ]
        )
    );
    assert_eq!(
        *<Choice<u16> as LogValue>::TYPE,
        TypeDesc::Enum(
            "Choice",
            &[
                VariantDesc { name: "None", kind: VariantKindDesc::Unit },
                VariantDesc { name: "One", kind: VariantKindDesc::Newtype(&TypeDesc::U16) },
                VariantDesc { name: "Many", kind: VariantKindDesc::Newtype(&TypeDesc::Seq(&TypeDesc::U16)) },
            ]
        )
    );
    // `U` is only in a skipped field: no `LogValue` bound on it.
    const WRAPPER: TypeDesc = TypeDesc::Struct("Wrapper", &[field("value", &TypeDesc::Bool)]);
    assert_eq!(*<Wrapper<bool, NotLoggable> as LogValue>::TYPE, WRAPPER);
}

#[test]
fn log_value_encoding_matches_postcard() {
    let mut scores = BTreeMap::new();
    scores.insert("a".to_string(), -3);
    scores.insert("b".to_string(), 70000);
    let customer = Customer {
        id: 300,
        name: "Ada".into(),
        address: address(),
        tags: vec!["vip", "beta"],
        scores,
        nickname: Some("countess".into()),
    };
    same_as_postcard(&customer);
    same_as_postcard(&address());
    same_as_postcard(&UserId(u64::MAX));
    same_as_postcard(&Pair(7, NotLoggable, -1));
    same_as_postcard(&Marker);
    for payment in [
        Payment::Cash,
        Payment::Card("4111"),
        Payment::Split(1, -2),
        Payment::Empty(),
        Payment::Wire { iban: "DE00", pin: 1234, amount: 9.5 },
        Payment::Nested(address()),
    ] {
        same_as_postcard(&payment);
    }
    same_as_postcard(&Choice::<String>::None);
    same_as_postcard(&Choice::One("x".to_string()));
    same_as_postcard(&Choice::Many(vec![1u64, 1 << 40]));
    same_as_postcard(&vec![Choice::One(Payment::Card("c")), Choice::None]);
    same_as_postcard(&Wrapper::<_, str> { value: (1u8, "t"), _marker: std::marker::PhantomData });
}

#[test]
fn many_variants_use_multi_byte_indices() {
    macro_rules! big_enum {
        ($($v:ident)*) => {
            #[derive(LogValue, Serialize, Clone, Copy)]
            #[allow(dead_code)]
            enum Big { $($v),* }
            const ALL: &[Big] = &[$(Big::$v),*];
        };
    }
    big_enum! {
        V00 V01 V02 V03 V04 V05 V06 V07 V08 V09 V10 V11 V12 V13 V14 V15 V16 V17 V18 V19
        V20 V21 V22 V23 V24 V25 V26 V27 V28 V29 V30 V31 V32 V33 V34 V35 V36 V37 V38 V39
        V40 V41 V42 V43 V44 V45 V46 V47 V48 V49 V50 V51 V52 V53 V54 V55 V56 V57 V58 V59
        V60 V61 V62 V63 V64 V65 V66 V67 V68 V69 V70 V71 V72 V73 V74 V75 V76 V77 V78 V79
        V80 V81 V82 V83 V84 V85 V86 V87 V88 V89 V90 V91 V92 V93 V94 V95 V96 V97 V98 V99
        W00 W01 W02 W03 W04 W05 W06 W07 W08 W09 W10 W11 W12 W13 W14 W15 W16 W17 W18 W19
        W20 W21 W22 W23 W24 W25 W26 W27 W28 W29 W30 W31 W32 W33 W34 W35 W36 W37 W38 W39
    }
    for v in ALL {
        same_as_postcard(v);
    }
    assert_eq!(encode_value(&Big::W39), vec![139, 1]);
}

// ---------------------------------------------------------------- LogEvent

#[derive(LogEvent)]
#[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id} ({card})")]
struct PaymentFailed<'a> {
    user_id: u64,
    amount: f64,
    reason: &'a str,
    #[lmlog(redact)]
    card: &'a str,
    #[lmlog(skip)]
    _handle: NotLoggable,
    tags: Vec<&'a str>,
    #[lmlog(rename = "pay")]
    payment: Payment<'a>,
}

#[derive(LogEvent)]
struct CacheMiss;

#[derive(LogEvent)]
#[lmlog(level = "WARNING")]
struct HTTPRequestDone<'a, T, U: ?Sized + 'a>
where
    T: Clone,
{
    status: T,
    path: &'a U,
    #[lmlog(redact)]
    secret: NotLoggable,
}

#[derive(LogEvent)]
#[lmlog(level = "error", message = "{type}")]
struct RawNames {
    r#type: u8,
}

#[test]
fn event_schema_contents() {
    let schema: &EventSchema = PaymentFailed::SCHEMA;
    assert_eq!(schema.name, "payment_failed");
    assert_eq!(schema.level, Level::Warn);
    assert_eq!(schema.message, Some("payment of {amount} failed for user {user_id} ({card})"));
    assert_eq!(
        schema.fields,
        &[
            field("user_id", &TypeDesc::U64),
            field("amount", &TypeDesc::F64),
            field("reason", &TypeDesc::Str),
            redacted("card"),
            field("tags", &TypeDesc::Seq(&TypeDesc::Str)),
            field("pay", <Payment as LogValue>::TYPE),
        ]
    );
    assert_eq!(
        schema.fingerprint,
        EventSchema::compute_fingerprint(schema.name, schema.level, schema.message, schema.fields)
    );

    let unit = CacheMiss::SCHEMA;
    assert_eq!((unit.name, unit.level, unit.message, unit.fields.len()), ("cache_miss", Level::Info, None, 0));
    assert_eq!(encode_event(&CacheMiss), Vec::<u8>::new());

    let generic = <HTTPRequestDone<'_, u16, str> as LogEvent>::SCHEMA;
    assert_eq!((generic.name, generic.level), ("http_request_done", Level::Warn));
    assert_eq!(generic.fields, &[field("status", &TypeDesc::U16), field("path", &TypeDesc::Str), redacted("secret")]);
    let other = <HTTPRequestDone<'_, String, [u8]> as LogEvent>::SCHEMA;
    assert_eq!(other.fields[0].ty, &TypeDesc::Str);
    assert_eq!(other.fields[1].ty, &TypeDesc::Seq(&TypeDesc::U8));
    assert_ne!(generic.fingerprint, other.fingerprint);

    let raw = RawNames::SCHEMA;
    assert_eq!((raw.level, raw.fields[0].name), (Level::Error, "type"));
}

#[test]
fn event_encoding_skips_skipped_and_redacted_fields() {
    let event = PaymentFailed {
        user_id: 7,
        amount: 12.5,
        reason: "card_declined",
        card: "4111 1111 1111 1111",
        _handle: NotLoggable,
        tags: vec!["retry"],
        payment: Payment::Card("visa"),
    };
    let expected =
        postcard::to_allocvec(&(7u64, 12.5f64, "card_declined", vec!["retry"], Payment::Card("visa"))).unwrap();
    assert_eq!(encode_event(&event), expected);

    let generic = HTTPRequestDone { status: 404u16, path: "/x", secret: NotLoggable };
    assert_eq!(encode_event(&generic), postcard::to_allocvec(&(404u16, "/x")).unwrap());
}

mod fingerprints {
    use super::*;

    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}")]
    pub struct Base {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}")]
    pub struct Same {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "f", level = "info", message = "{a}")]
    pub struct Name {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "debug", message = "{a}")]
    pub struct Lvl {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}!")]
    pub struct Message {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info")]
    pub struct NoMessage {
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{b}")]
    pub struct FieldName {
        pub b: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}")]
    pub struct FieldType {
        pub a: u64,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}")]
    pub struct Redacted {
        #[lmlog(redact)]
        pub a: u32,
    }
    #[derive(LogEvent)]
    #[lmlog(name = "e", level = "info", message = "{a}")]
    pub struct Extra {
        pub a: u32,
        pub b: u32,
    }

    #[test]
    fn change_with_every_part_of_the_schema() {
        let base = Base::SCHEMA.fingerprint;
        assert_eq!(base, Same::SCHEMA.fingerprint);
        let others = [
            Name::SCHEMA.fingerprint,
            Lvl::SCHEMA.fingerprint,
            Message::SCHEMA.fingerprint,
            NoMessage::SCHEMA.fingerprint,
            FieldName::SCHEMA.fingerprint,
            FieldType::SCHEMA.fingerprint,
            Redacted::SCHEMA.fingerprint,
            Extra::SCHEMA.fingerprint,
        ];
        for (i, fp) in others.iter().enumerate() {
            assert_ne!(*fp, base, "variant {i}");
            for other in &others[i + 1..] {
                assert_ne!(fp, other);
            }
        }
    }
}

// ---------------------------------------------------------------- lm_event!

thread_local! {
    static EVALUATED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn eval<T>(name: &'static str, value: T) -> T {
    EVALUATED.with(|e| e.borrow_mut().push(name));
    value
}

fn evaluated() -> Vec<&'static str> {
    EVALUATED.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

struct Shown(u32);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shown-{}", self.0)
    }
}

#[derive(Debug)]
#[allow(dead_code)]
struct Debugged {
    inner: Vec<u8>,
}

fn generic_fn<T: LogValue + fmt::Debug, U: fmt::Display + ?Sized>(t: T, u: &U) -> T {
    lm_event!(info, "generic", "{t} and {u}", t, %u, debug = ?t);
    t
}

fn returns_impl_trait(prefix: String) -> impl Fn(u32) -> usize {
    move |n| {
        lm_event!(debug, "closure", n, prefix = prefix.as_str(), "http.status" = 200u16, http.method = "GET");
        prefix.len()
    }
}

async fn async_fn(name: String) -> usize {
    let ready = async { 3u8 };
    lm_event!(warn, "async", name, n = ready.await);
    async move {
        lm_event!(trace, "inner_async", len = name.len());
        name.len()
    }
    .await
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

struct Holder<T> {
    value: T,
}

impl<T: LogValue + fmt::Display> Holder<T> {
    fn log(&self) -> Option<u32> {
        let parsed: u32 = "5".parse().ok()?;
        lm_event!(error, "holder", value = self.value, shown = %self.value, parsed, q = "7".parse::<u32>().ok()?);
        Some(parsed)
    }
}

#[test]
fn lm_event_compiles_everywhere() {
    let local = String::from("borrowed");
    // Values borrowed from locals stay usable.
    lm_event!(info, "borrowing", text = local, len = local.len(), slice = &local[1..3], deref = *local);
    assert_eq!(local, "borrowed");

    assert_eq!(generic_fn(3u8, "three"), 3);
    assert_eq!(generic_fn(vec![1u16], &Shown(1)), vec![1]);
    assert_eq!(returns_impl_trait("p".into())(5), 1);
    assert_eq!(block_on(async_fn("abc".into())), 3);
    assert_eq!(Holder { value: 9u64 }.log(), Some(5));

    let shown = Shown(4);
    let dbg = Debugged { inner: vec![1, 2] };
    lm_event!(trace, "captures", %shown, ?dbg, display = %shown, debug = ?dbg, r#type = 1u8, user.id = 5u64,);
    lm_event!(error, "no_fields");
    lm_event!(warn, "no_fields_template", "nothing to see",);
    lm_event!(info, "escaped", "{{literal}} {a}", a = 1u8);

    let event = PaymentFailed {
        user_id: 1,
        amount: 2.0,
        reason: "r",
        card: "c",
        _handle: NotLoggable,
        tags: vec![],
        payment: Payment::Cash,
    };
    lm_event!(event);
    lm_event!(&event);
    lm_event!(&&event,);
    let by_ref: &PaymentFailed<'_> = &event;
    lm_event!(by_ref);
    assert_eq!(<&PaymentFailed as LogEvent>::SCHEMA.fingerprint, PaymentFailed::SCHEMA.fingerprint);
    lm_event!(PaymentFailed { user_id: 1, amount: 2.0, reason: &local, card: "c", ..make_event("base") });
    lm_event!(HTTPRequestDone { status: 200u16, path: "/", secret: NotLoggable });
    lm_event!(CacheMiss);
    lm_event!(make_event(&local));
    // The event was only borrowed.
    assert_eq!(event.user_id, 1);
}

fn make_event(reason: &str) -> PaymentFailed<'_> {
    PaymentFailed {
        user_id: 3,
        amount: 0.5,
        reason,
        card: "",
        _handle: NotLoggable,
        tags: vec![reason],
        payment: Payment::Split(1, 2),
    }
}

#[test]
fn values_are_evaluated_once_in_order() {
    // Without a running runtime the first pass through a call site decides
    // its interest, so the values are evaluated at most once per pass, in
    // the order written, and the event value too.
    for _ in 0..3 {
        lm_event!(info, "ordered", a = eval("a", 1u8), b = %eval("b", 2u16), c = ?eval("c", 3u32), d = eval("d", "x"));
        lm_event!(eval("event", CacheMiss));
    }
    let seen = evaluated();
    assert!(!seen.is_empty() && seen.len() <= 15, "{seen:?}");
    let mut rest = seen.as_slice();
    while !rest.is_empty() {
        let n = if rest[0] == "event" { 1 } else { 4 };
        let (pass, tail) = rest.split_at(n);
        assert!(pass == ["a", "b", "c", "d"] || pass == ["event"], "{seen:?}");
        rest = tail;
    }
}
