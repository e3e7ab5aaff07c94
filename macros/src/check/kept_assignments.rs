//! The assignments of code kept as written, read from its syntax tree: which variables of the
//! function it assigns (`c = ..`, `c += ..`, `(a, b) = ..`, `[a, b] = ..`, `(c) += ..`,
//! `c[i] = ..`, `c.x = ..`, `*c = ..`) or borrows mutably (`&mut c`), where no binding of the
//! code's own (a closure's parameter, a `let`, a `for` or `match` pattern) hides the name.
//!
//! Also the methods it calls on those variables, directly or on a part of them (`v.sort()`,
//! `v[1..].fill(0.0)`, `(v).reverse()`, `p.v.reverse()`): where a variable carries gradient,
//! any method but one that only reads changes it unseen (see `methods::reads_only`).
//!
//! Inside a macro's arguments, which have no syntax tree, the token scan of `kept_changes.rs`
//! reads them.

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat};

/// For each of `names` that `tokens` assign or borrow mutably, the span of the first place;
/// `None` where `tokens` are no expression.
pub(super) fn assigned(tokens: &TokenStream, names: &[Ident]) -> Option<Vec<(Ident, Span)>> {
    Some(scan(tokens, names)?.found)
}

/// For each of `names` on which `tokens` call a method that may change it, the method and
/// whether it has arguments; `None` where `tokens` are no expression.
pub(super) fn changed_by_methods(
    tokens: &TokenStream,
    names: &[Ident],
) -> Option<Vec<(Ident, Ident, bool)>> {
    Some(scan(tokens, names)?.methods)
}

fn scan<'n>(tokens: &TokenStream, names: &'n [Ident]) -> Option<Scan<'n>> {
    let expr: Expr = syn::parse2(tokens.clone()).ok()?;
    let mut scan = Scan {
        names,
        scopes: vec![HashSet::new()],
        found: Vec::new(),
        methods: Vec::new(),
    };
    scan.visit_expr(&expr);
    Some(scan)
}

struct Scan<'n> {
    names: &'n [Ident],
    /// The names the code binds itself, innermost scope last.
    scopes: Vec<HashSet<String>>,
    found: Vec<(Ident, Span)>,
    /// Variables, each with the first method called on it that may change it.
    methods: Vec<(Ident, Ident, bool)>,
}

impl Scan<'_> {
    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    /// Records the variables of the function that the place `target` names, at `at`.
    fn target(&mut self, target: &Expr, at: Span) {
        match target {
            Expr::Paren(p) => self.target(&p.expr, at),
            Expr::Group(g) => self.target(&g.expr, at),
            Expr::Tuple(t) => t.elems.iter().for_each(|e| self.target(e, at)),
            Expr::Array(a) => a.elems.iter().for_each(|e| self.target(e, at)),
            Expr::Field(f) => self.target(&f.base, at),
            Expr::Index(i) => self.target(&i.expr, at),
            Expr::Unary(u) => self.target(&u.expr, at),
            Expr::Path(p) => {
                let Some(ident) = p.path.get_ident() else {
                    return;
                };
                let name = ident.to_string();
                if self.bound(&name) {
                    return;
                }
                if let Some(var) = self.names.iter().find(|n| **n == name) {
                    if !self.found.iter().any(|(f, _)| f == var) {
                        self.found.push((var.clone(), at));
                    }
                }
            }
            _ => {}
        }
    }

    /// The variable of the function that the place `receiver` is, or is a part of.
    fn root(&self, receiver: &Expr) -> Option<Ident> {
        match receiver {
            Expr::Paren(p) => self.root(&p.expr),
            Expr::Group(g) => self.root(&g.expr),
            Expr::Field(f) => self.root(&f.base),
            Expr::Index(i) => self.root(&i.expr),
            Expr::Unary(u) => self.root(&u.expr),
            Expr::Reference(r) => self.root(&r.expr),
            Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                if self.bound(&name) {
                    return None;
                }
                self.names.iter().find(|n| **n == name).cloned()
            }
            _ => None,
        }
    }

    fn bind(&mut self, pat: &Pat) {
        let names = crate::syntax::pattern_names(pat);
        if let Some(scope) = self.scopes.last_mut() {
            scope.extend(names);
        }
    }
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        self.target(&node.left, node.eq_token.span);
        syn::visit::visit_expr_assign(self, node);
    }

    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        let compound = crate::syntax::is_compound(&node.op);
        if compound {
            self.target(&node.left, node.op.span());
        }
        syn::visit::visit_expr_binary(self, node);
    }

    fn visit_expr_reference(&mut self, node: &'ast syn::ExprReference) {
        if node.mutability.is_some() {
            self.target(&node.expr, node.and_token.span);
        }
        syn::visit::visit_expr_reference(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let method = node.method.to_string();
        if !crate::methods::reads_only(&method) {
            if let Some(var) = self.root(&node.receiver) {
                if !self.methods.iter().any(|(v, _, _)| *v == var) {
                    self.methods
                        .push((var, node.method.clone(), !node.args.is_empty()));
                }
            }
        }
        syn::visit::visit_expr_method_call(self, node);
    }

    fn visit_expr_closure(&mut self, node: &'ast syn::ExprClosure) {
        self.scopes.push(HashSet::new());
        for input in &node.inputs {
            self.bind(input);
        }
        self.visit_expr(&node.body);
        self.scopes.pop();
    }

    fn visit_block(&mut self, node: &'ast syn::Block) {
        self.scopes.push(HashSet::new());
        for stmt in &node.stmts {
            match stmt {
                // The initializer reads the names as they were; the pattern binds after it.
                syn::Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        self.visit_expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.visit_expr(diverge);
                        }
                    }
                    self.bind(&local.pat);
                }
                other => self.visit_stmt(other),
            }
        }
        self.scopes.pop();
    }

    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.visit_expr(&node.expr);
        self.scopes.push(HashSet::new());
        self.bind(&node.pat);
        self.visit_block(&node.body);
        self.scopes.pop();
    }

    fn visit_arm(&mut self, node: &'ast syn::Arm) {
        self.scopes.push(HashSet::new());
        self.bind(&node.pat);
        // A guard, which is part of the pattern.
        self.visit_pat(&node.pat);
        self.visit_expr(&node.body);
        self.scopes.pop();
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        for var in self.names {
            if self.bound(&var.to_string()) {
                continue;
            }
            if !self.found.iter().any(|(f, _)| f == var) {
                if let Some(at) = super::kept_changes::assignment_in_macro(&node.tokens, var) {
                    self.found.push((var.clone(), at));
                }
            }
            if !self.methods.iter().any(|(v, _, _)| v == var) {
                if let Some((method, args)) = super::kept_changes::changing_call(&node.tokens, var)
                {
                    self.methods.push((var.clone(), method, args));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::assigned;
    use proc_macro2::{Ident, Span};

    fn names_assigned(code: &str) -> Vec<String> {
        let names: Vec<Ident> = ["c", "a", "b", "total"]
            .iter()
            .map(|n| Ident::new(n, Span::call_site()))
            .collect();
        let tokens = code.parse().expect("test code lexes");
        let mut found: Vec<String> = assigned(&tokens, &names)
            .expect("test code parses")
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        found.sort();
        found
    }

    #[test]
    fn every_form_of_assignment() {
        assert_eq!(
            names_assigned("x.iter().for_each(|_| { let n = a + b; (a, b) = (b, n); })"),
            ["a", "b"]
        );
        assert_eq!(
            names_assigned("x.iter().for_each(|v| (total) += v)"),
            ["total"]
        );
        assert_eq!(
            names_assigned("x.iter().for_each(|v| { let m = k | 1; total += v * m as f64; })"),
            ["total"]
        );
        assert_eq!(
            names_assigned("x.iter().for_each(|v| [a, b] = [b, a])"),
            ["a", "b"]
        );
        assert_eq!(names_assigned("f(&mut c)"), ["c"]);
        assert_eq!(
            names_assigned("x.iter().map(|v| { c[0] = *v; c.y = 1.0; *v })"),
            ["c"]
        );
        assert_eq!(
            names_assigned("x.iter().for_each(|v| println!(\"{}\", { c = 1.0; c }))"),
            ["c"]
        );
    }

    #[test]
    fn every_method_that_may_change_a_variable() {
        let names = [
            Ident::new("v", Span::call_site()),
            Ident::new("p", Span::call_site()),
        ];
        let changed = |code: &str| -> Vec<String> {
            let tokens = code.parse().expect("test code lexes");
            super::changed_by_methods(&tokens, &names)
                .expect("test code parses")
                .into_iter()
                .map(|(v, m, _)| format!("{v}.{m}"))
                .collect()
        };
        assert_eq!(changed("v[..].reverse()"), ["v.reverse"]);
        assert_eq!(changed("(v).reverse()"), ["v.reverse"]);
        assert_eq!(changed("v[1..].fill(0.0)"), ["v.fill"]);
        assert_eq!(changed("v.axpy(1.0, &ones, 2.0)"), ["v.axpy"]);
        assert_eq!(changed("p.v.reverse()"), ["p.reverse"]);
        assert_eq!(
            changed("{ let m = 1usize | 2usize; v.reverse(); m }"),
            ["v.reverse"]
        );
        assert_eq!(
            changed("match k { 1 | 2 => v.reverse(), _ => () }"),
            ["v.reverse"]
        );
        assert_eq!(
            changed("{ let g = |v: f64| v + 1.0; v.reverse(); g(1.0) }"),
            ["v.reverse"]
        );
        assert_eq!(
            changed("{ for v in 0..1 { let _ = v; } v.reverse(); }"),
            ["v.reverse"]
        );
        assert_eq!(changed("println!(\"{:?}\", v.pop())"), ["v.pop"]);
        assert!(
            changed("v.iter().map(|x| x * 2.0).sum::<f64>() + v.len() as f64 + v[0].sin()")
                .is_empty()
        );
        assert!(changed("{ let mut v = v.clone(); v.reverse(); v }").is_empty());
        for reading in [
            "v.map(|x| x.max(0.0))",
            "v.rows_range(0..2).sum()",
            "v.is_sorted()",
            "v.norm() + v.transpose()[0] + v.max()",
            "v.argmax().0",
            "v.magnitude() + v.row_sum()[0] + v[0].sin_cos().0",
            "v.iter().copied().fold(0.0, f64::max)",
        ] {
            assert!(changed(reading).is_empty(), "{reading}");
        }
    }

    #[test]
    fn the_code_may_change_what_it_binds() {
        assert!(names_assigned("x.iter().map(|c| { let mut t = c; t += 1.0; t })").is_empty());
        assert!(names_assigned("{ let mut c = c.clone(); c += 1.0; c }").is_empty());
        assert!(names_assigned("x.iter().for_each(|total| *total += 1.0)").is_empty());
        assert!(
            names_assigned("{ for c in 0..3 { let _ = c; } let mut a = 0.0; a += 1.0; a }")
                .is_empty()
        );
        assert!(names_assigned("format!(\"{c}\", c = c)").is_empty());
        // Read before a binding of the same name, the variable outside is the one assigned.
        assert_eq!(names_assigned("{ c += 1.0; let c = 2.0; c }"), ["c"]);
    }
}
