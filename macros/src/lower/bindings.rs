//! `let` statements and the patterns they bind.

use proc_macro2::{Ident, Span};
use quote::quote_spanned;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Local, Pat, Type};

use super::Lowerer;
use crate::ir::{Operand, Origin, StmtKind, Value};

impl Lowerer<'_> {
    pub(super) fn lower_let(&mut self, local: &Local) {
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            other => (other, None),
        };
        if let Some(init) = &local.init {
            if let Some((_, diverge)) = &init.diverge {
                // Its pattern is refutable, which would be an error of its own: one is enough.
                self.unsupported(
                    diverge.span(),
                    "`let .. else`",
                    "use `match` or `if` on values that carry no gradient",
                );
                return;
            }
        }
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                match &local.init {
                    Some(init)
                        if ty.is_none() && self.bind_decomposition(&pi.ident, &init.expr) => {}
                    Some(init) => {
                        // `let v: Vec<f64> = src.map(..).collect();` is the loop that fills it.
                        let into_vec = ty.as_ref().is_some_and(is_vec_type);
                        let collected = match crate::syntax::strip_parens(&init.expr) {
                            Expr::MethodCall(m) if into_vec => {
                                crate::from_iterator::rewrite_collect(m, true)
                            }
                            // `let total: f64 = src.map(..).sum();` names the sum's type as
                            // `.sum::<f64>()` does; `let n: usize = ..` an integer sum, kept
                            // as written.
                            Expr::MethodCall(m) => ty
                                .as_ref()
                                .and_then(|ty| self.reduction_type(ty))
                                .and_then(|ty| typed_reduction(m, ty)),
                            _ => None,
                        };
                        let op = match collected {
                            Some(rewritten) => {
                                let value = self.lower_rewritten(&rewritten);
                                self.operand_of(value, init.expr.span())
                            }
                            None => self.lower_expr(&init.expr),
                        };
                        // Before the binding, which may shadow the range it clones.
                        let is_range =
                            matches!(crate::syntax::strip_parens(&init.expr), Expr::Range(_))
                                || self.is_range_name(&init.expr);
                        self.bind_name(&pi.ident, pi.mutability.is_some(), op, ty, local.span());
                        if is_range {
                            if let Some(v) = self.lookup(&name) {
                                self.ranges.insert(v);
                            }
                        }
                    }
                    None => {
                        let var = self.new_local(&pi.ident, false, true);
                        self.push(StmtKind::Declare { var, ty }, local.span());
                        self.bind(&name, var);
                    }
                }
            }
            Pat::Wild(_) => {
                if let Some(init) = &local.init {
                    self.lower_expr(&init.expr);
                }
            }
            Pat::Tuple(tuple) => {
                let Some(init) = self.initializer(local, "tuple") else {
                    return;
                };
                let types: Option<Vec<Type>> = match &ty {
                    Some(Type::Tuple(t)) => Some(t.elems.iter().cloned().collect()),
                    _ => None,
                };
                // `let (a, b) = w.split_at(k);`: the two parts bound right away.
                let split = match &*init.expr {
                    Expr::MethodCall(m) => crate::parts::split_at_parts(m),
                    _ => None,
                };
                let init_expr = match split {
                    Some((syn::Stmt::Local(mid), parts)) => {
                        self.lower_let(&mid);
                        parts
                    }
                    _ => (*init.expr).clone(),
                };
                if let Expr::Tuple(values) = &init_expr {
                    if values.elems.len() == tuple.elems.len() {
                        self.bind_tuple_literal(tuple, values, types);
                        return;
                    }
                }
                let whole = self.lower_expr(&init.expr);
                for (i, p) in tuple.elems.iter().enumerate() {
                    let member = syn::Member::Unnamed(syn::Index {
                        index: i as u32,
                        span: p.span(),
                    });
                    let op = self.operand_of(
                        Value::Field {
                            base: whole.clone(),
                            member,
                        },
                        p.span(),
                    );
                    let t = types.as_ref().and_then(|t| t.get(i).cloned());
                    self.bind_pattern(p, op, t);
                }
            }
            // `let [a, b] = w;` of an array: each name is bound to its element. (The original
            // function type-checks the array's length.)
            Pat::Slice(slice) if !slice.elems.iter().any(|p| matches!(p, Pat::Rest(_))) => {
                let Some(init) = self.initializer(local, "array") else {
                    return;
                };
                let element_ty = match &ty {
                    Some(Type::Array(a)) => Some((*a.elem).clone()),
                    _ => None,
                };
                let whole = self.lower_expr(&init.expr);
                for (i, p) in slice.elems.iter().enumerate() {
                    let index = Operand::Const(quote_spanned!(p.span()=> #i));
                    let element = self.element_read(whole.clone(), index, p.span());
                    let op = self.operand_of(element, p.span());
                    self.bind_pattern(p, op, element_ty.clone());
                }
            }
            // `let Point { x, y: b, .. } = p;`, `let Pair(a, b) = p;`: each name bound to its
            // field.
            Pat::Struct(_) | Pat::TupleStruct(_) => {
                let Some(init) = self.initializer(local, "struct") else {
                    return;
                };
                let whole = self.lower_expr(&init.expr);
                self.bind_pattern(pat, whole, None);
            }
            other => {
                self.unsupported(
                    other.span(),
                    "this `let` pattern",
                    "bind a plain name, `_`, or a tuple, array or struct of names",
                );
            }
        }
    }

    /// The value of a destructuring `let` (of a "tuple", "array" or "struct"), which must have
    /// one: the pattern's names are bound to its parts where it is declared.
    fn initializer<'l>(&mut self, local: &'l Local, what: &str) -> Option<&'l syn::LocalInit> {
        if local.init.is_none() {
            let article = if what.starts_with('a') { "an" } else { "a" };
            self.unsupported(
                local.span(),
                &format!("{article} {what} `let` without a value"),
                &format!("give the {what} a value where it is declared"),
            );
        }
        local.init.as_ref()
    }

    pub(super) fn bind_pattern(&mut self, pat: &Pat, op: Operand, ty: Option<Type>) {
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.bind_name(&pi.ident, pi.mutability.is_some(), op, ty, pat.span())
            }
            Pat::Wild(_) => {}
            Pat::Type(pt) => self.bind_pattern(&pt.pat, op, Some((*pt.ty).clone())),
            // A loop element that is a tuple (`for (i, j) in pairs.iter()`, `for &(i, j) in
            // pairs`) or a struct (`Point { x, y }`, `Pair(a, b)`): its fields, held by
            // reference where the element is.
            Pat::Tuple(tuple) => self.bind_positional(&op, &tuple.elems),
            Pat::TupleStruct(t) => self.bind_positional(&op, &t.elems),
            Pat::Reference(r) if r.mutability.is_none() => self.bind_pattern(&r.pat, op, ty),
            Pat::Struct(s) => {
                for field in &s.fields {
                    self.bind_field(&op, field.member.clone(), &field.pat);
                }
            }
            other => {
                self.unsupported(
                    other.span(),
                    "this pattern",
                    "bind a plain name, `_`, a tuple of names or `&` of one",
                );
            }
        }
    }

    /// `let ((a, b), c) = ((x, y), z);`: each value bound to its name, tuples within tuples
    /// destructured as they stand, so that no tuple of values that carry gradient is built.
    /// All values are evaluated first, in order, as Rust evaluates the tuple.
    fn bind_tuple_literal(
        &mut self,
        pattern: &syn::PatTuple,
        values: &syn::ExprTuple,
        types: Option<Vec<Type>>,
    ) {
        let mut bindings = Vec::new();
        self.lower_tuple_literal(pattern, values, types, &mut bindings);
        for (p, op, t) in bindings {
            self.bind_pattern(p, op, t);
        }
    }

    fn lower_tuple_literal<'p>(
        &mut self,
        pattern: &'p syn::PatTuple,
        values: &syn::ExprTuple,
        types: Option<Vec<Type>>,
        bindings: &mut Vec<(&'p Pat, Operand, Option<Type>)>,
    ) {
        for (i, (p, e)) in pattern.elems.iter().zip(&values.elems).enumerate() {
            let t = types.as_ref().and_then(|t| t.get(i).cloned());
            match (p, crate::syntax::strip_parens(e)) {
                (Pat::Tuple(inner), Expr::Tuple(inner_values))
                    if inner.elems.len() == inner_values.elems.len() =>
                {
                    let inner_types = match t {
                        Some(Type::Tuple(t)) => Some(t.elems.into_iter().collect()),
                        _ => None,
                    };
                    self.lower_tuple_literal(inner, inner_values, inner_types, bindings);
                }
                _ => {
                    let op = self.lower_expr(e);
                    bindings.push((p, op, t));
                }
            }
        }
    }

    /// The fields of a tuple pattern in order, `(a, b)` as `op.0` and `op.1`; a `..` among them
    /// is not supported.
    fn bind_positional(&mut self, op: &Operand, elems: &Punctuated<Pat, syn::Token![,]>) {
        if let Some(rest) = elems.iter().find(|p| matches!(p, Pat::Rest(_))) {
            self.unsupported(
                rest.span(),
                "`..` in a tuple pattern",
                "name each field, with `_` for those not read",
            );
            return;
        }
        for (i, p) in elems.iter().enumerate() {
            let member = syn::Member::Unnamed(syn::Index {
                index: i as u32,
                span: p.span(),
            });
            self.bind_field(op, member, p);
        }
    }

    /// A field of a pattern (`Point { x, .. }`, `(a, _)`), bound as `op.member`.
    fn bind_field(&mut self, op: &Operand, member: syn::Member, pat: &Pat) {
        let by_ref = matches!(op, Operand::Var(v) if self.vars[v.0].user_ref);
        let field = Value::Field {
            base: op.clone(),
            member,
        };
        let field = self.operand_of(field, pat.span());
        if let (true, Operand::Var(f)) = (by_ref, &field) {
            self.vars[f.0].user_ref = true;
        }
        self.bind_pattern(pat, field, None);
    }

    /// `let name = op;`: a temporary simply takes the name; anything else gets a variable. The
    /// location scan goes by names, and a binding without `mut` is never written whatever else
    /// shares its name (`for x in w` after a `let mut x` assigned in a loop).
    pub(super) fn bind_name(
        &mut self,
        name: &Ident,
        mutable: bool,
        op: Operand,
        ty: Option<Type>,
        span: Span,
    ) {
        let key = name.to_string();
        let is_location = mutable && self.locations.contains(&key);
        if let (Operand::Var(v), None, false) = (&op, &ty, is_location) {
            // Only an unnamed value: `let s = v;` of a named one (or of the location an
            // `if` value lives in) is a copy, which later assignments to `s` must not reach.
            let var = &self.vars[v.0];
            if var.origin == Origin::Temp && var.user_name.is_none() && !var.is_location {
                let var = &mut self.vars[v.0];
                var.user_name = Some(key.clone());
                self.bind(&key, *v);
                return;
            }
        }
        // `let x = &xs[i]`: the name stands for the element itself, which the reverse sweep can
        // save or recompute; a reference to it could not outlive the loop body.
        if let (Operand::Ref(v, ..), false) = (&op, is_location) {
            if self.vars[v.0].origin == Origin::Temp
                && !self.vars[v.0].is_ref
                && self.may_take_over(*v)
            {
                let var = &mut self.vars[v.0];
                var.user_name = Some(key.clone());
                var.user_ref = true;
                self.bind(&key, *v);
                return;
            }
        }
        let is_ref = match &op {
            // A place read by value is a clone of the field (see `Var::place`); a value the user
            // holds by reference is passed on as one (`let r = &v; let r2 = r;`).
            Operand::Var(v) => {
                let var = &self.vars[v.0];
                (var.is_ref && (!var.place || var.user_ref)) || (var.user_ref && !var.place)
            }
            Operand::Ref(..) => true,
            Operand::Const(_) => false,
        } || matches!(ty, Some(Type::Reference(_)));
        let var = self.new_local(name, is_ref, is_location);
        // `let l = &net.layers[0];`: a reference into a parameter is a place too.
        if let (Operand::Ref(v, ..), false) = (&op, is_location) {
            if self.vars[v.0].place {
                self.vars[var.0].place = true;
                self.vars[var.0].user_ref = true;
            }
        }
        let ascribed_model = ty
            .as_ref()
            .is_some_and(|t| crate::parse::is_model_type(t, &[]));
        if ascribed_model || op.var().is_some_and(|v| self.model_values.contains(&v)) {
            self.model_values.insert(var);
        }
        self.push(
            StmtKind::Let {
                var,
                ty,
                value: Value::Use(op),
            },
            span,
        );
        self.bind(&key, var);
    }
}

impl Lowerer<'_> {
    /// The body with its final `.sum()` or `.product()` of an iterator typed by the function's
    /// result type (`.sum::<T>()`); `None` where the body ends otherwise, or the result type is
    /// no float type.
    pub(super) fn typed_tail(&self, block: &syn::Block, result: &Type) -> Option<syn::Block> {
        let float = self.float_type(result)?;
        let Some(syn::Stmt::Expr(Expr::MethodCall(m), None)) = block.stmts.last() else {
            return None;
        };
        let typed = typed_reduction(m, float)?;
        let mut block = block.clone();
        if let Some(last) = block.stmts.last_mut() {
            *last = syn::Stmt::Expr(typed, None);
        }
        Some(block)
    }

    /// The type a `let` names for a sum or product it binds: a float type (see
    /// [`Lowerer::float_type`]) or a primitive of data (`usize`, `i64`).
    fn reduction_type(&self, ty: &'_ Type) -> Option<Type> {
        let data = matches!(ty, Type::Path(p) if p.qself.is_none()
            && p.path.get_ident().is_some_and(|i| crate::parse::is_data_primitive(&i.to_string())));
        (data || self.float_type(ty).is_some()).then(|| ty.clone())
    }

    /// `f64`, `f32` or a float type parameter (`T`), as written.
    pub(super) fn float_type<'t>(&self, ty: &'t syn::Type) -> Option<&'t syn::Ident> {
        match ty {
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .filter(|i| self.names_a_float_type(&i.to_string())),
            _ => None,
        }
    }
}

/// `src.sum()` or `src.product()` with the turbofish `::<ty>` written in.
/// Only over an iterator (`w.iter().map(..)`, `(0..n).map(..)`): `v.sum()` of a matrix, or of a
/// user's type, takes no turbofish.
pub(super) fn typed_reduction(m: &syn::ExprMethodCall, ty: impl quote::ToTokens) -> Option<Expr> {
    let reduction = m.method == "sum" || m.method == "product";
    if !reduction || !m.args.is_empty() || m.turbofish.is_some() || !is_iterator(&m.receiver) {
        return None;
    }
    let mut typed = m.clone();
    typed.turbofish = Some(syn::parse_quote_spanned!(m.method.span()=> ::<#ty>));
    Some(Expr::MethodCall(typed))
}

/// Whether an expression is an iterator, as far as syntax tells: a chain of methods that
/// includes one that makes or adapts an iterator, or that starts from a range.
fn is_iterator(expr: &Expr) -> bool {
    const ITERATOR_METHODS: &[&str] = &[
        "iter",
        "into_iter",
        "copied",
        "cloned",
        "zip",
        "enumerate",
        "windows",
        "chunks",
        "rev",
        "skip",
        "take",
        "step_by",
        "chain",
    ];
    match crate::syntax::strip_parens(expr) {
        Expr::Range(_) => true,
        Expr::MethodCall(m) => {
            ITERATOR_METHODS.contains(&m.method.to_string().as_str()) || is_iterator(&m.receiver)
        }
        _ => false,
    }
}

/// `Vec<..>` as a binding's or the result's type is written (`Vec<f64>`, `std::vec::Vec<_>`).
pub(crate) fn is_vec_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p)
        if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Vec"))
}
