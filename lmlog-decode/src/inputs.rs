//! What the command decodes and in which order: standard input, or the
//! files named on the command line, the lmlog files of the directories
//! named, and the rest of each rotated series named by its base name, put
//! in the order they were written ([`resolve`]); then feeding them into a
//! [`Decoder`] with diagnostics that name each file and the byte offset in
//! it ([`feed`], [`Diagnostics`]).
//!
//! Files are ordered by the index in their series and their session (the
//! `file_index` and clock anchor of their first session frame, then the
//! writing process's id), never by name. An index absent between the
//! lowest and the highest of a series is a [`Problem::Gap`].

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lmlog_decode::interleave::{interleave, LineWriter, Stamped, Stream};
use lmlog_decode::{DecodeError, DecodeSummary, Decoder, Diagnostic, DiagnosticKind, Output};
use lmlog_format::frame::{check_preamble, frame_header_len, FrameHeader, PreambleError, PREAMBLE_LEN};
use lmlog_format::schema::from_payload;
use lmlog_format::{FrameKind, SessionInfo};

use crate::progress::Progress;

/// Digits of a closed file's index in its name (`app.lmlog.0000000042`),
/// as the runtime names them (FORMAT.md, "File names of a rotated series").
const INDEX_DIGITS: usize = 10;

/// Bytes read from an input at a time.
pub const READ_CHUNK: usize = 256 << 10;

/// The largest session frame payload read to order files: a session is a
/// few hundred bytes; anything larger is not taken for one.
const MAX_SESSION_PAYLOAD: u32 = 1 << 20;

/// What to decode, in order, and what was found wrong with the inputs
/// themselves.
#[derive(Debug)]
pub struct Inputs {
    /// Where the bytes come from.
    pub source: Source,
    /// Files of a series that are missing, and files found that cannot be
    /// decoded: each makes the exit status 1.
    pub problems: Vec<Problem>,
}

/// Where the bytes come from.
#[derive(Debug)]
pub enum Source {
    /// Standard input (no file named, or `-`).
    Stdin,
    /// These files, in the order they were written.
    Files(Vec<InputFile>),
}

impl Inputs {
    /// The files, split into the logs that may have been written side by
    /// side: each stream the files of one application (by the host,
    /// executable and service their sessions name) or of one series (by
    /// name), in the order they were written; streams in the order of their
    /// first files. Empty for standard input.
    pub fn streams(&self) -> Vec<Vec<&InputFile>> {
        let Source::Files(files) = &self.source else { return Vec::new() };
        streams(files).into_iter().map(|stream| stream.into_iter().map(|i| &files[i]).collect()).collect()
    }

    /// The bytes the files hold (0 for standard input).
    pub fn total_bytes(&self) -> u64 {
        match &self.source {
            Source::Stdin => 0,
            Source::Files(files) => files.iter().map(|file| file.len).sum(),
        }
    }
}

/// One file to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Its path, as named or as found in its directory.
    pub path: PathBuf,
    /// Its length when it was found.
    pub len: u64,
    /// Its index in its series: its first session's `file_index`, else the
    /// index in its name.
    pub index: Option<u32>,
    /// Which series it belongs to: its directory (canonical, so that two
    /// spellings of one directory are one series) and the series' base name.
    series: (PathBuf, std::ffi::OsString),
    /// Sort key after the index: its first session's clock anchor and process id.
    session: (u64, u32),
    /// The application that wrote it, as its first session names it.
    writer: Option<Writer>,
}

/// What names the application that wrote a file: host name, executable
/// and service name. Its files (of every run, whatever their names) were
/// written one after another, never side by side.
type Writer = (Option<String>, Option<String>, Option<String>);

/// Something wrong with the inputs that does not stop decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Files `first..=last` of the series whose live file is `series` are
    /// missing, while files before and after them are present.
    Gap {
        /// The series' live file (its base name).
        series: PathBuf,
        /// The first missing index.
        first: u32,
        /// The last missing index.
        last: u32,
    },
    /// A file of a series, or found in a directory, that is not a readable
    /// lmlog file; skipped.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong with its first bytes.
        error: PreambleError,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Gap { series, first, last } => {
                let name = |index: u32| closed_path(series, index).display().to_string();
                write!(f, "{}: gap in the series: ", series.display())?;
                if first == last {
                    write!(f, "file {first} ({}) is missing", name(*first))?;
                } else {
                    write!(f, "files {first} to {last} ({} to {}) are missing", name(*first), name(*last))?;
                }
                f.write_str("; the events of the files around it are decoded")
            }
            Problem::Unreadable { path, error } => write!(f, "{}: {error}; skipped", path.display()),
        }
    }
}

/// Why the inputs cannot be decoded at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path named cannot be opened or listed.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file named is not an lmlog file, or of a version this decoder
    /// does not read.
    #[error("{}: byte 0: {error}", path.display())]
    NotLmlog {
        /// The file.
        path: PathBuf,
        /// What is wrong with its first bytes.
        error: PreambleError,
    },
    /// A directory named holds no lmlog file, and nothing else was named.
    #[error("{}: no lmlog file in this directory", path.display())]
    NoLogFiles {
        /// The directory.
        path: PathBuf,
    },
    /// `-` named together with files.
    #[error("standard input (`-`) cannot be decoded together with files")]
    StdinWithFiles,
}

/// How a file came to be an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Named on the command line.
    Named,
    /// A closed file of a series named by its base name.
    Series,
    /// In a directory named.
    Listed,
}

/// The inputs `paths` name, in the order they were written: standard input
/// if `paths` is empty or `-`; else each file named, every lmlog file
/// (recognised by its first bytes, not its name) of each directory named
/// (not its subdirectories), and, unless `single`, the closed files of the
/// series each file named is the live file of (`app.lmlog` brings
/// `app.lmlog.0000000000`, `app.lmlog.0000000001`, …). A file reached
/// twice is decoded once.
pub fn resolve(paths: &[PathBuf], single: bool) -> Result<Inputs, InputError> {
    let stdin = |p: &PathBuf| p.as_os_str() == "-";
    match paths {
        [] => return Ok(Inputs { source: Source::Stdin, problems: Vec::new() }),
        [only] if stdin(only) => return Ok(Inputs { source: Source::Stdin, problems: Vec::new() }),
        _ if paths.iter().any(stdin) => return Err(InputError::StdinWithFiles),
        _ => {}
    }
    let mut found: BTreeMap<PathBuf, (PathBuf, Origin)> = BTreeMap::new();
    let mut add = |path: PathBuf, origin: Origin| -> Result<(), InputError> {
        let key = fs::canonicalize(&path).map_err(open_error(&path))?;
        found.entry(key).and_modify(|(_, o)| *o = stricter(*o, origin)).or_insert((path, origin));
        Ok(())
    };
    let mut directories = Vec::new();
    for path in paths {
        let series = if single { Vec::new() } else { closed_files(path).map_err(open_error(path))? };
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                directories.push(path.clone());
                for entry in fs::read_dir(path).map_err(open_error(path))? {
                    let entry = entry.map_err(open_error(path))?;
                    if fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
                        add(entry.path(), Origin::Listed)?;
                    }
                }
                continue;
            }
            Ok(_) => add(path.clone(), Origin::Named)?,
            // A series whose live file is gone still has its closed files.
            Err(_) if !series.is_empty() => {}
            Err(source) => return Err(InputError::Open { path: path.clone(), source }),
        }
        for (_, closed) in series {
            add(closed, Origin::Series)?;
        }
    }

    let named_alone = found.len() == 1;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (canonical, (path, origin)) in found {
        let mut file = File::open(&path).map_err(open_error(&path))?;
        let len = file.metadata().map_err(open_error(&path))?.len();
        let first = first_session(&mut file);
        if let FirstBytes::NotLmlog(error) = &first {
            let error = error.clone();
            let too_short = matches!(error, PreambleError::TooShort(_));
            match origin {
                // Other files of the directory, and empty ones.
                Origin::Listed if matches!(error, PreambleError::BadMagic | PreambleError::TooShort(0)) => continue,
                // A file named alone goes to the decoder, which says how short it is.
                Origin::Named if too_short && named_alone => {}
                Origin::Named if !too_short => return Err(InputError::NotLmlog { path, error }),
                _ => {
                    problems.push(Problem::Unreadable { path, error });
                    continue;
                }
            }
        }
        files.push(InputFile::new(path, &canonical, len, first.session()));
    }
    if files.is_empty() && problems.is_empty() {
        if let Some(path) = directories.into_iter().next() {
            return Err(InputError::NoLogFiles { path });
        }
    }
    files.sort_by(|a, b| a.order().cmp(&b.order()));
    // Decoded one after another, the files of one stream come together.
    let order: Vec<usize> = streams(&files).into_iter().flatten().collect();
    let mut slots: Vec<Option<InputFile>> = files.into_iter().map(Some).collect();
    let files: Vec<InputFile> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    problems.extend(gaps(&files));
    Ok(Inputs { source: Source::Files(files), problems })
}

/// The indices of `files` (in the order written) by stream: files that
/// share a series or a writer are in one stream; streams in the order of
/// their first files.
fn streams(files: &[InputFile]) -> Vec<Vec<usize>> {
    // Union-find over the files.
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..files.len()).collect();
    for i in 0..files.len() {
        for j in 0..i {
            let (a, b) = (&files[i], &files[j]);
            if a.series == b.series || (a.writer.is_some() && a.writer == b.writer) {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut streams: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..files.len() {
        let r = root(&mut parent, i);
        streams.entry(r).or_default().push(i);
    }
    streams.into_values().collect()
}

/// Turns an I/O error on `path` into an [`InputError`].
fn open_error(path: &Path) -> impl FnOnce(io::Error) -> InputError + '_ {
    move |source| InputError::Open { path: path.to_owned(), source }
}

/// Of two ways a file was reached, the one whose checks are stricter.
fn stricter(a: Origin, b: Origin) -> Origin {
    match (a, b) {
        (Origin::Named, _) | (_, Origin::Named) => Origin::Named,
        (Origin::Series, _) | (_, Origin::Series) => Origin::Series,
        _ => Origin::Listed,
    }
}

impl InputFile {
    fn new(path: PathBuf, canonical: &Path, len: u64, session: Option<SessionInfo>) -> InputFile {
        let (dir, (base, name_index)) = split_series_name(canonical);
        let index = session.as_ref().map(|s| s.file_index).or(name_index);
        let key = session.as_ref().map_or((0, 0), |s| (s.clock.anchor.unix_nanos, s.pid));
        let writer = session.map(|s| (s.hostname, s.executable, s.service_name));
        InputFile { path, len, index, series: (dir, base), session: key, writer }
    }

    /// Its series' live file, as the path it was named or found by spells it.
    fn series_path(&self) -> PathBuf {
        self.path.with_file_name(&self.series.1)
    }

    /// Its place in the order files are decoded in: by index (files of
    /// unknown index last), then session start and process, then path.
    fn order(&self) -> (u32, (u64, u32), &Path) {
        (self.index.unwrap_or(u32::MAX), self.session, &self.path)
    }
}

/// The indices missing inside each series among `files`.
fn gaps(files: &[InputFile]) -> Vec<Problem> {
    let mut series: BTreeMap<&(PathBuf, std::ffi::OsString), (PathBuf, BTreeSet<u32>)> = BTreeMap::new();
    for file in files {
        if let Some(index) = file.index {
            series.entry(&file.series).or_insert_with(|| (file.series_path(), BTreeSet::new())).1.insert(index);
        }
    }
    let mut problems = Vec::new();
    for (live, indices) in series.into_values() {
        let mut present = indices.into_iter();
        let Some(mut previous) = present.next() else { continue };
        for index in present {
            if index > previous + 1 {
                problems.push(Problem::Gap { series: live.clone(), first: previous + 1, last: index - 1 });
            }
            previous = index;
        }
    }
    problems
}

/// The directory of `path` and its series' base name with, for a closed
/// file, the index in its name: `logs/app.lmlog.0000000003` →
/// (`logs`, (`app.lmlog`, 3)).
fn split_series_name(path: &Path) -> (PathBuf, (std::ffi::OsString, Option<u32>)) {
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    let name = path.file_name().unwrap_or_default();
    let parsed = name.to_str().and_then(|name| {
        let (base, digits) = name.rsplit_once('.')?;
        let index = (digits.len() == INDEX_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u32>().ok())??;
        Some((base.into(), Some(index)))
    });
    (dir, parsed.unwrap_or_else(|| (name.to_owned(), None)))
}

/// The name of the closed file with `index` in the series whose live file
/// is `live`.
pub fn closed_path(live: &Path, index: u32) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{index:0INDEX_DIGITS$}"));
    live.with_file_name(name)
}

/// The closed files of the series whose live file is `live` (`live.` and
/// ten digits, in its directory), lowest index first.
pub fn closed_files(live: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let Some(name) = live.file_name() else { return Ok(Vec::new()) };
    let dir = match live.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut closed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let entry_name = entry.file_name();
        if let Some(index) = closed_index(&entry_name, name) {
            closed.push((index, live.with_file_name(entry_name)));
        }
    }
    closed.sort_unstable();
    Ok(closed)
}

/// The index of a closed file named `candidate` in the series named `live`.
fn closed_index(candidate: &OsStr, live: &OsStr) -> Option<u32> {
    let suffix = candidate.as_encoded_bytes().strip_prefix(live.as_encoded_bytes())?.strip_prefix(b".")?;
    if suffix.len() != INDEX_DIGITS || !suffix.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(suffix).ok()?.parse().ok()
}

/// What the first bytes of a file say.
#[derive(Debug)]
pub enum FirstBytes {
    /// An lmlog file whose first frame is this session.
    Session(SessionInfo),
    /// An lmlog file whose first frame is not (yet) all there.
    Incomplete,
    /// An lmlog file whose first frame is not a session that decodes
    /// (damage, or an older writer's session).
    NoSession,
    /// Not an lmlog file this decoder reads.
    NotLmlog(PreambleError),
}

impl FirstBytes {
    /// The session, if there is one.
    pub fn session(self) -> Option<SessionInfo> {
        match self {
            FirstBytes::Session(session) => Some(session),
            _ => None,
        }
    }
}

/// Whether `path` names a closed file of a series (`app.lmlog.0000000003`).
pub fn is_closed_file(path: &Path) -> bool {
    split_series_name(path).1 .1.is_some()
}

/// Reads the preamble and first frame of a file from `reader` (at its start).
pub fn first_session(reader: &mut impl Read) -> FirstBytes {
    let mut preamble = [0u8; PREAMBLE_LEN];
    let Ok(n) = read_full(reader, &mut preamble) else { return FirstBytes::NoSession };
    let version = match check_preamble(&preamble[..n]) {
        Ok(version) => version,
        // A file being created: its preamble is not all written yet.
        Err(PreambleError::TooShort(_)) if n > 0 => return FirstBytes::Incomplete,
        Err(e) => return FirstBytes::NotLmlog(e),
    };
    let mut header = [0u8; lmlog_format::frame::MAX_FRAME_HEADER_LEN];
    let header = &mut header[..frame_header_len(version)];
    match read_full(reader, header) {
        Ok(n) if n == header.len() => {}
        Ok(_) => return FirstBytes::Incomplete,
        Err(_) => return FirstBytes::NoSession,
    }
    let Some(header) = FrameHeader::parse(header, version) else { return FirstBytes::NoSession };
    if header.kind != FrameKind::Session as u8 || header.len > MAX_SESSION_PAYLOAD {
        return FirstBytes::NoSession;
    }
    let mut payload = vec![0u8; header.len as usize];
    match read_full(reader, &mut payload) {
        Ok(n) if n == payload.len() => {}
        Ok(_) => return FirstBytes::Incomplete,
        Err(_) => return FirstBytes::NoSession,
    }
    if !header.verify(&payload) {
        return FirstBytes::NoSession;
    }
    from_payload::<SessionInfo>(&payload).map_or(FirstBytes::NoSession, FirstBytes::Session)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A fatal error while feeding inputs, naming the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// An error of the decoder that concerns no one file (the output).
    #[error(transparent)]
    Decode(DecodeError),
    /// An error in this file, its byte offsets counted from the file's start.
    #[error("{file}: {error}")]
    InFile {
        /// The file's name (`<stdin>` for standard input).
        file: Arc<str>,
        /// The error.
        error: DecodeError,
    },
}

impl FeedError {
    /// Whether this is a write to a closed pipe, a quiet end for a command.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, FeedError::Decode(e) if e.is_broken_pipe())
    }
}

/// Prints a decoder's diagnostics and the command's notes on standard
/// error (through the progress bar, if one shows), naming the file each
/// concerns and the byte offset in that file. Clones share their state.
#[derive(Clone)]
pub struct Diagnostics {
    shared: Arc<Shared>,
}

struct Shared {
    /// Where each file fed starts in the decoder's stream, and its name.
    files: Mutex<Vec<(u64, Arc<str>)>>,
    progress: Progress,
    quiet: bool,
    /// No more diagnostics are printed (the user stopped a follower, whose
    /// live file naturally ends without an end frame).
    muted: AtomicBool,
}

impl Diagnostics {
    /// Diagnostics printed through `progress`; none but fatal errors if `quiet`.
    pub fn new(progress: Progress, quiet: bool) -> Diagnostics {
        Diagnostics {
            shared: Arc::new(Shared { files: Mutex::new(Vec::new()), progress, quiet, muted: AtomicBool::new(false) }),
        }
    }

    /// Has `decoder` print its diagnostics here.
    pub fn install<O: Output>(&self, decoder: &mut Decoder<O>) {
        let this = self.clone();
        decoder.set_diagnostic_handler(move |d| this.diagnostic(d));
    }

    /// The progress bar.
    pub fn progress(&self) -> &Progress {
        &self.shared.progress
    }

    /// The file `name` starts at byte `offset` of the decoder's stream.
    pub fn file_starts(&self, offset: u64, name: &str) {
        let mut files = self.shared.files.lock().unwrap_or_else(PoisonError::into_inner);
        files.push((offset, name.into()));
    }

    /// Prints nothing from now on.
    pub fn mute(&self) {
        self.shared.muted.store(true, Ordering::Relaxed);
    }

    /// Prints `lmlog-decode: MESSAGE` unless quiet or muted.
    pub fn note(&self, message: impl fmt::Display) {
        if !self.shared.quiet && !self.shared.muted.load(Ordering::Relaxed) {
            self.shared.progress.eprintln(format_args!("lmlog-decode: {message}"));
        }
    }

    /// Prints a diagnostic with the file it concerns and its offset in it.
    fn diagnostic(&self, d: &Diagnostic) {
        if self.shared.quiet || self.shared.muted.load(Ordering::Relaxed) {
            return;
        }
        let (file, start) = self.locate(d.offset);
        let mut d = d.clone();
        d.offset -= start;
        if let DiagnosticKind::BadRecord { error_offset, .. } = &mut d.kind {
            *error_offset = error_offset.saturating_sub(start);
        }
        self.shared.progress.eprintln(format_args!("lmlog-decode: {file}: {d}"));
    }

    /// The file holding byte `offset` of the stream, and where it starts.
    fn locate(&self, offset: u64) -> (Arc<str>, u64) {
        let files = self.shared.files.lock().unwrap_or_else(PoisonError::into_inner);
        let i = files.partition_point(|(start, _)| *start <= offset);
        match i.checked_sub(1).and_then(|i| files.get(i)) {
            Some((start, name)) => (name.clone(), *start),
            None => ("<stdin>".into(), 0),
        }
    }

    /// `error`, with its offset counted from the start of the file it concerns.
    pub fn locate_error(&self, error: DecodeError) -> FeedError {
        // An input too short to be an lmlog file is its first file's fault.
        let offset = if matches!(error, DecodeError::TooShort { .. }) { Some(0) } else { error.offset() };
        let (file, start) = match offset {
            Some(offset) => self.locate(offset),
            None => return FeedError::Decode(error),
        };
        let error = match error {
            DecodeError::NotLmlog { offset } => DecodeError::NotLmlog { offset: offset - start },
            DecodeError::UnsupportedVersion { offset, version } => {
                DecodeError::UnsupportedVersion { offset: offset - start, version }
            }
            other => other,
        };
        FeedError::InFile { file, error }
    }
}

/// Decodes `inputs` with `decoder` to their end: prints the inputs'
/// problems and the decoder's diagnostics (naming each file and the offset
/// in it) unless `quiet`, with a progress bar for large inputs on a
/// terminal, and returns the decoder's tally.
pub fn decode_all<O: Output>(
    mut decoder: Decoder<O>,
    inputs: &Inputs,
    quiet: bool,
) -> Result<DecodeSummary, FeedError> {
    let progress = if quiet { Progress::hidden() } else { Progress::for_bytes(inputs.total_bytes()) };
    let diagnostics = Diagnostics::new(progress.clone(), quiet);
    diagnostics.install(&mut decoder);
    for problem in &inputs.problems {
        diagnostics.note(problem);
    }
    let fed = feed(&mut decoder, inputs, &diagnostics);
    progress.finish();
    fed?;
    decoder.finish().map_err(|e| diagnostics.locate_error(e))
}

/// Feeds `inputs` in order into `decoder` (without finishing it), advancing
/// the progress bar of `diagnostics` and naming in its diagnostics the file
/// and the byte offset in it.
pub fn feed<O: Output>(decoder: &mut Decoder<O>, inputs: &Inputs, diagnostics: &Diagnostics) -> Result<(), FeedError> {
    match &inputs.source {
        Source::Stdin => feed_reader(decoder, io::stdin().lock(), "<stdin>", diagnostics),
        Source::Files(files) => {
            let mut feeder = FileFeeder::new(files.iter().collect(), diagnostics.clone());
            while feeder.feed_next(decoder)? {}
            Ok(())
        }
    }
}

/// Decodes the streams of `inputs` (see [`Inputs::streams`]) each with a
/// decoder of its own, in time order, their lines merged by time into
/// `out` ([`interleave`]); each stream's output is `make`'s, built on the
/// stream's line queue. Prints as [`decode_all`] does; returns each
/// stream's tally.
pub fn interleave_all<O: Output>(
    make: impl Fn(LineWriter) -> O,
    inputs: &Inputs,
    out: impl io::Write,
    quiet: bool,
) -> Result<Vec<DecodeSummary>, FeedError> {
    let progress = if quiet { Progress::hidden() } else { Progress::for_bytes(inputs.total_bytes()) };
    let notes = Diagnostics::new(progress.clone(), quiet);
    for problem in &inputs.problems {
        notes.note(problem);
    }
    // `interleave` passes on the decoder's errors: the file a feeding error
    // is in waits here.
    let failed_in: Rc<RefCell<Option<Arc<str>>>> = Rc::default();
    let streams: Vec<_> = inputs
        .streams()
        .into_iter()
        .map(|files| {
            // Offsets count per decoder: one map of files per stream.
            let diagnostics = Diagnostics::new(progress.clone(), quiet);
            let mut decoder = Decoder::new(Stamped::new(&make));
            diagnostics.install(&mut decoder);
            let mut feeder = FileFeeder::new(files, diagnostics);
            let failed_in = Rc::clone(&failed_in);
            let feed = move |decoder: &mut Decoder<Stamped<O>>| {
                feeder.feed_next(decoder).map_err(|e| match e {
                    FeedError::Decode(error) => error,
                    FeedError::InFile { file, error } => {
                        *failed_in.borrow_mut() = Some(file);
                        error
                    }
                })
            };
            Stream { decoder, feed }
        })
        .collect();
    let merged = interleave(streams, out);
    progress.finish();
    merged.map_err(|error| match failed_in.take() {
        Some(file) => FeedError::InFile { file, error },
        None => FeedError::Decode(error),
    })
}

/// Feeds a decoder the files of one stream, one piece at a time.
struct FileFeeder<'a> {
    files: std::vec::IntoIter<&'a InputFile>,
    /// The file being read: its reader, its name and the bytes read from it.
    current: Option<(File, Arc<str>, u64)>,
    diagnostics: Diagnostics,
    chunk: Vec<u8>,
}

impl<'a> FileFeeder<'a> {
    fn new(files: Vec<&'a InputFile>, diagnostics: Diagnostics) -> Self {
        FileFeeder { files: files.into_iter(), current: None, diagnostics, chunk: vec![0; READ_CHUNK] }
    }

    /// Feeds `decoder` the next piece of the files (the next file's first,
    /// after a file's last); `Ok(false)` once every file was fed.
    fn feed_next<O: Output>(&mut self, decoder: &mut Decoder<O>) -> Result<bool, FeedError> {
        loop {
            let (reader, name, offset) = match &mut self.current {
                Some(current) => current,
                None => {
                    let Some(file) = self.files.next() else { return Ok(false) };
                    let name: Arc<str> = file.path.display().to_string().into();
                    let open = File::open(&file.path)
                        .map_err(|source| FeedError::Decode(DecodeError::Open { path: file.path.clone(), source }))?;
                    self.diagnostics.file_starts(decoder.summary().bytes_read, &name);
                    self.diagnostics.progress().set_file(&name);
                    self.current.insert((open, name, 0))
                }
            };
            match reader.read(&mut self.chunk) {
                Ok(0) => self.current = None,
                Ok(n) => {
                    decoder.feed(&self.chunk[..n]).map_err(|e| self.diagnostics.locate_error(e))?;
                    *offset += n as u64;
                    self.diagnostics.progress().advance(n as u64);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    let error = DecodeError::Read { offset: *offset, source };
                    return Err(FeedError::InFile { file: name.clone(), error });
                }
            }
        }
    }
}

/// Feeds everything `reader` yields into `decoder` as the file `name`.
pub fn feed_reader<O: Output>(
    decoder: &mut Decoder<O>,
    mut reader: impl Read,
    name: &str,
    diagnostics: &Diagnostics,
) -> Result<(), FeedError> {
    diagnostics.file_starts(decoder.summary().bytes_read, name);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut offset = 0u64;
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                decoder.feed(&chunk[..n]).map_err(|e| diagnostics.locate_error(e))?;
                offset += n as u64;
                diagnostics.progress().advance(n as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(FeedError::InFile { file: name.into(), error: DecodeError::Read { offset, source } })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_split_into_base_and_index() {
        let (dir, (base, index)) = split_series_name(Path::new("logs/app.lmlog.0000000012"));
        assert_eq!((dir.as_path(), base.as_os_str(), index), (Path::new("logs"), OsStr::new("app.lmlog"), Some(12)));
        let (_, (base, index)) = split_series_name(Path::new("app.lmlog"));
        assert_eq!((base.as_os_str(), index), (OsStr::new("app.lmlog"), None));
        // Not ten digits, or beyond a u32: not an index.
        for name in ["app.lmlog.12", "app.lmlog.9999999999", "app.lmlog.00000000x1"] {
            let (_, (base, index)) = split_series_name(Path::new(name));
            assert_eq!((base.as_os_str(), index), (OsStr::new(name), None), "{name}");
        }
        assert_eq!(closed_path(Path::new("logs/app.lmlog"), 7), Path::new("logs/app.lmlog.0000000007"));
    }

    #[test]
    fn closed_files_belong_to_their_series_only() {
        let live = OsStr::new("app.lmlog");
        assert_eq!(closed_index(OsStr::new("app.lmlog.0000000010"), live), Some(10));
        for other in
            ["app.lmlog", "app.lmlog.10", "app.lmlogx.0000000010", "xapp.lmlog.0000000010", "app.lmlog.00000000100"]
        {
            assert_eq!(closed_index(OsStr::new(other), live), None, "{other}");
        }
    }

    fn file(series: &str, index: u32) -> InputFile {
        InputFile {
            path: PathBuf::from(format!("{series}.{index:010}")),
            len: 0,
            index: Some(index),
            series: (PathBuf::new(), series.into()),
            session: (0, 0),
            writer: None,
        }
    }

    #[test]
    fn a_stream_is_the_files_of_one_series_or_one_writer() {
        let writer = |host: &str| Some((Some(host.to_owned()), None, None));
        let mut files = vec![file("a", 0), file("b", 0), file("a", 1), file("c", 0), file("d", 0), file("e", 0)];
        // `c` and `d`: one application's files under two names.
        (files[3].writer, files[4].writer, files[5].writer) = (writer("x"), writer("x"), writer("y"));
        assert_eq!(streams(&files), [vec![0, 2], vec![1], vec![3, 4], vec![5]]);
    }

    #[test]
    fn gaps_are_the_indices_missing_inside_each_series() {
        let files = [file("a", 2), file("a", 3), file("a", 7), file("a", 9), file("b", 0), file("b", 5)];
        let gap = |series: &str, first, last| Problem::Gap { series: series.into(), first, last };
        assert_eq!(gaps(&files), [gap("a", 4, 6), gap("a", 8, 8), gap("b", 1, 4)]);
        assert!(gaps(&files[..2]).is_empty());
        assert_eq!(
            gap("a", 8, 8).to_string(),
            "a: gap in the series: file 8 (a.0000000008) is missing; the events of the files around it are decoded"
        );
    }
}
