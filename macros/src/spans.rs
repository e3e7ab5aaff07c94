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
            Expr::Assign(e) if e.attrs.is_empty() => &e.left,
            Expr::Range(e) if e.attrs.is_empty() && e.start.is_some() => {
                e.start.as_deref().unwrap_or(expr)
            }
            Expr::Paren(e) if e.attrs.is_empty() => return e.paren_token.span.join(),
            Expr::Unary(e) if e.attrs.is_empty() => return e.op.span(),
            // Compound forms start with a keyword or a delimiter: no need to print them whole. A
            // delimiter stands for its whole group, as the printed group's one token does (spans
            // do not join on stable Rust, where the first token's span is all there is).
            Expr::ForLoop(e) if e.attrs.is_empty() => {
                return label_or(&e.label, e.for_token.span);
            }
            Expr::While(e) if e.attrs.is_empty() => {
                return label_or(&e.label, e.while_token.span);
            }
            Expr::Loop(e) if e.attrs.is_empty() => return label_or(&e.label, e.loop_token.span),
            Expr::Block(e) if e.attrs.is_empty() => {
                return label_or(&e.label, e.block.brace_token.span.join());
            }
            Expr::If(e) if e.attrs.is_empty() => return e.if_token.span,
            Expr::Match(e) if e.attrs.is_empty() => return e.match_token.span,
            Expr::Unsafe(e) if e.attrs.is_empty() => return e.unsafe_token.span,
            Expr::Return(e) if e.attrs.is_empty() => return e.return_token.span,
            Expr::Reference(e) if e.attrs.is_empty() => return e.and_token.span,
            Expr::Array(e) if e.attrs.is_empty() => return e.bracket_token.span.join(),
            Expr::Tuple(e) if e.attrs.is_empty() => return e.paren_token.span.join(),
            Expr::Let(e) if e.attrs.is_empty() => return e.let_token.span,
            Expr::Lit(e) if e.attrs.is_empty() => return e.lit.span(),
            other => return other.span(),
        };
    }
}

fn label_or(label: &Option<syn::Label>, keyword: Span) -> Span {
    label.as_ref().map_or(keyword, |l| l.name.apostrophe)
}

fn last_span(mut expr: &Expr) -> Span {
    loop {
        expr = match expr {
            Expr::Binary(e) => &e.right,
            Expr::Unary(e) => &e.expr,
            Expr::Assign(e) => &e.right,
            Expr::Reference(e) => &e.expr,
            Expr::Let(e) => &e.expr,
            Expr::Closure(e) => &e.body,
            Expr::Range(e) => match &e.end {
                Some(end) => end,
                None => return e.limits.span(),
            },
            Expr::Return(e) => match &e.expr {
                Some(value) => value,
                None => return e.return_token.span,
            },
            Expr::If(e) => match &e.else_branch {
                Some((_, otherwise)) => otherwise,
                None => return e.then_branch.brace_token.span.close(),
            },
            Expr::MethodCall(e) => return e.paren_token.span.join(),
            Expr::Call(e) => return e.paren_token.span.join(),
            Expr::Index(e) => return e.bracket_token.span.join(),
            Expr::Paren(e) => return e.paren_token.span.join(),
            Expr::Field(e) => return e.member.span(),
            Expr::Cast(e) => return e.ty.span(),
            Expr::Try(e) => return e.question_token.span,
            Expr::ForLoop(e) => return e.body.brace_token.span.close(),
            Expr::While(e) => return e.body.brace_token.span.close(),
            Expr::Loop(e) => return e.body.brace_token.span.close(),
            Expr::Block(e) => return e.block.brace_token.span.close(),
            Expr::Unsafe(e) => return e.block.brace_token.span.close(),
            Expr::Match(e) => return e.brace_token.span.close(),
            Expr::Array(e) => return e.bracket_token.span.close(),
            Expr::Tuple(e) => return e.paren_token.span.close(),
            Expr::Lit(e) => return e.lit.span(),
            other => return other.span(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The structural walk finds the span that printing the expression finds.
    #[test]
    fn ends_match_the_printed_expression() {
        let sources = [
            "for i in 0..n { s += w[i]; }",
            "'outer: for i in 0..n { break 'outer; }",
            "while k < 3 { k += 1; }",
            "loop { break x; }",
            "{ let y = x; y * 2.0 }",
            "if a > 0.0 { a } else if a < -1.0 { -a } else { 0.0 }",
            "if a > 0.0 { a }",
            "match k { 0 => a, _ => b }",
            "|x| x * 2.0",
            "&w[1..]",
            "a..=b",
            "a..",
            "return x * x",
            "[a, b, c]",
            "(a, b)",
            "s = s + x",
            "x.max(0.0) + w[0].sin() * (a as f64)",
            "2.5",
        ];
        for source in sources {
            let expr: Expr = syn::parse_str(source).unwrap();
            assert_eq!(
                format!("{:?}", expr_span(&expr)),
                format!("{:?}", expr.span()),
                "span of `{source}`"
            );
        }
    }
}
