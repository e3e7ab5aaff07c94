//! The forward sweep: the primal computation and what it saves (how it writes values and
//! operands is in `operands.rs`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::tape::Restore;
use super::Generator;
use crate::ir::{Block, Operand, Stmt, StmtKind, Value};

impl<'a> Generator<'a> {
    // ----- forward sweep -------------------------------------------------------------------

    pub(super) fn forward_block(&mut self, block: &Block, scoped: bool) -> TokenStream {
        let mut out = TokenStream::new();
        self.scope_depth += usize::from(scoped);
        for stmt in block {
            out.extend(self.forward_stmt(stmt));
        }
        self.scope_depth -= usize::from(scoped);
        if scoped && !self.primal_only {
            let saved_where_bound = self.saved_where_bound(block);
            for v in self.block_locals(block) {
                if !saved_where_bound.contains(&v) {
                    let tape = self.var_tape(v);
                    let ident = self.ident(v).clone();
                    let push = self.push_to(&tape);
                    out.extend(quote!(#push(#ident);));
                }
            }
        }
        out
    }

    fn forward_stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let span = stmt.span;
        if let (StmtKind::For { var, range, body }, Some(fused)) = (&stmt.kind, self.fused(stmt)) {
            return self.fused_forward(&fused, *var, range, body, span);
        }
        match &stmt.kind {
            StmtKind::Let { var, ty, value } => {
                let ident = self.ident(*var).clone();
                // A `let` that borrows a local saves its copy here (see `borrows_a_local`).
                let copied = self.scope_depth > 0
                    && !self.primal_only
                    && self.borrows_a_local(value)
                    && self.saves_local(*var);
                // A reference to a location that the reverse sweep reads refers to a copy: the
                // location may be assigned while the reverse sweep still reads the reference
                // (`let r = &u; .. u = next;`).
                let read_later = self.is_needed(*var)
                    || self
                        .needed_in_scope
                        .as_ref()
                        .is_none_or(|n| n.contains(var));
                let of_location = read_later
                    && matches!(value, Value::Use(Operand::Ref(of, ..))
                        if self.body.var(*of).is_location);
                let value = match &self.given_result {
                    Some((given, holder)) if given == var => quote!(#holder),
                    _ => self.forward_let_value(*var, value, span),
                };
                let mutability = self.body.var(*var).is_location.then(|| quote!(mut));
                let ty = ty.as_ref().map(|t| quote!(: #t));
                let mut out = if of_location {
                    let copy = format_ident!("__copy{}", var.0, span = Span::mixed_site());
                    quote_spanned! {span=>
                        let #copy = ::std::borrow::ToOwned::to_owned(#value);
                        let #mutability #ident #ty = &#copy;
                    }
                } else {
                    quote_spanned!(span=> let #mutability #ident #ty = #value;)
                };
                if copied {
                    let tape = self.var_tape(*var);
                    let push = self.push_to(&tape);
                    out.extend(quote!(#push(::std::borrow::ToOwned::to_owned(#ident));));
                }
                out
            }
            StmtKind::Declare { var, ty } => {
                let ident = self.ident(*var).clone();
                let ty = ty.as_ref().map(|t| quote!(: #t));
                // Read where rustc cannot prove it assigned: a default value first (see
                // `analysis::buffers::maybe_unassigned`).
                let read_later = self.is_needed(*var)
                    || self
                        .needed_in_scope
                        .as_ref()
                        .is_none_or(|n| n.contains(var));
                if self.maybe_unassigned.contains(var) && read_later {
                    quote_spanned!(span=> let mut #ident #ty = ::core::default::Default::default();)
                } else {
                    quote_spanned!(span=> let mut #ident #ty;)
                }
            }
            StmtKind::Assign { var, value } => {
                let ident = self.ident(*var).clone();
                let value = self.forward_value(value, span);
                let taped = matches!(self.restore_of(stmt, *var), Restore::Tape);
                if taped && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    // The new value first: it may read the old one (`s = s;`).
                    let new = Ident::new("__new", Span::mixed_site());
                    let push = self.push_to(&tape);
                    quote_spanned!(span=> let #new = #value; #push(::core::mem::replace(&mut #ident, #new));)
                } else {
                    quote_spanned!(span=> #ident = #value;)
                }
            }
            StmtKind::SetIndex { base, index, value } => {
                let ident = self.ident(*base).clone();
                let index = self.forward_operand_by_value(index);
                let value = self.forward_operand_by_value(value);
                if self.is_needed(*base) && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    let push = self.push_to(&tape);
                    quote_spanned!(span=> #push(::core::mem::replace(&mut #ident[#index], #value));)
                } else {
                    quote_spanned!(span=> #ident[#index] = #value;)
                }
            }
            StmtKind::Opaque { tokens, .. } => tokens.clone(),
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let cond = self.forward_operand_by_value(cond);
                self.branch_depth += 1;
                let then_tokens = self.forward_block(then_block, true);
                let else_tokens = self.forward_block(else_block, true);
                self.branch_depth -= 1;
                quote_spanned!(span=> if #cond { #then_tokens } else { #else_tokens })
            }
            StmtKind::For { var, range, body } if self.checkpointed(stmt) => {
                let ident = self.ident(*var).clone();
                let range_value = self.forward_operand_by_value(range);
                let snapshot = self.checkpoint_save(body);
                self.loop_depth += 1;
                self.primal_only = true;
                let body = self.forward_block(body, true);
                self.primal_only = false;
                self.loop_depth -= 1;
                quote_spanned!(span=> for #ident in #range_value { #snapshot #body })
            }
            StmtKind::Loop { go, body } if self.checkpointed(stmt) => {
                let go = self.ident(*go).clone();
                let count = self.loop_count(stmt);
                let snapshot = self.checkpoint_save(body);
                self.loop_depth += 1;
                self.primal_only = true;
                let body = self.forward_block(body, true);
                self.primal_only = false;
                self.loop_depth -= 1;
                quote_spanned! {span=>
                    let mut #count: usize = 0;
                    while #go {
                        #count += 1;
                        #snapshot
                        #body
                    }
                }
            }
            StmtKind::For { var, range, body } => {
                let ident = self.ident(*var).clone();
                let range_value = self.forward_operand_by_value(range);
                // A `for` knows its trip count: the tapes its body saves to once in every
                // iteration are sized before it runs, and saved to without a path that grows
                // them.
                self.loop_depth += 1;
                let framed = range.var().is_some();
                if framed {
                    self.loop_frames.push(super::LoopFrame {
                        loop_depth: self.loop_depth,
                        branch_depth: self.branch_depth,
                        tapes: Vec::new(),
                    });
                }
                let body = self.forward_block(body, true);
                let tapes = if framed {
                    self.loop_frames
                        .pop()
                        .map(|frame| frame.tapes)
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                self.loop_depth -= 1;
                let reserve = self.reserve_for_loop(range, &tapes);
                quote_spanned!(span=> #reserve for #ident in #range_value { #body })
            }
            StmtKind::Loop { go, body } => {
                let go = self.ident(*go).clone();
                let count = self.loop_count(stmt);
                self.loop_depth += 1;
                let body = self.forward_block(body, true);
                self.loop_depth -= 1;
                let mut out = quote_spanned! {span=>
                    let mut #count: usize = 0;
                    while #go {
                        #count += 1;
                        #body
                    }
                };
                if self.scope_depth > 0 && !self.primal_only {
                    let tape = self.new_tape(format!("__save_{count}"));
                    let push = self.push_to(&tape);
                    out.extend(quote!(#push(#count);));
                }
                out
            }
            StmtKind::Push { base, value } => {
                let ident = self.ident(*base).clone();
                let value = self.forward_operand_by_value(value);
                let mut out = TokenStream::new();
                if self.lengths_may_drift() && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    let push = self.push_to(&tape);
                    out.extend(quote!(#push(#ident.len());));
                }
                out.extend(quote_spanned!(span=> #ident.push(#value);));
                out
            }
        }
    }
}
