//! The command's help texts: `-h` shows [`ABOUT`] and one line per flag,
//! `--help` [`LONG_ABOUT`], each flag with an example and
//! [`AFTER_LONG_HELP`].

/// The one-line description (`-h`).
pub const ABOUT: &str = "Decode lmlog binary logs into JSON Lines, human-readable lines, logfmt or OTLP/JSON.";

/// What the tool does (`--help`).
pub const LONG_ABOUT: &str = "\
Decode lmlog binary logs into JSON Lines, human-readable lines, logfmt or OTLP/JSON.

lmlog applications write a compact, self-describing binary log (the schema of
every event travels in the file). lmlog-decode turns it back into one line per
event, with its time (nanoseconds), level, event type, rendered message, typed
fields, source location, thread and OpenTelemetry trace context. Nothing else
is needed: not the application's binary, not its debug information. Events
of all threads come out in timestamp order (--unordered: in the order stored).

Inputs: log files, directories, or rotated series. Naming a series' live file
(app.lmlog) decodes the whole series: its closed files app.lmlog.0000000000,
app.lmlog.0000000001, ... and then app.lmlog (--single: only the file named).
A directory brings every lmlog file in it (recognised by its contents, not its
name). Files decode in the order they were written (their index in the series,
then their session's start), whatever order they are named in; the logs of
several applications, written side by side, are merged by time. A file missing
from the middle of a series is reported as a gap. With no FILE, or -, the
standard input is decoded.

Output formats (--format): jsonl (default), pretty (coloured on a terminal),
logfmt, otel-json (OpenTelemetry OTLP/JSON logs). --shape lmlog-py writes the
JSON Lines in the Python LMLog 0.3.0's key layout (timestamp, source, resource,
correlation, trace, event_type, level, entity_type, entity_id, context). --otlp-endpoint (or --otlp)
sends the events to an OpenTelemetry Collector over OTLP/HTTP instead: nothing
is written to standard output, and standard error ends with the counts sent,
rejected and retried.

Damage (bad checksums, truncation, garbage) never stops decoding: each damaged
region is reported on standard error with its file and byte offset in it, and
every intact event is still decoded. --follow keeps decoding a live log as the
application writes it. A progress bar shows on standard error for large inputs
when it is a terminal.";

/// Below the flags with `-h`.
pub const AFTER_HELP: &str = "Exit status: 0 clean, 1 damage or a gap found (every intact event decoded), 2 fatal. \
                              `--help` gives examples.";

/// Below the flags with `--help`: examples and the exit statuses.
pub const AFTER_LONG_HELP: &str = "\
Examples:
  lmlog-decode app.lmlog                          the whole series, oldest first, as JSON Lines
  lmlog-decode --single app.lmlog                 the live file alone, not its closed files
  lmlog-decode logs/ > all.jsonl                  every lmlog file of a directory
  lmlog-decode -f --format pretty app.lmlog       follow the live log, in colour on a terminal
  lmlog-decode --level error --since 1h app.lmlog errors of the last hour
  lmlog-decode --format otel-json -o otlp.jsonl app.lmlog   for an OpenTelemetry Collector's file receiver
  lmlog-decode --shape lmlog-py app.lmlog         the keys the Python LMLog 0.3.0 writes
  lmlog-decode -f --otlp-endpoint http://collector:4318 app.lmlog   ship the live log to a collector
  cat app.lmlog | lmlog-decode                    standard input

Exit status:
  0  the input decoded cleanly
  1  damage was found (bad checksums, truncation, missing frames) or a file of a
     series is missing (a gap), or a file found could not be read; every intact
     event was still decoded
  2  fatal: an input cannot be opened or is not an lmlog file, a bad flag or
     value, or the output cannot be written

With --otlp or --otlp-endpoint, 1 also when the collector rejected events, and
2 when the export gave up (the final line counts the events not sent).";
