//! `#[derive(LogValue)]`: the postcard (serde data model) encoding of a
//! struct or enum.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attrs::Encoding;
use crate::derive_event::{encode_call, encode_named, field_desc, named_fields, type_desc};
use crate::{attrs, util};

/// The written fields of one struct or variant body.
enum Shape<'a> {
    /// No fields.
    Unit,
    /// Exactly one unnamed field (and it is written).
    Newtype(Unnamed<'a>),
    /// Unnamed fields; `None` marks a skipped one.
    Tuple(Vec<Option<Unnamed<'a>>>),
    /// Named fields, skipped ones left out.
    Named(Vec<crate::derive_event::NamedField<'a>>),
}

/// A written unnamed field and how it is written.
#[derive(Clone)]
struct Unnamed<'a> {
    ty: &'a Type,
    encoding: Encoding,
}

impl<'a> Shape<'a> {
    fn of(fields: &'a Fields) -> syn::Result<Shape<'a>> {
        Ok(match fields {
            Fields::Unit => Shape::Unit,
            Fields::Named(named) => {
                let fields = named_fields(&named.named)?;
                if let Some(metric) = fields.iter().find_map(|f| f.metric.as_ref()) {
                    return Err(syn::Error::new(
                        metric.span,
                        "`metric` marks a field of an event (derive(LogEvent)), not of a value nested in one",
                    ));
                }
                Shape::Named(fields)
            }
            Fields::Unnamed(unnamed) => {
                let mut kept = Vec::new();
                for field in &unnamed.unnamed {
                    let attrs = attrs::field_attrs(&field.attrs, false)?;
                    kept.push(if attrs.skip {
                        None
                    } else {
                        Some(Unnamed { ty: &field.ty, encoding: attrs.encoding })
                    });
                }
                match kept.as_slice() {
                    [Some(only)] => Shape::Newtype(only.clone()),
                    _ => Shape::Tuple(kept),
                }
            }
        })
    }

    /// Types of the fields whose values are written with their own
    /// `LogValue` impl.
    fn written_types(&self) -> Vec<&'a Type> {
        let by_value = |e: &Encoding| matches!(e, Encoding::Value);
        match self {
            Shape::Unit => Vec::new(),
            Shape::Newtype(field) => [field].into_iter().filter(|f| by_value(&f.encoding)).map(|f| f.ty).collect(),
            Shape::Tuple(fields) => fields.iter().flatten().filter(|f| by_value(&f.encoding)).map(|f| f.ty).collect(),
            Shape::Named(fields) => {
                fields.iter().filter(|f| !f.redacted && by_value(&f.encoding)).map(|f| f.ty).collect()
            }
        }
    }

    /// Whether any field's value is written.
    fn writes_any(&self) -> bool {
        match self {
            Shape::Unit => false,
            Shape::Newtype(_) => true,
            Shape::Tuple(fields) => fields.iter().any(Option::is_some),
            Shape::Named(fields) => fields.iter().any(|f| !f.redacted),
        }
    }

    /// `[TypeDesc]` elements of a tuple.
    fn tuple_elems(fields: &[Option<Unnamed<'_>>]) -> Vec<TokenStream> {
        fields
            .iter()
            .flatten()
            .map(|f| {
                let desc = type_desc(f.ty, &f.encoding);
                quote!(*#desc)
            })
            .collect()
    }
}

/// The `LogValue` impl for a struct.
fn struct_body(name: &LitStr, shape: &Shape<'_>, enc: &Ident) -> (TokenStream, Vec<TokenStream>) {
    match shape {
        Shape::Unit => (quote!(&::lmlog::__private::TypeDesc::Unit), Vec::new()),
        Shape::Newtype(field) => {
            // A newtype is written as its content (serde's newtype struct).
            let encode = encode_call(quote!(&self.0), field.ty, &field.encoding, enc);
            (type_desc(field.ty, &field.encoding), vec![encode])
        }
        Shape::Tuple(fields) => {
            let elems = Shape::tuple_elems(fields);
            let encodes = fields
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.as_ref().map(|f| (syn::Index::from(i), f)))
                .map(|(i, f)| encode_call(quote!(&self.#i), f.ty, &f.encoding, enc))
                .collect();
            (quote!(&::lmlog::__private::TypeDesc::Tuple(&[#(#elems),*])), encodes)
        }
        Shape::Named(fields) => {
            let descs = fields.iter().map(field_desc);
            let encodes = encode_named(
                fields,
                |_, f| {
                    let ident = f.ident;
                    quote!(&self.#ident)
                },
                enc,
            );
            (quote!(&::lmlog::__private::TypeDesc::Struct(#name, &[#(#descs),*])), encodes)
        }
    }
}

/// The `VariantDesc`, the match arm and the written field types of one enum
/// variant.
fn variant<'a>(
    index: usize,
    variant: &'a syn::Variant,
    enc: &Ident,
) -> syn::Result<(TokenStream, TokenStream, Vec<&'a Type>)> {
    let attrs = attrs::variant_attrs(&variant.attrs)?;
    let name = attrs.rename.unwrap_or_else(|| LitStr::new(&variant.ident.unraw().to_string(), variant.ident.span()));
    let shape = Shape::of(&variant.fields)?;
    let ident = &variant.ident;
    let index = Literal::u64_unsuffixed(index as u64);
    let write_index = quote!(#enc.write_varint(#index););
    let binding = |i: usize| format_ident!("__lmlog_{}", i);
    let (kind, arm) = match &shape {
        Shape::Unit => (quote!(Unit), quote!(Self::#ident => { #write_index })),
        Shape::Newtype(field) => {
            let b = binding(0);
            let desc = type_desc(field.ty, &field.encoding);
            let encode = encode_call(quote!(#b), field.ty, &field.encoding, enc);
            (quote!(Newtype(#desc)), quote!(Self::#ident(#b) => { #write_index #encode }))
        }
        Shape::Tuple(fields) => {
            let elems = Shape::tuple_elems(fields);
            let mut patterns = Vec::new();
            let mut encodes = Vec::new();
            for (i, field) in fields.iter().enumerate() {
                match field {
                    Some(field) => {
                        let b = binding(i);
                        encodes.push(encode_call(quote!(#b), field.ty, &field.encoding, enc));
                        patterns.push(quote!(#b));
                    }
                    None => patterns.push(quote!(_)),
                }
            }
            (quote!(Tuple(&[#(#elems),*])), quote!(Self::#ident(#(#patterns),*) => { #write_index #(#encodes)* }))
        }
        Shape::Named(fields) => {
            let descs = fields.iter().map(field_desc);
            let patterns = fields.iter().enumerate().map(|(i, f)| {
                let (member, b) = (f.ident, binding(i));
                quote!(#member: #b)
            });
            let encodes = encode_named(
                fields,
                |i, _| {
                    let b = binding(i);
                    quote!(#b)
                },
                enc,
            );
            (
                quote!(Struct(&[#(#descs),*])),
                quote!(Self::#ident { #(#patterns,)* .. } => { #write_index #(#encodes)* }),
            )
        }
    };
    let desc =
        quote!(::lmlog::__private::VariantDesc { name: #name, kind: ::lmlog::__private::VariantKindDesc::#kind });
    Ok((desc, arm, shape.written_types()))
}

/// Expands `#[derive(LogValue)]`.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    // Shared with `LogEvent`: validated here too, so a type deriving both
    // sees one set of rules.
    attrs::container_attrs(&input.attrs)?;
    let ident = &input.ident;
    let type_name = LitStr::new(&ident.unraw().to_string(), ident.span());
    let enc = Ident::new("enc", Span::call_site());
    let (desc, body, written, writes): (TokenStream, TokenStream, Vec<&Type>, bool) = match &input.data {
        Data::Struct(data) => {
            let shape = Shape::of(&data.fields)?;
            let (desc, encodes) = struct_body(&type_name, &shape, &enc);
            (desc, quote!(#(#encodes)*), shape.written_types(), shape.writes_any())
        }
        Data::Enum(data) => {
            let mut descs = Vec::new();
            let mut arms = Vec::new();
            let mut written = Vec::new();
            for (i, v) in data.variants.iter().enumerate() {
                let (desc, arm, types) = variant(i, v, &enc)?;
                descs.push(desc);
                arms.push(arm);
                written.extend(types);
            }
            let body = if arms.is_empty() { quote!(match *self {}) } else { quote!(match self { #(#arms)* }) };
            (quote!(&::lmlog::__private::TypeDesc::Enum(#type_name, &[#(#descs),*])), body, written, !arms.is_empty())
        }
        Data::Union(data) => {
            return Err(syn::Error::new(data.union_token.span, "LogValue cannot be derived for unions"));
        }
    };
    let enc_param = if writes { enc } else { Ident::new("_enc", Span::call_site()) };
    let generics = util::with_log_value_bounds(&input.generics, written);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::lmlog::__private::LogValue for #ident #ty_generics #where_clause {
            const TYPE: &'static ::lmlog::__private::TypeDesc = #desc;

            #[inline]
            fn encode(&self, #enc_param: &mut ::lmlog::__private::Encoder<'_>) {
                #body
            }
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

    #[test]
    fn structs() {
        let named = expand_str(parse_quote! {
            struct Point<T> { x: T, #[lmlog(rename = "why")] y: i32, #[lmlog(skip)] z: Hidden, #[lmlog(redact)] w: Secret }
        });
        assert!(named.contains("TypeDesc :: Struct (\"Point\" , & ["), "{named}");
        assert!(named.contains("name : \"why\""), "{named}");
        assert!(named.contains("where T : :: lmlog :: __private :: LogValue"), "{named}");
        assert!(!named.contains("Hidden") && !named.contains("Secret"), "{named}");
        assert!(named.contains("let _ = & self . w ;"), "{named}");

        let newtype = expand_str(parse_quote!(
            struct Id(u64);
        ));
        assert!(newtype.contains("const TYPE : & 'static :: lmlog :: __private :: TypeDesc = < u64 as"), "{newtype}");
        assert!(newtype.contains("encode (& self . 0 , enc)"), "{newtype}");

        let tuple = expand_str(parse_quote!(
            struct Pair(u8, #[lmlog(skip)] Hidden, String);
        ));
        assert!(tuple.contains("TypeDesc :: Tuple (& [* < u8 as"), "{tuple}");
        assert!(tuple.contains("encode (& self . 2 , enc)") && !tuple.contains("Hidden"), "{tuple}");

        let unit = expand_str(parse_quote!(
            struct Marker;
        ));
        assert!(unit.contains("TypeDesc :: Unit") && unit.contains("_enc"), "{unit}");
    }

    #[test]
    fn enums() {
        let out = expand_str(parse_quote! {
            enum Payment<'a> {
                Cash,
                #[lmlog(rename = "card")]
                Card(&'a str),
                Split(u32, #[lmlog(skip)] Hidden, u32),
                Wire { iban: &'a str, #[lmlog(redact)] pin: u16, #[lmlog(skip)] note: Hidden },
            }
        });
        assert!(out.contains("TypeDesc :: Enum (\"Payment\""), "{out}");
        assert!(out.contains("name : \"Cash\" , kind : :: lmlog :: __private :: VariantKindDesc :: Unit"), "{out}");
        assert!(out.contains("name : \"card\" , kind : :: lmlog :: __private :: VariantKindDesc :: Newtype"), "{out}");
        assert!(out.contains("Self :: Cash => { enc . write_varint (0) ; }"), "{out}");
        assert!(out.contains("Self :: Split (__lmlog_0 , _ , __lmlog_2) => { enc . write_varint (2) ;"), "{out}");
        assert!(
            out.contains("Self :: Wire { iban : __lmlog_0 , pin : __lmlog_1 , .. } => { enc . write_varint (3) ;"),
            "{out}"
        );
        assert!(out.contains("let _ = __lmlog_1 ;"), "{out}");
        assert!(!out.contains("Hidden"), "{out}");

        let empty = expand_str(parse_quote!(
            enum Never {}
        ));
        assert!(empty.contains("match * self { }") && empty.contains("_enc"), "{empty}");
    }

    #[test]
    fn errors() {
        let err = |input: DeriveInput| expand(&input).expect_err("an error").to_string();
        assert_eq!(
            err(parse_quote!(
                struct P(#[lmlog(redact)] u8);
            )),
            "`redact` applies to named fields only"
        );
        assert_eq!(
            err(parse_quote!(
                enum E {
                    #[lmlog(skip)]
                    A,
                }
            )),
            "unknown lmlog variant attribute `skip`; expected `rename`"
        );
        assert_eq!(
            err(parse_quote!(
                struct S {
                    a: u8,
                    #[lmlog(rename = "a")]
                    b: u8,
                }
            )),
            "duplicate field name `a`"
        );
        assert_eq!(err(parse_quote!(union U { a: u8 })), "LogValue cannot be derived for unions");
    }
}
