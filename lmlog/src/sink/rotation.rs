//! What lmlog's own file outputs (binary and JSON Lines) share: how a
//! series of files is named, how the live file is opened (appended to or
//! truncated, with its mode), when it is rotated (size, time) and which
//! closed files are kept (count, age, total size).
//!
//! A series is the live file `PATH` and its closed files
//! `PATH.0000000000`, `PATH.0000000001`, …: each closed file is named by
//! its index in the series (the `file_index` of its session frames), zero
//! padded to ten digits so that every `u32` index sorts lexically, and a
//! new index is always above every closed file present. So `ls` and a
//! shell glob list a series oldest first, and `cat PATH.* PATH` is the
//! whole series in time order (the format allows concatenated files).

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Digits of a closed file's index: enough for every `u32`, so that
/// lexical order is index order for the whole range.
const INDEX_DIGITS: usize = 10;

/// How lmlog's file outputs open, rotate and prune their files: the file
/// half of [`Config`](crate::Config), which fills one in through its own
/// methods (`Config::rotate`, `Config::rotate_every`, `Config::retain_*`,
/// `Config::truncate`, `Config::file_mode`); build one yourself to open a
/// [`FileSink`](crate::FileSink) directly.
///
/// By default a file is appended to (a restart never destroys the previous
/// run), never rotated, and created with mode `0o640`.
///
/// ```
/// use std::time::Duration;
/// let options = lmlog::FileOptions::new()
///     .max_file_bytes(64 << 20)
///     .rotate_every(Duration::from_secs(3600))
///     .retain_max_age(Duration::from_secs(7 * 24 * 3600))
///     .retain_max_bytes(2 << 30);
/// # drop(options);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOptions {
    max_file_bytes: Option<u64>,
    rotate_every: Option<Duration>,
    retain_max_files: Option<u32>,
    retain_max_age: Option<Duration>,
    retain_max_bytes: Option<u64>,
    truncate: bool,
    mode: Option<u32>,
}

impl FileOptions {
    /// Mode of a file lmlog creates, unless [`FileOptions::mode`] says
    /// otherwise: owner read/write, group read.
    pub const DEFAULT_MODE: u32 = 0o640;
    /// Smallest size limit of a file ([`FileOptions::max_file_bytes`]).
    pub const MIN_FILE_BYTES: u64 = 4096;
    /// Shortest rotation period ([`FileOptions::rotate_every`]).
    pub const MIN_PERIOD: Duration = Duration::from_millis(1);

    /// Append, never rotate, keep every closed file, mode `0o640`.
    pub fn new() -> FileOptions {
        FileOptions::default()
    }

    /// Closes the live file before it would exceed `bytes` (at least
    /// [`FileOptions::MIN_FILE_BYTES`]) and starts the next one. The binary
    /// output overshoots the limit by at most one frame, the JSON Lines
    /// output by at most one line (only a single frame or line larger than
    /// the limit makes a larger file).
    pub fn max_file_bytes(mut self, bytes: u64) -> FileOptions {
        self.max_file_bytes = Some(bytes.max(FileOptions::MIN_FILE_BYTES));
        self
    }

    /// Closes the live file at every multiple of `period` since the Unix
    /// epoch, so `Duration::from_secs(3600)` rotates on the hour and
    /// `Duration::from_secs(86_400)` at midnight UTC. Periods shorter
    /// than a second are for tests (at least [`FileOptions::MIN_PERIOD`]).
    /// The JSON Lines output closes its file before the first line written
    /// after the boundary.
    pub fn rotate_every(mut self, period: Duration) -> FileOptions {
        self.rotate_every = Some(period.max(FileOptions::MIN_PERIOD));
        self
    }

    /// Keeps at most `files` closed files, deleting the oldest (the live
    /// file is not counted; 0 deletes each file as it is closed).
    pub fn retain_max_files(mut self, files: u32) -> FileOptions {
        self.retain_max_files = Some(files);
        self
    }

    /// Deletes closed files last written more than `age` ago.
    pub fn retain_max_age(mut self, age: Duration) -> FileOptions {
        self.retain_max_age = Some(age);
        self
    }

    /// Keeps the closed files together under `bytes`, deleting the oldest
    /// first (the live file comes on top, bounded by
    /// [`FileOptions::max_file_bytes`]).
    pub fn retain_max_bytes(mut self, bytes: u64) -> FileOptions {
        self.retain_max_bytes = Some(bytes);
        self
    }

    /// Whether to empty the live file when it is opened instead of
    /// appending to it (default: append). Closed files of the series are
    /// left as they are (retention still applies) and the index continues
    /// after them.
    pub fn truncate(mut self, truncate: bool) -> FileOptions {
        self.truncate = truncate;
        self
    }

    /// Permission bits of files lmlog creates (Unix only; default
    /// [`FileOptions::DEFAULT_MODE`], narrowed by the process umask as
    /// with any file creation). An existing file keeps its mode.
    pub fn mode(mut self, mode: u32) -> FileOptions {
        self.mode = Some(mode);
        self
    }

    /// The [`Config`](crate::Config) method behind the first setting that
    /// differs from the default, if any: what a custom sink would ignore.
    pub(crate) fn first_setting(&self) -> Option<&'static str> {
        [
            (self.max_file_bytes.is_some(), "rotate"),
            (self.rotate_every.is_some(), "rotate_every"),
            (self.retain_max_files.is_some(), "retain_max_files"),
            (self.retain_max_age.is_some(), "retain_max_age"),
            (self.retain_max_bytes.is_some(), "retain_max_bytes"),
            (self.truncate, "truncate"),
            (self.mode.is_some(), "file_mode"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }

    fn has_retention(&self) -> bool {
        self.retain_max_files.is_some() || self.retain_max_age.is_some() || self.retain_max_bytes.is_some()
    }
}

/// A closed file of a series.
#[derive(Debug)]
struct ClosedFile {
    index: u32,
    path: PathBuf,
    len: u64,
    modified: SystemTime,
}

/// The live file of a series, with what rotation needs to know about it.
#[derive(Debug)]
pub(crate) struct SeriesFile {
    path: PathBuf,
    dir: PathBuf,
    name: OsString,
    options: FileOptions,
    file: File,
    /// Bytes in the live file (including those of earlier runs it holds).
    len: u64,
    /// The live file's index in the series.
    index: u32,
    /// The next time boundary, with time rotation.
    period_end: Option<SystemTime>,
}

impl SeriesFile {
    /// Opens the live file of the series at `path`: appended to (or
    /// truncated), its index one above the highest closed file present.
    /// A live file that is already full, or was last written before the
    /// current period, is closed at once; then the retention policy is
    /// applied.
    pub(crate) fn open(path: &Path, options: &FileOptions) -> io::Result<SeriesFile> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path names no file"))?
            .to_owned();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let index = match closed_files(&dir, &name)?.last() {
            Some(last) => next_index(last.index)?,
            None => 0,
        };
        let file = open_live(path, options)?;
        let metadata = file.metadata()?;
        let now = SystemTime::now();
        let mut series = SeriesFile {
            path: path.to_path_buf(),
            dir,
            name,
            options: options.clone(),
            file,
            len: metadata.len(),
            index,
            period_end: options.rotate_every.map(|period| period_end(now, period)),
        };
        let full = series.options.max_file_bytes.is_some_and(|max| series.len >= max);
        let earlier_period = match (options.rotate_every, metadata.modified()) {
            (Some(period), Ok(modified)) => period_end(modified, period) < period_end(now, period),
            _ => false,
        };
        if series.len > 0 && (full || earlier_period) {
            series.rotate()?;
        } else {
            series.apply_retention();
        }
        Ok(series)
    }

    /// The live file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The live file's index in the series.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Bytes in the live file.
    // Only the JSON Lines output, which rotates between lines, needs it.
    #[cfg(feature = "jsonl")]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends to the live file.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes the live file.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Bytes the live file may still take before its size limit.
    pub(crate) fn room(&self) -> Option<u64> {
        self.options.max_file_bytes.map(|max| max.saturating_sub(self.len))
    }

    /// Whether the live file is full or its period is over.
    pub(crate) fn wants_rotation(&self) -> bool {
        self.room() == Some(0) || self.period_over()
    }

    /// Whether the current time period is over (with time rotation).
    pub(crate) fn period_over(&self) -> bool {
        self.period_end.is_some_and(|end| SystemTime::now() >= end)
    }

    /// Closes the live file (renames it to its index in the series), opens
    /// a new one with the next index and applies the retention policy. On
    /// failure the live file stays as it was.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        let next = next_index(self.index)?;
        let closed = self.closed_path(self.index);
        self.file.flush()?;
        if closed.try_exists()? {
            // Another writer on the same series: never rename over a file.
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("cannot close {}: {} exists", self.path.display(), closed.display()),
            ));
        }
        std::fs::rename(&self.path, &closed)?;
        let file = match open_live(&self.path, &FileOptions { truncate: false, ..self.options.clone() }) {
            Ok(file) => file,
            Err(e) => {
                // Best effort: the live file keeps its name while it cannot be replaced.
                let _ = std::fs::rename(&closed, &self.path);
                return Err(e);
            }
        };
        self.file = file;
        self.len = 0;
        self.index = next;
        self.period_end = self.options.rotate_every.map(|period| period_end(SystemTime::now(), period));
        self.apply_retention();
        Ok(())
    }

    /// After a rotation that failed, writes on in the live file as if it
    /// were new: the next attempt comes after another file's worth of
    /// bytes or at the next time boundary, not before every write.
    // Only the JSON Lines output, which rotates between lines, needs it.
    #[cfg(feature = "jsonl")]
    pub(crate) fn defer_rotation(&mut self) {
        self.len = 0;
        self.period_end = self.options.rotate_every.map(|period| period_end(SystemTime::now(), period));
    }

    fn closed_path(&self, index: u32) -> PathBuf {
        let mut name = self.name.clone();
        name.push(format!(".{index:0INDEX_DIGITS$}"));
        self.dir.join(name)
    }

    /// Deletes the closed files the retention policy does not keep.
    /// Failures are reported on standard error: they lose no event.
    fn apply_retention(&self) {
        if !self.options.has_retention() {
            return;
        }
        let closed = match closed_files(&self.dir, &self.name) {
            Ok(closed) => closed,
            Err(e) => {
                eprintln!("lmlog: cannot list {} for retention: {e}", self.dir.display());
                return;
            }
        };
        for file in doomed(&closed, &self.options, SystemTime::now()) {
            match std::fs::remove_file(&file.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    eprintln!("lmlog: cannot delete {} (retention): {e}", file.path.display());
                }
                _ => {}
            }
        }
    }
}

fn next_index(index: u32) -> io::Result<u32> {
    index.checked_add(1).ok_or_else(|| io::Error::other("the series has used every file index (u32)"))
}

/// Opens (creating with the configured mode) the live file for appending,
/// or truncated.
fn open_live(path: &Path, options: &FileOptions) -> io::Result<File> {
    let mut open = OpenOptions::new();
    open.create(true);
    if options.truncate {
        open.write(true).truncate(true);
    } else {
        open.append(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, options.mode.unwrap_or(FileOptions::DEFAULT_MODE));
    open.open(path)
}

/// The closed files of the series whose live file is `dir/name`, oldest
/// (lowest index) first. Only names of the form `name.` + ten digits
/// belong to it.
fn closed_files(dir: &Path, name: &OsStr) -> io::Result<Vec<ClosedFile>> {
    let prefix = name.as_encoded_bytes();
    let mut closed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(suffix) = file_name.as_encoded_bytes().strip_prefix(prefix).and_then(|rest| rest.strip_prefix(b"."))
        else {
            continue;
        };
        if suffix.len() != INDEX_DIGITS || !suffix.iter().all(u8::is_ascii_digit) {
            continue;
        }
        // Ten digits may exceed u32::MAX: not a name lmlog gives.
        let Some(index) = std::str::from_utf8(suffix).ok().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let metadata = match entry.metadata() {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        closed.push(ClosedFile {
            index,
            path: entry.path(),
            len: metadata.len(),
            modified: metadata.modified().unwrap_or(UNIX_EPOCH),
        });
    }
    closed.sort_unstable_by_key(|file| file.index);
    Ok(closed)
}

/// The closed files (`closed` oldest first) that the retention policy of
/// `options` deletes at `now`: beyond the newest `retain_max_files`, last
/// written longer than `retain_max_age` ago, or, counting from the newest,
/// from the first that takes the total past `retain_max_bytes`.
fn doomed<'a>(closed: &'a [ClosedFile], options: &FileOptions, now: SystemTime) -> Vec<&'a ClosedFile> {
    let mut doomed = Vec::new();
    let mut total = 0u64;
    let mut over_bytes = false;
    for (newer, file) in closed.iter().rev().enumerate() {
        total = total.saturating_add(file.len);
        over_bytes |= options.retain_max_bytes.is_some_and(|max| total > max);
        let over_count = options.retain_max_files.is_some_and(|max| newer >= max as usize);
        let too_old =
            options.retain_max_age.is_some_and(|age| now.duration_since(file.modified).is_ok_and(|d| d > age));
        if over_count || too_old || over_bytes {
            doomed.push(file);
        }
    }
    doomed.reverse();
    doomed
}

/// The end of the period of length `period` (counted from the Unix epoch)
/// that holds `time`: the next multiple of `period` after it.
fn period_end(time: SystemTime, period: Duration) -> SystemTime {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let period = period.as_nanos().max(1);
    let end = (since_epoch / period + 1) * period;
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(end).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(index: u32, len: u64, age_secs: u64, now: SystemTime) -> ClosedFile {
        ClosedFile {
            index,
            path: PathBuf::from(format!("app.lmlog.{index:010}")),
            len,
            modified: now - Duration::from_secs(age_secs),
        }
    }

    fn indices(files: Vec<&ClosedFile>) -> Vec<u32> {
        files.into_iter().map(|file| file.index).collect()
    }

    #[test]
    fn retention_deletes_the_oldest_beyond_each_limit() {
        let now = SystemTime::now();
        let files: Vec<_> = (0..6).map(|i| closed(i, 100, 600 - 100 * i as u64, now)).collect();
        let keep_all = FileOptions::new();
        assert!(doomed(&files, &keep_all, now).is_empty());
        assert_eq!(indices(doomed(&files, &FileOptions::new().retain_max_files(4), now)), [0, 1]);
        assert_eq!(indices(doomed(&files, &FileOptions::new().retain_max_files(0), now)), [0, 1, 2, 3, 4, 5]);
        // Ages are 600, 500, ... 100 seconds.
        let by_age = FileOptions::new().retain_max_age(Duration::from_secs(350));
        assert_eq!(indices(doomed(&files, &by_age, now)), [0, 1, 2]);
        // 100 bytes each: the newest three fit in 350.
        assert_eq!(indices(doomed(&files, &FileOptions::new().retain_max_bytes(350), now)), [0, 1, 2]);
        assert_eq!(indices(doomed(&files, &FileOptions::new().retain_max_bytes(300), now)), [0, 1, 2]);
        let all =
            FileOptions::new().retain_max_files(5).retain_max_age(Duration::from_secs(450)).retain_max_bytes(1000);
        assert_eq!(indices(doomed(&files, &all, now)), [0, 1]);
    }

    #[test]
    fn a_large_file_takes_the_older_ones_with_it() {
        let now = SystemTime::now();
        let files = vec![closed(3, 10, 0, now), closed(4, 500, 0, now), closed(7, 10, 0, now)];
        assert_eq!(indices(doomed(&files, &FileOptions::new().retain_max_bytes(100), now)), [3, 4]);
    }

    #[test]
    fn periods_end_on_multiples_of_the_period_since_the_epoch() {
        let hour = Duration::from_secs(3600);
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_123);
        assert_eq!(period_end(t, hour), UNIX_EPOCH + Duration::from_secs(1_700_002_800));
        let on_the_hour = UNIX_EPOCH + Duration::from_secs(1_700_002_800);
        assert_eq!(period_end(on_the_hour, hour), on_the_hour + hour, "a boundary starts the next period");
        let day = Duration::from_secs(86_400);
        assert_eq!(period_end(t, day), UNIX_EPOCH + Duration::from_secs(1_700_006_400));
    }

    #[test]
    fn the_first_setting_names_the_config_method() {
        assert_eq!(FileOptions::new().first_setting(), None);
        assert_eq!(FileOptions::new().truncate(false).first_setting(), None);
        assert_eq!(FileOptions::new().mode(0o600).first_setting(), Some("file_mode"));
        assert_eq!(FileOptions::new().retain_max_age(Duration::ZERO).first_setting(), Some("retain_max_age"));
        assert_eq!(FileOptions::new().max_file_bytes(1).retain_max_files(3).first_setting(), Some("rotate"));
    }
}
