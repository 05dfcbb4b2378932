//! Call sites: what a schema frame describes, compiled once for decoding,
//! and the built-in call sites of the decoder's own events.

use lmlog_format::template::{self, Segment};
use lmlog_format::types::Type;
use lmlog_format::{CallsiteSchema, Field, Level};

use crate::record::{self, FieldTy};

/// Event type of the events made from drop reports.
pub const DROPPED_EVENT_TYPE: &str = "lmlog.dropped";
/// Event type of the events made from the writer's loss frames.
pub const WRITER_LOSS_EVENT_TYPE: &str = "lmlog.writer_loss";
/// Event type of the events made from sampled frames.
pub const SAMPLED_OUT_EVENT_TYPE: &str = "lmlog.sampled_out";

/// A call site: the schema of the events it emits, as its schema frame
/// described it (or one of the decoder's built-in call sites, see
/// [`is_builtin`](Self::is_builtin)).
///
/// Built-in call sites have id 0 and no source:
///
/// * `lmlog.dropped` (level warn, field `count`, message
///   `"{count} events dropped: staging buffer full"`): a producer thread's
///   report of events it could not stage;
/// * `lmlog.writer_loss` (level error, fields `frames`, `bytes`, `reason`,
///   message `"the writer lost {frames} frames ({bytes} bytes): {reason}"`,
///   without the `": {reason}"` when the reason is empty): frames the writer
///   could not deliver. Its events have no thread. A loss frame with the
///   appended [`LossDetail`](lmlog_format::LossDetail) (lmlog 0.2 on) has
///   the fields `events`, `dropped_end` (`"none"`, `"newest"` or
///   `"oldest"`), `failed_writes` and `delayed_events` after those three,
///   and the message `"the writer lost {events} events ({frames} frames,
///   {bytes} bytes): {reason}"`.
/// * `lmlog.sampled_out` (level info, fields `event_type`, `module`,
///   `file`, `line`, `count`, message `"{count} {event_type} events sampled
///   out at {file}:{line}"`): events a call site's `sample:` or
///   `rate_limit:` turned away since its previous report; the fields name
///   that call site. Its events have no thread.
#[derive(Debug)]
#[non_exhaustive]
pub struct Callsite {
    schema: CallsiteSchema,
    builtin: bool,
    template: Option<Box<[TemplatePart]>>,
    /// The fields, compiled for decoding.
    pub(crate) tys: Box<[FieldTy]>,
}

/// Where a call site is in the source code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Source<'a> {
    /// `module_path!()` of the call site.
    pub module: &'a str,
    /// `file!()` of the call site.
    pub file: &'a str,
    /// Line of the call site.
    pub line: u32,
    /// Column of the call site.
    pub column: u32,
    /// The enclosing function's path.
    pub function: &'a str,
}

/// A piece of a call site's parsed message template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplatePart {
    /// Text shown as is (`{{` and `}}` already unescaped; a placeholder that
    /// names no field stays as written).
    Text(Box<str>),
    /// The value of the top-level field with this index.
    Field(usize),
}

impl Callsite {
    /// Compiles a schema; a template that does not parse is returned as the
    /// error text alongside a call site whose message is the raw template.
    pub(crate) fn compile(schema: CallsiteSchema) -> (Callsite, Option<String>) {
        Self::compile_as(schema, false)
    }

    fn compile_as(schema: CallsiteSchema, builtin: bool) -> (Callsite, Option<String>) {
        let tys = record::compile_fields(&schema.fields);
        let mut template_error = None;
        let template = schema.message.as_deref().map(|t| match template::parse(t) {
            Ok(segments) => compile_template(&segments, &schema.fields),
            Err(e) => {
                template_error = Some(e.to_string());
                vec![TemplatePart::Text(t.into())].into_boxed_slice()
            }
        });
        (Callsite { schema, builtin, template, tys }, template_error)
    }

    /// A built-in call site.
    fn builtin(event_type: &str, level: Level, message: &str, fields: &[(&str, Type)]) -> Callsite {
        let schema = CallsiteSchema {
            id: 0,
            fingerprint: 0,
            event_type: event_type.into(),
            level,
            message: Some(message.into()),
            module: String::new(),
            file: String::new(),
            line: 0,
            column: 0,
            function: String::new(),
            fields: fields
                .iter()
                .map(|(name, ty)| Field { name: (*name).into(), ty: ty.clone(), redacted: false })
                .collect(),
        };
        Self::compile_as(schema, true).0
    }

    /// The built-in `lmlog.dropped` call site.
    pub(crate) fn dropped() -> Callsite {
        Self::builtin(
            DROPPED_EVENT_TYPE,
            Level::Warn,
            "{count} events dropped: staging buffer full",
            &[("count", Type::U64)],
        )
    }

    /// The built-in `lmlog.writer_loss` call site, with or without the
    /// reason in its message, and with or without the fields of a loss
    /// frame's appended detail.
    pub(crate) fn writer_loss(with_reason: bool, with_detail: bool) -> Callsite {
        let message = match (with_detail, with_reason) {
            (false, true) => "the writer lost {frames} frames ({bytes} bytes): {reason}",
            (false, false) => "the writer lost {frames} frames ({bytes} bytes)",
            (true, true) => "the writer lost {events} events ({frames} frames, {bytes} bytes): {reason}",
            (true, false) => "the writer lost {events} events ({frames} frames, {bytes} bytes)",
        };
        let mut fields = vec![("frames", Type::U64), ("bytes", Type::U64), ("reason", Type::Str)];
        if with_detail {
            fields.extend([
                ("events", Type::U64),
                ("dropped_end", Type::Str),
                ("failed_writes", Type::U64),
                ("delayed_events", Type::U64),
            ]);
        }
        Self::builtin(WRITER_LOSS_EVENT_TYPE, Level::Error, message, &fields)
    }

    /// The built-in `lmlog.sampled_out` call site.
    pub(crate) fn sampled_out() -> Callsite {
        Self::builtin(
            SAMPLED_OUT_EVENT_TYPE,
            Level::Info,
            "{count} {event_type} events sampled out at {file}:{line}",
            &[
                ("event_type", Type::Str),
                ("module", Type::Str),
                ("file", Type::Str),
                ("line", Type::U32),
                ("count", Type::U64),
            ],
        )
    }

    /// The call-site id records use (0 for built-in call sites).
    pub fn id(&self) -> u32 {
        self.schema.id
    }

    /// Whether this is one of the decoder's built-in call sites
    /// (`lmlog.dropped`, `lmlog.writer_loss`, `lmlog.sampled_out`) rather than one a schema frame
    /// described.
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The fingerprint of the call site's static description (0 for
    /// built-in call sites).
    pub fn fingerprint(&self) -> u64 {
        self.schema.fingerprint
    }

    /// The event type name.
    pub fn event_type(&self) -> &str {
        &self.schema.event_type
    }

    /// The severity.
    pub fn level(&self) -> Level {
        self.schema.level
    }

    /// The message template as written (`"payment of {amount} failed"`), if any.
    pub fn message_template(&self) -> Option<&str> {
        self.schema.message.as_deref()
    }

    /// The message template parsed, if there is one. A template that does
    /// not parse (reported as [`DiagnosticKind::BadTemplate`](crate::DiagnosticKind::BadTemplate))
    /// is one piece of text: the template as written.
    pub fn template(&self) -> Option<&[TemplatePart]> {
        self.template.as_deref()
    }

    /// Where the call site is in the source code; `None` for built-in call sites.
    pub fn source(&self) -> Option<Source<'_>> {
        (!self.builtin).then(|| Source {
            module: &self.schema.module,
            file: &self.schema.file,
            line: self.schema.line,
            column: self.schema.column,
            function: &self.schema.function,
        })
    }

    /// The descriptors of the event's top-level fields, in record order.
    pub fn fields(&self) -> &[Field] {
        &self.schema.fields
    }
}

fn compile_template(segments: &[Segment<'_>], fields: &[Field]) -> Box<[TemplatePart]> {
    let mut parts = Vec::new();
    let mut text = String::new();
    for seg in segments {
        match seg {
            Segment::Literal(s) => text.push_str(s),
            Segment::Field { name, .. } => match fields.iter().position(|f| f.name == *name) {
                Some(i) => {
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text).into()));
                    }
                    parts.push(TemplatePart::Field(i));
                }
                None => {
                    // A placeholder naming no field stays as written.
                    text.push('{');
                    text.push_str(name);
                    text.push('}');
                }
            },
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text.into()));
    }
    parts.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_to_text_and_field_indices() {
        let fields = vec![
            Field { name: "a".into(), ty: Type::U8, redacted: false },
            Field { name: "b".into(), ty: Type::Str, redacted: false },
        ];
        let schema = |message: &str| CallsiteSchema {
            id: 3,
            fingerprint: 9,
            event_type: "ev".into(),
            level: Level::Info,
            message: Some(message.into()),
            module: "m".into(),
            file: "f.rs".into(),
            line: 1,
            column: 2,
            function: "m::f".into(),
            fields: fields.clone(),
        };
        let (c, err) = Callsite::compile(schema("{b} and {{{a}}} of {nope}"));
        assert!(err.is_none());
        let parts = [
            TemplatePart::Field(1),
            TemplatePart::Text(" and {".into()),
            TemplatePart::Field(0),
            TemplatePart::Text("} of {nope}".into()),
        ];
        assert_eq!(c.template().unwrap(), &parts);
        assert_eq!(c.source().unwrap().function, "m::f");
        assert!(!c.is_builtin());
        let (c, err) = Callsite::compile(schema("broken {"));
        assert!(err.is_some());
        assert_eq!(c.template().unwrap(), &[TemplatePart::Text("broken {".into())]);

        let d = Callsite::dropped();
        assert!(d.is_builtin() && d.source().is_none() && d.id() == 0);
        assert_eq!(
            d.template().unwrap(),
            &[TemplatePart::Field(0), TemplatePart::Text(" events dropped: staging buffer full".into())]
        );
    }
}
