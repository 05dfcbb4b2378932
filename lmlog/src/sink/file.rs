//! [`FileSink`]: the binary log in a file, or a rotated series of files.

use std::io;
use std::path::Path;

use super::rotation::{FileOptions, SeriesFile};
use super::Sink;

/// The binary log in a file: appended to by default, rotated and pruned
/// as its [`FileOptions`] say.
///
/// With rotation, the live file keeps its name and each closed file is
/// renamed to the live name plus its ten-digit index in the series
/// (`app.lmlog.0000000000`, `app.lmlog.0000000001`, …), so a listing or a
/// glob sorts the series oldest first. A new sink continues the series:
/// its index is one above the highest closed file present, and nothing is
/// renamed over or deleted except by the retention policy.
///
/// ```no_run
/// use lmlog::{FileOptions, FileSink};
/// let sink = FileSink::open("app.lmlog", &FileOptions::new().max_file_bytes(64 << 20).retain_max_files(8))?;
/// let _guard = lmlog::init(lmlog::Config::new().sink(sink));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FileSink {
    series: SeriesFile,
}

impl FileSink {
    /// Opens `path` for appending (or truncates it, with
    /// [`FileOptions::truncate`]), creating it with the options' mode, and
    /// continues the rotated series beside it. A live file that is already
    /// full, or was last written in an earlier rotation period, is closed
    /// at once.
    pub fn open(path: impl AsRef<Path>, options: &FileOptions) -> io::Result<FileSink> {
        Ok(FileSink { series: SeriesFile::open(path.as_ref(), options)? })
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        self.series.path()
    }
}

impl Sink for FileSink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.series.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.series.flush()
    }

    fn wants_rotation(&self) -> bool {
        self.series.wants_rotation()
    }

    fn room(&self) -> Option<u64> {
        self.series.room()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.series.rotate()
    }

    fn file_index(&self) -> u32 {
        self.series.index()
    }
}
