//! Buffers that one iteration of a loop reads at several indices (`x[i]` and `x[i + 1]`).
//!
//! The reverse of each element read adds into the buffer's adjoint. Where the additions of one
//! iteration land on neighbouring elements, rustc (LLVM's SLP vectorizer) may merge them into
//! one two-element load and store; the next iteration of the reverse loop then loads a pair that
//! overlaps the pair just stored, which the processor cannot forward from the store, and every
//! iteration waits for the store to complete: Rosenbrock's gradient ran 3.7 times slower that
//! way. The additions into such a buffer keep a path that may grow the adjoint (an out-of-line
//! call the vectorizer does not merge across), as where an adjoint may be shorter than its
//! buffer; every other element read adds in place with no such path (see
//! `IndexRule::index_accumulate_held`).

use std::collections::{HashMap, HashSet};

use super::walk::all_blocks;
use crate::ir::{Block, Body, Operand, StmtKind, Value, VarId};

/// The buffers some loop body reads, in one iteration, at two or more index operands.
pub fn read_at_several_indices(body: &Body) -> HashSet<VarId> {
    let mut out = HashSet::new();
    for block in all_blocks(body) {
        for stmt in block {
            if let StmtKind::For { body: inner, .. } | StmtKind::Loop { body: inner, .. } =
                &stmt.kind
            {
                let mut indices: HashMap<VarId, HashSet<String>> = HashMap::new();
                collect_indices(inner, &mut indices);
                out.extend(
                    indices
                        .into_iter()
                        .filter(|(_, at)| at.len() > 1)
                        .map(|(buffer, _)| buffer),
                );
            }
        }
    }
    out
}

/// The index operands of the element reads of `block` and its branches (a nested loop's
/// iterations are its own), by buffer.
fn collect_indices(block: &Block, out: &mut HashMap<VarId, HashSet<String>>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let {
                value:
                    Value::Index {
                        base: Operand::Var(buffer),
                        index,
                    },
                ..
            }
            | StmtKind::Assign {
                value:
                    Value::Index {
                        base: Operand::Var(buffer),
                        index,
                    },
                ..
            } => {
                let key = match index {
                    Operand::Var(v) | Operand::Ref(v, ..) => format!("v{}", v.0),
                    Operand::Const(c) => c.to_string(),
                };
                out.entry(*buffer).or_default().insert(key);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_indices(then_block, out);
                collect_indices(else_block, out);
            }
            _ => {}
        }
    }
}
