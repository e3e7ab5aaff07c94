//! The span of an expression, from its first and last tokens.
//!
//! `syn::spanned::Spanned::span` prints the whole expression to tokens to find its ends. The
//! lowering asks for the span of every subexpression, so on a flat sum of n terms (a left-deep
//! tree) that printing is quadratic in n. Walking down to the first and the last token is not.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::Expr;

/// The span from `expr`'s first token to its last (the first alone where spans cannot join).
pub fn expr_span(expr: &Expr) -> Span {
    let (first, last) = (first_span(expr), last_span(expr));
    first.join(last).unwrap_or(first)
}

fn first_span(mut expr: &Expr) -> Span {
    loop {
        expr = match expr {
            Expr::Binary(e) if e.attrs.is_empty() => &e.left,
            Expr::MethodCall(e) if e.attrs.is_empty() => &e.receiver,
            Expr::Index(e) if e.attrs.is_empty() => &e.expr,
            Expr::Field(e) if e.attrs.is_empty() => &e.base,
            Expr::Cast(e) if e.attrs.is_empty() => &e.expr,
            Expr::Call(e) if e.attrs.is_empty() => &e.func,
            Expr::Try(e) if e.attrs.is_empty() => &e.expr,
            Expr::Paren(e) if e.attrs.is_empty() => return e.paren_token.span.join(),
            Expr::Unary(e) if e.attrs.is_empty() => return e.op.span(),
            other => return other.span(),
        };
    }
}

fn last_span(mut expr: &Expr) -> Span {
    loop {
        expr = match expr {
            Expr::Binary(e) => &e.right,
            Expr::Unary(e) => &e.expr,
            Expr::MethodCall(e) => return e.paren_token.span.join(),
            Expr::Call(e) => return e.paren_token.span.join(),
            Expr::Index(e) => return e.bracket_token.span.join(),
            Expr::Paren(e) => return e.paren_token.span.join(),
            Expr::Field(e) => return e.member.span(),
            Expr::Cast(e) => return e.ty.span(),
            Expr::Try(e) => return e.question_token.span,
            other => return other.span(),
        };
    }
}
