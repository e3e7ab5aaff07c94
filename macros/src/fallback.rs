//! What the macro emits when the function has errors: the original function and every generated
//! item with its full signature, so code that calls `f`, `f_grad` or `f_vjp` type-checks and the
//! user sees only the real errors.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::emit::Expansion;

/// The items, with `errors` and an unreachable pullback. The pullback still names the companion
/// of every callee that would be differentiated through (`callees`), so a callee that is not
/// `#[differentiable]` is reported in the same build as the other errors.
pub fn items(expansion: &Expansion<'_>, errors: TokenStream, callees: &[syn::Path]) -> TokenStream {
    // An associated function's pullback is a function, not a type, and cannot be named without
    // its generic arguments: those calls are left for the build after the errors are fixed. So
    // is a function defined inside the body, which is an error of its own and seen only there.
    let local = local_functions(&expansion.item.block);
    let companions = callees
        .iter()
        .filter(|path| crate::emit::associated_pullback(path).is_none())
        .filter(|path| !path.get_ident().is_some_and(|i| local.contains(i)))
        .map(|path| {
            let mut path = path.clone();
            if let Some(last) = path.segments.last_mut() {
                last.arguments = syn::PathArguments::None;
            }
            quote_spanned!(path.span()=> let _: #path;)
        });
    // The errors stand inside a constant, not at item level: rustc stops after expanding an
    // item-level `compile_error!`, before it would resolve the callees named above.
    expansion.items(
        quote! {
            #(#companions)*
            ::core::unreachable!("nabla: this function did not compile")
        },
        quote!(const _: () = { #errors };),
    )
}

/// The names of the functions defined inside `block`, at any depth.
fn local_functions(block: &syn::Block) -> Vec<syn::Ident> {
    struct Functions(Vec<syn::Ident>);
    impl<'ast> syn::visit::Visit<'ast> for Functions {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            self.0.push(f.sig.ident.clone());
            syn::visit::visit_item_fn(self, f);
        }
    }
    let mut found = Functions(Vec::new());
    syn::visit::Visit::visit_block(&mut found, block);
    found.0
}
