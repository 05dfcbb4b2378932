//! `--follow`: decoding a live file as it grows, across rotations, until
//! the application shuts down or the user interrupts.
//!
//! The follower first decodes the closed files of the series (unless
//! `--single`), then the live file, polling for what the writer appends.
//! When the writer rotates it ends the live file with an End frame of
//! reason `rotated`, renames it to `PATH.NNNNNNNNNN` and starts a new
//! `PATH`: the follower reads the old file to its end, then takes the next
//! index of the series, from its closed file if the writer rotated again
//! meanwhile, else from the new `PATH` (never the file it just read). A
//! partial frame at the end of what is written stays in the decoder until
//! the rest arrives. The follower stops at an End frame of reason
//! `shutdown` that nothing follows.

use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog_decode::{Callsite, DecodeError, Decoder, Event, Item, Output};
use lmlog_format::EndInfo;

use crate::inputs::{self, closed_files, Diagnostics, FeedError, FirstBytes, Problem, READ_CHUNK};
use crate::progress::Progress;

/// How long the follower sleeps when it has read everything written.
const POLL: Duration = Duration::from_millis(50);

/// An [`Output`] that passes everything on to another and notes what the
/// follower needs: the End frames and the index of the file being read.
pub struct EndWatch<O> {
    inner: O,
    /// The reason of the End frame that ended the latest session, if it ended.
    end: Option<String>,
    /// End frames seen.
    ends: u64,
    /// The latest session's `file_index`.
    file_index: Option<u32>,
}

impl<O> EndWatch<O> {
    /// Watches what goes to `inner`.
    pub fn new(inner: O) -> EndWatch<O> {
        EndWatch { inner, end: None, ends: 0, file_index: None }
    }
}

impl<O: Output> Output for EndWatch<O> {
    type Callsite = O::Callsite;

    fn callsite(&mut self, callsite: &Callsite) -> Self::Callsite {
        self.inner.callsite(callsite)
    }

    #[inline]
    fn event(&mut self, event: Event<'_>, prepared: &mut Self::Callsite) -> io::Result<()> {
        self.inner.event(event, prepared)
    }

    fn retract(&mut self) {
        self.inner.retract();
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        match &item {
            Item::Session(session) => {
                self.end = None;
                self.file_index = Some(session.file_index);
            }
            Item::SessionEnd(end) => {
                self.end = Some(end.reason.clone());
                self.ends += 1;
            }
            _ => {}
        }
        self.inner.item(item)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Why following stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The application shut down (an End frame of reason `shutdown`, and
    /// nothing after it).
    Shutdown,
    /// The user interrupted (SIGINT, SIGTERM).
    Interrupted,
}

/// Why reading a live file ended.
enum LiveEnd {
    Stop(Stop),
    /// The writer moved on to a new file.
    NextFile,
}

/// The next file to read.
enum Next {
    /// A closed file of the series, with the index in its name: read to its end.
    Closed(u32, PathBuf),
    /// The live file.
    Live(File),
}

/// Follows the series whose live file is `path` with `decoder` until the
/// application shuts down or SIGINT or SIGTERM, then finishes it; prints
/// diagnostics and gaps unless `quiet`. Returns whether no damage or gap
/// was found.
pub fn decode<O: Output>(
    mut decoder: Decoder<EndWatch<O>>,
    path: &Path,
    single: bool,
    quiet: bool,
) -> Result<bool, FeedError> {
    let diagnostics = Diagnostics::new(Progress::hidden(), quiet);
    diagnostics.install(&mut decoder);
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let handler = ctrlc::set_handler(move || {
        // A second signal while the first is being handled ends the
        // process at once (with the status of a SIGINT death).
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        diagnostics.note(format_args!("cannot handle Ctrl-C ({e}); it will stop the command without a flush"));
    }
    let (stop, gaps) = follow(&mut decoder, path, single, &diagnostics, &interrupted)?;
    let damage = match stop {
        Stop::Shutdown => decoder.finish().map_err(|e| diagnostics.locate_error(e))?.damage,
        Stop::Interrupted => {
            // What the writer has not written yet (the rest of a frame, the
            // End frame, the file itself) is not damage.
            let damage = decoder.summary().damage;
            diagnostics.mute();
            match decoder.finish() {
                Ok(_) | Err(DecodeError::TooShort { .. }) => damage,
                Err(e) => return Err(diagnostics.locate_error(e)),
            }
        }
    };
    Ok(damage == 0 && gaps.is_empty())
}

/// Follows the series whose live file is `path` into `decoder` (without
/// finishing it); only the live file on if `single`. Gaps in the series are
/// noted through `diagnostics` and returned. Stops when the application shuts
/// down or `interrupted` is set.
fn follow<O: Output>(
    decoder: &mut Decoder<EndWatch<O>>,
    path: &Path,
    single: bool,
    diagnostics: &Diagnostics,
    interrupted: &AtomicBool,
) -> Result<(Stop, Vec<Problem>), FeedError> {
    let open_err = |source| FeedError::Decode(DecodeError::Open { path: path.to_owned(), source });
    let expected = if single { None } else { closed_files(path).map_err(open_err)?.first().map(|(index, _)| *index) };
    let mut follower = Follower {
        decoder,
        path,
        diagnostics,
        interrupted,
        expected,
        finished: None,
        gaps: Vec::new(),
        chunk: vec![0; READ_CHUNK],
    };
    let stop = follower.run()?;
    Ok((stop, follower.gaps))
}

struct Follower<'a, O: Output> {
    decoder: &'a mut Decoder<EndWatch<O>>,
    /// The live file's path.
    path: &'a Path,
    diagnostics: &'a Diagnostics,
    interrupted: &'a AtomicBool,
    /// The index of the next file of the series, once known.
    expected: Option<u32>,
    /// The file read last, which the next live file cannot be.
    finished: Option<FileId>,
    gaps: Vec<Problem>,
    chunk: Vec<u8>,
}

impl<O: Output> Follower<'_, O> {
    fn run(&mut self) -> Result<Stop, FeedError> {
        loop {
            let Some(next) = self.next_file()? else { return Ok(Stop::Interrupted) };
            match next {
                Next::Closed(index, path) => {
                    let name = path.display().to_string();
                    let file = match File::open(&path) {
                        Ok(file) => file,
                        // Retention removed it since it was listed.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            self.gap(index, index.saturating_add(1));
                            self.expected = Some(index.saturating_add(1));
                            continue;
                        }
                        Err(source) => return Err(FeedError::Decode(DecodeError::Open { path, source })),
                    };
                    self.finished = file_id(&file);
                    inputs::feed_reader(self.decoder, file, &name, self.diagnostics)?;
                    self.flush()?;
                    // Its name says its index.
                    self.expected = Some(index.saturating_add(1));
                }
                Next::Live(file) => match self.read_live(file)? {
                    LiveEnd::Stop(stop) => return Ok(stop),
                    LiveEnd::NextFile => self.file_done(),
                },
            }
        }
    }

    /// The live file just read was the series' latest: the next has the
    /// index after its session's, and after the one expected before it
    /// (should its session frame have been damaged).
    fn file_done(&mut self) {
        let next = |index: Option<u32>| index.map(|index| index.saturating_add(1));
        self.expected = next(self.decoder.output().file_index).max(next(self.expected));
    }

    /// Waits for the next file of the series; `None` if interrupted first.
    fn next_file(&mut self) -> Result<Option<Next>, FeedError> {
        let open_err = |source| FeedError::Decode(DecodeError::Open { path: self.path.to_owned(), source });
        let mut waiting_noted = false;
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if let Some(expected) = self.expected {
                let closed = closed_files(self.path).map_err(open_err)?;
                if let Some((index, path)) = closed.into_iter().find(|(index, _)| *index >= expected) {
                    self.gap(expected, index);
                    return Ok(Some(Next::Closed(index, path)));
                }
            }
            match File::open(self.path) {
                Ok(mut file) if file_id(&file).is_none() || file_id(&file) != self.finished => {
                    match inputs::first_session(&mut file) {
                        FirstBytes::Incomplete => {}
                        FirstBytes::Session(session) if self.expected.is_some_and(|e| session.file_index > e) => {
                            // The writer rotated meanwhile: its closed files
                            // come first, unless they are gone.
                            let expected = self.expected.unwrap_or(0);
                            let closed = closed_files(self.path).map_err(open_err)?;
                            if !closed.iter().any(|(index, _)| (expected..session.file_index).contains(index)) {
                                self.gap(expected, session.file_index);
                                file.rewind().map_err(open_err)?;
                                return Ok(Some(Next::Live(file)));
                            }
                        }
                        _ => {
                            file.rewind().map_err(open_err)?;
                            return Ok(Some(Next::Live(file)));
                        }
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !waiting_noted {
                        self.diagnostics.note(format_args!("waiting for {} to be created", self.path.display()));
                        waiting_noted = true;
                    }
                }
                Err(e) => return Err(open_err(e)),
            }
            std::thread::sleep(POLL);
        }
    }

    /// Notes the files `expected..found` of the series as missing.
    fn gap(&mut self, expected: u32, found: u32) {
        if found > expected {
            let gap = Problem::Gap { series: self.path.to_owned(), first: expected, last: found - 1 };
            self.diagnostics.note(&gap);
            self.gaps.push(gap);
        }
    }

    /// Reads the live file as it grows, until the writer ends it.
    fn read_live(&mut self, mut file: File) -> Result<LiveEnd, FeedError> {
        let name = self.path.display().to_string();
        let id = file_id(&file);
        self.diagnostics.file_starts(self.decoder.summary().bytes_read, &name);
        let ends_before = self.decoder.output().ends;
        let mut position = 0u64;
        let mut replaced = false;
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return Ok(LiveEnd::Stop(Stop::Interrupted));
            }
            let n = match file.read(&mut self.chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(FeedError::InFile {
                        file: name.into(),
                        error: DecodeError::Read { offset: position, source },
                    })
                }
            };
            if n > 0 {
                self.decoder.feed(&self.chunk[..n]).map_err(|e| self.diagnostics.locate_error(e))?;
                position += n as u64;
                self.flush()?;
                continue;
            }
            // Everything written so far is decoded.
            let watch = self.decoder.output();
            if watch.ends > ends_before {
                match watch.end.as_deref() {
                    Some(EndInfo::SHUTDOWN) => return Ok(LiveEnd::Stop(Stop::Shutdown)),
                    Some(EndInfo::ROTATED) => {
                        self.finished = id;
                        return Ok(LiveEnd::NextFile);
                    }
                    _ => {}
                }
            }
            if replaced {
                self.diagnostics.note(format_args!("{name} was replaced without an end frame; following the new file"));
                self.finished = id;
                return Ok(LiveEnd::NextFile);
            }
            if file.metadata().is_ok_and(|meta| meta.len() < position) {
                self.diagnostics.note(format_args!("{name} was truncated; reading it again from its start"));
                file.rewind().map_err(|source| FeedError::InFile {
                    file: name.as_str().into(),
                    error: DecodeError::Read { offset: position, source },
                })?;
                position = 0;
                self.diagnostics.file_starts(self.decoder.summary().bytes_read, &name);
                continue;
            }
            // A new file at the path: read the old one to its end once more.
            replaced = id.is_some() && fs::metadata(self.path).ok().and_then(|meta| meta_id(&meta)) != id;
            if !replaced {
                // Idle: outputs that batch by age (the OTLP exporter) send
                // what waited long enough.
                self.flush()?;
                std::thread::sleep(POLL);
            }
        }
    }

    /// Hands what was decoded to the output and flushes it.
    fn flush(&mut self) -> Result<(), FeedError> {
        self.decoder.flush().map_err(FeedError::Decode)
    }
}

/// What tells two files apart (device and inode); `None` where unknown.
type FileId = (u64, u64);

fn file_id(file: &File) -> Option<FileId> {
    file.metadata().ok().and_then(|meta| meta_id(&meta))
}

#[cfg(unix)]
fn meta_id(meta: &fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn meta_id(_meta: &fs::Metadata) -> Option<FileId> {
    None
}
