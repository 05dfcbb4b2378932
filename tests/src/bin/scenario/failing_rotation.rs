//! `lmlog-scenario failing-rotation DIR SPILL_BYTES`: a sink that rotates
//! through `DIR/app.lmlog.0`, `.1`, … and fails on cue. Round 1's writes
//! fail; the sink asks for a new file before round 2; the first write to
//! that new file (its preamble, session and schemas, with round 2's
//! records) fails too; round 3 goes through. With `SPILL_BYTES` 0 the
//! writer drops what the sink does not take; with room it holds it and
//! writes it late.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog::lm_event;

/// What the scenario asks of the sink.
#[derive(Default)]
struct Cues {
    /// Fail every write.
    fail: AtomicBool,
    /// Start a new file before the next write.
    rotate: AtomicBool,
    /// Fail the first write to the next file.
    fail_new_file_start: AtomicBool,
}

struct RotatingSink {
    dir: PathBuf,
    file: File,
    index: u32,
    written_to_file: bool,
    fail_this_file_start: bool,
    cues: Arc<Cues>,
}

impl RotatingSink {
    fn path(dir: &Path, index: u32) -> PathBuf {
        dir.join(format!("app.lmlog.{index}"))
    }
}

impl lmlog::Sink for RotatingSink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.written_to_file && std::mem::take(&mut self.fail_this_file_start) {
            self.written_to_file = true;
            return Err(io::Error::other("the new file's first write fails (scenario)"));
        }
        if self.cues.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("write fails (scenario)"));
        }
        self.written_to_file = true;
        self.file.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn wants_rotation(&self) -> bool {
        self.cues.rotate.load(Ordering::SeqCst)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.cues.rotate.store(false, Ordering::SeqCst);
        self.index += 1;
        self.file = File::create(Self::path(&self.dir, self.index))?;
        self.written_to_file = false;
        self.fail_this_file_start = self.cues.fail_new_file_start.swap(false, Ordering::SeqCst);
        Ok(())
    }

    fn file_index(&self) -> u32 {
        self.index
    }
}

pub fn run(dir: &Path, spill_bytes: usize) -> Result<(), Box<dyn std::error::Error>> {
    let cues = Arc::new(Cues::default());
    let sink = RotatingSink {
        dir: dir.to_path_buf(),
        file: File::create(RotatingSink::path(dir, 0))?,
        index: 0,
        written_to_file: false,
        fail_this_file_start: false,
        cues: cues.clone(),
    };
    let config = lmlog::Config::new()
        .sink(sink)
        .env_filter(false)
        .flush_interval(Duration::from_secs(3600))
        .spill_capacity(spill_bytes);
    let _guard = lmlog::init(config)?;
    for round in 0..4u32 {
        match round {
            1 => cues.fail.store(true, Ordering::SeqCst),
            2 => {
                cues.fail.store(false, Ordering::SeqCst);
                cues.fail_new_file_start.store(true, Ordering::SeqCst);
                cues.rotate.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
        for i in 0..50u32 {
            lm_event!(info, "step", round, i);
        }
        lmlog::flush();
    }
    Ok(())
}
