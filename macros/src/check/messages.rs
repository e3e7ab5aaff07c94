//! Message and help texts: lists of names, smooth surrogates of comparisons, and the helps of
//! step values and step methods.

use std::collections::BTreeSet;

use quote::ToTokens;

use super::flow::Flow;
use super::origins::Cause;
use super::render::tokens_text;
use crate::errors::Place;
use crate::ir::Operand;
use crate::parse::Signature;

/// The parameters at `params`, as a list of names for "flows back to `x` and `y`".
pub(super) fn params_names(sig: &Signature, params: &BTreeSet<usize>) -> String {
    let names: Vec<String> = params
        .iter()
        .filter_map(|i| sig.params.get(*i))
        .map(|p| format!("`{}`", p.shown()))
        .collect();
    match names.as_slice() {
        [] => "the parameters".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The smooth surrogate of a comparison `a > b`: `nabla::sigmoid(k * (a - b))`.
fn surrogate(flow: &Flow<'_>, origin: usize) -> Option<String> {
    let o = &flow.origins[origin];
    if !matches!(o.cause, Cause::Comparison) {
        return None;
    }
    // Re-render the comparison's operands from its text: `a > b`.
    for (op, flip) in [
        (" >= ", false),
        (" <= ", true),
        (" > ", false),
        (" < ", true),
    ] {
        if let Some((a, b)) = o.text.split_once(op) {
            let (hi, lo) = if flip { (b, a) } else { (a, b) };
            let zero = |t: &str| t == "0.0" || t == "0";
            let scaled = if zero(lo) {
                if hi.contains(' ') {
                    format!("k * ({hi})")
                } else {
                    format!("k * {hi}")
                }
            } else if zero(hi) {
                if lo.contains(' ') {
                    format!("-k * ({lo})")
                } else {
                    format!("-k * {lo}")
                }
            } else {
                format!("k * ({hi} - {lo})")
            };
            return Some(format!("nabla::sigmoid({scaled})"));
        }
    }
    None
}

pub(super) fn comparison_help(flow: &Flow<'_>, origin: usize) -> String {
    let text = &flow.origins[origin].text;
    let mut help = format!("a comparison is a step function, with derivative zero wherever it is defined; to switch between expressions, branch with arms that carry gradient (`if {text} {{ .. }} else {{ .. }}`)");
    if let Some(s) = surrogate(flow, origin) {
        help.push_str(&format!("; for a smooth indicator use `{s}`"));
    }
    help.push_str("; if a constant is intended, write `stop_gradient(..)` around it");
    help
}

pub(super) fn branch_help(flow: &Flow<'_>, condition: usize) -> String {
    let o = &flow.origins[condition];
    let text = &o.text;
    let x = compared_name(text).unwrap_or_else(|| first_param(flow, &o.params));
    let mut help = format!("put the computation that carries gradient inside the arms, as in `if {text} {{ 2.0 * {x} }} else {{ 0.0 }}`");
    if let Some(s) = surrogate(flow, condition) {
        help.push_str(&format!("; for a smooth switch use `{s}`"));
    }
    help.push_str("; if a constant is intended, write `stop_gradient(..)` around the `if`");
    help
}

/// A variable counted or set under a condition: `if p > 0.5 { correct += 1 }`.
pub(super) fn counter_help(flow: &Flow<'_>, condition: usize, name: &str) -> String {
    let o = &flow.origins[condition];
    let mut help = "a condition decides, but passes no gradient to what it tests".to_string();
    if let Some(s) = surrogate(flow, condition) {
        help.push_str(&format!("; to make `{name}` differentiable, accumulate a smooth indicator such as `{s}` instead"));
    } else {
        help.push_str(&format!("; to make `{name}` differentiable, compute it from values that carry gradient in the arms of `if {} {{ .. }}`", o.text));
    }
    help.push_str(&format!("; if `{name}` is a metric rather than part of the result, compute it outside the #[differentiable] function or write `stop_gradient(..)` around it"));
    help
}

/// The value a comparison tests, when it is a plain name or element (`x` in `x > 0.5`, `w[0]`
/// in `w[0] < 1.0`): what the example in a help should compute with.
fn compared_name(comparison: &str) -> Option<String> {
    let (a, b) = [" >= ", " <= ", " > ", " < ", " == ", " != "]
        .iter()
        .find_map(|op| comparison.split_once(op))?;
    let literal =
        |t: &str| t.parse::<f64>().is_ok() || t.trim_end_matches("f64").parse::<f64>().is_ok();
    let plain = |t: &str| {
        !t.is_empty()
            && t.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_alphanumeric() || "_[].".contains(c))
    };
    match (literal(a), literal(b)) {
        (false, true) if plain(a) => Some(a.to_string()),
        (true, false) if plain(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn first_param(flow: &Flow<'_>, params: &BTreeSet<usize>) -> String {
    params
        .iter()
        .filter_map(|i| flow.sig.params.get(*i))
        .map(|p| p.shown())
        .next()
        .unwrap_or_else(|| "x".to_string())
}

/// What to call a step value from a method: `x.total_cmp(&y)` is an ordering, `x.is_nan()` a test.
pub(super) fn test_word(text: &str) -> &'static str {
    if text.contains("cmp(") {
        "ordering"
    } else {
        "test"
    }
}

/// "`a` and `b`", "`a`, `b` and `c`".
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The message and help for a step method (`round`, `signum`, `%`-like) on a value that carries
/// gradient.
pub(super) fn step_method_message(
    name: &str,
    text: &str,
    receiver: &Operand,
    args: &[Operand],
    flow: &Flow<'_>,
    from: &str,
) -> (String, String) {
    let x = flow.render_operand(receiver, 2);
    let arg = args
        .first()
        .map(|a| flow.render_operand(a, 2))
        .unwrap_or_else(|| "m".to_string());
    match name {
        "round" | "round_ties_even" | "floor" | "ceil" | "trunc" => (
            format!("`{text}` has derivative zero wherever it is defined, so no gradient flows back to {from} through it"),
            format!("for a straight-through estimator write `{x} + stop_gradient({text} - {x})`; if the rounded value is meant as a constant (an index, a bin), write `stop_gradient({text})`"),
        ),
        "signum" => (
            format!("`{text}` has derivative zero wherever it is defined, so no gradient flows back to {from} through it"),
            format!("for a smooth sign use `(k * {x}).tanh()`; if the sign is meant as a constant, write `stop_gradient({text})`"),
        ),
        "copysign" => (
            format!("`{text}` has no derivative rule in nabla, so no gradient would flow back to {from}"),
            format!("write `{x}.abs() * stop_gradient({arg}.signum())`, which differentiates in `{x}`"),
        ),
        "rem_euclid" => (
            format!("`{text}` has no derivative rule in nabla: its derivative in `{x}` is 1 between its jumps, but written so, no gradient would flow back to {from}"),
            format!("write `{x} - stop_gradient(({x} / {arg}).floor()) * {arg}`: the same value, with derivative 1 in `{x}`"),
        ),
        "div_euclid" => (
            format!("`{text}` rounds down, so its derivative is zero wherever it is defined and no gradient flows back to {from} through it"),
            format!("if the quotient is meant as a constant, write `stop_gradient({text})`"),
        ),
        "to_bits" | "to_int_unchecked" => (
            format!("`{text}` reinterprets the float as an integer, which has no derivative, so no gradient flows back to {from} through it"),
            format!("compute on the float itself, or write `stop_gradient({text})` if no gradient is meant to flow"),
        ),
        _ => (
            format!("`{text}` has no derivative rule in nabla, so no gradient would flow back to {from} through it"),
            format!("compute on the float itself, or write `stop_gradient({text})` if no gradient is meant to flow"),
        ),
    }
}

/// For a reduction to one element (`reduce`, `max_by`, ..) of the elements `elements`, the
/// folds nabla differentiates that give the largest and the smallest.
pub(super) fn extremum_fold(method: &str, elements: &str) -> Option<String> {
    const REDUCTIONS: &[&str] = &["reduce", "max_by", "min_by", "max_by_key", "min_by_key"];
    if !REDUCTIONS.contains(&method) {
        return None;
    }
    // Over `.iter()` the elements are references, which the closure's pattern takes apart.
    let (largest, smallest) = if elements.ends_with(".iter()") {
        ("|m, &x| m.max(x)", "|m, &x| m.min(x)")
    } else {
        ("f64::max", "f64::min")
    };
    Some(format!(
        "the largest element is the fold `{elements}.fold(f64::NEG_INFINITY, {largest})`, the smallest `{elements}.fold(f64::INFINITY, {smallest})`; write other reductions as a `fold` with a closure or as a loop"
    ))
}

/// A call's arguments as the messages show them, each closure as `|..| ..`.
fn closure_arguments_text(args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) -> String {
    args.iter()
        .map(|a| match crate::syntax::strip_parens(a) {
            syn::Expr::Closure(_) => "|..| ..".to_string(),
            other => tokens_text(&other.to_token_stream()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A chain of methods as the messages show it, the closures of its calls as `|..| ..`:
/// `w.iter().filter(|..| ..)`.
fn chain_text(expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::MethodCall(m) => {
            let turbofish = m
                .turbofish
                .as_ref()
                .map(|t| tokens_text(&t.to_token_stream()))
                .unwrap_or_default();
            format!(
                "{}.{}{turbofish}({})",
                chain_text(&m.receiver),
                m.method,
                closure_arguments_text(&m.args)
            )
        }
        other => tokens_text(&other.to_token_stream()),
    }
}

/// The error for a call or method with no rule that takes a closure, on values that carry
/// gradient (see [`Written::WithClosure`]); `user` is the call in the user's names.
pub(super) fn with_closure_message(
    user: &proc_macro2::TokenStream,
    from: &str,
) -> (Place, String, String) {
    let span = user
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let Ok(expr) = syn::parse2::<syn::Expr>(user.clone()) else {
        let text = tokens_text(user);
        return (
            Place::at(span),
            format!("`{text}` takes a closure and reads values that carry gradient (from {from}): nabla differentiates no closure there"),
            format!("write the computation as a loop; if no gradient is meant to flow through it, write `stop_gradient({text})`"),
        );
    };
    let shown = closure_arguments_text;
    match expr {
        syn::Expr::MethodCall(m) => {
            let name = m.method.to_string();
            let elements = chain_text(&m.receiver);
            let text = format!("{elements}.{name}({})", shown(&m.args));
            if crate::methods::MUTATING_METHODS.contains(&name.as_str()) {
                return (
                    Place::at(m.method.span()),
                    format!("`{name}` is not a method nabla differentiates, and `{text}` reads values that carry gradient from {from}: if it changes a value that carries gradient in place, or orders data by one, the gradient would silently be wrong"),
                    "write a change of a value that carries gradient with element reads and writes (`v[i] = ..`) or with the in-place methods nabla differentiates (see the error catalogue); to order data by values that carry gradient (an argsort), order it by a copy that carries none: `let key = stop_gradient(w.to_vec());`, then `key[a]` in the closure".to_string(),
                );
            }
            let stop = format!(
                "if no gradient is meant to flow through it, write `stop_gradient({text})`"
            );
            let help = match extremum_fold(&name, &elements) {
                Some(fold) => format!("{fold}; {stop}"),
                None if name == "fold" => format!("a fold is differentiated over the elements of a slice, array, `Vec`, part of one or range, with a closure of two parameters whose accumulator is one name (`|acc, x| ..`): fold one value at a time, or write the loop out; {stop}"),
                None if elements.ends_with(".iter_mut()") => format!("write through `{elements}` in a `for` loop: nabla differentiates those writes"),
                None => format!("compute it with differentiable operations, or with a loop; {stop}"),
            };
            (
                Place::at(m.method.span()),
                if name == "fold" {
                    format!("`{text}` is not a fold nabla differentiates, and gradient would flow into it from {from}")
                } else {
                    format!("no derivative is known for `{text}`: `{name}` is not a method nabla differentiates, and gradient would flow into it from {from}")
                },
                help,
            )
        }
        syn::Expr::Call(c) => {
            let path = tokens_text(&c.func.to_token_stream());
            let text = format!("{path}({})", shown(&c.args));
            let last = user.clone().into_iter().last().map_or(span, |t| t.span());
            (
                Place::range(span, last),
                format!("`{text}` takes a closure that reads values carrying gradient (from {from}), and nabla differentiates no closure passed to a function"),
                format!("build the value with a loop and element writes (`m[(i, j)] = ..`, `v[i] = ..`) into a buffer of zeros; if no gradient is meant to flow through it, write `stop_gradient({text})`"),
            )
        }
        other => {
            let text = tokens_text(&other.to_token_stream());
            (
                Place::at(span),
                format!("`{text}` takes a closure and reads values that carry gradient (from {from}): nabla differentiates no closure there"),
                format!("write the computation as a loop; if no gradient is meant to flow through it, write `stop_gradient({text})`"),
            )
        }
    }
}
