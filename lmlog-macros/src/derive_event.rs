//! `#[derive(LogEvent)]`.

use std::collections::HashMap;

use lmlog_format::Level;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attrs::Encoding;
use crate::{attrs, util};

/// A named field as the event sees it.
pub(crate) struct NamedField<'a> {
    /// The Rust field.
    pub ident: &'a Ident,
    /// Its type.
    pub ty: &'a Type,
    /// The logged name (after `rename`).
    pub name: String,
    /// Where the logged name comes from, for errors.
    pub name_span: Span,
    /// `#[lmlog(redact)]`.
    pub redacted: bool,
    /// How the value is written.
    pub encoding: Encoding,
    /// `#[lmlog(metric)]`.
    pub metric: Option<attrs::Metric>,
}

/// The logged fields of a list of named fields (skipped fields left out),
/// with duplicate names after `rename` rejected at the later field.
pub(crate) fn named_fields<'a>(fields: impl IntoIterator<Item = &'a syn::Field>) -> syn::Result<Vec<NamedField<'a>>> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    for field in fields {
        let attrs = attrs::field_attrs(&field.attrs, true)?;
        if attrs.skip {
            continue;
        }
        let ident = field.ident.as_ref().expect("named field");
        let (name, name_span) = match &attrs.rename {
            Some(lit) => (lit.value(), lit.span()),
            None => (ident.unraw().to_string(), ident.span()),
        };
        if seen.insert(name.clone(), ()).is_some() {
            return Err(syn::Error::new(name_span, format!("duplicate field name `{name}`")));
        }
        out.push(NamedField {
            ident,
            ty: &field.ty,
            name,
            name_span,
            redacted: attrs.redact,
            encoding: attrs.encoding,
            metric: attrs.metric,
        });
    }
    Ok(out)
}

/// The type descriptor of a field written as `encoding` says:
/// `<T as ::lmlog::__private::LogValue>::TYPE`, spanned at the field's type
/// so a missing `LogValue` impl is reported there; a string for `display`
/// and `debug`; the function's result type's for `with`.
pub(crate) fn type_desc(ty: &Type, encoding: &Encoding) -> TokenStream {
    match encoding {
        Encoding::Value => quote_spanned!(ty.span()=> <#ty as ::lmlog::__private::LogValue>::TYPE),
        Encoding::Display | Encoding::Debug => quote!(&::lmlog::__private::TypeDesc::Str),
        Encoding::With(path) => quote_spanned!(path.span()=> ::lmlog::__private::with_type::<#ty, _>(#path)),
    }
}

/// `::lmlog::__private::FieldDesc { .. }` for a named field; a redacted field
/// is described as a string and its type needs no `LogValue` impl.
pub(crate) fn field_desc(field: &NamedField<'_>) -> TokenStream {
    let name = LitStr::new(&field.name, field.name_span);
    if field.redacted {
        quote! {
            ::lmlog::__private::FieldDesc { name: #name, ty: &::lmlog::__private::TypeDesc::Str, redacted: true }
        }
    } else {
        let ty = type_desc(field.ty, &field.encoding);
        quote!(::lmlog::__private::FieldDesc { name: #name, ty: #ty, redacted: false })
    }
}

/// The statement writing `value` (a `&T`) as `encoding` says:
/// `<T as ::lmlog::__private::LogValue>::encode(#value, enc);` spanned at
/// the field's type, so a missing impl is reported once, there; its text,
/// formatted on the calling thread, for `display` and `debug`; the
/// function's result for `with`.
pub(crate) fn encode_call(value: TokenStream, ty: &Type, encoding: &Encoding, enc: &Ident) -> TokenStream {
    match encoding {
        Encoding::Value => quote_spanned!(ty.span()=> <#ty as ::lmlog::__private::LogValue>::encode(#value, #enc);),
        Encoding::Display => quote_spanned!(ty.span()=>
            ::lmlog::__private::LogValue::encode(&::lmlog::__private::FormattedStr::display::<#ty>(#value), #enc);
        ),
        Encoding::Debug => quote_spanned!(ty.span()=>
            ::lmlog::__private::LogValue::encode(&::lmlog::__private::FormattedStr::debug::<#ty>(#value), #enc);
        ),
        Encoding::With(path) => quote_spanned!(path.span()=>
            ::lmlog::__private::encode_with::<#ty, _>(#path, #value, #enc);
        ),
    }
}

/// The statements writing named fields, each read through `access` (a
/// place expression of type `&FieldType`). A redacted field is only read, so
/// the field does not look unused to the `dead_code` lint.
pub(crate) fn encode_named(
    fields: &[NamedField<'_>],
    access: impl Fn(usize, &NamedField<'_>) -> TokenStream,
    enc: &Ident,
) -> Vec<TokenStream> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let value = access(i, f);
            if f.redacted {
                quote!(let _ = #value;)
            } else {
                encode_call(value, f.ty, &f.encoding, enc)
            }
        })
        .collect()
}

/// The `::lmlog::__private::MetricField`s of the fields marked
/// `#[lmlog(metric)]`, and for each a statement that compiles only if the
/// field's type is a number (reported at the attribute).
pub(crate) fn metric_fields(fields: &[NamedField<'_>]) -> syn::Result<(Vec<TokenStream>, Vec<TokenStream>)> {
    let mut descs = Vec::new();
    let mut checks = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let Some(metric) = &field.metric else { continue };
        let field_ty = field.ty;
        let index = u16::try_from(index).map_err(|_| {
            syn::Error::new(metric.span, "a metric field must be among the event's first 65,536 fields")
        })?;
        let unit = metric.unit.clone().unwrap_or_else(|| LitStr::new("", metric.span));
        descs.push(quote!(::lmlog::__private::MetricField { field: #index, unit: #unit }));
        // The type respanned: an error about it points at the attribute.
        let ty = util::respanned(quote!(#field_ty), metric.span);
        checks.push(quote_spanned!(metric.span=> ::lmlog::__private::metric_field::<#ty>();));
    }
    Ok((descs, checks))
}

/// The `const SCHEMA` item of a `LogEvent` impl.
pub(crate) fn schema_const(
    name: &LitStr,
    level: Level,
    message: Option<&LitStr>,
    fields: &[TokenStream],
    metrics: &[TokenStream],
) -> TokenStream {
    let level = util::level_tokens(level);
    let message = util::message_tokens(message);
    quote! {
        const SCHEMA: &'static ::lmlog::__private::EventSchema = &::lmlog::__private::EventSchema {
            name: #name,
            level: #level,
            message: #message,
            fields: &[#(#fields),*],
            fingerprint: ::lmlog::__private::EventSchema::compute_fingerprint(
                #name,
                #level,
                #message,
                &[#(#fields),*],
            ),
            metrics: &[#(#metrics),*],
        };
    }
}

/// Expands `#[derive(LogEvent)]`.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().collect(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(unnamed) => {
                return Err(syn::Error::new(
                    unnamed.paren_token.span.join(),
                    "LogEvent can only be derived for structs with named fields (or unit structs): \
                     every event field needs a name",
                ))
            }
        },
        Data::Enum(data) => {
            return Err(syn::Error::new(
                data.enum_token.span,
                "LogEvent cannot be derived for enums; derive it for a struct with named fields \
                 (an enum can be a field's type with #[derive(LogValue)])",
            ))
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "LogEvent cannot be derived for unions; derive it for a struct with named fields",
            ))
        }
    };
    let container = attrs::container_attrs(&input.attrs)?;
    let fields = named_fields(fields)?;
    let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    if let Some(message) = &container.message {
        util::check_template(message, &names, "field")?;
    }

    let event_name = container
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&util::snake_case(&input.ident.unraw().to_string()), Span::call_site()));
    let level = container.level.as_ref().map_or(Level::Info, |(level, _)| *level);
    let descs: Vec<TokenStream> = fields.iter().map(field_desc).collect();
    let (metrics, metric_checks) = metric_fields(&fields)?;
    let schema = schema_const(&event_name, level, container.message.as_ref(), &descs, &metrics);
    let sampling = container.sampling.sampling_const();

    let enc = Ident::new("enc", Span::call_site());
    let written: Vec<&NamedField<'_>> = fields.iter().filter(|f| !f.redacted).collect();
    let encodes = encode_named(
        &fields,
        |_, f| {
            let ident = f.ident;
            quote!(&self.#ident)
        },
        &enc,
    );
    let enc_param = if written.is_empty() { Ident::new("_enc", Span::call_site()) } else { enc.clone() };

    // A record of fields all written by their own `LogValue` impl checks
    // its room once, against the sum of their bounds, when every impl
    // bounds its size (`BOUNDED`, a constant); a field written as text
    // (display, debug, with) leaves the event to the checked encoding.
    let prechecked = written.iter().all(|f| matches!(f.encoding, Encoding::Value)).then(|| {
        let tys: Vec<&Type> = written.iter().map(|f| f.ty).collect();
        let idents: Vec<_> = written.iter().map(|f| f.ident).collect();
        quote! {
            const PRECHECKED: bool = true #(&& <#tys as ::lmlog::__private::LogValue>::BOUNDED)*;

            #[inline(always)]
            fn encoded_len_bound(&self) -> usize {
                0usize #(.saturating_add(<#tys as ::lmlog::__private::LogValue>::encoded_len_bound(&self.#idents)))*
            }

            #[inline(always)]
            unsafe fn encode_fields_prechecked(&self, #enc_param: &mut ::lmlog::__private::Prechecked<'_>) {
                // The caller checked room for `encoded_len_bound`, the sum
                // of what each field writes at most.
                #(unsafe { <#tys as ::lmlog::__private::LogValue>::encode_prechecked(&self.#idents, #enc_param) };)*
            }
        }
    });

    let generics = util::with_log_value_bounds(
        &input.generics,
        written.iter().filter(|f| matches!(f.encoding, Encoding::Value)).map(|f| f.ty),
    );
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ident = &input.ident;
    Ok(quote! {
        impl #impl_generics ::lmlog::__private::LogEvent for #ident #ty_generics #where_clause {
            #schema
            #sampling

            #[inline(always)]
            fn encode_fields(&self, #enc_param: &mut ::lmlog::__private::Encoder<'_>) {
                #(#metric_checks)*
                #(#encodes)*
            }

            #prechecked
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand_str(input: DeriveInput) -> String {
        expand(&input).unwrap().to_string()
    }

    fn error(input: DeriveInput) -> String {
        expand(&input).expect_err("an error").to_string()
    }

    #[test]
    fn expands_schema_and_encoder() {
        let out = expand_str(parse_quote! {
            #[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for {user}")]
            struct PaymentFailed<'a, T> {
                #[lmlog(rename = "user")]
                user_id: u64,
                amount: T,
                #[lmlog(skip)]
                internal: NotLogged,
                #[lmlog(redact)]
                card: &'a str,
            }
        });
        assert!(
            out.contains("impl < 'a , T > :: lmlog :: __private :: LogEvent for PaymentFailed < 'a , T >"),
            "{out}"
        );
        assert!(out.contains("where T : :: lmlog :: __private :: LogValue"), "{out}");
        assert!(out.contains("name : \"payment_failed\""), "{out}");
        assert!(out.contains(":: lmlog :: __private :: Level :: Warn"), "{out}");
        assert!(out.contains("name : \"user\" , ty : < u64 as :: lmlog :: __private :: LogValue > :: TYPE"), "{out}");
        assert!(out.contains("name : \"card\" , ty : & :: lmlog :: __private :: TypeDesc :: Str , redacted : true"));
        assert!(!out.contains("internal"), "{out}");
        assert!(out.contains("let _ = & self . card ;"), "{out}");
        assert!(
            out.contains("< u64 as :: lmlog :: __private :: LogValue > :: encode (& self . user_id , enc) ;"),
            "{out}"
        );
        assert!(
            out.contains("< T as :: lmlog :: __private :: LogValue > :: encode (& self . amount , enc) ;"),
            "{out}"
        );
    }

    #[test]
    fn defaults_name_and_level() {
        let out = expand_str(parse_quote!(
            struct CacheMiss;
        ));
        assert!(out.contains("name : \"cache_miss\""), "{out}");
        assert!(out.contains("Level :: Info"), "{out}");
        assert!(out.contains("message : :: core :: option :: Option :: None"), "{out}");
        assert!(out.contains("_enc : & mut"), "{out}");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(error(parse_quote!(
            enum E {
                A,
            }
        ))
        .starts_with("LogEvent cannot be derived for enums"));
        assert!(error(parse_quote!(
            struct T(u32);
        ))
        .starts_with("LogEvent can only be derived for structs with named"));
        assert_eq!(
            error(parse_quote!(
                struct D {
                    a: u32,
                    #[lmlog(rename = "a")]
                    b: u32,
                }
            )),
            "duplicate field name `a`"
        );
        let e = error(parse_quote!(
            #[lmlog(message = "{a} {b}")]
            struct M {
                a: u32,
                #[lmlog(skip)]
                b: u32,
            }
        ));
        assert!(e.contains("unknown placeholder `{b}`") && e.contains("the fields are `a`"), "{e}");
        let e = error(parse_quote!(
            #[lmlog(message = "{a")]
            struct M {
                a: u32,
            }
        ));
        assert!(e.starts_with("invalid message template"), "{e}");
    }

    #[test]
    fn redacted_placeholders_are_allowed() {
        expand_str(parse_quote!(
            #[lmlog(message = "card {card}")]
            struct M {
                #[lmlog(redact)]
                card: String,
            }
        ));
    }
}
