//! `lmlog-decode summary FILE...`: a digest of a whole log, as text (at
//! most 4 KiB) or, with `--json`, as one JSON document.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use lmlog_decode::summary::Summary;
use lmlog_decode::{DecodeError, Decoder};

/// Print a digest of logs: at most 4 KiB of text, or JSON with `--json`.
///
/// The digest holds the counts per event type, call site and level, the
/// time span and the rate over it, the frequent values of each field,
/// what was dropped, lost or damaged, the first messages of warnings and
/// errors, and the processes that wrote the log.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// Input files, decoded one after another in the order given and
    /// summarised together (`-` for standard input).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Do not print diagnostics about damaged input (fatal errors are still printed).
    #[arg(short, long)]
    quiet: bool,
}

/// Runs the subcommand; the exit status is the decoder's: 0 if the input
/// decoded cleanly, 1 if damage was found (the digest counts it), 2 on
/// fatal errors.
pub fn run(args: &SummaryArgs) -> ExitCode {
    // The file being read and the stream offset it starts at, so that
    // diagnostics and errors name their file.
    let current = Arc::new(Mutex::new((String::new(), 0u64)));
    match summarise(args, &current) {
        Ok(clean) => ExitCode::from(if clean { 0 } else { 1 }),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                DecodeError::Open { .. } | DecodeError::Write { .. } => eprintln!("lmlog-decode: {e}"),
                _ => eprintln!("lmlog-decode: {}: {e}", current.lock().unwrap_or_else(|e| e.into_inner()).0),
            }
            ExitCode::from(2)
        }
    }
}

fn name(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Summarises the files; returns whether they were free of damage.
fn summarise(args: &SummaryArgs, current: &Arc<Mutex<(String, u64)>>) -> Result<bool, DecodeError> {
    let mut summary = Summary::new();
    // In time order, so that the first messages kept are the earliest.
    let mut decoder = Decoder::new(&mut summary).with_time_order();
    if !args.quiet {
        let current = Arc::clone(current);
        decoder.set_diagnostic_handler(move |d| {
            let (file, start) = &*current.lock().unwrap_or_else(|e| e.into_inner());
            let mut d = d.clone();
            d.offset = d.offset.saturating_sub(*start);
            let _ = writeln!(io::stderr().lock(), "lmlog-decode: {file}: {d}");
        });
    }
    // Where the `inputs` resolver (directories, rotated series) plugs in:
    // it replaces `args.files` with the files it resolves, oldest first.
    for path in &args.files {
        *current.lock().unwrap_or_else(|e| e.into_inner()) = (name(path), decoder.summary().bytes_read);
        if path.as_os_str() == "-" {
            decoder.decode_from(io::stdin().lock())?;
        } else {
            let file = File::open(path).map_err(|source| DecodeError::Open { path: path.clone(), source })?;
            decoder.decode_from(file)?;
        }
    }
    let tally = decoder.finish()?;
    let digest = summary.digest(&tally);
    let text = if args.json { digest.to_json() + "\n" } else { digest.to_text() };
    let write = |source| DecodeError::Write { source };
    match &args.output {
        Some(p) => std::fs::write(p, text).map_err(|source| DecodeError::Open { path: p.clone(), source })?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(write)?;
            out.flush().map_err(write)?;
        }
    }
    Ok(tally.is_clean())
}
