//! Random programs of the language `#[differentiable]` accepts.
//!
//! Every program is built so that its check is meaningful and its rejection would be a bug:
//!
//! - every value stays bounded (each statement is accepted only if `bounds` proves it, loops
//!   for as many iterations as they can run), so nothing overflows or leaves a domain;
//! - every value an update assigns carries gradient, so no branch on a condition that carries
//!   gradient sets a variable only to constants (which the macro rightly rejects);
//! - comparisons only decide, never become numbers;
//! - every parameter that carries gradient reaches the result (a light `+ 0.1 * p` term each),
//!   and every local that nothing reads is folded into the result, so that all the code counts.

mod expr;

use crate::ast::*;
use crate::bounds::{self, Ctx, Iv};
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

/// How large the programs are (top-level statements, and the depth of expression trees).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub statements: (usize, usize),
    pub depth: u32,
}

/// A random program named `name`, and what a later program needs to call it (only programs of
/// scalar parameters are callable).
///
/// Each statement and the result are checked as they are generated; the whole program is then
/// analysed once more from the start, which can widen a loop's ranges beyond what the pieces
/// were checked for. A program that fails that analysis is generated again from another stream
/// (the first attempt's stream is `rng` itself, so a corpus stays what it was).
pub fn program(
    name: &str,
    rng: Rng,
    callees: &[Callee],
    config: Config,
) -> (Program, Option<Callee>) {
    let start = rng.clone();
    let mut attempt = 0;
    let mut rng = rng;
    loop {
        if let Some(generated) = attempt_program(name, rng, callees, config) {
            return generated;
        }
        attempt += 1;
        rng = start.for_retry(attempt);
    }
}

fn attempt_program(
    name: &str,
    rng: Rng,
    callees: &[Callee],
    config: Config,
) -> Option<(Program, Option<Callee>)> {
    let mut rng = rng;
    let params = signature(&mut rng);
    let mut g = Gen::new(rng, callees, &params, config);
    let n = g.rng.between(config.statements.0, config.statements.1);
    let mut body = Vec::new();
    for _ in 0..n {
        body.extend(g.statement());
    }
    let result = g.result(&params);

    // The whole program, analysed once more from the start: its result range and its cost.
    let mut scope = initial_scope(&params);
    let mut ctx = Ctx::new(callees);
    bounds::exec_block(&body, &mut scope, &mut ctx).ok()?;
    let out = bounds::eval(&result, &scope, &mut ctx).ok()?;
    let out_iv = ctx.returns.map_or(out.iv, |r| r.hull(out.iv));
    let callable = params
        .iter()
        .all(|p| !matches!(p.ty, ParamTy::Array3 | ParamTy::Slice(_)));
    let callee = callable.then(|| Callee {
        name: name.to_string(),
        params: params.iter().map(|p| p.ty.clone()).collect(),
        out: out_iv,
        cost: ctx.cost,
    });
    let program = Program {
        name: name.to_string(),
        params,
        body,
        result,
    };
    Some((program, callee))
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
    config: Config,
    fresh: usize,
    /// Names read since they were bound: the locals left out of it are folded into the result.
    used: BTreeSet<String>,
    /// Product of the trip counts of the loops around the code being built.
    trips: u64,
    loops: usize,
    nesting: usize,
    /// Operations of the top-level statements so far.
    spent: u64,
    /// Containers a `for &v in c.iter()` around the code being built is iterating: they may be
    /// read but not written.
    frozen: Vec<String>,
    /// For each loop around the code being built, whether it is a counted `while`/`loop`
    /// (whose counter is incremented at the end of the body, so `continue` would never end it).
    loop_kinds: Vec<bool>,
}

impl<'a> Gen<'a> {
    fn new(rng: Rng, callees: &'a [Callee], params: &[Param], config: Config) -> Gen<'a> {
        Gen {
            rng,
            scope: initial_scope(params),
            callees,
            config,
            fresh: 0,
            used: BTreeSet::new(),
            trips: 1,
            loops: 0,
            nesting: 0,
            spent: 0,
            frozen: Vec::new(),
            loop_kinds: Vec::new(),
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
        let in_loop = !self.loop_kinds.is_empty();
        // let, let mut, update, if, for, for-each, while, buffer, shadowing let, `if .. { break
        // or continue }`, `if .. { return .. }`
        let weights = [
            if top { 30 } else { 15 },
            if top { 10 } else { 0 },
            if top { 15 } else { 55 },
            if can_nest { 12 } else { 0 },
            if can_loop {
                if top {
                    14
                } else {
                    6
                }
            } else {
                0
            },
            if can_loop && has_container { 5 } else { 0 },
            if can_loop {
                if top {
                    4
                } else {
                    2
                }
            } else {
                0
            },
            if top { 8 } else { 0 },
            4,
            if in_loop && can_nest { 4 } else { 0 },
            if top { 3 } else { 0 },
        ];
        match self.rng.weighted(&weights) {
            0 => vec![self.let_stmt()],
            1 => vec![self.accumulator()],
            2 => self.update().into_iter().collect(),
            3 => self.if_stmt(),
            4 => self.for_loop(),
            5 => self.for_each(),
            6 => self.while_loop(),
            7 => self.buffer(),
            8 => self.shadow().into_iter().collect(),
            9 => vec![self.leave_loop()],
            _ => vec![self.early_return()],
        }
    }

    /// `if <cond> { break; }`, or `continue` (not in a counted `while`, whose counter is
    /// incremented at the end of the body).
    fn leave_loop(&mut self) -> Stmt {
        let cond = self.cond();
        let counted = self.loop_kinds.last() == Some(&true);
        let leave = if counted || self.rng.chance(0.5) {
            Stmt::Break
        } else {
            Stmt::Continue
        };
        Stmt::If {
            cond,
            then: vec![leave],
            els: Vec::new(),
        }
    }

    /// `if <cond> { return <expr>; }`, with a value that carries gradient (returning constants
    /// on a condition that carries gradient is rightly rejected).
    fn early_return(&mut self) -> Stmt {
        let cond = self.cond();
        let depth = self.config.depth;
        let value = self.active_expr(depth);
        Stmt::If {
            cond,
            then: vec![Stmt::Return(value)],
            els: Vec::new(),
        }
    }

    /// Executes `s` on the scope being built (so that what follows sees it) and records it.
    fn commit(&mut self, s: Stmt, out: &mut Vec<Stmt>) {
        bounds::exec(&s, &mut self.scope, &mut Ctx::new(self.callees))
            .expect("only statements proven in range are committed");
        out.push(s);
    }

    fn let_stmt(&mut self) -> Stmt {
        if self.rng.chance(0.1) {
            let depth = self.config.depth - 1;
            let values = [self.active_expr(depth), self.active_expr(depth)];
            return Stmt::LetPair {
                names: [self.name("v"), self.name("v")],
                values,
            };
        }
        let value = if self.rng.chance(0.15) {
            self.if_expr()
        } else {
            let depth = self.config.depth;
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
            .filter(|b| !self.frozen.contains(&b.name))
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
            Kind::Buffer { len } => Place::Elem(target.clone(), self.write_index(&target, len)),
            _ => Place::Var(target.clone()),
        };
        let op = [
            AssignOp::Set,
            AssignOp::Add,
            AssignOp::Sub,
            AssignOp::Mul,
            AssignOp::Div,
        ][self.rng.weighted(&[3, 5, 2, 2, 1])];
        let value = match op {
            AssignOp::Mul => self.factor(),
            AssignOp::Div => {
                // At least 0.3, and carrying gradient.
                let d = self.positive(1);
                if self.active(&d) {
                    d
                } else {
                    let a = self.active_atom();
                    Expr::bin(BinOp::Add, Expr::unary(Method1::Tanh, a), Expr::Lit(1.4))
                }
            }
            // Mostly a recurrence, so that what the variable held before still counts.
            AssignOp::Set if self.rng.chance(0.7) && b.settled => {
                // A leaky recurrence: `acc = 0.6 * acc + ..` (or of the element).
                let current = match &place {
                    Place::Var(n) => Expr::Var(n.clone()),
                    Place::Elem(n, i) => Expr::Elem(n.clone(), i.clone()),
                };
                let keep = Expr::Lit(self.rng.between(2, 9) as f64 / 10.0);
                let depth = self.config.depth - 1;
                let fresh = self.active_expr(depth);
                Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, keep, current), fresh)
            }
            _ => {
                let depth = self.config.depth;
                self.active_expr(depth)
            }
        };
        // `x = x;` is left out: it does nothing, and clippy rejects it as a likely bug.
        let itself = match (&place, &value) {
            (Place::Var(t), Expr::Var(v)) => t == v,
            (Place::Elem(t, i), Expr::Elem(v, j)) => t == v && i == j,
            _ => false,
        };
        if op == AssignOp::Set && itself {
            return None;
        }
        Some(Stmt::Assign { place, op, value })
    }

    /// A factor for `*=`, of magnitude at most about 1.3, so that loops do not blow up.
    fn factor(&mut self) -> Expr {
        let e = self.active_expr(2);
        match self.rng.below(3) {
            0 => Expr::bin(
                BinOp::Add,
                Expr::Lit(0.8),
                Expr::bin(BinOp::Mul, Expr::Lit(0.4), Expr::unary(Method1::Sin, e)),
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
        let depth = self.config.depth - 1;
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
        let unread: Vec<String> = self
            .scope
            .visible()
            .into_iter()
            .filter(|b| {
                b.kind == Kind::Scalar
                    && self.scope.in_current_frame(&b.name)
                    && !self.used.contains(&b.name)
            })
            .map(|b| b.name.clone())
            .collect();
        for name in unread {
            // Into an update: `acc += 0.4 * v;` (no local of a block is dead code).
            self.closing_update(&mut stmts, |g, u| {
                let c = Expr::Lit(g.rng.literal(1.0));
                g.used.insert(name.clone());
                if let Stmt::Assign { op, value, .. } = u {
                    *op = AssignOp::Add;
                    *value = Expr::bin(BinOp::Mul, c, Expr::Var(name.clone()));
                }
            });
        }
        if !stmts.iter().any(assigns) {
            self.closing_update(&mut stmts, |_, _| {});
        }
        self.nesting -= 1;
        stmts
    }

    /// Appends an update (adjusted by `adjust`) to `stmts`, if one stays in range in a few
    /// tries.
    fn closing_update(&mut self, stmts: &mut Vec<Stmt>, adjust: impl Fn(&mut Self, &mut Stmt)) {
        for _ in 0..4 {
            let (scope, used) = (self.scope.clone(), self.used.clone());
            if let Some(mut u) = self.update() {
                adjust(self, &mut u);
                let mut trial = scope.clone();
                if bounds::exec(&u, &mut trial, &mut Ctx::new(self.callees)).is_ok() {
                    self.scope = trial;
                    stmts.push(u);
                    return;
                }
            }
            self.scope = scope;
            self.used = used;
        }
    }

    fn if_stmt(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.ensure_target(&mut out);
        let cond = self.cond();
        let has_else = self.rng.chance(0.6);
        let before = self.scope.clone();
        self.scope.push();
        let then = self.body(2);
        self.scope.pop();
        // The `else` arm starts from what holds before the `if`, not after its `then` arm.
        let after_then = std::mem::replace(&mut self.scope, before);
        let els = if has_else {
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
            self.used.insert(i.clone());
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
        let depth = self.config.depth - 1;
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
            false,
        );
        // `for _ in ..` when nothing reads the index.
        let var = if self.used.contains(&var) {
            var
        } else {
            "_".to_string()
        };
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
        let Some((over, len)) = containers
            .get(self.rng.below(containers.len().max(1)))
            .cloned()
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
        self.frozen.push(over.clone());
        let body = self.in_loop(len as u64, &bind, false);
        self.frozen.pop();
        out.push(Stmt::ForEach {
            elem,
            index,
            over,
            body,
        });
        out
    }

    /// The body of a loop that runs `trips` times with `bind` bound (`counted`: a `while` or
    /// `loop` whose counter the body must not skip incrementing).
    fn in_loop(&mut self, trips: u64, bind: &[Binding], counted: bool) -> Vec<Stmt> {
        self.scope.push();
        for b in bind {
            self.scope.bind(b.clone());
        }
        self.trips *= trips;
        self.loops += 1;
        self.loop_kinds.push(counted);
        let body = self.body(3);
        self.loop_kinds.pop();
        self.loops -= 1;
        self.trips /= trips;
        self.scope.pop();
        body
    }

    /// A counted `while` (or `loop` with a `break`) over `0..end`.
    fn while_loop(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        self.ensure_target(&mut out);
        let end = self.range_end();
        let var = self.name("j");
        let counter = Binding::new(
            &var,
            Kind::Index {
                min: 0,
                max: end.value.max(1) - 1,
            },
            Iv::new(0.0, end.value as f64),
        );
        let body = self.in_loop(end.value.max(1) as u64, &[counter], true);
        out.push(Stmt::While {
            var,
            end,
            as_loop: self.rng.chance(0.4),
            body,
        });
        out
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
        let name = self.name("buf");
        if self.rng.chance(0.25) {
            // `Vec::with_capacity(n)` and a loop of `push`es; without them, nothing.
            self.commit(
                Stmt::Buffer {
                    name: name.clone(),
                    len: len.clone(),
                    typed: false,
                    pushed: true,
                },
                &mut out,
            );
            let s = self.element_loop(&name, 0, len, |g, _| {
                let value = g.active_expr(g.config.depth);
                Stmt::Push {
                    name: name.clone(),
                    value,
                }
            });
            return match s {
                Some(s) => {
                    out.push(s);
                    out
                }
                None => Vec::new(),
            };
        }
        let fill = self.rng.chance(0.8);
        // Without a fill loop first, `vec![0.0; n]` would leave the element type open.
        let typed = !fill || self.rng.chance(0.3);
        self.commit(
            Stmt::Buffer {
                name: name.clone(),
                len: len.clone(),
                typed,
                pushed: false,
            },
            &mut out,
        );
        let own_len = Len {
            kind: LenKind::Of(name.clone()),
            value: len.value,
        };
        if fill {
            let s = self.element_loop(&name, 0, own_len.clone(), |g, i| {
                let value = g.active_expr(g.config.depth);
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
}

fn assigns(s: &Stmt) -> bool {
    match s {
        Stmt::Assign { .. } => true,
        Stmt::If { then, els, .. } => then.iter().any(assigns) || els.iter().any(assigns),
        Stmt::For { body, .. } | Stmt::ForEach { body, .. } => body.iter().any(assigns),
        _ => false,
    }
}
