//! Buffers a loop reads at one element only, whose index the loop does not change
//! (`x[i]` in a loop over `j`).
//!
//! The reverse of each such read adds into the same element of the buffer's adjoint. Through
//! memory, every iteration loads and stores it, and since rustc cannot tell the adjoint apart
//! from the other buffers the loop writes, it cannot keep the element in a register. The
//! reverse loop instead takes the element out before the loop, accumulates into a variable of
//! its own, and adds it back after (see `IndexRule::index_take_held`).

use std::collections::HashSet;

use super::walk::{
    all_stmts, collect_map_captures, collect_primal_reads, collect_written, defines,
};
use crate::ir::{Block, Body, Operand, StmtKind, Value, VarId};

/// The `(buffer, index)` pairs of the loop body `block`, whose loop counts with `counter`: each
/// buffer that the body reads only as `buffer[index]`, with one index variable that is not the
/// counter, is defined outside the body and is changed in none of its iterations, and that the
/// body never writes.
pub fn invariant_element_reads(body: &Body, counter: VarId, block: &Block) -> Vec<(VarId, VarId)> {
    let mut element_reads: Vec<(VarId, VarId)> = Vec::new();
    collect_element_reads(block, &mut element_reads);
    let mut reads = Vec::new();
    collect_primal_reads(block, &mut reads);
    collect_map_captures(body, block, &mut reads);
    let mut written = HashSet::new();
    collect_written(block, &mut written);

    let mut out: Vec<(VarId, VarId)> = Vec::new();
    for &(buffer, index) in &element_reads {
        if out.iter().any(|(b, _)| *b == buffer) {
            continue;
        }
        let same_index = element_reads
            .iter()
            .filter(|(b, _)| *b == buffer)
            .all(|(_, i)| *i == index);
        let reads_of_buffer = reads.iter().filter(|v| **v == buffer).count();
        let element_reads_of_buffer = element_reads.iter().filter(|(b, _)| *b == buffer).count();
        let invariant = index != counter && !written.contains(&index) && !defines(block, index);
        if same_index
            && reads_of_buffer == element_reads_of_buffer
            && invariant
            && !written.contains(&buffer)
            && !defines(block, buffer)
        {
            out.push((buffer, index));
        }
    }
    out
}

/// Every `let v = buffer[index];` of `block` at any depth, with a variable for an index.
fn collect_element_reads(block: &Block, out: &mut Vec<(VarId, VarId)>) {
    for stmt in all_stmts(block) {
        if let StmtKind::Let {
            value:
                Value::Index {
                    base: Operand::Var(buffer),
                    index: Operand::Var(index),
                },
            ..
        } = &stmt.kind
        {
            out.push((*buffer, *index));
        }
    }
}
