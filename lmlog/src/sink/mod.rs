//! Where the writer thread puts the framed stream: the [`Sink`] trait,
//! [`WriteSink`] for any writer, the binary [`FileSink`] and the live
//! JSON Lines output, both rotating through the series of
//! [`rotation`], the console, and the tee that writes a decoded output
//! beside another (`live`).

use std::io::{self, Write};

mod file;
#[cfg(feature = "jsonl")]
mod jsonl;
#[cfg(any(feature = "jsonl", feature = "console"))]
mod live;
mod rotation;

pub use file::FileSink;
#[cfg(any(feature = "jsonl", feature = "console"))]
pub(crate) use live::{LiveSink, Tee};
pub use rotation::FileOptions;

/// A destination for the framed binary stream. Only the writer thread calls
/// it, always with whole frames.
///
/// A sink that keeps files rotates itself through this trait: it says when
/// it wants a new file ([`wants_rotation`](Sink::wants_rotation)) and how
/// much the current one may still take ([`room`](Sink::room)), and starts
/// one in [`rotate`](Sink::rotate). The rotation settings of
/// [`Config`](crate::Config) configure lmlog's own outputs only: with a
/// custom sink, [`init`](crate::init) refuses them.
pub trait Sink: Send {
    /// Writes bytes (one or more whole frames, or the file preamble).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Makes everything written so far durable enough for readers: called by
    /// [`flush`](crate::flush) and at shutdown.
    fn flush(&mut self) -> io::Result<()>;

    /// Whether the writer should close this file and start a new one before
    /// the next write (its size limit is reached, or its time period is
    /// over). The writer then calls [`Sink::rotate`] and writes a fresh file
    /// header (session, schemas, threads).
    fn wants_rotation(&self) -> bool {
        false
    }

    /// Bytes the current file may still take before its size limit; `None`
    /// when it has none (the default). The writer rotates before a frame
    /// that does not fit, so a file overshoots its limit by at most one
    /// frame.
    fn room(&self) -> Option<u64> {
        None
    }

    /// Starts a new file. On error the sink must still take writes into
    /// its current file.
    fn rotate(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Index of the current file in a rotated series (0 for the first): the
    /// session frame of each file records it.
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
    fn room(&self) -> Option<u64> {
        (**self).room()
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
