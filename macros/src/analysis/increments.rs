//! Element increments: `buf[i] += v` and `buf[i] -= v`.
//!
//! The lowering writes `buf[i] += v` as three statements: a read of the element, the sum, and
//! the write of the sum. Reversed one by one, the write takes the element's adjoint out of the
//! buffer's adjoint, the sum passes it to both terms, and the read adds it back: the element's
//! adjoint goes through memory twice and ends where it started. Reversed as one increment, it
//! is read once and passed to `v`, and the buffer's adjoint is left alone. In a loop that
//! accumulates into a buffer (`qx[j] += l[idx] * x[i]`) this keeps the reverse loop's other
//! adjoints out of the way of a store it no longer makes.

use std::collections::HashMap;

use syn::BinOp;

use super::walk::{all_blocks, collect_map_captures, collect_primal_reads, collect_written};
use crate::ir::{Block, Body, Operand, Stmt, StmtKind, Value, VarId};

/// What an increment adds to its element.
pub struct Increment {
    /// The value added (or subtracted).
    pub added: Operand,
    /// Whether it is subtracted (`-=`).
    pub subtracted: bool,
}

/// The element writes of `body` that are increments, keyed by the write's address.
///
/// A write `buf[i] = s` is one when `s = e ± v` is computed in the same block from `e = buf[i]`
/// (the same buffer and index), `e` and `s` are read nowhere else, and nothing between the read
/// and the write changes the buffer or the index.
pub fn element_increments(body: &Body) -> HashMap<usize, Increment> {
    let uses = use_counts(body);
    let used_once = |v: VarId| uses.get(&v).copied() == Some(1);
    let mut out = HashMap::new();
    for block in all_blocks(body) {
        for (at, stmt) in block.iter().enumerate() {
            let StmtKind::SetIndex {
                base,
                index,
                value: Operand::Var(sum),
            } = &stmt.kind
            else {
                continue;
            };
            let Some((sum_at, op, lhs, rhs)) = binary_before(block, at, *sum) else {
                continue;
            };
            let subtracted = match op {
                BinOp::Add(_) => false,
                BinOp::Sub(_) => true,
                _ => continue,
            };
            let Operand::Var(element) = lhs else {
                continue;
            };
            let Some(read_at) = element_read_before(block, sum_at, *element, *base, index) else {
                continue;
            };
            if !used_once(*sum) || !used_once(*element) {
                continue;
            }
            let mut written = std::collections::HashSet::new();
            collect_written(&block[read_at + 1..at], &mut written);
            if written.contains(base) || index.var().is_some_and(|i| written.contains(&i)) {
                continue;
            }
            out.insert(
                stmt as *const Stmt as usize,
                Increment {
                    added: rhs.clone(),
                    subtracted,
                },
            );
        }
    }
    out
}

/// The `let sum = lhs op rhs;` of `block` before position `end`.
fn binary_before(
    block: &Block,
    end: usize,
    sum: VarId,
) -> Option<(usize, &BinOp, &Operand, &Operand)> {
    block[..end]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(at, s)| match &s.kind {
            StmtKind::Let {
                var,
                value: Value::Binary { op, lhs, rhs },
                ..
            } if *var == sum => Some((at, op, lhs, rhs)),
            _ => None,
        })
}

/// The position of `let element = base[index];` in `block` before position `end`.
fn element_read_before(
    block: &Block,
    end: usize,
    element: VarId,
    base: VarId,
    index: &Operand,
) -> Option<usize> {
    block[..end].iter().position(|s| match &s.kind {
        StmtKind::Let {
            var,
            value:
                Value::Index {
                    base: Operand::Var(b),
                    index: i,
                },
            ..
        } => *var == element && *b == base && same_operand(i, index),
        _ => false,
    })
}

fn same_operand(a: &Operand, b: &Operand) -> bool {
    match (a, b) {
        (Operand::Var(x), Operand::Var(y)) => x == y,
        (Operand::Const(x), Operand::Const(y)) => x.to_string() == y.to_string(),
        _ => false,
    }
}

/// How many times each variable is read anywhere in the function, closures' captures included.
fn use_counts(body: &Body) -> HashMap<VarId, usize> {
    let mut reads = Vec::new();
    collect_primal_reads(&body.block, &mut reads);
    reads.extend(body.result.var());
    collect_map_captures(body, &body.block, &mut reads);
    let mut counts = HashMap::new();
    for v in reads {
        *counts.entry(v).or_insert(0) += 1;
    }
    counts
}
