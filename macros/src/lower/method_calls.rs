//! Method calls in expressions: the forms written as something else (sums and folds as loops,
//! `first().unwrap()` as an element read, `collect` and `map` of a path as loops and closures,
//! in-place methods as element writes), and the rest as methods with rules.

use proc_macro2::Span;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall};

use super::Lowerer;
use crate::ir::{Decision, Kept, MethodKind, Operand, StmtKind, Value, Written};
use crate::parts;
use crate::syntax::strip_parens;

impl Lowerer<'_> {
    pub(super) fn lower_method_call(&mut self, m: &ExprMethodCall, span: Span) -> Value {
        // `w.iter().any(|&v| v > t)`, `.position(..)`, `.filter(..).count()`: a decision, kept
        // as written with its closure (which the checks forbid to change the function's
        // variables).
        if let Some(decision) = decision_by_closure(m) {
            return self.closure_test(m, decision, span);
        }
        match m {
            m if (m.method == "sum" || m.method == "product")
                && m.args.is_empty()
                && self.float_turbofish(&m.turbofish) =>
            {
                let float = m.turbofish.as_ref().and_then(|t| match t.args.first() {
                    Some(syn::GenericArgument::Type(ty)) => Some(ty.clone()),
                    _ => None,
                });
                match self.lower_reduction(&m.receiver, m.method == "product", float) {
                    Some(value) => self.written_as(value, m),
                    None => self.lower_method(m),
                }
            }
            m if self.is_linalg_chain(m) => match self.lower_linalg_chain(m) {
                Some(value) => value,
                None => self.lower_method(m),
            },
            // `w.first().unwrap()`, `w.last().expect(..)`: the element itself (an empty `w`
            // panics in both forms).
            m if (m.method == "unwrap" && m.args.is_empty())
                || (m.method == "expect" && m.args.len() == 1) =>
            {
                if let Some((popped, v)) = parts::rewrite_pop(&m.receiver) {
                    if self
                        .lookup(&v.to_string())
                        .is_some_and(|v| self.vars[v.0].is_location)
                    {
                        return self.lower_value(&popped);
                    }
                }
                match end_element(&m.receiver) {
                    Some(element) => self.lower_value(&element),
                    None => self.lower_method(m),
                }
            }
            m if m.method == "collect" && m.args.is_empty() => {
                if let Some(body) = returning_map(&m.receiver) {
                    return Value::Use(self.unsupported(
                        body.span(),
                        "`return` inside the closure of a `map` that is collected",
                        "compute the closure's value with `if`/`else`, or write the loop out",
                    ));
                }
                match crate::from_iterator::rewrite_collect(m, false) {
                    Some(rewritten) => self.lower_rewritten(&rewritten),
                    None => self.lower_method(m),
                }
            }
            m if m.method == "fold" && m.args.len() == 2 => {
                if let Some(rewritten) = self.matrix_fold(m) {
                    return self.lower_value(&rewritten);
                }
                match self.lower_fold(m) {
                    Some(value) => self.written_as(value, m),
                    None => self.lower_method(m),
                }
            }
            m if m.method == "push" && m.args.len() == 1 => {
                let base = match &*m.receiver {
                    Expr::Path(p) => p.path.get_ident().and_then(|i| self.lookup(&i.to_string())),
                    _ => None,
                };
                match base {
                    Some(base) if self.vars[base.0].is_location => {
                        let value = self.lower_expr(&m.args[0]);
                        self.push(StmtKind::Push { base, value }, span);
                        Value::Use(Operand::Const(quote_spanned!(span=> ())))
                    }
                    _ => self.lower_method(m),
                }
            }
            // `(0..n).map(|i| ..)` and `w.windows(k).map(|p| ..)` not summed as floats: kept as
            // written, which the checks refuse if values that carry gradient flow in.
            m if m.method == "map"
                && (super::reduce::is_range_source(&m.receiver)
                    || parts::is_parts_source(&m.receiver)) =>
            {
                let (tokens, reads) = self.rename(m.to_token_stream());
                Value::Opaque {
                    tokens: quote_spanned!(span=> (#tokens)),
                    reads,
                    kept: Kept::Checked(Written::MapOverIndices),
                }
            }
            // `m.map(f64::exp)`: the closure `|x| f64::exp(x)`.
            m if m.method == "map" && m.args.len() == 1 && matches!(&m.args[0], Expr::Path(_)) => {
                let (receiver, function) = (&m.receiver, &m.args[0]);
                let x = quote::format_ident!("__nabla_element", span = function.span());
                let closure: Expr =
                    syn::parse_quote_spanned!(span=> #receiver.map(|#x| #function(#x)));
                self.lower_value(&closure)
            }
            m if m.method == "map"
                && m.args.len() == 1
                && matches!(&m.args[0], Expr::Closure(c) if c.inputs.len() == 1) =>
            {
                let receiver = self.lower_expr(&m.receiver);
                let Expr::Closure(closure) = &m.args[0] else {
                    return Value::Use(Operand::Const(quote!(())));
                };
                match self.lower_closure(closure) {
                    Some(index) => Value::Method {
                        receiver,
                        method: m.method.clone(),
                        turbofish: None,
                        qualified: None,
                        args: Vec::new(),
                        kind: MethodKind::Map(index),
                    },
                    None => Value::Use(Operand::Const(quote!(()))),
                }
            }
            m => {
                if let Some(rewritten) = crate::zip_map::rewrite(m) {
                    return self.lower_rewritten(&rewritten);
                }
                match self
                    .in_place_rewrite(m)
                    .or_else(|| parts::rewrite_split_at(m))
                {
                    Some(rewritten) => self.lower_value(&rewritten),
                    None => self.lower_method(m),
                }
            }
        }
    }
}

impl Lowerer<'_> {
    /// A reduction's accumulator, shown in messages as the call the user wrote.
    fn written_as(&mut self, value: Value, m: &ExprMethodCall) -> Value {
        if let Value::Use(Operand::Var(acc)) = &value {
            let text = crate::check::render::tokens_text(&m.to_token_stream());
            self.vars[acc.0].written = Some(text);
        }
        value
    }

    /// A test of elements by a closure, kept as written.
    fn closure_test(&mut self, m: &ExprMethodCall, decision: Decision, span: Span) -> Value {
        let (tokens, reads) = self.rename(m.to_token_stream());
        Value::Opaque {
            tokens: quote_spanned!(span=> (#tokens)),
            reads,
            kept: Kept::ClosureTest(decision),
        }
    }
}

/// What a test of elements by a closure gives: one of `methods::CLOSURE_TESTS`
/// (`w.iter().any(|&v| v > t)`), or the `count()` of a `filter` by a closure
/// (`w.iter().filter(|v| ..).count()`); `None` for any other call.
fn decision_by_closure(m: &ExprMethodCall) -> Option<Decision> {
    let by_closure =
        |m: &ExprMethodCall| m.args.len() == 1 && matches!(&m.args[0], Expr::Closure(_));
    if by_closure(m) {
        return crate::methods::closure_test(&m.method.to_string());
    }
    let counted = matches!(strip_parens(&m.receiver), Expr::MethodCall(f) if f.method == "filter" && by_closure(f));
    (m.method == "count" && m.args.is_empty() && counted).then_some(Decision::Count)
}

/// `w.first()` as `w[0]`, `w.last()` as `w[w.len() - 1]`.
fn end_element(option: &Expr) -> Option<Expr> {
    let Expr::MethodCall(m) = strip_parens(option) else {
        return None;
    };
    if !m.args.is_empty() || m.turbofish.is_some() {
        return None;
    }
    let base = &m.receiver;
    // A container, not an iterator (`xs.iter().last()` is `Iterator::last`).
    if !matches!(
        strip_parens(base),
        Expr::Path(_) | Expr::Field(_) | Expr::Index(_)
    ) {
        return None;
    }
    match m.method.to_string().as_str() {
        "first" => Some(syn::parse_quote_spanned!(m.method.span()=> (#base)[0])),
        "last" => Some(syn::parse_quote_spanned!(m.method.span()=> (#base)[(#base).len() - 1])),
        _ => None,
    }
}

impl Lowerer<'_> {
    /// No turbofish, or one naming a float type (`::<f64>`, `::<T>` with `T: Real`): a float
    /// reduction (`counts.iter().product::<u64>()` is integer arithmetic, left as written).
    fn float_turbofish(&self, turbofish: &Option<syn::AngleBracketedGenericArguments>) -> bool {
        let names_float = |t: &syn::Type| {
            crate::parse::is_float(t)
                || matches!(t, syn::Type::Path(p) if p.qself.is_none()
                    && p.path.get_ident().is_some_and(|i| self.names_a_float_type(&i.to_string())))
        };
        match turbofish {
            None => true,
            Some(args) => args
                .args
                .iter()
                .all(|a| matches!(a, syn::GenericArgument::Type(t) if names_float(t))),
        }
    }

    /// nalgebra's `m.fold(init, |acc, x| ..)`, which passes each element by value, as the fold
    /// over its elements by reference that nabla differentiates:
    /// `m.iter().fold(init, |acc, &x| ..)`. Only for a matrix parameter or a local: a data
    /// struct's own `fold` is left as it is.
    fn matrix_fold(&self, m: &ExprMethodCall) -> Option<Expr> {
        if m.method != "fold" || m.args.len() != 2 {
            return None;
        }
        let Expr::Path(receiver) = strip_parens(&m.receiver) else {
            return None;
        };
        let var = self.lookup(&receiver.path.get_ident()?.to_string())?;
        let is_matrix = self.matrix_params.contains(&var)
            || (!matches!(self.vars[var.0].origin, crate::ir::Origin::Param(_))
                && !self.model_values.contains(&var));
        let Expr::Closure(closure) = &m.args[1] else {
            return None;
        };
        if !is_matrix || closure.inputs.len() != 2 {
            return None;
        }
        // A plain name: `&mut x` would be a pattern of another meaning.
        let plain = |p: &syn::Pat| {
            matches!(p, syn::Pat::Ident(x)
                if x.by_ref.is_none() && x.mutability.is_none() && x.subpat.is_none())
        };
        let element = match &closure.inputs[1] {
            x if plain(x) => quote!(&#x),
            syn::Pat::Type(t) if plain(&t.pat) => {
                let (x, ty) = (&t.pat, &t.ty);
                quote!(&#x: &#ty)
            }
            _ => return None,
        };
        let (acc, body, init) = (&closure.inputs[0], &closure.body, &m.args[0]);
        let span = m.method.span();
        let receiver = &m.receiver;
        Some(syn::parse_quote_spanned!(span=> #receiver.iter().fold(#init, |#acc, #element| #body)))
    }
}

/// The body of the closure of `src.map(|x| body)` when it holds a `return` of its own.
fn returning_map(receiver: &Expr) -> Option<&Expr> {
    let Expr::MethodCall(map) = strip_parens(receiver) else {
        return None;
    };
    match map.args.first() {
        Some(Expr::Closure(c)) if map.method == "map" && crate::syntax::returns(&c.body) => {
            Some(&c.body)
        }
        _ => None,
    }
}
