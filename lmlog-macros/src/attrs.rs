//! `#[lmlog(...)]` attributes on types, fields and variants.

use lmlog_format::Level;
use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr};

use crate::util;

/// Attributes on the type: `#[lmlog(name = "..", level = "..", message = "..",
/// sample = 0.1, rate_limit = 100)]`.
///
/// Both derives read them, so one type can derive `LogEvent` and `LogValue`.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    /// The event type name.
    pub name: Option<LitStr>,
    /// The level and the literal it was parsed from.
    pub level: Option<(Level, LitStr)>,
    /// The message template (checked against the fields by the caller).
    pub message: Option<LitStr>,
    /// `sample = p`, `rate_limit = n`.
    pub sampling: crate::sampling::SamplingOptions,
}

/// Attributes on a field: `skip`, `rename = ".."`, `redact`, `display`,
/// `debug`, `with = path`, `metric` (or `metric = "unit"`).
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `#[lmlog(metric)]`: the writer records the field's values in a
    /// histogram (event fields only).
    pub metric: Option<Metric>,
    /// The field is not logged.
    pub skip: bool,
    /// The name the field is logged under.
    pub rename: Option<LitStr>,
    /// The field is listed but its value is never written.
    pub redact: bool,
    /// How the value is written.
    pub encoding: Encoding,
}

/// `#[lmlog(metric)]` or `#[lmlog(metric = "unit")]` on a field.
#[derive(Clone)]
pub(crate) struct Metric {
    /// The `metric` keyword, where a field that is not a number is reported.
    pub span: Span,
    /// The unit, if given.
    pub unit: Option<LitStr>,
}

/// How a field's value is written.
#[derive(Default, Clone)]
pub(crate) enum Encoding {
    /// With its own `LogValue` impl.
    #[default]
    Value,
    /// `#[lmlog(display)]`: its `Display` text.
    Display,
    /// `#[lmlog(debug)]`: its `Debug` text.
    Debug,
    /// `#[lmlog(with = path)]`: what the function returns for it.
    With(syn::Path),
}

/// Attributes on an enum variant: `rename = ".."`.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    /// The name the variant is logged under.
    pub rename: Option<LitStr>,
}

fn lmlog_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("lmlog"))
}

fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path.get_ident().map_or_else(|| quote::ToTokens::to_token_stream(&meta.path).to_string(), Ident::to_string)
}

fn non_empty_string(meta: &ParseNestedMeta<'_>, what: &str) -> syn::Result<LitStr> {
    let lit: LitStr = meta.value()?.parse()?;
    if lit.value().is_empty() {
        return Err(syn::Error::new(lit.span(), format!("{what} must not be empty")));
    }
    Ok(lit)
}

fn duplicate(meta: &ParseNestedMeta<'_>) -> syn::Error {
    meta.error(format!("duplicate `{}` attribute", key_name(meta)))
}

/// Parses the type's `#[lmlog(...)]` attributes.
pub(crate) fn container_attrs(attrs: &[Attribute]) -> syn::Result<ContainerAttrs> {
    let mut out = ContainerAttrs::default();
    for attr in lmlog_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                if out.name.is_some() {
                    return Err(duplicate(&meta));
                }
                let name = non_empty_string(&meta, "the event name")?;
                let text = name.value();
                if text.chars().any(|c| c.is_whitespace() || c == '{' || c == '}' || c.is_control()) {
                    let suggested: String = text
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .map(str::to_lowercase)
                        .collect::<Vec<_>>()
                        .join("_");
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "the event name must be a name without spaces or braces, like \"{suggested}\"; \
                             text with placeholders goes in the message template: \
                             #[lmlog(name = \"{suggested}\", message = \"...\")]"
                        ),
                    ));
                }
                out.name = Some(name);
            } else if meta.path.is_ident("level") {
                if out.level.is_some() {
                    return Err(duplicate(&meta));
                }
                let lit: LitStr = meta.value()?.parse()?;
                let level = Level::parse(&lit.value()).ok_or_else(|| util::unknown_level(lit.span(), &lit.value()))?;
                out.level = Some((level, lit));
            } else if meta.path.is_ident("message") {
                if out.message.is_some() {
                    return Err(duplicate(&meta));
                }
                out.message = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("sample") || meta.path.is_ident("rate_limit") {
                let name = key_name(&meta);
                let span = meta.path.span();
                let lit: syn::Lit = meta.value()?.parse()?;
                out.sampling.set(&name, span, &lit)?;
            } else {
                return Err(meta.error(format!(
                    "unknown lmlog attribute `{}`; expected `name`, `level`, `message`, `sample` or `rate_limit`",
                    key_name(&meta)
                )));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Parses a field's `#[lmlog(...)]` attributes. `redact` is rejected when
/// `allow_redact` is false (unnamed fields have no descriptor to flag).
pub(crate) fn field_attrs(attrs: &[Attribute], allow_redact: bool) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    let mut skip_span: Option<Span> = None;
    let mut encoding_span: Option<Span> = None;
    for attr in lmlog_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            let encoding = if meta.path.is_ident("display") {
                Some(Encoding::Display)
            } else if meta.path.is_ident("debug") {
                Some(Encoding::Debug)
            } else if meta.path.is_ident("with") {
                Some(Encoding::With(meta.value()?.parse()?))
            } else {
                None
            };
            if let Some(encoding) = encoding {
                if encoding_span.is_some() {
                    return Err(meta.error("only one of `display`, `debug` and `with` may be given"));
                }
                encoding_span = Some(meta.path.get_ident().map_or_else(Span::call_site, Ident::span));
                out.encoding = encoding;
            } else if meta.path.is_ident("skip") {
                if out.skip {
                    return Err(duplicate(&meta));
                }
                out.skip = true;
                skip_span = Some(meta.path.get_ident().map_or_else(Span::call_site, Ident::span));
            } else if meta.path.is_ident("rename") {
                if out.rename.is_some() {
                    return Err(duplicate(&meta));
                }
                if !allow_redact {
                    return Err(meta.error("`rename` applies to named fields only"));
                }
                out.rename = Some(non_empty_string(&meta, "a field name")?);
            } else if meta.path.is_ident("redact") {
                if out.redact {
                    return Err(duplicate(&meta));
                }
                if !allow_redact {
                    return Err(meta.error("`redact` applies to named fields only"));
                }
                out.redact = true;
            } else if meta.path.is_ident("metric") {
                if out.metric.is_some() {
                    return Err(duplicate(&meta));
                }
                if !allow_redact {
                    return Err(meta.error("`metric` applies to an event's named fields only"));
                }
                let span = meta.path.get_ident().map_or_else(Span::call_site, Ident::span);
                let unit = if meta.input.peek(syn::Token![=]) { Some(meta.value()?.parse::<LitStr>()?) } else { None };
                out.metric = Some(Metric { span, unit });
            } else {
                let expected = if allow_redact {
                    "`skip`, `rename`, `redact`, `display`, `debug`, `with` or `metric`"
                } else {
                    "`skip`, `display`, `debug` or `with`"
                };
                return Err(
                    meta.error(format!("unknown lmlog field attribute `{}`; expected {expected}", key_name(&meta)))
                );
            }
            Ok(())
        })?;
    }
    if let Some(span) = skip_span {
        if out.rename.is_some() || out.redact {
            return Err(syn::Error::new(span, "`skip` cannot be combined with `rename` or `redact`"));
        }
    }
    if let Some(metric) = &out.metric {
        if out.skip || out.redact || encoding_span.is_some() {
            return Err(syn::Error::new(
                metric.span,
                "`metric` records the field's own numeric value: not with `skip`, `redact`, `display`, `debug` \
                 or `with`",
            ));
        }
    }
    if let Some(span) = encoding_span {
        if out.skip || out.redact {
            return Err(syn::Error::new(
                span,
                "`display`, `debug` and `with` say how a value is written: not with `skip` or `redact`",
            ));
        }
    }
    Ok(out)
}

/// Parses a variant's `#[lmlog(...)]` attributes.
pub(crate) fn variant_attrs(attrs: &[Attribute]) -> syn::Result<VariantAttrs> {
    let mut out = VariantAttrs::default();
    for attr in lmlog_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if out.rename.is_some() {
                    return Err(duplicate(&meta));
                }
                out.rename = Some(non_empty_string(&meta, "a variant name")?);
                Ok(())
            } else {
                Err(meta.error(format!("unknown lmlog variant attribute `{}`; expected `rename`", key_name(&meta))))
            }
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn attrs(item: syn::ItemStruct) -> Vec<Attribute> {
        item.attrs
    }

    #[test]
    fn container_keys() {
        let a = container_attrs(&attrs(parse_quote! {
            #[derive(Debug)]
            #[lmlog(name = "payment_failed", level = "warning")]
            #[lmlog(message = "payment of {amount} failed")]
            struct S;
        }))
        .unwrap();
        assert_eq!(a.name.unwrap().value(), "payment_failed");
        assert_eq!(a.level.unwrap().0, Level::Warn);
        assert_eq!(a.message.unwrap().value(), "payment of {amount} failed");

        let none = container_attrs(&attrs(parse_quote!(
            struct S;
        )))
        .unwrap();
        assert!(none.name.is_none() && none.level.is_none() && none.message.is_none());
    }

    #[test]
    fn container_errors() {
        let err = |item| container_attrs(&attrs(item)).err().expect("an error").to_string();
        assert_eq!(
            err(parse_quote!(
                #[lmlog(level = "verbose")]
                struct S;
            )),
            "unknown level `verbose`; expected one of trace, debug, info, warn, error"
        );
        assert_eq!(
            err(parse_quote!(
                #[lmlog(nmae = "x")]
                struct S;
            )),
            "unknown lmlog attribute `nmae`; expected `name`, `level`, `message`, `sample` or `rate_limit`"
        );
        assert_eq!(
            err(parse_quote!(
                #[lmlog(name = "a", name = "b")]
                struct S;
            )),
            "duplicate `name` attribute"
        );
        assert_eq!(
            err(parse_quote!(
                #[lmlog(name = "")]
                struct S;
            )),
            "the event name must not be empty"
        );
        assert_eq!(
            err(parse_quote!(
                #[lmlog(name = "Order {id} done")]
                struct S;
            )),
            "the event name must be a name without spaces or braces, like \"order_id_done\"; text with \
             placeholders goes in the message template: #[lmlog(name = \"order_id_done\", message = \"...\")]"
        );
        assert!(err(parse_quote!(
            #[lmlog(level = info)]
            struct S;
        ))
        .contains("expected string literal"));
    }

    #[test]
    fn field_keys_and_errors() {
        let field = |attr: Attribute, named: bool| field_attrs(&[attr], named);
        let a = field(parse_quote!(#[lmlog(rename = "x", redact)]), true).unwrap();
        assert_eq!(a.rename.unwrap().value(), "x");
        assert!(a.redact && !a.skip);
        assert!(field(parse_quote!(#[lmlog(skip)]), false).unwrap().skip);
        let err = |attr, named| field(attr, named).err().expect("an error").to_string();
        assert_eq!(
            err(parse_quote!(#[lmlog(skip, redact)]), true),
            "`skip` cannot be combined with `rename` or `redact`"
        );
        assert_eq!(err(parse_quote!(#[lmlog(redact)]), false), "`redact` applies to named fields only");
        assert_eq!(
            err(parse_quote!(#[lmlog(hide)]), true),
            "unknown lmlog field attribute `hide`; expected `skip`, `rename`, `redact`, `display`, `debug`, `with` \
             or `metric`"
        );
        let metric = field(parse_quote!(#[lmlog(metric = "ms")]), true).unwrap().metric.expect("metric");
        assert_eq!(metric.unit.map(|u| u.value()).as_deref(), Some("ms"));
        let metric = field(parse_quote!(#[lmlog(metric)]), true).unwrap().metric.expect("metric");
        assert!(metric.unit.is_none());
        assert_eq!(
            err(parse_quote!(#[lmlog(metric, redact)]), true),
            "`metric` records the field's own numeric value: not with `skip`, `redact`, `display`, `debug` or `with`"
        );
        assert_eq!(err(parse_quote!(#[lmlog(metric)]), false), "`metric` applies to an event's named fields only");
        assert_eq!(err(parse_quote!(#[lmlog(metric, metric)]), true), "duplicate `metric` attribute");
        assert!(matches!(field(parse_quote!(#[lmlog(display)]), false).unwrap().encoding, Encoding::Display));
        assert!(matches!(field(parse_quote!(#[lmlog(debug)]), true).unwrap().encoding, Encoding::Debug));
        match field(parse_quote!(#[lmlog(with = crate::fmt::hex)]), true).unwrap().encoding {
            Encoding::With(path) => assert_eq!(path.to_token_stream().to_string(), "crate :: fmt :: hex"),
            _ => panic!("not `with`"),
        }
        assert_eq!(
            err(parse_quote!(#[lmlog(display, debug)]), true),
            "only one of `display`, `debug` and `with` may be given"
        );
        assert_eq!(
            err(parse_quote!(#[lmlog(redact, display)]), true),
            "`display`, `debug` and `with` say how a value is written: not with `skip` or `redact`"
        );
        assert_eq!(err(parse_quote!(#[lmlog(skip, skip)]), true), "duplicate `skip` attribute");
    }

    #[test]
    fn variant_keys() {
        let v = variant_attrs(&[parse_quote!(#[lmlog(rename = "card")])]).unwrap();
        assert_eq!(v.rename.unwrap().value(), "card");
        let e = variant_attrs(&[parse_quote!(#[lmlog(skip)])]).err().unwrap().to_string();
        assert_eq!(e, "unknown lmlog variant attribute `skip`; expected `rename`");
    }
}
