//! Random expressions for `gen`: every one in range (proven by `bounds`), of magnitude at most
//! `WRAP` unless asked otherwise, and never a method call on a bare literal.

use super::{Gen, CALL_COST_CAP, WRAP};
use crate::ast::*;
use crate::bounds::ARG_LIMIT;
use crate::library::Callee;
use crate::scope::Kind;

impl Gen<'_> {
    /// An expression that carries gradient.
    pub(super) fn active_expr(&mut self, depth: u32) -> Expr {
        let e = self.expr(depth);
        if self.active(&e) {
            return e;
        }
        let a = self.active_atom();
        let combined = match self.rng.below(3) {
            0 => Expr::bin(BinOp::Add, e, a),
            1 => Expr::bin(BinOp::Mul, a, e),
            _ => Expr::bin(BinOp::Sub, a, e),
        };
        // `settle` falls back to a fresh atom when the combination leaves its range, and that
        // atom may be a literal (which would not carry gradient, nor have a known float type).
        let settled = self.settle(combined);
        if self.active(&settled) {
            settled
        } else {
            self.active_atom()
        }
    }

    /// An expression of magnitude at most `WRAP`.
    pub(super) fn expr(&mut self, depth: u32) -> Expr {
        if depth == 0 || self.rng.chance(0.25) {
            return self.atom();
        }
        let d = depth - 1;
        // + - *, negation, scale, bounded method, exp family, domain-restricted method or
        // division, powi, abs, max/min, hypot, mul_add, call
        let kind = self.rng.weighted(&[30, 3, 6, 16, 6, 12, 5, 2, 5, 2, 2, 7]);
        let e = match kind {
            0 => {
                let op = *self.rng.pick(&[BinOp::Add, BinOp::Sub, BinOp::Mul]);
                let a = self.expr(d);
                let b = self.expr(d);
                Expr::bin(op, a, b)
            }
            1 => match self.expr(d) {
                Expr::Lit(v) => Expr::Lit(-v),
                a => Expr::Neg(Box::new(a)),
            },
            2 => {
                let a = self.expr(d);
                Expr::bin(BinOp::Mul, Expr::Lit(self.rng.literal(2.0)), a)
            }
            3 => {
                let m = *self.rng.pick(&[
                    Method1::Sin,
                    Method1::Cos,
                    Method1::Tanh,
                    Method1::Atan,
                    Method1::Asinh,
                ]);
                let a = self.receiver(d);
                Expr::unary(m, a)
            }
            4 => {
                let m =
                    *self
                        .rng
                        .pick(&[Method1::Exp, Method1::ExpM1, Method1::Sinh, Method1::Cosh]);
                let a = self.receiver(d);
                let a = self.squash(a, 2.0);
                Expr::unary(m, a)
            }
            5 => self.restricted(d),
            6 => {
                let k = *self.rng.pick(&[2, 2, 3, 4, -1, -2]);
                let a = if k < 0 {
                    self.positive(d)
                } else {
                    let a = self.receiver(d);
                    self.squash(a, 2.0)
                };
                Expr::unary(Method1::Powi(k), a)
            }
            7 => {
                let a = self.receiver(d);
                Expr::unary(Method1::Abs, a)
            }
            8 => {
                let m = *self.rng.pick(&[Method2::Max, Method2::Min]);
                let a = self.receiver(d);
                let b = if self.rng.chance(0.4) {
                    Expr::Lit(self.rng.literal(1.0))
                } else {
                    self.expr(d)
                };
                if a == b {
                    a
                } else {
                    Expr::binary(m, a, b)
                }
            }
            9 => {
                let a = self.receiver(d);
                let b = self.expr(d);
                Expr::binary(Method2::Hypot, a, b)
            }
            10 => {
                let x = self.receiver(d);
                let a = self.expr(d);
                let b = self.expr(d);
                Expr::MulAdd(Box::new(x), Box::new(a), Box::new(b))
            }
            _ => match self.call(d) {
                Some(c) => c,
                None => self.atom(),
            },
        };
        self.settle(e)
    }

    /// `ln`, `ln_1p`, `sqrt`, `powf`, `atan2`, `recip` or a division, each on an operand kept
    /// inside its domain (`(x.powi(2) + 0.5).ln()`, ..).
    pub(super) fn restricted(&mut self, d: u32) -> Expr {
        match self.rng.below(7) {
            0 => {
                let a = self.positive(d);
                Expr::unary(Method1::Ln, a)
            }
            1 => {
                let a = self.positive(d);
                Expr::unary(Method1::Sqrt, a)
            }
            2 => {
                let a = self.receiver(d);
                let a = match self.eval(&a) {
                    Some(v) if v.iv.lo >= -0.5 => a,
                    _ => Expr::unary(Method1::Abs, a),
                };
                Expr::unary(Method1::Ln1p, a)
            }
            3 => {
                let base = self.positive(d);
                let e = self.expr(d);
                let e = self.squash(e, 2.0);
                Expr::binary(Method2::Powf, base, e)
            }
            4 => {
                let y = self.receiver(d);
                let x = self.positive(d);
                Expr::binary(Method2::Atan2, y, x)
            }
            5 => {
                let a = self.positive(d);
                Expr::unary(Method1::Recip, a)
            }
            _ => {
                let num = self.expr(d);
                let den = self.positive(d);
                let den = if self.rng.chance(0.3) {
                    Expr::Neg(Box::new(den))
                } else {
                    den
                };
                Expr::div(num, den)
            }
        }
    }

    /// An expression at least 0.3: a positive form around a random operand (or the operand
    /// itself when it is already), the `#[no_grad]` scale, or a literal.
    pub(super) fn positive(&mut self, d: u32) -> Expr {
        let x = self.receiver(d);
        let c = || (5.0 + d as f64 * 2.0) / 10.0;
        let e = match self.rng.below(6) {
            0 => Expr::bin(BinOp::Add, Expr::unary(Method1::Powi(2), x), Expr::Lit(c())),
            1 => Expr::bin(BinOp::Add, Expr::unary(Method1::Abs, x), Expr::Lit(c())),
            2 => Expr::bin(BinOp::Add, Expr::unary(Method1::Cos, x), Expr::Lit(1.5)),
            3 => Expr::bin(BinOp::Add, Expr::unary(Method1::Tanh, x), Expr::Lit(1.4)),
            4 => {
                let x = self.squash(x, 1.0);
                Expr::unary(Method1::Exp, x)
            }
            _ => match self.eval(&x) {
                Some(v) if v.iv.lo >= 0.3 => x,
                _ => Expr::bin(BinOp::Add, Expr::unary(Method1::Powi(2), x), Expr::Lit(0.5)),
            },
        };
        match self.eval(&e) {
            Some(v) if v.iv.lo >= 0.3 && v.iv.mag() <= WRAP * 4.0 => e,
            // In [0.4, 2.4] whatever the operand, and never a bare literal (it may be a
            // receiver).
            _ => {
                let a = self.active_atom();
                Expr::bin(BinOp::Add, Expr::unary(Method1::Tanh, a), Expr::Lit(1.4))
            }
        }
    }

    /// An operand for a method call: never a bare literal, whose float type rustc would leave
    /// open (`0.5.sin()` does not compile).
    pub(super) fn receiver(&mut self, d: u32) -> Expr {
        let e = self.expr(d);
        if has_typed_leaf(&e) {
            e
        } else {
            self.active_atom()
        }
    }

    /// A call of a helper or an earlier program whose arguments can be supplied here.
    pub(super) fn call(&mut self, d: u32) -> Option<Expr> {
        let counts: Vec<(String, usize)> = self
            .scope
            .visible()
            .into_iter()
            .filter_map(|b| match b.kind {
                Kind::Count { value } => Some((b.name.clone(), value)),
                _ => None,
            })
            .collect();
        let arrays = self.arrays();
        let slices = self.containers(false);
        let constants: Vec<String> = self
            .scope
            .visible()
            .into_iter()
            .filter(|b| b.kind == Kind::Constant)
            .map(|b| b.name.clone())
            .collect();
        let usable: Vec<&Callee> = self
            .callees
            .iter()
            .filter(|c| c.cost * self.trips <= CALL_COST_CAP)
            .filter(|c| {
                c.params.iter().all(|p| match p {
                    ParamTy::Array3 => !arrays.is_empty(),
                    ParamTy::Slice(max) => slices.iter().any(|(_, len)| len <= max),
                    _ => true,
                })
            })
            .collect();
        // Helpers half the time: there are a dozen of them, and hundreds of earlier programs.
        let (helpers, programs): (Vec<&Callee>, Vec<&Callee>) =
            usable.into_iter().partition(|c| c.name.starts_with("h_"));
        let pool = if programs.is_empty() || (!helpers.is_empty() && self.rng.chance(0.5)) {
            helpers
        } else {
            programs
        };
        if pool.is_empty() {
            return None;
        }
        let callee = (*self.rng.pick(&pool)).clone();
        let mut args = Vec::new();
        for p in &callee.params {
            args.push(match p {
                ParamTy::Scalar => {
                    let e = self.expr(d);
                    Arg::Value(self.squash(e, ARG_LIMIT))
                }
                ParamTy::NoGradF64(_) => match constants.first() {
                    Some(k) if self.rng.chance(0.6) => Arg::Value(Expr::Var(k.clone())),
                    _ => Arg::Value(Expr::Lit(0.5 + self.rng.below(101) as f64 / 100.0)),
                },
                ParamTy::NoGradUsize(max) => match counts.iter().find(|(_, v)| v <= max) {
                    Some((n, value)) if self.rng.chance(0.6) => Arg::Count(Len {
                        kind: LenKind::Param(n.clone()),
                        value: *value,
                    }),
                    _ => Arg::Count(Len {
                        kind: LenKind::Lit,
                        value: self.rng.between(1, *max),
                    }),
                },
                ParamTy::Array3 => {
                    let a = self.rng.pick(&arrays).clone();
                    self.used.insert(a.clone());
                    Arg::Whole(a)
                }
                ParamTy::Slice(max) => {
                    let fitting: Vec<&(String, usize)> =
                        slices.iter().filter(|(_, len)| len <= max).collect();
                    let name = self.rng.pick(&fitting).0.clone();
                    self.used.insert(name.clone());
                    match self.scope.get(&name).expect("slice").kind {
                        Kind::Buffer { .. } => Arg::Borrow(name),
                        _ => Arg::Whole(name),
                    }
                }
            });
        }
        Some(Expr::Call(callee.name.clone(), args))
    }

    /// `e` if its magnitude is at most `limit`, else `e` squashed below it.
    pub(super) fn squash(&mut self, e: Expr, limit: f64) -> Expr {
        let Some(v) = self.eval(&e) else {
            return self.active_atom();
        };
        let mag = v.iv.mag();
        if mag <= limit {
            return e;
        }
        if !has_typed_leaf(&e) {
            // A constant: a smaller literal (a method on it would not compile).
            let v = (0.9 * limit * 100.0).floor() / 100.0;
            return Expr::Lit(if v.is_sign_negative() { -v } else { v });
        }
        if limit >= 1.0 && self.rng.chance(0.5) {
            // A scale that brings it under the limit, rounded down to two decimals.
            let s = ((limit / mag) * 100.0).floor() / 100.0;
            if s >= 0.01 {
                return Expr::bin(BinOp::Mul, Expr::Lit(s), e);
            }
        }
        let m = *self.rng.pick(&[Method1::Tanh, Method1::Atan, Method1::Sin]);
        let squashed = Expr::unary(m, e);
        match self.eval(&squashed) {
            Some(v) if v.iv.mag() <= limit => squashed,
            _ => Expr::bin(
                BinOp::Mul,
                Expr::Lit(0.5),
                Expr::unary(Method1::Tanh, squashed),
            ),
        }
    }

    /// `e` if it is in range and at most `WRAP` in magnitude; squashed if it is larger; a fresh
    /// atom if it is out of any range (a domain or a limit of `bounds`).
    pub(super) fn settle(&mut self, e: Expr) -> Expr {
        match self.eval(&e) {
            None => self.atom(),
            Some(v) if v.iv.mag() <= WRAP => e,
            Some(_) => self.squash(e, WRAP),
        }
    }

    /// A leaf: a scalar in scope (locals preferred), an element read, an index as a float, the
    /// `#[no_grad]` scale, or a literal.
    pub(super) fn atom(&mut self) -> Expr {
        let mut options: Vec<(Expr, u32)> = Vec::new();
        for b in self.scope.visible() {
            match b.kind {
                Kind::Scalar => options.push((
                    Expr::Var(b.name.clone()),
                    match (b.param, b.active) {
                        // A parameter nothing has read yet: so that each one feeds the body,
                        // not only the result's light term.
                        (true, _) if !self.used.contains(&b.name) => 10,
                        (true, _) => 3,
                        (false, true) => 6,
                        (false, false) => 2,
                    },
                )),
                Kind::Constant => options.push((Expr::Var(b.name.clone()), 1)),
                Kind::Index { .. } | Kind::Count { .. } => {
                    options.push((Expr::AsF64(b.name.clone()), 1))
                }
                Kind::Array { .. } | Kind::Slice { .. } | Kind::Buffer { .. } if b.settled => {
                    options.push((Expr::Elem(b.name.clone(), Index::Lit(0)), 4));
                    options.push((Expr::Sum(b.name.clone(), None), 1));
                }
                _ => {}
            }
        }
        options.push((Expr::Lit(0.0), 2));
        let weights: Vec<u32> = options.iter().map(|o| o.1).collect();
        let pick = options.swap_remove(self.rng.weighted(&weights)).0;
        match pick {
            Expr::Lit(_) => Expr::Lit(self.rng.literal(2.0)),
            Expr::Elem(name, _) => {
                let len = self
                    .scope
                    .get(&name)
                    .and_then(|b| b.kind.len())
                    .expect("len");
                let i = self.index(&name, len);
                self.used.insert(name.clone());
                Expr::Elem(name, i)
            }
            Expr::Var(name) => {
                self.used.insert(name.clone());
                Expr::Var(name)
            }
            Expr::AsF64(name) => {
                self.used.insert(name.clone());
                Expr::AsF64(name)
            }
            Expr::Sum(name, _) => {
                self.used.insert(name.clone());
                let map = match self.rng.below(6) {
                    0 => Some(Map::Square),
                    1 => Some(Map::Sin),
                    2 => Some(Map::Abs),
                    3 => Some(Map::HalfTanh),
                    _ => None,
                };
                Expr::Sum(name, map)
            }
            e => e,
        }
    }

    /// A scalar, or an element of a container, that carries gradient.
    pub(super) fn active_atom(&mut self) -> Expr {
        let mut options: Vec<Expr> = Vec::new();
        for b in self.scope.visible() {
            if !b.active || !b.settled {
                continue;
            }
            match b.kind {
                Kind::Scalar => options.push(Expr::Var(b.name.clone())),
                Kind::Array { .. } | Kind::Slice { .. } | Kind::Buffer { .. } => {
                    options.push(Expr::Elem(b.name.clone(), Index::Lit(0)))
                }
                _ => {}
            }
        }
        let pick = self.rng.pick(&options).clone();
        match pick {
            Expr::Elem(name, _) => {
                let len = self
                    .scope
                    .get(&name)
                    .and_then(|b| b.kind.len())
                    .expect("len");
                let i = self.index(&name, len);
                self.used.insert(name.clone());
                Expr::Elem(name, i)
            }
            Expr::Var(name) => {
                self.used.insert(name.clone());
                Expr::Var(name)
            }
            e => e,
        }
    }

    /// Loop indices in scope, with their largest value.
    pub(super) fn indices(&self) -> Vec<(String, usize, usize)> {
        self.scope
            .visible()
            .into_iter()
            .filter_map(|b| match b.kind {
                Kind::Index { min, max } => Some((b.name.clone(), min, max)),
                _ => None,
            })
            .collect()
    }

    /// An index valid for `container` of length `len`: a literal, or a loop index (as it is,
    /// `i - 1`, reversed or wrapped) that stays below `len`.
    pub(super) fn index(&mut self, container: &str, len: usize) -> Index {
        self.index_with(container, len, false)
    }

    /// An index for writing an element: `buf[buf.len() - 1 - i] = ..` does not pass the borrow
    /// checker (`buf.len()` borrows what `IndexMut` already borrows), so the length is a literal.
    pub(super) fn write_index(&mut self, container: &str, len: usize) -> Index {
        self.index_with(container, len, true)
    }

    pub(super) fn index_with(&mut self, container: &str, len: usize, write: bool) -> Index {
        let own = Len {
            kind: if write {
                LenKind::Lit
            } else {
                LenKind::Of(container.to_string())
            },
            value: len,
        };
        let mut options = vec![Index::Lit(self.rng.below(len))];
        for (i, min, max) in self.indices() {
            options.push(Index::Wrap(i.clone(), self.rng.between(1, 2), own.clone()));
            if max < len {
                options.push(Index::Var(i.clone()));
                options.push(Index::Var(i.clone()));
                options.push(Index::Rev(i.clone(), own.clone()));
                if min >= 1 {
                    options.push(Index::Prev(i.clone()));
                }
            }
        }
        let i = self.rng.pick(&options).clone();
        match &i {
            Index::Var(v) | Index::Prev(v) | Index::Rev(v, _) | Index::Wrap(v, ..) => {
                self.used.insert(v.clone());
            }
            Index::Lit(_) => {}
        }
        i
    }

    /// Arrays in scope.
    pub(super) fn arrays(&self) -> Vec<String> {
        self.scope
            .visible()
            .into_iter()
            .filter(|b| matches!(b.kind, Kind::Array { .. }))
            .map(|b| b.name.clone())
            .collect()
    }

    /// Slices and buffers in scope (and arrays, if `arrays`), with their lengths.
    pub(super) fn containers(&self, arrays: bool) -> Vec<(String, usize)> {
        self.scope
            .visible()
            .into_iter()
            .filter(|b| b.settled)
            .filter_map(|b| match b.kind {
                Kind::Slice { len } | Kind::Buffer { len } => Some((b.name.clone(), len)),
                Kind::Array { len } if arrays => Some((b.name.clone(), len)),
                _ => None,
            })
            .collect()
    }
}

/// Whether `e` has a leaf whose type rustc knows is `f64`.
pub(super) fn has_typed_leaf(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => false,
        Expr::Var(_) | Expr::AsF64(_) | Expr::Elem(..) | Expr::Call(..) | Expr::Sum(..) => true,
        Expr::Neg(a) | Expr::Unary(_, a) => has_typed_leaf(a),
        Expr::Bin(_, a, b) | Expr::Div(a, b) | Expr::Binary(_, a, b) => {
            has_typed_leaf(a) || has_typed_leaf(b)
        }
        Expr::MulAdd(x, a, b) => has_typed_leaf(x) || has_typed_leaf(a) || has_typed_leaf(b),
        Expr::If(_, a, b) => has_typed_leaf(a) || has_typed_leaf(b),
    }
}
