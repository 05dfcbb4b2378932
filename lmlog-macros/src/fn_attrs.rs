//! The function attributes: `#[capture_errors]`, `#[log_performance]` and
//! `#[log_calls]`, LMLog's decorators.
//!
//! Each wraps the function's body, sync or `async`, and logs through
//! `lm_event!`/`lm_exception!` expansions, so every event has a static call
//! site, allocates nothing and costs one relaxed load when its level is
//! disabled. The body runs in a closure (an `async` block for an `async
//! fn`), so that its `return`s and `?`s come back through the wrapper.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Lit, LitStr, Pat, ReturnType, Type};

/// The parts of the function every attribute needs.
struct Function {
    item: ItemFn,
    name: LitStr,
}

impl Function {
    fn parse(item: TokenStream, attribute: &str) -> syn::Result<Function> {
        let item: ItemFn = syn::parse2(item).map_err(|e| {
            syn::Error::new(e.span(), format!("#[{attribute}] goes on a function (`fn` or `async fn`)"))
        })?;
        if let Some(constness) = &item.sig.constness {
            return Err(syn::Error::new(constness.span(), format!("#[{attribute}] cannot log from a `const fn`")));
        }
        let name = LitStr::new(&item.sig.ident.to_string(), item.sig.ident.span());
        Ok(Function { item, name })
    }

    fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }

    /// The return type, if it can be written in a `let` (not `impl Trait`).
    fn nameable_return(&self) -> Option<TokenStream> {
        match &self.item.sig.output {
            ReturnType::Default => Some(quote!(())),
            ReturnType::Type(_, ty) if !mentions_impl(ty) => Some(ty.to_token_stream()),
            ReturnType::Type(..) => None,
        }
    }

    /// An expression that runs the body and yields what it returns.
    fn run_body(&self) -> TokenStream {
        let block = &self.item.block;
        if self.is_async() {
            quote!(#[allow(clippy::redundant_async_block)] async #block.await)
        } else {
            quote!((|| #block)())
        }
    }

    /// An expression that runs the body and yields
    /// `Result<returned value, panic payload>`.
    fn run_body_catching_panics(&self) -> TokenStream {
        let block = &self.item.block;
        if self.is_async() {
            let pin = self.nameable_return().map(|ty| {
                quote! {
                    #[allow(unreachable_code)]
                    if false {
                        let __lmlog_returns: #ty = loop {};
                        return __lmlog_returns;
                    }
                }
            });
            quote!(::lmlog::__private::CatchUnwind::new(async { #pin #block }).await)
        } else {
            quote!(::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| #block)))
        }
    }

    /// `let #name(: ReturnType) = #value;`
    fn bind_result(&self, name: &syn::Ident, value: TokenStream) -> TokenStream {
        match self.nameable_return() {
            Some(ty) => quote!(let #name: #ty = #value;),
            None => quote!(let #name = #value;),
        }
    }

    /// The function with `body` as its body.
    fn with_body(&self, body: TokenStream) -> TokenStream {
        let ItemFn { attrs, vis, sig, .. } = &self.item;
        quote! {
            #(#attrs)*
            #vis #sig {
                #body
            }
        }
    }
}

fn mentions_impl(ty: &Type) -> bool {
    ty.to_token_stream().into_iter().any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i == "impl"))
}

fn no_arguments(args: TokenStream, attribute: &str) -> syn::Result<()> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new(args.span(), format!("#[{attribute}] takes no arguments")))
    }
}

/// The value of `expr` if its type is a `LogValue` (a `Result`'s `Ok`
/// value if that is one), else a `null`: chosen at compile time (see
/// `lmlog::__private::returned`).
fn maybe_value(expr: TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use ::lmlog::__private::returned::{NotLogValue as _, OkLogValue as _, IsLogValue as _};
        (&&&::lmlog::__private::returned::Returned(&#expr)).log_value()
    }}
}

fn ident(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// `#[capture_errors]`: an `exception` event for each `Err` the function
/// returns and each panic that leaves it.
pub(crate) fn capture_errors(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    no_arguments(args, "capture_errors")?;
    let function = Function::parse(item, "capture_errors")?;
    let returns_result = match &function.item.sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == "Result"),
            _ => false,
        },
        ReturnType::Default => false,
    };
    if !returns_result {
        let span = match &function.item.sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => function.item.sig.ident.span(),
        };
        return Err(syn::Error::new(
            span,
            "#[capture_errors] logs the `Err` a function returns: it needs a function returning `Result<_, _>`",
        ));
    }
    let name = &function.name;
    let result = ident("__lmlog_result");
    let error = ident("__lmlog_error");
    let payload = ident("__lmlog_panic");
    let run = function.run_body_catching_panics();
    let outcome = function.bind_result(
        &result,
        quote! {
            match #run {
                ::core::result::Result::Ok(returned) => returned,
                ::core::result::Result::Err(#payload) => {
                    ::lmlog::lm_event!(
                        error,
                        "exception",
                        "{exception_type}: {exception_message}",
                        exception_type = "panic",
                        exception_message = ::lmlog::__private::panic_message(&*#payload),
                        sources = ::lmlog::events::MaybeSources(::core::option::Option::None),
                        backtrace = ::lmlog::events::captured_backtrace(),
                        function = #name,
                        module = ::core::module_path!(),
                    );
                    ::std::panic::resume_unwind(#payload)
                }
            }
        },
    );
    Ok(function.with_body(quote! {
        #outcome
        if let ::core::result::Result::Err(#error) = &#result {
            ::lmlog::lm_exception!(#error, function = #name, module = ::core::module_path!());
        }
        #result
    }))
}

/// `#[log_performance(threshold_ms = N, log_all)]`: a `performance_issue`
/// at `warn` when a call takes longer than the threshold, and with
/// `log_all` a `performance_info` at `info` otherwise.
pub(crate) fn log_performance(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut threshold: Option<TokenStream> = None;
    let mut log_all = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("threshold_ms") {
            let lit: Lit = meta.value()?.parse()?;
            let value = match &lit {
                Lit::Int(i) => i.base10_parse::<u64>().map(|v| v as f64)?,
                Lit::Float(f) => f.base10_parse::<f64>()?,
                _ => return Err(syn::Error::new(lit.span(), "threshold_ms is a number of milliseconds, like 100")),
            };
            if !(value.is_finite() && value >= 0.0) {
                return Err(syn::Error::new(lit.span(), "threshold_ms is a number of milliseconds, like 100"));
            }
            threshold = Some(quote_spanned!(lit.span()=> #value));
            Ok(())
        } else if meta.path.is_ident("log_all") {
            log_all = true;
            Ok(())
        } else {
            Err(meta.error("unknown option; #[log_performance] takes `threshold_ms = N` and `log_all`"))
        }
    });
    syn::parse::Parser::parse2(parser, args.clone())?;
    let Some(threshold) = threshold else {
        let span = if args.is_empty() { Span::call_site() } else { args.span() };
        return Err(syn::Error::new(
            span,
            "#[log_performance] needs `threshold_ms = N`, like #[log_performance(threshold_ms = 100)]",
        ));
    };
    let function = Function::parse(item, "log_performance")?;
    let name = &function.name;
    let (start, result, elapsed) = (ident("__lmlog_start"), ident("__lmlog_result"), ident("__lmlog_ms"));
    let outcome = function.bind_result(&result, function.run_body());
    // The clock is read only when an event could be written.
    let wanted = if log_all {
        quote!(::lmlog::__private::level_enabled!(warn) || ::lmlog::__private::level_enabled!(info))
    } else {
        quote!(::lmlog::__private::level_enabled!(warn))
    };
    let otherwise = log_all.then(|| {
        quote! {
            else {
                ::lmlog::lm_event!(
                    info,
                    "performance_info",
                    "{function} took {duration_ms} ms",
                    function = #name,
                    duration_ms = #elapsed,
                    threshold_ms = #threshold,
                    module = ::core::module_path!(),
                );
            }
        }
    });
    Ok(function.with_body(quote! {
        let #start = if #wanted { ::core::option::Option::Some(::std::time::Instant::now()) } else { ::core::option::Option::None };
        #outcome
        if let ::core::option::Option::Some(#start) = #start {
            let #elapsed = #start.elapsed().as_secs_f64() * 1e3;
            if #elapsed > #threshold {
                ::lmlog::lm_event!(
                    warn,
                    "performance_issue",
                    "{function} took {duration_ms} ms, over its {threshold_ms} ms",
                    function = #name,
                    duration_ms = #elapsed,
                    threshold_ms = #threshold,
                    module = ::core::module_path!(),
                );
            } #otherwise
        }
        #result
    }))
}

/// `#[log_calls]`: `function_entry` and `function_exit` (or
/// `function_exit_error` when it returns an `Err`), with the arguments and
/// the result on request.
pub(crate) fn log_calls(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let (mut include_args, mut include_result, mut log_entry, mut log_exit) = (false, false, true, true);
    let mut level = quote!(info);
    let parser = syn::meta::parser(|meta| {
        let flag = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<bool> {
            if meta.input.peek(syn::Token![=]) {
                Ok(meta.value()?.parse::<syn::LitBool>()?.value)
            } else {
                Ok(true)
            }
        };
        if meta.path.is_ident("include_args") {
            include_args = flag(&meta)?;
        } else if meta.path.is_ident("include_result") {
            include_result = flag(&meta)?;
        } else if meta.path.is_ident("log_entry") {
            log_entry = flag(&meta)?;
        } else if meta.path.is_ident("log_exit") {
            log_exit = flag(&meta)?;
        } else if meta.path.is_ident("level") {
            let lit: LitStr = meta.value()?.parse()?;
            let parsed = lmlog_format::Level::parse(&lit.value()).ok_or_else(|| {
                syn::Error::new(lit.span(), "unknown level; expected one of trace, debug, info, warn, error")
            })?;
            level = syn::Ident::new(parsed.as_str(), lit.span()).to_token_stream();
        } else {
            return Err(meta.error(
                "unknown option; #[log_calls] takes `include_args`, `include_result`, `log_entry = false`, `log_exit = false` and `level = \"debug\"`",
            ));
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args)?;
    let function = Function::parse(item, "log_calls")?;
    let name = &function.name;
    let result = ident("__lmlog_result");
    let mut arg_fields = Vec::new();
    if include_args {
        for input in &function.item.sig.inputs {
            let FnArg::Typed(typed) = input else { continue };
            let Pat::Ident(pat) = &*typed.pat else {
                return Err(syn::Error::new(
                    typed.pat.span(),
                    "include_args records arguments by name: bind this one to a name (`point: Point`), or leave include_args out",
                ));
            };
            let arg = &pat.ident;
            let key = syn::Ident::new(&arg.to_string(), arg.span());
            let value = maybe_value(quote!(#arg));
            arg_fields.push(quote_spanned!(arg.span()=> #key = #value,));
        }
    }
    let entry = log_entry.then(|| {
        quote! {
            ::lmlog::lm_event!(#level, "function_entry", function = #name, module = ::core::module_path!(), #(#arg_fields)*);
        }
    });
    let outcome = function.bind_result(&result, function.run_body());
    let exit = log_exit.then(|| {
        let result_field = include_result.then(|| {
            let value = maybe_value(quote!(#result));
            quote!(result = #value,)
        });
        quote! {
            match {
                #[allow(unused_imports)]
                use ::lmlog::__private::returned::{IsResult as _, NotResult as _};
                (&&::lmlog::__private::returned::Returned(&#result)).error_of()
            } {
                ::core::option::Option::Some(error) => {
                    ::lmlog::lm_event!(
                        #level,
                        "function_exit_error",
                        function = #name,
                        module = ::core::module_path!(),
                        error = %error,
                    );
                }
                ::core::option::Option::None => {
                    ::lmlog::lm_event!(#level, "function_exit", function = #name, module = ::core::module_path!(), #result_field);
                }
            }
        }
    });
    Ok(function.with_body(quote! {
        #entry
        #outcome
        #exit
        #result
    }))
}
