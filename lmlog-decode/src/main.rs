//! `lmlog-decode`: turns lmlog binary logs into JSON Lines (or, with
//! `--format`, human-readable lines, logfmt or OTLP/JSON).
//!
//! Exit status: 0 if the input decoded cleanly, 1 if damage was found (the
//! output still holds every intact event), 2 on fatal errors (the input
//! cannot be opened, is not an lmlog file or has an unsupported version).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Parser;
use lmlog_decode::filter::{Filter, Filtered};
use lmlog_decode::{DecodeError, Decoder, Format, JsonLines, Logfmt, OtelJson, Output, Pretty};

mod filter_args;
mod summary_cmd;

/// Decode lmlog binary logs into JSON Lines.
#[derive(Debug, Parser)]
#[command(name = "lmlog-decode", version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Input file; standard input if absent or `-`. Rotated files may be
    /// concatenated: `cat app.lmlog.1 app.lmlog | lmlog-decode`.
    file: Option<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Do not print diagnostics about damaged input (fatal errors are still printed).
    #[arg(short, long)]
    quiet: bool,
    /// Before decoding, append to FILE what the staging files of processes
    /// that wrote it and died (SIGKILL, abort, a crash) still hold: what the
    /// next `lmlog::init` on FILE would recover. Needs FILE.
    #[arg(long)]
    recover: bool,
    /// Write events in the order they are stored (each thread's in blocks
    /// of about one drain interval) instead of merging all threads by
    /// timestamp: the fastest decode, holding nothing back.
    #[arg(long)]
    unordered: bool,
    #[command(flatten)]
    filter: filter_args::FilterArgs,
    /// Output format: JSON Lines, one human line per event, logfmt, or
    /// OpenTelemetry OTLP/JSON (one ExportLogsServiceRequest per line).
    #[arg(long, default_value = "jsonl", value_parser = PossibleValuesParser::new(Format::NAMES).try_map(|s| s.parse::<Format>()))]
    format: Format,
    /// Colour the `pretty` format: `auto` when standard output is a
    /// terminal (and `NO_COLOR` is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

/// What to do instead of decoding.
#[derive(Debug, clap::Subcommand)]
enum Command {
    Summary(summary_cmd::SummaryArgs),
}

/// When to colour the `pretty` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    Never,
    Always,
    Auto,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Summary(summary)) = &args.command {
        return summary_cmd::run(summary);
    }
    let name = match &args.file {
        Some(p) if p.as_os_str() != "-" => p.display().to_string(),
        _ => "<stdin>".to_owned(),
    };
    let filter = match args.filter.filter() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("lmlog-decode: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args, &name, filter) {
        Ok(clean) => ExitCode::from(if clean { 0 } else { 1 }),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                DecodeError::Open { .. } => eprintln!("lmlog-decode: {e}"),
                _ => eprintln!("lmlog-decode: {name}: {e}"),
            }
            ExitCode::from(2)
        }
    }
}

/// Appends to `log` what dead processes staged for it; reports on stderr.
fn recover(log: &std::path::Path) -> Result<(), DecodeError> {
    let open_err = |source| DecodeError::Open { path: log.to_owned(), source };
    let mut file = File::options().append(true).open(log).map_err(open_err)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let recovery = lmlog_format::staging::recover_dead_runs(log, now, |stream| {
        file.write_all(&stream.bytes)?;
        file.sync_data()
    });
    for (dir, reason) in &recovery.failed {
        eprintln!("lmlog-decode: cannot recover the staging files in {}: {reason}", dir.display());
    }
    for stream in &recovery.streams {
        eprintln!("lmlog-decode: recovered {stream} into {}", log.display());
    }
    Ok(())
}

/// Decodes; returns whether the input was free of damage.
fn run(args: &Args, name: &str, filter: Filter) -> Result<bool, DecodeError> {
    if args.recover {
        match &args.file {
            Some(p) if p.as_os_str() != "-" => recover(p)?,
            _ => {
                return Err(DecodeError::Open {
                    path: PathBuf::from("-"),
                    source: io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "--recover needs a log file, not standard input",
                    ),
                })
            }
        }
    }
    let input: Box<dyn Read> = match &args.file {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(File::open(p).map_err(|source| DecodeError::Open { path: p.clone(), source })?)
        }
        _ => Box::new(io::stdin().lock()),
    };
    let output: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(File::create(p).map_err(|source| DecodeError::Open { path: p.clone(), source })?),
        None => Box::new(io::stdout().lock()),
    };
    let color = match args.color {
        Color::Never => false,
        Color::Always => true,
        Color::Auto => {
            use std::io::IsTerminal;
            args.output.is_none()
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    match args.format {
        Format::Pretty => filtered(Pretty::new(output, color), filter, input, args, name),
        Format::Logfmt => filtered(Logfmt::new(output), filter, input, args, name),
        Format::OtelJson => filtered(OtelJson::new(output), filter, input, args, name),
        _ => filtered(JsonLines::new(output), filter, input, args, name),
    }
}

/// Decodes into `output`, through `filter` unless it keeps everything.
fn filtered<O: Output>(
    output: O,
    filter: Filter,
    input: Box<dyn Read>,
    args: &Args,
    name: &str,
) -> Result<bool, DecodeError> {
    if filter.is_empty() {
        decode(Decoder::new(output), input, args, name)
    } else {
        decode(Decoder::new(Filtered::new(filter, output)), input, args, name)
    }
}

/// Decodes `input` with `decoder`; returns whether it was free of damage.
fn decode<O: Output>(
    mut decoder: Decoder<O>,
    input: Box<dyn Read>,
    args: &Args,
    name: &str,
) -> Result<bool, DecodeError> {
    decoder.set_time_order(!args.unordered);
    if !args.quiet {
        let name = name.to_owned();
        decoder.set_diagnostic_handler(move |d| {
            let _ = writeln!(io::stderr().lock(), "lmlog-decode: {name}: {d}");
        });
    }
    decoder.decode_from(input)?;
    let summary = decoder.finish()?;
    Ok(summary.is_clean())
}
