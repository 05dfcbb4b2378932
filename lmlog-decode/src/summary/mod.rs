//! A digest of a whole log, for a person or a language model, in far less
//! than the size of the log.
//!
//! [`Summary`] is an [`Output`] that keeps counts instead of writing
//! events; [`Summary::digest`] turns them, with the decoder's
//! [`DecodeSummary`], into a [`Digest`]:
//!
//! * counts per event type, per call site (module, file and line) and per
//!   level;
//! * when the log starts and ends, and how many events fell into each of
//!   [`RATE_BUCKETS`] equal intervals of that span, with the peak;
//! * per event type and field (nested struct fields by dotted path), the
//!   distinct values and their counts while there are at most
//!   [`MAX_DISTINCT_VALUES`], else only that there are more; for numbers,
//!   the minimum, maximum and mean;
//! * the first [`MAX_MESSAGES`] distinct rendered messages of each warn and
//!   error event type;
//! * what was lost: events the runtime dropped (`lmlog.dropped`), what the
//!   writer could not deliver (`lmlog.writer_loss`) and damage the decoder
//!   found. (The runtime has no sampler, so the stream holds no sampling
//!   counts and the digest reports none.)
//! * the writing sessions: service, host, process id and lmlog version.
//!
//! A [`Digest`] prints as text of at most [`TEXT_BUDGET`] bytes, however
//! large the log (the longest lists are cut, saying how much was left out),
//! or as one JSON document ([`Digest::to_json`]).
//!
//! Memory is bounded by the number of call sites and sessions in the
//! stream, not by the number of events: each field keeps at most
//! [`MAX_DISTINCT_VALUES`] values, each event type at most
//! [`MAX_FIELDS_PER_TYPE`] fields, and the rate a few thousand counters.
//!
//! ```
//! use lmlog_decode::summary::Summary;
//! use lmlog_decode::Decoder;
//! # fn main() -> Result<(), lmlog_decode::DecodeError> {
//! # let file = lmlog_format::frame::preamble();
//! let mut summary = Summary::new();
//! let mut decoder = Decoder::new(&mut summary);
//! decoder.feed(&file)?; // or `decode_from` a file, for each file of the log
//! let tally = decoder.finish()?;
//! let digest = summary.digest(&tally);
//! assert_eq!(digest.events, 0);
//! assert!(digest.to_string().len() <= lmlog_decode::summary::TEXT_BUDGET);
//! # Ok(()) }
//! ```

mod digest;
mod fields;
mod rate;
mod render;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io;

use lmlog_format::{Level, SessionInfo};

use crate::events::{Callsite, Event, Item, TemplatePart};
use crate::output::Output;
use crate::report::DecodeSummary;
use fields::{Collect, Scratch, TypeFields};
use rate::FineCounts;

pub use digest::{
    CallsiteDigest, Digest, EventTypeDigest, FieldDigest, LeftOut, LevelCount, Loss, Rate, SessionDigest, ValueCount,
    MAX_CALLSITES, MAX_EVENT_TYPES,
};
pub use fields::{FieldValue, Number, NumberStats, MAX_DISTINCT_VALUES, MAX_FIELDS_PER_TYPE};
pub use render::TEXT_BUDGET;

/// Distinct messages kept per warn or error event type.
pub const MAX_MESSAGES: usize = 3;
/// Messages of a call site rendered in a row without a new one, after
/// which its messages are no longer rendered.
const MAX_FRUITLESS_MESSAGES: u32 = 1024;
/// Longest message kept, in bytes (cut at a character boundary).
const MAX_MESSAGE_BYTES: usize = 200;
/// Buckets of the rate over time.
pub const RATE_BUCKETS: usize = 16;
/// Distinct sessions (service, host, process, version) kept; others are counted.
const MAX_SESSIONS: usize = 64;

/// An [`Output`] that gathers a [`Digest`] of the events it is handed;
/// see the [module documentation](self).
///
/// Every event's fields are read (through a [`Visitor`](crate::Visitor),
/// without rendering them), and the message of a warn or error event only
/// until its event type has [`MAX_MESSAGES`] distinct ones (or its call
/// site rendered 1,024 in a row that were not new). An event whose
/// fields do not decode is left out of every count, as it is left out of
/// the other outputs.
#[derive(Debug)]
pub struct Summary {
    types: Vec<TypeStats>,
    type_ids: HashMap<Box<str>, usize>,
    sites: Vec<SiteStats>,
    site_ids: HashMap<SiteKey, usize>,
    /// Events per level, most severe first (the order of [`Level::ALL`]).
    levels: [u64; 5],
    events: u64,
    first: i128,
    last: i128,
    rate: FineCounts,
    sessions: Vec<SessionStats>,
    sessions_left_out: u64,
    scratch: Scratch,
    message: String,
}

/// What is gathered of one event type.
#[derive(Debug)]
struct TypeStats {
    name: Box<str>,
    /// The most severe level of its call sites.
    level: Level,
    builtin: bool,
    count: u64,
    first: i128,
    last: i128,
    fields: TypeFields,
    messages: Vec<String>,
}

/// What is gathered of one call site.
#[derive(Debug)]
struct SiteStats {
    kind: usize,
    level: Level,
    module: Box<str>,
    file: Box<str>,
    line: u32,
    count: u64,
}

/// A call site across sessions: event type, level, module, file and line.
type SiteKey = (Box<str>, Level, Box<str>, Box<str>, u32);

/// A writing process, across the sessions (files) it wrote.
#[derive(Debug)]
struct SessionStats {
    service_name: Option<String>,
    hostname: Option<String>,
    pid: u32,
    executable: Option<String>,
    writer_version: String,
    sessions: u64,
    first_file_index: u32,
    last_file_index: u32,
}

impl SessionStats {
    fn is(&self, info: &SessionInfo) -> bool {
        self.pid == info.pid
            && self.service_name == info.service_name
            && self.hostname == info.hostname
            && self.executable == info.executable
            && self.writer_version == info.writer_version
    }
}

/// What [`Summary`] keeps per call site of a session.
#[derive(Debug)]
pub struct SummaryCallsite {
    site: usize,
    kind: usize,
    /// The slot of each top-level field in its event type's fields.
    top: Box<[u32]>,
    /// Whether messages of this call site are still wanted: a warn or
    /// error call site with a message template, until its type has
    /// enough messages (or, for a template without placeholders, until it
    /// was rendered once, or after [`MAX_FRUITLESS_MESSAGES`] renderings
    /// in a row brought nothing new).
    wants_message: bool,
    /// Whether the message template has placeholders.
    message_varies: bool,
    /// Messages rendered since the last new one.
    fruitless: u32,
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Summary {
        Summary {
            types: Vec::new(),
            type_ids: HashMap::new(),
            sites: Vec::new(),
            site_ids: HashMap::new(),
            levels: [0; 5],
            events: 0,
            first: i128::MAX,
            last: i128::MIN,
            rate: FineCounts::default(),
            sessions: Vec::new(),
            sessions_left_out: 0,
            scratch: Scratch::default(),
            message: String::new(),
        }
    }

    /// Events counted so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The digest of the events so far, with the counts of what the
    /// decoder found lost or damaged (`tally`: what
    /// [`Decoder::finish`](crate::Decoder::finish) returned, or
    /// [`Decoder::summary`](crate::Decoder::summary) for a log still
    /// being read).
    pub fn digest(&self, tally: &DecodeSummary) -> Digest {
        digest::build(self, tally)
    }

    fn event_type(&mut self, callsite: &Callsite) -> usize {
        let name = callsite.event_type();
        if let Some(&i) = self.type_ids.get(name) {
            let ty = &mut self.types[i];
            ty.level = ty.level.min(callsite.level());
            return i;
        }
        let i = self.types.len();
        self.types.push(TypeStats {
            name: name.into(),
            level: callsite.level(),
            builtin: callsite.is_builtin(),
            count: 0,
            first: i128::MAX,
            last: i128::MIN,
            fields: TypeFields::default(),
            messages: Vec::new(),
        });
        self.type_ids.insert(name.into(), i);
        i
    }

    fn site(&mut self, callsite: &Callsite, kind: usize) -> usize {
        let (module, file, line) = callsite.source().map_or(("", "", 0), |s| (s.module, s.file, s.line));
        let key: SiteKey = (callsite.event_type().into(), callsite.level(), module.into(), file.into(), line);
        if let Some(&i) = self.site_ids.get(&key) {
            return i;
        }
        let i = self.sites.len();
        self.sites.push(SiteStats {
            kind,
            level: callsite.level(),
            module: module.into(),
            file: file.into(),
            line,
            count: 0,
        });
        self.site_ids.insert(key, i);
        i
    }

    fn session(&mut self, info: &SessionInfo) {
        if let Some(s) = self.sessions.iter_mut().find(|s| s.is(info)) {
            s.sessions += 1;
            s.first_file_index = s.first_file_index.min(info.file_index);
            s.last_file_index = s.last_file_index.max(info.file_index);
        } else if self.sessions.len() < MAX_SESSIONS {
            self.sessions.push(SessionStats {
                service_name: info.service_name.clone(),
                hostname: info.hostname.clone(),
                pid: info.pid,
                executable: info.executable.clone(),
                writer_version: info.writer_version.clone(),
                sessions: 1,
                first_file_index: info.file_index,
                last_file_index: info.file_index,
            });
        } else {
            self.sessions_left_out += 1;
        }
    }
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new()
    }
}

impl Output for Summary {
    type Callsite = SummaryCallsite;

    fn callsite(&mut self, callsite: &Callsite) -> SummaryCallsite {
        let kind = self.event_type(callsite);
        let site = self.site(callsite, kind);
        let fields = &mut self.types[kind].fields;
        let top = callsite.fields().iter().map(|f| fields.slot(&f.name)).collect();
        let template = callsite.template();
        SummaryCallsite {
            site,
            kind,
            top,
            wants_message: callsite.level() <= Level::Warn && template.is_some(),
            message_varies: template.is_some_and(|t| t.iter().any(|p| matches!(p, TemplatePart::Field(_)))),
            fruitless: 0,
        }
    }

    fn event(&mut self, event: Event<'_>, prepared: &mut SummaryCallsite) -> io::Result<()> {
        let (t, level) = (event.unix_nanos, event.level());
        let ty = &mut self.types[prepared.kind];
        let wants_message = prepared.wants_message && ty.messages.len() < MAX_MESSAGES;
        let mut collect = Collect::new(&mut ty.fields, &prepared.top, &mut self.scratch);
        let read = if wants_message {
            self.message.clear();
            event.fields.visit_with_message(&mut collect, &mut self.message)
        } else {
            event.fields.visit(&mut collect)
        };
        if read.is_err() {
            // The record does not decode: the decoder reports it, and
            // nothing of it is counted.
            self.scratch.clear();
            return Ok(());
        }
        self.scratch.apply(&mut ty.fields);
        if wants_message {
            let message = fields::cut(&self.message, MAX_MESSAGE_BYTES);
            if ty.messages.iter().any(|m| m == message) {
                prepared.fruitless += 1;
            } else {
                ty.messages.push(message.to_owned());
                prepared.fruitless = 0;
            }
            // A template without placeholders always renders the same, and
            // one whose values keep repeating is not worth rendering for
            // every event.
            prepared.wants_message = prepared.message_varies && prepared.fruitless < MAX_FRUITLESS_MESSAGES;
        }
        ty.count += 1;
        ty.first = ty.first.min(t);
        ty.last = ty.last.max(t);
        self.sites[prepared.site].count += 1;
        self.levels[level as usize - 1] += 1;
        self.events += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        self.rate.add(t);
        Ok(())
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        if let Item::Session(info) = item {
            self.session(info);
        }
        Ok(())
    }
}
