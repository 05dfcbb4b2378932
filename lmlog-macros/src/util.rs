//! Helpers shared by the derives and `lm_event!`: levels, names, message
//! templates and generic bounds.

use std::collections::HashSet;

use lmlog_format::template::{self, Segment};
use lmlog_format::Level;
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{GenericParam, Generics, LitStr, Type, WherePredicate};

/// `tokens` with every token (and group) at `span`, so that an error about
/// them is reported there.
pub(crate) fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = proc_macro2::Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                token = inner.into();
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The error for a level name that is not one of [`Level::NAMES`].
pub(crate) fn unknown_level(span: Span, name: &str) -> syn::Error {
    syn::Error::new(span, format!("unknown level `{name}`; expected one of {}", Level::NAMES))
}

/// `::lmlog::__private::Level::X`, `X` being the variant's own name.
pub(crate) fn level_tokens(level: Level) -> TokenStream {
    let variant = Ident::new(&format!("{level:?}"), Span::call_site());
    quote!(::lmlog::__private::Level::#variant)
}

/// `::core::option::Option::Some("...")` or `None` for a message template.
pub(crate) fn message_tokens(message: Option<&LitStr>) -> TokenStream {
    match message {
        Some(lit) => {
            let lit = LitStr::new(&lit.value(), lit.span());
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// `PaymentFailed` → `payment_failed`, `HTTPRequest` → `http_request`,
/// `Http2Frame` → `http2_frame`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a message template with the decoder's parser: it must parse, and
/// every placeholder must be one of `names`. `kind` is "field" or "key".
pub(crate) fn check_template(lit: &LitStr, names: &[String], kind: &str) -> syn::Result<()> {
    let text = lit.value();
    let segments =
        template::parse(&text).map_err(|e| syn::Error::new(lit.span(), format!("invalid message template: {e}")))?;
    let mut error: Option<syn::Error> = None;
    for segment in &segments {
        if let Segment::Field { name, .. } = segment {
            if names.iter().any(|n| n == name) {
                continue;
            }
            let known = if names.is_empty() {
                format!("the event has no {kind}s")
            } else {
                let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!("the {kind}s are {}", list.join(", "))
            };
            let e = syn::Error::new(
                lit.span(),
                format!("unknown placeholder `{{{name}}}` in message template: no {kind} is named `{name}`; {known}"),
            );
            match &mut error {
                Some(first) => first.combine(e),
                None => error = Some(e),
            }
        }
    }
    error.map_or(Ok(()), Err)
}

/// Adds `T: ::lmlog::__private::LogValue` for every type parameter `T` that
/// appears in one of `types` (the types of the fields that are written).
pub(crate) fn with_log_value_bounds<'a>(generics: &Generics, types: impl IntoIterator<Item = &'a Type>) -> Generics {
    let params: HashSet<Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let mut used = HashSet::new();
    for ty in types {
        collect_idents(ty.to_token_stream(), &params, &mut used);
    }
    let mut generics = generics.clone();
    let bounded: Vec<Ident> = generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) if used.contains(&t.ident) => Some(t.ident.clone()),
            _ => None,
        })
        .collect();
    if !bounded.is_empty() {
        let where_clause = generics.make_where_clause();
        for ident in bounded {
            let predicate: WherePredicate = syn::parse_quote!(#ident: ::lmlog::__private::LogValue);
            where_clause.predicates.push(predicate);
        }
    }
    generics
}

fn collect_idents(tokens: TokenStream, params: &HashSet<Ident>, used: &mut HashSet<Ident>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) if params.contains(&ident) => {
                used.insert(ident);
            }
            TokenTree::Group(group) => collect_idents(group.stream(), params, used),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        assert_eq!(snake_case("PaymentFailed"), "payment_failed");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("IOError"), "io_error");
        assert_eq!(snake_case("Http2Frame"), "http2_frame");
        assert_eq!(snake_case("Simple"), "simple");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Mixed_Case"), "mixed_case");
        assert_eq!(snake_case("ABC"), "abc");
    }

    #[test]
    fn unknown_levels_list_the_names_and_tokens_name_the_variant() {
        assert_eq!(
            unknown_level(Span::call_site(), "verbose").to_string(),
            "unknown level `verbose`; expected one of trace, debug, info, warn, error"
        );
        for level in Level::ALL {
            let tokens = level_tokens(level).to_string();
            assert!(tokens.ends_with(&format!("Level :: {level:?}")), "{tokens}");
        }
    }

    #[test]
    fn templates_are_checked_against_names() {
        let names = vec!["amount".to_string(), "user_id".to_string()];
        let ok: LitStr = syn::parse_quote!("payment of {amount} failed for {user_id} {{literal}}");
        assert!(check_template(&ok, &names, "field").is_ok());

        let unknown: LitStr = syn::parse_quote!("payment of {amount} by {user}");
        let err = check_template(&unknown, &names, "field").unwrap_err().to_string();
        assert!(err.contains("`{user}`"), "{err}");
        assert!(err.contains("the fields are `amount`, `user_id`"), "{err}");

        let none: LitStr = syn::parse_quote!("hello {who}");
        let err = check_template(&none, &[], "key").unwrap_err().to_string();
        assert!(err.contains("the event has no keys"), "{err}");

        let unclosed: LitStr = syn::parse_quote!("hello {who");
        let err = check_template(&unclosed, &names, "field").unwrap_err().to_string();
        assert!(err.starts_with("invalid message template: unclosed"), "{err}");
    }

    #[test]
    fn bounds_only_for_params_used_in_written_fields() {
        let generics: Generics = syn::parse_quote!(<'a, T, U: Clone, V>);
        let tys: Vec<Type> = vec![syn::parse_quote!(&'a [T]), syn::parse_quote!(Option<Vec<U>>)];
        let bounded = with_log_value_bounds(&generics, &tys);
        let where_clause = bounded.where_clause.expect("where clause").to_token_stream().to_string();
        assert!(where_clause.contains("T : :: lmlog :: __private :: LogValue"), "{where_clause}");
        assert!(where_clause.contains("U : :: lmlog :: __private :: LogValue"), "{where_clause}");
        assert!(!where_clause.contains("V :"), "{where_clause}");

        let unbounded = with_log_value_bounds(&generics, &[syn::parse_quote!(u32)]);
        assert!(unbounded.where_clause.is_none());
    }
}
