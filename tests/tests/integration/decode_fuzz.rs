//! The decoder fuzzer, on real runtime files (`lmlog-scenario fuzz-corpus`):
//! rotated series written by the runtime with compression off and on,
//! concatenated, then damaged by `proptest`-chosen mutations (bit flips,
//! byte overwrites, runs of garbage, inserted bytes, truncation, duplicated
//! and swapped chunks) and decoded with the library, and for a few with the
//! `lmlog-decode` command.
//!
//! For every mutated stream the decoder must not panic, must finish
//! (a watchdog stops the test binary if it does not), must make no single
//! allocation larger than [`allocation_bound`], and must decode exactly the
//! events an independent model of the format predicts: every frame that
//! survives byte for byte decodes as in the undamaged file, in stream order,
//! unless the format says it cannot (its sequence number was seen, or a
//! record names a call site whose schema frame did not survive before it).
//! Every damaged region is reported at the byte offset where it starts.
//!
//! This lives in the integration binary (not in `lmlog-decode/tests/`)
//! because its input comes from a scenario run as a child process, and the
//! command's test helper is here. The binary's global allocator records
//! the largest allocation per thread for it; other tests only pay a
//! thread-local compare per allocation.
//!
//! More cases: `LMLOG_FUZZ_CASES=5000 cargo test -p lmlog-tests --test
//! integration decode_fuzz`; another seed: `LMLOG_FUZZ_SEED=<u64>` (or
//! `random`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use lmlog_decode::{DecodeSummary, Decoder, Item, StreamDecoder};
use lmlog_format::frame::{check_preamble, FrameHeader, FRAME_HEADER_LEN, PREAMBLE_LEN};
use lmlog_format::{CallsiteSchema, FrameKind, MAGIC, SYNC};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use crate::support::{decode_command, scenario_output, series, TempDir};

/// Worker threads and events per worker of `lmlog-scenario fuzz-corpus`.
const WORKERS: u32 = 4;
const EVENTS_PER_WORKER: u32 = 400;
/// Mutated streams decoded per run unless `LMLOG_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: u32 = 100;
/// The seed of a run unless `LMLOG_FUZZ_SEED` says otherwise: CI runs the
/// same cases every time.
const DEFAULT_SEED: u64 = 0x6c6d_6c6f_6700_0008;
/// How long one case may take before the decoder counts as hung. A hang is
/// not a slow decode: this only ends a test that would never end.
const WATCHDOG: Duration = Duration::from_secs(120);

// --- The largest allocation, per thread. ---

/// The system allocator, noting the largest allocation each thread makes.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation(size: usize) {
    // `try_with`: allocations during thread teardown are not measured.
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

/// Forgets this thread's largest allocation so far.
fn reset_largest_allocation() {
    LARGEST.with(|largest| largest.set(0));
}

fn largest_allocation() -> usize {
    LARGEST.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; noting a size neither allocates nor touches the memory.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// The largest single allocation decoding `input_len` bytes may make: a
/// small multiple of the input (one frame is buffered, one payload
/// decompressed), never less than the fixed buffers (the JSON output's
/// 64 KiB chunks, scratch vectors). A length or count read from damaged
/// bytes that reached an allocation would exceed it by far: frame lengths
/// go up to 16 MiB.
fn allocation_bound(input_len: usize) -> usize {
    (4 * input_len).max(128 << 10)
}

// --- The corpus: real files, decoded frame by frame. ---

/// One undamaged stream and what each of its units decodes to.
struct Corpus {
    name: String,
    bytes: Vec<u8>,
    units: Vec<Unit>,
    /// Frames by their header.
    frames_by_header: HashMap<Vec<u8>, Vec<usize>>,
    /// Bytes of the undamaged stream's JSON Lines.
    jsonl_len: usize,
    events: usize,
}

/// A preamble or a frame of the undamaged stream.
struct Unit {
    range: Range<usize>,
    kind: UnitKind,
}

enum UnitKind {
    Preamble,
    Frame {
        seq: u32,
        /// The call-site id a schema frame describes.
        schema: Option<u32>,
        /// The events the frame decodes to, in order.
        events: Vec<EventKey>,
    },
}

/// An event, described only by what its own frame holds (no timestamp, no
/// thread name: those come from other frames, which damage may take away).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct EventKey {
    /// The schema the event needs; `None` for the decoder's built-in events
    /// (drop reports, writer-loss reports).
    callsite: Option<u32>,
    text: String,
}

/// What stands at a place in a damaged stream.
enum Found<'c> {
    /// A file preamble the format can read (its reserved bytes are not
    /// looked at): a new file starts.
    File,
    /// A frame of the original, byte for byte.
    Frame(&'c Unit),
}

impl Corpus {
    /// What the decoder can read in `bytes`, in stream order: readable
    /// preambles, and at each sync marker of a version 2 file, the frame of
    /// the original whose bytes are there, if any; after each of them the
    /// decoder goes on past it. Compared byte for byte, so damage that
    /// leaves a frame's bytes as they were is no damage. (The corpus is
    /// version 2: none of its frames reads as a version 1 frame.)
    fn readable_units(&self, bytes: &[u8]) -> Vec<(Range<usize>, Found<'_>)> {
        let mut found = Vec::new();
        let mut version = lmlog_format::FORMAT_VERSION;
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            if let Ok(v) = check_preamble(rest) {
                version = v;
                found.push((at..at + PREAMBLE_LEN, Found::File));
                at += PREAMBLE_LEN;
                continue;
            }
            let frame = (version == lmlog_format::FORMAT_VERSION && rest.starts_with(&SYNC))
                .then(|| self.frames_by_header.get(&rest[..FRAME_HEADER_LEN.min(rest.len())]))
                .flatten()
                .and_then(|units| {
                    let same = |u: &&Unit| rest.get(..u.range.len()) == Some(&self.bytes[u.range.clone()]);
                    units.iter().map(|&u| &self.units[u]).find(same)
                });
            match frame {
                Some(unit) => {
                    found.push((at..at + unit.range.len(), Found::Frame(unit)));
                    at += unit.range.len();
                }
                None => at += 1,
            }
        }
        found
    }
}

/// Decodes `bytes` fed in pieces of `chunk` bytes, each event's key into `keys`.
fn decode_keys(bytes: &[u8], chunk: usize, keys: &mut Vec<EventKey>) -> DecodeSummary {
    let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
        if let Item::Event(event) = item {
            keys.extend(event_key(event));
        }
    }));
    for piece in bytes.chunks(chunk) {
        decoder.feed(piece).expect("the first preamble is intact");
    }
    decoder.finish().expect("decoding into memory cannot fail")
}

fn event_key(event: lmlog_decode::Event<'_>) -> Option<EventKey> {
    let callsite = event.callsite;
    let thread = event.thread.map(|t| t.id);
    let trace = event.trace.map(|t| (*t.trace_id(), *t.span_id(), t.flags()));
    let when = match event.ticks {
        Some(ticks) => format!("ticks {ticks}"),
        // Writer-loss events carry wall time of their own.
        None => format!("unix {}", event.unix_nanos),
    };
    // A record whose fields do not decode is not an event of the output.
    let fields = event.fields.to_json().ok()?;
    Some(EventKey {
        callsite: (!callsite.is_builtin()).then(|| callsite.id()),
        text: format!("{} {} thread {thread:?} {when} trace {trace:?} {fields}", callsite.id(), callsite.event_type()),
    })
}

/// Cuts an undamaged stream into its units and decodes them one at a time.
fn corpus_from(name: String, bytes: Vec<u8>) -> Corpus {
    let keys = Rc::new(RefCell::new(Vec::new()));
    let sink = keys.clone();
    let mut decoder = Decoder::new(lmlog_decode::from_fn(move |item| {
        if let Item::Event(event) = item {
            sink.borrow_mut().extend(event_key(event));
        }
    }));
    let mut units = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let (len, kind) = if rest.starts_with(&MAGIC) {
            (PREAMBLE_LEN, UnitKind::Preamble)
        } else {
            let header = FrameHeader::parse(rest, lmlog_format::FORMAT_VERSION).expect("a frame header");
            let len = FRAME_HEADER_LEN + header.len as usize;
            let schema = (header.kind == FrameKind::Schema as u8)
                .then(|| CallsiteSchema::decode(&rest[FRAME_HEADER_LEN..len]).expect("a schema").id);
            (len, UnitKind::Frame { seq: header.seq.expect("format version 2"), schema, events: Vec::new() })
        };
        decoder.feed(&bytes[at..at + len]).expect("the corpus decodes");
        let mut kind = kind;
        if let UnitKind::Frame { events, .. } = &mut kind {
            *events = std::mem::take(&mut *keys.borrow_mut());
        }
        units.push(Unit { range: at..at + len, kind });
        at += len;
    }
    let summary = decoder.finish().expect("the corpus decodes");
    assert!(summary.is_clean(), "{name}: {:?}", summary.diagnostics);
    let mut jsonl = Vec::new();
    lmlog_decode::decode_reader(&bytes[..], &mut jsonl).expect("the corpus decodes");
    let events =
        units.iter().map(|u| if let UnitKind::Frame { events, .. } = &u.kind { events.len() } else { 0 }).sum();
    let mut frames_by_header: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (i, unit) in units.iter().enumerate() {
        if let UnitKind::Frame { .. } = unit.kind {
            frames_by_header.entry(bytes[unit.range.start..][..FRAME_HEADER_LEN].to_vec()).or_default().push(i);
        }
    }
    Corpus { name, bytes, units, frames_by_header, jsonl_len: jsonl.len(), events }
}

/// The series written with compression off and with LZ4, each as one
/// stream (what `cat` of its files, oldest first, gives), written once per
/// test binary.
fn corpora() -> &'static [Corpus] {
    static CORPORA: OnceLock<Vec<Corpus>> = OnceLock::new();
    CORPORA.get_or_init(|| {
        ["off", "always"]
            .into_iter()
            .map(|compression| {
                let dir = TempDir::new(&format!("fuzz-corpus-{compression}"));
                scenario_output(&["fuzz-corpus", dir.path().to_str().unwrap(), compression]);
                let files = series(dir.path(), "app.lmlog");
                assert!(files.len() >= 2, "the scenario rotates at least once: {files:?}");
                let bytes = files.iter().flat_map(|file| std::fs::read(file).expect("a log file")).collect();
                corpus_from(format!("compression {compression}"), bytes)
            })
            .collect()
    })
}

// --- Mutated streams: pieces of the original and new bytes. ---

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    /// Bytes of the undamaged stream, unchanged.
    Original(Range<usize>),
    /// Bytes the damage made.
    New(Vec<u8>),
}

impl Piece {
    fn len(&self) -> usize {
        match self {
            Piece::Original(r) => r.len(),
            Piece::New(b) => b.len(),
        }
    }
}

/// A damaged copy of a stream, as the pieces it is made of.
#[derive(Clone, Debug)]
struct Mutated {
    pieces: Vec<Piece>,
}

impl Mutated {
    fn new(len: usize) -> Mutated {
        Mutated { pieces: vec![Piece::Original(0..len)] }
    }

    fn len(&self) -> usize {
        self.pieces.iter().map(Piece::len).sum()
    }

    fn bytes(&self, original: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for piece in &self.pieces {
            match piece {
                Piece::Original(r) => out.extend_from_slice(&original[r.clone()]),
                Piece::New(b) => out.extend_from_slice(b),
            }
        }
        out
    }

    /// Splits the pieces so that one starts at `at`; returns its index.
    fn split(&mut self, at: usize) -> usize {
        let mut start = 0;
        for i in 0..self.pieces.len() {
            let len = self.pieces[i].len();
            if at == start {
                return i;
            }
            if at < start + len {
                let k = at - start;
                let (head, tail) = match &self.pieces[i] {
                    Piece::Original(r) => (Piece::Original(r.start..r.start + k), Piece::Original(r.start + k..r.end)),
                    Piece::New(b) => (Piece::New(b[..k].to_vec()), Piece::New(b[k..].to_vec())),
                };
                self.pieces[i] = head;
                self.pieces.insert(i + 1, tail);
                return i + 1;
            }
            start += len;
        }
        self.pieces.len()
    }

    /// The pieces covering `range`.
    fn take(&mut self, range: Range<usize>) -> Vec<Piece> {
        // Split at the start first: splitting there would shift the index
        // of a piece that starts at the end.
        let start = self.split(range.start);
        let end = self.split(range.end);
        self.pieces[start..end].to_vec()
    }

    /// Replaces `range` with `with`.
    fn replace(&mut self, range: Range<usize>, with: Vec<Piece>) {
        let start = self.split(range.start);
        let end = self.split(range.end);
        self.pieces.splice(start..end, with);
        self.normalize();
    }

    /// Drops empty pieces and joins pieces of the original that are
    /// contiguous there too (their bytes are the original's).
    fn normalize(&mut self) {
        let mut out: Vec<Piece> = Vec::with_capacity(self.pieces.len());
        for piece in self.pieces.drain(..) {
            if piece.len() == 0 {
                continue;
            }
            match (out.last_mut(), &piece) {
                (Some(Piece::Original(a)), Piece::Original(b)) if a.end == b.start => a.end = b.end,
                (Some(Piece::New(a)), Piece::New(b)) => a.extend_from_slice(b),
                _ => out.push(piece),
            }
        }
        self.pieces = out;
    }
}

/// One kind of damage. Positions are drawn as [`Index`]es into the bytes
/// after the first preamble (which must survive for the input to be an
/// lmlog stream at all), resolved against the stream as damaged so far.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: Index,
        bit: u8,
    },
    /// Bytes replaced by different ones (each XORed with a non-zero byte).
    Overwrite {
        at: Index,
        len: usize,
        seed: u64,
    },
    /// A run of garbage over the stream.
    Garbage {
        at: Index,
        len: usize,
        seed: u64,
    },
    Insert {
        at: Index,
        len: usize,
        seed: u64,
    },
    Truncate {
        at: Index,
    },
    /// A copy of a chunk inserted elsewhere (before or after it).
    Duplicate {
        from: Index,
        len: usize,
        to: Index,
    },
    /// Two chunks trade places.
    Swap {
        first: Index,
        first_len: usize,
        second: Index,
        second_len: usize,
    },
}

/// A small deterministic generator for the bytes of a mutation.
fn garbage(seed: u64, len: usize) -> impl Iterator<Item = u8> {
    let mut state = seed | 1;
    (0..len).map(move |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    })
}

impl Mutation {
    fn apply(&self, stream: &mut Mutated, original: &[u8]) {
        let len = stream.len();
        if len <= PREAMBLE_LEN {
            return;
        }
        let position = |index: &Index| PREAMBLE_LEN + index.index(len - PREAMBLE_LEN);
        let chunk = |index: &Index, want: usize| {
            let start = position(index);
            start..(start + want).min(len)
        };
        let changed = |stream: &mut Mutated, range: Range<usize>, masks: &mut dyn Iterator<Item = u8>| {
            let current = Mutated { pieces: stream.take(range.clone()) }.bytes(original);
            let bytes = current.iter().zip(masks).map(|(b, mask)| b ^ mask.max(1)).collect();
            stream.replace(range, vec![Piece::New(bytes)]);
        };
        match self {
            Mutation::FlipBit { at, bit } => {
                let at = position(at);
                changed(stream, at..at + 1, &mut std::iter::once(1 << bit));
            }
            Mutation::Overwrite { at, len, seed } | Mutation::Garbage { at, len, seed } => {
                changed(stream, chunk(at, *len), &mut garbage(*seed, *len));
            }
            Mutation::Insert { at, len, seed } => {
                let at = position(at);
                stream.replace(at..at, vec![Piece::New(garbage(*seed, *len).collect())]);
            }
            Mutation::Truncate { at } => {
                let at = position(at);
                stream.replace(at..len, Vec::new());
            }
            Mutation::Duplicate { from, len, to } => {
                let copy = stream.take(chunk(from, *len));
                let to = position(to);
                stream.replace(to..to, copy);
            }
            Mutation::Swap { first, first_len, second, second_len } => {
                let (a, b) = (chunk(first, *first_len), chunk(second, *second_len));
                let (a, b) = if a.start <= b.start { (a, b) } else { (b, a) };
                if a.end > b.start {
                    return; // overlapping chunks: nothing to swap
                }
                let (piece_a, piece_b) = (stream.take(a.clone()), stream.take(b.clone()));
                stream.replace(b, piece_a);
                stream.replace(a, piece_b);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<Index>;
    prop_oneof![
        (index(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (index(), 1usize..=8, any::<u64>()).prop_map(|(at, len, seed)| Mutation::Overwrite { at, len, seed }),
        (index(), 1usize..=600, any::<u64>()).prop_map(|(at, len, seed)| Mutation::Garbage { at, len, seed }),
        (index(), 1usize..=64, any::<u64>()).prop_map(|(at, len, seed)| Mutation::Insert { at, len, seed }),
        index().prop_map(|at| Mutation::Truncate { at }),
        (index(), 1usize..=6000, index()).prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        (index(), 1usize..=6000, index(), 1usize..=6000).prop_map(|(first, first_len, second, second_len)| {
            Mutation::Swap { first, first_len, second, second_len }
        }),
    ]
}

/// One fuzz case: which corpus, its damage, and the size of the pieces the
/// decoder is fed.
#[derive(Clone, Debug)]
struct Case {
    corpus: usize,
    mutations: Vec<Mutation>,
    chunk: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let chunk = prop_oneof![Just(usize::MAX), 1usize..=64, 1usize..=100_000];
    (0usize..2, prop::collection::vec(mutation(), 1..=4), chunk).prop_map(|(corpus, mutations, chunk)| Case {
        corpus,
        mutations,
        chunk,
    })
}

impl Case {
    fn damage(&self, corpus: &Corpus) -> Mutated {
        let mut stream = Mutated::new(corpus.bytes.len());
        for m in &self.mutations {
            m.apply(&mut stream, &corpus.bytes);
        }
        stream
    }
}

// --- The model: what a damaged stream must decode to. ---

/// What the decoder knows of the current file, as the format defines it.
#[derive(Default)]
struct FileState {
    /// The number the next frame should carry.
    expected: Option<u32>,
    seen: HashSet<u32>,
    schemas: HashSet<u32>,
}

impl FileState {
    /// Whether a frame numbered `seq` is decoded (not a duplicate).
    fn accept(&mut self, seq: u32) -> bool {
        match self.expected {
            Some(expected) if seq < expected => {
                // Late frames fill gaps whatever their distance (the reader
                // remembers up to 1,024 separate gaps; a case makes far fewer).
                if !self.seen.insert(seq) {
                    return false;
                }
            }
            _ => {
                self.expected = Some(seq + 1);
                self.seen.insert(seq);
            }
        }
        true
    }
}

/// The events the damaged stream must decode to, in order, and the byte
/// ranges that are not whole units of the original (each must be reported
/// where it starts).
fn predict<'c>(corpus: &'c Corpus, bytes: &[u8]) -> (Vec<&'c EventKey>, Vec<Range<usize>>) {
    let mut expected = Vec::new();
    let mut damaged = Vec::new();
    let mut file: Option<FileState> = None;
    let mut at = 0;
    for (range, found) in corpus.readable_units(bytes) {
        if range.start > at {
            damaged.push(at..range.start);
        }
        at = range.end;
        match found {
            Found::File => file = Some(FileState::default()),
            Found::Frame(Unit { kind: UnitKind::Frame { seq, schema, events }, .. }) => {
                let file = file.as_mut().expect("the first preamble is never damaged");
                if !file.accept(*seq) {
                    continue;
                }
                file.schemas.extend(*schema);
                // A record of an unknown call site ends its frame.
                expected.extend(events.iter().take_while(|e| e.callsite.is_none_or(|id| file.schemas.contains(&id))));
            }
            Found::Frame(Unit { kind: UnitKind::Preamble, .. }) => unreachable!("preambles are found as files"),
        }
    }
    if bytes.len() > at {
        damaged.push(at..bytes.len());
    }
    (expected, damaged)
}

// --- Running one case. ---

/// What one decode of a damaged stream gave.
struct Outcome {
    keys: Vec<EventKey>,
    summary: DecodeSummary,
    jsonl: Vec<u8>,
    jsonl_summary: DecodeSummary,
    /// JSON Lines in time order.
    sorted_jsonl: Vec<u8>,
    sorted_summary: DecodeSummary,
    largest_allocation: usize,
}

/// Decodes `bytes` three times (events through a closure, and JSON Lines
/// as stored and in time order) on a
/// thread of its own, measuring that thread's largest allocation, under
/// the watchdog.
fn decode_damaged(
    bytes: Vec<u8>,
    chunk: usize,
    corpus: &Corpus,
    what: &dyn std::fmt::Debug,
) -> Result<Outcome, String> {
    let (done, outcome) = mpsc::channel();
    // The outputs' buffers are the test's, not the decoder's: sized up front
    // (damage adds at most a few chunks of events).
    let (jsonl_capacity, keys_capacity) = (2 * corpus.jsonl_len + (1 << 20), 2 * corpus.events + 1024);
    let worker = std::thread::spawn(move || {
        let mut jsonl = Vec::with_capacity(jsonl_capacity);
        let mut sorted_jsonl = Vec::with_capacity(jsonl_capacity);
        let mut keys = Vec::with_capacity(keys_capacity);
        reset_largest_allocation();
        let summary = decode_keys(&bytes, chunk, &mut keys);
        let mut decoder = StreamDecoder::new(&mut jsonl);
        for piece in bytes.chunks(chunk) {
            decoder.feed(piece).expect("the first preamble is intact");
        }
        let jsonl_summary = decoder.finish().expect("decoding into memory cannot fail");
        let mut decoder = StreamDecoder::new(&mut sorted_jsonl);
        decoder.set_time_order(true);
        for piece in bytes.chunks(chunk) {
            decoder.feed(piece).expect("the first preamble is intact");
        }
        let sorted_summary = decoder.finish().expect("decoding into memory cannot fail");
        let largest_allocation = largest_allocation();
        let _ = done.send(Outcome {
            keys,
            summary,
            jsonl,
            jsonl_summary,
            sorted_jsonl,
            sorted_summary,
            largest_allocation,
        });
    });
    match outcome.recv_timeout(WATCHDOG) {
        Ok(outcome) => {
            let _ = worker.join();
            Ok(outcome)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let panic = worker.join().expect_err("the worker ended without an outcome");
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Err(format!("the decoder panicked: {message}"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Nothing can stop the thread: stop the binary, saying why.
            eprintln!("decode_fuzz: the decoder did not finish within {WATCHDOG:?} on {what:?}");
            std::process::abort();
        }
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let corpus = &corpora()[case.corpus];
    let stream = case.damage(corpus);
    let bytes = stream.bytes(&corpus.bytes);
    let len = bytes.len();
    let (expected, damaged) = predict(corpus, &bytes);
    let outcome = decode_damaged(bytes, case.chunk, corpus, case).map_err(TestCaseError::fail)?;

    // Exactly the predicted events, in order.
    if outcome.keys.iter().ne(expected.iter().copied()) {
        let got: HashSet<&EventKey> = outcome.keys.iter().collect();
        let want: HashSet<&EventKey> = expected.iter().copied().collect();
        let missing: Vec<_> = expected.iter().filter(|k| !got.contains(*k)).take(3).collect();
        let extra: Vec<_> = outcome.keys.iter().filter(|k| !want.contains(k)).take(3).collect();
        return Err(TestCaseError::fail(format!(
            "{}: {} events decoded, {} predicted; first missing {missing:#?}, first unexpected {extra:#?}; \
             diagnostics {:#?}",
            corpus.name,
            outcome.keys.len(),
            expected.len(),
            outcome.summary.diagnostics
        )));
    }

    // Every damaged region reported where it starts, every diagnostic
    // inside the input.
    let diagnostics = &outcome.summary.diagnostics;
    for region in &damaged {
        prop_assert!(
            diagnostics.iter().any(|d| d.is_damage() && d.offset == region.start as u64),
            "{}: damaged bytes {region:?} of {len} not reported at {}: {diagnostics:#?}",
            corpus.name,
            region.start
        );
    }
    for d in diagnostics {
        prop_assert!(d.offset <= len as u64, "{d}");
        prop_assert!(d.to_string().starts_with(&format!("byte {}: ", d.offset)), "{d}");
    }

    // The JSON Lines output: the same decode, valid JSON, one line per event.
    prop_assert_eq!(&outcome.jsonl_summary, &outcome.summary);
    let text = std::str::from_utf8(&outcome.jsonl).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(text.lines().count(), outcome.keys.len());
    for line in text.lines() {
        prop_assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "invalid JSON: {line}");
    }

    // In time order: the same lines, only reordered, and the same counts.
    let sorted = std::str::from_utf8(&outcome.sorted_jsonl).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut stored_lines: Vec<&str> = text.lines().collect();
    let mut sorted_lines: Vec<&str> = sorted.lines().collect();
    stored_lines.sort_unstable();
    sorted_lines.sort_unstable();
    prop_assert!(
        stored_lines == sorted_lines,
        "{}: time order changed the events decoded: {} lines as stored, {} in time order; only as stored {:?}; only in time order {:?}",
        corpus.name,
        stored_lines.len(),
        sorted_lines.len(),
        stored_lines.iter().filter(|l| !sorted_lines.contains(l)).take(2).collect::<Vec<_>>(),
        sorted_lines.iter().filter(|l| !stored_lines.contains(l)).take(2).collect::<Vec<_>>()
    );
    let (a, b) = (&outcome.summary, &outcome.sorted_summary);
    prop_assert_eq!((a.events, a.bad_records, a.damage), (b.events, b.bad_records, b.damage));

    prop_assert!(
        outcome.largest_allocation <= allocation_bound(len),
        "{}: an allocation of {} bytes decoding {len} bytes",
        corpus.name,
        outcome.largest_allocation
    );
    Ok(())
}

fn cases() -> u32 {
    std::env::var("LMLOG_FUZZ_CASES").ok().map_or(DEFAULT_CASES, |n| n.parse().expect("LMLOG_FUZZ_CASES is a number"))
}

fn seed() -> RngSeed {
    match std::env::var("LMLOG_FUZZ_SEED") {
        Err(_) => RngSeed::Fixed(DEFAULT_SEED),
        Ok(s) if s == "random" => RngSeed::Random,
        Ok(s) => RngSeed::Fixed(s.parse().expect("LMLOG_FUZZ_SEED is a number or `random`")),
    }
}

// --- The tests. ---

/// The undamaged streams decode cleanly, every event once: what the
/// fuzzer compares against is right.
#[test]
fn the_corpus_decodes_cleanly_with_every_event_once() {
    for corpus in corpora() {
        let mut jsonl = Vec::new();
        let summary = lmlog_decode::decode_reader(&corpus.bytes[..], &mut jsonl).unwrap();
        assert!(summary.is_clean() && summary.clean_end, "{}: {:?}", corpus.name, summary.diagnostics);
        assert!(summary.files >= 2, "{}: a rotated series", corpus.name);
        assert_eq!(summary.events as usize, corpus.events, "{}", corpus.name);
        let mut seen = HashSet::new();
        for line in std::str::from_utf8(&jsonl).unwrap().lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            if event["event_type"] == "lmlog.dropped" {
                continue;
            }
            let (worker, seq) = (event["fields"]["worker"].as_u64().unwrap(), event["fields"]["seq"].as_u64().unwrap());
            assert_eq!(event["thread"]["name"], format!("fuzz-worker-{worker}"), "{line}");
            assert!(seen.insert((worker, seq)), "{}: twice: {line}", corpus.name);
        }
        assert_eq!(seen.len() as u64, u64::from(WORKERS * EVENTS_PER_WORKER), "{}", corpus.name);
        assert_eq!(summary.dropped_events, u64::from(WORKERS), "{}: each worker's oversized event", corpus.name);
    }
}

#[test]
fn intact_frames_decode_exactly_around_random_damage() {
    let config = Config { cases: cases(), failure_persistence: None, rng_seed: seed(), ..Config::default() };
    eprintln!("decode_fuzz: {} cases, seed {:?}", config.cases, config.rng_seed);
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&case(), |case| check(&case)) {
        panic!("{e}");
    }
}

/// The command decodes a few damaged files exactly as the library does,
/// in time order (the default) and as stored (`--unordered`): the same
/// JSON Lines, every diagnostic on standard error, and exit status 1 when
/// damage was found.
#[test]
fn the_command_agrees_with_the_library_on_damaged_files() {
    let dir = TempDir::new("decode-fuzz-cli");
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    for n in 0..12 {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        let corpus = &corpora()[case.corpus];
        let bytes = case.damage(corpus).bytes(&corpus.bytes);
        let input = dir.path().join(format!("damaged-{n}.lmlog"));
        let output = dir.path().join(format!("damaged-{n}.jsonl"));
        std::fs::write(&input, &bytes).unwrap();
        let mut jsonl = Vec::new();
        let time_order = n % 2 == 0;
        let mut decoder = lmlog_decode::StreamDecoder::new(&mut jsonl);
        decoder.set_time_order(time_order);
        decoder.feed(&bytes).unwrap();
        let summary = decoder.finish().unwrap();
        let mut command = decode_command();
        if !time_order {
            command.arg("--unordered");
        }
        let run = command.arg(&input).arg("-o").arg(&output).output().expect("run lmlog-decode");
        assert_eq!(run.status.code(), Some(if summary.is_clean() { 0 } else { 1 }), "{case:?}");
        assert!(std::fs::read(&output).unwrap() == jsonl, "{case:?}: the command's output differs");
        let stderr = String::from_utf8(run.stderr).unwrap();
        let expected: Vec<String> =
            summary.diagnostics.iter().map(|d| format!("lmlog-decode: {}: {d}", input.display())).collect();
        assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{case:?}");
    }
}
