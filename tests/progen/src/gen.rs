//! Random programs of the language `#[differentiable]` accepts.
//!
//! Every program is built so that its check is meaningful and its rejection would be a bug:
//!
//! - every value stays bounded (each statement is accepted only if `bounds` proves it, loops
//!   for as many iterations as they can run), so nothing overflows or leaves a domain;
//! - every value assigned carries gradient, so no branch on a condition that carries gradient
//!   sets a variable only to constants (which the macro rightly rejects);
//! - comparisons only decide, never become numbers;
//! - every parameter that carries gradient reaches the result (a light `+ 0.1 * p` term each),
//!   and every local that nothing reads is folded into the result, so that all the code counts.

use crate::ast::*;
use crate::bounds::{self, Ctx, Iv, ARG_LIMIT};
use crate::library::Callee;
use crate::rng::Rng;
use crate::scope::{Binding, Kind, Scope};
use std::collections::BTreeSet;

/// Magnitude above which a generated expression is squashed (`tanh`, `atan`, a scale) before
/// it is used further: keeps products of products small.
const WRAP: f64 = 4.0;
/// Rough number of operations one program may run, calls and loop trips included: keeps the
/// checks (a few hundred runs of each program) fast.
const COST_CAP: u64 = 5_000;
/// A call is made only if it costs at most this much, times the trips of the loops around it.
const CALL_COST_CAP: u64 = 3_000;
/// Loops nest at most this deep, and `if`s and loops together at most `NEST_CAP` deep.
const LOOP_CAP: usize = 2;
const NEST_CAP: usize = 3;

/// How large the programs are: top-level statements, and the depth of expression trees.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub statements: (usize, usize),
    pub depth: u32,
}

/// A random program named `name`, and what a later program needs to call it (only programs of
/// scalar parameters are callable).
pub fn program(name: &str, rng: Rng, callees: &[Callee], size: Size) -> (Program, Option<Callee>) {
    let mut rng = rng;
    let params = signature(&mut rng);
    let mut g = Gen::new(rng, callees, &params, size);
    let n = g.rng.between(size.statements.0, size.statements.1);
    let mut body = Vec::new();
    for _ in 0..n {
        body.extend(g.statement());
    }
    let result = g.result(&params);

    // The whole program, analysed once more from the start: its result range and its cost.
    let mut scope = initial_scope(&params);
    let mut ctx = Ctx::new(callees);
    bounds::exec_block(&body, &mut scope, &mut ctx).expect("each statement was checked");
    let out = bounds::eval(&result, &scope, &mut ctx).expect("the result was checked");
    let callable = params
        .iter()
        .all(|p| !matches!(p.ty, ParamTy::Array3 | ParamTy::Slice(_)));
    let callee = callable.then(|| Callee {
        name: name.to_string(),
        params: params.iter().map(|p| p.ty.clone()).collect(),
        out: out.iv,
        cost: ctx.cost,
    });
    let program = Program {
        name: name.to_string(),
        params,
        body,
        result,
    };
    (program, callee)
}

/// 2–4 scalars, sometimes an array, a slice, a `#[no_grad]` scale or count, in any order.
fn signature(rng: &mut Rng) -> Vec<Param> {
    let mut params = Vec::new();
    for name in ["a", "b", "c", "d"].iter().take(rng.between(2, 4)) {
        params.push(Param {
            name: name.to_string(),
            ty: ParamTy::Scalar,
        });
    }
    let mut extra = |name: &str, ty: ParamTy| {
        params.push(Param {
            name: name.to_string(),
            ty,
        })
    };
    if rng.chance(0.25) {
        extra("p", ParamTy::Array3);
    }
    if rng.chance(0.25) {
        extra("xs", ParamTy::Slice(rng.between(3, 5)));
    }
    if rng.chance(0.3) {
        extra("k", ParamTy::NoGradF64(0.5 + rng.below(101) as f64 / 100.0));
    }
    if rng.chance(0.3) {
        extra("n", ParamTy::NoGradUsize(rng.between(1, 4)));
    }
    for i in (1..params.len()).rev() {
        params.swap(i, rng.below(i + 1));
    }
    params
}

/// The range the checks draw inputs from, and the facts a function body starts from.
pub const INPUT: f64 = 1.5;

fn initial_scope(params: &[Param]) -> Scope {
    let mut scope = Scope::new();
    let input = Iv::new(-INPUT, INPUT);
    for p in params {
        let (kind, iv) = match p.ty {
            ParamTy::Scalar => (Kind::Scalar, input),
            ParamTy::Array3 => (Kind::Array { len: 3 }, input),
            ParamTy::Slice(len) => (Kind::Slice { len }, input),
            ParamTy::NoGradF64(_) => (Kind::Constant, Iv::new(0.5, 1.5)),
            ParamTy::NoGradUsize(value) => (Kind::Count { value }, Iv::new(0.0, value as f64)),
        };
        let mut b = Binding::new(&p.name, kind, iv);
        b.param = true;
        b.active = p.ty.carries_gradient();
        scope.bind(b);
    }
    scope
}

struct Gen<'a> {
    rng: Rng,
    scope: Scope,
    callees: &'a [Callee],
    size: Size,
    fresh: usize,
    /// Names read since they were bound: the locals left out of it are folded into the result.
    used: BTreeSet<String>,
    /// Product of the trip counts of the loops around the code being built.
    trips: u64,
    loops: usize,
    nesting: usize,
    /// Operations of the top-level statements so far.
    spent: u64,
}

impl<'a> Gen<'a> {
    fn new(rng: Rng, callees: &'a [Callee], params: &[Param], size: Size) -> Gen<'a> {
        Gen {
            rng,
            scope: initial_scope(params),
            callees,
            size,
            fresh: 0,
            used: BTreeSet::new(),
            trips: 1,
            loops: 0,
            nesting: 0,
            spent: 0,
        }
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn eval(&self, e: &Expr) -> Option<bounds::Value> {
        bounds::eval(e, &self.scope, &mut Ctx::new(self.callees)).ok()
    }

    fn active(&self, e: &Expr) -> bool {
        self.eval(e).is_some_and(|v| v.active)
    }

    // ---- statements ----------------------------------------------------------------------

    /// One statement (or a few that belong together), accepted only if it keeps every value in
    /// range and the program within its cost; a few tries, else nothing.
    fn statement(&mut self) -> Vec<Stmt> {
        for _ in 0..4 {
            let (scope, used, fresh) = (self.scope.clone(), self.used.clone(), self.fresh);
            let stmts = self.pick_statement();
            self.scope = scope;
            let mut trial = self.scope.clone();
            let mut ctx = Ctx::new(self.callees);
            let ok = bounds::exec_block(&stmts, &mut trial, &mut ctx).is_ok();
            let before = if self.nesting == 0 { self.spent } else { 0 };
            if ok && before + ctx.cost * self.trips <= COST_CAP {
                self.scope = trial;
                if self.nesting == 0 {
                    self.spent += ctx.cost;
                }
                return stmts;
            }
            self.used = used;
            self.fresh = fresh;
        }
        Vec::new()
    }

    fn pick_statement(&mut self) -> Vec<Stmt> {
        let top = self.nesting == 0;
        let can_nest = self.nesting < NEST_CAP;
        let can_loop = can_nest && self.loops < LOOP_CAP;
        let has_container = !self.containers(false).is_empty();
        // let, let mut, update, if, for, for-each, buffer, shadowing let
        let weights = [
            if top { 30 } else { 15 },
            if top { 10 } else { 0 },
            if top { 15 } else { 55 },
            if can_nest { 12 } else { 0 },
            if can_loop { if top { 18 } else { 8 } } else { 0 },
            if can_loop && has_container { 5 } else { 0 },
            if top { 8 } else { 0 },
            4,
        ];
        match self.rng.weighted(&weights) {
            0 => vec![self.let_stmt()],
            1 => vec![self.accumulator()],
            2 => self.update().into_iter().collect(),
            3 => self.if_stmt(),
            4 => self.for_loop(),
            5 => self.for_each(),
            6 => self.buffer(),
            _ => self.shadow().into_iter().collect(),
        }
    }

    /// Executes `s` on the scope being built (so that what follows sees it) and records it.
    fn commit(&mut self, s: Stmt, out: &mut Vec<Stmt>) {
        bounds::exec(&s, &mut self.scope, &mut Ctx::new(self.callees))
            .expect("only statements proven in range are committed");
        out.push(s);
    }

    fn let_stmt(&mut self) -> Stmt {
        let value = if self.rng.chance(0.15) {
            self.if_expr()
        } else {
            let depth = self.size.depth;
            self.active_expr(depth)
        };
        let name = self.name("v");
        Stmt::Let {
            name,
            mutable: false,
            typed: false,
            value,
        }
    }

    /// `let mut acc: f64 = 0.0;` or `let mut s = <expr>;`
    fn accumulator(&mut self) -> Stmt {
        if self.rng.chance(0.5) {
            let init = *self.rng.pick(&[0.0, 1.0, 0.5]);
            Stmt::Let {
                name: self.name("acc"),
                mutable: true,
                typed: true,
                value: Expr::Lit(init),
            }
        } else {
            let value = self.active_expr(2);
            Stmt::Let {
                name: self.name("s"),
                mutable: true,
                typed: false,
                value,
            }
        }
    }

    /// Makes sure something mutable is in scope for a loop or branch to update.
    fn ensure_target(&mut self, out: &mut Vec<Stmt>) {
        if self.targets().is_empty() {
            let s = self.accumulator();
            self.commit(s, out);
        }
    }

    /// Mutable scalars and buffers in scope.
    fn targets(&self) -> Vec<String> {
        self.scope
            .visible()
            .into_iter()
            .filter(|b| b.mutable && matches!(b.kind, Kind::Scalar | Kind::Buffer { .. }))
            .map(|b| b.name.clone())
            .collect()
    }

    /// `x op= <expr>` on a mutable scalar or a buffer element; the value always carries
    /// gradient.
    fn update(&mut self) -> Option<Stmt> {
        let targets = self.targets();
        if targets.is_empty() {
            return None;
        }
        let target = self.rng.pick(&targets).clone();
        let b = self.scope.get(&target).expect("target").clone();
        let place = match b.kind {
            Kind::Buffer { len } => Place::Elem(target.clone(), self.index(&target, len)),
            _ => Place::Var(target.clone()),
        };
        let op = [AssignOp::Set, AssignOp::Add, AssignOp::Sub, AssignOp::Mul]
            [self.rng.weighted(&[3, 5, 2, 2])];
        let value = match op {
            AssignOp::Mul => self.factor(),
            AssignOp::Set if self.rng.chance(0.5) && b.settled => {
                // A leaky recurrence: `acc = 0.6 * acc + ..` (or of the element).
                let current = match &place {
                    Place::Var(n) => Expr::Var(n.clone()),
                    Place::Elem(n, i) => Expr::Elem(n.clone(), i.clone()),
                };
                let keep = Expr::Lit(self.rng.between(2, 9) as f64 / 10.0);
                let depth = self.size.depth - 1;
                let fresh = self.active_expr(depth);
                Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, keep, current), fresh)
            }
            _ => {
                let depth = self.size.depth;
                self.active_expr(depth)
            }
        };
        Some(Stmt::Assign { place, op, value })
    }

    /// A factor for `*=`, of magnitude at most about 1.3, so that loops do not blow up.
    fn factor(&mut self) -> Expr {
        let e = self.active_expr(2);
        match self.rng.below(3) {
            0 => Expr::bin(
                BinOp::Add,
                Expr::Lit(0.8),
                Expr::bin(
                    BinOp::Mul,
                    Expr::Lit(0.4),
                    Expr::unary(Method1::Sin, e),
                ),
            ),
            1 => Expr::unary(Method1::Tanh, e),
            _ => {
                let wrapped = self.squash(e, 1.3);
                Expr::bin(BinOp::Mul, Expr::Lit(0.9), wrapped)
            }
        }
    }

    /// `let x = <expr using x>;` — a `let` that shadows a scalar of the current frame.
    fn shadow(&mut self) -> Option<Stmt> {
        let names: Vec<String> = self
            .scope
            .visible()
            .into_iter()
            .filter(|b| {
                b.kind == Kind::Scalar && !b.mutable && self.scope.in_current_frame(&b.name)
            })
            .map(|b| b.name.clone())
            .collect();
        if names.is_empty() {
            return None;
        }
        let name = self.rng.pick(&names).clone();
        self.used.insert(name.clone());
        let depth = self.size.depth - 1;
        let other = self.expr(depth);
        let op = *self.rng.pick(&[BinOp::Add, BinOp::Sub, BinOp::Mul]);
        let value = self.settle(Expr::bin(op, Expr::Var(name.clone()), other));
        // The new binding is unread so far.
        self.used.remove(&name);
        Some(Stmt::Let {
            name,
            mutable: false,
            typed: false,
            value,
        })
    }

    /// A block of 1–`max` statements, at least one of which updates something outside it.
    fn body(&mut self, max: usize) -> Vec<Stmt> {
        self.nesting += 1;
        let mut stmts = Vec::new();
        for _ in 0..self.rng.between(1, max) {
            stmts.extend(self.statement());
        }
        if !stmts.iter().any(assigns) {
            for _ in 0..4 {
                let (scope, used) = (self.scope.clone(), self.used.clone());
                if let Some(u) = self.update() {
                    let mut trial = scope.clone();
                    if bounds::exec(&u, &mut trial, &mut Ctx::new(self.callees)).is_ok() {
                        self.scope = trial;
                        stmts.push(u);
                        break;
                    }
                }
                self.scope = scope;
                self.used = used;
            }
        }
        self.nesting -= 1;
        stmts
    }

    fn if_stmt(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.ensure_target(&mut out);
        let cond = self.cond();
        let before = self.scope.clone();
        self.scope.push();
        let then = self.body(2);
        self.scope.pop();
        // The `else` arm starts from what holds before the `if`, not after its `then` arm.
        let after_then = std::mem::replace(&mut self.scope, before);
        let els = if self.rng.chance(0.6) {
            self.scope.push();
            let els = self.body(2);
            self.scope.pop();
            els
        } else {
            Vec::new()
        };
        self.scope.join(&after_then);
        out.push(Stmt::If { cond, then, els });
        out
    }

    /// A condition: on values that carry gradient mostly, on the loop index sometimes.
    fn cond(&mut self) -> Cond {
        let indices = self.indices();
        if !indices.is_empty() && self.rng.chance(0.25) {
            let i = self.rng.pick(&indices).0.clone();
            return if self.rng.chance(0.5) {
                Cond::Even(i)
            } else {
                Cond::Below(i, self.rng.between(1, 2))
            };
        }
        let op = *self.rng.pick(&[CmpOp::Lt, CmpOp::Gt, CmpOp::Le, CmpOp::Ge]);
        let left = self.active_expr(1);
        let right = if self.rng.chance(0.4) {
            Expr::Lit(self.rng.literal(1.0))
        } else {
            self.expr(1)
        };
        Cond::Cmp(op, left, right)
    }

    /// `let x = if c { .. } else { .. };` with at least one arm that carries gradient (an `if`
    /// that picks between constants is rightly rejected).
    fn if_expr(&mut self) -> Expr {
        let cond = self.cond();
        let depth = self.size.depth - 1;
        let a = self.active_expr(depth);
        let b = if self.rng.chance(0.2) {
            Expr::Lit(self.rng.literal(1.0))
        } else {
            self.active_expr(depth)
        };
        let (a, b) = if self.rng.chance(0.5) { (a, b) } else { (b, a) };
        Expr::If(Box::new(cond), Box::new(a), Box::new(b))
    }

    /// The end of a range: a literal, the `#[no_grad]` count, or a container's length.
    fn range_end(&mut self) -> Len {
        let mut options = vec![Len {
            kind: LenKind::Lit,
            value: self.rng.between(2, 5),
        }];
        for b in self.scope.visible() {
            match b.kind {
                Kind::Count { value } => options.push(Len {
                    kind: LenKind::Param(b.name.clone()),
                    value,
                }),
                Kind::Array { len } | Kind::Slice { len } | Kind::Buffer { len } => {
                    options.push(Len {
                        kind: LenKind::Of(b.name.clone()),
                        value: len,
                    })
                }
                _ => {}
            }
        }
        if options.len() > 1 && self.rng.chance(0.5) {
            options.swap_remove(1 + self.rng.below(options.len() - 1))
        } else {
            options.swap_remove(0)
        }
    }

    fn for_loop(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.ensure_target(&mut out);
        let end = self.range_end();
        let start = if end.value >= 2 && self.rng.chance(0.2) {
            1
        } else {
            0
        };
        let order = match self.rng.below(10) {
            0 => Order::Rev,
            1 => Order::StepBy(2),
            _ => Order::Forward,
        };
        let var = self.name("i");
        let trips = end.value.saturating_sub(start).max(1) as u64;
        let body = self.in_loop(
            trips,
            &[Binding::new(
                &var,
                Kind::Index {
                    min: start,
                    max: end.value.max(1) - 1,
                },
                Iv::new(start as f64, end.value as f64),
            )],
            3,
        );
        out.push(Stmt::For {
            var,
            start,
            end,
            order,
            body,
        });
        out
    }

    /// `for &v in xs.iter()` (or `.enumerate()`) over an array, slice or buffer.
    fn for_each(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.ensure_target(&mut out);
        let containers = self.containers(true);
        let Some((over, len)) = containers.get(self.rng.below(containers.len().max(1))).cloned()
        else {
            return out;
        };
        let c = self.scope.get(&over).expect("container").clone();
        let elem = self.name("e");
        let mut e = Binding::new(&elem, Kind::Scalar, c.iv);
        e.active = c.active;
        let mut bind = vec![e];
        let index = self.rng.chance(0.4).then(|| self.name("j"));
        if let Some(i) = &index {
            bind.push(Binding::new(
                i,
                Kind::Index {
                    min: 0,
                    max: len - 1,
                },
                Iv::new(0.0, len as f64),
            ));
        }
        self.used.insert(over.clone());
        let body = self.in_loop(len as u64, &bind, 3);
        out.push(Stmt::ForEach {
            elem,
            index,
            over,
            body,
        });
        out
    }

    /// The body of a loop that runs `trips` times with `bind` bound.
    fn in_loop(&mut self, trips: u64, bind: &[Binding], max: usize) -> Vec<Stmt> {
        self.scope.push();
        for b in bind {
            self.scope.bind(b.clone());
        }
        self.trips *= trips;
        self.loops += 1;
        let body = self.body(max);
        self.loops -= 1;
        self.trips /= trips;
        self.scope.pop();
        body
    }

    /// `let mut buf = vec![0.0; len];`, usually filled by a loop and sometimes scanned.
    fn buffer(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let len = match self.containers(false).first() {
            Some((name, len)) if self.rng.chance(0.3) => Len {
                kind: LenKind::Of(name.clone()),
                value: *len,
            },
            _ => Len {
                kind: LenKind::Lit,
                value: self.rng.between(3, 5),
            },
        };
        let fill = self.rng.chance(0.8);
        let name = self.name("buf");
        // Without a fill loop first, `vec![0.0; n]` would leave the element type open.
        let typed = !fill || self.rng.chance(0.3);
        self.commit(
            Stmt::Buffer {
                name: name.clone(),
                len: len.clone(),
                typed,
            },
            &mut out,
        );
        let own_len = Len {
            kind: LenKind::Of(name.clone()),
            value: len.value,
        };
        if fill {
            let s = self.element_loop(&name, 0, own_len.clone(), |g, i| {
                let value = g.active_expr(g.size.depth);
                Stmt::Assign {
                    place: Place::Elem(name.clone(), Index::Var(i.to_string())),
                    op: AssignOp::Set,
                    value,
                }
            });
            out.extend(s);
        }
        if len.value >= 2 && self.rng.chance(0.3) {
            // A scan: each element accumulates (a damped copy of) the one before.
            let s = self.element_loop(&name, 1, own_len, |g, i| {
                let prev = Expr::Elem(name.clone(), Index::Prev(i.to_string()));
                let c = Expr::Lit(g.rng.between(3, 9) as f64 / 10.0);
                let value = if g.rng.chance(0.5) {
                    Expr::bin(BinOp::Mul, c, prev)
                } else {
                    Expr::unary(Method1::Tanh, prev)
                };
                Stmt::Assign {
                    place: Place::Elem(name.clone(), Index::Var(i.to_string())),
                    op: AssignOp::Add,
                    value,
                }
            });
            out.extend(s);
        }
        out
    }

    /// `for i in start..buf.len() { <first(i)> }`, if it stays in range.
    fn element_loop(
        &mut self,
        buf: &str,
        start: usize,
        end: Len,
        first: impl FnOnce(&mut Self, &str) -> Stmt,
    ) -> Option<Stmt> {
        let var = self.name("i");
        let saved = self.scope.clone();
        self.scope.push();
        self.scope.bind(Binding::new(
            &var,
            Kind::Index {
                min: start,
                max: end.value - 1,
            },
            Iv::new(start as f64, end.value as f64),
        ));
        let s = first(self, &var);
        self.scope.pop();
        self.scope = saved;
        self.used.insert(buf.to_string());
        let stmt = Stmt::For {
            var,
            start,
            end,
            order: Order::Forward,
            body: vec![s],
        };
        let mut trial = self.scope.clone();
        if bounds::exec(&stmt, &mut trial, &mut Ctx::new(self.callees)).is_ok() {
            self.scope = trial;
            Some(stmt)
        } else {
            None
        }
    }

    // ---- the result ----------------------------------------------------------------------

    /// The result: every local nothing has read (and every accumulator and buffer) folded in,
    /// squashed to a moderate range, plus a light term of each parameter that carries gradient.
    fn result(&mut self, params: &[Param]) -> Expr {
        let mut terms = Vec::new();
        let top: Vec<Binding> = self
            .scope
            .visible()
            .into_iter()
            .filter(|b| !b.param)
            .cloned()
            .collect();
        for b in top.iter().rev() {
            match b.kind {
                Kind::Scalar if b.mutable || !self.used.contains(&b.name) => {
                    terms.push(Expr::Var(b.name.clone()))
                }
                Kind::Buffer { len } if b.settled => {
                    let i = self.rng.below(len);
                    terms.push(Expr::Elem(b.name.clone(), Index::Lit(i)));
                }
                _ => {}
            }
        }
        let mut sum: Option<Expr> = None;
        for t in terms {
            let t = match self.rng.below(4) {
                0 => Expr::bin(BinOp::Mul, Expr::Lit(self.rng.literal(1.0)), t),
                1 => self.settle(Expr::unary(Method1::Sin, t)),
                _ => t,
            };
            sum = Some(match sum {
                None => t,
                Some(s) => Expr::bin(BinOp::Add, s, t),
            });
        }
        let sum = sum.unwrap_or_else(|| self.active_expr(2));
        let mut result = self.squash(sum, 20.0);
        for p in params {
            let c = Expr::Lit(self.rng.between(1, 3) as f64 / 10.0);
            let term = match p.ty {
                ParamTy::Scalar => Expr::Var(p.name.clone()),
                ParamTy::Array3 => (0..3)
                    .map(|i| Expr::Elem(p.name.clone(), Index::Lit(i)))
                    .reduce(|a, b| Expr::bin(BinOp::Add, a, b))
                    .expect("three elements"),
                ParamTy::Slice(len) => Expr::bin(
                    BinOp::Add,
                    Expr::Elem(p.name.clone(), Index::Lit(0)),
                    Expr::Elem(p.name.clone(), Index::Lit(len - 1)),
                ),
                _ => continue,
            };
            result = Expr::bin(BinOp::Add, result, Expr::bin(BinOp::Mul, c, term));
        }
        result
    }

    // ---- expressions ---------------------------------------------------------------------

    /// An expression that carries gradient.
    fn active_expr(&mut self, depth: u32) -> Expr {
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
        self.settle(combined)
    }

    /// An expression of magnitude at most `WRAP`.
    fn expr(&mut self, depth: u32) -> Expr {
        if depth == 0 || self.rng.chance(0.25) {
            return self.atom();
        }
        let d = depth - 1;
        // + - *, negation, scale, bounded method, exp family, domain-restricted method or
        // division, powi, abs, max/min, hypot, mul_add, call
        let kind = self
            .rng
            .weighted(&[30, 3, 6, 16, 6, 12, 5, 2, 5, 2, 2, 7]);
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
                let m = *self.rng.pick(&[
                    Method1::Exp,
                    Method1::ExpM1,
                    Method1::Sinh,
                    Method1::Cosh,
                ]);
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
    fn restricted(&mut self, d: u32) -> Expr {
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
    fn positive(&mut self, d: u32) -> Expr {
        let x = self.receiver(d);
        let c = || 0.3 + (d as f64 + 1.0) * 0.2;
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
    fn receiver(&mut self, d: u32) -> Expr {
        let e = self.expr(d);
        if has_typed_leaf(&e) {
            e
        } else {
            self.active_atom()
        }
    }

    /// A call of a helper or an earlier program whose arguments can be supplied here.
    fn call(&mut self, d: u32) -> Option<Expr> {
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
        if usable.is_empty() {
            return None;
        }
        let callee = (*self.rng.pick(&usable)).clone();
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
    fn squash(&mut self, e: Expr, limit: f64) -> Expr {
        let Some(v) = self.eval(&e) else {
            return self.active_atom();
        };
        let mag = v.iv.mag();
        if mag <= limit {
            return e;
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
            _ => Expr::bin(BinOp::Mul, Expr::Lit(0.5), Expr::unary(Method1::Tanh, squashed)),
        }
    }

    /// `e` if it is in range and at most `WRAP` in magnitude; squashed if it is larger; a fresh
    /// atom if it is out of any range (a domain or a limit of `bounds`).
    fn settle(&mut self, e: Expr) -> Expr {
        match self.eval(&e) {
            None => self.atom(),
            Some(v) if v.iv.mag() <= WRAP => e,
            Some(_) => self.squash(e, WRAP),
        }
    }

    /// A leaf: a scalar in scope (locals preferred), an element read, an index as a float, the
    /// `#[no_grad]` scale, or a literal.
    fn atom(&mut self) -> Expr {
        let mut options: Vec<(Expr, u32)> = Vec::new();
        for b in self.scope.visible() {
            match b.kind {
                Kind::Scalar => options.push((
                    Expr::Var(b.name.clone()),
                    match (b.param, b.active) {
                        (false, true) => 6,
                        (true, _) => 3,
                        (false, false) => 2,
                    },
                )),
                Kind::Constant => options.push((Expr::Var(b.name.clone()), 1)),
                Kind::Index { .. } | Kind::Count { .. } => {
                    options.push((Expr::AsF64(b.name.clone()), 1))
                }
                Kind::Array { .. } | Kind::Slice { .. } | Kind::Buffer { .. } if b.settled => {
                    options.push((Expr::Elem(b.name.clone(), Index::Lit(0)), 4))
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
                let len = self.scope.get(&name).and_then(|b| b.kind.len()).expect("len");
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

    /// A scalar, or an element of a container, that carries gradient.
    fn active_atom(&mut self) -> Expr {
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
                let len = self.scope.get(&name).and_then(|b| b.kind.len()).expect("len");
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
    fn indices(&self) -> Vec<(String, usize, usize)> {
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
    fn index(&mut self, container: &str, len: usize) -> Index {
        let own = Len {
            kind: LenKind::Of(container.to_string()),
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
        self.rng.pick(&options).clone()
    }

    /// Arrays in scope.
    fn arrays(&self) -> Vec<String> {
        self.scope
            .visible()
            .into_iter()
            .filter(|b| matches!(b.kind, Kind::Array { .. }))
            .map(|b| b.name.clone())
            .collect()
    }

    /// Slices and buffers in scope (and arrays, if `arrays`), with their lengths.
    fn containers(&self, arrays: bool) -> Vec<(String, usize)> {
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

fn assigns(s: &Stmt) -> bool {
    match s {
        Stmt::Assign { .. } => true,
        Stmt::If { then, els, .. } => then.iter().any(assigns) || els.iter().any(assigns),
        Stmt::For { body, .. } | Stmt::ForEach { body, .. } => body.iter().any(assigns),
        _ => false,
    }
}

/// Whether `e` has a leaf whose type rustc knows is `f64`.
fn has_typed_leaf(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => false,
        Expr::Var(_) | Expr::AsF64(_) | Expr::Elem(..) | Expr::Call(..) => true,
        Expr::Neg(a) | Expr::Unary(_, a) => has_typed_leaf(a),
        Expr::Bin(_, a, b) | Expr::Div(a, b) | Expr::Binary(_, a, b) => {
            has_typed_leaf(a) || has_typed_leaf(b)
        }
        Expr::MulAdd(x, a, b) => has_typed_leaf(x) || has_typed_leaf(a) || has_typed_leaf(b),
        Expr::If(_, a, b) => has_typed_leaf(a) || has_typed_leaf(b),
    }
}
