//! What the macro emits when the function has errors: the original function and every generated
//! item with its full signature, so code that calls `f`, `f_grad` or `f_vjp` type-checks and the
//! user sees only the real errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::Expansion;

pub fn items(expansion: &Expansion<'_>, errors: TokenStream) -> TokenStream {
    expansion.items(
        quote!(::core::unreachable!("nabla: this function did not compile")),
        errors,
    )
}
