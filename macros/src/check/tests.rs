//! Unit tests of the checks: what `#[differentiable]` accepts and what it reports.

use crate::errors::Errors;

/// The messages `#[differentiable]` reports for a function, from every stage up to the checks.
fn errors_of(source: &str) -> Vec<String> {
    let item: syn::ItemFn = syn::parse_str(source).expect("test source parses");
    let mut errors = Errors::default();
    let sig = crate::parse::signature(&item, &mut errors);
    let body = crate::lower::lower(&item, &sig, &mut errors);
    let activity = crate::analysis::activity::analyze(&body, &sig);
    super::check(&body, &sig, &activity, &mut errors);
    errors.messages()
}

#[track_caller]
fn accepted(source: &str) {
    let errors = errors_of(source);
    assert!(
        errors.is_empty(),
        "false positive on\n{source}\n{errors:#?}"
    );
}

#[track_caller]
fn rejected(source: &str, fragment: &str) {
    let errors = errors_of(source);
    assert!(
        errors.iter().any(|e| e.contains(fragment)),
        "expected an error containing {fragment:?} for\n{source}\ngot {errors:#?}"
    );
}

#[test]
fn comparisons_decide_branches_that_carry_gradient() {
    accepted("fn f(x: f64) -> f64 { if x > 0.0 { x } else { 0.01 * x } }");
    accepted("fn f(x: f64) -> f64 { let mut y = 0.0; if x > 0.0 { y = x; } y * 3.0 }");
    accepted(
        "fn f(x: f64, #[no_grad] n: usize) -> f64 {
            let mut y = x;
            for _ in 0..n { if y > 100.0 { return y; } y = y * 3.0; }
            y
        }",
    );
    accepted(
        "fn f(r: f64, #[no_grad] d: f64) -> f64 {
            if r.abs() <= d && d > 0.0 { 0.5 * r * r } else { d * (r.abs() - 0.5 * d) }
        }",
    );
    accepted("fn f(x: f64, #[no_grad] m: u8) -> f64 { match m { 0 => x * x, _ => 3.0 * x } }");
}

#[test]
fn steps_that_scale_or_select_values_with_gradient_are_fine() {
    for source in [
        "fn f(x: f64) -> f64 { let mask = (x > 0.0) as i32 as f64; mask * x }",
        "fn f(x: f64) -> f64 { let s = if x > 0.0 { 1.0 } else { 0.01 }; s * x }",
        "fn f(r: f64) -> f64 { let mut w = 1.0; if r > 1.0 { w = 0.5; } w * r * r }",
        "fn f(x: f64) -> f64 { x.signum() * x }",
        "fn f(x: f64) -> f64 { x / -x.signum() }",
        "fn f(r: f64) -> f64 { if r.abs() > 1.0 { r.signum() } else { r } }",
        "fn f(x: f64) -> f64 { x.is_sign_negative() as i32 as f64 * x }",
        // Arithmetic with constants keeps a step a step, which then scales.
        "fn f(a: f64, y: f64) -> f64 { let m = if y > 0.5 { 1.0 } else { 0.0 }; a * (1.0 + m) + y * y }",
        "fn f(x: f64) -> f64 { let s = 0.99 * ((x > 0.0) as i32 as f64) + 0.01; s * x }",
    ] {
        accepted(source);
    }
    // A step with a constant added is a term of its own all the same.
    rejected(
        "fn f(x: f64) -> f64 { let m = (x > 0.5) as i32 as f64; x * x + (1.0 + m) }",
        "turned into a number",
    );
    // The step is the only way `x` reaches the result: its gradient would be zero.
    rejected(
        "fn f(x: f64, y: f64) -> f64 { y * x.signum() }",
        "`x.signum()` has derivative zero",
    );
    rejected(
        "fn f(x: f64, y: f64) -> f64 { let m = (x > 0.0) as i32 as f64; m * y }",
        "the comparison `x > 0.0` is turned into a number",
    );
}

#[test]
fn selections_guards_and_clipping_are_fine() {
    accepted(
        "fn f(xs: &[f64], w: f64, #[no_grad] c: f64) -> f64 {
            let mut best = f64::INFINITY;
            let mut best_i = 0;
            for i in 0..xs.len() {
                let d = (xs[i] - c).abs();
                if d < best { best = d; best_i = i; }
            }
            xs[best_i] * w + best
        }",
    );
    accepted(
        "fn f(x: f64) -> f64 {
            if x.is_nan() { return 0.0; }
            let mut v = x * 2.0;
            if v > 1.0 { v = 1.0; }
            v
        }",
    );
    accepted(
        "fn f(x: f64, #[no_grad] label: f64) -> f64 {
            let mask = if label > 0.5 { 1.0 } else { 0.0 };
            mask * x
        }",
    );
    accepted("fn f(x: f64) -> f64 { let n = (x.abs() * 10.0) as usize; series(x, n) }");
}

#[test]
fn iterating_until_convergence_is_fine() {
    accepted(
        "fn f(a: f64) -> f64 {
            let mut y = a;
            let mut steps = 0;
            while (y * y - a).abs() > 1e-12 && steps < 100 {
                let rate = 1.0 / (steps as f64 + 1.0);
                y = y - rate * (y - a / y) * 0.5;
                steps += 1;
            }
            y
        }",
    );
    accepted(
        "fn f(x: f64) -> f64 {
            let mut y = x;
            loop { y = 0.5 * y; if y.abs() < 1.0 { break; } }
            y
        }",
    );
}

#[test]
fn almost_everywhere_differentiable_methods_are_fine() {
    accepted(
        "fn f(x: f64, y: f64) -> f64 {
            x.max(y) + x.min(0.5) + (x - y).abs() + x.clamp(-1.0, 1.0) + (3.0 * y).fract()
        }",
    );
    accepted("fn f(v: &SVector<f64, 3>) -> f64 { let (i, _) = v.argmax(); v[i] * v[i] }");
    accepted("fn f(v: &SVector<f64, 3>) -> f64 { let i = v.iamax(); 3.0 * v[i] + v.max() }");
    accepted("fn f(t: &[f64], x: f64) -> f64 { let i = (x.abs() * 2.0) as usize; t[i] * x }");
}

#[test]
fn steps_of_values_without_gradient_are_fine() {
    accepted(
        "fn f(x: f64, #[no_grad] df: f64, #[no_grad] n: usize, #[no_grad] t: f64) -> f64 {
            let c = ln_gamma(0.5 * df) + n as f64 + (t > 0.5) as i32 as f64 + t.round();
            c * x
        }",
    );
    accepted(
        "fn f(x: f64, w: f64) -> f64 {
            let hard = stop_gradient((x > 0.5) as i32 as f64);
            let other = stop_gradient(plain(w).floor() % 2.0);
            hard * w + other + x + stop_gradient(if x > 0.0 { 1.0 } else { 0.0 })
        }",
    );
    accepted("fn f(x: f64) -> f64 { let q = x + stop_gradient(x.round() - x); q * q }");
}

#[test]
fn comparisons_used_as_numbers() {
    rejected(
        "fn f(pred: f64) -> f64 { (pred > 0.5) as i32 as f64 }",
        "the comparison `pred > 0.5` is turned into a number here",
    );
    rejected(
        "fn f(x: f64, y: f64) -> f64 { f64::from(x > y) + x }",
        "`x > y`",
    );
    rejected(
        "fn f(a: f64, b: f64) -> f64 { let n = u8::from(a > 0.0) + u8::from(b > 0.0); n as f64 }",
        "`a` and `b`",
    );
    rejected(
        "fn f(x: f64) -> f64 { x.is_sign_negative() as i32 as f64 + x }",
        "the test `x.is_sign_negative()`",
    );
    rejected(
        "fn f(x: f64) -> f64 { let b: f64 = (x > 0.5).into(); b + x }",
        "the comparison `x > 0.5`",
    );
}

#[test]
fn branches_that_pick_constants() {
    rejected(
        "fn f(x: f64) -> f64 { if x.sin() > 0.5 { 1.0 } else { 0.0 } }",
        "this `if` picks between `1.0` and `0.0`",
    );
    rejected(
        "fn f(x: f64) -> f64 { match (x * 4.0) as i32 { 0 => 0.1, _ => 1.0 } }",
        "this `match` picks between",
    );
    rejected(
        "fn f(p: &[f64]) -> f64 {
            let mut c = 0;
            for i in 0..p.len() { if p[i] > 0.5 { c += 1; } }
            c as f64
        }",
        "sets `c` only to values that carry no gradient",
    );
    rejected(
        "fn f(x: f64) -> f64 { if x > 0.5 { return 1.0; } 0.0 }",
        "sets the function's result",
    );
    rejected(
        "fn f(x: f64) -> f64 { let mut s = 1.0; if x < 0.0 { s = 0.01; } s + x }",
        "sets `s` only to values that carry no gradient",
    );
}

#[test]
fn integer_casts_and_positions_turned_into_numbers() {
    rejected(
        "fn f(x: f64) -> f64 { let q = (x * 10.0) as i64; q as f64 / 10.0 }",
        "the integer cast `(x * 10.0) as i64`",
    );
    rejected(
        "fn f(v: &SVector<f64, 4>) -> f64 { let (c, _) = v.argmax(); c as f64 }",
        "`c` is the index from `v.argmax()`",
    );
    rejected(
        "fn f(v: &SVector<f64, 3>) -> f64 { let (_, m) = v.argmax(); m }",
        "returns beside the index",
    );
}

#[test]
fn zero_derivative_operations() {
    for method in [
        "round",
        "round_ties_even",
        "floor",
        "ceil",
        "trunc",
        "signum",
    ] {
        rejected(
            &format!("fn f(x: f64) -> f64 {{ x.{method}() + x }}"),
            &format!("`x.{method}()` has derivative zero"),
        );
    }
    rejected(
        "fn f(x: f32) -> f64 { f64::from(x.to_bits()) }",
        "reinterprets",
    );
    rejected(
        "fn f(t: f64) -> f64 { t % 1.0 }",
        "`t % 1.0` has no derivative rule",
    );
    rejected(
        "fn f(t: f64) -> f64 { t.rem_euclid(2.0) }",
        "stop_gradient((t / 2.0).floor())",
    );
}

#[test]
fn calls_without_derivative() {
    rejected(
        "fn f(v: &SVector<f64, 3>) -> f64 { v.variance() }",
        "`v.variance()`",
    );
    let chained = errors_of("fn f(xs: &[f64]) -> f64 { xs.iter().cycle().next().unwrap() * 2.0 }");
    assert_eq!(chained.len(), 1, "{chained:#?}");
    rejected("fn f(x: f32) -> f64 { f64::from(x) }", "`x as f64`");
    rejected(
        "fn f(x: f64) -> f64 { Meters(x).0 }",
        "`Meters(..)` builds a value",
    );
    // A user function may be #[differentiable]: rustc decides, through its companion.
    accepted("fn f(x: f64) -> f64 { helper(x) }");
    accepted("fn f(x: f64) -> f64 { Model::forward(x) }");
}

#[test]
fn parameters_that_never_reach_the_result() {
    rejected(
        "fn f(w: f64, b: f64) -> f64 { b * 2.0 }",
        "parameter `w` is never used",
    );
    rejected(
        "fn f(w: f64, t: f64) -> f64 { if t > 1.0 { w * 2.0 } else { w } }",
        "parameter `t` only decides conditions",
    );
    rejected(
        "fn f(w: f64, s: f64) -> f64 { w * stop_gradient(s) }",
        "parameter `s` is only used inside `stop_gradient(..)`",
    );
    // One mistake, one error: a parameter an error already names is not reported again.
    let errors = errors_of("fn f(x: f64) -> f64 { (x > 0.5) as i32 as f64 }");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}
