//! Reductions of element sources, as loops that accumulate: `.sum()`, `.product()` and
//! `.fold(init, |acc, x| ..)`, of a source or of a `.map(|x| ..)` of one.

use std::collections::HashMap;

use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat};

use super::iter::{is_filterable, peel_filter, source_container, Source};
use super::Lowerer;
use crate::ir::{Kept, Operand, StmtKind, Value, VarId};

/// A reduction's starting value: a constant, or the user's expression (`fold(init, ..)`),
/// lowered once the source is known to be one nabla reads.
enum Init<'e> {
    Value(Operand),
    Written(&'e Expr),
}

/// What a reduction does with each element.
enum Step<'e> {
    /// `acc + term` (`sum`) or `acc * term` (`product`).
    Operator(BinOp),
    /// `acc = body`, with the closure's parameters bound to `acc` and the element.
    Fold {
        acc: &'e Pat,
        element: &'e Pat,
        body: &'e Expr,
    },
}

impl Lowerer<'_> {
    /// `.sum()` and `.product()` of a source (possibly mapped); `None` when the receiver is no
    /// source nabla reads. `float` says the turbofish names a float type (`sum::<f64>()`).
    /// `float`: the type a turbofish names (`.sum::<T>()`), whose zero or one starts the sum.
    pub(super) fn lower_reduction(
        &mut self,
        receiver: &Expr,
        product: bool,
        float: Option<syn::Type>,
    ) -> Option<Value> {
        let span = receiver.span();
        // Over a range the elements are integers, and over windows they are slices: the sum is
        // taken as a float one (written as a loop from `0.0`) only when the turbofish says so;
        // any other stays as written (see `Lowerer::lower_value`, `map`).
        if let Expr::MethodCall(m) = receiver {
            let indices_or_parts =
                is_range_source(&m.receiver) || crate::parts::is_parts_source(&m.receiver);
            if m.method == "map" && indices_or_parts && float.is_none() {
                return None;
            }
        }
        // A literal where the type is a float's own (it is inferred, or `f64`), the type's
        // constant for a type parameter, whose zero no literal is.
        let generic = float.filter(|t| !crate::parse::is_float(t));
        let (op, init) = match (product, generic) {
            (true, None) => (BinOp::Mul(syn::Token![*](span)), quote_spanned!(span=> 1.0)),
            (false, None) => (BinOp::Add(syn::Token![+](span)), quote_spanned!(span=> 0.0)),
            (true, Some(t)) => (
                BinOp::Mul(syn::Token![*](span)),
                quote_spanned!(span=> <#t as ::nabla::Real>::ONE),
            ),
            (false, Some(t)) => (
                BinOp::Add(syn::Token![+](span)),
                quote_spanned!(span=> <#t as ::nabla::Real>::ZERO),
            ),
        };
        self.reduce(
            receiver,
            Init::Value(Operand::Const(init)),
            Step::Operator(op),
        )
    }

    /// `source.fold(init, |acc, x| body)`, and `source.fold(init, f64::max)`, a function path
    /// folded as the closure that calls it.
    pub(super) fn lower_fold(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        let called;
        let c = match &m.args[1] {
            Expr::Closure(c) => c,
            Expr::Path(path) => {
                let span = path.span();
                called = syn::parse_quote_spanned!(span=> |__acc, __x| #path(__acc, __x));
                &called
            }
            _ => return None,
        };
        let [acc, element] = [c.inputs.first()?, c.inputs.get(1)?];
        if c.inputs.len() != 2 || !matches!(strip_type(acc), Pat::Ident(_)) {
            return None;
        }
        self.reduce(
            &m.receiver,
            Init::Written(&m.args[0]),
            Step::Fold {
                acc,
                element,
                body: &c.body,
            },
        )
    }

    fn reduce(&mut self, receiver: &Expr, init: Init<'_>, step: Step<'_>) -> Option<Value> {
        let (source_expr, map) = match receiver {
            Expr::MethodCall(m) if m.method == "map" && m.args.len() == 1 => match &m.args[0] {
                Expr::Closure(c) if c.inputs.len() == 1 => (&*m.receiver, Some(c)),
                _ => return None,
            },
            other => (other, None),
        };
        // `.filter(|v| ..)` before the map (or the reduction): a test of each element, which
        // carries no gradient and decides whether the element counts.
        let filtered_source = source_expr;
        let (source_expr, filter) = peel_filter(source_expr)?;
        if let Some(error) = self.filter_not_last(source_expr) {
            return Some(Value::Use(error));
        }
        // A mapped element is one value, bound to the fold's element by name: other patterns
        // are left as written, and the checks name the methods that have no derivative.
        if let (Some(_), Step::Fold { element, .. }) = (map, &step) {
            if !matches!(strip_type(element), Pat::Ident(_) | Pat::Wild(_)) {
                return None;
            }
        }
        if self.is_opaque_param(source_expr) {
            // An iterator is run once: the reverse sweep could neither index it nor run it again.
            return Some(Value::Use(self.unsupported(
                source_expr.span(),
                "a sum, product or fold over an `impl Trait` parameter",
                "collect it into a `Vec` first (`let xs: Vec<f64> = xs.collect();`) and reduce that (`xs.iter().map(..).sum::<f64>()`)",
            )));
        }
        // `(0..n).map(|i| ..).sum()`, `(a..=b).rev().fold(..)`: the counter is the element.
        if crate::parts::is_parts_source(source_expr) || is_range_source(source_expr) {
            return match filter {
                // `(0..n).filter(|i| ..)`: the `for` loop over the filtered range.
                Some(_) if is_range_source(source_expr) => {
                    self.reduce_parts(filtered_source, init, step, map)
                }
                Some(f) => {
                    let at = f.inputs[0].span();
                    Some(Value::Use(
                        self.unfiltered(at, "filtering windows or chunks"),
                    ))
                }
                None => self.reduce_parts(source_expr, init, step, map),
            };
        }
        if !matches!(
            source_expr,
            Expr::MethodCall(_) | Expr::Index(_) | Expr::Reference(_)
        ) {
            return None;
        }
        let source = match (self.element_source(source_expr), &filter) {
            (Some(source), _) => source,
            // `w.iter().map(..).filter(..)`, `.filter(a).filter(b)`: no container's elements.
            (None, Some(f)) => {
                let at = f.inputs[0].span();
                return Some(Value::Use(self.unfiltered(at, "filtering these elements")));
            }
            (None, None) => return None,
        };
        // A filtered element is tested as the iterator yields it (see `is_filterable`).
        if let Some(f) = filter.as_ref().filter(|f| !is_filterable(Some(&source), f)) {
            let at = f.inputs[0].span();
            return Some(Value::Use(self.unfiltered(at, "filtering these elements")));
        }
        let span = receiver.span();
        // The closure runs inline, inside the loop: a `return` in it would return from the
        // function.
        let closure_body = match (&step, map) {
            (Step::Fold { body, .. }, _) => Some(*body),
            (_, Some(c)) => Some(&*c.body),
            _ => None,
        };
        if let Some(body) = closure_body.filter(|b| crate::syntax::returns(b)) {
            return Some(Value::Use(self.unsupported(
                body.span(),
                "`return` inside the closure of a `fold`, `sum` or `product`",
                "compute the closure's value with `if`/`else`, or write the loop out",
            )));
        }
        let init = match init {
            Init::Value(op) => op,
            Init::Written(e) => self.lower_expr(e),
        };
        let (len, reads) = self.source_len(&source);
        let range = Value::Opaque {
            tokens: quote_spanned!(span=> (0..#len)),
            reads,
            kept: Kept::Data,
        };
        let range_var = self.operand_of(range, span);
        let acc = self.new_temp();
        self.vars[acc.0].is_location = true;
        self.push_let(acc, Value::Use(init), span);
        let counter = self.new_temp();
        self.blocks.push(Vec::new());
        self.scopes.push(HashMap::new());
        let kept = filter
            .as_ref()
            .map(|f| self.filter_test(f, Some(&source), counter, span));
        if kept.is_some() {
            self.blocks.push(Vec::new());
        }
        let next = match step {
            Step::Operator(op) => {
                let term = match map {
                    Some(c) => {
                        self.bind_source(&source, &c.inputs[0], counter);
                        self.lower_expr(&c.body)
                    }
                    None => self.element(&source, counter, span),
                };
                let value = Value::Binary {
                    op,
                    lhs: Operand::Var(acc),
                    rhs: term,
                };
                self.operand_of(value, span)
            }
            Step::Fold {
                acc: acc_pat,
                element,
                body,
            } => {
                // The map's closure sees neither the accumulator nor the fold's element: its
                // names live in a scope of their own, and its value is bound after it.
                let mapped = map.map(|c| {
                    self.scopes.push(HashMap::new());
                    self.bind_source(&source, &c.inputs[0], counter);
                    let term = self.lower_expr(&c.body);
                    self.scopes.pop();
                    self.var_of(term, span)
                });
                if let Pat::Ident(pi) = strip_type(acc_pat) {
                    self.bind(&pi.ident.to_string(), acc);
                }
                match (mapped, strip_type(element)) {
                    (Some(term), Pat::Ident(pi)) => self.bind(&pi.ident.to_string(), term),
                    (Some(_), _) => {}
                    (None, _) => self.bind_source(&source, element, counter),
                }
                self.lower_expr(body)
            }
        };
        self.push(
            StmtKind::Assign {
                var: acc,
                value: Value::Use(next),
            },
            span,
        );
        if let Some(cond) = kept {
            let then_block = self.blocks.pop().unwrap_or_default();
            self.push_if(cond, then_block, Vec::new(), span);
        }
        self.scopes.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.push(
            StmtKind::For {
                var: counter,
                range: range_var,
                body,
            },
            span,
        );
        Some(Value::Use(Operand::Var(acc)))
    }

    /// A reduction over `windows`/`chunks`, whose elements are parts, not elements, or over a
    /// range of integers: written out as the `for` loop it stands for (see `parts.rs`), and
    /// lowered as one.
    fn reduce_parts(
        &mut self,
        source: &Expr,
        init: Init<'_>,
        step: Step<'_>,
        map: Option<&syn::ExprClosure>,
    ) -> Option<Value> {
        let span = source.span();
        let init = match init {
            Init::Value(Operand::Const(tokens)) => tokens,
            Init::Value(_) => return None,
            Init::Written(e) => e.to_token_stream(),
        };
        let body = match (&step, map) {
            (Step::Fold { body, .. }, _) => Some(*body),
            (_, Some(c)) => Some(&*c.body),
            _ => None,
        };
        if let Some(body) = body.filter(|b| crate::syntax::returns(b)) {
            return Some(Value::Use(self.unsupported(
                body.span(),
                "`return` inside the closure of a `fold`, `sum` or `product`",
                "compute the closure's value with `if`/`else`, or write the loop out",
            )));
        }
        let (acc, part, next) = match (step, map) {
            (Step::Operator(op), Some(c)) => {
                let body = &c.body;
                (
                    quote_spanned!(span=> __nabla_acc),
                    strip_type(&c.inputs[0]),
                    quote_spanned!(span=> __nabla_acc #op (#body)),
                )
            }
            (Step::Fold { acc, element, body }, None) => (
                strip_type(acc).to_token_stream(),
                strip_type(element),
                body.to_token_stream(),
            ),
            // The accumulator is bound by the fold's name only after the map's closure ran, which
            // may read a variable of that name from outside.
            (Step::Fold { acc, element, body }, Some(c)) => {
                let map_body = &c.body;
                (
                    quote_spanned!(span=> __nabla_acc),
                    strip_type(&c.inputs[0]),
                    quote_spanned! {span=> {
                        let #element = #map_body;
                        let #acc = __nabla_acc;
                        #body
                    }},
                )
            }
            _ => return None,
        };
        let written: Expr = syn::parse2(quote_spanned! {span=> {
            let mut #acc = #init;
            for #part in #source {
                #acc = #next;
            }
            #acc
        }})
        .ok()?;
        Some(self.lower_rewritten(&written))
    }

    /// The element at position `counter` of a source's first container.
    fn element(&mut self, source: &Source, counter: VarId, span: proc_macro2::Span) -> Operand {
        let (var, window) = source_container(source);
        let at = self.element_index(window, counter, span);
        let elem = Value::Index {
            base: Operand::Var(var),
            index: Operand::Var(at),
        };
        self.operand_of(elem, span)
    }
}

/// `acc: f64` is `acc`.
/// A range, possibly reversed or stepped: `0..n`, `(a..=b).rev()`, `(0..n).step_by(2)`.
pub(super) fn is_range_source(expr: &Expr) -> bool {
    match expr {
        Expr::Range(r) => r.start.is_some() && r.end.is_some(),
        Expr::Paren(p) => is_range_source(&p.expr),
        Expr::MethodCall(m)
            if (m.method == "rev" && m.args.is_empty())
                || (m.method == "step_by" && m.args.len() == 1) =>
        {
            is_range_source(&m.receiver)
        }
        _ => false,
    }
}

fn strip_type(pat: &Pat) -> &Pat {
    match pat {
        Pat::Type(t) => strip_type(&t.pat),
        other => other,
    }
}
