//! Recomputation of cheap values in the reverse sweep instead of saving them.

use std::collections::{HashMap, HashSet};

use super::numbers::numbers;
use super::walk::{collect_written, defines, may_have_effects, value_inputs, written_as_kept};
use super::Generator;
use crate::activity::Activity;
use crate::ir::{Block, Body, MethodKind, Operand, Origin, StmtKind, Value, VarId};
use crate::parse::Signature;

impl<'a> Generator<'a> {
    /// `needed` plus, transitively, what recomputing the needed recomputable values reads.
    pub(super) fn with_recomputation_inputs(&self, mut needed: HashSet<VarId>) -> HashSet<VarId> {
        let mut pending: Vec<VarId> = needed.iter().copied().collect();
        while let Some(v) = pending.pop() {
            if let Some(value) = self.recomputed.get(&v) {
                for input in value_inputs(value) {
                    if needed.insert(input) {
                        pending.push(input);
                    }
                }
            }
        }
        needed
    }
}

/// Values defined inside branches and loops that the reverse sweep can compute again rather than
/// save: an element read (`x[i * d + j]`) of a container that does not change there, and
/// arithmetic that carries no gradient (indices, ranges) — as long as everything they read is
/// itself fixed: a parameter, a variable defined once outside every branch and loop, a `for`
/// loop variable, a location that the outermost enclosing branch or loop never writes (a buffer
/// filled by an earlier loop), or another such value. Recomputing costs an index calculation and
/// a load; saving costs a push and a pop per iteration, and memory. (A location read this way
/// becomes needed, so writes to it after the loop save and restore it; a location written inside
/// the same loop nest is not read this way, since saving each of its writes would cost more than
/// saving the reads.)
pub(super) fn recomputable<'b>(
    body: &'b Body,
    sig: &Signature,
    activity: &Activity,
) -> HashMap<VarId, &'b Value> {
    let numbers = numbers(body, sig);
    let mut fixed: HashSet<VarId> = HashSet::new();
    for (i, var) in body.vars.iter().enumerate() {
        if matches!(var.origin, Origin::Param(_)) && !var.is_location {
            fixed.insert(VarId(i));
        }
    }
    for stmt in &body.block {
        if let StmtKind::Let { var, .. } = &stmt.kind {
            if !body.var(*var).is_location {
                fixed.insert(*var);
            }
        }
    }
    let mut out = HashMap::new();
    let cheap = Cheap { activity, numbers };
    walk_recomputable(&body.block, body, &cheap, &fixed, &mut out, false);
    out
}

/// What recomputing costs less than saving.
struct Cheap<'a> {
    activity: &'a Activity,
    numbers: HashSet<VarId>,
}

impl Cheap<'_> {
    fn is_cheap(&self, var: VarId, value: &Value) -> bool {
        match value {
            Value::Index { .. } | Value::Use(Operand::Const(_)) => true,
            // One instruction on numbers, whether or not it carries gradient; on anything else
            // (a matrix product) only when it carries none, as for indices and ranges.
            Value::Binary { .. } | Value::Unary { .. } | Value::Cast { .. } => {
                !self.activity.varied.contains(&var) || self.numbers.contains(&var)
            }
            // Indices `(i, j)` and ranges; never code kept as written that may change something
            // (`stop_gradient(q.remove(0))`), which must run once.
            Value::Tuple(_) => !self.activity.varied.contains(&var),
            Value::Opaque {
                stopped: true,
                tokens,
                ..
            } => !self.activity.varied.contains(&var) && !may_have_effects(tokens),
            Value::Method {
                kind: MethodKind::Query,
                ..
            } => true,
            _ => false,
        }
    }
}

fn walk_recomputable<'b>(
    block: &'b Block,
    body: &'b Body,
    cheap: &Cheap<'_>,
    fixed: &HashSet<VarId>,
    out: &mut HashMap<VarId, &'b Value>,
    nested: bool,
) {
    let mut fixed = fixed.clone();
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, value, .. } if nested && !body.var(*var).is_location => {
                let inputs_fixed = value_inputs(value).iter().all(|v| fixed.contains(v));
                if inputs_fixed && cheap.is_cheap(*var, value) {
                    fixed.insert(*var);
                    out.insert(*var, value);
                }
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                for inner in [then_block, else_block] {
                    let inner_fixed = nest_fixed(body, inner, &fixed, nested);
                    walk_recomputable(inner, body, cheap, &inner_fixed, out, true);
                }
            }
            StmtKind::For {
                var, body: inner, ..
            } => {
                let mut inner_fixed = nest_fixed(body, inner, &fixed, nested);
                inner_fixed.insert(*var);
                walk_recomputable(inner, body, cheap, &inner_fixed, out, true);
            }
            StmtKind::Loop { body: inner, .. } => {
                let inner_fixed = nest_fixed(body, inner, &fixed, nested);
                walk_recomputable(inner, body, cheap, &inner_fixed, out, true);
            }
            _ => {}
        }
    }
}

/// What is fixed inside `block`: at the top of a loop nest, `fixed` plus the locations the nest
/// never writes; deeper, what was fixed around it.
fn nest_fixed(body: &Body, block: &Block, fixed: &HashSet<VarId>, nested: bool) -> HashSet<VarId> {
    if nested {
        return fixed.clone();
    }
    let mut written = HashSet::new();
    collect_written(block, &mut written);
    // Code kept as written that changes a buffer (`q.remove(0)`, `d.sort()`) has nothing in the
    // reverse sweep that undoes it: a buffer it changes anywhere is never read again there.
    written.extend(written_as_kept(body));
    let mut out = fixed.clone();
    out.extend(
        body.vars
            .iter()
            .enumerate()
            .map(|(i, _)| VarId(i))
            .filter(|v| body.var(*v).is_location && !written.contains(v) && !defines(block, *v)),
    );
    out
}
