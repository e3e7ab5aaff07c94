//! Function calls, method calls and in-place buffer methods.

use proc_macro2::Ident;
use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::Lowerer;
use crate::in_place;
use crate::ir::{Kept, MethodKind, Operand, Value, Written};
use crate::methods;

impl Lowerer<'_> {
    pub(super) fn lower_call(&mut self, call: &syn::ExprCall) -> Value {
        let span = call.span();
        let Expr::Path(func) = &*call.func else {
            return Value::Use(self.unsupported(
                call.func.span(),
                "calling this expression",
                "call a function by its path",
            ));
        };
        // `<f64>::sin(x)`, `<Vec<f64>>::new()`: the type's own path, `f64::sin(x)`.
        if let Some(path) = unqualified(func) {
            let mut call = call.clone();
            *call.func = Expr::Path(syn::ExprPath {
                attrs: func.attrs.clone(),
                qself: None,
                path,
            });
            return self.lower_call(&call);
        }
        // `<[f64]>::len(w)`, `<Vec<f64> as Clone>::clone(&v)`: a method called through a
        // qualified path, its receiver first, is the method itself with the path kept.
        if let Some(value) = self.lower_qualified_method(func, call) {
            return value;
        }
        // `sq(w)` with `let sq = |x| ..;` or `let f = helper;`: a variable, not a function whose
        // derivative could be looked up by its path.
        if let Some(name) = func.path.get_ident() {
            if self.lookup(&name.to_string()).is_some() {
                return Value::Use(self.unsupported(
                    func.span(),
                    "calling a local variable",
                    "call the function by its path, or write the closure's work out where it is called",
                ));
            }
        }
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let last = segments.last().cloned().unwrap_or_default();
        if call.args.iter().any(is_closure)
            && last != "stop_gradient"
            && !calls_a_macro(&call.to_token_stream())
        {
            return self.kept_with_closure(call.to_token_stream(), span);
        }
        if last == "stop_gradient"
            && call.args.len() == 1
            && func
                .path
                .segments
                .last()
                .is_some_and(|s| s.arguments.is_none())
        {
            // The argument alone: `stop_gradient(x,)` (as rustfmt writes a long argument) is no
            // tuple.
            let (tokens, reads) = self.rename(call.args[0].to_token_stream());
            return Value::Opaque {
                tokens: quote_spanned!(span=> (#tokens)),
                reads,
                kept: Kept::StopGradient,
            };
        }
        // `T::from_usize(n)`, `f64::from_i32(k)`: a float made from an integer, which carries no
        // gradient whatever it is read from (a count in a `#[no_grad]` field of a model).
        // `Vec::with_capacity(self.n)`: an empty buffer, which carries no gradient whatever its
        // capacity is read from.
        if matches!(last.as_str(), "from_usize" | "from_i32" | "with_capacity")
            && segments.len() >= 2
        {
            let (tokens, reads) = self.rename(call.to_token_stream());
            return Value::Opaque {
                tokens: quote_spanned!(span=> (#tokens)),
                reads,
                kept: Kept::Data,
            };
        }
        // `f64::exp(x)` is `x.exp()`, and so is `T::exp(x)` with `T: Real`. A float method takes
        // its float by value: `V::norm(&self.v)` is a method of a struct `V`, whose one-letter
        // name only looks like the type parameter of an `impl`.
        let by_value = call
            .args
            .first()
            .is_some_and(|a| !matches!(crate::syntax::strip_parens(a), Expr::Reference(_)));
        let qualifier = if segments.len() == 2 && self.names_a_float_type(&segments[0]) {
            Some(func.path.segments[0].ident.to_token_stream())
        } else {
            real_trait_qualifier(func)
        };
        if let Some(qualifier) =
            qualifier.filter(|_| by_value && methods::is_float_method_name(&last))
        {
            let kind = method_kind(&last, call.args.len() - 1);
            return self.method_through_path(call, func, qualifier, kind);
        }
        if let Some(rewritten) = crate::from_iterator::rewrite(func, call) {
            return self.lower_rewritten(&rewritten);
        }
        if let Some(value) = self.lower_matrix_constructor(func, call) {
            return value;
        }
        // `Vec::len(v)`, `<DVector<f64>>::nrows(&m)`, `DVector::dot(&a, &b)`: a method of a
        // `Vec` or nalgebra type called through the type's path, with its receiver first (of a
        // `Vec`, a question about its shape only).
        let owner = segments.len().checked_sub(2).map(|i| segments[i].as_str());
        let nalgebra = owner.is_some_and(crate::parse::is_nalgebra_type);
        if !call.args.is_empty() && (nalgebra || owner == Some("Vec")) {
            let kind = method_kind(&last, call.args.len() - 1);
            let shape_query = methods::SHAPE_QUERIES.contains(&last.as_str());
            if shape_query || (nalgebra && matches!(kind, MethodKind::Trait(_))) {
                let leading = &func.path.leading_colon;
                let owner = func.path.segments.iter().take(segments.len() - 1);
                let qualifier = quote::quote!(#leading #(#owner)::*);
                let kind = if shape_query { MethodKind::Query } else { kind };
                return self.method_through_path(call, func, qualifier, kind);
            }
        }
        let args = call.args.iter().map(|a| self.lower_expr(a)).collect();
        let segments = &func.path.segments;
        if segments.len() >= 2
            && last == "new"
            && crate::parse::is_nalgebra_type(&segments[segments.len() - 2].ident.to_string())
        {
            return Value::Construct {
                func: func.clone(),
                args,
            };
        }
        Value::Call {
            func: func.clone(),
            args,
        }
    }

    /// `<T>::method(receiver, args..)` and `<T as Trait>::method(receiver, args..)`, lowered as
    /// the method call `receiver.method(args..)` that is written through the qualified path
    /// `<T>`. `None` for calls without a qualified self (and for `<T as Real>::sin(x)` and
    /// `<f64>::sin(x)`, which have forms of their own).
    fn lower_qualified_method(
        &mut self,
        func: &syn::ExprPath,
        call: &syn::ExprCall,
    ) -> Option<Value> {
        let qself = func.qself.as_ref()?;
        if call.args.is_empty() || real_trait_qualifier(func).is_some() {
            return None;
        }
        let segments: Vec<&syn::PathSegment> = func.path.segments.iter().collect();
        let (method, trait_path) = segments.split_last()?;
        if qself.position != trait_path.len() {
            return None;
        }
        let ty = &qself.ty;
        let qualifier = if trait_path.is_empty() {
            quote::quote!(<#ty>)
        } else {
            let leading = func.path.leading_colon;
            let trait_path = trait_path.iter();
            quote::quote!(<#ty as #leading #(#trait_path)::*>)
        };
        let (name, args) = (method.ident.to_string(), call.args.len() - 1);
        // A method of a named trait is that trait's, whatever it is called: a user's
        // `<f64 as Squash>::tanh(x)` is no `tanh` nabla knows. `Clone::clone` is the one known.
        let kind = match trait_path.last() {
            None => method_kind(&name, args),
            Some(t) if t.ident == "Clone" && name == "clone" && args == 0 => MethodKind::Identity,
            Some(_) => MethodKind::Unknown,
        };
        Some(self.method_through_path(call, func, qualifier, kind))
    }

    /// The method call that `qualifier::method(receiver, args..)` is, written through that path:
    /// its receiver the first argument, its name the path's last segment.
    fn method_through_path(
        &mut self,
        call: &syn::ExprCall,
        func: &syn::ExprPath,
        qualifier: proc_macro2::TokenStream,
        kind: MethodKind,
    ) -> Value {
        let receiver = self.lower_expr(&call.args[0]);
        let args = call
            .args
            .iter()
            .skip(1)
            .map(|a| self.lower_expr(a))
            .collect();
        let method = match func.path.segments.last() {
            Some(segment) => segment.ident.clone(),
            None => Ident::new("method", call.span()),
        };
        Value::Method {
            receiver,
            method,
            turbofish: None,
            qualified: Some(qualifier),
            args,
            kind,
        }
    }

    /// nalgebra constructors with a derivative rule: `DVector::from_column_slice(w)`,
    /// `from_row_slice`, `from_vec` (lowered as a method of `w`, whose rule gives `w`'s gradient),
    /// and `from_element(.., b)`/`repeat(b)` (as a zero matrix of the shape, `.add_scalar(b)`).
    fn lower_matrix_constructor(
        &mut self,
        func: &syn::ExprPath,
        call: &syn::ExprCall,
    ) -> Option<Value> {
        let segments = &func.path.segments;
        let n = segments.len();
        if n < 2 || !crate::parse::is_nalgebra_type(&segments[n - 2].ident.to_string()) {
            return None;
        }
        let last = &segments[n - 1];
        let name = last.ident.to_string();
        let leading = &func.path.leading_colon;
        let owner_segments = segments.iter().take(n - 1);
        let owner = quote::quote!(#leading #(#owner_segments)::*);
        let from_slice = methods::SLICE_CONSTRUCTORS.contains(&name.as_str());
        if from_slice && call.args.len() == 3 {
            // `DMatrix::from_row_slice(rows, columns, w)`: the slice is the receiver.
            let shape: Vec<Operand> = call
                .args
                .iter()
                .take(2)
                .map(|a| self.lower_expr(a))
                .collect();
            let receiver = self.lower_expr(&call.args[2]);
            return Some(Value::Method {
                receiver,
                method: last.ident.clone(),
                turbofish: None,
                qualified: Some(owner.clone()),
                args: shape,
                kind: method_kind(&name, 2),
            });
        }
        if (from_slice || name == "from") && call.args.len() == 1 {
            let receiver = self.lower_expr(&call.args[0]);
            return Some(Value::Method {
                receiver,
                method: last.ident.clone(),
                turbofish: None,
                qualified: Some(owner.clone()),
                args: Vec::new(),
                kind: method_kind(&name, 0),
            });
        }
        let span = call.span();
        // Shapes only: `DMatrix::zeros(n, n)`, `identity(m.n, m.n)` carry no gradient, whatever
        // their dimensions are read from.
        if methods::SHAPE_CONSTRUCTORS.contains(&name.as_str()) {
            let (tokens, reads) = self.rename(call.to_token_stream());
            return Some(Value::Opaque {
                tokens: quote_spanned!(span=> (#tokens)),
                reads,
                kept: Kept::Data,
            });
        }
        if methods::ELEMENT_CONSTRUCTORS.contains(&name.as_str()) && !call.args.is_empty() {
            let args: Vec<&Expr> = call.args.iter().collect();
            let (element, shape) = args.split_last()?;
            let ident = &last.ident;
            let (shape, reads) = self.rename(quote::quote!(#(#shape,)*));
            let zero = self.operand_of(
                Value::Opaque {
                    tokens: quote_spanned!(span=> (#owner::#ident(#shape ::core::default::Default::default()))),
                    reads,
                    kept: Kept::Data,
                },
                span,
            );
            let element = self.lower_expr(element);
            return Some(Value::Method {
                receiver: zero,
                method: Ident::new("add_scalar", span),
                turbofish: None,
                qualified: None,
                args: vec![element],
                kind: method_kind("add_scalar", 1),
            });
        }
        None
    }

    pub(super) fn lower_method(&mut self, m: &syn::ExprMethodCall) -> Value {
        // `self.clip.unwrap_or(1.0)`: an `Option` in a model's field, which is data (a field that
        // carries gradient is never an `Option`), read as written. Only with a literal default:
        // `unwrap_or(self.w)` may give a value that carries gradient, and is the branch it stands
        // for, `if self.clip.is_some() { self.clip.unwrap() } else { self.w }`.
        const OPTION_METHODS: &[&str] = &[
            "unwrap_or",
            "unwrap_or_default",
            "unwrap",
            "is_some",
            "is_none",
        ];
        let literal = |a: &Expr| match crate::syntax::strip_parens(a) {
            Expr::Lit(_) => true,
            Expr::Unary(u) => matches!(crate::syntax::strip_parens(&u.expr), Expr::Lit(_)),
            _ => false,
        };
        if OPTION_METHODS.contains(&m.method.to_string().as_str())
            && matches!(crate::syntax::strip_parens(&m.receiver), Expr::Field(_))
        {
            if !m.args.iter().all(literal) && m.method == "unwrap_or" {
                let (option, default) = (&m.receiver, &m.args[0]);
                // The field is read twice, as a field may be: reading it has no effects.
                let branch: Expr = syn::parse_quote_spanned! {m.span()=>
                    if #option.is_some() { #option.unwrap() } else { #default }
                };
                return self.lower_value(&branch);
            }
            let (tokens, reads) = self.rename(m.to_token_stream());
            return Value::Opaque {
                tokens: quote_spanned!(m.span()=> (#tokens)),
                reads,
                kept: Kept::Data,
            };
        }
        let name = m.method.to_string();
        // A method with no rule that takes a closure (`order.sort_by(|&a, &b| ..)` on data).
        if m.args.iter().any(is_closure)
            && method_kind(&name, m.args.len()) == MethodKind::Unknown
            && !methods::LAZY_CLOSURE_ADAPTORS.contains(&name.as_str())
            && !calls_a_macro(&m.to_token_stream())
            && !self.is_model_receiver(&m.receiver)
        {
            return self.kept_with_closure(m.to_token_stream(), m.span());
        }
        // `xs.iter().filter(|&&x| x > t).count()`: a method with no rule that ends a chain of
        // adaptors with a closure, kept whole like a call with a closure. A method that gives
        // an iterator again is not an end: what follows it may be differentiated.
        if method_kind(&name, m.args.len()) == MethodKind::Unknown
            && !methods::ELEMENT_ADAPTORS.contains(&name.as_str())
            && !methods::LAZY_CLOSURE_ADAPTORS.contains(&name.as_str())
            && lazy_closure_chain(&m.receiver)
            && !calls_a_macro(&m.to_token_stream())
            && !self.is_model_receiver(&m.receiver)
        {
            return self.kept_with_closure(m.to_token_stream(), m.span());
        }
        let receiver = self.lower_expr(&m.receiver);
        let args: Vec<Operand> = m.args.iter().map(|a| self.lower_expr(a)).collect();
        let mut kind = self
            .factor_method(&receiver, &name, args.len())
            .unwrap_or_else(|| method_kind(&name, args.len()));
        if kind == MethodKind::Unknown
            && receiver
                .var()
                .is_some_and(|r| self.model_values.contains(&r))
        {
            kind = MethodKind::User;
        }
        Value::Method {
            receiver,
            method: m.method.clone(),
            turbofish: m.turbofish.as_ref().map(|t| t.to_token_stream()),
            qualified: None,
            args,
            kind,
        }
    }

    /// A call that takes a closure, kept whole as written (see [`Written::WithClosure`]): the
    /// checks refuse it where a value that carries gradient flows in, and forbid it to change
    /// the function's variables.
    fn kept_with_closure(
        &mut self,
        tokens: proc_macro2::TokenStream,
        span: proc_macro2::Span,
    ) -> Value {
        let (tokens, reads) = self.rename(tokens);
        Value::Opaque {
            tokens: quote_spanned!(span=> (#tokens)),
            reads,
            kept: Kept::Checked(Written::WithClosure),
        }
    }

    /// Whether a method's receiver is a model value, whose own methods are differentiated.
    fn is_model_receiver(&self, receiver: &Expr) -> bool {
        self.variable_of(receiver)
            .is_some_and(|v| self.model_values.contains(&v))
    }

    /// An in-place method on a local buffer, as the element writes it performs (see
    /// `in_place.rs`).
    pub(super) fn in_place_rewrite(&self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let name = in_place::receiver_name(m)?;
        let var = self.lookup(&name.to_string())?;
        if !self.vars[var.0].is_location {
            return None;
        }
        in_place::rewrite(m)
    }
}

/// Whether `tokens` call a macro: a format string names variables the lowering does not see
/// (`format!("{w}")`), so code with one is not kept as written.
fn calls_a_macro(tokens: &proc_macro2::TokenStream) -> bool {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.windows(3).any(|w| {
        matches!(w, [TokenTree::Ident(_), TokenTree::Punct(bang), TokenTree::Group(_)] if bang.as_char() == '!')
    }) || trees.iter().any(|t| matches!(t, TokenTree::Group(g) if calls_a_macro(&g.stream())))
}

/// Whether `receiver` is a chain of iterator adaptors with an adaptor that takes a closure
/// (`xs.iter().filter(|&&x| x > t)`, `.skip_while(..).copied()`, `.map(|x| x * 2.0)`).
fn lazy_closure_chain(receiver: &Expr) -> bool {
    let mut at = crate::syntax::strip_parens(receiver);
    while let Expr::MethodCall(m) = at {
        let name = m.method.to_string();
        let lazy = name == "map" || methods::LAZY_CLOSURE_ADAPTORS.contains(&name.as_str());
        if lazy && m.args.iter().any(is_closure) {
            return true;
        }
        if !methods::ELEMENT_ADAPTORS.contains(&name.as_str()) {
            return false;
        }
        at = crate::syntax::strip_parens(&m.receiver);
    }
    false
}

fn is_closure(arg: &Expr) -> bool {
    matches!(crate::syntax::strip_parens(arg), Expr::Closure(_))
}

pub(super) fn method_kind(name: &str, args: usize) -> MethodKind {
    if let Some(index) = methods::trait_method(name, args) {
        MethodKind::Trait(index)
    } else if let Some(index) = methods::float_method(name, args) {
        MethodKind::Float(index)
    } else if methods::is_step(name) {
        MethodKind::Step
    } else if methods::IDENTITY_METHODS.contains(&name) && args == 0 {
        MethodKind::Identity
    } else if methods::is_query(name) {
        MethodKind::Query
    } else {
        MethodKind::Unknown
    }
}

/// `<T>::f` as the path `T::f` (with `::<..>` for the type's generic arguments), when `T` is a
/// plain type path; `None` for `<T as Trait>::f` and for paths without a qualified self.
fn unqualified(func: &syn::ExprPath) -> Option<syn::Path> {
    let qself = func.qself.as_ref().filter(|q| q.position == 0)?;
    let syn::Type::Path(ty) = &*qself.ty else {
        return None;
    };
    if ty.qself.is_some() {
        return None;
    }
    let mut path = ty.path.clone();
    for segment in &mut path.segments {
        if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
            args.colon2_token.get_or_insert_with(Default::default);
        }
    }
    path.segments.extend(func.path.segments.iter().cloned());
    Some(path)
}

/// `Real::sin(x)`, `<T as Real>::sin(x)`, `RealField::atan2(y, x)`: a float method called
/// through the trait that has it, nabla's own or nalgebra's, as a function generic over
/// `T: Real + RealField` must where `T::sin` is ambiguous. On a real float each trait's method
/// is the float's own. The qualifier the call is written with: `Real`, `<T as RealField>`.
fn real_trait_qualifier(func: &syn::ExprPath) -> Option<proc_macro2::TokenStream> {
    let segments: Vec<&syn::PathSegment> = func.path.segments.iter().collect();
    let names = |s: &[&syn::PathSegment]| s.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>();
    let is_real = |path: &[&syn::PathSegment]| {
        let names = names(path);
        let traits = ["Real", "RealField", "ComplexField"];
        match names.as_slice() {
            [name] => traits.contains(&name.as_str()),
            [krate, name] => {
                ["nabla", "nalgebra"].contains(&krate.as_str()) && traits.contains(&name.as_str())
            }
            _ => false,
        }
    };
    let (method, path) = segments.split_last()?;
    if !method.arguments.is_none() || path.iter().any(|s| !s.arguments.is_none()) {
        return None;
    }
    match &func.qself {
        None if is_real(path) => {
            let leading = func.path.leading_colon;
            let path = path.iter();
            Some(quote::quote!(#leading #(#path)::*))
        }
        Some(q) if q.position == path.len() && is_real(path) => {
            let (ty, leading) = (&q.ty, func.path.leading_colon);
            let path = path.iter();
            Some(quote::quote!(<#ty as #leading #(#path)::*>))
        }
        _ => None,
    }
}
