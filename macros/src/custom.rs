//! `#[custom_gradient(path)]`: the function body is kept as it is, and `path` supplies the
//! backward rule.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::emit::internal_cotangent;
use crate::parse::Signature;

/// The companion pullback: the primal value from the function, the gradient from `path`, spread
/// out to one entry per parameter.
pub fn pullback_body(item: &syn::ItemFn, sig: &Signature, path: &syn::Path) -> TokenStream {
    let name = &item.sig.ident;
    let names: Vec<&Ident> = sig.params.iter().map(|p| &p.ident).collect();
    let cotangent = internal_cotangent();
    let g = Ident::new("__g", Span::mixed_site());
    let active: Vec<usize> = sig.active_params().map(|(i, _)| i).collect();
    let entries = (0..sig.params.len()).map(|i| match active.iter().position(|&a| a == i) {
        Some(_) if active.len() == 1 => quote!(#g),
        Some(k) => {
            let k = syn::Index::from(k);
            quote!(#g.#k)
        }
        None => quote!(()),
    });
    let span = path.span();
    quote_spanned! {span=>
        let __value = #name(#(::core::clone::Clone::clone(&#names)),*);
        let #g = #path(#(#names,)* #cotangent);
        (__value, (#(#entries,)*))
    }
}
