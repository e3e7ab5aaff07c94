//! `for k in [0.1, 0.5, 1.0]`: a loop over an array literal, written as a loop over a local.
//!
//! The lowering reads elements from containers it can index again in the reverse sweep; an
//! array literal is none. Binding it first makes it one, as the user would have written it:
//!
//! ```text
//! for pat in [a, b].iter().enumerate() { body }
//!     { let __nabla_items = [a, b]; for pat in __nabla_items.iter().enumerate() { body } }
//! ```
//!
//! The literal is evaluated once, before the first iteration, as Rust evaluates it.

use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, ExprForLoop};

/// The loop with its array literal bound to a local first; `None` when the loop iterates over
/// no literal (`xs`, `xs.iter()`).
pub fn rewrite(e: &ExprForLoop) -> Option<Expr> {
    let mut lowered = e.clone();
    let literal = take_literal(&mut lowered.expr)?;
    let span = literal.span();
    syn::parse2(quote_spanned! {span=> {
        let __nabla_items = #literal;
        #lowered
    }})
    .ok()
}

/// Replaces the array literal at the root of an iterated expression (`[a, b]`, `&[a, b]`,
/// `[a, b].iter().rev()`) with the local's name, and gives the literal.
fn take_literal(expr: &mut Expr) -> Option<Expr> {
    let root = root_of(expr)?;
    let span = root.span();
    let name: Expr = syn::parse_quote_spanned!(span=> __nabla_items);
    Some(std::mem::replace(root, name))
}

/// The receiver at the start of a chain of methods, through parentheses and one shared
/// reference: `[a, b]` in `(&[a, b])` and in `[a, b].iter().enumerate()`.
fn root_of(expr: &mut Expr) -> Option<&mut Expr> {
    if matches!(expr, Expr::Array(_) | Expr::Repeat(_)) {
        return Some(expr);
    }
    match expr {
        Expr::Paren(p) => root_of(&mut p.expr),
        Expr::Reference(r) if r.mutability.is_none() => root_of(&mut r.expr),
        Expr::MethodCall(m) => root_of(&mut m.receiver),
        _ => None,
    }
}
