//! `#[cfg(..)]` inside a differentiated body, decided by rustc.
//!
//! An attribute macro sees statements under `#[cfg(..)]` before rustc has configured them, and
//! cannot evaluate the predicate itself. So a body with a configured statement (or `match` arm)
//! is split in two: one copy of the function keeps the statement, the other drops it, each
//! behind the predicate and its negation, and each goes through `#[differentiable]` again.
//! rustc removes the copy whose predicate fails before expanding it, so exactly the code rustc
//! would compile is differentiated. Every further configured statement splits again.
//!
//! Before / after:
//!
//! ```text
//! #[differentiable]                 #[cfg(feature = "x")] #[differentiable]
//! fn f(x: f64) -> f64 {             fn f(x: f64) -> f64 { let y = x * x; y }
//!     #[cfg(feature = "x")]
//!     let y = x * x;                #[cfg(not(feature = "x"))] #[differentiable]
//!     y                             fn f(x: f64) -> f64 { y }
//! }
//! ```

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Attribute, ItemFn};

/// The two configured copies of `func`, when its body holds a `#[cfg(..)]` statement or arm.
pub fn split(func: &ItemFn, attr: &TokenStream) -> Option<TokenStream> {
    let mut kept = func.clone();
    let mut keep = FirstConfigured {
        drop: false,
        predicate: None,
    };
    keep.visit_block_mut(&mut kept.block);
    let predicate = keep.predicate?;
    let mut dropped = func.clone();
    FirstConfigured {
        drop: true,
        predicate: None,
    }
    .visit_block_mut(&mut dropped.block);
    Some(quote! {
        #[cfg(#predicate)]
        #[::nabla::differentiable(#attr)]
        #kept

        #[cfg(not(#predicate))]
        #[::nabla::differentiable(#attr)]
        #dropped
    })
}

/// Finds the first configured statement or `match` arm, in source order, and either removes
/// its `#[cfg]` (keeping it) or removes it.
struct FirstConfigured {
    drop: bool,
    predicate: Option<TokenStream>,
}

impl FirstConfigured {
    /// Takes the `#[cfg(..)]` out of `attrs`, returning its predicate.
    fn take_cfg(&mut self, attrs: &mut Vec<Attribute>) -> Option<TokenStream> {
        if self.predicate.is_some() {
            return None;
        }
        let at = attrs.iter().position(|a| a.path().is_ident("cfg"))?;
        let predicate = match &attrs[at].meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => return None,
        };
        attrs.remove(at);
        self.predicate = Some(predicate.clone());
        Some(predicate)
    }
}

impl VisitMut for FirstConfigured {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut i = 0;
        while i < block.stmts.len() && self.predicate.is_none() {
            let found = match &mut block.stmts[i] {
                syn::Stmt::Local(local) => self.take_cfg(&mut local.attrs).is_some(),
                syn::Stmt::Macro(mac) => self.take_cfg(&mut mac.attrs).is_some(),
                syn::Stmt::Item(_) => false,
                syn::Stmt::Expr(expr, _) => expr_attrs(expr)
                    .map(|attrs| self.take_cfg(attrs).is_some())
                    .unwrap_or(false),
            };
            if found {
                if self.drop {
                    block.stmts.remove(i);
                }
                return;
            }
            self.visit_stmt_mut(&mut block.stmts[i]);
            i += 1;
        }
    }

    fn visit_expr_match_mut(&mut self, node: &mut syn::ExprMatch) {
        self.visit_expr_mut(&mut node.expr);
        let mut i = 0;
        while i < node.arms.len() && self.predicate.is_none() {
            if self.take_cfg(&mut node.arms[i].attrs).is_some() {
                if self.drop {
                    node.arms.remove(i);
                }
                return;
            }
            self.visit_arm_mut(&mut node.arms[i]);
            i += 1;
        }
    }

    // Closures and nested items are not differentiated statement by statement.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The outer attributes of an expression statement.
fn expr_attrs(expr: &mut syn::Expr) -> Option<&mut Vec<Attribute>> {
    use syn::Expr::*;
    Some(match expr {
        Assign(e) => &mut e.attrs,
        Binary(e) => &mut e.attrs,
        Block(e) => &mut e.attrs,
        Call(e) => &mut e.attrs,
        ForLoop(e) => &mut e.attrs,
        If(e) => &mut e.attrs,
        Loop(e) => &mut e.attrs,
        Macro(e) => &mut e.attrs,
        Match(e) => &mut e.attrs,
        MethodCall(e) => &mut e.attrs,
        Path(e) => &mut e.attrs,
        Return(e) => &mut e.attrs,
        Unary(e) => &mut e.attrs,
        While(e) => &mut e.attrs,
        Lit(e) => &mut e.attrs,
        Paren(e) => &mut e.attrs,
        Break(e) => &mut e.attrs,
        Continue(e) => &mut e.attrs,
        _ => return None,
    })
}
