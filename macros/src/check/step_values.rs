//! Step values reported where they become part of the computed value: as a number, in
//! arithmetic with values that carry gradient, or as the result.

use std::collections::BTreeSet;

use syn::Type;

use super::flow::stmt_key;
use super::kinds::{is_arithmetic, kind_of_type, Kind};
use super::messages::{
    and_list, branch_help, comparison_help, counter_help, first_param, params_names, test_word,
};
use super::origins::Cause;
use super::places::is_group;
use super::report::{Checker, Entry};
use crate::errors::Place;
use crate::gating::is_gate;
use crate::ir::{Block, MethodKind, Operand, Stmt, StmtKind, Value, VarId};

impl Checker<'_, '_> {
    /// A step value becoming part of the computed value.
    pub(super) fn entry(&mut self, stmt: &Stmt, dst: VarId, value: &Value, ty: Option<&Type>) {
        let flow = &self.flow;
        let carrying = flow.carrying(value);
        let tainted: Vec<(usize, &Operand)> = carrying
            .iter()
            .copied()
            .filter(|op| !flow.varied(op))
            .filter_map(|op| flow.taint_of(op).map(|o| (o, op)))
            .filter(|(o, _)| !self.reported.contains(o))
            .collect();
        let Some(&(origin, operand)) = tainted.first() else {
            return;
        };
        // `mask * x`: the step value scales a value that carries gradient.
        let gated = |o: usize| flow.reach_result(&flow.origins[o].params);
        let gates = tainted
            .iter()
            .all(|(_, op)| is_gate(value, op, flow.activity));
        if gates && tainted.iter().all(|(o, _)| gated(*o)) {
            return;
        }
        if gates {
            // It scales as a mask does, but a parameter it depends on reaches the result
            // through nothing else: that parameter's gradient is what is lost.
            let subject = self.subject(origin, operand);
            self.unreached_through_step(origin, flow.place(stmt), subject);
            return;
        }
        let ascribed = ty.map(kind_of_type).unwrap_or(Kind::Unknown);
        let becomes_float = (flow.kinds[dst.0] == Kind::Float || ascribed == Kind::Float)
            && tainted.iter().any(|(_, op)| flow.kind(op) != Kind::Float);
        // `(x > 0.0) as f64`, where the number only gates values that carry gradient.
        if becomes_float && flow.gates.only_gates(dst) && gated(origin) {
            return;
        }
        let differentiable = match value {
            Value::Binary { op, .. } => is_arithmetic(op),
            Value::Method { kind, .. } => {
                matches!(
                    kind,
                    MethodKind::Float(_) | MethodKind::Trait(_) | MethodKind::Map(_)
                )
            }
            // An integer argument of a call is a count or an index (`series(x, n)`); a float
            // argument is part of the arithmetic.
            Value::Call { .. } => tainted.iter().any(|(_, op)| flow.kind(op) == Kind::Float),
            Value::Construct { .. } => true,
            _ => false,
        };
        let combined = differentiable && carrying.iter().any(|op| flow.varied(op));
        let entry = if becomes_float {
            Entry::Number
        } else if combined {
            Entry::Combined
        } else {
            return;
        };
        let named = |op: &Operand| {
            op.var()
                .is_some_and(|v| flow.body.var(v).user_name.is_some())
        };
        let place = match value {
            Value::Use(_) => Place::at(stmt.span),
            // `scale * x`: the step value itself, when it is the named left operand.
            Value::Binary { lhs, .. }
                if matches!(entry, Entry::Combined)
                    && lhs.var() == operand.var()
                    && named(lhs)
                    && !is_group(stmt.span) =>
            {
                Place::at(stmt.span)
            }
            _ => flow.place(stmt),
        };
        let subject = self.subject(origin, operand);
        // `u8::from(a > 0.0) + u8::from(b > 0.0)` depends on both comparisons; the value keeps
        // the first as its origin, the message names every parameter.
        let others: BTreeSet<usize> = tainted
            .iter()
            .filter_map(|(_, op)| op.var())
            .flat_map(|v| flow.touch[v.0].iter().copied())
            .collect();
        self.report_step(origin, place, entry, subject, others);
    }

    /// A step value that scales values carrying gradient, of parameters that reach the result
    /// through nothing else (`count * w` where `x` only decides `count`): one error per such
    /// parameter, at the step's use, saying to mark it data or use it.
    fn unreached_through_step(&mut self, origin: usize, place: Place, subject: Option<String>) {
        self.reported.insert(origin);
        let flow = &self.flow;
        let o = &flow.origins[origin];
        let step = subject.unwrap_or_else(|| o.text.clone());
        let unreached: BTreeSet<usize> = o
            .params
            .iter()
            .copied()
            .filter(|p| !flow.reach_result(&BTreeSet::from([*p])))
            .collect();
        let mut reports = Vec::new();
        for p in &unreached {
            let name = params_names(flow.sig, &BTreeSet::from([*p]));
            let bare = name.trim_matches('`');
            reports.push((
                format!("`{step}` scales values that carry gradient, but it is a step function of {name}, which reaches the result through nothing else, so the gradient of {name} would always be zero"),
                format!("if {name} is data, mark it `#[no_grad] {bare}`; if it should be trained, use it in the computed value, not only in the comparisons that decide `{step}`"),
            ));
        }
        for (message, help) in reports {
            self.errors.push_at(place, message, help);
        }
        self.blame(&unreached);
    }

    /// What to call a step value in a message: the variable when it has a name, else the origin.
    fn subject(&self, origin: usize, operand: &Operand) -> Option<String> {
        let v = operand.var()?;
        let name = self.flow.body.var(v).user_name.clone()?;
        match &self.flow.origins[origin].cause {
            Cause::Branch { var, .. } if *var == v => None,
            _ => Some(name),
        }
    }

    /// Value-form `if`/`match` that pick floats without gradient on a step condition: reported
    /// at the `if` wherever the value goes.
    pub(super) fn value_branches(&mut self, stmt: &Stmt) {
        let key = stmt_key(stmt);
        let mut found: Vec<usize> = self
            .flow
            .origin_at
            .iter()
            .filter(|((k, _), _)| *k == key)
            .map(|(_, o)| *o)
            .collect();
        found.sort();
        for o in found {
            let Cause::Branch { var, .. } = self.flow.origins[o].cause else {
                continue;
            };
            if self.reported.contains(&o)
                || !self.flow.is_value_branch(var)
                || self.flow.kinds[var.0] != Kind::Float
                || (self.flow.gates.only_gates(var)
                    && self.flow.reach_result(&self.flow.origins[o].params))
            {
                continue;
            }
            let place = self.flow.origins[o].place;
            self.report_step(o, place, Entry::Number, None, BTreeSet::new());
        }
    }

    /// A result that is a step value.
    pub(super) fn result(&mut self) {
        let Some(v) = self.flow.body.result.var() else {
            return;
        };
        if self.flow.activity.varied.contains(&v) {
            return;
        }
        let Some(o) = self.flow.taint[v.0] else {
            return;
        };
        if self.reported.contains(&o) {
            return;
        }
        let place = self.flow.origins[o].place;
        let others = self.flow.touch[v.0].clone();
        self.report_step(o, place, Entry::Result, None, others);
    }

    fn report_step(
        &mut self,
        origin: usize,
        place: Place,
        entry: Entry,
        subject: Option<String>,
        others: BTreeSet<usize>,
    ) {
        self.reported.insert(origin);
        let flow = &self.flow;
        let o = &flow.origins[origin];
        let mut params = o.params.clone();
        params.extend(others);
        // "comes from comparisons such as `a > 0.0`" when the value mixes several.
        let several = params.len() > o.params.len();
        let the = |what: &str| {
            if several {
                format!("{what}s such as")
            } else {
                format!("the {what}")
            }
        };
        let names = params_names(flow.sig, &params);
        let how = match entry {
            Entry::Number => "is turned into a number here",
            Entry::Combined => "is used in arithmetic with values that carry gradient here",
            Entry::Result => "is the function's result",
        };
        // "the comparison `x > y` is turned into a number here" or, for a named variable,
        // "`a` comes from the comparison `x > y` and is turned into a number here".
        let sentence = |what: String, verb: &str| match &subject {
            Some(s) => format!("`{s}` {verb} {what} and {how}"),
            None if several => format!("{what} {}", how.replacen("is ", "are ", 1)),
            None => format!("{what} {how}"),
        };
        let (message, help) = match &o.cause {
            Cause::Comparison => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("{} `{}`", the("comparison"), o.text), "comes from")
                ),
                comparison_help(flow, origin),
            ),
            Cause::Test => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(
                        format!("{} `{}`", the(test_word(&o.text)), o.text),
                        "comes from"
                    )
                ),
                if o.text.contains("cmp(") {
                    format!("an ordering is a step function, with derivative zero wherever it is defined; branch on it (`match {} {{ .. }}`) with arms that carry gradient, or write `stop_gradient(..)` around it if a constant is intended", o.text)
                } else {
                    format!("a test of a value is a step function, with derivative zero wherever it is defined; branch on it (`if {} {{ .. }} else {{ .. }}`) with arms that carry gradient, or write `stop_gradient(..)` around it if a constant is intended", o.text)
                },
            ),
            Cause::IntegerCast => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("{} `{}`", the("integer cast"), o.text), "comes from")
                ),
                format!("a cast to an integer type is a step function, with derivative zero wherever it is defined; an integer is fine as an index or a count, but if it is meant as a constant number write `stop_gradient({t})`; for a straight-through estimator of rounding write `v + stop_gradient(v.trunc() - v)`", t = o.text),
            ),
            Cause::Position => (
                format!(
                    "{}, but a position carries no gradient, so nothing flows back to {names} through it",
                    sentence(format!("the index from `{}`", o.text), "is")
                ),
                "use the index to select an element (`v[i]`), whose gradient flows; if the position itself is meant as a constant number, write `stop_gradient(..)` around it".to_string(),
            ),
            Cause::Count => (
                format!(
                    "{}, but a count carries no gradient, so nothing flows back to {names} through it",
                    sentence(format!("the count `{}`", o.text), "is")
                ),
                "a count of the elements a test keeps is a step function of them: use it as a count (in a condition, as a bound or divisor of data); to weigh the kept elements, sum them instead (`.filter(..).map(|v| ..).sum::<f64>()`); if the count itself is meant as a constant number, write `stop_gradient(..)` around it".to_string(),
            ),
            Cause::Rounding => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("`{}`", o.text), "comes from")
                ),
                "rounding is a step function; write `stop_gradient(..)` around it if a constant is intended".to_string(),
            ),
            Cause::Branch {
                keyword,
                condition,
                var,
            } => {
                let cond = &flow.origins[*condition];
                let cond_text = match cond.cause {
                    Cause::Comparison if cond.text.starts_with("match on ") => {
                        format!("a `{}`", cond.text)
                    }
                    Cause::Comparison => format!("the comparison `{}`", cond.text),
                    Cause::Test => format!("the {} `{}`", test_word(&cond.text), cond.text),
                    Cause::Position => format!("the index from `{}`", cond.text),
                    Cause::Count => format!("the count `{}`", cond.text),
                    _ => format!("`{}`", cond.text),
                };
                let arms = self.arm_values(*var);
                let values = if arms.is_empty() {
                    "values that carry no gradient".to_string()
                } else {
                    format!("{}, which carry no gradient", and_list(&arms))
                };
                let name = flow.body.var(*var).user_name.clone().filter(|n| !n.is_empty());
                if flow.is_value_branch(*var) {
                    let message = format!("this `{keyword}` picks between {values}, on {cond_text}: its value is a step function of {names}, and its gradient is always zero");
                    let help = if *keyword == "match" {
                        format!("put the computation that carries gradient inside the arms, as in `match .. {{ 0 => 2.0 * {x}, _ => {x} }}`; if a constant is intended, write `stop_gradient(..)` around the `match`", x = first_param(flow, &params))
                    } else {
                        branch_help(flow, *condition)
                    };
                    (message, help)
                } else if let Some(name) = name {
                    let start = match &subject {
                        Some(s) => format!("`{s}` is computed from `{name}` and {how}"),
                        None => format!("`{name}` {how}"),
                    };
                    let set = if arms.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", and_list(&arms))
                    };
                    let help = if flow.kinds[var.0] == Kind::Float {
                        branch_help(flow, *condition)
                    } else {
                        counter_help(flow, *condition, &name)
                    };
                    (
                        format!("{start}, but the `{keyword}` on {cond_text} sets `{name}` only to values that carry no gradient{set}: it is a step function of {names}, and its gradient is always zero"),
                        help,
                    )
                } else {
                    (
                        format!("this `{keyword}` on {cond_text} sets the function's result to {values}: the result is a step function of {names}, and its gradient is always zero"),
                        branch_help(flow, *condition),
                    )
                }
            }
        };
        let message = if several && subject.is_none() {
            message.replace("through it", "through them")
        } else {
            message
        };
        self.errors.push_at(place, message, help);
        self.blame(&params);
    }

    /// The values an `if` assigns to `var`, rendered, for the message.
    fn arm_values(&self, var: VarId) -> Vec<String> {
        let mut out = Vec::new();
        collect_assigned_values(&self.flow.body.block, var, &mut |op| {
            let text = self.flow.render_plain(op, 2);
            if !out.contains(&format!("`{text}`")) && out.len() < 4 {
                out.push(format!("`{text}`"));
            }
        });
        out
    }
}

/// Calls `f` on every value assigned to `var` anywhere in `block`.
fn collect_assigned_values(block: &Block, var: VarId, f: &mut dyn FnMut(&Operand)) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Assign {
                var: v,
                value: Value::Use(op),
            } if *v == var => f(op),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_assigned_values(then_block, var, f);
                collect_assigned_values(else_block, var, f);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                collect_assigned_values(body, var, f)
            }
            _ => {}
        }
    }
}
