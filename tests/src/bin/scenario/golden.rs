//! `lmlog-scenario golden DIR`: writes `DIR/every_type.lmlog` with the
//! running runtime and `DIR/every_type.jsonl`, its decoded form.
//!
//! The file holds every value type, every level, a message template, an
//! OpenTelemetry trace context, three threads (named, unnamed), a drop
//! report, a writer-loss report, a clock frame and LZ4-compressed records
//! frames. Drains happen only at explicit flushes, so the frames come out in
//! the same order every run; only timestamps differ between runs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog::{lm_event, Bytes, Compression, LogEvent, LogValue, Overflow};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

#[derive(LogValue)]
pub struct Point {
    pub x: i32,
    pub label: Option<String>,
}

#[derive(LogValue)]
enum Shape {
    Empty,
    Circle(f64),
    Pair(u8, i8),
    Rect {
        w: u16,
        #[lmlog(rename = "height")]
        h: u16,
    },
}

#[derive(LogEvent)]
#[lmlog(name = "every_type", level = "info", message = "s={s} f64={f64v} point={point} secret={pin}")]
struct EveryType<'a> {
    unit: (),
    yes: bool,
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
    ch: char,
    s: &'a str,
    escaped: &'a str,
    bytes: Bytes<'a>,
    none: Option<u32>,
    some: Option<&'a str>,
    list: Vec<u16>,
    array: [u8; 3],
    tuple: (u8, &'a str, bool),
    map: BTreeMap<String, u32>,
    int_keys: BTreeMap<i16, bool>,
    point: Point,
    shapes: Vec<Shape>,
    elapsed: Duration,
    #[lmlog(redact)]
    pin: &'a str,
    #[lmlog(skip)]
    _internal: u64,
}

#[derive(LogEvent)]
#[lmlog(level = "warn")]
struct NoFields;

/// A file sink whose next write fails when asked, to put a writer-loss
/// report in the file.
struct FailOnRequest {
    file: File,
    fail_next: Arc<AtomicBool>,
}

impl lmlog::Sink for FailOnRequest {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(io::Error::other("golden scenario: requested failure"));
        }
        self.file.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn every_type() -> EveryType<'static> {
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), 1);
    map.insert("quote\"key".to_string(), 2);
    let mut int_keys = BTreeMap::new();
    int_keys.insert(-3, true);
    int_keys.insert(7, false);
    EveryType {
        unit: (),
        yes: true,
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
        f32v: 0.1,
        f64v: -12.5,
        nan: f64::NAN,
        inf: f64::INFINITY,
        neg_inf: f32::NEG_INFINITY,
        ch: 'ß',
        s: "hello",
        escaped: "tab\tquote\"backslash\\newline\n\u{1}é😀",
        bytes: Bytes(&[0xde, 0xad, 0xbe, 0xef]),
        none: None,
        some: Some("present"),
        list: vec![1, 300, 65535],
        array: [1, 2, 3],
        tuple: (9, "nine", false),
        map,
        int_keys,
        point: Point { x: -4, label: Some("origin".into()) },
        shapes: vec![Shape::Empty, Shape::Circle(1.5), Shape::Pair(1, -1), Shape::Rect { w: 3, h: 4 }],
        elapsed: Duration::new(3, 250_000_000),
        pin: "1234",
        _internal: 99,
    }
}

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("every_type.lmlog");
    let fail_next = Arc::new(AtomicBool::new(false));
    let sink = FailOnRequest { file: File::create(&path)?, fail_next: fail_next.clone() };
    let config = lmlog::Config::new()
        .sink(sink)
        .env_filter(false)
        .filter("trace")
        .compression(Compression::Always)
        .overflow(Overflow::Drop)
        .buffer_capacity(4 << 10)
        .flush_interval(Duration::from_secs(3600)) // drains happen at the flushes below, not on a timer
        .service_name("golden")
        .flush_on_panic(false)
        .spill_capacity(0); // the failed write below loses its batch (held, it would be written late)
    {
        let _guard = lmlog::init(config)?;

        let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
        let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
        let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
        {
            let _attached = opentelemetry::Context::current().with_remote_span_context(span).attach();
            lm_event!(every_type());
            lm_event!(info, "in_span", n = 1u8);
        }
        lm_event!(NoFields);
        lm_event!(error, "level_error", code = -1i32);
        lm_event!(warn, "level_warn", "disk at {pct} %", pct = 91.5f64);
        lm_event!(info, "level_info", user.id = 7u64, "http.status" = 200u16);
        let reason = io::Error::other("timed out");
        lm_event!(debug, "level_debug", %reason, kind = ?reason.kind());
        lm_event!(trace, "level_trace", "{{literal}} {n}", n = 'x');
        lmlog::flush();

        std::thread::Builder::new()
            .name("golden-worker".into())
            .spawn(|| {
                for i in 0..3u32 {
                    lm_event!(info, "worker_step", step = i);
                }
            })?
            .join()
            .map_err(|_| "worker panicked")?;
        std::thread::spawn(|| lm_event!(info, "unnamed_thread", ok = true)).join().map_err(|_| "thread panicked")?;
        lmlog::flush();

        // Similar records drained together: an LZ4-compressed frame.
        for i in 0..64u64 {
            lm_event!(info, "batch", i, key = "user:7", latency_us = 130u32);
        }
        lmlog::flush();

        // A record larger than the 4 KiB staging buffer is dropped and
        // counted; the next record of the thread carries the drop report.
        let huge = "x".repeat(8 << 10);
        lm_event!(info, "too_big", huge = huge.as_str());
        lm_event!(info, "after_drop", ok = true);
        lmlog::flush();

        // The sink fails one write: the writer reports what it lost.
        lm_event!(info, "lost_to_sink", attempt = 0u8);
        lmlog::flush();
        fail_next.store(true, Ordering::SeqCst);
        lm_event!(info, "lost_to_sink", attempt = 1u8);
        lmlog::flush();
        lm_event!(info, "after_loss", ok = true);
        lmlog::flush();

        // A clock frame re-anchors ticks after a second.
        std::thread::sleep(Duration::from_millis(1100));
        lmlog::flush();
        lm_event!(info, "after_anchor", ok = true);
    }

    let jsonl = dir.join("every_type.jsonl");
    let summary = lmlog_decode::decode_file(&path, File::create(&jsonl)?)?;
    if !summary.is_clean() {
        return Err(format!("{} does not decode cleanly: {:?}", path.display(), summary.diagnostics).into());
    }
    eprintln!("golden: {} events in {}", summary.events, path.display());
    Ok(())
}
