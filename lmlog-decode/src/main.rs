//! `lmlog-decode`: turns lmlog binary logs into JSON Lines (or, with
//! `--format`, human-readable lines, logfmt or OTLP/JSON).
//!
//! Exit status: 0 if the input decoded cleanly, 1 if damage or a gap in a
//! series was found (the output still holds every intact event), 2 on fatal
//! errors (an input cannot be opened, is not an lmlog file or has an
//! unsupported version; a bad flag; the output cannot be written). With
//! `--otlp`/`--otlp-endpoint`: 1 also if the collector rejected events, 2
//! if the export gave up.
//!
//! Modules: `inputs` (which files, in which order, fed into a decoder with
//! diagnostics naming each file), `export` (`--otlp`), `follow` (`--follow`), `progress` (the
//! progress bar), `filter_args` (the filter flags), `help` (the help texts).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Parser;
use lmlog_decode::filter::{Filter, Filtered};
use lmlog_decode::interleave::LineWriter;
use lmlog_decode::{
    DecodeError, DecodeSummary, Decoder, Format, JsonLines, LmlogPyLines, Logfmt, OtelJson, Output, Pretty, Shape,
};

mod export;
mod filter_args;
mod follow;
mod help;
mod inputs;
mod progress;

mod summary_cmd;

use follow::EndWatch;
use inputs::{FeedError, InputError, Inputs};

#[derive(Debug, Parser)]
#[command(
    name = "lmlog-decode",
    version,
    about = help::ABOUT,
    long_about = help::LONG_ABOUT,
    after_help = help::AFTER_HELP,
    after_long_help = help::AFTER_LONG_HELP,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log files, directories or series' live files (standard input if none, or `-`).
    ///
    /// A live file brings its series (`app.lmlog.0000000000`, … then
    /// `app.lmlog`), a directory every lmlog file in it; files decode in the
    /// order they were written, whatever the order named. Example:
    /// `lmlog-decode app.lmlog`, `lmlog-decode logs/`,
    /// `lmlog-decode old/app.lmlog.0000000002 old/app.lmlog.0000000001`.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Do not print diagnostics about damage or gaps (fatal errors are still printed).
    ///
    /// The exit status still says what was found. Example:
    /// `lmlog-decode -q app.lmlog || echo damaged`.
    #[arg(short, long)]
    quiet: bool,
    /// Decode only the files named, not the rest of their series.
    ///
    /// Example: `lmlog-decode --single app.lmlog` decodes the live file
    /// alone; with `--follow`, follows from the live file on.
    #[arg(long)]
    single: bool,
    /// Keep decoding the live file as it grows, until the application stops or Ctrl-C.
    ///
    /// Decodes the series (unless `--single`), then polls the live file,
    /// printing events as soon as they are decoded (in time order: as the
    /// writer's watermarks release them); exits 0 when the
    /// application's last End frame (shutdown) has been decoded, or on
    /// SIGINT or SIGTERM. Takes one FILE, which need not exist yet.
    /// Example: `lmlog-decode -f --format pretty app.lmlog`.
    #[arg(short, long)]
    follow: bool,
    /// Before decoding, recover into FILE what dead writers staged for it.
    ///
    /// Appends to FILE what the staging files of processes that wrote it and
    /// died (SIGKILL, abort, a crash) still hold: what the next
    /// `lmlog::init` on FILE would recover. Needs one FILE. Example:
    /// `lmlog-decode --recover app.lmlog`.
    #[arg(long)]
    recover: bool,
    /// Write events in the order they are stored instead of merging all threads by timestamp.
    ///
    /// Each thread's events come in blocks of about one drain interval:
    /// the fastest decode, holding nothing back. Example:
    /// `lmlog-decode --unordered app.lmlog`.
    #[arg(long)]
    unordered: bool,
    /// Write to this file instead of standard output.
    ///
    /// Example: `lmlog-decode -o app.jsonl app.lmlog`.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,
    /// Output format: JSON Lines, one human line per event, logfmt, or OTLP/JSON.
    ///
    /// `otel-json` writes one OpenTelemetry ExportLogsServiceRequest per
    /// line. Example: `lmlog-decode --format pretty app.lmlog`.
    #[arg(long, help_heading = "Output", default_value = "jsonl", value_parser = PossibleValuesParser::new(Format::NAMES).try_map(|s| s.parse::<Format>()))]
    format: Format,
    /// The keys of each JSON line: lmlog's own, or the Python LMLog 0.3.0's layout.
    ///
    /// `lmlog-py`: `timestamp`, `source`, `resource`, `global_context`,
    /// `correlation`, `trace`, `event_type`, `level`, `entity_type`,
    /// `entity_id`, `context`, as the Python logger writes them, for what
    /// was built on its lines (the resource always). JSON Lines only
    /// (`--format jsonl`), not with `--otlp`. Example:
    /// `lmlog-decode --shape lmlog-py app.lmlog`.
    #[arg(long, help_heading = "Output", default_value = "lmlog", value_parser = PossibleValuesParser::new(Shape::NAMES).try_map(|s| s.parse::<Shape>()))]
    shape: Shape,
    /// When to colour the `pretty` format.
    ///
    /// `auto`: when standard output is a terminal and `NO_COLOR` is unset.
    /// Example: `lmlog-decode --format pretty --color always app.lmlog | less -R`.
    #[arg(long, help_heading = "Output", value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Add the writing process's OpenTelemetry resource to every JSON line.
    ///
    /// `"resource":{"service.name":…,"host.name":…,"process.pid":…,…}`:
    /// what the writer detected and was configured with (`otel-json`
    /// always carries it). Example: `lmlog-decode --resource app.lmlog`.
    #[arg(long, help_heading = "Output")]
    resource: bool,
    #[command(flatten)]
    filter: filter_args::FilterArgs,
    #[command(flatten)]
    export: export::ExportArgs,
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

/// Why the command stopped before decoding everything.
#[derive(Debug, thiserror::Error)]
enum Fatal {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{0}")]
    Usage(&'static str),
    #[error(transparent)]
    Export(#[from] lmlog_decode::otlp::ConfigError),
    /// Already printed, with what followed it (the export's final line).
    #[error("")]
    Reported,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.command {
        Some(Command::Summary(summary)) => summary_cmd::run(summary),
        None => match args.filter.filter() {
            Ok(filter) => run(&args, filter),
            Err(e) => {
                eprintln!("lmlog-decode: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(clean) => ExitCode::from(if clean { 0 } else { 1 }),
        Err(Fatal::Feed(e)) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(Fatal::Decode(e)) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(Fatal::Reported) => ExitCode::from(2),
        Err(e) => {
            eprintln!("lmlog-decode: {e}");
            ExitCode::from(2)
        }
    }
}

/// Decodes; returns whether the input was free of damage and gaps.
fn run(args: &Args, filter: Filter) -> Result<bool, Fatal> {
    let named_file = match args.files.as_slice() {
        [file] if file.as_os_str() != "-" && !file.is_dir() => Some(file.as_path()),
        _ => None,
    };
    if args.recover {
        recover(named_file.ok_or(Fatal::Usage("--recover needs one log file, not standard input or a directory"))?)?;
    }
    let endpoint = args.export.endpoint()?;
    if args.shape != Shape::Lmlog && (args.format != Format::Jsonl || endpoint.is_some()) {
        return Err(Fatal::Usage(
            "--shape lmlog-py shapes JSON Lines: it combines with neither --format pretty, logfmt or otel-json nor --otlp",
        ));
    }
    if let Some(endpoint) = endpoint {
        let source = source(args, named_file)?;
        return export::run(&args.export, endpoint, filter, &source, args);
    }
    let output: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(File::create(p).map_err(|source| DecodeError::Open { path: p.clone(), source })?),
        None => Box::new(io::stdout().lock()),
    };
    print(args, filter, output, named_file)
}

/// What `args` name to decode.
fn source<'a>(args: &Args, named_file: Option<&'a Path>) -> Result<Source<'a>, Fatal> {
    if args.follow {
        let path = named_file.ok_or(Fatal::Usage("--follow takes one log file, not standard input or a directory"))?;
        if inputs::is_closed_file(path) {
            return Err(Fatal::Usage("--follow takes a series' live file (app.lmlog), not one of its closed files"));
        }
        Ok(Source::Follow(path))
    } else {
        Ok(Source::Inputs(inputs::resolve(&args.files, args.single)?))
    }
}

/// Decodes into `output` in the format asked for.
fn print(args: &Args, filter: Filter, output: Box<dyn Write>, named_file: Option<&Path>) -> Result<bool, Fatal> {
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
    if args.resource && args.format != Format::Jsonl {
        return Err(Fatal::Usage(
            "--resource adds a key to JSON Lines (--format jsonl); otel-json always has the resource",
        ));
    }
    let source = source(args, named_file)?;
    if let Source::Inputs(inputs) = &source {
        if !args.unordered && inputs.streams().len() > 1 {
            return match args.format {
                Format::Pretty => merged(|w| Pretty::new(w, color), filter, inputs, output, args.quiet),
                Format::Logfmt => merged(Logfmt::new, filter, inputs, output, args.quiet),
                Format::OtelJson => merged(OtelJson::new, filter, inputs, output, args.quiet),
                _ if args.shape == Shape::LmlogPy => merged(LmlogPyLines::new, filter, inputs, output, args.quiet),
                _ => merged(|w| JsonLines::new(w).include_resource(args.resource), filter, inputs, output, args.quiet),
            };
        }
    }
    match args.format {
        Format::Pretty => filtered(Pretty::new(output, color), filter, &source, args),
        Format::Logfmt => filtered(Logfmt::new(output), filter, &source, args),
        Format::OtelJson => filtered(OtelJson::new(output), filter, &source, args),
        _ if args.shape == Shape::LmlogPy => filtered(LmlogPyLines::new(output), filter, &source, args),
        _ => filtered(JsonLines::new(output).include_resource(args.resource), filter, &source, args),
    }
}

/// What is decoded: inputs resolved up front, or a live file followed.
enum Source<'a> {
    Inputs(Inputs),
    Follow(&'a Path),
}

/// Appends to `log` what dead processes staged for it; reports on stderr.
fn recover(log: &Path) -> Result<(), DecodeError> {
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

/// Decodes into `output`, through `filter` unless it keeps everything.
fn filtered<O: Output>(output: O, filter: Filter, source: &Source<'_>, args: &Args) -> Result<bool, Fatal> {
    if filter.is_empty() {
        decode(output, source, args)
    } else {
        decode(Filtered::new(filter, output), source, args)
    }
}

/// Decodes the logs of `inputs` written side by side (several
/// applications' series) into `out` with the outputs `make` builds, their
/// events merged by time, through `filter` unless it keeps everything;
/// returns whether they were free of damage and gaps.
fn merged<O: Output>(
    make: impl Fn(LineWriter) -> O,
    filter: Filter,
    inputs: &Inputs,
    out: impl Write,
    quiet: bool,
) -> Result<bool, Fatal> {
    let summaries = if filter.is_empty() {
        inputs::interleave_all(make, inputs, out, quiet)?
    } else {
        inputs::interleave_all(|w| Filtered::new(filter.clone(), make(w)), inputs, out, quiet)?
    };
    Ok(summaries.iter().all(DecodeSummary::is_clean) && inputs.problems.is_empty())
}

/// Decodes `source` into `output`; returns whether it was free of damage and gaps.
fn decode<O: Output>(output: O, source: &Source<'_>, args: &Args) -> Result<bool, Fatal> {
    // Every output goes through `EndWatch`, which `--follow` needs: one
    // decoder type per output, however the input is read.
    let mut decoder = Decoder::new(EndWatch::new(output));
    decoder.set_time_order(!args.unordered);
    match source {
        Source::Inputs(inputs) => {
            let summary = inputs::decode_all(decoder, inputs, args.quiet)?;
            Ok(summary.is_clean() && inputs.problems.is_empty())
        }
        Source::Follow(path) => Ok(follow::decode(decoder, path, args.single, args.quiet)?),
    }
}
