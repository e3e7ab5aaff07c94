//! The forward sweep: the primal computation, what it saves, and how it passes operands.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::BinOp;

use super::tape::Restore;
use super::{rt, Generator};
use crate::ir::{Block, MethodKind, Operand, Stmt, StmtKind, UnOp, Value, VarId};

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
                    out.extend(quote!(#tape.push(#ident);));
                }
            }
        }
        out
    }

    fn forward_stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let span = stmt.span;
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
                    && matches!(value, Value::Use(Operand::Ref(of, _))
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
                    out.extend(quote!(#tape.push(::std::borrow::ToOwned::to_owned(#ident));));
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
                    quote_spanned!(span=> let #new = #value; #tape.push(::core::mem::replace(&mut #ident, #new));)
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
                    quote_spanned!(span=> #tape.push(::core::mem::replace(&mut #ident[#index], #value));)
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
                let then_tokens = self.forward_block(then_block, true);
                let else_tokens = self.forward_block(else_block, true);
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
                self.loop_depth += 1;
                let outer = self.loop_depth == 1;
                if outer {
                    self.outer_loop_tapes.clear();
                }
                let body = self.forward_block(body, true);
                self.loop_depth -= 1;
                // An outermost `for` knows its trip count: the tapes it fills once per iteration
                // are sized up front.
                let reserve = if outer && !self.primal_only {
                    let tapes = std::mem::take(&mut self.outer_loop_tapes);
                    let range_var = range.var().map(|v| self.ident(v).clone());
                    match range_var {
                        Some(r) if !tapes.is_empty() => {
                            let trips = Ident::new("__trips", Span::mixed_site());
                            quote! {
                                let #trips = ::core::iter::Iterator::size_hint(&#r).0;
                                #(#tapes.reserve(#trips);)*
                            }
                        }
                        _ => TokenStream::new(),
                    }
                } else {
                    TokenStream::new()
                };
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
                    out.extend(quote!(#tape.push(#count);));
                }
                out
            }
            StmtKind::Push { base, value } => {
                let ident = self.ident(*base).clone();
                let value = self.forward_operand_by_value(value);
                let mut out = TokenStream::new();
                if self.lengths_may_drift() && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    out.extend(quote!(#tape.push(#ident.len());));
                }
                out.extend(quote_spanned!(span=> #ident.push(#value);));
                out
            }
        }
    }

    /// An operand passed by value: a variable the reverse sweep still reads is cloned (free for
    /// floats), anything else is moved.
    pub(super) fn forward_operand_by_value(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) if self.body.var(*v).place => {
                let ident = self.ident(*v);
                if self.body.var(*v).user_ref {
                    quote!(#ident)
                } else {
                    quote!(::core::clone::Clone::clone(#ident))
                }
            }
            Operand::Var(v) if self.body.var(*v).user_ref => {
                let ident = self.ident(*v);
                quote!(&#ident)
            }
            Operand::Var(v) => {
                let var = self.body.var(*v);
                let ident = &var.ident;
                // The reverse sweep still reads it, for its value or its shape (`u = next;`
                // moves `next`, whose adjoint is then shaped like it): copy instead of moving.
                let read_later = self.is_needed(*v)
                    || self.needed_in_scope.as_ref().is_none_or(|n| n.contains(v));
                if !var.is_ref && read_later {
                    quote!(::core::clone::Clone::clone(&#ident))
                } else {
                    quote!(#ident)
                }
            }
            Operand::Ref(v, span) => {
                let ident = self.ident(*v);
                if self.body.var(*v).is_ref {
                    quote!(#ident)
                } else {
                    quote_spanned!(*span=> &#ident)
                }
            }
            Operand::Const(c) => c.clone(),
        }
    }

    /// An operand of an arithmetic operator: by value when its type is `Copy`, else by reference,
    /// chosen by the runtime's `Operand` (see `nabla_runtime::operand`). Nothing is moved.
    fn forward_operand_borrowed(&self, op: &Operand) -> TokenStream {
        match op {
            // A place holds a reference already: the field itself is the operand, by value
            // when it is `Copy` (`net.scale * x`, also for a generic `T: Real`).
            Operand::Var(v) if self.body.var(*v).place => {
                let ident = self.ident(*v);
                let rt = rt();
                quote!((&#rt::Operand(#ident)).value())
            }
            Operand::Var(v) | Operand::Ref(v, _) => {
                let ident = self.ident(*v);
                let rt = rt();
                quote!((&#rt::Operand(&#ident)).value())
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// A method receiver: method-call syntax borrows or copies as the method needs.
    fn forward_receiver(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            Operand::Ref(v, _) => {
                let ident = self.ident(*v);
                quote!((&#ident))
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// The value a `let` gives `var`: a reference to the place for place reads.
    pub(super) fn forward_let_value(&self, var: VarId, value: &Value, span: Span) -> TokenStream {
        if !self.body.var(var).place {
            return self.forward_value(value, span);
        }
        let place = match value {
            Value::Field { base, member } => {
                let b = self.forward_receiver(base);
                quote_spanned!(span=> #b.#member)
            }
            Value::Index { .. } => self.forward_value(value, span),
            // `let l = &net.layers[0];`: already a reference.
            other => return self.forward_value(other, span),
        };
        quote_spanned!(span=> &(#place))
    }

    pub(super) fn forward_value(&self, value: &Value, span: Span) -> TokenStream {
        match value {
            Value::Use(op) => self.forward_operand_by_value(op),
            Value::Binary { op, lhs, rhs } => {
                let comparison = matches!(
                    op,
                    BinOp::Lt(_)
                        | BinOp::Le(_)
                        | BinOp::Gt(_)
                        | BinOp::Ge(_)
                        | BinOp::Eq(_)
                        | BinOp::Ne(_)
                );
                let (l, r) = if comparison {
                    // Both sides at the same level of reference, as `PartialOrd` wants.
                    (self.forward_compared(lhs), self.forward_compared(rhs))
                } else {
                    (
                        self.forward_operand_borrowed(lhs),
                        self.forward_operand_borrowed(rhs),
                    )
                };
                quote_spanned!(span=> #l #op #r)
            }
            Value::Unary { op, arg } => match op {
                UnOp::Neg => {
                    let a = self.forward_operand_borrowed(arg);
                    quote_spanned!(span=> -(#a))
                }
                UnOp::Not => {
                    let a = self.forward_operand_by_value(arg);
                    quote_spanned!(span=> !#a)
                }
                UnOp::Deref => match arg {
                    Operand::Var(v) if !self.body.var(*v).is_ref => {
                        // A loop element bound by value where the user holds a reference: `*x`
                        // is the value itself (a `Copy` element, or the user's `*x` would move).
                        let ident = self.ident(*v);
                        quote!(#ident)
                    }
                    _ => {
                        let a = self.forward_receiver(arg);
                        quote_spanned!(span=> *#a)
                    }
                },
            },
            Value::Method {
                receiver,
                method,
                kind: MethodKind::Map(index),
                ..
            } => {
                let recv = self.forward_receiver(receiver);
                let closure = &self.body.closures[*index].forward;
                quote_spanned!(span=> #recv.#method(#closure))
            }
            Value::Method {
                receiver,
                method,
                args,
                qualified: Some(ty),
                ..
            } => {
                let recv = self.forward_operand_by_value(receiver);
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                if crate::methods::takes_shape_first(&method.to_string(), args.len()) {
                    quote_spanned!(span=> #ty::#method(#(#args,)* #recv))
                } else {
                    quote_spanned!(span=> #ty::#method(#recv, #(#args),*))
                }
            }
            Value::Method {
                receiver,
                method,
                turbofish,
                args,
                ..
            } => {
                let recv = self.forward_receiver(receiver);
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #recv.#method #turbofish(#(#args),*))
            }
            Value::Call { func, args } => {
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #func(#(#args),*))
            }
            Value::Construct { func, args } => {
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #func(#(#args),*))
            }
            Value::Cast { arg, ty } => {
                let a = match arg {
                    Operand::Var(v) if self.body.var(*v).place => {
                        let ident = self.ident(*v);
                        quote!((*#ident))
                    }
                    _ => self.forward_receiver(arg),
                };
                quote_spanned!(span=> #a as #ty)
            }
            Value::Index { base, index } if !self.activity.operand_varied(base) => {
                // An element of data, which may not be `Copy` (a row of `&[Vec<f64>]`): by value
                // when it is `Copy`, else by reference, as for operators.
                let b = self.forward_receiver(base);
                let i = self.forward_operand_by_value(index);
                let rt = rt();
                quote_spanned!(span=> (&#rt::Operand(&#b[#i])).value())
            }
            Value::Index { base, index } => {
                let b = self.forward_receiver(base);
                let i = self.forward_operand_by_value(index);
                quote_spanned!(span=> #b[#i])
            }
            // A copy, so that it lives as long as any other value and the reverse sweep may keep it.
            Value::Part { base, range } => {
                let b = self.forward_receiver(base);
                let r = self.forward_operand_by_value(range);
                quote_spanned!(span=> (#b[#r]).to_vec())
            }
            // A field of a local, by value; fields of parameters are places (`forward_let_value`).
            Value::Field { base, member } => {
                let b = self.forward_receiver(base);
                quote_spanned!(span=> ::core::clone::Clone::clone(&#b.#member))
            }
            Value::Tuple(items) => {
                let items = items.iter().map(|i| self.forward_operand_by_value(i));
                quote_spanned!(span=> (#(#items,)*))
            }
            Value::Array(items) => {
                let items = items.iter().map(|i| self.forward_operand_by_value(i));
                quote_spanned!(span=> [#(#items),*])
            }
            Value::Struct { path, fields } => {
                let fields = fields.iter().map(|(member, op)| {
                    let value = self.forward_operand_by_value(op);
                    quote!(#member: #value)
                });
                quote_spanned!(span=> #path { #(#fields,)* })
            }
            Value::Opaque { tokens, .. } => tokens.clone(),
        }
    }

    /// `v` as one reference to its value: as it is if it holds a reference, else borrowed.
    pub(super) fn as_reference(&self, v: VarId) -> TokenStream {
        let var = self.body.var(v);
        let ident = &var.ident;
        if var.is_ref {
            quote!(#ident)
        } else {
            quote!(&#ident)
        }
    }

    /// `v` as a (copied) value: dereferenced if it holds a reference.
    pub(super) fn as_value(&self, v: VarId) -> TokenStream {
        let var = self.body.var(v);
        let ident = &var.ident;
        if var.is_ref {
            quote!(*#ident)
        } else {
            quote!(#ident)
        }
    }

    /// A compared operand: both sides as references, as `PartialOrd` wants.
    fn forward_compared(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => self.as_reference(*v),
            Operand::Const(c) => quote!(&(#c)),
        }
    }
}
