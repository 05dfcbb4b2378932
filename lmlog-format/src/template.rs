//! Message templates: `"payment of {amount} failed for user {user_id}"`.
//!
//! The one parser used by the macros (to reject placeholders that name no
//! field, at compile time) and by the decoder (to render messages).
//! `{{` and `}}` stand for literal braces.

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text copied as is (braces already unescaped).
    Literal(std::borrow::Cow<'a, str>),
    /// A placeholder naming a field; `offset` is the byte offset of the name
    /// inside the template.
    Field {
        /// The field name.
        name: &'a str,
        /// Byte offset of the name in the template.
        offset: usize,
    },
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{` without a matching `}`.
    #[error("unclosed `{{` at byte {0}")]
    Unclosed(usize),
    /// `}` that is neither doubled nor closes a placeholder.
    #[error("unmatched `}}` at byte {0} (write `}}}}` for a literal brace)")]
    Unmatched(usize),
    /// A placeholder that is not an identifier, such as `{}` or `{a b}`.
    #[error("placeholder at byte {0} must be a field name like `{{user_id}}`")]
    BadPlaceholder(usize),
    /// A placeholder with a format specification, such as `{amount:.2}`.
    #[error(
        "format specifications are not supported: `{{{name}:{spec}}}` at byte {offset}; write `{{{name}}}` \
         (the decoder shows each value as it is)"
    )]
    FormatSpec {
        /// Byte offset of the `{`.
        offset: usize,
        /// The field name before the `:`.
        name: String,
        /// What follows the `:`.
        spec: String,
    },
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => chars.all(|c| c == '_' || c.is_alphanumeric()),
        _ => false,
    }
}

/// Parses a template into segments.
///
/// ```
/// use lmlog_format::template::{parse, Segment};
/// let segs = parse("order {id} to {{x}}").unwrap();
/// assert_eq!(segs.len(), 3);
/// assert!(matches!(segs[1], Segment::Field { name: "id", offset: 7 }));
/// ```
pub fn parse<'a>(template: &'a str) -> Result<Vec<Segment<'a>>, TemplateError> {
    let bytes = template.as_bytes();
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut literal_start = 0;
    let mut borrowed = true;
    let mut i = 0;
    let flush = |segments: &mut Vec<Segment<'a>>, literal: &mut String, borrowed: bool, start: usize, end: usize| {
        if borrowed {
            if end > start {
                segments.push(Segment::Literal(std::borrow::Cow::Borrowed(&template[start..end])));
            }
        } else if !literal.is_empty() {
            segments.push(Segment::Literal(std::borrow::Cow::Owned(std::mem::take(literal))));
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                if borrowed {
                    literal.push_str(&template[literal_start..i]);
                    borrowed = false;
                }
                literal.push('{');
                i += 2;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                if borrowed {
                    literal.push_str(&template[literal_start..i]);
                    borrowed = false;
                }
                literal.push('}');
                i += 2;
            }
            b'{' => {
                flush(&mut segments, &mut literal, borrowed, literal_start, i);
                let close = template[i + 1..].find('}').ok_or(TemplateError::Unclosed(i))? + i + 1;
                let name = &template[i + 1..close];
                if !is_field_name(name) {
                    return Err(match name.split_once(':') {
                        Some((field, spec)) if is_field_name(field) => {
                            TemplateError::FormatSpec { offset: i, name: field.to_owned(), spec: spec.to_owned() }
                        }
                        _ => TemplateError::BadPlaceholder(i),
                    });
                }
                segments.push(Segment::Field { name, offset: i + 1 });
                i = close + 1;
                literal_start = i;
                borrowed = true;
            }
            b'}' => return Err(TemplateError::Unmatched(i)),
            _ => {
                if !borrowed {
                    // Copy the whole UTF-8 character.
                    let ch = template[i..].chars().next().expect("index is on a char boundary");
                    literal.push(ch);
                    i += ch.len_utf8();
                    continue;
                }
                i += 1;
            }
        }
    }
    flush(&mut segments, &mut literal, borrowed, literal_start, bytes.len());
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn parses_fields_and_escapes() {
        let segs = parse("payment of {amount} failed for user {user_id}").unwrap();
        assert_eq!(
            segs,
            vec![
                Segment::Literal(Cow::Borrowed("payment of ")),
                Segment::Field { name: "amount", offset: 12 },
                Segment::Literal(Cow::Borrowed(" failed for user ")),
                Segment::Field { name: "user_id", offset: 37 },
            ]
        );
        let segs = parse("{{literal}} ünï {x}}}").unwrap();
        assert_eq!(
            segs,
            vec![
                Segment::Literal(Cow::Owned("{literal} ünï ".into())),
                Segment::Field { name: "x", offset: 19 },
                Segment::Literal(Cow::Owned("}".into())),
            ]
        );
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(parse("a {b"), Err(TemplateError::Unclosed(2)));
        assert_eq!(parse("a } b"), Err(TemplateError::Unmatched(2)));
        assert_eq!(parse("a {} b"), Err(TemplateError::BadPlaceholder(2)));
        let spec = parse("a {amount:.2} b").unwrap_err();
        assert_eq!(spec, TemplateError::FormatSpec { offset: 2, name: "amount".into(), spec: ".2".into() });
        assert_eq!(
            spec.to_string(),
            "format specifications are not supported: `{amount:.2}` at byte 2; write `{amount}` \
             (the decoder shows each value as it is)"
        );
        assert_eq!(parse("a {:?} b"), Err(TemplateError::BadPlaceholder(2)));
    }
}
