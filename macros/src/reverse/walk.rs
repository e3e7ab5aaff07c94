//! Free walkers over the IR: what blocks define, read, write and assign.

use std::collections::{HashMap, HashSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::BinOp;

use crate::activity::differentiable_operands;
use crate::ir::{Block, Body, MethodKind, Operand, Origin, Stmt, StmtKind, Value, VarId};

pub(super) fn defines(block: &Block, v: VarId) -> bool {
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
pub(super) fn collect_operand_vars(ir: &Body, block: &Block, out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                out.extend(
                    differentiable_operands(ir, value)
                        .into_iter()
                        .filter_map(|o| o.var()),
                );
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
pub(super) fn collect_primal_reads(block: &[Stmt], out: &mut Vec<VarId>) {
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

/// The assignments that step a location by an integer literal (`idx += 1`, `k = k - 2`), keyed
/// by the statement's address, with the operation that undoes each: the reverse sweep restores
/// the old value by computing it (`idx -= 1`), exactly, instead of saving it.
///
/// A step is the pair lowering writes for `idx += 1`: an unnamed temporary `t = idx + 1` right
/// before `idx = t`, so that `idx` is the same in both. A location that code kept as written may
/// change (`idx.add_assign(1)`, `i.clone_from(&j)`) has no step: that change is not undone.
pub(super) fn integer_steps(body: &Body) -> HashMap<usize, TokenStream> {
    let kept = written_as_kept(body);
    let mut out = HashMap::new();
    let mut stack = vec![&body.block];
    while let Some(block) = stack.pop() {
        for (i, stmt) in block.iter().enumerate() {
            match &stmt.kind {
                StmtKind::Assign { var, value } if i > 0 && !kept.contains(var) => {
                    if let Some(undo) = step_undo(body, &block[i - 1], *var, value) {
                        out.insert(stmt as *const Stmt as usize, undo);
                    }
                }
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => stack.extend([then_block, else_block]),
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => stack.push(body),
                _ => {}
            }
        }
    }
    out
}

/// The undo of `var = value` when `previous` is `let t = var ± literal;` and `value` is `t`.
fn step_undo(body: &Body, previous: &Stmt, var: VarId, value: &Value) -> Option<TokenStream> {
    let Value::Use(Operand::Var(temp)) = value else {
        return None;
    };
    let StmtKind::Let {
        var: bound,
        value:
            Value::Binary {
                op,
                lhs: Operand::Var(of),
                rhs: Operand::Const(step),
            },
        ..
    } = &previous.kind
    else {
        return None;
    };
    let unnamed = body.var(*temp).origin == Origin::Temp && body.var(*temp).user_name.is_none();
    if bound != temp || !unnamed || *of != var || !is_integer_literal(step) {
        return None;
    }
    match op {
        BinOp::Add(_) => Some(quote!(- (#step))),
        BinOp::Sub(_) => Some(quote!(+ (#step))),
        _ => None,
    }
}

/// An integer literal (`1`, `2usize`), possibly in parentheses: never a float.
fn is_integer_literal(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Literal(lit)] => matches!(
            syn::parse_str::<syn::Lit>(&lit.to_string()),
            Ok(syn::Lit::Int(_))
        ),
        [TokenTree::Group(g)] if g.delimiter() != proc_macro2::Delimiter::Brace => {
            is_integer_literal(&g.stream())
        }
        _ => false,
    }
}

/// The variables some statement assigns as a whole with a value that may be a buffer (a `Vec`,
/// whose length can change): anything but arithmetic, negation, casts and element reads, also
/// through the temporaries that hold them (`s += x` assigns `s` the temporary `s + x`).
pub(super) fn reassigned_buffers(body: &Body) -> HashSet<VarId> {
    let mut lets = HashMap::new();
    let mut assigns = Vec::new();
    let mut stack = vec![&body.block];
    while let Some(block) = stack.pop() {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, value, .. } => {
                    lets.insert(*var, value);
                }
                StmtKind::Assign { var, value } => assigns.push((*var, value)),
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => stack.extend([then_block, else_block]),
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => stack.push(body),
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
                | Value::Index { .. }
                | Value::Use(Operand::Const(_)) => return true,
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
pub(super) fn assigned_once(block: &Block, out: &mut HashSet<VarId>) {
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
fn assignments_on_a_path(stmts: &[Stmt], v: VarId) -> usize {
    stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { var, .. } if *var == v => 1,
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } if *base == v => 2,
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

/// The variables a value reads.
pub(super) fn value_inputs(value: &Value) -> Vec<VarId> {
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
pub(super) fn may_have_effects(tokens: &proc_macro2::TokenStream) -> bool {
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
pub(super) fn written_as_kept(body: &Body) -> HashSet<VarId> {
    fn walk(block: &Block, out: &mut HashSet<VarId>) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Assign { value, .. } | StmtKind::Let { value, .. } => {
                    changed_by(value, out)
                }
                StmtKind::Opaque { reads, tokens } if may_have_effects(tokens) => {
                    out.extend(reads.iter().copied())
                }
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
    let mut out = HashSet::new();
    walk(&body.block, &mut out);
    out.retain(|v| body.var(*v).is_location);
    out
}

/// The variables a block overwrites: assignment targets and buffers written or grown.
pub(super) fn collect_written(block: &[Stmt], out: &mut HashSet<VarId>) {
    for stmt in block {
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
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_written(then_block, out);
                collect_written(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => collect_written(body, out),
            _ => {}
        }
    }
}
