//! nalgebra's decompositions used the way users write them, as one function each: the
//! decomposition object (`LU`, `QR`, `Cholesky`) is never a value of its own, so it needs no
//! gradient.
//!
//! | written                                   | lowered to (runtime `linalg`)      |
//! |-------------------------------------------|------------------------------------|
//! | `a.lu().solve(&b).unwrap()`               | `solve_by_lu(a, b)`                |
//! | `a.qr().solve(&b).unwrap()`               | `solve_by_qr(a, b)`                |
//! | `a.cholesky().unwrap().solve(&b)`         | `solve_by_cholesky(a, b)`          |
//! | `a.cholesky().unwrap().ln_determinant()`  | `ln_determinant_by_cholesky(a)`    |
//! | `a.cholesky().unwrap().l()`               | `cholesky_l(a)`                    |
//! | `a.try_inverse().unwrap()`                | `inverse_by_lu(a)`                 |
//!
//! `.expect(..)` may stand for `.unwrap()`, and a decomposition may be bound to a name first.
//! A bound Cholesky factor (`let chol = k.cholesky().unwrap();`) is a value of its own, a
//! runtime `CholeskyFactor` shared by `chol.solve(&y)`, `chol.ln_determinant()` and `chol.l()`;
//! a bound LU or QR decomposition names the matrix, and each use is differentiated as the chain
//! it stands for.
//! A singular matrix panics, as the user's `unwrap` would.

use proc_macro2::Ident;
use quote::quote;
use syn::{Expr, ExprMethodCall};

use super::Lowerer;
use crate::ir::{MethodKind, Operand, Value};

/// The decompositions nalgebra users bind to names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Decomposition {
    Lu,
    Qr,
    Cholesky,
}

/// The matrix a decomposition is of: as written, or bound earlier (`let chol = ..`).
enum Of<'e> {
    Written(&'e Expr),
    Bound(Operand),
}

/// `Some(m)` for `m.unwrap()` or `m.expect(..)`, the receiver of the unwrapping.
fn unwrapped(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::MethodCall(m) if is_unwrapping(m) => Some(&m.receiver),
        Expr::Paren(p) => unwrapped(&p.expr),
        _ => None,
    }
}

fn is_unwrapping(m: &ExprMethodCall) -> bool {
    (m.method == "unwrap" && m.args.is_empty()) || (m.method == "expect" && m.args.len() == 1)
}

/// `Some(receiver)` for `receiver.name()` without arguments.
fn call_of<'e>(expr: &'e Expr, name: &str) -> Option<&'e Expr> {
    match expr {
        Expr::MethodCall(m) if m.method == name && m.args.is_empty() => Some(&m.receiver),
        Expr::Paren(p) => call_of(&p.expr, name),
        _ => None,
    }
}

/// The decomposition an expression computes, and of what: `a.lu()`, `a.qr()`,
/// `a.cholesky().unwrap()`.
pub(super) fn decomposition_of(expr: &Expr) -> Option<(Decomposition, &Expr)> {
    if let Some(a) = call_of(expr, "lu") {
        return Some((Decomposition::Lu, a));
    }
    if let Some(a) = call_of(expr, "qr") {
        return Some((Decomposition::Qr, a));
    }
    let a = call_of(unwrapped(expr)?, "cholesky")?;
    Some((Decomposition::Cholesky, a))
}

impl Lowerer<'_> {
    /// A decomposition of `kind` that `expr` computes or names.
    fn decomposition<'e>(&self, expr: &'e Expr, kind: Decomposition) -> Option<Of<'e>> {
        if let Some((found, a)) = decomposition_of(expr) {
            return (found == kind).then_some(Of::Written(a));
        }
        let Expr::Path(p) = expr else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        match self.decompositions.get(&name) {
            Some((found, op)) if *found == kind => Some(Of::Bound(op.clone())),
            _ => None,
        }
    }

    /// The runtime function and its operands for a decomposition chain ending in the call `m`.
    fn chain<'e>(&self, m: &'e ExprMethodCall) -> Option<(&'static str, Of<'e>, Vec<&'e Expr>)> {
        // `a.lu().solve(&b).unwrap()`, `a.qr().solve(&b).unwrap()`, `a.try_inverse().unwrap()`.
        if is_unwrapping(m) {
            let inner = &*m.receiver;
            if let Expr::MethodCall(solve) = inner {
                if solve.method == "solve" && solve.args.len() == 1 {
                    if let Some(a) = self.decomposition(&solve.receiver, Decomposition::Lu) {
                        return Some(("solve_by_lu", a, vec![&solve.args[0]]));
                    }
                    if let Some(a) = self.decomposition(&solve.receiver, Decomposition::Qr) {
                        return Some(("solve_by_qr", a, vec![&solve.args[0]]));
                    }
                }
            }
            let a = call_of(inner, "try_inverse")?;
            return Some(("inverse_by_lu", Of::Written(a), vec![]));
        }
        // `a.cholesky().unwrap().solve(&b)`, `chol.ln_determinant()`.
        let a = self.decomposition(&m.receiver, Decomposition::Cholesky)?;
        match (m.method.to_string().as_str(), m.args.len()) {
            ("solve", 1) => Some(("solve_by_cholesky", a, vec![&m.args[0]])),
            ("ln_determinant", 0) => Some(("ln_determinant_by_cholesky", a, vec![])),
            ("l", 0) => Some(("cholesky_l", a, vec![])),
            _ => None,
        }
    }

    pub(super) fn is_linalg_chain(&self, m: &ExprMethodCall) -> bool {
        self.chain(m).is_some()
    }

    /// A decomposition chain as one call of the runtime's `linalg` module, if `m` ends one.
    pub(super) fn lower_linalg_chain(&mut self, m: &ExprMethodCall) -> Option<Value> {
        let (function, of, args) = self.chain(m)?;
        let receiver = match of {
            Of::Written(a) => self.lower_expr(a),
            Of::Bound(op) => op,
        };
        let args: Vec<Operand> = args.iter().map(|e| self.lower_expr(e)).collect();
        let kind = super::calls::method_kind(function, args.len());
        Some(Value::Method {
            receiver,
            method: Ident::new(function, m.method.span()),
            turbofish: None,
            qualified: Some(quote!(::nabla::__private::linalg)),
            args,
            kind,
        })
    }

    /// `let chol = k.cholesky().unwrap();`: a Cholesky factor becomes a value of its own, which
    /// its solves and log-determinant share; an LU or QR decomposition binds the name to the
    /// decomposition of `k` (see the module documentation). Returns whether `init` was one.
    pub(super) fn bind_decomposition(&mut self, name: &Ident, init: &Expr) -> bool {
        let Some((kind, a)) = decomposition_of(init) else {
            return false;
        };
        let op = self.lower_expr(a);
        if kind == Decomposition::Cholesky {
            let span = name.span();
            let factor = Value::Method {
                receiver: op,
                method: Ident::new("cholesky_factor", span),
                turbofish: None,
                qualified: Some(quote!(::nabla::__private::linalg)),
                args: Vec::new(),
                kind: super::calls::method_kind("cholesky_factor", 0),
            };
            let factor = self.operand_of(factor, span);
            if let Some(v) = factor.var() {
                self.factors.insert(v);
            }
            self.bind_name(name, true, factor, None, span);
            return true;
        }
        // The matrix as it is at the binding: a location may be assigned before the solve.
        let op = match op {
            Operand::Var(v) if self.vars[v.0].is_location => {
                let copy = self.new_temp();
                self.push_let(copy, Value::Use(Operand::Var(v)), name.span());
                Operand::Var(copy)
            }
            other => other,
        };
        self.decompositions.insert(name.to_string(), (kind, op));
        true
    }

    /// The rule of a method of a bound Cholesky factor, or `None` for one without.
    pub(super) fn factor_method(
        &self,
        receiver: &Operand,
        name: &str,
        args: usize,
    ) -> Option<MethodKind> {
        if !receiver.var().is_some_and(|v| self.factors.contains(&v)) {
            return None;
        }
        let rule = match (name, args) {
            ("solve", 1) => "factor_solve",
            ("ln_determinant", 0) => "factor_ln_determinant",
            ("l", 0) => "factor_l",
            _ => return Some(MethodKind::Unknown),
        };
        Some(super::calls::method_kind(rule, args))
    }
}
