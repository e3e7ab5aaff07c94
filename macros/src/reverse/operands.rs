//! How the forward sweep writes values and passes operands: by value (a clone where the reverse
//! sweep still reads the variable), borrowed, as receivers, and as references.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::BinOp;

use super::{rt, Generator};
use crate::ir::{MethodKind, Operand, Origin, UnOp, Value, VarId};

impl Generator<'_> {
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
            // A primitive number is `Copy`: moving it copies it.
            Operand::Var(v) if self.is_primitive(*v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            Operand::Var(v) => {
                let var = self.body.var(*v);
                let ident = &var.ident;
                // The reverse sweep still reads it, for its value or its shape (`u = next;`
                // moves `next`, whose adjoint is then shaped like it): copy instead of moving.
                if !var.is_ref && self.read_later(*v) {
                    quote!(::core::clone::Clone::clone(&#ident))
                } else {
                    quote!(#ident)
                }
            }
            Operand::Ref(v, and, name) => {
                let mut ident = self.ident(*v).clone();
                // At the user's name, resolving as before: an error in the borrow is the one the
                // user's own `&b` gets, which rustc reports once.
                ident.set_span(ident.span().located_at(*name));
                if self.body.var(*v).is_ref {
                    quote!(#ident)
                } else {
                    quote_spanned!(*and=> &#ident)
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
            Operand::Var(v) if self.is_primitive(*v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            Operand::Var(v) | Operand::Ref(v, ..) => {
                let ident = self.ident(*v);
                let rt = rt();
                quote!((&#rt::Operand(&#ident)).value())
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// Whether the reverse sweep still reads `v`, for its value or its shape.
    fn read_later(&self, v: VarId) -> bool {
        self.is_needed(v) || self.needed_in_scope.as_ref().is_none_or(|n| n.contains(&v))
    }

    /// The left operand of an arithmetic operator. A variable the user named and nothing reads
    /// again is moved, as the user's `s + "!"` moves `s`: a `String` adds only by value, and the
    /// user's code reads `s` again only if it is `Copy`. Anything else is borrowed as
    /// [`Self::forward_operand_borrowed`] says (no clone of a matrix the reverse sweep reads).
    fn forward_left_operand(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) if self.moved_as_written(*v) && !self.read_later(*v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            _ => self.forward_operand_borrowed(op),
        }
    }

    /// A variable the user's code holds by value and names, whose value the user's `v + ..`
    /// moves (or copies).
    fn moved_as_written(&self, v: VarId) -> bool {
        let var = self.body.var(v);
        matches!(var.origin, Origin::Local | Origin::Param(_))
            && var.user_name.is_some()
            && !var.is_ref
            && !var.place
            && !var.user_ref
    }

    /// A variable of a primitive number type held by value (see `Generator::primitive`).
    fn is_primitive(&self, v: VarId) -> bool {
        let var = self.body.var(v);
        self.primitive.contains(&v) && !var.is_ref && !var.place && !var.user_ref
    }

    /// A method receiver: method-call syntax borrows or copies as the method needs.
    fn forward_receiver(&self, op: &Operand) -> TokenStream {
        match op {
            // A reference to a field the user's name holds by value (`let n = cfg.steps;`): read
            // through, a method finds the field's own (`n.min(3)` is `usize::min`, not `&usize`'s).
            Operand::Var(v) if self.body.var(*v).place && !self.body.var(*v).user_ref => {
                let ident = self.ident(*v);
                quote!((*#ident))
            }
            Operand::Var(v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            Operand::Ref(v, ..) => {
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
            // The element itself, borrowed where it lies: a borrow of a copy would be a
            // temporary, which a loop's tape cannot keep (`data.xs[i]` in a loop).
            Value::Index { base, index } => {
                let b = self.forward_receiver(base);
                let i = self.forward_operand_by_value(index);
                quote_spanned!(span=> #b[#i])
            }
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
                        self.forward_left_operand(lhs),
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
            Operand::Var(v) | Operand::Ref(v, ..) => self.as_reference(*v),
            Operand::Const(c) => quote!(&(#c)),
        }
    }
}
