//! Questions about the user's syntax that lowering and the rewrites before it share.

use syn::Expr;

/// `(a, b)` inside any number of parentheses.
pub(crate) fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}
