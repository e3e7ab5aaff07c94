//! Chained maps as one: `xs.map(|a| f).map(|b| g)` is `xs.map(|a| { let b = f; g })`.
//!
//! An iterator's `map` runs its closure on each element as the next adaptor asks for it, so
//! the two closures run one after the other on every element, in order: the closure that runs
//! both is the same computation. Lowering understands one `map` before a sum, a fold or a
//! `collect`; with this rewrite, any number of them.
//!
//! Closures are fused only where the result means what the chain meant:
//! - neither returns early (`return`, `?`), which would leave the fused closure instead;
//! - where the second names a variable outside that the first's parameter shadows
//!   (`.map(|c| c * 3.0).map(|t| t + c)`), the parameter is bound in a block around the first
//!   body alone (it must then be one name);
//! - both are plain closures (no `async`, no attributes), both `move` or neither.
//!
//! A function path (`.map(f64::exp)`) is the closure that calls it.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, ExprClosure, Pat, ReturnType};

/// `block` with every fusable chain of maps fused, innermost first.
pub fn fuse_maps(block: &mut syn::Block) {
    Fuser.visit_block_mut(block);
}

struct Fuser;

impl VisitMut for Fuser {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let Some(fused) = fused(expr) {
            *expr = fused;
        }
    }
}

/// `r.map(first).map(second)` as `r.map(both)`, when that means the same.
fn fused(expr: &Expr) -> Option<Expr> {
    let Expr::MethodCall(outer) = expr else {
        return None;
    };
    let Expr::MethodCall(inner) = &*outer.receiver else {
        return None;
    };
    if !is_map(outer) || !is_map(inner) {
        return None;
    }
    let first = as_closure(&inner.args[0])?;
    let second = as_closure(&outer.args[0])?;
    if !plain(&first) || !plain(&second) {
        return None;
    }
    if first.capture.is_some() != second.capture.is_some() {
        return None;
    }
    if leaves_early(&first.body) || leaves_early(&second.body) {
        return None;
    }
    let [first_input] = single(&first)?;
    let [second_input] = single(&second)?;
    let first_names = crate::syntax::pattern_names(first_input);
    let second_names = crate::syntax::pattern_names(second_input);
    let captured = mentioned(&quote::ToTokens::to_token_stream(&*second.body))
        .into_iter()
        .any(|name| first_names.contains(&name) && !second_names.contains(&name));
    // The first closure's value, of its declared type if it declares one.
    let first_body = &first.body;
    let second_input = match (&first.output, second_input) {
        (ReturnType::Type(arrow, ty), Pat::Ident(_) | Pat::Wild(_)) => Pat::Type(syn::PatType {
            attrs: Vec::new(),
            pat: Box::new(second_input.clone()),
            colon_token: syn::Token![:](arrow.span()),
            ty: ty.clone(),
        }),
        _ => second_input.clone(),
    };
    // Where the second closure names a variable outside that the first one's parameter
    // shadows, the parameter is bound in a block of its own around the first body.
    let (first_input, first_body) = if captured {
        if !matches!(strip_type(first_input), Pat::Ident(p) if p.subpat.is_none()) {
            return None;
        }
        let span = first_input.span();
        let element = syn::Ident::new("__nabla_mapped", span);
        let body = quote_spanned!(span=> { let #first_input = #element; #first_body });
        (quote_spanned!(span=> #element), body)
    } else {
        (
            quote::ToTokens::to_token_stream(first_input),
            quote::ToTokens::to_token_stream(first_body),
        )
    };
    let span = second.span();
    let second_body = &second.body;
    let capture = &first.capture;
    let output = &second.output;
    let receiver = &inner.receiver;
    let map = &outer.method;
    let dot = &inner.dot_token;
    let body = quote_spanned!(span=> { let #second_input = #first_body; #second_body });
    let closure = quote_spanned!(span=> #capture |#first_input| #output #body);
    syn::parse2(quote_spanned!(span=> #receiver #dot #map(#closure))).ok()
}

fn is_map(call: &syn::ExprMethodCall) -> bool {
    call.method == "map" && call.args.len() == 1 && call.turbofish.is_none()
}

/// A closure argument as it is, and a function path as the closure that calls it.
fn as_closure(arg: &Expr) -> Option<ExprClosure> {
    match arg {
        Expr::Closure(c) => Some(c.clone()),
        Expr::Path(path) => {
            let span = path.span();
            let x = syn::Ident::new("__nabla_element", span);
            syn::parse2(quote_spanned!(span=> |#x| #path(#x))).ok()
        }
        _ => None,
    }
}

fn plain(closure: &ExprClosure) -> bool {
    closure.attrs.is_empty()
        && closure.asyncness.is_none()
        && closure.constness.is_none()
        && closure.lifetimes.is_none()
}

fn single(closure: &ExprClosure) -> Option<[&Pat; 1]> {
    match closure.inputs.len() {
        1 => closure.inputs.first().map(|p| [p]),
        _ => None,
    }
}

fn strip_type(pat: &Pat) -> &Pat {
    match pat {
        Pat::Type(t) => &t.pat,
        other => other,
    }
}

/// Whether `body` leaves itself early: a `return` or a `?` of its own, not of a nested closure.
fn leaves_early(body: &Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    }
    let mut finder = Finder(false);
    finder.visit_expr(body);
    finder.0
}

/// Every identifier in `tokens`, macro arguments included.
fn mentioned(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => out.extend(mentioned(&g.stream())),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn fuse(src: &str) -> String {
        let mut block: syn::Block = syn::parse_str(&format!("{{ {src} }}")).unwrap();
        fuse_maps(&mut block);
        block.stmts[0].to_token_stream().to_string()
    }

    #[test]
    fn fuses_two_closures() {
        assert_eq!(
            fuse("w.iter().map(|x| x * 2.0).map(|t| t.sin())"),
            "w . iter () . map (| x | { let t = x * 2.0 ; t . sin () })"
        );
    }

    #[test]
    fn fuses_chains_and_paths() {
        assert_eq!(
            fuse("(1..n).map(|i| w[i]).map(f64::exp).map(|t| t * 2.0)"),
            "(1 .. n) . map (| i | { let t = { let __nabla_element = w [i] ; f64 :: exp (__nabla_element) } ; t * 2.0 })"
        );
    }

    #[test]
    fn keeps_the_declared_type() {
        assert_eq!(
            fuse("w.iter().map(|x| -> f64 { x * 2.0 }).map(|t| t + 1.0)"),
            "w . iter () . map (| x | { let t : f64 = { x * 2.0 } ; t + 1.0 })"
        );
    }

    #[test]
    fn leaves_chains_that_would_change_meaning() {
        for src in [
            // `b` in the second closure is a variable outside, which a pattern binds.
            "w.iter().map(|&(a, b)| a * b).map(|t| t + b)",
            // Early exits would leave the fused closure.
            "w.iter().map(|x| { if *x > 0.0 { return 1.0; } 2.0 }).map(|t| t + 1.0)",
            "w.iter().map(|x| x.checked()?).map(|t| t + 1.0)",
            // Two parameters, or one `move` and one not.
            "w.iter().enumerate().map(|(i, x)| x).map(|t, u| t)",
            "w.iter().map(move |x| x * c).map(|t| t + 1.0)",
            "w.iter().map(|x| x * 2.0).filter(|t| **t > 0.0)",
        ] {
            let mut block: syn::Block = syn::parse_str(&format!("{{ {src} }}")).unwrap();
            let before = block.to_token_stream().to_string();
            fuse_maps(&mut block);
            assert_eq!(block.to_token_stream().to_string(), before, "{src}");
        }
    }

    #[test]
    fn a_variable_outside_keeps_its_meaning() {
        assert_eq!(
            fuse("w.iter().map(|x| x * 2.0).map(|t| t + x)"),
            "w . iter () . map (| __nabla_mapped | { let t = { let x = __nabla_mapped ; x * 2.0 } ; t + x })"
        );
    }

    #[test]
    fn a_second_closure_may_reuse_the_first_name() {
        assert_eq!(
            fuse("w.iter().map(|x| x * 2.0).map(|x| x + 1.0)"),
            "w . iter () . map (| x | { let x = x * 2.0 ; x + 1.0 })"
        );
    }
}
