//! Where the writer thread puts the framed stream.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A destination for the framed binary stream. Only the writer thread calls
/// it, always with whole frames.
pub trait Sink: Send {
    /// Writes bytes (one or more whole frames, or the file preamble).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Makes everything written so far durable enough for readers: called by
    /// [`flush`](crate::flush) and at shutdown.
    fn flush(&mut self) -> io::Result<()>;

    /// Whether the writer should close this file and start a new one before
    /// the next write. The writer then calls [`Sink::rotate`] and writes a
    /// fresh file header (session, schemas, threads).
    fn wants_rotation(&self) -> bool {
        false
    }

    /// Starts a new file.
    fn rotate(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Index of the current file in a rotated series (0 for the first).
    fn file_index(&self) -> u32 {
        0
    }
}

impl Sink for Box<dyn Sink> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).write_all(bytes)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn wants_rotation(&self) -> bool {
        (**self).wants_rotation()
    }
    fn rotate(&mut self) -> io::Result<()> {
        (**self).rotate()
    }
    fn file_index(&self) -> u32 {
        (**self).file_index()
    }
}

/// Any `Write + Send` is a sink that never rotates, e.g. a `Vec<u8>` in
/// tests or a pipe.
#[derive(Debug)]
pub struct WriteSink<W>(pub W);

impl<W: Write + Send> Sink for WriteSink<W> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A file, optionally rotated by size.
///
/// With rotation, the live file keeps its name and older files are renamed
/// to `PATH.1` (the most recent) up to `PATH.keep`; older ones are deleted.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: File,
    written: u64,
    rotate: Option<(u64, u32)>,
    index: u32,
}

impl FileSink {
    /// Creates (or truncates) `path`.
    pub fn create(path: impl AsRef<Path>) -> io::Result<FileSink> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(&path)?;
        Ok(FileSink { path, file, written: 0, rotate: None, index: 0 })
    }

    /// Rotates once the file exceeds `max_bytes`, keeping `keep` old files.
    pub fn with_rotation(mut self, max_bytes: u64, keep: u32) -> FileSink {
        self.rotate = Some((max_bytes, keep));
        self
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }
}

impl Sink for FileSink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn wants_rotation(&self) -> bool {
        self.rotate.is_some_and(|(max, _)| self.written >= max)
    }

    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.rotate.map_or(0, |(_, keep)| keep);
        self.file.flush()?;
        if keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            match std::fs::remove_file(self.numbered(keep)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            for n in (1..keep).rev() {
                match std::fs::rename(self.numbered(n), self.numbered(n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, self.numbered(1))?;
        }
        self.file = OpenOptions::new().create(true).write(true).truncate(true).open(&self.path)?;
        self.written = 0;
        self.index += 1;
        Ok(())
    }

    fn file_index(&self) -> u32 {
        self.index
    }
}

/// Decodes the stream on a background thread and writes JSON Lines.
#[cfg(feature = "jsonl")]
pub(crate) struct JsonlSink {
    decoder: Option<lmlog_decode::LiveDecoder>,
}

#[cfg(feature = "jsonl")]
impl JsonlSink {
    pub(crate) fn create(path: &Path) -> io::Result<JsonlSink> {
        let file = io::BufWriter::with_capacity(256 << 10, File::create(path)?);
        Ok(JsonlSink { decoder: Some(lmlog_decode::LiveDecoder::spawn(file)?) })
    }
}

#[cfg(feature = "jsonl")]
impl Sink for JsonlSink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &self.decoder {
            Some(decoder) => {
                decoder.feed_slice(bytes);
                Ok(())
            }
            None => Err(io::Error::other("JSON Lines decoder already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &self.decoder {
            Some(decoder) => decoder.sync().map_err(io::Error::other),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "jsonl")]
impl Drop for JsonlSink {
    fn drop(&mut self) {
        if let Some(decoder) = self.decoder.take() {
            if let Err(e) = decoder.finish() {
                eprintln!("lmlog: JSON Lines output: {e}");
            }
        }
    }
}
