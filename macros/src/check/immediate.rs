//! The immediate rules: constructs that lose gradient wherever they meet a value that carries it.

use quote::ToTokens;
use syn::{BinOp, Type};

use super::messages::{extremum_fold, params_names, step_method_message, with_closure_message};
use super::render::tokens_text;
use super::report::Checker;
use super::{foreign_callee, Callee};
use crate::errors::Place;
use crate::ir::{Block, Body, Kept, MethodKind, Operand, Stmt, StmtKind, Value, VarId, Written};
use crate::methods::{ELEMENT_ADAPTORS, GATING_STEP_METHODS, ORDERING_METHODS};

impl Checker<'_, '_> {
    /// Constructs that lose gradient wherever they meet a value that carries it.
    pub(super) fn immediate(&mut self, stmt: &Stmt, dst: VarId, value: &Value) {
        let span = stmt.span;
        match value {
            Value::Method {
                receiver,
                method,
                args,
                kind,
                ..
            } => {
                let ops: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                let varied: Vec<&Operand> =
                    ops.iter().copied().filter(|op| self.varied(op)).collect();
                if varied.is_empty() {
                    return;
                }
                let name = method.to_string();
                let params = self.flow.deps_of(&varied);
                let text = self.flow.render_value(value, 3);
                let from = params_names(self.sig(), &params);
                let place = Place::at(method.span());
                let unknown = matches!(kind, MethodKind::Unknown | MethodKind::User);
                let reported_before = unknown && self.downstream_of_rejected(&varied, dst);
                let adaptor_in_chain = ELEMENT_ADAPTORS.contains(&name.as_str())
                    && self.flow.feeds_unknown.contains(&dst);
                match kind {
                    // `x.signum() * x`, `if .. { r.signum() } else { r }`: the step only scales or
                    // selects a value that carries gradient.
                    MethodKind::Step
                        if GATING_STEP_METHODS.contains(&name.as_str())
                            && args.is_empty()
                            && self.flow.gates.only_gates(dst)
                            && self.flow.reach_result(&params) => {}
                    // `x.floor() as usize`: the rounding is part of a cast to an integer, which is
                    // a step value of its own, checked where it becomes part of the computed
                    // value (an index or a count is fine), as `x as usize` is.
                    MethodKind::Step
                        if ROUNDING_METHODS.contains(&name.as_str())
                            && only_cast_to_integer(self.flow.body, dst) => {}
                    MethodKind::Step if !ORDERING_METHODS.contains(&name.as_str()) => {
                        let (message, help) =
                            step_method_message(&name, &text, receiver, args, &self.flow, &from);
                        self.errors.push_at(place, message, help);
                        if let Some(o) = self.flow.taint[dst.0] {
                            self.reported.insert(o);
                        }
                        self.blame(&params);
                    }
                    // Deny by default: a method nabla has no rule for may change its receiver
                    // in place (`v.sort_by(..)`, `m.normalize_mut()`), so it is an error on a
                    // value that carries gradient even where its result is never used.
                    // A model's own method whose result is unused, on a local the body may change:
                    // it may change that local in place, as an unknown method may.
                    // In a chain of such methods the first one past the element adaptors is
                    // named (`reduce` in `w.iter().copied().reduce(f64::max).unwrap()`): there
                    // the derivative is lost, and what follows it is not reported again.
                    MethodKind::Unknown | MethodKind::User
                        if !adaptor_in_chain
                            && !reported_before
                            && (kind == &MethodKind::Unknown
                                || (!self.useful(dst)
                                    && receiver
                                        .var()
                                        .is_some_and(|r| self.flow.body.var(r).is_location))) =>
                    {
                        let (message, help) = if self.useful(dst) {
                            let stop = format!("if no gradient is meant to flow through it, write `stop_gradient({text})`");
                            let help = match extremum_fold(&name, &self.flow.render_operand(receiver, 3)) {
                                Some(fold) => format!("{fold}; {stop}"),
                                None => format!("compute it with differentiable operations or call a #[differentiable] or #[custom_gradient] function; {stop}"),
                            };
                            (
                                format!("no derivative is known for `{text}`: `{name}` is not a method nabla differentiates, and gradient would flow into it from {from}"),
                                help,
                            )
                        } else {
                            let dots = if args.is_empty() { "" } else { ".." };
                            let call =
                                format!("{}.{name}({dots})", self.flow.render_operand(receiver, 2));
                            (
                                format!("`{name}` is not a method nabla differentiates, and `{call}` is called on a value that carries gradient from {from}: if it changes that value in place, the gradient would silently be wrong"),
                                "write the change with element reads and writes (`v[i] = ..`) or with the in-place methods nabla differentiates (see the error catalogue); if no gradient is meant to flow through it, call it on `stop_gradient(..)` of the value".to_string(),
                            )
                        };
                        self.errors.push_at(place, message, help);
                        self.blame(&params);
                        self.rejected_values.insert(dst);
                    }
                    _ => {}
                }
            }
            Value::Call { func, args } => {
                let varied: Vec<&Operand> = args.iter().filter(|op| self.varied(op)).collect();
                if varied.is_empty() || !self.useful(dst) {
                    return;
                }
                let Some(callee) = foreign_callee(&func.path) else {
                    // Whether a user function is #[differentiable] is rustc's to find out: the
                    // reverse sweep calls its companion `<path>::__vjp` (see docs/errors.md).
                    self.differentiated_calls.push(func.path.clone());
                    return;
                };
                let params = self.flow.deps_of(&varied);
                let from = params_names(self.sig(), &params);
                let path = tokens_text(&func.path.to_token_stream());
                let text = self.flow.render_value(value, 3);
                let stop = format!(
                    "if no gradient is meant to flow through it, write `stop_gradient({text})`"
                );
                let (message, help) = match callee {
                    Callee::FloatConversion(ty) => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!(
                            "convert between float types with `as`: `{} as {ty}`",
                            self.flow.render_operand(varied[0], 2)
                        ),
                    ),
                    Callee::Matrix => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!("build vectors and matrices from their elements with `::new(..)` (`Vector3::new(a, b, c)`), from a slice (`from_column_slice`, `from_row_slice`, `from_vec`) or from one value (`from_element`, `repeat`), or take them as parameters; {stop}"),
                    ),
                    Callee::Constructor => (
                        format!("`{path}(..)` builds a value nabla cannot differentiate through, and gradient would flow into it from {from}"),
                        "pass the values that carry gradient separately".to_string(),
                    ),
                    Callee::Library => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!("call a #[differentiable] or #[custom_gradient] function instead; {stop}"),
                    ),
                };
                self.errors.push_at(self.flow.place(stmt), message, help);
                self.blame(&params);
                self.rejected_values.insert(dst);
            }
            // `t % s.period` with `t: usize`: Rust has no arithmetic between integers and
            // floats, so this is an integer remainder, an index or a count.
            Value::Binary {
                op: BinOp::Rem(_),
                lhs,
                rhs,
            } if (self.varied(lhs) || self.varied(rhs))
                && ![lhs, rhs]
                    .iter()
                    .any(|op| self.flow.kind(op) == super::kinds::Kind::Int) =>
            {
                let params = self.flow.deps_of(&[lhs, rhs]);
                let (l, r) = (
                    self.flow.render_operand(lhs, 2),
                    self.flow.render_operand(rhs, 2),
                );
                self.errors.push_at(
                    self.flow.place(stmt),
                    format!("`{l} % {r}` has no derivative rule in nabla: its derivative in `{l}` is 1 between its jumps, but written so, no gradient would flow back to {}", params_names(self.sig(), &params)),
                    format!("write `{l} - stop_gradient(({l} / {r}).trunc()) * {r}`: the same value, with derivative 1 in `{l}`"),
                );
                self.blame(&params);
            }
            Value::Field { base, member } => {
                if let Some(Value::Method {
                    receiver, method, ..
                }) = self.flow.position_with_value(base)
                {
                    if matches!(member, syn::Member::Unnamed(i) if i.index == 1)
                        && self.flow.reads[dst.0] > 0
                    {
                        let v = self.flow.render_operand(receiver, 2);
                        let reduction = if method == "argmax" { "max" } else { "min" };
                        self.blame(&self.flow.deps_of(&[receiver]));
                        self.errors.push(
                            method.span(),
                            format!("the value that `{v}.{method}()` returns beside the index carries no gradient in nabla, so nothing would flow back to `{v}` through it"),
                            format!("read the element through the index, `let (i, _) = {v}.{method}(); {v}[i]`, or use `{v}.{reduction}()`, whose gradient flows to that element"),
                        );
                    }
                }
            }
            Value::Opaque {
                tokens,
                reads,
                kept: Kept::Checked(written),
            } => {
                // `2..w.len()` reads only `w`'s length, which carries no gradient.
                let varied: Vec<Operand> = reads
                    .iter()
                    .filter(|v| self.flow.activity.varied.contains(v))
                    .filter(|v| read_beyond_shape(tokens, &self.flow.body.var(**v).ident))
                    .map(|v| Operand::Var(*v))
                    .collect();
                if varied.is_empty() {
                    return;
                }
                let params = self.flow.deps_of(&varied.iter().collect::<Vec<_>>());
                let from = params_names(self.sig(), &params);
                // The lowering wraps the user's expression in parentheses.
                let trees: Vec<proc_macro2::TokenTree> = tokens.clone().into_iter().collect();
                let text = match trees.as_slice() {
                    [proc_macro2::TokenTree::Group(g)]
                        if g.delimiter() == proc_macro2::Delimiter::Parenthesis =>
                    {
                        tokens_text(&self.flow.user_names(&g.stream()))
                    }
                    _ => tokens_text(&self.flow.user_names(tokens)),
                };
                match written {
                    Written::WithClosure => {
                        let user = match trees.as_slice() {
                            [proc_macro2::TokenTree::Group(g)] => self.flow.user_names(&g.stream()),
                            _ => self.flow.user_names(tokens),
                        };
                        let (place, message, help) = with_closure_message(&user, &from);
                        self.errors.push_at(place, message, help);
                    }
                    Written::MatchBinding => self.errors.push(
                        span,
                        format!("a `match` pattern that binds names, on a value that carries gradient (from {from}), is not supported in #[differentiable] functions"),
                        "bind names in patterns on data only; read the values that carry gradient by their own names in the arm (`match k { Some(s) => x * s, None => x }` with `k` data)",
                    ),
                    Written::Vec => self.errors.push(
                        span,
                        format!("`vec![x; n]` of a value that carries gradient (from {from}) is not supported in #[differentiable] functions"),
                        "list the elements (`vec![x, x, x]`), or create the buffer with `vec![0.0; n]` and assign its elements",
                    ),
                    // Its text names the lowering's temporaries: not quoted.
                    Written::MapOverIndices => self.errors.push(
                        span,
                        format!("a `map` over a range of indices or over windows reads values that carry gradient (from {from}), and is differentiated only as a sum or product whose type is written"),
                        "write `.sum::<f64>()` or `.product::<f64>()` (the elements are integers or slices, so the sum's type cannot be told from them), or write the loop out",
                    ),
                    Written::Repeat | Written::Range => self.errors.push(
                        span,
                        format!("`{text}` is built from values that carry gradient (from {from}), and nabla cannot differentiate through it"),
                        if *written == Written::Repeat {
                            "write the array's elements out (`[x, x, x]`), or start from `[0.0; N]` and assign them"
                        } else {
                            "a range's ends carry no gradient: take them as data (`stop_gradient(a)..stop_gradient(b)`)"
                        },
                    ),
                }
                self.blame(&params);
            }
            // A tuple the function returns (`-> (f64, f64)`): its cotangent is split among the
            // items (see `reverse/rules.rs`).
            Value::Tuple(_) if returned(self.flow.body).contains(&dst) => {}
            Value::Tuple(items) if items.iter().any(|i| self.varied(i)) => {
                let varied: Vec<&Operand> = items.iter().filter(|op| self.varied(op)).collect();
                let params = self.flow.deps_of(&varied);
                self.errors.push(
                    span,
                    "a tuple of values that carry gradient is not supported in #[differentiable] functions",
                    "bind each value with its own `let`, or destructure right away: `let (a, b) = (x, y);`",
                );
                self.blame(&params);
                self.rejected_values.insert(dst);
            }
            Value::Cast { ty, .. } if matches!(strip(ty), Type::Ptr(_)) => {
                self.errors.push_at(
                    self.flow.place(stmt),
                    "raw pointers are not supported in #[differentiable] functions",
                    "keep pointer code in a function called on values that carry no gradient",
                );
            }
            _ => {}
        }
    }
}

/// Methods that round to an integer value.
const ROUNDING_METHODS: &[&str] = &["floor", "ceil", "round", "round_ties_even", "trunc"];

/// Whether every read of `v` casts it to an integer type, and there is one.
fn only_cast_to_integer(body: &Body, v: VarId) -> bool {
    let reads = |op: &Operand| op.var() == Some(v);
    if reads(&body.result)
        || body
            .closures
            .iter()
            .any(|c| c.captures.iter().any(|(c, _)| *c == v))
    {
        return false;
    }
    let mut casts = 0;
    for stmt in crate::analysis::walk::all_stmts(&body.block) {
        let other = match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => match value {
                Value::Cast { arg, ty } if reads(arg) => {
                    if super::kinds::kind_of_type(ty) != super::kinds::Kind::Int {
                        return false;
                    }
                    casts += 1;
                    false
                }
                Value::Opaque { reads: read, .. } => read.contains(&v),
                value => value.operands().into_iter().any(reads),
            },
            StmtKind::SetIndex { base, index, value } => *base == v || reads(index) || reads(value),
            StmtKind::Push { base, value } => *base == v || reads(value),
            StmtKind::Opaque { reads: read, .. } => read.contains(&v),
            StmtKind::If { cond, .. } => reads(cond),
            StmtKind::For { range, .. } => reads(range),
            StmtKind::Loop { go, .. } => *go == v,
            StmtKind::Declare { .. } => false,
        };
        if other {
            return false;
        }
    }
    casts > 0
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// The function's result and the variables whose values become it unchanged (the arms of an
/// `if` or `match` that is the result, an early `return`'s value).
fn returned(body: &Body) -> std::collections::HashSet<VarId> {
    fn copies(block: &Block, out: &mut Vec<(VarId, VarId)>) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let {
                    var,
                    value: Value::Use(Operand::Var(from)),
                    ..
                }
                | StmtKind::Assign {
                    var,
                    value: Value::Use(Operand::Var(from)),
                } => out.push((*var, *from)),
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    copies(then_block, out);
                    copies(else_block, out);
                }
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => copies(body, out),
                _ => {}
            }
        }
    }
    let mut pairs = Vec::new();
    copies(&body.block, &mut pairs);
    let mut out: std::collections::HashSet<VarId> = body.result.var().into_iter().collect();
    loop {
        let before = out.len();
        for (to, from) in &pairs {
            if out.contains(to) {
                out.insert(*from);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// Whether `tokens` read `ident` other than through a shape query (`ident.len()`); tokens that
/// do not name it at all are taken to read it.
fn read_beyond_shape(tokens: &proc_macro2::TokenStream, ident: &proc_macro2::Ident) -> bool {
    let (named, beyond) = uses_of(tokens, ident);
    !named || beyond
}

/// Whether `tokens` name `ident`, and whether any of those uses is more than a shape query.
fn uses_of(tokens: &proc_macro2::TokenStream, ident: &proc_macro2::Ident) -> (bool, bool) {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let (mut named, mut beyond) = (false, false);
    for (k, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => {
                let (n, b) = uses_of(&g.stream(), ident);
                named |= n;
                beyond |= b;
            }
            TokenTree::Ident(i) if i == ident => {
                named = true;
                // A call, `w.len()`: a field of that name (`s.len` of a spring) is a value.
                let shape_query = matches!(
                    (trees.get(k + 1), trees.get(k + 2), trees.get(k + 3)),
                    (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(query)), Some(TokenTree::Group(args)))
                        if dot.as_char() == '.'
                            && crate::methods::SHAPE_QUERIES.contains(&query.to_string().as_str())
                            && args.delimiter() == proc_macro2::Delimiter::Parenthesis
                            && args.stream().is_empty()
                );
                beyond |= !shape_query;
            }
            _ => {}
        }
    }
    (named, beyond)
}

impl Checker<'_, '_> {
    /// Whether an operand of the value `dst` is one already reported, which then counts as
    /// reported too: one error for `w.iter().cycle().next().unwrap()`, at `cycle`.
    fn downstream_of_rejected(&mut self, operands: &[&Operand], dst: VarId) -> bool {
        let downstream = operands
            .iter()
            .any(|op| op.var().is_some_and(|v| self.rejected_values.contains(&v)));
        if downstream {
            self.rejected_values.insert(dst);
        }
        downstream
    }
}
