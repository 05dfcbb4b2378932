//! The expansions against the running runtime: the schema frames written for
//! `lm_event!` call sites carry the invocation's location and function, the
//! event's fields and types, and the records carry the values.
#![deny(warnings)]

use std::io;
use std::sync::{Arc, Mutex};

use lmlog::{lm_event, Config, Level, LogEvent, LogValue, Sink};
use lmlog_format::frame::{check_preamble, decompress_lz4, FrameHeader, FLAG_LZ4, FRAME_HEADER_LEN, PREAMBLE_LEN};
use lmlog_format::{CallsiteSchema, Field, FrameKind, Type};

/// Collects the stream in memory.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Sink for Capture {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `(kind, payload)` of every frame.
fn frames(stream: &[u8]) -> Vec<(Option<FrameKind>, Vec<u8>)> {
    let version = check_preamble(stream).expect("preamble");
    let mut rest = &stream[PREAMBLE_LEN..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let header = FrameHeader::parse(rest, version).expect("sync marker");
        let end = FRAME_HEADER_LEN + header.len as usize;
        let payload = &rest[FRAME_HEADER_LEN..end];
        assert!(header.verify(payload), "bad frame CRC");
        let payload = match header.flags {
            0 => payload.to_vec(),
            FLAG_LZ4 => {
                let mut raw = Vec::new();
                decompress_lz4(payload, &mut raw).expect("LZ4 payload");
                raw
            }
            other => panic!("unknown frame flags {other:#x}"),
        };
        out.push((FrameKind::from_u8(header.kind), payload));
        rest = &rest[end..];
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn field(name: &str, ty: Type) -> Field {
    Field { name: name.into(), ty, redacted: false }
}

#[derive(LogValue)]
enum Method {
    Get,
    Post { body_len: u32 },
}

#[derive(LogEvent)]
#[lmlog(name = "request_done", level = "warn", message = "{method} took {micros}us")]
struct RequestDone<'a> {
    method: Method,
    micros: u64,
    path: &'a str,
    #[lmlog(redact)]
    token: &'a str,
}

fn generic<T: LogValue>(value: T) {
    lm_event!(info, "generic_site", value);
}

#[test]
fn schemas_and_records_reach_the_sink() {
    let stream = Arc::new(Mutex::new(Vec::new()));
    let guard =
        lmlog::init(Config::new().sink(Capture(stream.clone())).env_filter(false).filter("debug")).expect("init");

    let adhoc_line = line!() + 1;
    lm_event!(info, "adhoc_site", "user {user} did {what}", user = 7u64, what = "needle-adhoc", http.status = 200u16);
    let derived_line = line!() + 1;
    lm_event!(RequestDone {
        method: Method::Post { body_len: 3 },
        micros: 99,
        path: "needle-path",
        token: "needle-secret"
    });
    let closure_line = line!() + 1;
    let closure = |n: u32| lm_event!(debug, "closure_site", n, shown = %"needle-display", dbg = ?Some(1));
    closure(5);
    generic(1u8);
    generic("needle-generic");
    lm_event!(trace, "filtered_out", x = 1u8, method = Method::Get);
    drop(guard);

    let stream = stream.lock().unwrap().clone();
    let frames = frames(&stream);
    let schemas: Vec<CallsiteSchema> = frames
        .iter()
        .filter(|(kind, _)| *kind == Some(FrameKind::Schema))
        .map(|(_, payload)| CallsiteSchema::decode(payload).expect("schema"))
        .collect();
    let records: Vec<u8> =
        frames.iter().filter(|(kind, _)| *kind == Some(FrameKind::Records)).flat_map(|(_, p)| p.clone()).collect();
    let schema =
        |event_type: &str| -> Vec<&CallsiteSchema> { schemas.iter().filter(|s| s.event_type == event_type).collect() };

    let adhoc = schema("adhoc_site");
    assert_eq!(adhoc.len(), 1, "{schemas:#?}");
    let adhoc = adhoc[0];
    assert_eq!((adhoc.line, adhoc.column), (adhoc_line, 5));
    assert_eq!(adhoc.file, file!());
    assert_eq!(adhoc.module, "runtime");
    assert_eq!(adhoc.function, "runtime::schemas_and_records_reach_the_sink");
    assert_eq!(adhoc.level, Level::Info);
    assert_eq!(adhoc.message.as_deref(), Some("user {user} did {what}"));
    assert_eq!(adhoc.fields, vec![field("user", Type::U64), field("what", Type::Str), field("http.status", Type::U16)]);

    let derived = schema("request_done");
    assert_eq!(derived.len(), 1, "{schemas:#?}");
    let derived = derived[0];
    assert_eq!((derived.line, derived.column, derived.level), (derived_line, 5, Level::Warn));
    assert_eq!(derived.message.as_deref(), Some("{method} took {micros}us"));
    assert_eq!(derived.fields[0].ty, <Method as LogValue>::TYPE.to_owned_type());
    assert_eq!(derived.fields[3], Field { name: "token".into(), ty: Type::Str, redacted: true });
    assert_eq!(derived.fields.len(), RequestDone::SCHEMA.fields.len());

    let closure = schema("closure_site");
    assert_eq!(closure.len(), 1, "{schemas:#?}");
    assert_eq!((closure[0].line, closure[0].column), (closure_line, 28));
    assert_eq!(closure[0].function, "runtime::schemas_and_records_reach_the_sink");
    assert_eq!(closure[0].fields, vec![field("n", Type::U32), field("shown", Type::Str), field("dbg", Type::Str)]);

    // One call site in a generic function, two schemas.
    let mut generic = schema("generic_site");
    generic.sort_by_key(|s| s.id);
    assert_eq!(generic.len(), 2, "{schemas:#?}");
    assert_eq!(generic[0].line, generic[1].line);
    assert_eq!(generic[0].function, "runtime::generic");
    assert_eq!((&generic[0].fields[0].ty, &generic[1].fields[0].ty), (&Type::U8, &Type::Str));

    assert!(schema("filtered_out").is_empty());

    for needle in ["needle-adhoc", "needle-path", "needle-display", "needle-generic", "Some(1)"] {
        let mut encoded = vec![needle.len() as u8];
        encoded.extend_from_slice(needle.as_bytes());
        assert!(contains(&records, &encoded), "{needle} not in the records");
    }
    assert!(!contains(&records, b"needle-secret"), "a redacted value was written");
}
