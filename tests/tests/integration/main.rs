//! lmlog's cross-crate tests, in one test binary (one link, one place to look).
//!
//! Where a new test goes:
//! - a test of one crate's internals stays beside its code (`#[cfg(test)]`
//!   or that crate's `tests/`);
//! - a test that crosses crates (emit with the runtime, decode with
//!   `lmlog-decode`), needs a process of its own (anything that calls
//!   `lmlog::init`), runs the `lmlog-decode` command, or checks the golden
//!   files goes here, as a module of this binary. Anything that initialises
//!   the runtime runs as a scenario of the `lmlog-scenario` binary
//!   (`src/bin/scenario/`) in a child process, so tests here stay independent.

mod bridges;
mod cli;
mod clock_accuracy;
mod config_file;
mod console;
mod crash;
mod decode_fuzz;
mod demo;
mod env_filter;
mod failing_sink;
mod field_types;
mod files;
mod filters;
mod flight;
mod fn_attributes;
mod follow;
mod format_doc;
mod formats;
mod generic_sites;
mod global_context;
mod golden;
mod inputs;
mod live_jsonl;
mod many_sites;
mod operations;
mod otel;
mod otlp;
mod oversized;
mod panicking_thread;
mod process_sampling;
mod pyshape;
mod record_size;
mod reentrant;
mod resource;
mod rotation;
mod round_trip;
mod sampling;
mod saturated_compression;
mod sink_outage;
mod summary;
mod support;
mod thread_churn;
mod time_order;
mod vocabulary;
