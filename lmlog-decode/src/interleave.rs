//! Several logs written at the same time (by different processes), decoded
//! into one output in time order.
//!
//! A [`Decoder`] in time order merges the threads of one stream: one file,
//! or a rotated series fed file after file. Logs of processes that ran side
//! by side are separate streams, each with its own clock and call sites.
//! [`interleave`] decodes each with a decoder of its own, in time order,
//! into a [`Stamped`] output: the stream's own output (any line-per-event
//! output: [`JsonLines`](crate::JsonLines), [`Pretty`](crate::Pretty),
//! [`Logfmt`](crate::Logfmt), [`OtelJson`](crate::OtelJson), filtered or
//! not) writing into a queue of lines, each stamped with its event's time.
//! A line goes out once no stream can still produce an older one: every
//! other stream has a line queued that is no older, or a watermark (FORMAT.md)
//! at least as new, or has ended. It reads next from the stream holding the
//! others back, so memory follows the streams' time skew, bounded by
//! [`MAX_QUEUED_BYTES`] of rendered lines (past it the oldest line goes out
//! anyway: streams without watermarks, format version 1).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::rc::Rc;

use crate::decoder::Decoder;
use crate::events::{Callsite, Event, Item};
use crate::output::Output;
use crate::report::{DecodeError, DecodeSummary};

/// Rendered bytes that [`interleave`] holds at most before it writes the
/// oldest line without waiting for the other streams.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// One stream's rendered lines not yet written, with their times.
#[derive(Debug, Default)]
struct Lines {
    buf: Vec<u8>,
    /// Start of the first line not yet written.
    start: usize,
    /// `(time, end in buf)` of each line not yet written, oldest first.
    marks: VecDeque<(i128, usize)>,
    /// The stream's latest watermark: it will write nothing older, but
    /// for a late record (FORMAT.md).
    watermark: i128,
}

impl Lines {
    /// Bytes of lines not yet written.
    fn queued(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Drops the bytes written, once they are the larger part of `buf`.
    fn compact(&mut self) {
        if self.marks.is_empty() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= COMPACT_AT && self.start >= self.queued() {
            let start = self.start;
            self.buf.drain(..start);
            self.marks.iter_mut().for_each(|m| m.1 -= start);
            self.start = 0;
        }
    }
}

/// Written bytes a line queue keeps at least before it drops them.
const COMPACT_AT: usize = 1 << 20;

/// What a [`Stamped`] output's inner output writes to: the stream's line
/// queue. Only [`interleave`] reads it.
#[derive(Debug, Clone)]
pub struct LineWriter(Rc<RefCell<Lines>>);

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An output for one stream of [`interleave`]: the wrapped output writes
/// each event's line into the stream's queue, stamped with the event's
/// time; watermarks tell how far the stream has got.
#[derive(Debug)]
pub struct Stamped<O> {
    inner: O,
    lines: Rc<RefCell<Lines>>,
    /// Whether the last event wrote a line (for `retract`).
    marked_last: bool,
}

impl<O: Output> Stamped<O> {
    /// The output `make` builds on the stream's [`LineWriter`]; it must
    /// write whole lines, one per event, and leave them in the writer when
    /// flushed (every output of this crate does).
    pub fn new(make: impl FnOnce(LineWriter) -> O) -> Self {
        let lines = Rc::new(RefCell::new(Lines { watermark: i128::MIN, ..Lines::default() }));
        Stamped { inner: make(LineWriter(Rc::clone(&lines))), lines, marked_last: false }
    }

    /// Pushes what the inner output buffered into the queue; stamps it with
    /// `time` if it wrote anything. Returns whether it did.
    fn stamp(&mut self, time: i128) -> io::Result<bool> {
        self.inner.flush()?;
        let mut lines = self.lines.borrow_mut();
        let end = lines.buf.len();
        let last_end = lines.marks.back().map_or(lines.start, |m| m.1);
        if end == last_end {
            return Ok(false);
        }
        lines.marks.push_back((time, end));
        Ok(true)
    }
}

impl<O: Output> Output for Stamped<O> {
    type Callsite = O::Callsite;

    fn callsite(&mut self, callsite: &Callsite) -> O::Callsite {
        self.inner.callsite(callsite)
    }

    fn event(&mut self, event: Event<'_>, prepared: &mut O::Callsite) -> io::Result<()> {
        let time = event.unix_nanos;
        self.inner.event(event, prepared)?;
        self.marked_last = self.stamp(time)?;
        Ok(())
    }

    fn retract(&mut self) {
        self.inner.retract();
        if std::mem::take(&mut self.marked_last) {
            let mut lines = self.lines.borrow_mut();
            lines.marks.pop_back();
            let end = lines.marks.back().map_or(lines.start, |m| m.1);
            lines.buf.truncate(end);
        }
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let Item::Watermark(w) = &item {
            let mut lines = self.lines.borrow_mut();
            lines.watermark = lines.watermark.max(w.unix_nanos);
        }
        self.inner.item(item)?;
        // Whatever an output writes for an item goes out with the oldest.
        self.stamp(i128::MIN)?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One stream of [`interleave`]: its decoder, and `feed`, which feeds it
/// its next piece of input (its next file's, after the last piece of one)
/// and returns `Ok(false)` once it has fed everything.
pub struct Stream<O: Output, F> {
    /// The stream's decoder (in time order: [`interleave`] turns it on).
    pub decoder: Decoder<Stamped<O>>,
    /// Feeds the decoder its next piece; `Ok(false)` at the end.
    pub feed: F,
}

impl<O: Output, F> std::fmt::Debug for Stream<O, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("decoder", &self.decoder).finish_non_exhaustive()
    }
}

/// A stream being merged.
struct Merging<O: Output, F> {
    decoder: Option<Decoder<Stamped<O>>>,
    lines: Rc<RefCell<Lines>>,
    feed: F,
    summary: Option<DecodeSummary>,
}

impl<O: Output, F> Merging<O, F> {
    /// The oldest time this stream may still write a line for.
    fn horizon(&self) -> i128 {
        let lines = self.lines.borrow();
        let queued = lines.marks.front().map_or(i128::MAX, |m| m.0);
        let future = if self.decoder.is_none() { i128::MAX } else { lines.watermark };
        queued.min(future)
    }
}

/// Decodes `streams` (logs written at the same time, each its own clock
/// and call sites) into `out`, their lines merged by time; see the module
/// documentation. Returns each stream's summary, in the order given.
///
/// ```
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// use lmlog_decode::interleave::{interleave, Stamped, Stream};
/// use lmlog_decode::{Decoder, JsonLines};
/// # let a = lmlog_format::frame::preamble().to_vec();
/// # let b = a.clone();
/// // `a` and `b` hold the logs of two processes.
/// let streams = [a, b].map(|bytes| {
///     let mut fed = false;
///     Stream {
///         decoder: Decoder::new(Stamped::new(JsonLines::new)),
///         feed: move |d: &mut Decoder<_>| {
///             if std::mem::replace(&mut fed, true) {
///                 return Ok(false);
///             }
///             d.feed(&bytes).map(|()| true)
///         },
///     }
/// });
/// let mut jsonl = Vec::new();
/// let summaries = interleave(streams, &mut jsonl)?;
/// assert_eq!(summaries.len(), 2);
/// # Ok(()) }
/// ```
pub fn interleave<O, F, W>(
    streams: impl IntoIterator<Item = Stream<O, F>>,
    out: W,
) -> Result<Vec<DecodeSummary>, DecodeError>
where
    O: Output,
    F: FnMut(&mut Decoder<Stamped<O>>) -> Result<bool, DecodeError>,
    W: Write,
{
    interleave_bounded(streams, out, MAX_QUEUED_BYTES)
}

/// [`interleave`], holding at most `max_queued` bytes of lines.
fn interleave_bounded<O, F, W>(
    streams: impl IntoIterator<Item = Stream<O, F>>,
    mut out: W,
    max_queued: usize,
) -> Result<Vec<DecodeSummary>, DecodeError>
where
    O: Output,
    F: FnMut(&mut Decoder<Stamped<O>>) -> Result<bool, DecodeError>,
    W: Write,
{
    let write = |source| DecodeError::Write { source };
    let mut streams: Vec<Merging<O, F>> = streams
        .into_iter()
        .map(|mut s| {
            s.decoder.set_time_order(true);
            let lines = Rc::clone(&s.decoder.output().lines);
            Merging { decoder: Some(s.decoder), lines, feed: s.feed, summary: None }
        })
        .collect();
    loop {
        // Write every line no stream can still precede.
        loop {
            let queued: usize = streams.iter().map(|s| s.lines.borrow().queued()).sum();
            let oldest =
                streams.iter().enumerate().filter_map(|(i, s)| s.lines.borrow().marks.front().map(|m| (m.0, i))).min();
            let Some((time, i)) = oldest else { break };
            let blocked = streams.iter().enumerate().any(|(j, s)| j != i && s.horizon() < time);
            if blocked && queued <= max_queued {
                break;
            }
            let mut lines = streams[i].lines.borrow_mut();
            let (_, end) = lines.marks.pop_front().expect("the oldest line is queued");
            out.write_all(&lines.buf[lines.start..end]).map_err(write)?;
            lines.start = end;
            lines.compact();
        }
        // Read on in the stream holding the others back.
        let Some(next) = streams
            .iter()
            .enumerate()
            .filter(|(_, s)| s.decoder.is_some())
            .min_by_key(|(_, s)| s.lines.borrow().watermark)
            .map(|(i, _)| i)
        else {
            break;
        };
        let stream = &mut streams[next];
        let decoder = stream.decoder.as_mut().expect("a stream not finished has its decoder");
        if !(stream.feed)(decoder)? {
            let decoder = stream.decoder.take().expect("a stream not finished has its decoder");
            stream.summary = Some(decoder.finish()?);
        }
    }
    out.flush().map_err(write)?;
    Ok(streams.into_iter().map(|s| s.summary.unwrap_or_default()).collect())
}

#[cfg(test)]
mod tests {
    use lmlog_format::Level;
    use lmlog_tests::synth::{Rec, Stream as Synth, ANCHOR_NANOS};

    use super::*;
    use crate::JsonLines;

    /// A log of one thread whose events (call site `name`) are at these
    /// nanosecond offsets, with a watermark after each frame of two.
    fn log(name: &str, at: &[u64], watermarks: bool) -> Vec<u8> {
        let mut s = Synth::standard();
        s.schema(1, name, Level::Info, None, &[]);
        for pair in at.chunks(2) {
            let recs: Vec<Rec> = pair.iter().map(|_| Rec::new(1, 0, vec![])).collect();
            // Each record of the pair at its own time: the first at the base.
            let mut recs = recs;
            if let [_, second] = &mut recs[..] {
                second.delta = (pair[1] - pair[0]) as i64;
            }
            s.records(1, pair[0], &recs);
            if watermarks {
                s.watermark(pair[pair.len() - 1] + 1);
            }
        }
        s.end();
        s.bytes
    }

    /// Interleaves `logs`, each fed in pieces of `piece` bytes; returns
    /// `name@offset` per line.
    fn merged(logs: &[Vec<u8>], piece: usize) -> Vec<String> {
        merged_within(logs, piece, MAX_QUEUED_BYTES)
    }

    fn merged_within(logs: &[Vec<u8>], piece: usize, max_queued: usize) -> Vec<String> {
        let streams: Vec<_> = logs
            .iter()
            .map(|bytes| {
                let mut at = 0;
                Stream {
                    decoder: Decoder::new(Stamped::new(JsonLines::new)),
                    feed: move |d: &mut Decoder<_>| {
                        if at >= bytes.len() {
                            return Ok(false);
                        }
                        let end = (at + piece).min(bytes.len());
                        d.feed(&bytes[at..end])?;
                        at = end;
                        Ok(true)
                    },
                }
            })
            .collect();
        let mut out = Vec::new();
        let summaries = interleave_bounded(streams, &mut out, max_queued).unwrap();
        assert!(summaries.iter().all(|s| s.is_clean()));
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let t = v["timestamp"].as_str().unwrap();
                let nanos: u64 = t[20..29].parse().unwrap();
                let base = ANCHOR_NANOS % 1_000_000_000;
                format!("{}@{}", v["event_type"].as_str().unwrap(), nanos - base)
            })
            .collect()
    }

    #[test]
    fn streams_are_merged_by_time_however_they_are_fed() {
        let a = log("a", &[10, 20, 50, 60, 90], true);
        let b = log("b", &[5, 30, 40, 70, 80, 100], true);
        let expected = ["b@5", "a@10", "a@20", "b@30", "b@40", "a@50", "a@60", "b@70", "b@80", "a@90", "b@100"];
        for piece in [1, 7, 64, 1 << 20] {
            assert_eq!(merged(&[a.clone(), b.clone()], piece), expected, "pieces of {piece} bytes");
        }
    }

    #[test]
    fn streams_without_watermarks_are_merged_at_their_ends() {
        let a = log("a", &[10, 30], false);
        let b = log("b", &[20, 40], false);
        assert_eq!(merged(&[a, b], 16), ["a@10", "b@20", "a@30", "b@40"]);
    }

    #[test]
    fn past_the_bound_the_oldest_line_goes_out_without_waiting() {
        // `b` has no watermarks: without a bound, `a` waits for its end.
        let a = log("a", &[10, 20, 30, 40], true);
        let b = log("b", &[5, 25], false);
        assert_eq!(merged(&[a.clone(), b.clone()], 8), ["b@5", "a@10", "a@20", "b@25", "a@30", "a@40"]);
        // Bounded to one line: `a`'s first lines go out as soon as they are
        // decoded, while `b` (read next: it holds the others back) is read to
        // its end, which releases its lines.
        assert_eq!(merged_within(&[a, b], 8, 1), ["a@10", "a@20", "b@5", "b@25", "a@30", "a@40"]);
    }

    /// Writes each event's type without reading its fields.
    struct TypesOnly(LineWriter);

    impl Output for TypesOnly {
        type Callsite = ();
        fn callsite(&mut self, _: &Callsite) {}
        fn event(&mut self, event: Event<'_>, _: &mut ()) -> io::Result<()> {
            writeln!(self.0, "{}", event.event_type())
        }
    }

    #[test]
    fn a_line_whose_record_turns_out_bad_is_withdrawn() {
        let mut s = Synth::standard();
        s.schema(1, "a", Level::Info, None, &[lmlog_tests::synth::field("n", lmlog_format::types::TypeDesc::U8)]);
        s.schema(2, "b", Level::Info, None, &[]);
        // The second record lacks its field: its line, written before the
        // decoder found out, is withdrawn.
        s.records(1, 10, &[Rec::new(2, 0, vec![]), Rec::new(1, 5, vec![])]);
        s.end();
        fn all_at_once<O: Output>(bytes: Vec<u8>) -> impl FnMut(&mut Decoder<Stamped<O>>) -> Result<bool, DecodeError> {
            let mut fed = false;
            move |d| {
                if std::mem::replace(&mut fed, true) {
                    return Ok(false);
                }
                d.feed(&bytes).map(|()| true)
            }
        }
        for output in ["types", "jsonl"] {
            let mut out = Vec::new();
            let summaries = if output == "types" {
                let stream =
                    Stream { decoder: Decoder::new(Stamped::new(TypesOnly)), feed: all_at_once(s.bytes.clone()) };
                interleave([stream], &mut out).unwrap()
            } else {
                let stream =
                    Stream { decoder: Decoder::new(Stamped::new(JsonLines::new)), feed: all_at_once(s.bytes.clone()) };
                interleave([stream], &mut out).unwrap()
            };
            assert_eq!(summaries[0].bad_records, 1);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.lines().count(), 1, "{output}: {text}");
        }
    }
}
