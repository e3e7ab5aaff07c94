//! The location scan: which variables need one storage slot instead of SSA versions.

use std::collections::HashSet;

use syn::visit::Visit;
use syn::Expr;

use crate::in_place;
use crate::syntax::is_compound;

/// Finds the variables that need a location: those assigned inside a branch (so straight-line
/// renaming cannot track them) and buffers written element by element.
#[derive(Default)]
pub(super) struct LocationScan {
    depth: usize,
    /// Inside `stop_gradient(..)`, which is kept as written: any method there may change its
    /// receiver (`stop_gradient(q.remove(0))`).
    kept_as_written: usize,
    /// The parameters of the closures being visited: their names are not the function's.
    closure_params: Vec<String>,
    pub(super) names: HashSet<String>,
}

impl LocationScan {
    fn target(&mut self, target: &Expr, whole: bool) {
        match target {
            Expr::Path(p) if whole && self.depth > 0 => {
                if let Some(ident) = p.path.get_ident() {
                    self.names.insert(ident.to_string());
                }
            }
            // A buffer written element by element is one location, wherever the write is.
            Expr::Index(index) => match &*index.expr {
                Expr::Path(p) => {
                    if let Some(ident) = p.path.get_ident() {
                        self.names.insert(ident.to_string());
                    }
                }
                other => self.target(other, true),
            },
            Expr::Paren(p) => self.target(&p.expr, whole),
            // `(a, b) = ..`: each target is assigned.
            Expr::Tuple(t) => {
                for element in &t.elems {
                    self.target(element, whole);
                }
            }
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for LocationScan {
    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        self.target(&node.left, true);
        syn::visit::visit_expr_assign(self, node);
    }
    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        if is_compound(&node.op) {
            self.target(&node.left, true);
        }
        syn::visit::visit_expr_binary(self, node);
    }
    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.visit_expr(&node.expr);
        self.depth += 1;
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        self.depth += 1;
        self.visit_expr(&node.cond);
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    /// A closure's body may run many times (`map`, `fold`, and the loops `zip_map` and
    /// `from_iterator` are written as): what it assigns is assigned in a loop.
    fn visit_expr_closure(&mut self, node: &'ast syn::ExprClosure) {
        struct Names<'a>(&'a mut Vec<String>);
        impl<'ast> Visit<'ast> for Names<'_> {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.0.push(p.ident.to_string());
                syn::visit::visit_pat_ident(self, p);
            }
        }
        let bound = self.closure_params.len();
        for input in &node.inputs {
            Names(&mut self.closure_params).visit_pat(input);
        }
        self.depth += 1;
        syn::visit::visit_expr_closure(self, node);
        self.depth -= 1;
        self.closure_params.truncate(bound);
    }
    fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
        self.depth += 1;
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        self.visit_expr(&node.expr);
        self.depth += 1;
        for arm in &node.arms {
            self.visit_arm(arm);
        }
        self.depth -= 1;
    }
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let Some((a, b)) = in_place::mem_swap_operands(node) {
            if self.depth > 0 {
                self.names.insert(a.to_string());
                self.names.insert(b.to_string());
            }
        }
        let stop = matches!(&*node.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "stop_gradient"));
        self.kept_as_written += usize::from(stop);
        syn::visit::visit_expr_call(self, node);
        self.kept_as_written -= usize::from(stop);
    }
    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let in_place = in_place::is_in_place(&node.method.to_string(), node.args.len());
        let shrunk = node.method == "pop" && node.args.is_empty();
        let kept = self.kept_as_written > 0;
        let mutates = crate::methods::MUTATING_METHODS.contains(&node.method.to_string().as_str());
        if node.method == "push"
            || node.method == "iter_mut"
            || shrunk
            || in_place
            || kept
            || mutates
        {
            // A buffer grown or written through: one storage location. (`self` of a
            // `&self` method is never written: `stop_gradient(self.predict(x))` reads it.)
            if let Expr::Path(p) = &*node.receiver {
                if let Some(ident) = p.path.get_ident().filter(|i| *i != "self") {
                    let name = ident.to_string();
                    // A closure's own parameter (`|x| x.abs()`) is no variable of the function.
                    if !self.closure_params.contains(&name) {
                        self.names.insert(name);
                    }
                }
            }
            // A part of one written in place (`v[1..].fill(0.0)`).
            if in_place {
                if let Some(ident) = in_place::receiver_name(node) {
                    self.names.insert(ident.to_string());
                }
            }
        }
        syn::visit::visit_expr_method_call(self, node);
    }
    fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
        self.visit_expr(&node.cond);
        self.depth += 1;
        self.visit_block(&node.then_branch);
        if let Some((_, e)) = &node.else_branch {
            self.visit_expr(e);
        }
        self.depth -= 1;
    }
}
