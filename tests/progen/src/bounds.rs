//! Interval analysis of generated code: the range of every value, which proves that a program
//! never overflows, never leaves the domain of `ln`, `sqrt` or a division, and keeps its
//! derivatives moderate (so that finite differences are accurate). Loops are analysed by
//! running their bodies as many times as they can iterate.
//!
//! The same pass says whether a value carries gradient, and counts roughly how many operations
//! a program performs (calls included), so that calls of programs by programs stay cheap.

use crate::ast::*;
use crate::library::Callee;
use crate::scope::{Binding, Kind, Scope};
use std::f64::consts::{FRAC_PI_2, PI};

/// No value may exceed this magnitude.
pub const LIMIT: f64 = 100.0;
/// Arguments of `exp`, `sinh`, `cosh` and `exp_m1` stay within this magnitude.
const EXP_ARG: f64 = 4.5;
/// `ln` and `powf` take arguments at least this large, so that their derivatives stay moderate.
const LN_MIN: f64 = 0.1;
const SQRT_MIN: f64 = 0.05;
/// A divisor (or the argument of `recip`) is at least this far from zero.
const DIV_MIN: f64 = 0.25;
/// Every scalar argument of a call is within this magnitude: the range the callee was analysed
/// for (the range of the inputs the checks pass).
pub const ARG_LIMIT: f64 = 1.5;

#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Iv {
    pub lo: f64,
    pub hi: f64,
}

impl Iv {
    pub fn new(lo: f64, hi: f64) -> Iv {
        Iv { lo, hi }
    }
    pub fn point(v: f64) -> Iv {
        Iv { lo: v, hi: v }
    }
    pub fn mag(self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }
    pub fn hull(self, o: Iv) -> Iv {
        Iv::new(self.lo.min(o.lo), self.hi.max(o.hi))
    }
    fn add(self, o: Iv) -> Iv {
        Iv::new(self.lo + o.lo, self.hi + o.hi)
    }
    fn sub(self, o: Iv) -> Iv {
        Iv::new(self.lo - o.hi, self.hi - o.lo)
    }
    fn neg(self) -> Iv {
        Iv::new(-self.hi, -self.lo)
    }
    fn mul(self, o: Iv) -> Iv {
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        Iv::new(
            c.iter().copied().fold(f64::INFINITY, f64::min),
            c.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    }
    /// Image under a non-decreasing function.
    fn map(self, f: impl Fn(f64) -> f64) -> Iv {
        Iv::new(f(self.lo), f(self.hi))
    }
    fn contains_zero(self) -> bool {
        self.lo <= 0.0 && self.hi >= 0.0
    }
    /// The smallest magnitude in the interval.
    fn min_mag(self) -> f64 {
        if self.contains_zero() {
            0.0
        } else {
            self.lo.abs().min(self.hi.abs())
        }
    }
    fn away_from_zero(self, margin: f64) -> bool {
        self.lo >= margin || self.hi <= -margin
    }
}

/// A value could leave the range in which the program's checks are meaningful.
#[derive(Debug)]
pub struct Unsafe;

#[derive(Clone, Copy, Debug)]
pub struct Value {
    pub iv: Iv,
    /// Carries gradient.
    pub active: bool,
}

/// What the analysis needs besides the scope: the callable functions, and the running count of
/// operations.
pub struct Ctx<'a> {
    pub callees: &'a [Callee],
    pub cost: u64,
    /// The range of every value an early `return` returns.
    pub returns: Option<Iv>,
}

impl<'a> Ctx<'a> {
    pub fn new(callees: &'a [Callee]) -> Ctx<'a> {
        Ctx {
            callees,
            cost: 0,
            returns: None,
        }
    }
}

fn checked(iv: Iv) -> Result<Iv, Unsafe> {
    if iv.lo.is_finite() && iv.hi.is_finite() && iv.mag() <= LIMIT {
        Ok(iv)
    } else {
        Err(Unsafe)
    }
}

fn binding<'s>(scope: &'s Scope, name: &str) -> &'s Binding {
    scope
        .get(name)
        .unwrap_or_else(|| panic!("`{name}` is not in scope"))
}

pub fn eval(e: &Expr, scope: &Scope, ctx: &mut Ctx) -> Result<Value, Unsafe> {
    ctx.cost += 1;
    let inactive = |iv| Value { iv, active: false };
    let v = match e {
        Expr::Lit(v) => inactive(Iv::point(*v)),
        Expr::Var(name) | Expr::Elem(name, _) => {
            let b = binding(scope, name);
            Value {
                iv: b.iv,
                active: b.active,
            }
        }
        Expr::AsF64(name) => match binding(scope, name).kind {
            Kind::Index { min, max } => inactive(Iv::new(min as f64, max as f64)),
            Kind::Count { value } => inactive(Iv::new(0.0, value as f64)),
            ref k => panic!("`{name}` ({k:?}) is not an integer"),
        },
        Expr::Neg(a) => {
            let a = eval(a, scope, ctx)?;
            Value {
                iv: a.iv.neg(),
                active: a.active,
            }
        }
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, scope, ctx)?, eval(b, scope, ctx)?);
            let iv = match op {
                BinOp::Add => a.iv.add(b.iv),
                BinOp::Sub => a.iv.sub(b.iv),
                BinOp::Mul => a.iv.mul(b.iv),
            };
            Value {
                iv,
                active: a.active || b.active,
            }
        }
        Expr::Div(a, b) => {
            let (a, b) = (eval(a, scope, ctx)?, eval(b, scope, ctx)?);
            Value {
                iv: a.iv.mul(recip(b.iv)?),
                active: a.active || b.active,
            }
        }
        Expr::Unary(m, a) => {
            let a = eval(a, scope, ctx)?;
            Value {
                iv: unary(*m, a.iv)?,
                active: a.active,
            }
        }
        Expr::Binary(m, a, b) => {
            let (a, b) = (eval(a, scope, ctx)?, eval(b, scope, ctx)?);
            Value {
                iv: binary(*m, a.iv, b.iv)?,
                active: a.active || b.active,
            }
        }
        Expr::MulAdd(x, a, b) => {
            let (x, a, b) = (
                eval(x, scope, ctx)?,
                eval(a, scope, ctx)?,
                eval(b, scope, ctx)?,
            );
            Value {
                iv: x.iv.mul(a.iv).add(b.iv),
                active: x.active || a.active || b.active,
            }
        }
        Expr::Call(name, args) => call(name, args, scope, ctx)?,
        Expr::If(c, a, b) => {
            cond(c, scope, ctx)?;
            let (a, b) = (eval(a, scope, ctx)?, eval(b, scope, ctx)?);
            Value {
                iv: a.iv.hull(b.iv),
                active: a.active || b.active,
            }
        }
        Expr::Sum(over, map) => {
            let c = binding(scope, over);
            let len = c.kind.len().expect("summed container");
            let e = c.iv;
            let each = match map {
                None => e,
                Some(Map::Square) => Iv::new(e.min_mag().powi(2), e.mag().powi(2)),
                Some(Map::Sin) => Iv::new(-1.0, 1.0),
                Some(Map::Abs) => Iv::new(e.min_mag(), e.mag()),
                Some(Map::HalfTanh) => e.map(|v| (0.5 * v).tanh()),
            };
            ctx.cost += len as u64;
            Value {
                iv: each.mul(Iv::point(len as f64)),
                active: c.active,
            }
        }
    };
    Ok(Value {
        iv: checked(v.iv)?,
        ..v
    })
}

fn recip(d: Iv) -> Result<Iv, Unsafe> {
    if d.away_from_zero(DIV_MIN) {
        Ok(Iv::new(1.0 / d.hi, 1.0 / d.lo))
    } else {
        Err(Unsafe)
    }
}

fn unary(m: Method1, x: Iv) -> Result<Iv, Unsafe> {
    let exp_arg = |x: Iv| {
        if x.mag() <= EXP_ARG {
            Ok(())
        } else {
            Err(Unsafe)
        }
    };
    Ok(match m {
        Method1::Sin if x.lo >= -FRAC_PI_2 && x.hi <= FRAC_PI_2 => x.map(f64::sin),
        Method1::Sin => Iv::new(-1.0, 1.0),
        // cos is unimodal on [-π, π], largest at 0.
        Method1::Cos if x.lo >= -PI && x.hi <= PI => {
            let hi = if x.contains_zero() {
                1.0
            } else {
                x.lo.cos().max(x.hi.cos())
            };
            Iv::new(x.lo.cos().min(x.hi.cos()), hi)
        }
        Method1::Cos => Iv::new(-1.0, 1.0),
        Method1::Tanh => x.map(f64::tanh),
        Method1::Atan => x.map(f64::atan),
        Method1::Asinh => x.map(f64::asinh),
        Method1::Exp => {
            exp_arg(x)?;
            x.map(f64::exp)
        }
        Method1::ExpM1 => {
            exp_arg(x)?;
            x.map(f64::exp_m1)
        }
        Method1::Sinh => {
            exp_arg(x)?;
            x.map(f64::sinh)
        }
        Method1::Cosh => {
            exp_arg(x)?;
            Iv::new(x.min_mag().cosh(), x.mag().cosh())
        }
        Method1::Ln if x.lo >= LN_MIN => x.map(f64::ln),
        Method1::Ln1p if x.lo >= LN_MIN - 1.0 => x.map(f64::ln_1p),
        Method1::Sqrt if x.lo >= SQRT_MIN => x.map(f64::sqrt),
        Method1::Ln | Method1::Ln1p | Method1::Sqrt => return Err(Unsafe),
        Method1::Abs => Iv::new(x.min_mag(), x.mag()),
        Method1::Recip => recip(x)?,
        Method1::Powi(k) => {
            let base = if k < 0 { recip(x)? } else { x };
            let k = k.unsigned_abs() as i32;
            if k % 2 == 0 {
                Iv::new(base.min_mag().powi(k), base.mag().powi(k))
            } else {
                base.map(|v| v.powi(k))
            }
        }
    })
}

fn binary(m: Method2, a: Iv, b: Iv) -> Result<Iv, Unsafe> {
    Ok(match m {
        Method2::Max => Iv::new(a.lo.max(b.lo), a.hi.max(b.hi)),
        Method2::Min => Iv::new(a.lo.min(b.lo), a.hi.min(b.hi)),
        Method2::Hypot => Iv::new(a.min_mag().hypot(b.min_mag()), a.mag().hypot(b.mag())),
        // b^e = exp(e ln b) is monotone in e and in ln b, so the extremes are at the corners.
        Method2::Powf if a.lo >= LN_MIN && b.mag() <= 3.0 => {
            let c = [
                a.lo.powf(b.lo),
                a.lo.powf(b.hi),
                a.hi.powf(b.lo),
                a.hi.powf(b.hi),
            ];
            Iv::new(
                c.iter().copied().fold(f64::INFINITY, f64::min),
                c.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        }
        Method2::Powf => return Err(Unsafe),
        // Only with a positive second operand: away from the branch cut and the origin.
        Method2::Atan2 if b.lo >= DIV_MIN => Iv::new(-FRAC_PI_2, FRAC_PI_2),
        Method2::Atan2 => return Err(Unsafe),
    })
}

fn call(name: &str, args: &[Arg], scope: &Scope, ctx: &mut Ctx) -> Result<Value, Unsafe> {
    let callee = ctx
        .callees
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no callee `{name}`"));
    let (out, cost) = (callee.out, callee.cost);
    let mut active = false;
    for a in args {
        match a {
            Arg::Value(e) => {
                let v = eval(e, scope, ctx)?;
                if v.iv.mag() > ARG_LIMIT {
                    return Err(Unsafe);
                }
                active |= v.active;
            }
            Arg::Whole(n) | Arg::Borrow(n) => active |= binding(scope, n).active,
            Arg::Count(_) => {}
        }
    }
    ctx.cost += cost;
    Ok(Value { iv: out, active })
}

pub fn cond(c: &Cond, scope: &Scope, ctx: &mut Ctx) -> Result<(), Unsafe> {
    if let Cond::Cmp(_, a, b) = c {
        eval(a, scope, ctx)?;
        eval(b, scope, ctx)?;
    }
    Ok(())
}

pub fn exec_block(stmts: &[Stmt], scope: &mut Scope, ctx: &mut Ctx) -> Result<(), Unsafe> {
    for s in stmts {
        exec(s, scope, ctx)?;
    }
    Ok(())
}

/// Runs `body` in a frame of its own, with `bind` bound first.
fn run_in_frame(
    body: &[Stmt],
    bind: &[Binding],
    scope: &mut Scope,
    ctx: &mut Ctx,
) -> Result<(), Unsafe> {
    scope.push();
    for b in bind {
        scope.bind(b.clone());
    }
    let r = exec_block(body, scope, ctx);
    scope.pop();
    r
}

/// A loop of at most `trips` iterations: what holds after any number of them.
fn run_loop(
    body: &[Stmt],
    bind: &[Binding],
    trips: usize,
    scope: &mut Scope,
    ctx: &mut Ctx,
) -> Result<(), Unsafe> {
    let mut state = scope.clone();
    for _ in 0..trips {
        run_in_frame(body, bind, &mut state, ctx)?;
        scope.join(&state);
    }
    Ok(())
}

pub fn exec(s: &Stmt, scope: &mut Scope, ctx: &mut Ctx) -> Result<(), Unsafe> {
    match s {
        Stmt::Let {
            name,
            mutable,
            value,
            ..
        } => {
            let v = eval(value, scope, ctx)?;
            let mut b = Binding::new(name, Kind::Scalar, v.iv);
            b.mutable = *mutable;
            b.active = v.active;
            scope.bind(b);
        }
        Stmt::Assign { place, op, value } => {
            let v = eval(value, scope, ctx)?;
            let (name, elem) = match place {
                Place::Var(n) => (n, false),
                Place::Elem(n, _) => (n, true),
            };
            let b = scope.get_mut(name).expect("assigned binding in scope");
            let iv = checked(match op {
                AssignOp::Set => v.iv,
                AssignOp::Add => b.iv.add(v.iv),
                AssignOp::Sub => b.iv.sub(v.iv),
                AssignOp::Mul => b.iv.mul(v.iv),
                AssignOp::Div => b.iv.mul(recip(v.iv)?),
            })?;
            let active = v.active || (*op != AssignOp::Set && b.active);
            if elem {
                // The other elements keep their values.
                b.iv = b.iv.hull(iv);
                b.active |= active;
                b.settled = true;
            } else {
                b.iv = iv;
                b.active = active;
            }
        }
        Stmt::Buffer {
            name, len, typed, ..
        } => {
            let mut b = Binding::new(name, Kind::Buffer { len: len.value }, Iv::point(0.0));
            b.mutable = true;
            b.settled = *typed;
            scope.bind(b);
        }
        Stmt::Push { name, value } => {
            let v = eval(value, scope, ctx)?;
            let b = scope.get_mut(name).expect("pushed buffer in scope");
            b.iv = b.iv.hull(v.iv);
            b.active |= v.active;
            b.settled = true;
        }
        Stmt::LetPair { names, values } => {
            // Both values are computed before either name is bound.
            let a = eval(&values[0], scope, ctx)?;
            let b = eval(&values[1], scope, ctx)?;
            for (name, v) in names.iter().zip([a, b]) {
                let mut x = Binding::new(name, Kind::Scalar, v.iv);
                x.active = v.active;
                scope.bind(x);
            }
        }
        Stmt::While { var, end, body, .. } => {
            let counter = Binding::new(
                var,
                Kind::Index {
                    min: 0,
                    max: end.value.max(1) - 1,
                },
                Iv::new(0.0, end.value as f64),
            );
            run_loop(body, &[counter], end.value, scope, ctx)?;
        }
        // Loops are analysed for every trip count up to their largest, so leaving one early
        // adds nothing.
        Stmt::Break | Stmt::Continue => {}
        Stmt::Return(e) => {
            let v = eval(e, scope, ctx)?;
            ctx.returns = Some(ctx.returns.map_or(v.iv, |r| r.hull(v.iv)));
        }
        Stmt::If { cond: c, then, els } => {
            cond(c, scope, ctx)?;
            let mut other = scope.clone();
            run_in_frame(then, &[], scope, ctx)?;
            run_in_frame(els, &[], &mut other, ctx)?;
            scope.join(&other);
        }
        Stmt::For {
            var,
            start,
            end,
            order,
            body,
        } => {
            let span = end.value.saturating_sub(*start);
            let trips = match order {
                Order::StepBy(k) => span.div_ceil(*k),
                _ => span,
            };
            let index = Binding::new(
                var,
                Kind::Index {
                    min: *start,
                    max: end.value.max(1) - 1,
                },
                Iv::new(*start as f64, end.value as f64),
            );
            run_loop(body, &[index], trips, scope, ctx)?;
        }
        Stmt::ForEach {
            elem,
            index,
            over,
            body,
        } => {
            let c = binding(scope, over);
            let len = c.kind.len().expect("iterated container");
            let mut e = Binding::new(elem, Kind::Scalar, c.iv);
            e.active = c.active;
            let mut bind = vec![e];
            if let Some(i) = index {
                bind.push(Binding::new(
                    i,
                    Kind::Index {
                        min: 0,
                        max: len - 1,
                    },
                    Iv::new(0.0, len as f64),
                ));
            }
            run_loop(body, &bind, len, scope, ctx)?;
        }
    }
    Ok(())
}
