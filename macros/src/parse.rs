//! Reads the signature of a `#[differentiable]` function: which parameters carry gradient, the
//! types of their gradients, and what the result is.

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::errors::Errors;

/// The attribute that marks a float parameter as data: `#[no_grad] x: f64`.
pub const NO_GRAD: &str = "no_grad";

pub struct Param {
    /// The binding, or a generated one for pattern parameters.
    pub ident: Ident,
    /// The pattern of a parameter that destructures its argument (`(a, b): (usize, usize)`),
    /// bound at the top of the body.
    pub pattern: Option<Pat>,
    pub ty: Type,
    /// Carries gradient: not `#[no_grad]`, not `_`-prefixed, and of a type that is not
    /// syntactically data (see [`carries_no_gradient`]). Whether the type really can carry a
    /// gradient is for rustc to decide: the generated code requires it to implement the
    /// runtime's `Tangent` trait.
    pub active: bool,
    /// The owned gradient type (`&[f64]` → `Vec<f64>`), for active parameters.
    pub tangent: Option<Type>,
    pub is_ref: bool,
    pub span: Span,
}

impl Param {
    /// The parameter as the user wrote it, for messages: its name, or its pattern (`(a, b)`).
    pub fn shown(&self) -> String {
        match &self.pattern {
            Some(pattern) => {
                crate::check::render::tokens_text(&quote::ToTokens::to_token_stream(pattern))
            }
            None => self.ident.to_string(),
        }
    }
}

pub enum ResultKind {
    /// `f32`/`f64`: `NAME_grad` is generated.
    Scalar,
    /// A vector, matrix or array of floats: only `NAME_vjp`.
    Tensor,
    /// A type whose name does not tell (an alias `type Scalar = f64`, a struct): `NAME_vjp`, and
    /// a `NAME_grad` that requires the result to be a float (the runtime's `FloatResult`).
    Untold,
}

pub struct Signature {
    pub params: Vec<Param>,
    pub result_ty: Type,
    pub result: ResultKind,
    /// An associated function in an `impl` block (it takes `self`, or names `Self`): the
    /// generated items are associated functions beside it instead of free items.
    pub in_impl: bool,
}

impl Signature {
    pub fn active_params(&self) -> impl Iterator<Item = (usize, &Param)> {
        self.params.iter().enumerate().filter(|(_, p)| p.active)
    }
}

/// Reads the signature, recording problems in `errors`. Returns a usable signature even on error
/// (a missing result type reads as `f64`) so later stages and the fallback can go on.
pub fn signature(item: &ItemFn, errors: &mut Errors) -> Signature {
    let sig = &item.sig;
    if let Some(asyncness) = &sig.asyncness {
        errors.push(
            asyncness.span(),
            "`async fn` is not supported in #[differentiable] functions",
            "differentiate a synchronous function and call it from async code",
        );
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.push(
            unsafety.span(),
            "`unsafe fn` is not supported in #[differentiable] functions",
            "keep unsafe code outside the differentiated function",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push_plain(
            variadic.span(),
            "variadic functions are not supported in #[differentiable] functions",
        );
    }

    let in_impl = sig.receiver().is_some() || names_self(item);
    let data_generics = type_parameters_not_real(&sig.generics);
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                let no_grad = receiver.attrs.iter().any(|a| a.path().is_ident(NO_GRAD));
                let (ty, mut_ref): (Type, bool) = match &receiver.kind {
                    syn::ReceiverKind::Reference(_, lifetime, mutability) => (
                        syn::parse_quote_spanned!(receiver.self_token.span=> &#lifetime #mutability Self),
                        mutability.is_some(),
                    ),
                    syn::ReceiverKind::Typed(_, ty) => (
                        (**ty).clone(),
                        matches!(&**ty, Type::Reference(r) if r.mutability.is_some()),
                    ),
                    _ => (
                        syn::parse_quote_spanned!(receiver.self_token.span=> Self),
                        false,
                    ),
                };
                if mut_ref && !no_grad {
                    errors.push(
                        receiver.span(),
                        "`&mut self` methods are not supported in #[differentiable] functions",
                        "take `&self` and return the new value, or a struct of the new values",
                    );
                }
                let active = !no_grad && !mut_ref;
                params.push(Param {
                    tangent: active.then(|| tangent_type(&ty)),
                    pattern: None,
                    is_ref: matches!(ty, Type::Reference(_)),
                    ident: Ident::new("self", receiver.self_token.span),
                    ty,
                    active,
                    span: receiver.span(),
                });
            }
            FnArg::Typed(pat_type) => {
                let no_grad = pat_type.attrs.iter().any(|a| a.path().is_ident(NO_GRAD));
                for attr in &pat_type.attrs {
                    if !attr.path().is_ident(NO_GRAD) {
                        errors.push_plain(
                            attr.span(),
                            "only `#[no_grad]` is understood on parameters of #[differentiable] functions",
                        );
                    }
                }
                let ty = (*pat_type.ty).clone();
                let (ident, pattern) = match &*pat_type.pat {
                    Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                        (pi.ident.clone(), None)
                    }
                    other => (
                        Ident::new(&format!("__arg{index}"), other.span()),
                        Some(other.clone()),
                    ),
                };
                // `_w: f64`, `_: f64`: unused on purpose. A pattern's generated name says nothing.
                let underscore = match &pattern {
                    None => ident.unraw().to_string().starts_with('_'),
                    Some(pattern) => matches!(pattern, Pat::Wild(_)),
                };
                let carries_gradient =
                    !carries_no_gradient(&ty) && !is_plain_type_parameter(&ty, &data_generics);
                if let Type::Reference(r) = &ty {
                    if r.mutability.is_some() && carries_gradient && !no_grad && !underscore {
                        errors.push(
                            ty.span(),
                            "`&mut` parameters are not supported in #[differentiable] functions",
                            "take the value by reference (`&`) or by value and return the new value",
                        );
                    }
                }
                let active = carries_gradient && !no_grad && !underscore;
                if let Some(row) = active
                    .then(|| crate::row_types::row_container(&ty))
                    .flatten()
                {
                    // Said here, once: the generated code leaves out the runtime's `Tangent`
                    // bound for this parameter, which would repeat it at every use.
                    let mut tokens = quote::quote!(#row).into_iter();
                    let start = tokens.next().map_or(ty.span(), |t| t.span());
                    let end = tokens.last().map_or(start, |t| t.span());
                    errors.push_at(
                        crate::errors::Place::range(start, end),
                        format!("a slice or `Vec` of `{}` cannot carry a gradient", type_text(row)),
                        format!("elements that carry gradient are f32, f64, arrays of them, or structs deriving `nabla::Parameters`: if `{ident}` is data, mark it `#[no_grad] {ident}`; take parameters in rows as a flat `&[f64]` indexed `w[i * d + j]`, a slice of arrays `&[[f64; D]]`, or a `DMatrix`"),
                    );
                }
                params.push(Param {
                    tangent: active.then(|| tangent_type(&ty)),
                    pattern,
                    is_ref: matches!(ty, Type::Reference(_)),
                    ident,
                    ty,
                    active,
                    span: pat_type.span(),
                });
            }
        }
    }

    let real_generics: Vec<Ident> = sig
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .filter(|p| !data_generics.contains(p))
        .collect();
    let all_generics: Vec<Ident> = sig
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .collect();
    let (result_ty, result) = match &sig.output {
        // `-> T` of a method in `impl<T: Real> Model<T>`: the impl's type parameter, which the
        // method's own signature cannot show bounded; a one-letter type name is taken as one.
        ReturnType::Type(_, ty)
            if in_impl && is_impl_type_parameter(ty) && !constructs(item, ty) =>
        {
            ((**ty).clone(), ResultKind::Scalar)
        }
        ReturnType::Type(_, ty) if is_float(ty) || is_plain_type_parameter(ty, &real_generics) => {
            let scalar = !matches!(**ty, Type::Reference(_) | Type::Array(_) | Type::Slice(_))
                && (is_float(ty) || matches!(&**ty, Type::Path(p) if p.path.get_ident().is_some()));
            let kind = if scalar {
                ResultKind::Scalar
            } else {
                ResultKind::Tensor
            };
            ((**ty).clone(), kind)
        }
        ReturnType::Type(_, ty)
            if (float_bearing(ty)
                || is_model_type(ty, &all_generics)
                || float_tuple(ty, &real_generics))
                && !matches!(**ty, Type::Reference(_)) =>
        {
            let kind = if is_model_type(ty, &all_generics) {
                ResultKind::Untold
            } else {
                ResultKind::Tensor
            };
            ((**ty).clone(), kind)
        }
        ReturnType::Type(_, ty) => {
            // `-> T` with `T: RealField` or `T: Float`: a float type parameter, bounded by
            // another crate's trait.
            let help = if is_plain_type_parameter(ty, &all_generics) {
                format!("bound `{0}` by nabla's float trait, `{0}: nabla::Real` (nabla's rules are written for it; `nalgebra::RealField` may stand beside it), or return `f32` or `f64`", type_text(ty))
            } else {
                "return `f32` or `f64` (or a float array, `Vec`, nalgebra matrix, or a tuple of these); compute other results in a separate function".to_string()
            };
            errors.push(
                ty.span(),
                format!(
                    "the result type `{}` of a #[differentiable] function cannot carry a gradient",
                    type_text(ty)
                ),
                help,
            );
            // The generated items keep their signatures for the callers' sake; an opaque result
            // type cannot be named there.
            let kept = if has_impl_trait(ty) {
                syn::parse_quote!(f64)
            } else {
                (**ty).clone()
            };
            (kept, ResultKind::Tensor)
        }
        ReturnType::Default => {
            errors.push(
                sig.ident.span(),
                format!("#[differentiable] function `{}` has no result", sig.ident),
                "return the value to differentiate, e.g. `-> f64`",
            );
            (syn::parse_quote!(f64), ResultKind::Scalar)
        }
    };

    if !errors.is_empty() || params.iter().any(|p| p.active) {
        return Signature {
            params,
            result_ty,
            result,
            in_impl,
        };
    }
    // The parameter list, or its parentheses when it is empty.
    let at = if sig.inputs.is_empty() {
        sig.paren_token.span.join()
    } else {
        sig.inputs.span()
    };
    errors.push(
        at,
        format!(
            "#[differentiable] function `{}` has no parameter that carries gradient",
            sig.ident
        ),
        "every parameter carries gradient unless it is `#[no_grad]`, `_`-prefixed, or of a type that holds no float (integers, `bool`, `char`, `&str`, and arrays, slices and `Vec`s of them); a function of data only needs no `#[differentiable]`: remove the attribute, and call the function inside `stop_gradient(..)` from differentiated code (`stop_gradient(self.rate())`)",
    );
    Signature {
        params,
        result_ty,
        result,
        in_impl,
    }
}

/// `T`, `F`: a one-letter uppercase type name, by convention a type parameter.
fn is_impl_type_parameter(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
    && p.path.get_ident().is_some_and(|i| {
        let name = i.to_string();
        name.len() == 1 && name.chars().all(|c| c.is_ascii_uppercase())
    }))
}

/// Whether the body builds a value of the type `ty` names with a struct literal or a tuple
/// struct's constructor (`S { w }`, `S(w)`): then the one-letter name is a struct's, which a type
/// parameter never is.
fn constructs(item: &ItemFn, ty: &Type) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, name: &Ident) -> bool {
        let mut tokens = tokens.into_iter().peekable();
        // After `->` the name is a closure's result type (`|acc| -> T { .. }`), not a literal.
        let (mut after_arrow, mut minus_joined) = (false, false);
        while let Some(token) = tokens.next() {
            let found = match &token {
                proc_macro2::TokenTree::Ident(i) => {
                    *i == *name
                        && !after_arrow
                        && matches!(tokens.peek(), Some(proc_macro2::TokenTree::Group(g))
                            if g.delimiter() != proc_macro2::Delimiter::Bracket)
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), name),
                _ => false,
            };
            if found {
                return true;
            }
            // `->` is a `-` joined to a `>`.
            let is_gt = matches!(&token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '>');
            after_arrow = is_gt && minus_joined;
            minus_joined = matches!(&token, proc_macro2::TokenTree::Punct(p)
                if p.as_char() == '-' && p.spacing() == proc_macro2::Spacing::Joint);
        }
        false
    }
    let Type::Path(p) = ty else { return false };
    let Some(name) = p.path.get_ident() else {
        return false;
    };
    walk(quote::ToTokens::to_token_stream(&*item.block), name)
}

/// Whether the function names `Self` anywhere: then it is an associated function of an `impl`.
fn names_self(item: &ItemFn) -> bool {
    fn walk(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "Self",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(&item.sig))
        || walk(quote::ToTokens::to_token_stream(&item.block))
}

/// Whether a parameter type is a user's model type (a struct deriving `Parameters`, `Self`), by
/// its spelling: a path that is not a float, a nalgebra matrix, a standard container or one of
/// the function's type parameters. Methods called on such values are differentiated through
/// their `#[differentiable]` companions.
pub fn is_model_type(ty: &Type, type_params: &[Ident]) -> bool {
    match ty {
        Type::Reference(r) => is_model_type(&r.elem, type_params),
        Type::Paren(p) => is_model_type(&p.elem, type_params),
        Type::Group(g) => is_model_type(&g.elem, type_params),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            let single = p.path.segments.len() == 1;
            let container = matches!(
                name.as_str(),
                "Vec" | "Box" | "Option" | "Rc" | "Arc" | "Cow"
            );
            let type_param = single && type_params.contains(&last.ident);
            let known = is_float(ty) || is_nalgebra_type(&name) || is_data_primitive(&name);
            !(known || container || type_param)
        }
        _ => false,
    }
}

/// The last segment's name of a path type, through references and parentheses
/// (`&std::ops::Range<usize>` gives `Range`).
fn path_type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(r) => path_type_name(&r.elem),
        Type::Paren(p) => path_type_name(&p.elem),
        Type::Group(g) => path_type_name(&g.elem),
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|last| last.ident.to_string())
        }
        _ => None,
    }
}

/// Whether a parameter type is a range of indices by its spelling (`Range<usize>`,
/// `std::ops::RangeInclusive<usize>`, a reference to one): indexing with it reads a part.
pub fn is_range_type(ty: &Type) -> bool {
    matches!(
        path_type_name(ty).as_deref(),
        Some("Range" | "RangeInclusive" | "RangeFrom" | "RangeTo" | "RangeToInclusive")
    )
}

/// Whether a parameter type is a nalgebra matrix or vector by its spelling (`DVector<f64>`,
/// `&nalgebra::Matrix3<f64>`).
pub fn is_matrix_type(ty: &Type) -> bool {
    path_type_name(ty).is_some_and(|name| is_nalgebra_type(&name))
}

/// A slice, array or `Vec` of model structs (`&[Layer]`, `Vec<Layer>`, `[Layer; 3]`), whose
/// elements are read where they lie, as an element of a model's field is.
pub fn is_container_of_models(ty: &Type, type_params: &[Ident]) -> bool {
    match ty {
        Type::Reference(r) => is_container_of_models(&r.elem, type_params),
        Type::Paren(p) => is_container_of_models(&p.elem, type_params),
        Type::Group(g) => is_container_of_models(&g.elem, type_params),
        Type::Slice(s) => is_model_type(&s.elem, type_params),
        Type::Array(a) => is_model_type(&a.elem, type_params),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            match &last.arguments {
                PathArguments::AngleBracketed(args) if last.ident == "Vec" => matches!(
                    args.args.first(),
                    Some(GenericArgument::Type(t)) if is_model_type(t, type_params)
                ),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `f32` or `f64`.
pub fn is_float(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let segments = &p.path.segments;
            let last = segments.last().map(|s| s.ident.to_string());
            matches!(last.as_deref(), Some("f32" | "f64"))
                && segments.last().is_some_and(|s| s.arguments.is_none())
                && (segments.len() == 1 || segments.iter().any(|s| s.ident == "primitive"))
        }
        Type::Paren(p) => is_float(&p.elem),
        Type::Group(g) => is_float(&g.elem),
        _ => false,
    }
}

/// nalgebra's matrix and vector types and aliases, whose first type argument is the scalar.
const NALGEBRA_TYPES: &[&str] = &[
    "Matrix",
    "SMatrix",
    "DMatrix",
    "OMatrix",
    "SVector",
    "DVector",
    "OVector",
    "RowSVector",
    "RowDVector",
    "RowOVector",
    "Vector",
    "RowVector",
    "MatrixView",
    "VectorView",
];

/// Whether a type name is one of nalgebra's matrix or vector types.
pub fn is_nalgebra_type(name: &str) -> bool {
    NALGEBRA_TYPES.contains(&name) || is_nalgebra_alias(name)
}

fn is_nalgebra_alias(name: &str) -> bool {
    let rest = name
        .strip_prefix("RowVector")
        .or_else(|| name.strip_prefix("Vector"))
        .or_else(|| name.strip_prefix("Matrix"));
    match rest {
        Some(dims) if !dims.is_empty() => dims
            .split('x')
            .all(|d| matches!(d, "1" | "2" | "3" | "4" | "5" | "6" | "X")),
        _ => false,
    }
}

/// An error when the function is named like a primitive type (`fn f64(..)`): the companion type
/// generated beside it, which carries its pullback, would shadow the primitive in the module.
pub fn primitive_name(item: &ItemFn) -> Option<syn::Error> {
    let name = item.sig.ident.unraw().to_string();
    let primitive =
        is_data_primitive(&name) && name != "String" || matches!(name.as_str(), "f32" | "f64");
    primitive.then(|| {
        syn::Error::new(
            item.sig.ident.span(),
            format!("a #[differentiable] function cannot be named `{name}`: the items generated beside it would hide the primitive type `{name}`\n\nhelp: rename the function, e.g. `{name}_value`"),
        )
    })
}

/// Whether a parameter type holds no float by its spelling alone: integers, `bool`, `char`,
/// `str`/`String`, `()`, and references, arrays, slices, `Vec`s and tuples of these. Every
/// other type carries gradient, aliases and user types included; rustc then checks that it can.
pub fn carries_no_gradient(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => carries_no_gradient(&r.elem),
        Type::Paren(p) => carries_no_gradient(&p.elem),
        Type::Group(g) => carries_no_gradient(&g.elem),
        Type::Array(a) => carries_no_gradient(&a.elem),
        Type::Slice(s) => carries_no_gradient(&s.elem),
        Type::Tuple(t) => t.elems.iter().all(carries_no_gradient),
        Type::Never(_) => true,
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            match &last.arguments {
                PathArguments::None => is_data_primitive(&name),
                PathArguments::AngleBracketed(args) if name == "Vec" => matches!(
                    args.args.first(),
                    Some(GenericArgument::Type(t)) if carries_no_gradient(t)
                ),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The function's type parameters that are not bounded by `Real` (`T: Copy`, `K: Into<f64>`):
/// data, since nothing says they are floats.
fn type_parameters_not_real(generics: &syn::Generics) -> Vec<Ident> {
    fn bounded_by_real<'a>(mut bounds: impl Iterator<Item = &'a syn::TypeParamBound>) -> bool {
        bounds.any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Real"))
        })
    }
    generics
        .type_params()
        .filter(|param| {
            let in_where = generics
                .where_clause
                .iter()
                .flat_map(|w| &w.predicates)
                .any(|p| {
                    matches!(p, syn::WherePredicate::Type(pt)
                    if matches!(&pt.bounded_ty, Type::Path(tp) if tp.path.is_ident(&param.ident))
                        && bounded_by_real(pt.bounds.iter()))
                });
            !in_where && !bounded_by_real(param.bounds.iter())
        })
        .map(|param| param.ident.clone())
        .collect()
}

/// `T` (or `&T`, `[T; N]`, `&[T]`, `Vec<T>`) for one of `names`.
fn is_plain_type_parameter(ty: &Type, names: &[Ident]) -> bool {
    match ty {
        Type::Reference(r) => is_plain_type_parameter(&r.elem, names),
        Type::Paren(p) => is_plain_type_parameter(&p.elem, names),
        Type::Array(a) => is_plain_type_parameter(&a.elem, names),
        Type::Slice(s) => is_plain_type_parameter(&s.elem, names),
        Type::Path(p) if p.qself.is_none() => {
            names.iter().any(|n| p.path.is_ident(n))
                || p.path.segments.last().is_some_and(|last| {
                    last.ident == "Vec"
                        && matches!(&last.arguments, PathArguments::AngleBracketed(args)
                            if matches!(args.args.first(), Some(GenericArgument::Type(t))
                                if is_plain_type_parameter(t, names)))
                })
        }
        _ => false,
    }
}

/// The primitive (and `String`) type names that hold no float.
pub fn is_data_primitive(name: &str) -> bool {
    matches!(
        name,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "bool"
            | "char"
            | "str"
            | "String"
    )
}

/// Whether a type holds floats by its syntax alone: floats, and arrays, `Vec`s, matrices of them.
/// A tuple of results that carry gradient, `(f64, f64)`, `(f64, DVector<f64>)` or `(T, T)` of
/// type parameters that are not data.
fn float_tuple(ty: &Type, real_generics: &[Ident]) -> bool {
    matches!(ty, Type::Tuple(t) if !t.elems.is_empty()
        && t.elems.iter().all(|e| float_bearing(e) || is_plain_type_parameter(e, real_generics)))
}

pub fn float_bearing(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => float_bearing(&r.elem),
        Type::Paren(p) => float_bearing(&p.elem),
        Type::Group(g) => float_bearing(&g.elem),
        Type::Array(a) => is_float(&a.elem),
        Type::Slice(s) => is_float(&s.elem),
        Type::Path(p) if p.qself.is_none() => {
            if is_float(ty) {
                return true;
            }
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            let first_arg_float = match &last.arguments {
                PathArguments::AngleBracketed(args) => matches!(
                    args.args.first(),
                    Some(GenericArgument::Type(t)) if is_float(t)
                ),
                _ => false,
            };
            if name == "Vec" {
                return first_arg_float;
            }
            (NALGEBRA_TYPES.contains(&name.as_str()) || is_nalgebra_alias(&name)) && first_arg_float
        }
        _ => false,
    }
}

/// Where an error about a parameter's type stands: at the type a reference refers to
/// (`Config` of `&Config`), since on stable Rust a span covers the first token only.
pub fn referent_span(ty: &Type) -> proc_macro2::Span {
    match ty {
        Type::Reference(r) => referent_span(&r.elem),
        Type::Paren(p) => referent_span(&p.elem),
        Type::Group(g) => referent_span(&g.elem),
        other => other.span(),
    }
}

/// A parameter as generated code hands it to a `Tangent` bound: a reference to the value the
/// type names (the referent itself for a reference parameter), standing at `referent_span`.
/// Each bound on a parameter's type is written with it, so that rustc, which reports an
/// unsatisfied bound once per place, reports a type that cannot carry a gradient once.
pub fn parameter_referent(param: &Param) -> (proc_macro2::Span, proc_macro2::TokenStream) {
    let at = referent_span(&param.ty);
    // The name keeps its own hygiene (a function written inside `macro_rules!`).
    let mut ident = param.ident.clone();
    ident.set_span(ident.span().located_at(at));
    let reference = if param.is_ref {
        quote::quote!(#ident)
    } else {
        quote::quote_spanned!(at=> &#ident)
    };
    (at, reference)
}

/// The owned gradient type of a parameter type: references stripped, slices become `Vec`s.
pub fn tangent_type(ty: &Type) -> Type {
    match ty {
        Type::Reference(r) => tangent_type(&r.elem),
        Type::Paren(p) => tangent_type(&p.elem),
        Type::Group(g) => tangent_type(&g.elem),
        Type::Slice(s) => {
            let elem = &s.elem;
            syn::parse_quote_spanned!(s.span()=> ::std::vec::Vec<#elem>)
        }
        Type::Path(p) => {
            let name = p.path.segments.last().map(|s| s.ident.to_string());
            match name.as_deref() {
                Some("MatrixView") | Some("VectorView") => {
                    // A view's gradient is an owned matrix of the same shape.
                    let mut owned = p.clone();
                    if let Some(last) = owned.path.segments.last_mut() {
                        last.ident = Ident::new(
                            if name.as_deref() == Some("MatrixView") {
                                "OMatrix"
                            } else {
                                "OVector"
                            },
                            last.ident.span(),
                        );
                    }
                    Type::Path(owned)
                }
                _ => ty.clone(),
            }
        }
        other => other.clone(),
    }
}

/// The arguments of `#[custom_gradient(path)]`.
pub fn custom_gradient_path(attr: proc_macro2::TokenStream) -> syn::Result<syn::Path> {
    if attr.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[custom_gradient] needs the path of the pullback function\n\nhelp: write `#[custom_gradient(my_function_pullback)]`, where `my_function_pullback(args.., cotangent)` returns the gradient",
        ));
    }
    syn::parse2::<syn::Path>(attr)
}

/// A type as the user would write it: `impl Into<f64>`, `&[usize]`.
pub(crate) fn type_text(ty: &Type) -> String {
    let text = quote::quote!(#ty).to_string();
    let mut out = text
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace(" ;", ";");
    out.truncate(out.trim_end().len());
    out
}

/// Whether a type mentions `impl Trait` anywhere (`impl Copy`, `&impl Fn(f64) -> f64`).
pub fn has_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}
