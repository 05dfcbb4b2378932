//! The live JSON Lines output's file: the binary stream is decoded on a
//! background thread ([`LiveSink::json_lines`](super::live::LiveSink::json_lines))
//! into a JSON Lines file that rotates like the binary one.
//!
//! The JSON file is rotated by the decoder thread, between lines: only
//! that thread knows how many JSON bytes a file holds, and a JSON line
//! needs no file header, so it rotates on its own, whether the binary
//! stream it is fed rotates (beside a binary file) or not (alone).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::rotation::{FileOptions, SeriesFile};

/// The JSON Lines file of a series, rotated between lines: before a line
/// that does not fit in the live file's room, and at a line start after
/// the time boundary (so a file holds the lines written in its period).
/// Written unbuffered: the decoder's output already writes in large
/// chunks, and flushes whole lines whenever it has decoded all it was fed.
pub(crate) struct JsonFile {
    series: SeriesFile,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    /// A rotation failed and has not succeeded since (reported once).
    rotation_failing: bool,
}

impl JsonFile {
    /// Opens the live JSON Lines file of the series at `path` like the
    /// binary output's. An appended file whose last line was cut short (a
    /// process killed while writing it) gets a line end first, so that the
    /// cut line stays one bad line and the next run's lines stay whole.
    pub(crate) fn open(path: &Path, options: &FileOptions) -> io::Result<JsonFile> {
        let mut series = SeriesFile::open(path, options)?;
        if series.len() > 0 && ends_mid_line(path) {
            series.write_all(b"\n")?;
        }
        Ok(JsonFile { series, at_line_start: true, rotation_failing: false })
    }

    /// Closes the live file before the next line; a failure is reported
    /// once and leaves the lines in the live file (nothing is lost), to be
    /// tried again a file's worth of bytes or a period later.
    fn rotate(&mut self) {
        match self.series.rotate() {
            Ok(()) => self.rotation_failing = false,
            Err(e) => {
                if !std::mem::replace(&mut self.rotation_failing, true) {
                    eprintln!(
                        "lmlog: cannot rotate the JSON Lines file {}: {e}; its lines stay in it",
                        self.series.path().display()
                    );
                }
                self.series.defer_rotation();
            }
        }
    }

    /// How much of `buf` to write to the live file at once: every whole
    /// line that fits in its room, or else the rest of the current line.
    fn next_run(&self, buf: &[u8]) -> usize {
        match self.series.room() {
            Some(room) if (buf.len() as u64) > room => {
                let fits = &buf[..room as usize];
                match fits.iter().rposition(|&b| b == b'\n') {
                    Some(end) => end + 1,
                    None => line_len(buf),
                }
            }
            _ => buf.len(),
        }
    }
}

/// Whether the file at `path` ends without a line end (false when it
/// cannot be read: a file only its writer may open is left as it is).
fn ends_mid_line(path: &Path) -> bool {
    let mut last = [0u8];
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::End(-1))?;
        file.read_exact(&mut last)
    });
    read.is_ok() && last[0] != b'\n'
}

/// Length of the first line of `buf` with its line end, or all of `buf`
/// when the line continues past it.
fn line_len(buf: &[u8]) -> usize {
    buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |end| end + 1)
}

impl Write for JsonFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            if self.at_line_start && self.series.len() > 0 {
                let too_long = self.series.room().is_some_and(|room| line_len(buf) as u64 > room);
                if too_long || self.series.period_over() {
                    self.rotate();
                }
            }
            let run = self.next_run(buf);
            self.series.write_all(&buf[..run])?;
            self.at_line_start = buf[run - 1] == b'\n';
            buf = &buf[run..];
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.series.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lmlog-jsonl-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The series' files, oldest first (the live file last).
    fn series(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names.rotate_left(1); // "app.jsonl" sorts before its closed files
        names.into_iter().map(|name| std::fs::read_to_string(dir.join(name)).unwrap()).collect()
    }

    #[test]
    fn rotates_between_lines_whatever_the_write_boundaries() {
        let dir = temp_dir("lines");
        let path = dir.join("app.jsonl");
        let max = FileOptions::MIN_FILE_BYTES;
        let mut file = JsonFile::open(&path, &FileOptions::new().max_file_bytes(max)).unwrap();
        // Lines of 1 to 299 bytes and one longer than a whole file.
        let mut text = String::new();
        for i in 0..400usize {
            let len = if i == 200 { 5000 } else { 1 + i * 37 % 299 };
            text.push_str(&format!("{i:>len$}\n"));
        }
        // Written in pieces that split lines anywhere.
        for piece in text.as_bytes().chunks(1000) {
            file.write_all(piece).unwrap();
        }
        file.flush().unwrap();
        let files = series(&dir);
        assert!(files.len() > 5, "{} files", files.len());
        assert_eq!(files.concat(), text, "every byte once, in order");
        for content in &files {
            assert!(content.ends_with('\n'), "a file ends with a whole line");
            let last_line = content.trim_end_matches('\n').rsplit('\n').next().unwrap().len() + 1;
            assert!((content.len() - last_line) as u64 <= max, "a file overshoots by at most its last line");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cut_last_line_is_ended_before_appending() {
        let dir = temp_dir("cut");
        let path = dir.join("app.jsonl");
        std::fs::write(&path, "{\"whole\":1}\n{\"cut\":").unwrap();
        let mut file = JsonFile::open(&path, &FileOptions::new()).unwrap();
        file.write_all(b"{\"next\":2}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"whole\":1}\n{\"cut\":\n{\"next\":2}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
