//! Element-wise `map(|x| ..)` closures: each is lowered as a function of one scalar, checked like
//! a function body, and differentiated into a scalar pullback the runtime applies per element.

use proc_macro2::Span;

use crate::activity::{self, Activity};
use crate::check;
use crate::errors::Errors;
use crate::ir::{Body, Closure, Origin};
use crate::parse::{Param, ResultKind, Signature};

/// The closure seen as a function: its one parameter, the element, carries gradient.
pub fn element_signature(closure: &Closure) -> Signature {
    let param = closure
        .body
        .vars
        .iter()
        .find(|v| v.origin == Origin::Param(0))
        .map(|v| v.ident.clone())
        .unwrap_or_else(|| proc_macro2::Ident::new("x", Span::call_site()));
    Signature {
        params: vec![Param {
            span: param.span(),
            ident: param,
            ty: syn::parse_quote!(f64),
            active: true,
            tangent: None,
            pattern: None,
            is_ref: false,
        }],
        in_impl: false,
        result_ty: syn::parse_quote!(f64),
        result: ResultKind::Scalar,
    }
}

/// Checks every `map` closure of `body`: its own body by the usual rules, and that it reads no
/// variable of the enclosing function that carries gradient (its gradient would be dropped).
pub fn check_closures(body: &Body, activity: &Activity, errors: &mut Errors) {
    for closure in &body.closures {
        for &(capture, at) in &closure.captures {
            if activity.varied.contains(&capture) {
                let name = body.var(capture).user_name.clone().unwrap_or_default();
                errors.push(
                    at,
                    format!("this `map` closure reads `{name}`, which carries gradient; gradients of values a closure captures are not supported"),
                    format!("compute with `{name}` outside the closure, e.g. `(m * {name}).map(|x| x.tanh())` rather than `m.map(|x| (x * {name}).tanh())`, or wrap it in `stop_gradient({name})` inside the closure if it is meant as a constant"),
                );
            }
        }
        let sig = element_signature(closure);
        let inner = activity::analyze(&closure.body, &sig);
        check::check(&closure.body, &sig, &inner, errors);
        check_closures(&closure.body, &inner, errors);
    }
}
