//! Parameter checks: active parameters that never reach the result, and where they are used
//! instead.

use super::flow::Flow;
use super::report::Checker;
use crate::ir::{Block, Kept, Origin, StmtKind, Value, VarId};

impl Checker<'_, '_> {
    /// Active parameters that never reach the result.
    pub(super) fn parameters(&mut self) {
        let flow = &self.flow;
        // A `map` closure's parameters have no tangent type; beside the element (parameter 0),
        // they are the enclosing function's variables, which its own checks cover.
        let closure = flow.sig.params.first().is_some_and(|p| p.active)
            && flow.sig.params.iter().all(|p| p.tangent.is_none());
        let mut reports = Vec::new();
        for (id, var) in flow.body.vars.iter().enumerate() {
            let Origin::Param(i) = var.origin else {
                continue;
            };
            let Some(param) = flow.sig.params.get(i) else {
                continue;
            };
            if closure && i > 0 {
                continue;
            }
            if !param.active
                || flow.activity.useful.contains(&VarId(id))
                || self.blamed.contains(&i)
            {
                continue;
            }
            let name = param.shown();
            let what = if closure {
                format!("the closure parameter `{name}`")
            } else {
                format!("parameter `{name}`")
            };
            let (in_condition, in_stop) = flow.uses_of(i);
            let used = flow.reads[id] > 0;
            let message = if !used {
                format!("{what} is never used, so its gradient would always be zero")
            } else if in_stop && !in_condition {
                format!("{what} is only used inside `stop_gradient(..)`, so its gradient would always be zero")
            } else if in_condition && !in_stop {
                format!("{what} only decides conditions (`if`, `while`, `match`) and never reaches the result through arithmetic, so its gradient would always be zero")
            } else {
                format!("{what} never reaches the result through a differentiable path, so its gradient would always be zero")
            };
            let help = if closure {
                format!("use `{name}` in the closure's result, or map with `|_| ..` if the elements do not matter")
            } else if in_condition && !in_stop {
                format!("a condition picks a branch but passes no gradient to what it tests; if `{name}` is data, mark it `#[no_grad] {name}`, and if it should be trained, use it in the computed value")
            } else if in_stop {
                format!("if `{name}` is meant as a constant, mark it `#[no_grad] {name}`; if it should be trained, use it outside `stop_gradient(..)`")
            } else {
                format!("if `{name}` is data, mark it `#[no_grad] {name}` (or name it `_{name}`); if it should be trained, use it in the computation of the result")
            };
            reports.push((param.ident.span(), message, help));
        }
        for (span, message, help) in reports {
            self.errors.push(span, message, help);
        }
    }
}

impl Flow<'_> {
    /// Whether parameter `i` reaches a condition, and whether it reaches a `stop_gradient(..)`.
    fn uses_of(&self, i: usize) -> (bool, bool) {
        let mut in_condition = false;
        let mut in_stop = false;
        self.visit_uses(&self.body.block, i, &mut in_condition, &mut in_stop);
        (in_condition, in_stop)
    }

    fn visit_uses(&self, block: &Block, i: usize, in_condition: &mut bool, in_stop: &mut bool) {
        let touches = |v: &VarId| self.touch.get(v.0).is_some_and(|t| t.contains(&i));
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                    if let Value::Opaque {
                        reads,
                        kept: Kept::StopGradient,
                        ..
                    } = value
                    {
                        if reads.iter().any(touches) {
                            *in_stop = true;
                        }
                    }
                }
                // `assert!(..)` and other statement macros: checks, like conditions.
                StmtKind::Opaque { reads, .. } if reads.iter().any(touches) => {
                    *in_condition = true;
                }
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    if cond.var().is_some_and(|v| touches(&v)) {
                        *in_condition = true;
                    }
                    self.visit_uses(then_block, i, in_condition, in_stop);
                    self.visit_uses(else_block, i, in_condition, in_stop);
                }
                StmtKind::For { range, body, .. } => {
                    if range.var().is_some_and(|v| touches(&v)) {
                        *in_condition = true;
                    }
                    self.visit_uses(body, i, in_condition, in_stop);
                }
                StmtKind::Loop { body, .. } => self.visit_uses(body, i, in_condition, in_stop),
                _ => {}
            }
        }
    }
}
