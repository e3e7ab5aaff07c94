//! Fused loops (see `analysis::fusion`): each iteration's reverse runs right after its forward
//! run, with the seed `1` for the sum, into gradients of the loop's own; the reverse sweep adds
//! those in, times the sum's adjoint.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::{located_at, rt, Generator};
use crate::analysis::walk::{collect_operand_vars, defines};
use crate::ir::{Block, Operand, Stmt, StmtKind, VarId};

/// What the generator needs of a fused loop.
pub(super) struct Fused {
    /// The loop's counter, which names its gradients apart from another fused loop's.
    counter: VarId,
    sum: VarId,
    scratch: Vec<VarId>,
    /// The variables from outside the loop whose adjoints its reverse touches: the sum, the
    /// scratch, and what it reads.
    outer: Vec<VarId>,
}

impl Fused {
    /// The variables from outside the loop whose adjoints its reverse touches.
    pub(super) fn outer(&self) -> impl Iterator<Item = VarId> + '_ {
        self.outer.iter().copied()
    }

    /// The sum the loop accumulates.
    pub(super) fn sum(&self) -> VarId {
        self.sum
    }

    /// What the loop reads from outside without changing it: its gradients are the loop's
    /// own gradients scaled.
    pub(super) fn read_only(&self) -> impl Iterator<Item = VarId> + '_ {
        self.outer
            .iter()
            .copied()
            .filter(|v| *v != self.sum && !self.scratch.contains(v))
    }
}

impl<'a> Generator<'a> {
    /// `stmt` as a fused loop, where it is one and is generated at the function's top level.
    /// A loop that reads a field of a model is not fused: that field's adjoint is part of its
    /// struct's, which the loop's own gradients cannot hold apart.
    pub(super) fn fused(&self, stmt: &Stmt) -> Option<Fused> {
        let StmtKind::For { var, body, .. } = &stmt.kind else {
            return None;
        };
        // Code kept as written that changes a buffer (`stop_gradient(v.pop())`) is not undone,
        // and a gradient the loop keeps across iterations could not follow the buffer's length.
        // (Other buffers keep their lengths in the loop: the analysis fuses no loop that assigns
        // an outside buffer whole, and the loop's gradients of what it only reads have those
        // buffers' lengths.) Both generation runs must fuse the same loops: nothing here
        // depends on what the first one found to save.
        if self.loop_depth > 0 || self.scope_depth > 0 || self.primal_only || self.changed_as_kept {
            return None;
        }
        let fused = self.fused_loops.get(&(stmt as *const Stmt as usize))?;
        let mut outer = Vec::new();
        collect_operand_vars(self.body, body, &mut outer);
        if outer.iter().any(|v| self.is_slot(*v)) {
            return None;
        }
        outer.extend(fused.scratch.iter().copied());
        outer.push(fused.sum);
        outer.sort();
        outer.dedup();
        outer.retain(|v| self.activity.is_active(*v) && !defines(body, *v));
        Some(Fused {
            counter: *var,
            sum: fused.sum,
            scratch: fused.scratch.clone(),
            outer,
        })
    }

    /// The gradient of `v` the fused loop accumulates with the seed `1`.
    fn unit_adjoint(fused: &Fused, v: VarId) -> Ident {
        format_ident!(
            "__unit{}_d{}",
            fused.counter.0,
            v.0,
            span = Span::mixed_site()
        )
    }

    /// The forward sweep of a fused loop: the loop's gradients, then every iteration run
    /// forward and at once in reverse.
    pub(super) fn fused_forward(
        &mut self,
        fused: &Fused,
        var: VarId,
        range: &Operand,
        body: &Block,
        span: Span,
    ) -> TokenStream {
        let rt = rt();
        let mut gradients = TokenStream::new();
        for &v in &fused.outer {
            let unit = Self::unit_adjoint(fused, v);
            let reference = self.as_reference(v);
            // At the user's `let` (or the loop, for a parameter), where rustc reports a
            // variable that cannot carry a gradient.
            let at = self.definition_span(v).unwrap_or(span);
            let zero = located_at(quote!(#rt::Tangent::zero_tangent(#reference)), at);
            gradients.extend(quote!(let mut #unit = #zero;));
            self.adjoint_names.insert(v, unit);
        }
        let declared = self.declared.clone();
        self.declared.extend(fused.outer.iter().copied());

        // The iteration's reverse reads no value of the sum (an addition's rule reads none), so
        // it does not restore the values the iteration overwrote: the sum keeps its last.
        self.fused_sum = Some(fused.sum);
        self.loop_depth += 1;
        let forward = self.forward_block(body, false);
        let reverse = self.reverse_block(body, false);
        self.loop_depth -= 1;
        self.fused_sum = None;

        self.declared = declared;
        for v in &fused.outer {
            self.adjoint_names.remove(v);
        }
        // What the fused reverse reads stays needed, though it is read while it still holds
        // the values the loop read: a value the loop passes on by value in every iteration
        // (`lu.solve(&b)` passes the matrix) is copied there only while it is needed.

        let counter = self.ident(var).clone();
        let range = self.forward_operand_by_value(range);
        let seed = Self::unit_adjoint(fused, fused.sum);
        quote_spanned! {span=>
            #gradients
            for #counter in #range {
                #forward
                #seed = 1.0;
                #reverse
            }
        }
    }

    /// The reverse sweep of a fused loop: the loop's gradients, times the sum's adjoint, added
    /// to the gradients of what it reads. The sum's adjoint passes through the loop unchanged.
    pub(super) fn fused_reverse(&mut self, fused: &Fused) -> TokenStream {
        let rt = rt();
        let mut out = TokenStream::new();
        let seed = Self::unit_adjoint(fused, fused.sum);
        out.extend(quote!(let _ = #seed;));
        let d_sum = self.adjoint(fused.sum);
        let reaches_result = self.declared.contains(&fused.sum);
        for v in fused.read_only().collect::<Vec<_>>() {
            let unit = Self::unit_adjoint(fused, v);
            if !reaches_result {
                out.extend(quote!(let _ = #unit;));
                continue;
            }
            // One call, at the variable's `let` as its gradient's declaration is: a variable
            // that cannot carry a gradient is reported once, there.
            let d = self.adjoint(v);
            let contribution = if self.declared.insert(v) {
                quote!(let mut #d = #rt::scaled_tangent(#unit, &#d_sum);)
            } else {
                quote!(#rt::accumulate_scaled(&mut #d, #unit, &#d_sum);)
            };
            match self.definition_span(v) {
                Some(at) => out.extend(located_at(contribution, at)),
                None => out.extend(contribution),
            }
        }
        out
    }

    /// The span of the top-level statement that defines `v`.
    fn definition_span(&self, v: VarId) -> Option<Span> {
        self.body
            .block
            .iter()
            .find(|s| {
                matches!(&s.kind, StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } if *var == v)
            })
            .map(|s| s.span)
    }
}
