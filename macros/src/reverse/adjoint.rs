//! The reverse sweep of blocks and statements, and contributions to adjoints.

use std::collections::HashSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::tape::Restore;
use super::{located_at, rt, Generator};
use crate::analysis::increments::Increment;
use crate::analysis::invariant_reads::invariant_element_reads;
use crate::analysis::walk::{collect_operand_vars, defines};
use crate::ir::{Block, Operand, Stmt, StmtKind, VarId};

impl<'a> Generator<'a> {
    // ----- reverse sweep -------------------------------------------------------------------

    /// As [`Self::read_ref`], for an operand of float arithmetic (`x * 2`): see
    /// [`literal_of_kind`].
    pub(super) fn read_float_ref(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Const(c) => {
                let c = literal_of_kind(c, LiteralKind::Float);
                quote!(&(#c))
            }
            other => self.read_ref(other),
        }
    }

    /// As [`Self::read_value`], for an operand of a float method whose type is `kind`: see
    /// [`literal_of_kind`].
    pub(super) fn read_value_of_kind(&mut self, op: &Operand, kind: LiteralKind) -> TokenStream {
        match op {
            Operand::Const(c) => {
                let c = literal_of_kind(c, kind);
                quote!((#c))
            }
            other => self.read_value(other),
        }
    }

    /// Records that the reverse sweep reads `v` and returns a reference to it.
    pub(super) fn read_ref(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, ..) => {
                self.reads.insert(*v);
                self.as_reference(*v)
            }
            Operand::Const(c) => quote!(&(#c)),
        }
    }

    /// Records that the reverse sweep needs `v` only for its shape (to build a zero gradient).
    /// A variable of the function's top level is in scope throughout the reverse sweep, and an
    /// overwrite does not change its shape, so it need not be restored for this; a variable of
    /// a branch or loop body must be brought back into scope. Either must outlive the forward
    /// sweep: passed by value there, it is copied, not moved.
    fn read_shape(&mut self, v: VarId) {
        self.scope_reads.insert(v);
    }

    /// A reference to `v` for its shape only; see [`Self::read_shape`].
    pub(super) fn shape_ref(&mut self, v: VarId) -> TokenStream {
        self.read_shape(v);
        self.as_reference(v)
    }

    /// A reference to an operand for its type and shape only.
    pub(super) fn operand_shape_ref(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, ..) => self.shape_ref(*v),
            Operand::Const(c) => quote!(&(#c)),
        }
    }

    /// An operand's value where the rule ignores it: it stands only for the type.
    pub(super) fn operand_shape_value(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, ..) => {
                self.read_shape(*v);
                self.as_value(*v)
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// Records that the reverse sweep reads `v` and returns its (copied) value.
    pub(super) fn read_value(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, ..) => {
                self.reads.insert(*v);
                self.as_value(*v)
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// Adds `contribution` to the adjoint of `v`: the first contribution declares it.
    pub(super) fn contribute(&mut self, v: VarId, contribution: TokenStream) -> TokenStream {
        if self.is_slot(v) {
            let rt = rt();
            return self.add_into(v, |slot| quote!(#rt::add_to_slot(#slot, #contribution);));
        }
        let d = self.adjoint(v);
        if self.declared.insert(v) {
            quote!(let mut #d = #contribution;)
        } else {
            let rt = rt();
            quote!(#rt::Accumulate::accumulate(&mut #d, #contribution);)
        }
    }

    pub(super) fn contribute_to(&mut self, op: &Operand, contribution: TokenStream) -> TokenStream {
        match op.var() {
            Some(v) if self.activity.is_active(v) => self.contribute(v, contribution),
            _ => TokenStream::new(),
        }
    }

    pub(super) fn reverse_block(&mut self, block: &Block, scoped: bool) -> TokenStream {
        self.scope_depth += usize::from(scoped);
        let out = self.reverse_block_inner(block, scoped);
        self.scope_depth -= usize::from(scoped);
        out
    }

    fn reverse_block_inner(&mut self, block: &Block, scoped: bool) -> TokenStream {
        let rt = rt();
        let mut out = TokenStream::new();
        if scoped {
            let copied = self.saved_where_bound(block);
            for v in self.block_locals(block).into_iter().rev() {
                let tape = self.var_tape(v);
                let ident = self.ident(v).clone();
                let mutability = self.body.var(v).is_location.then(|| quote!(mut));
                if copied.contains(&v) {
                    let copy = format_ident!("__copy{}", v.0, span = Span::mixed_site());
                    out.extend(quote!(let #copy = #tape.pop(); let #ident = &#copy;));
                } else {
                    out.extend(quote!(let #mutability #ident = #tape.pop();));
                }
            }
            // Cheap values that never change within the iteration are computed again, in order;
            // the ones computed at their last use come later.
            let later: HashSet<VarId> = self.recompute_before.values().flatten().copied().collect();
            for stmt in block {
                if let StmtKind::Let { var, .. } = &stmt.kind {
                    if self.recomputed.contains_key(var)
                        && !later.contains(var)
                        && !self.is_hoisted(stmt)
                    {
                        out.extend(self.recompute(stmt));
                    }
                }
            }
        }
        // A location's adjoint may receive contributions on some paths only: it starts at zero.
        for stmt in block {
            if let StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } = &stmt.kind {
                let var = *var;
                if self.body.var(var).is_location
                    && self.activity.is_active(var)
                    && self.declared.insert(var)
                {
                    let d = self.adjoint(var);
                    let reference = self.shape_ref(var);
                    // At the user's `let`, where rustc reports a local that cannot carry one.
                    let zero =
                        located_at(quote!(#rt::Tangent::zero_tangent(#reference)), stmt.span);
                    out.extend(quote!(let mut #d = #zero;));
                }
            }
        }
        for stmt in block.iter().rev() {
            let at = stmt as *const Stmt as usize;
            if let Some(values) = self.recompute_before.get(&at).cloned() {
                for v in values {
                    let def = block
                        .iter()
                        .find(|s| matches!(&s.kind, StmtKind::Let { var, .. } if *var == v));
                    if let Some(def) = def.filter(|def| !self.is_hoisted(def)) {
                        out.extend(self.recompute(def));
                    }
                }
            }
            out.extend(self.reverse_stmt(stmt));
        }
        out
    }

    /// `let v = value;` again, for a recomputed value the reverse sweep reads.
    pub(super) fn recompute(&self, stmt: &Stmt) -> TokenStream {
        let StmtKind::Let { var, ty, value } = &stmt.kind else {
            return TokenStream::new();
        };
        let in_scope = self
            .needed_in_scope
            .as_ref()
            .is_none_or(|n| n.contains(var));
        if !in_scope {
            return TokenStream::new();
        }
        let ident = self.ident(*var).clone();
        let value = self.forward_let_value(*var, value, stmt.span);
        let ty = ty.as_ref().map(|t| quote!(: #t));
        quote_spanned!(stmt.span=> let #ident #ty = #value;)
    }

    fn reverse_stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let rt = rt();
        let span = stmt.span;
        if let Some(fused) = self.fused(stmt) {
            return self.fused_reverse(&fused);
        }
        match &stmt.kind {
            StmtKind::Let { var, value, .. } => {
                if self.activity.is_active(*var) && self.declared.contains(var) {
                    let d = self.adjoint(*var);
                    self.reverse_value(value, *var, &d, span)
                } else {
                    TokenStream::new()
                }
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => TokenStream::new(),
            StmtKind::Assign { var, value } => {
                let mut out = TokenStream::new();
                let active = self.activity.is_active(*var) && self.declared.contains(var);
                let taken = Ident::new("__d_new", Span::mixed_site());
                let restore = self.restore_of(stmt, *var);
                let ident = self.ident(*var).clone();
                match &restore {
                    Restore::Tape => {
                        let tape = self.stmt_tape(stmt);
                        out.extend(quote!(#ident = #tape.pop();));
                    }
                    Restore::Undo(undo) => out.extend(quote!(#ident = #ident #undo;)),
                    Restore::Nothing => {}
                }
                let restores = !matches!(restore, Restore::Nothing);
                if active {
                    let d = self.adjoint(*var);
                    if restores {
                        // The old value's adjoint starts at zero in the old value's shape, which
                        // may differ from the new one's (`h = &l.w * &h` between layers).
                        let old = self.as_reference(*var);
                        out.extend(quote!(let mut #taken = ::core::mem::replace(&mut #d, #rt::Tangent::zero_tangent(#old));));
                    } else {
                        out.extend(quote!(let mut #taken = #rt::take_tangent(&mut #d);));
                    }
                }
                if active {
                    out.extend(self.reverse_value(value, *var, &taken, span));
                }
                out
            }
            StmtKind::SetIndex { base, index, value } => {
                let mut out = TokenStream::new();
                if self.activity.is_active(*base) && self.declared.contains(base) {
                    let d = self.adjoint(*base);
                    let i = self.read_value(index);
                    let taken = quote!(#rt::rules::IndexTakeRule::index_take(&mut #d, #i));
                    let increment = self.increments.get(&(stmt as *const Stmt as usize));
                    if let Some(Increment { added, subtracted }) = increment {
                        // The element's adjoint stays; the added value receives it.
                        let element = quote!(#rt::rules::IndexAdjointRule::index_adjoint(&#d, #i));
                        let contribution = if *subtracted {
                            let e = Ident::new("__d_element", Span::mixed_site());
                            quote!({ let #e = #element; #rt::rules::SubRule::sub_adjoint_rhs(&#e, &#e, &#e) })
                        } else {
                            element
                        };
                        let added = added.clone();
                        out.extend(self.contribute_to(&added, contribution));
                    } else if self.activity.operand_active(value) {
                        out.extend(self.contribute_to(value, taken));
                    } else {
                        out.extend(quote!(let _ = #taken;));
                    }
                }
                if self.is_needed(*base) {
                    let tape = self.stmt_tape(stmt);
                    let ident = self.ident(*base).clone();
                    let i = self.read_value(index);
                    out.extend(quote!(#ident[#i] = #tape.pop();));
                }
                out
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let mut out = self.zero_adjoints_used_in(&[then_block, else_block]);
                let then_tokens = self.reverse_block(then_block, true);
                let else_tokens = self.reverse_block(else_block, true);
                if then_tokens.is_empty() && else_tokens.is_empty() {
                    return out;
                }
                let c = self.read_value(cond);
                out.extend(quote_spanned!(span=> if #c { #then_tokens } else { #else_tokens }));
                out
            }
            StmtKind::For { var, range, body } if self.checkpointed(stmt) => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let iteration = self.checkpoint_iteration(body);
                let ident = self.ident(*var).clone();
                let range = self.read_value(range);
                out.extend(quote_spanned! {span=>
                    for #ident in ::core::iter::Iterator::rev(#range) { #iteration }
                });
                out
            }
            StmtKind::Loop { body, .. } if self.checkpointed(stmt) => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let count = self.loop_count(stmt);
                let iteration = self.checkpoint_iteration(body);
                out.extend(quote_spanned!(span=> for _ in 0..#count { #iteration }));
                out
            }
            StmtKind::For { var, range, body } => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let (take, add_back) = self.promote_invariant_reads(*var, body);
                let hoisted = self.hoist_invariant_recomputations(*var, body);
                self.loop_depth += 1;
                let body_tokens = self.reverse_block(body, true);
                self.loop_depth -= 1;
                for (buffer, _) in &take {
                    self.promoted.remove(buffer);
                }
                if body_tokens.is_empty() {
                    return out;
                }
                let ident = self.ident(*var).clone();
                let range = self.read_value(range);
                let take = take.into_iter().map(|(_, tokens)| tokens);
                let reverse_loop = quote_spanned! {span=>
                    #(#take)*
                    for #ident in ::core::iter::Iterator::rev(#range) { #body_tokens }
                    #add_back
                };
                if hoisted.is_empty() {
                    out.extend(reverse_loop);
                } else {
                    out.extend(Self::guarded_by_trips(
                        &range,
                        quote!(#hoisted #reverse_loop),
                    ));
                }
                out
            }
            StmtKind::Loop { body, .. } => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let count = self.loop_count(stmt);
                self.loop_depth += 1;
                let body_tokens = self.reverse_block(body, true);
                self.loop_depth -= 1;
                if self.scope_depth > 0 {
                    let tape = self.new_tape(format!("__save_{count}"));
                    out.extend(quote!(let #count: usize = #tape.pop();));
                }
                if !body_tokens.is_empty() {
                    out.extend(quote_spanned!(span=> for _ in 0..#count { #body_tokens }));
                }
                out
            }
            StmtKind::Push { base, value } => {
                let mut out = TokenStream::new();
                if self.activity.is_active(*base) && self.declared.contains(base) {
                    let d = self.adjoint(*base);
                    // At the user's `push`, where rustc reports a buffer of anything but floats.
                    let taken = if self.lengths_may_drift() {
                        let tape = self.stmt_tape(stmt);
                        quote!(#rt::rules::push_adjoint_at(&mut #d, #tape.pop()))
                    } else {
                        quote!(#rt::rules::push_adjoint(&mut #d))
                    };
                    let taken = located_at(taken, span);
                    if self.activity.operand_active(value) {
                        out.extend(self.contribute_to(value, taken));
                    } else {
                        out.extend(quote!(let _ = #taken;));
                    }
                }
                if self.is_needed(*base) {
                    let ident = self.ident(*base).clone();
                    out.extend(quote!(let _ = #ident.pop();));
                }
                out
            }
        }
    }

    /// Adjoints of values from outside `blocks` that receive contributions inside them start at
    /// zero before the blocks' reverse: a branch or a loop that runs no time contributes nothing.
    /// The adjoint elements a reverse loop accumulates in variables of their own (see
    /// `analysis::invariant_reads`): for each buffer, the statement that takes the element out
    /// before the loop, and the statements that add them back after it. The buffers are
    /// recorded in `promoted` until the loop's body is generated.
    fn promote_invariant_reads(
        &mut self,
        counter: VarId,
        body: &Block,
    ) -> (Vec<(VarId, TokenStream)>, TokenStream) {
        let rt = rt();
        let mut take = Vec::new();
        let mut add_back = TokenStream::new();
        // A gradient that may be shorter than its buffer has no element to take out.
        if self.lengths_may_drift() {
            return (take, add_back);
        }
        for (buffer, index) in invariant_element_reads(self.body, counter, body) {
            if !self.activity.is_active(buffer)
                || !self.declared.contains(&buffer)
                || self.is_slot(buffer)
                || self.promoted.contains_key(&buffer)
            {
                continue;
            }
            let d = self.adjoint(buffer);
            let element = format_ident!("__element{}", buffer.0, span = Span::mixed_site());
            let i = self.read_value(&Operand::Var(index));
            take.push((
                buffer,
                quote!(let mut #element = #rt::rules::IndexRule::index_take_held(&mut #d, #i);),
            ));
            add_back.extend(quote! {
                if let ::core::option::Option::Some(#element) = #element {
                    #rt::rules::IndexRule::index_accumulate_held(&mut #d, #i, #element);
                }
            });
            self.promoted.insert(buffer, element);
        }
        (take, add_back)
    }

    fn zero_adjoints_used_in(&mut self, blocks: &[&Block]) -> TokenStream {
        let mut used = Vec::new();
        for block in blocks {
            collect_operand_vars(self.body, block, &mut used);
        }
        used.sort();
        used.dedup();
        let mut out = TokenStream::new();
        for v in used {
            if self.is_slot(v) && !blocks.iter().any(|b| defines(b, v)) {
                out.extend(self.ensure_declared(v));
            } else if self.activity.is_active(v)
                && !self.declared.contains(&v)
                && !blocks.iter().any(|b| defines(b, v))
            {
                let reference = self.as_reference(v);
                self.read_shape(v);
                let zero = self.zero_adjoint(v, reference);
                out.extend(self.contribute(v, zero));
            }
        }
        out
    }
}

/// The kind of literal an operand position of a rule takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum LiteralKind {
    /// A float, as in `x * 2.0` and `x.max(0.0)`.
    Float,
    /// An integer, as the exponent of `x.powi(2)`.
    Integer,
}

/// A literal of the other kind than its position takes (`x * 2`, `x.max(0)`, `x.powi(2.0)`) is
/// a type error in the function itself, which rustc reports at the literal. In the rule call it
/// is written as a literal of the right kind, so that the error is not reported a second time
/// from the generated code; a program with such a literal never compiles, so the rule never
/// runs with it. Any other constant is passed on as written.
fn literal_of_kind(tokens: &TokenStream, kind: LiteralKind) -> TokenStream {
    let trees: Vec<proc_macro2::TokenTree> = tokens.clone().into_iter().collect();
    let literal = match trees.as_slice() {
        [proc_macro2::TokenTree::Literal(literal)] => literal,
        // `-2`: the literal's kind, negated.
        [proc_macro2::TokenTree::Punct(minus), proc_macro2::TokenTree::Literal(literal)]
            if minus.as_char() == '-' =>
        {
            let literal = literal_of_kind(&quote!(#literal), kind);
            return quote!(#minus #literal);
        }
        _ => return tokens.clone(),
    };
    let span = literal.span();
    match (syn::Lit::new(literal.clone()), kind) {
        (syn::Lit::Int(int), LiteralKind::Float) if int.suffix().is_empty() => {
            let mut float = format!("{}.0", int.base10_digits())
                .parse::<proc_macro2::Literal>()
                .unwrap_or_else(|_| proc_macro2::Literal::f64_unsuffixed(0.0));
            float.set_span(span);
            quote!(#float)
        }
        (syn::Lit::Float(float), LiteralKind::Integer) if float.suffix().is_empty() => {
            let mut int = proc_macro2::Literal::i32_unsuffixed(0);
            int.set_span(span);
            quote!(#int)
        }
        _ => tokens.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::{literal_of_kind, LiteralKind};
    use quote::quote;

    #[test]
    fn literals_of_the_kind_a_rule_takes() {
        let text = |t: proc_macro2::TokenStream, k| literal_of_kind(&t, k).to_string();
        assert_eq!(text(quote!(2), LiteralKind::Float), "2.0");
        assert_eq!(text(quote!(0x10), LiteralKind::Float), "16.0");
        assert_eq!(text(quote!(2.5), LiteralKind::Integer), "0");
        assert_eq!(text(quote!(-2), LiteralKind::Float), "- 2.0");
        // Suffixed literals, literals of the right kind and other constants stay as written.
        assert_eq!(text(quote!(2u8), LiteralKind::Float), "2u8");
        assert_eq!(text(quote!(2.5), LiteralKind::Float), "2.5");
        assert_eq!(text(quote!(2), LiteralKind::Integer), "2");
        assert_eq!(
            text(quote!(f64::consts::PI), LiteralKind::Float),
            "f64 :: consts :: PI"
        );
    }
}
