//! The differentiability checks: every construct through which gradient would silently stop or
//! vanish is a compile error at the user's tokens that names the construct and the parameter,
//! says why no gradient flows, and ends with the fix. The catalogue of these errors, with the
//! TensorFlow/Keras bug each one prevents, is `docs/errors.md`.
//!
//! Two kinds of rule:
//!
//! - **Immediate**: the construct itself loses gradient wherever it appears on a value that
//!   carries gradient — `x.round()`, `x % m`, a method nabla knows no derivative for, a `match`
//!   or `if` that picks between constants on a condition that depends on a parameter.
//! - **Step values**: a comparison, an integer cast, a test such as `is_sign_negative` or a
//!   position such as `argmax` of a value that carries gradient yields a *step value* (a
//!   bool or an integer, flat almost everywhere). A step value is fine for deciding (`if`,
//!   `while`, `match`) and for selecting (`v[i]`); it is an error where it becomes a float
//!   again — `as f64`, `f64::from`, arithmetic with values that carry gradient, or the result —
//!   because from there on it is part of the computed value, and its derivative is zero.
//!   Variables that an `if` sets only to values without gradient, on a step condition, are step
//!   values too (`if p > 0.5 { correct += 1 }`). Loop trip counts are not: iterating until
//!   convergence is fine.
//!
//! The analysis is syntactic (the macro sees no types), so kinds (float, integer, bool) are
//! inferred from literals, casts, ascriptions and parameter types, and stay unknown otherwise; an
//! unknown kind never causes an error on its own.

mod flow;
mod immediate;
mod kept_assignments;
mod kept_changes;
pub(crate) mod kinds;
mod messages;
mod origins;
mod parameters;
mod places;
pub(crate) mod render;
mod report;
mod step_values;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet};

use crate::analysis::activity::Activity;
use crate::errors::Errors;
use crate::ir::Body;
use crate::parse::Signature;

use flow::Flow;
use kinds::{kind_of_primitive, Kind};
use report::Checker;

/// Path prefixes of functions that are certainly not `#[differentiable]`.
const LIBRARY_ROOTS: &[&str] = &["std", "core", "alloc"];

/// A callee the macro can tell has no companion pullback, from its path alone.
enum Callee {
    /// `f64::from(x)`.
    FloatConversion(String),
    /// `DVector::from_vec(..)`: a nalgebra constructor other than `new`.
    Matrix,
    /// `Some(x)`, `Wrapper(x)`: a tuple struct or variant.
    Constructor,
    /// `std::..`, `i64::..`.
    Library,
}

/// Calls the macro reports itself, with a better message than rustc's for a missing companion.
/// Types are recognized by their names: primitive and nalgebra types, and (by Rust's naming
/// convention, which rustc lints) `UpperCamelCase` segments.
fn foreign_callee(path: &syn::Path) -> Option<Callee> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let upper = |name: &str| name.chars().next().is_some_and(|c| c.is_uppercase());
    match names.as_slice() {
        [one] if upper(one) => Some(Callee::Constructor),
        [first, ..] if LIBRARY_ROOTS.contains(&first.as_str()) => Some(Callee::Library),
        [.., ty, last] if matches!(ty.as_str(), "f32" | "f64") && last == "from" => {
            Some(Callee::FloatConversion(ty.clone()))
        }
        [.., ty, _] if kind_of_primitive(ty) != Kind::Unknown => Some(Callee::Library),
        [.., ty, _] if crate::parse::is_nalgebra_type(ty) => Some(Callee::Matrix),
        // `Shape::Circle(r)`: a variant or a tuple struct in a module.
        [.., _, last] if upper(last) => Some(Callee::Constructor),
        _ => None,
    }
}

/// Runs the checks, recording every error in `errors`. Returns the paths of the calls that are
/// differentiated through (their callees must be `#[differentiable]`), so the fallback can name
/// them too when the function has errors: rustc then reports a callee that is not, in the same
/// build.
pub fn check(
    body: &Body,
    sig: &Signature,
    activity: &Activity,
    errors: &mut Errors,
) -> Vec<syn::Path> {
    // Errors from the signature or from lowering leave holes in the IR (an unsupported
    // expression reads nothing), which would make parameters look unused.
    let earlier_errors = !errors.is_empty();
    let flow = Flow::analyze(body, sig, activity);
    let mut checker = Checker {
        flow,
        errors,
        reported: HashSet::new(),
        blamed: BTreeSet::new(),
        rejected_values: HashSet::new(),
        differentiated_calls: Vec::new(),
    };
    checker.block(&body.block);
    checker.result();
    if !earlier_errors {
        checker.parameters();
    }
    checker.differentiated_calls
}
