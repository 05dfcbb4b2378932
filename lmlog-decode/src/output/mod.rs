//! Outputs: what becomes of decoded events.
//!
//! An output implements [`Output`]: it prepares what it needs once per call
//! site ([`Output::Callsite`]) and then gets every event of that call site
//! with it. [`JsonLines`] writes JSON Lines ([`LmlogPyLines`] in the Python
//! LMLog's key layout), [`Pretty`] lines for people,
//! [`Logfmt`] logfmt and [`OtelJson`] OTLP/JSON; [`FnOutput`] hands every
//! [`Item`] to a closure. [`Format`] names the text formats.

pub(crate) mod flat;
mod jsonl;
mod lmlog_py;
mod logfmt;
mod otel;
pub(crate) mod otel_model;
mod pretty;
#[cfg(test)]
mod tests;

use std::io;

pub use jsonl::{JsonCallsite, JsonLines};
pub use lmlog_py::{LmlogPyCallsite, LmlogPyLines, Shape, UnknownShape};
pub use logfmt::{Logfmt, LogfmtCallsite};
pub use otel::{OtelCallsite, OtelJson};
pub use pretty::{wants_color, Pretty, PrettyCallsite};

use crate::events::{Callsite, Event, Item};

/// What a [`Decoder`](crate::Decoder) hands decoded events to.
///
/// Methods are called in stream order. An event's fields are read at most
/// once, by the output ([`Fields`](crate::Fields)); if it leaves them
/// unread the decoder skips them. When reading them fails, the output
/// drops whatever it made of the event and returns `Ok`: the decoder
/// reports the record and skips the rest of its frame. Errors (I/O) stop
/// decoding; the decoder returns them as [`DecodeError::Write`](crate::DecodeError::Write).
pub trait Output {
    /// What the output prepares once per call site (pre-rendered text,
    /// compiled formats...), handed back with each of its events.
    type Callsite;

    /// Prepares for the events of `callsite` (called when its schema frame
    /// is read, and once for each built-in call site).
    fn callsite(&mut self, callsite: &Callsite) -> Self::Callsite;

    /// One event, with what [`callsite`](Self::callsite) prepared for its call site.
    fn event(&mut self, event: Event<'_>, prepared: &mut Self::Callsite) -> io::Result<()>;

    /// The event last handed to [`event`](Self::event) turned out not to
    /// decode: its fields, which the output did not read, do not match
    /// their schema. The output withdraws what it made of it, if it can.
    fn retract(&mut self) {}

    /// Any other item of the stream ([`Item::Session`], [`Item::Watermark`],
    /// [`Item::SessionEnd`], [`Item::EndOfStream`]); never [`Item::Event`].
    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        let _ = item;
        Ok(())
    }

    /// Pushes out whatever the output buffers.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An output lent to a decoder: the caller keeps it, to look at it after
/// [`Decoder::finish`](crate::Decoder::finish) (such as a
/// [`Summary`](crate::summary::Summary)).
impl<O: Output + ?Sized> Output for &mut O {
    type Callsite = O::Callsite;

    fn callsite(&mut self, callsite: &Callsite) -> Self::Callsite {
        (**self).callsite(callsite)
    }

    #[inline]
    fn event(&mut self, event: Event<'_>, prepared: &mut Self::Callsite) -> io::Result<()> {
        (**self).event(event, prepared)
    }

    fn retract(&mut self) {
        (**self).retract()
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        (**self).item(item)
    }

    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

/// An [`Output`] that hands every [`Item`] to a closure; see [`from_fn`].
#[non_exhaustive]
pub struct FnOutput<F>(F);

impl<F> std::fmt::Debug for FnOutput<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnOutput").finish_non_exhaustive()
    }
}

/// An output that calls `f` with every item of the stream, events included.
///
/// ```
/// # fn main() -> Result<(), lmlog_decode::DecodeError> {
/// use lmlog_decode::{Decoder, Item};
/// let mut events = 0;
/// let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
///     if let Item::Event(_) = item {
///         events += 1;
///     }
/// }));
/// decoder.feed(&lmlog_format::frame::preamble())?;
/// decoder.finish()?;
/// assert_eq!(events, 0);
/// # Ok(()) }
/// ```
pub fn from_fn<F: FnMut(Item<'_>)>(f: F) -> FnOutput<F> {
    FnOutput(f)
}

impl<F: FnMut(Item<'_>)> Output for FnOutput<F> {
    type Callsite = ();

    fn callsite(&mut self, _callsite: &Callsite) {}

    #[inline]
    fn event(&mut self, event: Event<'_>, _prepared: &mut ()) -> io::Result<()> {
        (self.0)(Item::Event(event));
        Ok(())
    }

    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        (self.0)(item);
        Ok(())
    }
}

/// A text output format, by the name the `lmlog-decode` command takes
/// (`--format`): `jsonl` ([`JsonLines`]), `pretty` ([`Pretty`]), `logfmt`
/// ([`Logfmt`]) or `otel-json` ([`OtelJson`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// [`JsonLines`].
    #[default]
    Jsonl,
    /// [`Pretty`].
    Pretty,
    /// [`Logfmt`].
    Logfmt,
    /// [`OtelJson`].
    OtelJson,
}

impl Format {
    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: [Format; 4] = [Format::Jsonl, Format::Pretty, Format::Logfmt, Format::OtelJson];
    /// The names of the formats.
    pub const NAMES: [&'static str; 4] = ["jsonl", "pretty", "logfmt", "otel-json"];

    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Pretty => "pretty",
            Format::Logfmt => "logfmt",
            Format::OtelJson => "otel-json",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`Format::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}` (expected one of: jsonl, pretty, logfmt, otel-json)")]
#[non_exhaustive]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}
