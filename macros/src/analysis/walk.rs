//! Free walkers over the IR, shared by the analyses and the generator: what blocks define,
//! read, write and assign.

use std::collections::HashSet;

use super::activity::differentiable_operands;
use crate::ir::{Block, Body, MethodKind, Operand, Stmt, StmtKind, Value, VarId};

pub(crate) fn defines(block: &Block, v: VarId) -> bool {
    block.iter().any(|s| match &s.kind {
        StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => *var == v,
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => defines(then_block, v) || defines(else_block, v),
        StmtKind::For { var, body, .. } => *var == v || defines(body, v),
        StmtKind::Loop { body, .. } => defines(body, v),
        _ => false,
    })
}

/// Every variable a block's statements read as a differentiable operand.
pub(crate) fn collect_operand_vars(ir: &Body, block: &Block, out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                out.extend(
                    differentiable_operands(ir, value)
                        .into_iter()
                        .filter_map(|o| o.var()),
                );
                // A `map` closure's pullback contributes to what the closure captures.
                out.extend(map_captures(ir, value));
            }
            StmtKind::SetIndex { base, value, .. } => {
                out.push(*base);
                out.extend(value.var());
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_operand_vars(ir, then_block, out);
                collect_operand_vars(ir, else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                collect_operand_vars(ir, body, out)
            }
            StmtKind::Push { base, value } => {
                out.push(*base);
                out.extend(value.var());
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => {}
        }
    }
}

/// Collects every variable `block` reads for its primal computation: operands, indices,
/// conditions, ranges, and the variables of tokens kept as written.
pub(crate) fn collect_primal_reads(block: &[Stmt], out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                out.extend(value.operands().into_iter().filter_map(|o| o.var()));
                if let crate::ir::Value::Opaque { reads, .. } = value {
                    out.extend(reads.iter().copied());
                }
            }
            StmtKind::SetIndex { base, index, value } => {
                out.push(*base);
                out.extend(index.var());
                out.extend(value.var());
            }
            StmtKind::Push { base, value } => {
                out.push(*base);
                out.extend(value.var());
            }
            StmtKind::Opaque { reads, .. } => out.extend(reads.iter().copied()),
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                out.extend(cond.var());
                collect_primal_reads(then_block, out);
                collect_primal_reads(else_block, out);
            }
            StmtKind::For { range, body, .. } => {
                out.extend(range.var());
                collect_primal_reads(body, out);
            }
            StmtKind::Loop { go, body } => {
                out.push(*go);
                collect_primal_reads(body, out);
            }
            StmtKind::Declare { .. } => {}
        }
    }
}

/// The variables a value reads.
pub(crate) fn value_inputs(value: &Value) -> Vec<VarId> {
    match value {
        Value::Opaque { reads, .. } => reads.clone(),
        other => other
            .operands()
            .into_iter()
            .filter_map(Operand::var)
            .collect(),
    }
}

/// Whether tokens kept as written call a method that could change its receiver: anything but
/// the shape queries and integer arithmetic the lowering itself writes around indices.
pub(crate) fn may_have_effects(tokens: &proc_macro2::TokenStream) -> bool {
    const PURE: &[&str] = &[
        "len",
        "is_empty",
        "nrows",
        "ncols",
        "shape",
        "saturating_sub",
        "div_ceil",
        "clone",
    ];
    use proc_macro2::TokenTree::{Group, Ident, Punct};
    let trees: Vec<proc_macro2::TokenTree> = tokens.clone().into_iter().collect();
    trees.windows(3).any(|w| match w {
        // `.name(..)`: a method call.
        [Punct(dot), Ident(name), Group(g)] => {
            dot.as_char() == '.'
                && g.delimiter() == proc_macro2::Delimiter::Parenthesis
                && !PURE.contains(&name.to_string().as_str())
        }
        // `name!(..)`: a macro, which may do anything.
        [Ident(_), Punct(bang), Group(_)] => bang.as_char() == '!',
        _ => false,
    }) || trees
        .iter()
        .any(|t| matches!(t, Group(g) if may_have_effects(&g.stream())))
}

/// What a value may change besides its own variable: the receiver of a method nabla does not
/// know (`q.remove(0)`, `idx.sort()` on data), and what code kept as written reads. Only the
/// locations among them can change; callers look at those.
fn changed_by(value: &Value, out: &mut HashSet<VarId>) {
    match value {
        Value::Method {
            receiver,
            kind: MethodKind::Unknown | MethodKind::User,
            ..
        } => out.extend(receiver.var()),
        Value::Opaque { reads, tokens, .. } if may_have_effects(tokens) => {
            out.extend(reads.iter().copied())
        }
        _ => {}
    }
}

/// The locations that code kept as written may change anywhere in the function (see
/// [`changed_by`]).
pub(crate) fn written_as_kept(body: &Body) -> HashSet<VarId> {
    let mut out = HashSet::new();
    for stmt in all_stmts(&body.block) {
        match &stmt.kind {
            StmtKind::Assign { value, .. } | StmtKind::Let { value, .. } => {
                changed_by(value, &mut out)
            }
            StmtKind::Opaque { reads, tokens } if may_have_effects(tokens) => {
                out.extend(reads.iter().copied())
            }
            _ => {}
        }
    }
    out.retain(|v| body.var(*v).is_location);
    out
}

/// The variables a block overwrites: assignment targets and buffers written or grown.
pub(crate) fn collect_written(block: &[Stmt], out: &mut HashSet<VarId>) {
    for stmt in all_stmts(block) {
        match &stmt.kind {
            StmtKind::Assign { var, value } => {
                out.insert(*var);
                changed_by(value, out);
            }
            StmtKind::Let { value, .. } => changed_by(value, out),
            StmtKind::Opaque { reads, tokens } if may_have_effects(tokens) => {
                out.extend(reads.iter().copied())
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => {
                out.insert(*base);
            }
            _ => {}
        }
    }
}

/// Every block of the body, the top one first and then the blocks of branches and loop bodies
/// at any depth.
pub(crate) fn all_blocks(body: &Body) -> Vec<&Block> {
    blocks_within(&body.block)
}

/// `block` and the blocks of its branches and loop bodies at any depth, `block` first.
pub(crate) fn blocks_within(block: &Block) -> Vec<&Block> {
    let mut out = vec![block];
    let mut next = 0;
    while next < out.len() {
        for stmt in out[next] {
            match &stmt.kind {
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => out.extend([then_block, else_block]),
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => out.push(body),
                _ => {}
            }
        }
        next += 1;
    }
    out
}

/// Every statement of `block`, at any depth: each statement, then those of its branches and
/// loop body.
pub(crate) fn all_stmts(block: &[Stmt]) -> Vec<&Stmt> {
    let mut out = Vec::new();
    fn walk<'b>(block: &'b [Stmt], out: &mut Vec<&'b Stmt>) {
        for stmt in block {
            out.push(stmt);
            match &stmt.kind {
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    walk(then_block, out);
                    walk(else_block, out);
                }
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    walk(block, &mut out);
    out
}

/// The variables that the `map` closures of `block` (at any depth) read from the enclosing
/// function, which their pullbacks read in the reverse sweep.
pub(crate) fn collect_map_captures(body: &Body, block: &[Stmt], out: &mut Vec<VarId>) {
    for stmt in all_stmts(block) {
        if let StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } = &stmt.kind {
            out.extend(map_captures(body, value));
        }
    }
}

/// What the closure of a `map` value reads from the enclosing function; nothing for any other
/// value.
pub(crate) fn map_captures(body: &Body, value: &Value) -> Vec<VarId> {
    match value {
        Value::Method {
            kind: MethodKind::Map(index),
            ..
        } => body
            .closures
            .get(*index)
            .map(|closure| closure.captures.iter().map(|(v, _)| *v).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
