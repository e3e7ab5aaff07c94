//! Element-wise `map(|x| ..)` closures: each is lowered as a function of one scalar, checked like
//! a function body, and differentiated into a scalar pullback the runtime applies per element.

use proc_macro2::Span;

use crate::analysis::activity::{self, Activity};
use crate::check;
use crate::errors::Errors;
use crate::ir::{Body, Closure, Origin, VarId};
use crate::parse::{Param, ResultKind, Signature};

/// The closure seen as a function: its parameter 0, the element, carries gradient when the
/// mapped values do (`element_varied`), and so does each enclosing variable it reads that
/// carries gradient in the enclosing function (`captured_varied`), as parameters `1..`.
pub fn element_signature(
    closure: &Closure,
    element_varied: bool,
    captured_varied: &dyn Fn(VarId) -> bool,
) -> Signature {
    let param_ident = |index: usize| {
        closure
            .body
            .vars
            .iter()
            .find(|v| v.origin == Origin::Param(index))
            .map(|v| v.ident.clone())
            .unwrap_or_else(|| proc_macro2::Ident::new("x", Span::call_site()))
    };
    let param = |index: usize, active: bool| {
        let ident = param_ident(index);
        Param {
            span: ident.span(),
            ident,
            ty: syn::parse_quote!(f64),
            active,
            tangent: None,
            pattern: None,
            is_ref: false,
        }
    };
    let mut params = vec![param(0, element_varied)];
    for (k, &outer) in closure.capture_params.iter().enumerate() {
        params.push(param(k + 1, captured_varied(outer)));
    }
    Signature {
        params,
        in_impl: false,
        result_ty: syn::parse_quote!(f64),
        result: ResultKind::Scalar,
    }
}

/// Checks every `map` closure of `body` by the usual rules. The enclosing variables it reads
/// that carry gradient are parameters of it, so a comparison or rounding of one is reported
/// there as of any parameter; so is its element, when the mapped values carry gradient (the
/// lengths of strings, `names.iter().map(|s| s.len())`, are data).
pub fn check_closures(body: &Body, activity: &Activity, errors: &mut Errors) {
    let varied_elements = activity::closures_of_varied_elements(body, activity);
    for (index, closure) in body.closures.iter().enumerate() {
        let element_varied = varied_elements.contains(&index);
        let sig = element_signature(closure, element_varied, &|v| activity.varied.contains(&v));
        let inner = activity::analyze(&closure.body, &sig);
        check::check(&closure.body, &sig, &inner, errors);
        check_closures(&closure.body, &inner, errors);
    }
}
