//! Recomputation of cheap values in the reverse sweep instead of saving them.

use std::collections::{HashMap, HashSet};

use super::numbers::numbers;
use super::walk::{
    collect_primal_reads, collect_written, defines, may_have_effects, value_inputs, written_as_kept,
};
use super::Generator;
use crate::activity::Activity;
use syn::BinOp;

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
pub(super) struct Recomputation<'b> {
    /// Every recomputed value, with what it computes.
    pub values: HashMap<VarId, &'b Value>,
    /// Element reads computed again right before the reverse of the statement (by address) that
    /// uses them last, rather than at the start of their block's reverse: they read a location
    /// that the block changes after that use (`icf[idx]` before `idx += 1`), or one that the
    /// loop nest writes and the reverse sweep restores (see [`restored_locations`]).
    pub before: HashMap<usize, Vec<VarId>>,
}

/// The locations whose value the reverse sweep keeps as the forward sweep had it at each point,
/// by restoring what each write overwrites, when that is cheaper than saving their element
/// reads: a `Vec` filled once per iteration of an outer loop and read many times inside it
/// (`xcentered` in `for i { for j in i + 1..d { .. xcentered[i] .. } }`). An integer stepped
/// by a literal (`idx += 1`) is restored for free (see `walk::integer_steps`). Costs count a
/// statement at loop depth `n` as `8ⁿ` runs. Locations that code kept as written changes, and
/// parameters, are never counted.
fn restored_locations(body: &Body) -> HashSet<VarId> {
    let steps = super::walk::integer_steps(body);
    let mut read_by_rules = HashSet::new();
    rule_operands(&body.block, &mut read_by_rules);
    let mut costs = HashMap::new();
    count_costs(&body.block, 0, &steps, &read_by_rules, &mut costs);
    let kept = written_as_kept(body);
    costs
        .into_iter()
        .filter(|(v, c)| {
            body.var(*v).is_location
                && !matches!(body.var(*v).origin, Origin::Param(_))
                && !kept.contains(v)
                && (c.reads > c.writes || (c.writes == 0 && c.stepped))
        })
        .map(|(v, _)| v)
        .collect()
}

#[derive(Default)]
struct Costs {
    /// Runs of element reads of the location inside loops.
    reads: u64,
    /// Runs of writes that the reverse sweep restores from a tape.
    writes: u64,
    /// Some assignment steps it by an integer literal, which is undone without a tape.
    stepped: bool,
}

/// Variables that a derivative rule may read: operands of products, quotients and methods,
/// arguments of calls, and indices. (Sums and differences read no operand.)
fn rule_operands(block: &Block, out: &mut HashSet<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => match value {
                Value::Binary {
                    op: BinOp::Add(_) | BinOp::Sub(_),
                    ..
                }
                | Value::Unary { .. }
                | Value::Use(_) => {}
                Value::Index { index, .. } => out.extend(index.var()),
                other => out.extend(value_inputs(other)),
            },
            StmtKind::SetIndex { index, .. } => out.extend(index.var()),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                rule_operands(then_block, out);
                rule_operands(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => rule_operands(body, out),
            _ => {}
        }
    }
}

fn count_costs(
    block: &Block,
    depth: u32,
    steps: &HashMap<usize, proc_macro2::TokenStream>,
    read_by_rules: &HashSet<VarId>,
    costs: &mut HashMap<VarId, Costs>,
) {
    let runs = 8u64.saturating_pow(depth);
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let {
                var,
                value:
                    Value::Index {
                        base: Operand::Var(b) | Operand::Ref(b, _),
                        ..
                    },
                ..
            } if depth > 0 && read_by_rules.contains(var) => {
                costs.entry(*b).or_default().reads += runs
            }
            StmtKind::Assign { var, .. } => {
                let cost = costs.entry(*var).or_default();
                if steps.contains_key(&(stmt as *const _ as usize)) {
                    cost.stepped = true;
                } else {
                    cost.writes += runs;
                }
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => {
                costs.entry(*base).or_default().writes += runs;
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                count_costs(then_block, depth, steps, read_by_rules, costs);
                count_costs(else_block, depth, steps, read_by_rules, costs);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                count_costs(body, depth + 1, steps, read_by_rules, costs)
            }
            _ => {}
        }
    }
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
    out: &mut Recomputation<'b>,
    nested: bool,
) {
    let mut fixed = fixed.clone();
    for (position, stmt) in block.iter().enumerate() {
        match &stmt.kind {
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
        collect_captures(body, statement, &mut reads);
        reads.contains(&var)
    })?;
    let mut written = HashSet::new();
    collect_written(&block[position + 1..=last], &mut written);
    (!inputs.iter().any(|v| written.contains(v))).then_some(last)
}

/// The variables that the `map` closures of `block` read from the enclosing function, which
/// their pullbacks read in the reverse sweep.
fn collect_captures(body: &Body, block: &[crate::ir::Stmt], out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                if let Value::Method {
                    kind: MethodKind::Map(index),
                    ..
                } = value
                {
                    if let Some(closure) = body.closures.get(*index) {
                        out.extend(closure.captures.iter().map(|(v, _)| *v));
                    }
                }
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_captures(body, then_block, out);
                collect_captures(body, else_block, out);
            }
            StmtKind::For { body: inner, .. } | StmtKind::Loop { body: inner, .. } => {
                collect_captures(body, inner, out)
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
