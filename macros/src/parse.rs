//! Reads the signature of a `#[differentiable]` function: which parameters carry gradient, the
//! types of their gradients, and what the result is.

use proc_macro2::{Ident, Span};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::errors::Errors;

/// The attribute that marks a float parameter as data: `#[no_grad] x: f64`.
pub const NO_GRAD: &str = "no_grad";

pub struct Param {
    /// The binding, or a generated one for pattern parameters.
    pub ident: Ident,
    pub ty: Type,
    /// Carries gradient: float-bearing type, not `#[no_grad]`, not `_`-prefixed.
    pub active: bool,
    /// The owned gradient type (`&[f64]` → `Vec<f64>`), for active parameters.
    pub tangent: Option<Type>,
    pub is_ref: bool,
    pub span: Span,
}

pub enum ResultKind {
    /// `f32`/`f64`: `NAME_grad` is generated.
    Scalar,
    /// A vector, matrix or array of floats: only `NAME_vjp`.
    Tensor,
}

pub struct Signature {
    pub params: Vec<Param>,
    pub result_ty: Type,
    pub result: ResultKind,
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
    if let Some(unsafety) = &sig.unsafety {
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

    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                errors.push(
                    receiver.span(),
                    "methods (`self` parameters) are not supported in #[differentiable] functions",
                    "write a free function that takes the fields it differentiates as parameters",
                );
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
                let (ident, named) = match &*pat_type.pat {
                    Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                        (pi.ident.clone(), true)
                    }
                    other => (Ident::new(&format!("__arg{index}"), other.span()), false),
                };
                let underscore = ident.to_string().starts_with('_');
                let float = float_bearing(&ty);
                if let Type::Reference(r) = &ty {
                    if r.mutability.is_some() && float {
                        errors.push(
                            ty.span(),
                            "`&mut` parameters are not supported in #[differentiable] functions",
                            "take the value by reference (`&`) or by value and return the new value",
                        );
                    }
                }
                let active = float && !no_grad && !underscore && named;
                if float && !no_grad && !underscore && !named {
                    errors.push(
                        pat_type.pat.span(),
                        "a parameter that carries gradient must be a plain name",
                        "bind it to a name and destructure it in the body, or mark it `#[no_grad]`",
                    );
                }
                params.push(Param {
                    tangent: active.then(|| tangent_type(&ty)),
                    is_ref: matches!(ty, Type::Reference(_)),
                    ident,
                    ty,
                    active,
                    span: pat_type.span(),
                });
            }
        }
    }

    let (result_ty, result) = match &sig.output {
        ReturnType::Type(_, ty) if is_float(ty) => ((**ty).clone(), ResultKind::Scalar),
        ReturnType::Type(_, ty) if float_bearing(ty) && !matches!(**ty, Type::Reference(_)) => {
            ((**ty).clone(), ResultKind::Tensor)
        }
        ReturnType::Type(_, ty) => {
            errors.push(
                ty.span(),
                format!(
                    "the result type `{}` of a #[differentiable] function cannot carry a gradient",
                    quote::quote!(#ty).to_string().replace(' ', "")
                ),
                "return `f32` or `f64` (or a float array, `Vec`, or nalgebra matrix); compute other results in a separate function",
            );
            ((**ty).clone(), ResultKind::Tensor)
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
        };
    }
    errors.push(
        sig.inputs.span(),
        format!(
            "#[differentiable] function `{}` has no parameter that carries gradient",
            sig.ident
        ),
        "parameters carry gradient when their type is written as f32, f64, or an array, slice, `Vec` or nalgebra matrix of them (type aliases are not looked through), and they are not `#[no_grad]` or `_`-prefixed",
    );
    Signature {
        params,
        result_ty,
        result,
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

/// Whether a type is float-bearing by its syntax alone (see DESIGN.md, "Active parameters").
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
