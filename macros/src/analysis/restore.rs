//! Which buffers the reverse sweep restores write by write, so that their element reads can be
//! computed again instead of saved: where that costs less.

use std::collections::{HashMap, HashSet};

use syn::BinOp;

use super::steps::integer_steps;
use super::walk::{value_inputs, written_as_kept};
use crate::ir::{Block, Body, Operand, Origin, StmtKind, Value, VarId};

/// The locations whose value the reverse sweep keeps as the forward sweep had it at each point,
/// by restoring what each write overwrites, when that is cheaper than saving their element
/// reads: a `Vec` filled once per iteration of an outer loop and read many times inside it
/// (`xcentered` in `for i { for j in i + 1..d { .. xcentered[i] .. } }`). An integer stepped
/// by a literal (`idx += 1`) is restored for free (see `steps::integer_steps`). Costs count a
/// statement at loop depth `n` as `8ⁿ` runs. Locations that code kept as written changes, and
/// parameters, are never counted.
pub(crate) fn restored_locations(body: &Body) -> HashSet<VarId> {
    let steps = integer_steps(body);
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
                        base: Operand::Var(b) | Operand::Ref(b, ..),
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
