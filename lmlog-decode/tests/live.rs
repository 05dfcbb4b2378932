//! The background decoder.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lmlog_decode::{DecodeError, LiveDecoder};
use lmlog_format::types::TypeDesc;
use lmlog_format::Level;
use lmlog_tests::synth::*;

/// A writer whose contents the test can read while the decoder runs.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn stream() -> Stream {
    let mut s = Stream::standard();
    s.schema(1, "tick", Level::Info, Some("tick {n}"), &[field("n", TypeDesc::U8)]);
    for i in 0..20u8 {
        s.records(0, i as u64, &[Rec::new(1, 0, vec![i]), Rec::new(1, 1, vec![i.wrapping_mul(3)])]);
    }
    s.end();
    s
}

#[test]
fn feed_sync_finish() {
    let s = stream();
    let (expected, _) = decode(&s.bytes);
    let out = Shared::default();
    let live = LiveDecoder::spawn_with(out.clone(), 2, None).unwrap();
    // Feed the first half in odd-sized chunks; everything in complete frames
    // must be out after sync.
    let half = s.frames[10].1;
    for c in s.bytes[..half + 5].chunks(7) {
        live.feed(c.to_vec());
    }
    live.sync().unwrap();
    let complete = s.frames.iter().take_while(|f| f.1 <= half + 5).count();
    let (upto, _) = decode(&s.bytes[..s.frames[complete - 1].1]);
    assert_eq!(out.text(), upto);
    // The rest through feed_slice, reusing recycled buffers.
    for c in s.bytes[half + 5..].chunks(64) {
        live.feed_slice(c);
    }
    live.sync().unwrap();
    assert_eq!(out.text(), expected);
    let summary = live.finish().unwrap();
    assert_eq!(summary.events, 40);
    assert!(summary.is_clean() && summary.clean_end);
    assert_eq!(summary.bytes_read, s.bytes.len() as u64);
}

#[test]
fn recycles_buffers() {
    let s = stream();
    let live = LiveDecoder::spawn(std::io::sink()).unwrap();
    for c in s.bytes.chunks(100) {
        let mut buf = live.recycle().unwrap_or_else(|| Vec::with_capacity(100));
        buf.extend_from_slice(c);
        live.feed(buf);
    }
    live.sync().unwrap();
    let recycled = live.recycle().expect("drained buffers come back");
    assert!(recycled.is_empty() && recycled.capacity() >= 100);
    live.finish().unwrap();
}

#[test]
fn diagnostics_and_fatal_errors() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let s = stream();
    let mut bytes = s.bytes.clone();
    bytes[s.frames[3].0 + 16] ^= 1;
    let live = LiveDecoder::spawn_with(
        std::io::sink(),
        LiveDecoder::DEFAULT_CAPACITY,
        Some(Box::new(move |d| seen2.lock().unwrap().push(d.to_string()))),
    )
    .unwrap();
    live.feed(bytes);
    live.sync().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(seen.lock().unwrap()[0].contains("CRC mismatch"));
    let summary = live.finish().unwrap();
    assert_eq!(summary.damage, 1);
    assert_eq!(summary.events, 38);

    let live = LiveDecoder::spawn(std::io::sink()).unwrap();
    live.feed(b"definitely not lmlog".to_vec());
    assert!(matches!(live.sync(), Err(DecodeError::NotLmlog { offset: 0 })));
    // Feeding after a failure neither blocks nor panics.
    for _ in 0..200 {
        live.feed(vec![0; 10]);
    }
    assert!(matches!(live.finish(), Err(DecodeError::NotLmlog { .. })));
}

#[test]
fn drop_flushes_everything() {
    let s = stream();
    let (expected, _) = decode(&s.bytes);
    let out = Shared::default();
    {
        let live = LiveDecoder::spawn(out.clone()).unwrap();
        live.feed(s.bytes.clone());
    }
    assert_eq!(out.text(), expected);
}

/// A writer like a `BufWriter`: what is written shows only once flushed.
#[derive(Default)]
struct ShownWhenFlushed {
    pending: Vec<u8>,
    shown: Shared,
}

impl Write for ShownWhenFlushed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.shown.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }
}

#[test]
fn writes_through_whenever_it_has_caught_up() {
    let s = stream();
    let (expected, _) = decode(&s.bytes);
    let out = ShownWhenFlushed::default();
    let shown = out.shown.clone();
    let live = LiveDecoder::spawn(out).unwrap();
    // Two feeds and no sync: each time the thread has decoded all it was
    // fed, the lines so far are written out and flushed.
    let half = s.frames[10].1;
    for (part, upto) in [(&s.bytes[..half], half), (&s.bytes[half..], s.bytes.len())] {
        live.feed(part.to_vec());
        let (want, _) = decode(&s.bytes[..upto]);
        let deadline = Instant::now() + Duration::from_secs(60);
        while shown.text() != want {
            assert!(Instant::now() < deadline, "the output never showed the lines fed: {:?}", shown.text());
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert_eq!(shown.text(), expected);
    live.finish().unwrap();
}

#[test]
fn any_output_runs_on_the_thread() {
    let s = stream();
    let mut expected = Vec::new();
    let mut offline = lmlog_decode::Decoder::new(lmlog_decode::Pretty::new(&mut expected, false));
    offline.feed(&s.bytes).unwrap();
    offline.finish().unwrap();
    let expected = String::from_utf8(expected).unwrap();
    assert_eq!(expected.lines().count(), 40);

    let out = Shared::default();
    let live = LiveDecoder::spawn_output(lmlog_decode::Pretty::new(out.clone(), false)).unwrap();
    for c in s.bytes.chunks(100) {
        live.feed_slice(c);
    }
    live.sync().unwrap();
    assert_eq!(out.text(), expected, "what the offline decoder writes, complete at sync");
    assert_eq!(live.finish().unwrap().events, 40);
}
