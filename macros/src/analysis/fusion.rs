//! Loops whose reverse iterations are independent: fused with their forward iterations.
//!
//! A top-level `for` loop that carries nothing from one iteration to the next but one sum
//! (`s += e`, the loss over samples) has iterations whose reverse sweeps do not depend on each
//! other: the adjoint of the sum is the same in every iteration (an addition passes its
//! adjoint through unchanged), and nothing else flows between them. Each iteration's reverse
//! can then run right after its forward run, while its values are still in registers and cache,
//! and nothing needs to be kept for the reverse sweep. That adjoint is not known yet when the
//! forward sweep runs, so the fused reverse runs with the seed `1` into gradients of its own,
//! and the reverse sweep adds those in times the sum's adjoint (the reverse is linear in it).
//!
//! Besides the sum, the body may overwrite only *scratch* buffers and locations: ones every
//! iteration writes before it reads them (`xc[j] = x[j] - mu[j]` for every `j` of the buffer,
//! then reads of `xc`), and that nothing outside the loop reads. An iteration then never sees
//! what an earlier one left in them. Anything else (a value carried across iterations, like
//! the state of an integrator, or a buffer filled for later) keeps the loop as it is.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::ToTokens;

use super::activity::Activity;
use super::buffers::reassigned_buffers;
use super::walk::{
    all_stmts, blocks_within, collect_map_captures, collect_primal_reads, defines, map_captures,
    value_inputs, written_as_kept,
};
use crate::ir::{Block, Body, MethodKind, Operand, Stmt, StmtKind, Value, VarId};

/// A fused loop: its sum and the scratch variables it overwrites.
pub(crate) struct FusedLoop {
    pub sum: VarId,
    pub scratch: Vec<VarId>,
}

/// The top-level `for` loops that are fused, by statement address.
pub(crate) fn fused_loops(body: &Body, activity: &Activity) -> HashMap<usize, FusedLoop> {
    let mut unsettled = written_as_kept(body);
    // A buffer assigned whole may change length between iterations, which the gradients kept
    // across them would not follow.
    unsettled.extend(reassigned_buffers(body));
    let mut out = HashMap::new();
    for (at, stmt) in body.block.iter().enumerate() {
        if let StmtKind::For { body: inner, .. } = &stmt.kind {
            if let Some(fused) = fusable(body, at, inner, activity, &unsettled) {
                out.insert(stmt as *const Stmt as usize, fused);
            }
        }
    }
    out
}

fn fusable(
    body: &Body,
    at: usize,
    inner: &Block,
    activity: &Activity,
    unsettled: &HashSet<VarId>,
) -> Option<FusedLoop> {
    if calls_user_code(body, inner) {
        return None;
    }
    let written = outer_writes(inner)?;
    if written.iter().any(|v| unsettled.contains(v)) {
        return None;
    }
    let (sums, scratch): (Vec<VarId>, Vec<VarId>) = written
        .into_iter()
        .partition(|v| activity.is_active(*v) && is_sum(body, inner, *v));
    let [sum] = sums[..] else { return None };
    // The sum starts from a float literal (so its adjoint is a float, and the seed `1.0`), and
    // nothing between its definition and the loop reads it: the fused reverse leaves it at its
    // final value, which the reverse of such a read would take for the initial one.
    let before = &body.block[..at];
    let defined_at = before.iter().position(|s| defines_var(s, sum))?;
    if !starts_from_float_literal(&before[defined_at])
        || references(body, &before[defined_at + 1..], sum)
    {
        return None;
    }
    // Scratch is defined before the loop and used nowhere but in it, and no iteration reads
    // what an earlier one left.
    let after = &body.block[at + 1..];
    let result_reads = |v: VarId| body.result.var() == Some(v);
    for &v in &scratch {
        let defined_at = before.iter().position(|s| defines_var(s, v))?;
        if references(body, &before[defined_at + 1..], v)
            || references(body, after, v)
            || result_reads(v)
        {
            return None;
        }
    }
    let candidates: HashSet<VarId> = scratch.iter().copied().collect();
    let mut killed = HashSet::new();
    if exposes(body, inner, &candidates, &mut killed) {
        return None;
    }
    Some(FusedLoop { sum, scratch })
}

/// Whether `block` (or a `map` closure in it) calls a function or a model's method of the
/// user's. Its pullback may be one written by hand (`#[custom_gradient]`) that is not linear in
/// the cotangent it is given (one that clips it): called with the seed `1` and scaled after,
/// it would give another gradient than called with the sum's adjoint. The runtime's own
/// functions (`nabla::sigmoid`, and the rules lowering writes) are linear.
fn calls_user_code(body: &Body, block: &Block) -> bool {
    all_stmts(block).iter().any(|stmt| {
        let value = match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => value,
            _ => return false,
        };
        match value {
            Value::Call { func, .. } => {
                let first = func.path.segments.first().map(|s| s.ident.to_string());
                first.as_deref() != Some("nabla")
            }
            Value::Method {
                kind: MethodKind::User,
                ..
            } => true,
            Value::Method {
                kind: MethodKind::Map(index),
                ..
            } => body
                .closures
                .get(*index)
                .is_none_or(|closure| calls_user_code(&closure.body, &closure.body.block)),
            _ => false,
        }
    })
}

/// The variables from outside `block` that it overwrites; `None` where it grows one (`push`).
fn outer_writes(block: &Block) -> Option<Vec<VarId>> {
    let mut out = Vec::new();
    for stmt in all_stmts(block) {
        let target = match &stmt.kind {
            StmtKind::Assign { var, .. } => *var,
            StmtKind::SetIndex { base, .. } => *base,
            StmtKind::Push { base, .. } if !defines(block, *base) => return None,
            _ => continue,
        };
        if !defines(block, target) && !out.contains(&target) {
            out.push(target);
        }
    }
    Some(out)
}

fn defines_var(stmt: &Stmt, v: VarId) -> bool {
    matches!(&stmt.kind, StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } if *var == v)
}

/// Whether `stmts` read or write `v` anywhere.
fn references(body: &Body, stmts: &[Stmt], v: VarId) -> bool {
    let mut reads = Vec::new();
    collect_primal_reads(stmts, &mut reads);
    collect_map_captures(body, stmts, &mut reads);
    reads.contains(&v)
        || all_stmts(stmts)
            .iter()
            .any(|s| matches!(&s.kind, StmtKind::Assign { var, .. } if *var == v))
}

/// `let mut s = 0.0;` (or any float literal, with or without a type).
fn starts_from_float_literal(stmt: &Stmt) -> bool {
    let StmtKind::Let {
        value: Value::Use(Operand::Const(tokens)),
        ..
    } = &stmt.kind
    else {
        return false;
    };
    match syn::parse2::<syn::Lit>(tokens.clone()) {
        Ok(syn::Lit::Float(_)) => true,
        Ok(syn::Lit::Int(int)) => matches!(int.suffix(), "f32" | "f64"),
        _ => false,
    }
}

/// Whether every use of `s` in `block` is an accumulation `s = s + e` or `s = s - e`
/// (`s += e`), with `e` not reading `s`.
fn is_sum(body: &Body, block: &Block, s: VarId) -> bool {
    let mut patterns = 0;
    let mut ok = true;
    for stmts in blocks_within(block) {
        for (i, stmt) in stmts.iter().enumerate() {
            if let StmtKind::Assign { var, value } = &stmt.kind {
                if *var != s {
                    continue;
                }
                let step = match value {
                    Value::Use(Operand::Var(t)) => i
                        .checked_sub(1)
                        .map(|p| &stmts[p])
                        .filter(|prev| defines_var(prev, *t))
                        .filter(|_| uses_of(body, block, *t) == 1)
                        .and_then(|prev| match &prev.kind {
                            StmtKind::Let { value, .. } => Some(value),
                            _ => None,
                        }),
                    other => Some(other),
                };
                if !step.is_some_and(|v| accumulates(v, s)) {
                    ok = false;
                }
                patterns += 1;
            }
        }
    }
    let mut reads = Vec::new();
    collect_primal_reads(block, &mut reads);
    let mut captured = Vec::new();
    collect_map_captures(body, block, &mut captured);
    ok && patterns > 0
        && reads.iter().filter(|v| **v == s).count() == patterns
        && !captured.contains(&s)
}

/// `s + e`, `e + s` or `s - e`, with `e` not `s`.
fn accumulates(value: &Value, s: VarId) -> bool {
    let Value::Binary { op, lhs, rhs } = value else {
        return false;
    };
    match op {
        syn::BinOp::Add(_) => (lhs.var() == Some(s)) != (rhs.var() == Some(s)),
        syn::BinOp::Sub(_) => lhs.var() == Some(s) && rhs.var() != Some(s),
        _ => false,
    }
}

/// How many times `block` reads `v`.
fn uses_of(body: &Body, block: &Block, v: VarId) -> usize {
    let mut reads = Vec::new();
    collect_primal_reads(block, &mut reads);
    let mut captured = Vec::new();
    collect_map_captures(body, block, &mut captured);
    reads.iter().chain(&captured).filter(|r| **r == v).count()
}

/// Whether `block` reads one of `candidates` before writing all of it, given the `killed`
/// ones (written since the iteration began); adds what it writes whole to `killed`.
fn exposes(
    body: &Body,
    block: &Block,
    candidates: &HashSet<VarId>,
    killed: &mut HashSet<VarId>,
) -> bool {
    let exposed = |reads: &[VarId], killed: &HashSet<VarId>| {
        reads
            .iter()
            .any(|r| candidates.contains(r) && !killed.contains(r))
    };
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                let mut reads = value_inputs(value);
                reads.extend(map_captures(body, value));
                if exposed(&reads, killed) {
                    return true;
                }
                if let StmtKind::Assign { var, .. } = &stmt.kind {
                    killed.insert(*var);
                }
            }
            StmtKind::SetIndex { index, value, .. } => {
                let reads: Vec<VarId> = index.var().into_iter().chain(value.var()).collect();
                if exposed(&reads, killed) {
                    return true;
                }
            }
            StmtKind::Push { value, .. } => {
                if exposed(&value.var().into_iter().collect::<Vec<_>>(), killed) {
                    return true;
                }
            }
            StmtKind::Opaque { reads, .. } => {
                if exposed(reads, killed) {
                    return true;
                }
            }
            StmtKind::Declare { .. } => {}
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                if exposed(&cond.var().into_iter().collect::<Vec<_>>(), killed) {
                    return true;
                }
                let mut then_killed = killed.clone();
                let mut else_killed = killed.clone();
                if exposes(body, then_block, candidates, &mut then_killed)
                    || exposes(body, else_block, candidates, &mut else_killed)
                {
                    return true;
                }
                *killed = then_killed.intersection(&else_killed).copied().collect();
            }
            StmtKind::For {
                var,
                range,
                body: inner,
            } => {
                if exposed(&range.var().into_iter().collect::<Vec<_>>(), killed) {
                    return true;
                }
                if exposes(body, inner, candidates, &mut killed.clone()) {
                    return true;
                }
                // The loop may run no time: only a loop over a buffer's every index, writing
                // each element before reading any, writes the buffer whole.
                for &v in candidates {
                    if !killed.contains(&v) && fills(body, *var, range, inner, v) {
                        killed.insert(v);
                    }
                }
            }
            StmtKind::Loop { go, body: inner } => {
                if exposed(&[*go], killed) || exposes(body, inner, candidates, &mut killed.clone())
                {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether `for counter in range { body }` writes every element of the buffer `v`: `range` is
/// `0..n` and `v` was made by `vec![x; n]`, for the same `n` of unchanging variables, and the
/// body writes `v[counter]` in every iteration and reads no element of `v`.
fn fills(ir: &Body, counter: VarId, range: &Operand, body: &Block, v: VarId) -> bool {
    let writes_each = body.iter().any(|s| {
        matches!(&s.kind, StmtKind::SetIndex { base, index: Operand::Var(i), .. } if *base == v && *i == counter)
    });
    if !writes_each {
        return false;
    }
    let mut reads = Vec::new();
    collect_primal_reads(body, &mut reads);
    let element_writes = all_stmts(body)
        .iter()
        .filter(|s| matches!(&s.kind, StmtKind::SetIndex { base, .. } if *base == v))
        .count();
    // `collect_primal_reads` counts a written buffer as read once per write.
    if reads.iter().filter(|r| **r == v).count() != element_writes {
        return false;
    }
    let (Some(end), Some(length)) = (range_end(ir, range), buffer_length(ir, v)) else {
        return false;
    };
    end.to_string() == length.to_string() && unchanging(ir, &end)
}

/// `n` of a range variable defined as `0..n`.
fn range_end(ir: &Body, range: &Operand) -> Option<TokenStream> {
    let tokens = opaque_definition(ir, range.var()?)?;
    let mut expr = syn::parse2::<syn::Expr>(tokens).ok()?;
    while let syn::Expr::Paren(inner) = expr {
        expr = *inner.expr;
    }
    let syn::Expr::Range(range) = expr else {
        return None;
    };
    let zero = matches!(range.start.as_deref(), Some(syn::Expr::Lit(l)) if l.lit.to_token_stream().to_string() == "0");
    let half_open = matches!(range.limits, syn::RangeLimits::HalfOpen(_));
    (zero && half_open).then(|| range.end.map(|e| e.to_token_stream()))?
}

/// `n` of a buffer defined as `vec![x; n]` (directly or through one variable).
fn buffer_length(ir: &Body, v: VarId) -> Option<TokenStream> {
    let tokens = opaque_definition(ir, v).or_else(|| {
        let source = use_definition(ir, v)?;
        opaque_definition(ir, source)
    })?;
    let mac = syn::parse2::<syn::ExprMacro>(tokens).ok()?;
    if !mac.mac.path.is_ident("vec") {
        return None;
    }
    let inner = mac.mac.tokens;
    let repeat = syn::parse2::<syn::ExprRepeat>(quote::quote!([#inner])).ok()?;
    Some(repeat.len.to_token_stream())
}

/// The value a `let` anywhere in the function gives `v`.
fn definition(ir: &Body, v: VarId) -> Option<&Value> {
    all_stmts(&ir.block)
        .into_iter()
        .find_map(|s| match &s.kind {
            StmtKind::Let { var, value, .. } if *var == v => Some(value),
            _ => None,
        })
}

fn opaque_definition(ir: &Body, v: VarId) -> Option<TokenStream> {
    match definition(ir, v)? {
        Value::Opaque { tokens, .. } => Some(tokens.clone()),
        _ => None,
    }
}

fn use_definition(ir: &Body, v: VarId) -> Option<VarId> {
    match definition(ir, v)? {
        Value::Use(Operand::Var(source)) => Some(*source),
        _ => None,
    }
}

/// Whether `tokens` are arithmetic on literals and variables that are never reassigned.
fn unchanging(ir: &Body, tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().all(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ir
            .vars
            .iter()
            .any(|var| var.ident == ident && !var.is_location),
        proc_macro2::TokenTree::Literal(_) => true,
        proc_macro2::TokenTree::Punct(p) => matches!(p.as_char(), '+' | '-' | '*' | '/'),
        proc_macro2::TokenTree::Group(g) => {
            g.delimiter() == proc_macro2::Delimiter::Parenthesis && unchanging(ir, &g.stream())
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::errors::Errors;

    /// How many top-level loops of `source` are fused.
    fn fused(source: &str) -> usize {
        let item: syn::ItemFn = syn::parse_str(source).expect("test source parses");
        let mut errors = Errors::default();
        let sig = crate::parse::signature(&item, &mut errors);
        let body = crate::lower::lower(&item, &sig, &mut errors);
        assert!(errors.messages().is_empty(), "{:?}", errors.messages());
        let activity = crate::analysis::activity::analyze(&body, &sig);
        super::fused_loops(&body, &activity).len()
    }

    #[test]
    fn a_sum_over_samples_is_fused() {
        assert_eq!(
            fused(
                "fn f(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() { let r = w[0] * x[i] - w[1]; s += r * r; }
                s / x.len() as f64
            }"
            ),
            1
        );
        // Also with scratch written whole before each read, and a scalar assigned first.
        assert_eq!(
            fused("fn f(w: &[f64], #[no_grad] x: &[f64], #[no_grad] d: usize, #[no_grad] n: usize) -> f64 {
                let mut xc = vec![0.0; d];
                let mut t = 0.0;
                let mut s = 0.0;
                for i in 0..n {
                    for j in 0..d { xc[j] = x[i * d + j] - w[j]; }
                    t = xc[0] * 2.0;
                    for j in 0..d { s += xc[j] * xc[j] * t; }
                }
                s
            }"),
            1
        );
    }

    #[test]
    fn the_runtimes_functions_are_linear() {
        assert_eq!(
            fused(
                "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..n { s += nabla::log_sigmoid(w[i]); }
                s
            }"
            ),
            1
        );
        assert_eq!(
            fused(
                "fn f(w: &DVector<f64>, #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for _ in 0..n { s += w.map(|v| v.sin()).sum(); }
                s
            }"
            ),
            1
        );
    }

    #[test]
    fn what_an_iteration_passes_on_keeps_the_loop() {
        for source in [
            // State carried from one iteration to the next.
            "fn f(k: f64, #[no_grad] n: usize) -> f64 {
                let mut x = 1.0; let mut s = 0.0;
                for _ in 0..n { x = x - 0.1 * k * x; s += x; }
                s
            }",
            // Scratch read before it is written whole: its first element only.
            "fn f(w: &[f64], #[no_grad] d: usize, #[no_grad] n: usize) -> f64 {
                let mut xc = vec![0.0; d]; let mut s = 0.0;
                for _ in 0..n { s += xc[1] * w[0]; xc[0] = w[1]; }
                s
            }",
            // Scratch written at every index of another length.
            "fn f(w: &[f64], #[no_grad] d: usize, #[no_grad] n: usize) -> f64 {
                let mut xc = vec![0.0; d]; let mut s = 0.0;
                for _ in 0..n { for j in 0..n { xc[j] = w[j]; } s += xc[0]; }
                s
            }",
            // Scratch read after the loop.
            "fn f(w: &[f64], #[no_grad] d: usize, #[no_grad] n: usize) -> f64 {
                let mut xc = vec![0.0; d]; let mut s = 0.0;
                for _ in 0..n { for j in 0..d { xc[j] = w[j]; } s += xc[0]; }
                s + xc[1]
            }",
            // The sum read in the iteration otherwise than to add to it.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..n { s += w[i] * s; }
                s
            }",
            // The sum read before the loop.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0; let y = s * w[0];
                for i in 0..n { s += w[i]; }
                s + y
            }",
            // Two sums.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0; let mut q = 0.0;
                for i in 0..n { s += w[i]; q += w[i] * w[i]; }
                s * q
            }",
            // A sum that starts from a value that carries gradient.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = w[0];
                for i in 0..n { s += w[i]; }
                s
            }",
            // A call of the user's function, whose pullback may not be linear in its
            // cotangent; and a model's method.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..n { s += clip(w[i]); }
                s
            }",
            "fn f(w: &DVector<f64>, #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for _ in 0..n { s += w.map(|v| clip(v)).sum(); }
                s
            }",
            // A buffer filled for later.
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut ys = Vec::new(); let mut s = 0.0;
                for i in 0..n { ys.push(w[i] * 2.0); s += w[i]; }
                s * ys[0]
            }",
        ] {
            assert_eq!(fused(source), 0, "fused:\n{source}");
        }
    }
}
