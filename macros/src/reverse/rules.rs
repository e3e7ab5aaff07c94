//! The reverse rules of values: arithmetic, methods, calls, constructors, casts and indexing.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::BinOp;

use super::adjoint::LiteralKind;
use super::{generate_with_result, located_at, rt, Generator};
use crate::ir::{MethodKind, Operand, StmtKind, UnOp, Value, VarId};
use crate::methods::{Reads, FLOAT_METHODS, RESULT_ONLY_RULES, TRAIT_METHODS};

impl<'a> Generator<'a> {
    /// The contributions of one statement `dst = value` to its operands' adjoints, given the
    /// adjoint `d` of `dst`.
    pub(super) fn reverse_value(
        &mut self,
        value: &Value,
        dst: VarId,
        d: &Ident,
        span: Span,
    ) -> TokenStream {
        let rt = rt();
        let rules = quote!(#rt::rules);
        match value {
            Value::Use(op) => self.contribute_to(op, quote!(#d)),
            Value::Binary { op, lhs, rhs } => {
                let (trait_name, name) = match op {
                    BinOp::Add(_) => ("AddRule", "add"),
                    BinOp::Sub(_) => ("SubRule", "sub"),
                    BinOp::Mul(_) => ("MulRule", "mul"),
                    BinOp::Div(_) => ("DivRule", "div"),
                    _ => return TokenStream::new(),
                };
                let trait_ident = Ident::new(trait_name, span);
                let linear = matches!(op, BinOp::Add(_) | BinOp::Sub(_));
                let mut out = TokenStream::new();
                for (operand, side) in [(lhs, "lhs"), (rhs, "rhs")] {
                    if !self.activity.operand_active(operand) {
                        continue;
                    }
                    let rule = format_ident!("{}_adjoint_{}", name, side, span = span);
                    let (l, r) = if linear {
                        // `+` and `-` pass the cotangent through, whatever the operands' values:
                        // the cotangent's own type picks the rule, and no value is read (or saved).
                        (quote!(&#d), quote!(&#d))
                    } else if matches!(op, BinOp::Mul(_)) {
                        // d(a·b)/da is b and d(a·b)/db is a: the operand being differentiated is
                        // passed for its type only.
                        if side == "lhs" {
                            (self.operand_shape_ref(lhs), self.read_float_ref(rhs))
                        } else {
                            (self.read_float_ref(lhs), self.operand_shape_ref(rhs))
                        }
                    } else {
                        (self.read_float_ref(lhs), self.read_float_ref(rhs))
                    };
                    let Some(target) = operand.var() else {
                        continue;
                    };
                    if self.declared.contains(&target) || self.is_slot(target) {
                        // A later contribution, or one into a field of a gradient: the rule adds
                        // into the adjoint in place.
                        let accumulate = format_ident!("{}_accumulate_{}", name, side, span = span);
                        let rules = rules.clone();
                        // A slot lends its target through `slot_target`, which a slot of data
                        // answers too (see the runtime's `data_slot`).
                        let via_slot = self.is_slot(target);
                        out.extend(self.add_into(target, |acc| {
                            let acc = if via_slot {
                                quote!(#rt::slot_target(#acc))
                            } else {
                                acc
                            };
                            quote_spanned!(span=> #rules::#trait_ident::#accumulate(#l, #r, &#d, #acc);)
                        }));
                    } else {
                        let c = quote_spanned!(span=> #rules::#trait_ident::#rule(#l, #r, &#d));
                        out.extend(self.contribute_to(operand, c));
                    }
                }
                out
            }
            Value::Unary { op, arg } => match op {
                UnOp::Neg => {
                    // Linear, like `+`: the cotangent's type picks the rule.
                    let c = quote_spanned!(span=> #rules::NegRule::neg_adjoint(&#d, &#d));
                    self.contribute_to(arg, c)
                }
                UnOp::Deref => self.contribute_to(arg, quote!(#d)),
                UnOp::Not => TokenStream::new(),
            },
            Value::Method {
                receiver,
                args,
                kind,
                method,
                turbofish,
                ..
            } => match kind {
                MethodKind::Float(index) => {
                    let method = &FLOAT_METHODS[*index];
                    let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                    let mut out = TokenStream::new();
                    for (k, rule) in method.rules.iter().enumerate() {
                        let Some(rule) = rule else { continue };
                        if !self.activity.operand_active(operands[k]) {
                            continue;
                        }
                        let (values, y) = match (operands.as_slice(), method.reads) {
                            // One operand: the rule reads its input, its output, or neither; the
                            // other is passed in its place (same type) so it need not be kept.
                            ([x], Reads::Output) => {
                                let y = self.read_value(&Operand::Var(dst));
                                let _ = x;
                                (vec![y.clone()], y)
                            }
                            ([x], Reads::Input) => {
                                let x = self.read_value(x);
                                (vec![x.clone()], x)
                            }
                            ([x], Reads::Neither) => {
                                let x = self.operand_shape_value(x);
                                (vec![x.clone()], x)
                            }
                            // A literal of the wrong kind is the function's own type error:
                            // the integer exponent of `powi`, floats elsewhere.
                            _ => (
                                operands
                                    .iter()
                                    .enumerate()
                                    .map(|(i, o)| {
                                        let kind = if method.rules[i].is_none() {
                                            LiteralKind::Integer
                                        } else {
                                            LiteralKind::Float
                                        };
                                        self.read_value_of_kind(o, kind)
                                    })
                                    .collect(),
                                self.read_value(&Operand::Var(dst)),
                            ),
                        };
                        let rule = Ident::new(rule, span);
                        let c = quote_spanned!(span=> #rules::scalar::#rule(#(#values,)* #y, #d));
                        out.extend(self.contribute_to(operands[k], c));
                    }
                    out
                }
                MethodKind::Trait(index) => {
                    let method = &TRAIT_METHODS[*index];
                    let trait_ident = Ident::new(method.trait_name, span);
                    let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                    let mut out = TokenStream::new();
                    for (k, rule) in method.rules.iter().enumerate() {
                        let Some(rule) = rule else { continue };
                        if !self.activity.operand_active(operands[k]) {
                            continue;
                        }
                        let mut refs: Vec<TokenStream> = if RESULT_ONLY_RULES.contains(rule) {
                            Vec::new()
                        } else {
                            operands.iter().map(|o| self.read_ref(o)).collect()
                        };
                        // The receiver picks the rule: reborrowed at the user's expression, so
                        // that a type without one is reported there.
                        if let Some(receiver) = refs.first_mut() {
                            *receiver = quote_spanned!(span=> &*(#receiver));
                        }
                        let y = self.read_ref(&Operand::Var(dst));
                        let rule = Ident::new(rule, span);
                        let c =
                            quote_spanned!(span=> #rules::#trait_ident::#rule(#(#refs,)* #y, &#d));
                        out.extend(self.contribute_to(operands[k], c));
                    }
                    out
                }
                // `w.to_vec()` is the whole of `w` as a `Vec`, whatever `w` is (an array's
                // gradient is an array): its cotangent goes in as a part's does.
                MethodKind::Identity if method == "to_vec" => match receiver.var() {
                    Some(b) if !self.activity.is_active(b) => TokenStream::new(),
                    Some(b) if self.is_slot(b) => self.add_into(b, |acc| {
                        quote_spanned!(span=> #rt::slot_accumulate(#acc, .., #d);)
                    }),
                    Some(b) => self.add_into(b, |acc| {
                        quote_spanned!(span=> #rules::PartRule::part_accumulate(#acc, .., #d);)
                    }),
                    None => TokenStream::new(),
                },
                MethodKind::Identity => self.contribute_to(receiver, quote!(#d)),
                MethodKind::Map(index) => {
                    let captures_active = self.body.closures[*index]
                        .capture_params
                        .iter()
                        .any(|v| self.activity.is_active(*v));
                    if !self.activity.operand_active(receiver) && !captures_active {
                        return TokenStream::new();
                    }
                    let closure = &self.body.closures[*index];
                    // Enclosing variables the closure reads: the pullback reads them too.
                    for (v, _) in &closure.captures {
                        self.reads.insert(*v);
                    }
                    let active_captures = active_captures(closure, self.activity);
                    let accumulators = capture_accumulators(&active_captures);
                    let (pullback, reads_element) = self.map_pullback(*index);
                    let mut out = TokenStream::new();
                    // Each captured value's gradient is summed over the elements.
                    for ((_, v), acc) in active_captures.iter().zip(&accumulators) {
                        let shape = self.shape_ref(*v);
                        out.extend(quote!(let mut #acc = #rt::Tangent::zero_tangent(#shape);));
                    }
                    let y = self.read_ref(&Operand::Var(dst));
                    // When the pullback ignores the elements, pass the result in their place (same
                    // shape), so the receiver need not be kept for the reverse sweep.
                    let r = if reads_element {
                        self.read_ref(receiver)
                    } else {
                        y.clone()
                    };
                    let c =
                        quote_spanned!(span=> #rules::MapRule::map_adjoint(#r, #y, &#d, #pullback));
                    let into_slot = receiver.var().is_some_and(|v| self.is_slot(v));
                    if self.activity.operand_active(receiver) && into_slot && captures_active {
                        // A field's contribution is added behind the field's slot, which a
                        // `#[no_grad]` field does not lend: the pullback, which also sums the
                        // captured values' gradients, runs before, whatever the field is.
                        let mapped = format_ident!("__mapped{}", dst.0, span = Span::mixed_site());
                        out.extend(quote!(let #mapped = #c;));
                        out.extend(self.contribute_to(receiver, quote!(#mapped)));
                    } else if self.activity.operand_active(receiver) {
                        out.extend(self.contribute_to(receiver, c));
                    } else {
                        out.extend(quote!(let _ = #c;));
                    }
                    for ((_, v), acc) in active_captures.iter().zip(&accumulators) {
                        out.extend(self.contribute(*v, quote!(#acc)));
                    }
                    out
                }
                MethodKind::User => {
                    let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                    if !operands.iter().any(|a| self.activity.operand_active(a)) {
                        return TokenStream::new();
                    }
                    let Some(r) = receiver.var() else {
                        return TokenStream::new();
                    };
                    self.reads.insert(r);
                    let recv = self.ident(r).clone();
                    let call_args = self.call_arguments(args);
                    let pullback = crate::emit::method_pullback_name(method);
                    let g = Ident::new("__g", Span::mixed_site());
                    // Method syntax, so that auto-referencing finds `&self` and `self` methods
                    // alike; a method that is not `#[differentiable]` has no pullback, and rustc
                    // says so at the user's method name.
                    let mut out = quote_spanned!(span=> let (_, #g) = #recv.#pullback #turbofish(#(#call_args,)* #d););
                    out.extend(self.call_gradients(&operands, span));
                    out
                }
                MethodKind::Step | MethodKind::Unknown | MethodKind::Query => TokenStream::new(),
            },
            Value::Call { func, args } => {
                if !args.iter().any(|a| self.activity.operand_active(a)) {
                    return TokenStream::new();
                }
                let mut path = func.path.clone();
                let generics = path
                    .segments
                    .last_mut()
                    .map(|s| std::mem::replace(&mut s.arguments, syn::PathArguments::None));
                let pullback = quote_spanned!(span=> __vjp);
                let generics = generics.filter(|g| !g.is_none()).map(|g| match g {
                    syn::PathArguments::AngleBracketed(mut a) => {
                        a.colon2_token = Some(Default::default());
                        quote!(#a)
                    }
                    other => quote!(#other),
                });
                let call_args = self.call_arguments(args);
                let g = Ident::new("__g", Span::mixed_site());
                // `<path>::__vjp`, not `path::__vjp`: when the callee is a plain function with no
                // companion, rustc then says "expected type, found function `path`" at the user's
                // callee (rather than "cannot find module or crate"); see docs/errors.md.
                let mut out = match crate::emit::associated_pullback(&path) {
                    Some(associated) => {
                        quote_spanned!(span=> let (_, #g) = #associated #generics(#(#call_args,)* #d);)
                    }
                    None => {
                        quote_spanned!(span=> let (_, #g) = <#path>::#pullback #generics(#(#call_args,)* #d);)
                    }
                };
                out.extend(self.call_gradients(&args.iter().collect::<Vec<_>>(), span));
                out
            }
            Value::Construct { args, .. } => {
                let mut out = TokenStream::new();
                for (k, arg) in args.iter().enumerate() {
                    let c = quote_spanned!(span=> #rules::NewRule::new_adjoint(&#d, #k));
                    out.extend(self.contribute_to(arg, c));
                }
                out
            }
            Value::Cast { arg, ty } => {
                let a = self.read_ref(arg);
                let c = quote_spanned!(span=> #rules::CastRule::<#ty>::cast_adjoint(#a, #d));
                self.contribute_to(arg, c)
            }
            Value::Index { base, index } => {
                let Some(b) = base.var().filter(|b| self.activity.is_active(*b)) else {
                    return TokenStream::new();
                };
                if self.is_slot(dst) {
                    // An element slot: its uses added into the element already (see `slots.rs`).
                    return TokenStream::new();
                }
                let i = self.read_value(index);
                // A local's read is located at the user's read, where rustc reports a buffer of
                // elements that cannot carry gradient (a parameter's is reported at the
                // parameter, and once is enough).
                let local = !matches!(self.body.var(b).origin, crate::ir::Origin::Param(_));
                let at = |call: TokenStream| if local { located_at(call, span) } else { call };
                if let Some(element) = self.promoted.get(&b) {
                    quote!(#rt::accumulate_taken(&mut #element, #d);)
                } else if self.is_slot(b) {
                    // The element of a field: through the functions a slot of data answers too.
                    let add = if self.lengths_may_drift() || self.stencils.contains(&b) {
                        quote!(slot_accumulate)
                    } else {
                        quote!(slot_accumulate_held)
                    };
                    self.add_into(b, |acc| at(quote!(#rt::#add(#acc, #i, #d);)))
                } else if self.lengths_may_drift() || self.stencils.contains(&b) {
                    self.add_into(b, |acc| {
                        at(quote!(#rules::IndexRule::index_accumulate(#acc, #i, #d);))
                    })
                } else {
                    self.add_into(b, |acc| {
                        at(quote!(#rules::IndexRule::index_accumulate_held(#acc, #i, #d);))
                    })
                }
            }
            Value::Part { base, range } => {
                let Some(b) = base.var().filter(|b| self.activity.is_active(*b)) else {
                    return TokenStream::new();
                };
                let r = self.read_value(range);
                if self.is_slot(b) {
                    self.add_into(
                        b,
                        |acc| quote_spanned!(span=> #rt::slot_accumulate(#acc, #r, #d);),
                    )
                } else {
                    self.add_into(
                        b,
                        |acc| quote_spanned!(span=> #rules::PartRule::part_accumulate(#acc, #r, #d);),
                    )
                }
            }
            Value::Field { base, member } => {
                // The field's cotangent goes into the same field of the base's gradient, which
                // is a value of the base's own type (a struct deriving `Parameters`, a tuple).
                let Some(b) = base.var().filter(|b| self.activity.is_active(*b)) else {
                    return TokenStream::new();
                };
                if self.is_slot(dst) {
                    // Its uses added into the field already (see `slots.rs`).
                    return TokenStream::new();
                }
                let add = field_method("add", member);
                self.add_into(b, |acc| quote_spanned!(span=> (#acc).#add(#d);))
            }
            Value::Struct { fields, .. } => {
                // Each field's value receives that field of the struct's gradient, moved out of
                // it field by field.
                let mut out = TokenStream::new();
                for (member, op) in fields {
                    if self.activity.operand_active(op) {
                        let part = field_method("part", member);
                        // Checked to be a gradient: a `#[no_grad]` field has none to give.
                        // Spanned at the field's name in the literal, where the error belongs.
                        let at = syn::spanned::Spanned::span(member);
                        let d_here = Ident::new(&d.to_string(), Span::mixed_site().located_at(at));
                        let taken = quote_spanned!(at=> #rt::field_gradient(#d_here.#part()));
                        out.extend(self.contribute_to(op, taken));
                    }
                }
                out
            }
            Value::Array(items) => {
                // Element `k`'s value receives element `k` of the array's gradient.
                let mut out = TokenStream::new();
                for (k, op) in items.iter().enumerate() {
                    if self.activity.operand_active(op) {
                        let part = quote_spanned!(span=> ::core::clone::Clone::clone(&#d[#k]));
                        out.extend(self.contribute_to(op, part));
                    }
                }
                out
            }
            // Item `k` receives item `k` of the tuple's cotangent (a returned tuple; the checks
            // refuse any other tuple of values that carry gradient).
            Value::Tuple(items) => {
                let mut out = TokenStream::new();
                for (k, op) in items.iter().enumerate() {
                    if self.activity.operand_active(op) {
                        let k = syn::Index::from(k);
                        let part = quote_spanned!(span=> ::core::clone::Clone::clone(&#d.#k));
                        out.extend(self.contribute_to(op, part));
                    }
                }
                out
            }
            Value::Opaque { .. } => TokenStream::new(),
        }
    }
}

impl Generator<'_> {
    /// The pullback of the body's `map` closure `index`, and whether it reads the element: made
    /// once, for the prediction of what the sweeps read and for every generation run.
    pub(super) fn map_pullback(&self, index: usize) -> (TokenStream, bool) {
        if let Some(made) = self.closure_pullbacks.borrow().get(&index) {
            return made.clone();
        }
        let closure = &self.body.closures[index];
        let activity = self.activity;
        let accumulators = capture_accumulators(&active_captures(closure, activity));
        let made = closure_pullback(closure, &|v| activity.is_active(v), &accumulators);
        self.closure_pullbacks
            .borrow_mut()
            .insert(index, made.clone());
        made
    }

    /// The arguments of a call as the user passed them (a reference stays one), for the
    /// callee's pullback.
    fn call_arguments(&mut self, args: &[Operand]) -> Vec<TokenStream> {
        args.iter()
            .map(|a| match a {
                Operand::Var(v) => {
                    self.reads.insert(*v);
                    let ident = self.ident(*v);
                    let var = self.body.var(*v);
                    if var.place && var.user_ref {
                        quote!(#ident)
                    } else if var.place {
                        quote!(::core::clone::Clone::clone(#ident))
                    } else if var.user_ref {
                        quote!(&#ident)
                    } else if var.is_ref {
                        // A reference is copied as it is, so that it still coerces to the
                        // parameter's type (`&Vec<f64>` to `&[f64]`).
                        quote!(#ident)
                    } else {
                        quote!(::core::clone::Clone::clone(&#ident))
                    }
                }
                Operand::Ref(..) => self.read_ref(a),
                Operand::Const(c) => c.clone(),
            })
            .collect()
    }

    /// Sends entry `k` of the gradient tuple `__g` a pullback returned to operand `k`.
    fn call_gradients(&mut self, operands: &[&Operand], span: Span) -> TokenStream {
        let rt = rt();
        let mut out = TokenStream::new();
        for (k, a) in operands.iter().enumerate() {
            let k = syn::Index::from(k);
            if !self.activity.operand_active(a) {
                continue;
            }
            let g_here = Ident::new("__g", Span::mixed_site().located_at(span));
            // A field of a model goes straight into the field's gradient, which knows whether
            // the field is trained.
            if let Some(v) = a.var().filter(|v| self.is_slot(*v)) {
                let k = syn::Index {
                    index: k.index,
                    span,
                };
                let gradient = quote_spanned!(span=> #g_here.#k);
                out.extend(self.add_call_gradient_into_field(v, gradient, span));
                continue;
            }
            // An element or part of a field (`f(y, self.xs[1])`): the field's slot says
            // whether the `()` of a parameter that takes none is fine (data) or an error at the
            // call (a trained field), and that `()` becomes a zero of the argument's shape.
            if let Some(part) = a.var().and_then(|v| self.slot_parts.get(&v)).cloned() {
                let k = syn::Index {
                    index: k.index,
                    span,
                };
                if let Some(at) = &part.direct {
                    // Straight into the field, where data takes anything and a trained field
                    // a gradient of its element or part (see the runtime's `data_slot`).
                    let at = self.read_value(at);
                    out.extend(self.add_into(part.field, |slot| {
                        super::located_at(quote!(#rt::call_into(#slot, #at, #g_here.#k);), span)
                    }));
                    continue;
                }
                let field = part.field;
                out.extend(self.add_into(field, |slot| {
                    super::located_at(quote!(#rt::check_element_call(#slot, &#g_here.#k);), span)
                }));
                let like = self.operand_shape_ref(a);
                let taken = format_ident!("__call_gradient{}", k, span = Span::mixed_site());
                out.extend(quote_spanned!(span=>
                    let #taken = #rt::element_call_gradient(#g_here.#k, #like);
                ));
                out.extend(self.contribute_to(a, quote!(#taken)));
                continue;
            }
            // Bound on its own through `gradient_from_call`, so that a callee taking this
            // argument without gradient (its entry is `()`) is reported at the call, in
            // words, before anything else expects a float.
            // Added into a gradient declared before in one step, which has that one
            // requirement (see the runtime's `CallGradientInto`).
            if let Some(v) = a.var().filter(|v| {
                self.activity.is_active(*v) && self.declared.contains(v) && !self.is_slot(*v)
            }) {
                let d = self.adjoint(v);
                let g = quote_spanned!(span=> #g_here.#k);
                out.extend(super::located_at(
                    quote!(#rt::accumulate_call_gradient(&mut #d, #g);),
                    span,
                ));
                continue;
            }
            let taken = format_ident!("__call_gradient{}", k, span = Span::mixed_site());
            out.extend(quote_spanned!(span=> let #taken = #rt::gradient_from_call(#g_here.#k);));
            out.extend(self.contribute_to(a, quote!(#taken)));
        }
        out
    }
}

/// The method of a gradient value through which a field is reached: `__nabla_add_w`,
/// `__nabla_part_0` (generated by `#[derive(Parameters)]`, and by the runtime for tuples).
fn field_method(kind: &str, member: &syn::Member) -> Ident {
    match member {
        syn::Member::Named(ident) => {
            let name = syn::ext::IdentExt::unraw(ident);
            format_ident!("__nabla_{}_{}", kind, name, span = ident.span())
        }
        syn::Member::Unnamed(index) => {
            format_ident!("__nabla_{}_{}", kind, index.index, span = index.span)
        }
    }
}

fn mentions(tokens: &TokenStream, ident: &Ident) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *ident,
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), ident),
        _ => false,
    })
}

/// The captured values of a `map` closure that carry gradient, by their position among the
/// pullback's parameters (the element is position 0).
fn active_captures(
    closure: &crate::ir::Closure,
    activity: &crate::analysis::activity::Activity,
) -> Vec<(usize, VarId)> {
    closure
        .capture_params
        .iter()
        .enumerate()
        .filter(|(_, v)| activity.is_active(**v))
        .map(|(k, v)| (k + 1, *v))
        .collect()
}

/// The variables a `map` pullback adds the gradients of its active captures into, by capture
/// position.
fn capture_accumulators(active_captures: &[(usize, VarId)]) -> Vec<Ident> {
    active_captures
        .iter()
        .map(|(k, _)| format_ident!("__captured{}", k, span = Span::mixed_site()))
        .collect()
}

/// The scalar pullback of a `map` closure, `|x, y, dy| dx`, from the closure body's own sweeps.
/// The element's result `y` comes from the forward sweep, so the closure's last operation (often
/// the only one, such as `tanh`) is not computed again. Also says whether the pullback reads `x`.
/// The gradients of the active captured values (`accumulators`, in the order of the closure's
/// capture parameters that carry gradient) are added into those variables, once per element.
fn closure_pullback(
    closure: &crate::ir::Closure,
    captured_varied: &dyn Fn(VarId) -> bool,
    accumulators: &[Ident],
) -> (TokenStream, bool) {
    // The element is taken to carry gradient even where only captures do: its gradient is
    // then computed and dropped, and the pullback is the same for either.
    let sig = crate::closure::element_signature(closure, true, captured_varied);
    let activity = crate::analysis::activity::analyze(&closure.body, &sig);
    let cotangent = Ident::new("__element_cotangent", Span::mixed_site());
    let output = Ident::new("__element_value", Span::mixed_site());
    // Only a result computed once, at the top of the closure, can be taken as given.
    let given = closure.body.result.var().filter(|r| {
        !closure.body.var(*r).is_location
            && closure
                .body
                .block
                .iter()
                .any(|s| matches!(&s.kind, StmtKind::Let { var, .. } if var == r))
    });
    let sweeps = generate_with_result(
        &closure.body,
        &sig,
        &activity,
        &cotangent,
        given.map(|r| (r, output.clone())),
    );
    let x = &sig.params[0].ident;
    // Whether the pullback reads the element, in its reverse sweep or in the forward values it
    // computes again (`(x + b).tanh()` before a last `* s`).
    let reads_element = mentions(&sweeps.body, x);
    let body = &sweeps.body;
    let gradient = &sweeps.gradients[0];
    let rt = rt();
    let captured = sig
        .params
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, p)| p.active)
        .zip(accumulators)
        .map(|((k, _), acc)| {
            let g = &sweeps.gradients[k];
            quote!(#rt::Accumulate::accumulate(&mut #acc, #g);)
        });
    (
        quote!(|#x, #output, #cotangent| { #body #(#captured)* #gradient }),
        reads_element,
    )
}
