//! Assembles the items `#[differentiable]` expands to: the original function, its companion
//! pullback, and the public `NAME_grad` / `NAME_vjp`.
//!
//! The companion is a braced struct named like the function, living in the type namespace
//! beside it (`struct energy {}` next to `fn energy`), with an associated `__vjp`. So wherever a
//! caller can name `energy` — through `use`, a module path or another crate — it can also name
//! `energy::__vjp`, which is how calls are differentiated through. `__vjp` returns one gradient
//! per parameter, `()` for those that carry none, so callers need not know which are active.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::ItemFn;

use crate::parse::{has_impl_trait, ResultKind, Signature, NO_GRAD};

/// The function as the user wrote it, minus the `#[no_grad]` markers rustc would not understand.
pub fn original(item: &ItemFn) -> ItemFn {
    let mut item = item.clone();
    for input in item.sig.inputs.iter_mut() {
        match input {
            syn::FnArg::Typed(pt) => pt.attrs.retain(|a| !a.path().is_ident(NO_GRAD)),
            syn::FnArg::Receiver(r) => r.attrs.retain(|a| !a.path().is_ident(NO_GRAD)),
        }
    }
    item
}

/// Parameters as `name: Type`, without patterns, `mut` or attributes.
fn params(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            if ident == "self" {
                return receiver(ident, ty);
            }
            quote!(#ident: #ty)
        })
        .collect()
}

/// A method's receiver in its short form where it has one (`&self`, `self`), as users write it.
fn receiver(ident: &Ident, ty: &syn::Type) -> TokenStream {
    let is_self = |t: &syn::Type| matches!(t, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self"));
    match ty {
        syn::Type::Reference(r) if is_self(&r.elem) => {
            let (lifetime, mutability) = (&r.lifetime, &r.mutability);
            quote!(&#lifetime #mutability #ident)
        }
        t if is_self(t) => quote!(#ident),
        t => quote!(#ident: #t),
    }
}

fn param_names(sig: &Signature) -> Vec<&Ident> {
    sig.params.iter().map(|p| &p.ident).collect()
}

/// The gradient type of the public functions: bare for one active parameter, else a tuple.
fn gradient_type(sig: &Signature) -> TokenStream {
    let tangents: Vec<_> = sig
        .active_params()
        .filter_map(|(_, p)| p.tangent.as_ref())
        .collect();
    match tangents.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many),*)),
    }
}

/// The companion's gradient type: one entry per parameter.
fn full_gradient_type(sig: &Signature) -> TokenStream {
    let entries = sig.params.iter().map(|p| match &p.tangent {
        Some(t) => quote!(#t),
        None => quote!(()),
    });
    quote!((#(#entries,)*))
}

/// Picks the active entries out of the companion's full gradient tuple `g`.
fn select_active(sig: &Signature, g: &Ident) -> TokenStream {
    let picks: Vec<TokenStream> = sig
        .active_params()
        .map(|(i, _)| {
            let i = syn::Index::from(i);
            quote!(#g.#i)
        })
        .collect();
    match picks.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    }
}

/// A name for the public cotangent parameter that no user parameter already has.
fn cotangent_name(sig: &Signature) -> Ident {
    let taken = |name: &str| sig.params.iter().any(|p| p.ident == name);
    let name = if taken("cotangent") {
        "cotangent_"
    } else {
        "cotangent"
    };
    Ident::new(name, Span::call_site())
}

pub struct Expansion<'a> {
    pub item: &'a ItemFn,
    pub sig: &'a Signature,
}

impl Expansion<'_> {
    fn name(&self) -> &Ident {
        &self.item.sig.ident
    }

    /// `::<T, N>`: the type and const parameters, passed on explicitly, since a parameter the
    /// arguments do not mention (`fn f<const N: usize>(x: f64)`) cannot be inferred. Lifetimes
    /// stay inferred, and with `impl Trait` parameters no explicit arguments are allowed.
    fn turbofish(&self) -> TokenStream {
        let generics = &self.item.sig.generics;
        let args: Vec<&Ident> = generics
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Type(t) => Some(&t.ident),
                syn::GenericParam::Const(c) => Some(&c.ident),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        if args.is_empty() || self.sig.params.iter().any(|p| has_impl_trait(&p.ty)) {
            return TokenStream::new();
        }
        quote!(::<#(#args),*>)
    }

    /// Everything but the pullback's body.
    pub fn items(&self, pullback_body: TokenStream, errors: TokenStream) -> TokenStream {
        let item = original(self.item);
        let vis = &self.item.vis;
        let name = self.name();
        let (impl_generics, _, where_clause) = self.item.sig.generics.split_for_impl();
        let generics = &self.item.sig.generics;
        let params = params(self.sig);
        let names = param_names(self.sig);
        let result = &self.sig.result_ty;
        let full = full_gradient_type(self.sig);
        let gradient = gradient_type(self.sig);
        let g = Ident::new("__g", Span::mixed_site());
        let value = Ident::new("__value", Span::mixed_site());
        let internal_cotangent = Ident::new("__cotangent", Span::mixed_site());
        let picked = select_active(self.sig, &g);
        let cotangent = cotangent_name(self.sig);
        let span = name.span();
        let _ = impl_generics;
        // The gradient counts as a use of the function, so calling only `NAME_grad` does not
        // leave `NAME` reported as dead code. (A function with `impl Trait` parameters cannot be
        // named without calling it.)
        let turbofish = self.turbofish();
        let in_impl = self.sig.in_impl;
        // Free functions keep their pullback in the companion type `NAME`; an associated
        // function keeps it beside itself, as `Self::__NAME_pullback`.
        let (callee, own_path, link) = if in_impl {
            let pullback = method_pullback_name(name);
            (
                quote!(Self::#pullback),
                quote!(Self::#name),
                format!("Self::{name}"),
            )
        } else {
            (quote!(#name::__vjp), quote!(#name), format!("fn@{name}"))
        };
        let uses_original = (!self.sig.params.iter().any(|p| has_impl_trait(&p.ty)))
            .then(|| quote!(let _ = #own_path #turbofish;));
        // A parameter in rows of growable rows has nabla's own error (`row_types::row_container`).
        let carries_gradient = self
            .sig
            .active_params()
            .filter(|(_, p)| crate::row_types::row_container(&p.ty).is_none())
            .map(|(_, p)| {
                let (at, value) = crate::parse::parameter_referent(p);
                quote_spanned!(at=> ::nabla::__private::parameter_carries_gradient(#value);)
            });
        let lints = lint_attributes(self.item);

        let active_names: Vec<String> = self
            .sig
            .active_params()
            .map(|(_, p)| format!("`{}`", p.ident))
            .collect();
        let wrt = active_names.join(", ");
        let shape = if active_names.len() == 1 {
            "the gradient, shaped like the parameter".to_string()
        } else {
            "a tuple of gradients in parameter order, each shaped like its parameter".to_string()
        };

        let grad_fn = match self.sig.result {
            ResultKind::Scalar | ResultKind::Untold => {
                // For a result whose type the macro cannot tell, `NAME_grad` exists, and is
                // usable where the type is a float: the bound says so at a call, and holds or
                // not without making the function itself an error (`for<'a>` keeps rustc from
                // judging a bound on a concrete type at the definition).
                let where_clause = match self.sig.result {
                    ResultKind::Untold => {
                        let predicate =
                            quote!(for<'__nabla> #result: ::nabla::__private::FloatResult);
                        match where_clause {
                            Some(w) if !w.predicates.is_empty() => {
                                let predicates = w.predicates.iter();
                                quote!(where #(#predicates,)* #predicate)
                            }
                            _ => quote!(where #predicate),
                        }
                    }
                    _ => quote!(#where_clause),
                };
                let grad_name = format_ident!("{}_grad", name, span = span);
                let mut doc = format!(
                    " Value and gradient of [`{name}`]({link}) with respect to {wrt}, generated by `#[differentiable]`.\n\n Returns `(value, gradient)`: `value` is what `{name}` returns and `gradient` is {shape}."
                );
                if matches!(self.sig.result, ResultKind::Untold) {
                    doc.push_str("\n\n Callable only where the result type is a float (an alias of `f64`, say): its name does not tell. For any other result, call the `_vjp`.");
                }
                quote_spanned! {span=>
                    #[doc = #doc]
                    #[must_use = "the gradient is computed but never used: apply it, e.g. with `nabla::Adam::step`"]
                    #[allow(dead_code, clippy::type_complexity, clippy::duplicated_attributes)]
                    #(#lints)*
                    #[inline]
                    #vis fn #grad_name #generics(#(#params),*) -> (#result, #gradient) #where_clause {
                        let (#value, #g) = #callee #turbofish(#(#names,)* <#result as ::nabla::__private::ScalarResult>::ONE);
                        (#value, #picked)
                    }
                }
            }
            ResultKind::Tensor => TokenStream::new(),
        };

        let vjp_name = format_ident!("{}_vjp", name, span = span);
        // The cotangent's shape, checked against the result's (see the runtime's `cotangent`).
        let shape = Ident::new("__cotangent_shape", Span::mixed_site());
        let name_text = name.unraw().to_string();
        // With errors, the body is never run, and a result type that cannot carry a gradient
        // is reported once, by the errors, not again by the shape check's bound.
        let (shape_taken, shape_checked) = if errors.is_empty() {
            (
                quote!(let #shape = ::nabla::__private::cotangent_shape(&#cotangent);),
                quote!(::nabla::__private::check_cotangent_shape(&#value, &#shape, #name_text);),
            )
        } else {
            (TokenStream::new(), TokenStream::new())
        };
        let vjp_doc = format!(
            " Value and vector-Jacobian product of [`{name}`]({link}) with respect to {wrt}, generated by `#[differentiable]`.\n\n Returns `(value, gradient)`, where `gradient` is {shape}, of `<{cotangent}, {name}(..)>`.\n\n # Panics\n\n If `{cotangent}` does not have the shape of the result: another length of a `Vec` or vector, other dimensions of a matrix."
        );

        let pullback_attrs = quote! {
            #[doc(hidden)]
            #[inline]
            #[allow(dead_code, unused_variables, unused_mut, unused_assignments, unused_parens, unused_braces, non_snake_case, unreachable_code, clippy::all, clippy::pedantic, clippy::duplicated_attributes)]
        };
        let (companion, errors) = if in_impl {
            // Items cannot stand beside an associated function, so its errors go inside its
            // pullback.
            let pullback = method_pullback_name(name);
            let companion = quote! {
                /// The pullback: `(value, one gradient per parameter)`, `()` for parameters that carry none.
                #pullback_attrs
                #(#lints)*
                #vis fn #pullback #generics(#(#params,)* #internal_cotangent: #result) -> (#result, #full) #where_clause {
                    #errors
                    #uses_original
                    #(#carries_gradient)*
                    #pullback_body
                }
            };
            (companion, TokenStream::new())
        } else {
            let companion = quote! {
                #[doc(hidden)]
                #[allow(non_camel_case_types, dead_code, clippy::duplicated_attributes)]
                #(#lints)*
                #vis struct #name {}

                #(#lints)*
                impl #name {
                    /// The pullback: `(value, one gradient per parameter)`, `()` for parameters that carry none.
                    #pullback_attrs
                    #vis fn __vjp #generics(#(#params,)* #internal_cotangent: #result) -> (#result, #full) #where_clause {
                        #uses_original
                        #(#carries_gradient)*
                        #pullback_body
                    }
                }
            };
            (companion, errors)
        };

        quote! {
            #item

            #companion

            #grad_fn

            #[doc = #vjp_doc]
            #[must_use = "the gradient is computed but never used"]
            #[allow(dead_code, clippy::type_complexity, clippy::duplicated_attributes)]
            #(#lints)*
            #[inline]
            #[track_caller]
            #vis fn #vjp_name #generics(#(#params,)* #cotangent: #result) -> (#result, #gradient) #where_clause {
                #shape_taken
                let (#value, #g) = #callee #turbofish(#(#names,)* #cotangent);
                #shape_checked
                (#value, #picked)
            }

            #errors
        }
    }
}

/// The pullback of an associated function `NAME`: `Self::__NAME_pullback`, which callers reach as
/// `Type::__NAME_pullback(..)` or `value.__NAME_pullback(..)`.
pub fn method_pullback_name(name: &Ident) -> Ident {
    format_ident!("__{}_pullback", name.unraw(), span = name.span())
}

/// The pullback an associated-function call `Type::f(..)` or `Self::f(..)` is differentiated
/// through, `Type::__f_pullback`; `None` for a free function's path (`f`, `module::f`). Types are
/// told from modules by Rust's naming convention: a type's name starts with a capital letter.
pub fn associated_pullback(path: &syn::Path) -> Option<syn::Path> {
    let n = path.segments.len();
    if n < 2 {
        return None;
    }
    let owner = path.segments[n - 2].ident.to_string();
    if !owner.starts_with(|c: char| c.is_uppercase()) {
        return None;
    }
    let mut pullback = path.clone();
    let last = pullback.segments.last_mut()?;
    last.ident = method_pullback_name(&last.ident);
    Some(pullback)
}

/// The internal name of the companion's cotangent parameter.
pub fn internal_cotangent() -> Ident {
    Ident::new("__cotangent", Span::mixed_site())
}

/// The lint and `cfg` attributes of the user's function, which apply to the generated functions
/// too (`#[allow(clippy::too_many_arguments)]` on `f` is wanted on `f_grad` as well).
fn lint_attributes(item: &ItemFn) -> Vec<&syn::Attribute> {
    item.attrs
        .iter()
        .filter(|a| {
            ["allow", "warn", "deny", "expect", "cfg", "cfg_attr"]
                .iter()
                .any(|name| a.path().is_ident(name))
        })
        .collect()
}
