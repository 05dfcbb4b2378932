//! `lmlog-decode summary FILE...`: a digest of a whole log, as text (at
//! most 4 KiB) or, with `--json`, as one JSON document.

use std::io::{self, Write};
use std::path::PathBuf;

use lmlog_decode::summary::Summary;
use lmlog_decode::{DecodeError, Decoder};

use crate::{inputs, Fatal};

/// Print a digest of logs: at most 4 KiB of text, or JSON with `--json`.
///
/// The digest holds the counts per event type, call site and level, the
/// time span and the rate over it, the frequent values of each field,
/// what was dropped, lost or damaged, the first messages of warnings and
/// errors, and the processes that wrote the log.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// Log files, directories or series' live files, summarised together
    /// (`-` for standard input), found and ordered as `lmlog-decode FILE...`
    /// does: `lmlog-decode summary app.lmlog` summarises the whole series.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only the files named, not the rest of their series.
    #[arg(long)]
    single: bool,
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

/// Runs the subcommand: summarises the inputs; returns whether they were
/// free of damage and gaps.
pub fn run(args: &SummaryArgs) -> Result<bool, Fatal> {
    let inputs = inputs::resolve(&args.files, args.single)?;
    let mut summary = Summary::new();
    // In time order, so that the first messages kept are the earliest.
    let decoder = Decoder::new(&mut summary).with_time_order();
    let tally = inputs::decode_all(decoder, &inputs, args.quiet)?;
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
    Ok(tally.is_clean() && inputs.problems.is_empty())
}
