//! Questions about the user's syntax that lowering and the rewrites before it share.

use syn::Expr;

/// `(a, b)` inside any number of parentheses.
pub(crate) fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

/// Whether `body` holds a `return` of its own (not one inside a nested closure).
pub(crate) fn returns(body: &Expr) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_expr(&mut finder, body);
    finder.0
}
