//! `lm_event!`: parsing and expansion.

use std::collections::HashSet;

use lmlog_format::Level;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Token};

use crate::sampling::SamplingOptions;
use crate::util;

/// What `lm_event!` was given.
pub(crate) enum EventInput {
    /// `level, "event_type", ["template",] fields...`
    Adhoc(Adhoc),
    /// An expression whose type implements `LogEvent`.
    Value(Expr),
}

/// The ad-hoc form.
pub(crate) struct Adhoc {
    /// The level.
    pub level: Level,
    /// The event type.
    pub event_type: LitStr,
    /// The message template, if any.
    pub message: Option<LitStr>,
    /// `sample: p`, `rate_limit: n`.
    pub sampling: SamplingOptions,
    /// The fields in order.
    pub fields: Vec<FieldArg>,
}

/// One `key = value` (or shorthand) argument.
pub(crate) struct FieldArg {
    /// The field name (dotted keys joined with `.`, raw identifiers unprefixed).
    pub key: String,
    /// The key's tokens, for error spans.
    pub key_tokens: TokenStream,
    /// How the value is captured.
    pub capture: Capture,
    /// The value expression.
    pub value: Expr,
}

/// How a value is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// By reference, written with its `LogValue` impl.
    Value,
    /// `%value`: formatted with `Display`.
    Display,
    /// `?value`: formatted with `Debug`.
    Debug,
}

impl Parse for EventInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected `level, \"event_type\", key = value, ...` or an expression whose type implements LogEvent",
            ));
        }
        // `ident ,` followed by more tokens cannot start an expression, so it
        // is the ad-hoc form.
        let fork = input.fork();
        let adhoc = fork.call(Ident::parse_any).is_ok() && fork.parse::<Token![,]>().is_ok() && !fork.is_empty();
        if !adhoc {
            let expr: Expr = input.parse()?;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            if !input.is_empty() {
                return Err(input.error("unexpected tokens after the event expression"));
            }
            return Ok(EventInput::Value(expr));
        }
        let level_ident = input.call(Ident::parse_any)?;
        let level = Level::from_name(&level_ident.to_string())
            .ok_or_else(|| util::unknown_level(level_ident.span(), &level_ident.to_string()))?;
        input.parse::<Token![,]>()?;
        let event_type = parse_event_type(input)?;
        let mut message = None;
        let mut sampling = SamplingOptions::default();
        let mut options_seen = false;
        let mut fields: Vec<FieldArg> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if message.is_none() && !options_seen && fields.is_empty() && input.peek(LitStr) && !input.peek2(Token![=])
            {
                message = Some(input.parse()?);
                continue;
            }
            if input.peek(Ident::peek_any) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
                let name = input.call(Ident::parse_any)?;
                if !fields.is_empty() {
                    return Err(syn::Error::new(
                        name.span(),
                        format!(
                            "options come after the event type (and message), before the fields: move `{name}: ...` \
                             before the first field"
                        ),
                    ));
                }
                input.parse::<Token![:]>()?;
                let lit = option_literal(input, &name)?;
                sampling.set(&name.to_string(), name.span(), &lit)?;
                options_seen = true;
                continue;
            }
            fields.push(input.parse()?);
        }
        let mut seen = HashSet::new();
        for field in &fields {
            if !seen.insert(field.key.as_str()) {
                return Err(syn::Error::new_spanned(&field.key_tokens, format!("duplicate key `{}`", field.key)));
            }
        }
        check_event_type(&level_ident, &event_type, message.as_ref(), &fields)?;
        if let Some(message) = &message {
            let keys: Vec<String> = fields.iter().map(|f| f.key.clone()).collect();
            util::check_template(message, &keys, "key")?;
        }
        Ok(EventInput::Adhoc(Adhoc { level, event_type, message, sampling, fields }))
    }
}

/// An option's value: a literal, so that the policy is a constant (a
/// negative number is reported at its sign, as out of range).
fn option_literal(input: ParseStream<'_>, name: &Ident) -> syn::Result<syn::Lit> {
    let value: Expr = input.parse()?;
    match value {
        Expr::Lit(lit) => Ok(lit.lit),
        Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), .. }) => {
            Err(syn::Error::new_spanned(value, format!("`{name}` must be greater than 0")))
        }
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` takes a number literal (the policy is fixed at compile time)"),
        )),
    }
}

fn parse_event_type(input: ParseStream<'_>) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        if lit.value().is_empty() {
            return Err(syn::Error::new(lit.span(), "the event type must not be empty"));
        }
        return Ok(lit);
    }
    if input.is_empty() {
        return Err(input.error("expected the event type as a string literal, like \"cache_miss\""));
    }
    let expr: Expr = input.parse()?;
    Err(syn::Error::new_spanned(expr, "the event type must be a string literal, like \"cache_miss\""))
}

/// An event type is a name (`order_done`, `http.request`): whitespace or
/// braces mean a message was written in its place, as `format!` would take
/// it. The error shows the call in its template form.
fn check_event_type(
    level: &Ident,
    event_type: &LitStr,
    message: Option<&LitStr>,
    fields: &[FieldArg],
) -> syn::Result<()> {
    let text = event_type.value();
    if !text.chars().any(|c| c.is_whitespace() || c == '{' || c == '}' || c.is_control()) {
        return Ok(());
    }
    let mut name = String::new();
    let mut template = String::new();
    let mut keys = fields.iter().map(|f| f.key.as_str());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        template.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let inner = rest[open + 1..close].split(':').next().unwrap_or_default();
        let key = if inner.is_empty() { keys.next().unwrap_or("value") } else { inner };
        template.push('{');
        template.push_str(key);
        template.push('}');
        rest = rest.get(close + 1..).unwrap_or_default();
    }
    template.push_str(rest);
    let mut in_braces = false;
    for c in text.chars() {
        match c {
            '{' => in_braces = true,
            '}' => in_braces = false,
            _ if in_braces => {}
            c if c.is_alphanumeric() => name.extend(c.to_lowercase()),
            _ if !name.is_empty() && !name.ends_with('_') => name.push('_'),
            _ => {}
        }
    }
    let name = match name.trim_end_matches('_') {
        "" => "my_event".to_owned(),
        n => n.to_owned(),
    };
    let mut args = vec![level.to_string(), format!("{name:?}")];
    if message.is_none() {
        args.push(format!("{template:?}"));
    }
    args.extend(fields.iter().map(|f| f.key_tokens.to_string().replace(' ', "")));
    Err(syn::Error::new(
        event_type.span(),
        format!(
            "the event type must be a name without spaces or braces, like \"{name}\"; a message with \
             placeholders comes after it, each naming a field: `lm_event!({})`",
            args.join(", ")
        ),
    ))
}

/// `a`, `a.b.c`: identifiers (keywords allowed) joined by dots.
fn parse_dotted(input: ParseStream<'_>) -> syn::Result<(String, TokenStream)> {
    let first = input.call(Ident::parse_any)?;
    let mut key = first.unraw().to_string();
    let mut tokens = first.to_token_stream();
    while input.peek(Token![.]) && !input.peek(Token![..]) {
        let dot: Token![.] = input.parse()?;
        let next = input.call(Ident::parse_any)?;
        key.push('.');
        key.push_str(&next.unraw().to_string());
        dot.to_tokens(&mut tokens);
        next.to_tokens(&mut tokens);
    }
    Ok((key, tokens))
}

fn parse_capture(input: ParseStream<'_>) -> syn::Result<Capture> {
    if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
        Ok(Capture::Display)
    } else if input.peek(Token![?]) {
        input.parse::<Token![?]>()?;
        Ok(Capture::Debug)
    } else {
        Ok(Capture::Value)
    }
}

/// The value of a shorthand field: the key's tokens as an expression.
fn shorthand_value(key_tokens: &TokenStream) -> syn::Result<Expr> {
    syn::parse2(key_tokens.clone()).map_err(|_| {
        syn::Error::new_spanned(key_tokens, "this shorthand needs a variable or field path; write `key = value`")
    })
}

impl Parse for FieldArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![%]) || input.peek(Token![?]) {
            // `%key` / `?key`: shorthand for `key = %key`.
            let capture = parse_capture(input)?;
            let (key, key_tokens) = parse_dotted(input)?;
            if input.peek(Token![=]) {
                return Err(input.error("write the sigil on the value: `key = %value` or `key = ?value`"));
            }
            let value = shorthand_value(&key_tokens)?;
            return Ok(FieldArg { key, key_tokens, capture, value });
        }
        let (key, key_tokens) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if lit.value().is_empty() {
                return Err(syn::Error::new(lit.span(), "a key must not be empty"));
            }
            if !input.peek(Token![=]) {
                return Err(input.error("expected `=` and a value after a string key"));
            }
            (lit.value(), lit.to_token_stream())
        } else if input.peek(Ident::peek_any) {
            parse_dotted(input)?
        } else {
            return Err(input.error("expected a field: `key = value`, `key`, `%key` or `?key`"));
        };
        if input.peek(Token![=]) && !input.peek(Token![==]) {
            input.parse::<Token![=]>()?;
            let capture = parse_capture(input)?;
            let value: Expr = input.parse()?;
            Ok(FieldArg { key, key_tokens, capture, value })
        } else if input.is_empty() || input.peek(Token![,]) {
            let value = shorthand_value(&key_tokens)?;
            Ok(FieldArg { key, key_tokens, capture: Capture::Value, value })
        } else {
            Err(input.error("expected `=`, `,` or the end of the fields"))
        }
    }
}

/// The items every call site declares: the function-name helper and the
/// two statics. `line!()` and friends carry the call site's span, so they
/// name the `lm_event!` invocation.
fn callsite_items() -> TokenStream {
    quote! {
        fn __lmlog_function() -> &'static str {
            ::lmlog::__private::function_name(::core::any::type_name_of_val(&__lmlog_function))
        }
        static __LMLOG_META: ::lmlog::__private::CallsiteMeta = ::lmlog::__private::CallsiteMeta {
            module: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
            column: ::core::column!(),
            function: __lmlog_function,
        };
        static __LMLOG_CALLSITE: ::lmlog::__private::Callsite = ::lmlog::__private::Callsite::new(&__LMLOG_META);
    }
}

/// `&(expr)`, with any leading `&` of `expr` removed first: the value is
/// borrowed either way, and `lm_event!(&event)` logs the event's own type.
fn borrowed(expr: &Expr) -> TokenStream {
    let mut inner = expr;
    while let Expr::Reference(r) = inner {
        inner = &r.expr;
    }
    quote_spanned!(expr.span()=> &(#inner))
}

impl Adhoc {
    fn expand(&self) -> TokenStream {
        let level = util::level_tokens(self.level);
        let items = callsite_items();
        let state = Ident::new("__lmlog_state", Span::mixed_site());
        let enc = Ident::new("enc", Span::call_site());

        let params: Vec<Ident> = (0..self.fields.len()).map(|i| format_ident!("T{}", i)).collect();
        let members: Vec<Ident> = (0..self.fields.len()).map(|i| format_ident!("f{}", i)).collect();
        let descs = self.fields.iter().zip(&params).map(|(field, param)| {
            let name = LitStr::new(&field.key, field.key_tokens.span());
            quote! {
                ::lmlog::__private::FieldDesc {
                    name: #name,
                    ty: <#param as ::lmlog::__private::LogValue>::TYPE,
                    redacted: false,
                }
            }
        });
        let descs: Vec<TokenStream> = descs.collect();
        let schema =
            crate::derive_event::schema_const(&self.event_type, self.level, self.message.as_ref(), &descs, &[]);
        let sampling = self.sampling.sampling_const();
        let values: Vec<TokenStream> = self
            .fields
            .iter()
            .map(|field| {
                let value = &field.value;
                let span = value.span();
                match field.capture {
                    Capture::Value => borrowed(value),
                    Capture::Display => quote_spanned!(span=> ::lmlog::__private::FormattedStr::display(&(#value))),
                    Capture::Debug => quote_spanned!(span=> ::lmlog::__private::FormattedStr::debug(&(#value))),
                }
            })
            .collect();
        // The values are handed to a generic function whose parameters
        // carry the `LogValue` bounds: a value without an impl is reported
        // once, at the value itself, and the function's body (the event
        // built from them) is checked only generically.
        let body = if self.fields.is_empty() {
            quote! {
                struct __LmlogEvent;
                impl ::lmlog::__private::LogEvent for __LmlogEvent {
                    #schema
                    #sampling

                    #[inline(always)]
                    fn encode_fields(&self, _enc: &mut ::lmlog::__private::Encoder<'_>) {}

                    const PRECHECKED: bool = true;

                    #[inline(always)]
                    fn encoded_len_bound(&self) -> usize {
                        0
                    }

                    #[inline(always)]
                    unsafe fn encode_fields_prechecked(&self, _enc: &mut ::lmlog::__private::Prechecked<'_>) {}
                }
                ::lmlog::__private::emit(&__LMLOG_CALLSITE, #state, &__LmlogEvent);
            }
        } else {
            quote! {
                struct __LmlogEvent<#(#params),*> { #(#members: #params),* }
                impl<#(#params: ::lmlog::__private::LogValue),*> ::lmlog::__private::LogEvent
                    for __LmlogEvent<#(#params),*>
                {
                    #schema
                    #sampling

                    #[inline(always)]
                    fn encode_fields(&self, #enc: &mut ::lmlog::__private::Encoder<'_>) {
                        #(::lmlog::__private::LogValue::encode(&self.#members, #enc);)*
                    }

                    const PRECHECKED: bool = true #(&& <#params as ::lmlog::__private::LogValue>::BOUNDED)*;

                    #[inline(always)]
                    fn encoded_len_bound(&self) -> usize {
                        0usize #(.saturating_add(::lmlog::__private::LogValue::encoded_len_bound(&self.#members)))*
                    }

                    #[inline(always)]
                    unsafe fn encode_fields_prechecked(&self, #enc: &mut ::lmlog::__private::Prechecked<'_>) {
                        // The caller checked room for `encoded_len_bound`,
                        // the sum of what each field writes at most.
                        #(unsafe { ::lmlog::__private::LogValue::encode_prechecked(&self.#members, #enc) };)*
                    }
                }
                #[inline(always)]
                fn __lmlog_emit<#(#params: ::lmlog::__private::LogValue),*>(
                    state: ::lmlog::__private::CallsiteState,
                    #(#members: #params),*
                ) {
                    ::lmlog::__private::emit(&__LMLOG_CALLSITE, state, &__LmlogEvent { #(#members),* });
                }
                __lmlog_emit(#state, #(#values),*);
            }
        };
        quote! {
            {
                if ::lmlog::__private::static_enabled(#level) {
                    #items
                    let #state = __LMLOG_CALLSITE.load();
                    if #state.enables(#level) {
                        #[allow(non_camel_case_types)]
                        #body
                    }
                }
            }
        }
    }
}

/// Expands the value form. The level is read from the event's type through
/// a `PhantomData` whose type parameter is inferred from the (later) value,
/// so nothing is evaluated unless the level is compiled in and the call site
/// is interested.
fn expand_value(expr: &Expr) -> TokenStream {
    let items = callsite_items();
    let state = Ident::new("__lmlog_state", Span::mixed_site());
    let ty = Ident::new("__lmlog_type", Span::mixed_site());
    let value = borrowed(expr);
    quote! {
        {
            #[inline(always)]
            fn __lmlog_enabled<E: ::lmlog::__private::LogEvent>(_: &::core::marker::PhantomData<E>) -> bool {
                ::lmlog::__private::static_enabled(<E as ::lmlog::__private::LogEvent>::SCHEMA.level)
            }
            #[inline(always)]
            fn __lmlog_interested<E: ::lmlog::__private::LogEvent>(
                _: &::core::marker::PhantomData<E>,
                state: ::lmlog::__private::CallsiteState,
            ) -> bool {
                state.enables(<E as ::lmlog::__private::LogEvent>::SCHEMA.level)
            }
            #[inline(always)]
            fn __lmlog_typed<'e, E>(_: &::core::marker::PhantomData<E>, event: &'e E) -> &'e E {
                event
            }
            let #ty = ::core::marker::PhantomData;
            if __lmlog_enabled(&#ty) {
                #items
                let #state = __LMLOG_CALLSITE.load();
                if __lmlog_interested(&#ty, #state) {
                    ::lmlog::__private::emit(&__LMLOG_CALLSITE, #state, __lmlog_typed(&#ty, #value));
                }
            }
        }
    }
}

/// Expands `level_enabled!(LEVEL)`: a call site of its own that only asks
/// whether `LEVEL` is recorded here (for work done only to log, such as
/// reading a clock).
pub(crate) fn level_enabled(input: TokenStream) -> syn::Result<TokenStream> {
    let name: Ident = syn::parse2(input)?;
    let level = Level::parse(&name.to_string()).ok_or_else(|| util::unknown_level(name.span(), &name.to_string()))?;
    let level = util::level_tokens(level);
    let items = callsite_items();
    Ok(quote! {
        {
            if ::lmlog::__private::static_enabled(#level) {
                #items
                ::lmlog::__private::interested(&__LMLOG_CALLSITE, #level)
            } else {
                false
            }
        }
    })
}

/// Expands `lm_event!`.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    Ok(match syn::parse2::<EventInput>(input)? {
        EventInput::Adhoc(adhoc) => adhoc.expand(),
        EventInput::Value(expr) => expand_value(&expr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: TokenStream) -> syn::Result<EventInput> {
        syn::parse2(tokens)
    }

    fn adhoc(tokens: TokenStream) -> Adhoc {
        match parse(tokens).unwrap() {
            EventInput::Adhoc(a) => a,
            EventInput::Value(_) => panic!("parsed as the value form"),
        }
    }

    fn error(tokens: TokenStream) -> String {
        match parse(tokens) {
            Ok(_) => panic!("no error"),
            Err(e) => e.to_string(),
        }
    }

    fn keys(a: &Adhoc) -> Vec<(&str, Capture, String)> {
        a.fields.iter().map(|f| (f.key.as_str(), f.capture, f.value.to_token_stream().to_string())).collect()
    }

    #[test]
    fn parses_fields_of_every_shape() {
        let a = adhoc(quote! {
            warn, "http_request", "{method} {path} took {latency}",
            method, %path, ?latency, http.status = 200u16, "user.id" = user.id, display = %x.y, debug = ?z,
            r#type = "t", req.id, %self.name,
        });
        assert_eq!(a.level, Level::Warn);
        assert_eq!(a.event_type.value(), "http_request");
        assert_eq!(a.message.as_ref().unwrap().value(), "{method} {path} took {latency}");
        assert_eq!(
            keys(&a),
            vec![
                ("method", Capture::Value, "method".to_string()),
                ("path", Capture::Display, "path".to_string()),
                ("latency", Capture::Debug, "latency".to_string()),
                ("http.status", Capture::Value, "200u16".to_string()),
                ("user.id", Capture::Value, "user . id".to_string()),
                ("display", Capture::Display, "x . y".to_string()),
                ("debug", Capture::Debug, "z".to_string()),
                ("type", Capture::Value, "\"t\"".to_string()),
                ("req.id", Capture::Value, "req . id".to_string()),
                ("self.name", Capture::Display, "self . name".to_string()),
            ]
        );
    }

    #[test]
    fn string_key_in_third_position_is_not_a_template() {
        let a = adhoc(quote!(info, "e", "http.status" = 200));
        assert!(a.message.is_none());
        assert_eq!(a.fields[0].key, "http.status");
        let a = adhoc(quote!(info, "e", "template", "k" = 1,));
        assert_eq!(a.message.unwrap().value(), "template");
        let a = adhoc(quote!(debug, "no_fields"));
        assert!(a.fields.is_empty() && a.message.is_none());
        let a = adhoc(quote!(error, "with_values", a = if x == 1 { 2 } else { 3 }, b = f(1, 2),));
        assert_eq!(a.fields.len(), 2);
    }

    #[test]
    fn sampling_options_come_before_the_fields() {
        let a = adhoc(quote!(info, "cache_miss", sample: 0.1, key = k));
        assert_eq!(a.sampling.sample, Some(0.1));
        assert_eq!(a.fields.len(), 1);
        let a = adhoc(quote!(warn, "burst", "burst {seq}", rate_limit: 100, sample: 1, seq));
        assert_eq!((a.sampling.sample, a.sampling.rate_limit), (Some(1.0), Some(100)));
        assert_eq!(a.message.unwrap().value(), "burst {seq}");
        let out = expand(quote!(info, "cache_miss", sample: 0.5, key)).unwrap().to_string();
        assert!(out.contains("const SAMPLING : :: lmlog :: __private :: Sampling"), "{out}");
        let plain = expand(quote!(info, "cache_miss", key)).unwrap().to_string();
        assert!(!plain.contains("SAMPLING"), "a site without options is unchanged: {plain}");
        assert!(error(quote!(info, "e", k = 1, rate_limit: 5)).starts_with("options come after the event type"));
    }

    #[test]
    fn value_form() {
        assert!(matches!(parse(quote!(my_event)).unwrap(), EventInput::Value(Expr::Path(_))));
        assert!(matches!(parse(quote!(my_event,)).unwrap(), EventInput::Value(Expr::Path(_))));
        assert!(matches!(parse(quote!(Ev { a: 1, b })).unwrap(), EventInput::Value(Expr::Struct(_))));
        assert!(matches!(parse(quote!(&ev)).unwrap(), EventInput::Value(Expr::Reference(_))));
        assert!(matches!(parse(quote!(module::make(1, 2))).unwrap(), EventInput::Value(Expr::Call(_))));
        assert!(error(quote!(a b)).contains("unexpected tokens after the event expression"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            error(quote!(verbose, "x")),
            "unknown level `verbose`; expected one of trace, debug, info, warn, error"
        );
        assert_eq!(error(quote!(INFO, "x")), "unknown level `INFO`; expected one of trace, debug, info, warn, error");
        assert_eq!(error(quote!(info, event_type)), "the event type must be a string literal, like \"cache_miss\"");
        assert_eq!(error(quote!(info, 42, a = 1)), "the event type must be a string literal, like \"cache_miss\"");
        assert_eq!(error(quote!(info, "")), "the event type must not be empty");
        assert_eq!(
            error(quote!(info, "order {} done", id)),
            "the event type must be a name without spaces or braces, like \"order_done\"; a message with \
             placeholders comes after it, each naming a field: `lm_event!(info, \"order_done\", \"order {id} done\", id)`"
        );
        assert!(
            error(quote!(warn, "Cache miss", "miss of {key}", key)).contains("`lm_event!(warn, \"cache_miss\", key)`")
        );
        assert_eq!(error(quote!(info, "e", a = 1, b = 2, a = 3)), "duplicate key `a`");
        assert_eq!(error(quote!(info, "e", a.b = 1, "a.b" = 2)), "duplicate key `a.b`");
        let e = error(quote!(info, "e", "hi {who}", a = 1));
        assert!(e.contains("unknown placeholder `{who}`") && e.contains("the keys are `a`"), "{e}");
        assert!(error(quote!(info, "e", "hi {who", who = 1)).starts_with("invalid message template: unclosed"));
        assert_eq!(error(quote!(info, "e", %a = 1)), "write the sigil on the value: `key = %value` or `key = ?value`");
        assert_eq!(error(quote!(info, "e", 5)), "expected a field: `key = value`, `key`, `%key` or `?key`");
        assert!(error(quote!(info, "e", "template", "k")).ends_with("expected `=` and a value after a string key"));
        assert_eq!(error(quote!(info, "e", a + 1)), "expected `=`, `,` or the end of the fields");
        assert!(error(quote!()).contains("expected `level, \"event_type\""));
    }

    #[test]
    fn adhoc_expansion_shape() {
        let out = expand(quote!(info, "cache_miss", key = "user:7", %shown, ?dbg)).unwrap().to_string();
        assert!(
            out.starts_with("{ if :: lmlog :: __private :: static_enabled (:: lmlog :: __private :: Level :: Info)")
        );
        assert!(out.contains("line : :: core :: line ! ()"), "{out}");
        assert!(out.contains("struct __LmlogEvent < T0 , T1 , T2 > { f0 : T0 , f1 : T1 , f2 : T2 }"), "{out}");
        assert!(out.contains("name : \"key\" , ty : < T0 as :: lmlog :: __private :: LogValue > :: TYPE"), "{out}");
        assert!(out.contains("fn __lmlog_emit < T0 : :: lmlog :: __private :: LogValue"), "{out}");
        assert!(
            out.contains(
                "__lmlog_emit (__lmlog_state , & (\"user:7\") , :: lmlog :: __private :: FormattedStr :: display \
                 (& (shown)) , :: lmlog :: __private :: FormattedStr :: debug (& (dbg)))"
            ),
            "{out}"
        );
        // Values are evaluated inside both checks.
        let emit = out.find(":: lmlog :: __private :: emit (& __LMLOG_CALLSITE").unwrap();
        let interest = out.find("enables (:: lmlog :: __private :: Level :: Info)").unwrap();
        assert!(interest < emit && out.find("\"user:7\")").unwrap() > emit, "{out}");

        let empty = expand(quote!(trace, "tick")).unwrap().to_string();
        assert!(empty.contains("struct __LmlogEvent ;") && empty.contains("_enc"), "{empty}");
        assert!(!empty.contains("__lmlog_emit"), "{empty}");
    }

    #[test]
    fn value_expansion_strips_borrows() {
        let out = expand(quote!(&&ev)).unwrap().to_string();
        assert!(out.contains("__lmlog_typed (& __lmlog_type , & (ev))"), "{out}");
        let out = expand(quote!(Ev { a: compute() })).unwrap().to_string();
        let check = out.find("if __lmlog_enabled").unwrap();
        let interest = out.find("if __lmlog_interested (& __lmlog_type").unwrap();
        assert!(out.find("compute ()").unwrap() > interest && interest > check, "{out}");
    }
}
