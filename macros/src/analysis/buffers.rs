//! Whole assignments of buffers and of locations declared without a value: what decides
//! whether a buffer's adjoint keeps the buffer's length, and which assignments overwrite
//! nothing.

use std::collections::{HashMap, HashSet};

use super::numbers::is_number_literal;
use super::walk::{all_blocks, written_as_kept};
use crate::ir::{Block, Body, Operand, Stmt, StmtKind, Value, VarId};

/// The variables some statement assigns as a whole with a value that may be a buffer (a `Vec`,
/// whose length can change): anything but arithmetic, negation, casts and element reads, also
/// through the temporaries that hold them (`s += x` assigns `s` the temporary `s + x`).
pub(crate) fn reassigned_buffers(body: &Body) -> HashSet<VarId> {
    let mut lets = HashMap::new();
    let mut assigns = Vec::new();
    for block in all_blocks(body) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, value, .. } => {
                    lets.insert(*var, value);
                }
                StmtKind::Assign { var, value } => assigns.push((*var, value)),
                _ => {}
            }
        }
    }
    let not_a_buffer = |value: &Value| {
        let mut value = value;
        // Temporaries are bound once, before their use: the chain of `Use`s ends.
        for _ in 0..lets.len() + 1 {
            match value {
                Value::Binary { .. }
                | Value::Unary { .. }
                | Value::Cast { .. }
                | Value::Index { .. } => return true,
                // A literal number; a path (`EMPTY`) may be a buffer.
                Value::Use(Operand::Const(tokens)) => return is_number_literal(tokens),
                Value::Use(Operand::Var(v)) if !body.var(*v).is_location => match lets.get(v) {
                    Some(next) => value = next,
                    None => return false,
                },
                _ => return false,
            }
        }
        false
    };
    assigns
        .into_iter()
        .filter(|(_, value)| !not_a_buffer(value))
        .map(|(var, _)| var)
        .collect()
}

/// Collects the locations declared without a value that are assigned at most once on any path.
pub(crate) fn assigned_once(block: &Block, out: &mut HashSet<VarId>) {
    for (i, stmt) in block.iter().enumerate() {
        match &stmt.kind {
            StmtKind::Declare { var, .. } if assignments_on_a_path(&block[i + 1..], *var) <= 1 => {
                out.insert(*var);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                assigned_once(then_block, out);
                assigned_once(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => assigned_once(body, out),
            _ => {}
        }
    }
}

/// The most assignments to `v` that one run through `stmts` can make (2 standing for "several").
/// Element writes and pushes change the value without replacing it (and restore what they
/// overwrite themselves): they are no assignment.
fn assignments_on_a_path(stmts: &[Stmt], v: VarId) -> usize {
    stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { var, .. } if *var == v => 1,
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => assignments_on_a_path(then_block, v).max(assignments_on_a_path(else_block, v)),
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. }
                if assignments_on_a_path(body, v) > 0 =>
            {
                2
            }
            _ => 0,
        })
        .sum::<usize>()
        .min(2)
}

/// The locations declared without a value (`let v;`) that some path leaves unassigned at the
/// end of their block: an assignment in one branch only, or before an early `return`, which
/// lowering turns into a flag and a guard rustc cannot see through. The generated code gives
/// such a location a default value where the reverse sweep reads it, so that rustc accepts
/// reads it cannot prove initialized (the path that skips the assignment never reads it).
pub(crate) fn maybe_unassigned(block: &Block, out: &mut HashSet<VarId>) {
    for (i, stmt) in block.iter().enumerate() {
        match &stmt.kind {
            StmtKind::Declare { var, .. } if !definitely_assigned(&block[i + 1..], *var) => {
                out.insert(*var);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                maybe_unassigned(then_block, out);
                maybe_unassigned(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => maybe_unassigned(body, out),
            _ => {}
        }
    }
}

/// Whether every run through `stmts` assigns `v`.
fn definitely_assigned(stmts: &[Stmt], v: VarId) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::Assign { var, .. } => *var == v,
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => definitely_assigned(then_block, v) && definitely_assigned(else_block, v),
        _ => false,
    })
}

/// The assignments that give a location declared without a value its first value on every path
/// that reaches them (`let mut z; if c { z = x } else { z = 2.0 * x } z = z * z;`: the two in
/// the branches), keyed by the statement's address. They overwrite nothing, so nothing is saved
/// or restored for them; the later `z = z * z` is an ordinary assignment. An assignment inside
/// a loop may run a second time and is never a first one, and a location that code kept as
/// written may change has none.
pub(crate) fn first_assignments(body: &Body) -> HashSet<usize> {
    let kept = written_as_kept(body);
    let mut out = HashSet::new();
    for block in all_blocks(body) {
        for (i, stmt) in block.iter().enumerate() {
            if let StmtKind::Declare { var, .. } = &stmt.kind {
                if !kept.contains(var) {
                    first_on_each_path(&block[i + 1..], *var, false, &mut out);
                }
            }
        }
    }
    out
}

/// Walks `stmts` with `assigned` telling whether some path so far may have assigned `v`,
/// collecting the assignments that find it unassigned; gives whether `v` may be assigned after.
fn first_on_each_path(
    stmts: &[Stmt],
    v: VarId,
    mut assigned: bool,
    out: &mut HashSet<usize>,
) -> bool {
    for stmt in stmts {
        match &stmt.kind {
            StmtKind::Assign { var, .. } if *var == v => {
                if !assigned {
                    out.insert(stmt as *const Stmt as usize);
                }
                assigned = true;
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                let then_assigns = first_on_each_path(then_block, v, assigned, out);
                let else_assigns = first_on_each_path(else_block, v, assigned, out);
                assigned = then_assigns || else_assigns;
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                assigned = assigned || assignments_on_a_path(body, v) > 0;
            }
            _ => {}
        }
    }
    assigned
}
