//! Procedural macros of [nabla](https://docs.rs/nabla): `#[differentiable]`,
//! `#[custom_gradient]` and `#[derive(Parameters)]`. Use them through the `nabla` crate, which
//! documents them.
//!
//! The pipeline, one stage per module: `parse` reads the signature, `lower` turns the body
//! into the three-address `ir`, `activity` finds what carries gradient, `check` rejects
//! what would silently lose it, `reverse` generates the forward and reverse sweeps, and
//! `emit` (or `fallback`, on errors) assembles the items.

mod analysis;
mod cfg;
mod check;
mod closure;
mod custom;
mod derive;
mod emit;
mod errors;
mod fallback;
mod from_iterator;
mod gating;
mod in_place;
mod ir;
mod literal_loops;
mod lower;
mod map_fusion;
mod methods;
mod parse;
mod parts;
mod quiet_spans;
mod rename;
mod reverse;
mod row_types;
mod spans;
mod syntax;
mod zip_map;

#[cfg(test)]
mod robustness;

use proc_macro::TokenStream;

/// Generates `NAME_grad` and `NAME_vjp` beside a function; see the `nabla` crate.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), Mode::Differentiable).into()
}

/// Makes a function differentiable with a hand-written pullback; see the `nabla` crate.
#[proc_macro_attribute]
pub fn custom_gradient(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), Mode::CustomGradient).into()
}

/// Makes a struct a model parameter whose gradient is a value of the same struct; see the
/// `nabla` crate.
#[proc_macro_derive(Parameters, attributes(no_grad))]
pub fn derive_parameters(item: TokenStream) -> TokenStream {
    derive::expand(item.into()).into()
}

/// Expands either attribute, on a stack of its own. syn parses nested expressions recursively, and
/// code that rustc compiles (700 nested parentheses, a chain of 1,000 method calls) must not
/// overflow the compiler's stack once the attribute is added. The segment is reserved, not
/// touched: its pages cost nothing until used.
fn expand(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    mode: Mode,
) -> proc_macro2::TokenStream {
    stacker::grow(EXPANSION_STACK, || expand_here(attr, item, mode))
}

/// The stack the expansion runs on (see [`expand`]).
const EXPANSION_STACK: usize = 256 * 1024 * 1024;

enum Mode {
    Differentiable,
    CustomGradient,
}

fn expand_here(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    mode: Mode,
) -> proc_macro2::TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                "#[differentiable] and #[custom_gradient] apply to free functions (`fn name(..) -> f64 { .. }`)",
            )
            .to_compile_error();
            return quote::quote!(#item #error);
        }
    };
    if matches!(mode, Mode::Differentiable) {
        if let Some(configured) = cfg::split(&func, &attr) {
            return configured;
        }
    }
    if let Some(error) = parse::primitive_name(&func) {
        // The companion type would hide the primitive type from the whole module: emit the
        // function alone.
        let original = emit::original(&func);
        let error = error.to_compile_error();
        return quote::quote!(#original #error);
    }
    let mut errors = errors::Errors::default();
    let sig = parse::signature(&func, &mut errors);
    let expansion = emit::Expansion {
        item: &func,
        sig: &sig,
    };
    match mode {
        Mode::Differentiable => {
            if !attr.is_empty() {
                errors.push_plain(
                    syn::spanned::Spanned::span(&attr),
                    "#[differentiable] takes no arguments",
                );
            }
            // `const` items at the top of the body stand before the sweeps, which read them.
            let (mut lowered, consts) = hoist_consts(&func);
            map_fusion::fuse_maps(&mut lowered.block);
            let body = lower::lower(&lowered, &sig, &mut errors);
            let activity = analysis::activity::analyze(&body, &sig);
            let callees = check::check(&body, &sig, &activity, &mut errors);
            closure::check_closures(&body, &activity, &mut errors);
            if !errors.is_empty() {
                return fallback::items(&expansion, errors.into_compile_errors(), &callees);
            }
            let sweeps = reverse::generate(&body, &sig, &activity, &emit::internal_cotangent());
            let value = &sweeps.value;
            let gradients = &sweeps.gradients;
            let sweep_body = &quiet_spans::quiet_runtime_paths(sweeps.body);
            // `NABLA_DEBUG_EXPAND=1 cargo build` shows what each function becomes.
            if std::env::var_os("NABLA_DEBUG_EXPAND").is_some() {
                eprintln!("// #[differentiable] {}:\n{}\n", func.sig.ident, sweep_body);
            }
            expansion.items(
                quote::quote! {
                    #(#consts)*
                    #sweep_body
                    (#value, (#(#gradients,)*))
                },
                proc_macro2::TokenStream::new(),
            )
        }
        Mode::CustomGradient => {
            let path = match parse::custom_gradient_path(attr) {
                Ok(path) => path,
                Err(error) => {
                    errors.push_error(error);
                    return fallback::items(&expansion, errors.into_compile_errors(), &[]);
                }
            };
            if !errors.is_empty() {
                return fallback::items(&expansion, errors.into_compile_errors(), &[]);
            }
            expansion.items(
                custom::pullback_body(&func, &sig, &path),
                proc_macro2::TokenStream::new(),
            )
        }
    }
}

/// The function without the `const` items among its top-level statements, and those items. A
/// `const` reads no local, so it may stand anywhere in the block it is declared in; the
/// generated sweeps read it where the function did. Items in nested blocks stay, and the
/// lowering names them as unsupported: hoisted, one could hide a same-named item the rest of
/// the function reads.
fn hoist_consts(func: &syn::ItemFn) -> (syn::ItemFn, Vec<syn::ItemConst>) {
    let mut func = func.clone();
    let mut consts = Vec::new();
    func.block.stmts.retain(|stmt| match stmt {
        syn::Stmt::Item(syn::Item::Const(c)) => {
            consts.push(c.clone());
            false
        }
        _ => true,
    });
    (func, consts)
}
