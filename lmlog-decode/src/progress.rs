//! The progress bar on standard error while large inputs decode, and
//! printing on standard error without garbling it.

use std::fmt;
use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs at least this large show a progress bar (smaller ones decode
/// in a fraction of a second in a release build).
pub const PROGRESS_MIN_BYTES: u64 = 16 << 20;

/// What the bar shows: bytes decoded of the total, speed, time left and
/// the file being decoded (cut to what fits in an 80-column line).
const TEMPLATE: &str = "{bytes}/{total_bytes} [{bar:25}] {bytes_per_sec}, ETA {eta} {wide_msg}";

/// A progress bar on standard error, or nothing. Clones show the same bar.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// No bar: [`eprintln`](Self::eprintln) prints straight to standard error.
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// A bar for decoding `total` bytes if that is worth showing: at least
    /// [`PROGRESS_MIN_BYTES`], and standard error is a terminal.
    pub fn for_bytes(total: u64) -> Progress {
        if total < PROGRESS_MIN_BYTES || !io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let style = ProgressStyle::with_template(TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style.progress_chars("=> "));
        Progress { bar: Some(bar) }
    }

    /// `bytes` more were decoded.
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// The file being decoded now.
    pub fn set_file(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_owned());
        }
    }

    /// Prints a line on standard error, above the bar.
    pub fn eprintln(&self, line: fmt::Arguments<'_>) {
        // A failing standard error has nowhere to be reported.
        let print = || drop(writeln!(io::stderr().lock(), "{line}"));
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
