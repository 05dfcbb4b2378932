//! The per-call-site sampling options, `sample` and `rate_limit`, shared by
//! `lm_event!` (`sample: 0.1`) and the derive (`#[lmlog(sample = 0.1)]`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Lit;

/// The keep threshold's scale: a probability `p` keeps a draw of 32 random
/// bits when it is below `p · 2³²` (the runtime's `Sampling`).
const SCALE: f64 = (1u64 << 32) as f64;

/// A call site's sampling options, checked at compile time.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct SamplingOptions {
    /// `sample`: the probability of keeping an event, in (0, 1].
    pub sample: Option<f64>,
    /// `rate_limit`: events kept per second at most, at least 1.
    pub rate_limit: Option<u32>,
}

/// What `name` expects, for errors.
pub(crate) const OPTION_NAMES: &str = "`sample` or `rate_limit`";

impl SamplingOptions {
    /// Sets option `name` from `lit`; errors point at the name (unknown,
    /// duplicate) or at the literal (out of range).
    pub(crate) fn set(&mut self, name: &str, name_span: Span, lit: &Lit) -> syn::Result<()> {
        match name {
            "sample" => {
                if self.sample.is_some() {
                    return Err(syn::Error::new(name_span, "duplicate option `sample`"));
                }
                self.sample = Some(probability(lit)?);
            }
            "rate_limit" => {
                if self.rate_limit.is_some() {
                    return Err(syn::Error::new(name_span, "duplicate option `rate_limit`"));
                }
                self.rate_limit = Some(rate(lit)?);
            }
            _ => return Err(syn::Error::new(name_span, format!("unknown option `{name}`; expected {OPTION_NAMES}"))),
        }
        Ok(())
    }

    /// The `const SAMPLING` item of a `LogEvent` impl; nothing when no
    /// option is set, so the event's call sites compile to what they would
    /// without sampling.
    pub(crate) fn sampling_const(&self) -> TokenStream {
        if self.sample.is_none() && self.rate_limit.is_none() {
            return TokenStream::new();
        }
        let keep = self.sample.map_or(1u64 << 32, |p| (p * SCALE).round() as u64).max(1);
        let rate = self.rate_limit.unwrap_or(0);
        quote! {
            const SAMPLING: ::lmlog::__private::Sampling = ::lmlog::__private::Sampling::new(#keep, #rate);
        }
    }
}

fn probability(lit: &Lit) -> syn::Result<f64> {
    let value = match lit {
        Lit::Float(f) => f.base10_parse::<f64>()?,
        Lit::Int(i) => i.base10_parse::<f64>()?,
        _ => return Err(syn::Error::new(lit.span(), "`sample` takes a probability, a number like 0.1")),
    };
    if !(value > 0.0 && value <= 1.0) {
        return Err(syn::Error::new(
            lit.span(),
            format!("`sample` is the probability of keeping an event: greater than 0 and at most 1, not {value}"),
        ));
    }
    Ok(value)
}

fn rate(lit: &Lit) -> syn::Result<u32> {
    let Lit::Int(i) = lit else {
        return Err(syn::Error::new(lit.span(), "`rate_limit` takes a whole number of events per second, like 100"));
    };
    match i.base10_parse::<u32>() {
        Ok(0) => Err(syn::Error::new(lit.span(), "`rate_limit` must be at least 1 event per second")),
        Ok(rate) => Ok(rate),
        Err(_) => Err(syn::Error::new(lit.span(), format!("`rate_limit` must be at most {}", u32::MAX))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn set(name: &str, lit: Lit) -> syn::Result<SamplingOptions> {
        let mut options = SamplingOptions::default();
        options.set(name, Span::call_site(), &lit).map(|()| options)
    }

    #[test]
    fn values_in_range_set_the_threshold() {
        let o = set("sample", parse_quote!(0.1)).unwrap();
        assert_eq!(o.sample, Some(0.1));
        let out = o.sampling_const().to_string();
        assert!(out.contains("Sampling :: new (429496730u64 , 0u32)"), "{out}");
        assert_eq!(set("sample", parse_quote!(1)).unwrap().sample, Some(1.0));
        let out = set("rate_limit", parse_quote!(100)).unwrap().sampling_const().to_string();
        assert!(out.contains("Sampling :: new (4294967296u64 , 100u32)"), "{out}");
        assert!(SamplingOptions::default().sampling_const().is_empty());
    }

    #[test]
    fn values_out_of_range_are_errors() {
        let err = |name, lit| set(name, lit).unwrap_err().to_string();
        assert!(err("sample", parse_quote!(0.0)).contains("greater than 0 and at most 1, not 0"));
        assert!(err("sample", parse_quote!(1.5)).contains("not 1.5"));
        assert!(err("sample", parse_quote!(2)).contains("not 2"));
        assert!(err("sample", parse_quote!("x")).contains("takes a probability"));
        assert_eq!(err("rate_limit", parse_quote!(0)), "`rate_limit` must be at least 1 event per second");
        assert!(err("rate_limit", parse_quote!(0.5)).contains("whole number"));
        assert!(err("rate_limit", parse_quote!(5000000000)).contains("at most 4294967295"));
        assert_eq!(err("smaple", parse_quote!(1)), "unknown option `smaple`; expected `sample` or `rate_limit`");
        let mut o = set("sample", parse_quote!(0.5)).unwrap();
        let e = o.set("sample", Span::call_site(), &parse_quote!(0.5)).unwrap_err();
        assert_eq!(e.to_string(), "duplicate option `sample`");
    }
}
