//! The differentiability checks: every construct through which gradient would silently stop or
//! vanish is a compile error at the user's tokens, saying why and what to write instead.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::BinOp;

use crate::activity::Activity;
use crate::errors::Errors;
use crate::ir::{Block, Body, MethodKind, Operand, Origin, StmtKind, UnOp, Value, VarId};
use crate::parse::{is_float, Signature};

/// Why a value is a step function of a value that carries gradient.
#[derive(Clone, Copy)]
enum Step {
    Comparison(Span),
    IntegerCast(Span),
    Rounding(Span),
}

impl Step {
    fn describe(self) -> (&'static str, Span) {
        match self {
            Step::Comparison(s) => ("a comparison", s),
            Step::IntegerCast(s) => ("a cast to an integer type", s),
            Step::Rounding(s) => ("a rounding operation", s),
        }
    }
}

struct Checker<'a> {
    body: &'a Body,
    activity: &'a Activity,
    errors: &'a mut Errors,
    steps: HashMap<VarId, Step>,
}

pub fn check(body: &Body, sig: &Signature, activity: &Activity, errors: &mut Errors) {
    let mut checker = Checker {
        body,
        activity,
        errors,
        steps: HashMap::new(),
    };
    checker.block(&body.block);
    for (id, var) in body.vars.iter().enumerate() {
        let Origin::Param(i) = var.origin else {
            continue;
        };
        let param = &sig.params[i];
        if param.active && !activity.useful.contains(&VarId(id)) {
            let name = &param.ident;
            checker.errors.push(
                name.span(),
                format!("parameter `{name}` never reaches the result through a differentiable path, so its gradient would always be zero"),
                format!("mark it `#[no_grad] {name}` if it is data, or use it in the computation of the result"),
            );
        }
    }
}

impl Checker<'_> {
    fn varied(&self, op: &Operand) -> bool {
        self.activity.operand_varied(op)
    }

    fn step_of(&self, op: &Operand) -> Option<Step> {
        op.var().and_then(|v| self.steps.get(&v).copied())
    }

    fn block(&mut self, block: &Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, value, .. } | StmtKind::Assign { var, value } => {
                    self.value(*var, value, stmt.span);
                }
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.block(then_block);
                    self.block(else_block);
                    self.step_if(cond, then_block, else_block, stmt.span);
                }
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.block(body),
                StmtKind::SetIndex { .. }
                | StmtKind::Push { .. }
                | StmtKind::Declare { .. }
                | StmtKind::Opaque { .. } => {}
            }
        }
    }

    fn value(&mut self, dst: VarId, value: &Value, span: Span) {
        let operands: Vec<&Operand> = match value {
            Value::Use(op) => vec![op],
            Value::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            Value::Unary { arg, .. } | Value::Cast { arg, .. } => vec![arg],
            Value::Method { receiver, args, .. } => std::iter::once(receiver).chain(args).collect(),
            Value::Call { args, .. } | Value::Construct { args, .. } | Value::Tuple(args) => {
                args.iter().collect()
            }
            Value::Index { base, index } => vec![base, index],
            Value::Field { base, .. } => vec![base],
            Value::Opaque { .. } => vec![],
        };
        // A step value keeps being one through whatever computes with it.
        if let Some(step) = operands.iter().find_map(|op| self.step_of(op)) {
            self.steps.insert(dst, step);
        }
        let any_varied = operands.iter().any(|op| self.varied(op));
        match value {
            Value::Binary { op, lhs, rhs } => {
                let comparison = matches!(
                    op,
                    BinOp::Lt(_)
                        | BinOp::Le(_)
                        | BinOp::Gt(_)
                        | BinOp::Ge(_)
                        | BinOp::Eq(_)
                        | BinOp::Ne(_)
                );
                if comparison && any_varied {
                    self.steps.insert(dst, Step::Comparison(span));
                }
                if matches!(op, BinOp::Rem(_)) && self.varied(lhs) | self.varied(rhs) {
                    self.errors.push(
                        span,
                        "`%` on a value that carries gradient has no derivative rule in nabla",
                        "write the remainder with `x - (x / y).trunc() * y` wrapped in `stop_gradient(..)` where it is meant as a constant",
                    );
                }
            }
            Value::Unary { op: UnOp::Not, arg } if self.varied(arg) => {
                self.steps.insert(dst, Step::Comparison(span));
            }
            Value::Method {
                method,
                kind: MethodKind::Step,
                receiver,
                ..
            } if self.varied(receiver) => {
                self.steps.insert(dst, Step::Rounding(span));
                self.errors.push(
                    span,
                    format!("`{method}` on a value that carries gradient has derivative zero almost everywhere, so no gradient flows through it"),
                    "use a smooth surrogate, or wrap the expression in `stop_gradient(..)` if a constant is intended",
                );
            }
            Value::Method {
                method,
                kind: MethodKind::Unknown,
                ..
            } if any_varied => {
                self.errors.push(
                    span,
                    format!("no derivative is known for the method `{method}` called on values that carry gradient"),
                    "call a #[differentiable] or #[custom_gradient] function instead, or wrap the call in `stop_gradient(..)` if no gradient is meant to flow",
                );
            }
            Value::Cast { arg, ty } => {
                if is_float(ty) {
                    if let Some(step) = self.step_of(arg) {
                        self.step_as_number(step, span);
                    }
                } else if self.varied(arg) {
                    self.steps.insert(dst, Step::IntegerCast(span));
                }
            }
            Value::Call { func, args } => {
                let segments: Vec<String> = func
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let conversion = segments.len() >= 2 && segments[segments.len() - 1] == "from";
                if conversion {
                    if let Some(step) = args.iter().find_map(|a| self.step_of(a)) {
                        self.step_as_number(step, span);
                    }
                }
            }
            Value::Field { base, .. } if self.varied(base) => {
                self.errors.push(
                    span,
                    "field access on a value that carries gradient is not supported in #[differentiable] functions",
                    "pass the fields as separate parameters",
                );
            }
            Value::Opaque {
                reads,
                stopped: false,
                ..
            } if reads.iter().any(|v| self.activity.varied.contains(v)) => {
                self.errors.push(
                    span,
                    "`vec![..]` of values that carry gradient is not supported in #[differentiable] functions",
                    "create the buffer with `vec![0.0; n]` and assign its elements, or `push` them",
                );
            }
            Value::Tuple(items) if items.iter().any(|i| self.varied(i)) => {
                self.errors.push(
                    span,
                    "a tuple of values that carry gradient is not supported in #[differentiable] functions",
                    "bind each value with its own `let`",
                );
            }
            _ => {}
        }
    }

    fn step_as_number(&mut self, step: Step, at: Span) {
        let (what, origin) = step.describe();
        let mut error = syn::Error::new(
            at,
            format!("{what} of a value that carries gradient is turned into a number here, so its gradient is zero\n\nhelp: gradient does not flow through a step; use a smooth surrogate (e.g. `sigmoid(k * (x - t))` for `x > t`), or wrap the step in `stop_gradient(..)` if a constant is intended"),
        );
        error.combine(syn::Error::new(
            origin,
            format!("note: {what} of a value that carries gradient happens here"),
        ));
        self.errors.push_error(error);
    }

    /// An `if` that picks between values carrying no gradient, on a condition that depends on
    /// one: a step function such as `if x > 0.5 { 1.0 } else { 0.0 }`.
    fn step_if(&mut self, cond: &Operand, then_block: &Block, else_block: &Block, span: Span) {
        let Some(step) = self.step_of(cond) else {
            return;
        };
        let (Some(then_result), Some(else_result)) =
            (branch_result(then_block), branch_result(else_block))
        else {
            return;
        };
        let (r1, v1) = then_result;
        let (r2, v2) = else_result;
        if r1 != r2 || self.body.var(r1).origin != Origin::Temp {
            return;
        }
        if self.varied(v1) || self.varied(v2) || is_boolean(v1) || is_boolean(v2) {
            // Gradient flows through an arm, or this is `a && b` picking between booleans.
            return;
        }
        let (what, origin) = step.describe();
        let mut error = syn::Error::new(
            span,
            "this `if` picks between values that carry no gradient on a condition that depends on one: it is a step function, and its gradient is zero\n\nhelp: use a smooth surrogate (e.g. `sigmoid(k * (x - t))` for `if x > t { 1.0 } else { 0.0 }`), or wrap the `if` in `stop_gradient(..)` if a constant is intended",
        );
        error.combine(syn::Error::new(
            origin,
            format!("note: the condition is {what} of a value that carries gradient"),
        ));
        self.errors.push_error(error);
    }
}

/// The value a branch block assigns to its `if`'s result as its last statement.
fn branch_result(block: &Block) -> Option<(VarId, &Operand)> {
    match &block.last()?.kind {
        StmtKind::Assign {
            var,
            value: Value::Use(op),
        } => Some((*var, op)),
        _ => None,
    }
}

fn is_boolean(op: &Operand) -> bool {
    matches!(op, Operand::Const(c) if matches!(c.to_string().as_str(), "true" | "false"))
}
