//! What the reverse sweep computes again instead of saving: cheap values whose inputs do not
//! change, at the start of their block's reverse, and element reads of restored buffers or by
//! stepped indices, and views of a local matrix that the function writes, right before their
//! last use.

use std::collections::{HashMap, HashSet};

use super::activity::Activity;
use super::numbers::numbers;
use super::restore::restored_locations;
use super::walk::{
    collect_map_captures, collect_primal_reads, collect_written, defines, may_have_effects,
    value_inputs, written_as_kept,
};
use crate::ir::{Block, Body, MethodKind, Operand, Origin, StmtKind, Value, VarId};
use crate::methods::BORROWING_VIEWS;
use crate::parse::Signature;

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
pub(crate) fn recomputable<'b>(
    body: &'b Body,
    sig: &Signature,
    activity: &Activity,
) -> Recomputation<'b> {
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
    let mut out = Recomputation {
        values: HashMap::new(),
        before: HashMap::new(),
    };
    let cheap = Cheap {
        activity,
        numbers,
        restored: restored_locations(body),
    };
    walk_recomputable(&body.block, body, &cheap, &fixed, &mut out, false);
    out
}

/// What the reverse sweep computes again instead of restoring from a tape.
pub(crate) struct Recomputation<'b> {
    /// Every recomputed value, with what it computes.
    pub values: HashMap<VarId, &'b Value>,
    /// Element reads computed again right before the reverse of the statement (by address) that
    /// uses them last, rather than at the start of their block's reverse: they read a location
    /// that the block changes after that use (`icf[idx]` before `idx += 1`), or one that the
    /// loop nest writes and the reverse sweep restores (see [`restored_locations`]).
    pub before: HashMap<usize, Vec<VarId>>,
}

/// What recomputing costs less than saving.
struct Cheap<'a> {
    activity: &'a Activity,
    numbers: HashSet<VarId>,
    restored: HashSet<VarId>,
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
            Value::Opaque { kept, tokens, .. } if kept.is_stopped() => {
                !self.activity.varied.contains(&var) && !may_have_effects(tokens)
            }
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
    out: &mut Recomputation<'b>,
    nested: bool,
) {
    let mut fixed = fixed.clone();
    // The views taken again, each with the chain of values that takes it (itself last).
    let mut views: HashMap<VarId, Vec<VarId>> = HashMap::new();
    for (position, stmt) in block.iter().enumerate() {
        match &stmt.kind {
            StmtKind::Let { var, value, .. }
                if views_a_written_location(body, value) || copies_a_view(value, &views) =>
            {
                // Taken again right before its last use's reverse, where the receiver has its
                // value of here again: the forward sweep's view would borrow the receiver
                // across the reverse sweep's restores of later writes. A copy of such a view
                // (`let col: VectorView3<f64> = m.fixed_view(..)`) takes the view again there
                // first. (The receiver cannot change while a view of it lives.)
                let inputs = value_inputs(value);
                if let Some(last) = last_use_if_unchanged(body, block, position, *var, &inputs) {
                    let mut chain = match value {
                        Value::Use(Operand::Var(of)) => views.remove(of).unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    for values in out.before.values_mut() {
                        values.retain(|v| !chain.contains(v));
                    }
                    chain.push(*var);
                    out.values.insert(*var, value);
                    let at = &block[last] as *const _ as usize;
                    out.before
                        .entry(at)
                        .or_default()
                        .extend(chain.iter().copied());
                    views.insert(*var, chain);
                }
            }
            StmtKind::Let { var, value, .. } if nested && !body.var(*var).is_location => {
                let inputs = value_inputs(value);
                let inputs_fixed = inputs.iter().all(|v| fixed.contains(v));
                if inputs_fixed && cheap.is_cheap(*var, value) {
                    fixed.insert(*var);
                    out.values.insert(*var, value);
                } else if matches!(value, Value::Index { .. })
                    && inputs
                        .iter()
                        .all(|v| fixed.contains(v) || cheap.restored.contains(v))
                {
                    if let Some(last) = last_use_if_unchanged(body, block, position, *var, &inputs)
                    {
                        out.values.insert(*var, value);
                        let at = &block[last] as *const _ as usize;
                        out.before.entry(at).or_default().push(*var);
                    }
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

/// Whether `value` is a view (`a.column(1)`, see [`BORROWING_VIEWS`]) of a local location that
/// the function writes somewhere.
fn views_a_written_location(body: &Body, value: &Value) -> bool {
    let Value::Method {
        receiver: Operand::Var(of) | Operand::Ref(of, ..),
        method,
        kind: MethodKind::Trait(_),
        ..
    } = value
    else {
        return false;
    };
    let var = body.var(*of);
    if !var.is_location || matches!(var.origin, Origin::Param(_)) {
        return false;
    }
    if !BORROWING_VIEWS.iter().any(|name| method == name) {
        return false;
    }
    let mut written = HashSet::new();
    collect_written(&body.block, &mut written);
    written.contains(of)
}

/// Whether `value` is a copy of a view that is taken again (`let col: View = t;`).
fn copies_a_view(value: &Value, views: &HashMap<VarId, Vec<VarId>>) -> bool {
    matches!(value, Value::Use(Operand::Var(of)) if views.contains_key(of))
}

/// The position of the last statement of `block` after `position` that reads `var`, when none
/// of the statements from `position` up to it writes one of `inputs`: `var` can be computed
/// again right before that statement's reverse, from the inputs as they were at `position`.
fn last_use_if_unchanged(
    body: &Body,
    block: &Block,
    position: usize,
    var: VarId,
    inputs: &[VarId],
) -> Option<usize> {
    let last = (position + 1..block.len()).rev().find(|&q| {
        let statement = std::slice::from_ref(&block[q]);
        let mut reads = Vec::new();
        collect_primal_reads(statement, &mut reads);
        collect_map_captures(body, statement, &mut reads);
        reads.contains(&var)
    })?;
    let mut written = HashSet::new();
    collect_written(&block[position + 1..=last], &mut written);
    (!inputs.iter().any(|v| written.contains(v))).then_some(last)
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
