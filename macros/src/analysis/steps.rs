//! Integer steps (`idx += 1`) that the reverse sweep undoes instead of saving what they
//! overwrite.

use std::collections::HashMap;

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::BinOp;

use super::walk::{all_blocks, written_as_kept};
use crate::ir::{Body, Operand, Origin, Stmt, StmtKind, Value, VarId};

/// The assignments that step a location by an integer literal (`idx += 1`, `k = k - 2`), keyed
/// by the statement's address, with the operation that undoes each: the reverse sweep restores
/// the old value by computing it (`idx -= 1`), exactly, instead of saving it.
///
/// A step is the pair lowering writes for `idx += 1`: an unnamed temporary `t = idx + 1` right
/// before `idx = t`, so that `idx` is the same in both. A location that code kept as written may
/// change (`idx.add_assign(1)`, `i.clone_from(&j)`) has no step: that change is not undone.
pub(crate) fn integer_steps(body: &Body) -> HashMap<usize, TokenStream> {
    let kept = written_as_kept(body);
    let mut out = HashMap::new();
    for block in all_blocks(body) {
        for (i, stmt) in block.iter().enumerate() {
            if let StmtKind::Assign { var, value } = &stmt.kind {
                if i == 0 || kept.contains(var) {
                    continue;
                }
                if let Some(undo) = step_undo(body, &block[i - 1], *var, value) {
                    out.insert(stmt as *const Stmt as usize, undo);
                }
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
