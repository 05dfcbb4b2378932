//! Crash survival: the run directory whose files hold the staging rings and
//! what is needed to decode them, so that a process death (SIGKILL, `abort`,
//! a segfault, `exit`) loses no committed event. The file layout and the
//! recovery that reads it are in `lmlog_format::staging`.
//!
//! `init` on a file output creates a [`Run`] for the log, after recovering
//! the runs of earlier processes on the same log that are gone. Rings are
//! then created in the run directory and mapped shared; the call-site
//! registry appends each new schema to the run's `meta` stream (once per
//! call site, on its first event) and the writer appends clock anchors.
//! A clean shutdown removes the directory.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use lmlog_format::frame::{preamble, push_frame};
use lmlog_format::schema::to_payload;
use lmlog_format::staging::{absolute_log_path, owned_by_us, run_key, staging_root};
use lmlog_format::{FrameKind, SessionInfo};

use crate::ring::Ring;

/// A running process's run directory; see the module documentation.
#[derive(Debug)]
pub(crate) struct Run {
    dir: PathBuf,
    /// Locked while this process lives: a later run that can take the lock
    /// knows this one is gone.
    _lock: File,
    meta: Mutex<Meta>,
    next_ring: AtomicU64,
}

#[derive(Debug)]
struct Meta {
    file: File,
    /// Sequence number of the next frame of the meta stream.
    seq: u32,
}

/// Creates `dir` owner-only, or checks that an existing one is ours and
/// that no other user can write it.
fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() || !owned_by_us(dir) || meta.permissions().mode() & 0o022 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is not a directory only this user can write", dir.display()),
            ));
        }
    }
    Ok(())
}

impl Run {
    /// Creates the run directory of the log at `log` and starts its meta
    /// stream with `session`.
    pub(crate) fn create(log: &Path, session: &SessionInfo) -> io::Result<Run> {
        let root = staging_root(log);
        private_dir(&root)?;
        let started = crate::clock::unix_nanos();
        let dir = root.join(format!("{}-{started:020}-{}", run_key(log), std::process::id()));
        private_dir(&dir)?;
        let owner_only = |path: PathBuf| {
            let mut options = OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(path)
        };
        let lock = owner_only(dir.join("lock"))?;
        lock.lock()?;
        owner_only(dir.join("log"))?.write_all(absolute_log_path(log).as_os_str().as_encoded_bytes())?;
        let mut file = owner_only(dir.join("meta"))?;
        let mut start = preamble().to_vec();
        push_frame(&mut start, FrameKind::Session, 0, &to_payload(session));
        file.write_all(&start)?;
        Ok(Run { dir, _lock: lock, meta: Mutex::new(Meta { file, seq: 1 }), next_ring: AtomicU64::new(0) })
    }

    /// Appends a frame to the meta stream (a schema when a call site is
    /// first used, a clock anchor from the writer). A failure only costs
    /// recovery the ability to decode those records, so it is reported once
    /// on stderr rather than stopping the caller.
    pub(crate) fn append_meta(&self, kind: FrameKind, payload: &[u8]) {
        let mut meta = self.meta.lock().unwrap_or_else(|p| p.into_inner());
        let mut frame = Vec::with_capacity(payload.len() + 32);
        push_frame(&mut frame, kind, meta.seq, payload);
        meta.seq = meta.seq.wrapping_add(1);
        if let Err(e) = meta.file.write_all(&frame) {
            static REPORTED: std::sync::Once = std::sync::Once::new();
            REPORTED.call_once(|| eprintln!("lmlog: cannot extend the crash-recovery metadata: {e}"));
        }
    }

    /// A new ring in a file of the run directory.
    pub(crate) fn ring(&self, capacity: usize) -> io::Result<Ring> {
        let n = self.next_ring.fetch_add(1, Ordering::Relaxed);
        Ring::mapped(capacity, self.dir.join(format!("ring-{n}")))
    }

    /// The run directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes the run directory after a clean shutdown: everything it
    /// staged has reached the sink.
    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
