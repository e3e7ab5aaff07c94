//! Programs around the reuse of computed values and the rewritten forms (`from_iterator`,
//! `zip_map`, reductions over ranges, ranges as values) that once went wrong: each against
//! central finite differences, or against the panic the plain function gives.
#![allow(
    clippy::needless_range_loop,
    clippy::unnecessary_cast,
    clippy::useless_vec
)] // written as users write them

use nabla::{check_gradient, differentiable, stop_gradient};
use nalgebra::{DVector, Vector2};

const W: [f64; 5] = [0.7, -1.3, 0.4, 1.1, 0.9];

fn check(f: impl Fn(&[f64]) -> f64, grad: impl Fn(&[f64]) -> (f64, Vec<f64>), what: &str) {
    for w in [W, [1.5, 2.0, 0.3, -0.6, 0.2]] {
        let (value, g) = grad(&w);
        assert!(
            (value - f(&w)).abs() < 1e-12,
            "{what}: value {value} vs {}",
            f(&w)
        );
        let report = check_gradient(&f, &w, &g);
        assert!(report.passes(1e-8), "{what} at {w:?}: {report}");
    }
}

#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn sum_of_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

/// An element read by reference (`x`) and the same element read by value (`w[i]`).
#[differentiable]
fn element_by_reference_and_by_value(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, x) in w.iter().enumerate() {
        s += x * square(w[i]);
    }
    let a = square(w[1]);
    let r = &w[1];
    s + a + r * 3.0
}

#[test]
fn a_reused_element_keeps_how_it_is_read() {
    check(
        element_by_reference_and_by_value,
        element_by_reference_and_by_value_grad,
        "by reference and by value",
    );
}

/// The same constant arithmetic in two precisions.
#[differentiable]
fn constants_of_two_types(w: &[f64]) -> f64 {
    let a: f32 = 1.0 / 3.0;
    let b = (1.0 / 3.0) as f64;
    w[0] * b + a as f64
}

#[test]
fn constants_are_not_shared_across_types() {
    check(
        constants_of_two_types,
        constants_of_two_types_grad,
        "constants",
    );
    let (_, g) = constants_of_two_types_grad(&W);
    assert_eq!(g[0], 1.0 / 3.0);
}

/// Closures that count their calls in a captured variable.
#[differentiable]
fn counting_closures(w: &[f64]) -> f64 {
    let mut c = 0.0;
    let v = DVector::from_iterator(
        3,
        w[..3].iter().map(|x| {
            c += 1.0;
            x * c
        }),
    );
    let mut e = 0.0;
    let s = (0..3)
        .map(|i| {
            e += 1.0;
            w[i] * e
        })
        .sum::<f64>();
    let mut z = 0.0;
    let a = Vector2::new(w[0], w[1]);
    let b = Vector2::new(w[2], w[3]);
    let zipped = a.zip_map(&b, |x, y| {
        z += 1.0;
        x * y * z
    });
    let mut t = 0.0;
    let plain: f64 = w
        .iter()
        .map(|x| {
            t += 0.5;
            x * t
        })
        .sum();
    v.sum() * w[4] + s + zipped.sum() + plain
}

#[test]
fn a_captured_counter_counts_in_every_rewrite() {
    check(
        counting_closures,
        counting_closures_grad,
        "counting closures",
    );
}

/// A range bound to a name, used as a part and as a loop.
#[differentiable]
fn named_range(w: &[f64]) -> f64 {
    let r = 1..3;
    let counted = 1..3;
    let part = sum_of_squares(&w[r]) * w[0];
    let mut s = 0.0;
    for i in counted {
        s += w[i] * w[i];
    }
    // A range that reads only the length of a value that carries gradient.
    let tail = 2..w.len();
    for i in tail {
        s += w[i].sin();
    }
    part + s
}

#[test]
fn ranges_bound_to_names() {
    check(named_range, named_range_grad, "named range");
}

/// Integer sums over ranges and windows, with float literals in their conditions.
#[differentiable]
fn integer_counts(w: &[f64], #[no_grad] d: &[f64]) -> f64 {
    let positive: usize = (0..d.len()).map(|i| if d[i] > 0.0 { 1 } else { 0 }).sum();
    let rising: usize = d.windows(2).map(|p| if p[1] > p[0] { 1 } else { 0 }).sum();
    w[0] * positive as f64 + w[1] * rising as f64
}

#[test]
fn integer_sums_stay_as_written() {
    let d = [0.5, -1.0, 2.0, 3.0];
    let (value, g) = integer_counts_grad(&W, &d);
    assert_eq!(value, W[0] * 3.0 + W[1] * 2.0);
    assert_eq!(g, vec![3.0, 2.0, 0.0, 0.0, 0.0]);
}

#[differentiable]
fn too_short(w: &[f64]) -> f64 {
    DVector::from_iterator(w.len() + 1, w.iter().map(|x| x * 2.0)).sum()
}

#[differentiable]
fn too_long(w: &[f64]) -> f64 {
    DVector::from_iterator(2, w.iter().map(|x| x * 2.0)).sum()
}

#[differentiable]
fn mismatched(w: &[f64]) -> f64 {
    let a = DVector::from_column_slice(&w[..2]);
    let b = DVector::from_column_slice(&w[..3]);
    a.zip_map(&b, |x, y| x * y).sum()
}

#[test]
fn lengths_are_checked_as_nalgebra_does() {
    for f in [too_short as fn(&[f64]) -> f64, too_long, mismatched] {
        assert!(std::panic::catch_unwind(|| f(&W)).is_err());
    }
    for g in [
        too_short_grad as fn(&[f64]) -> (f64, Vec<f64>),
        too_long_grad,
        mismatched_grad,
    ] {
        assert!(std::panic::catch_unwind(|| g(&W)).is_err());
    }
}

/// Data buffers changed by methods nabla keeps as written: after a loop that read them, inside
/// a loop through `stop_gradient`, and sorted in place.
#[differentiable]
fn changed_after_the_loop(w: f64, #[no_grad] data: &[f64]) -> f64 {
    let mut q = data.to_vec();
    q.push(0.5);
    let mut s = 0.0;
    for i in 0..3 {
        s += w * w * q[i];
    }
    let r = q.remove(0);
    s + r * w
}

#[differentiable]
fn taken_in_a_loop(w: f64, #[no_grad] data: &[f64]) -> f64 {
    let mut q = data.to_vec();
    let mut s = 0.0;
    for _ in 0..3 {
        let k = stop_gradient(q.remove(0));
        s += w * w * k;
    }
    s
}

#[differentiable]
fn sorted_data(w: &[f64], #[no_grad] data: &[f64]) -> f64 {
    let mut d = data.to_vec();
    let before = d[0] * w[0];
    d.sort_by(f64::total_cmp);
    let mut idx = vec![2usize, 0, 1];
    idx.sort();
    before + d[0] * w[1] + w[idx[0]] * 2.0
}

#[test]
fn data_changed_by_kept_methods() {
    let data = [3.0, 1.0, 2.0, 7.0];
    let fd = |f: &dyn Fn(f64) -> f64, x: f64| (f(x + 1e-6) - f(x - 1e-6)) / 2e-6;
    let (value, g) = changed_after_the_loop_grad(0.7, &data);
    assert_eq!(value, changed_after_the_loop(0.7, &data));
    let want = fd(&|x| changed_after_the_loop(x, &data), 0.7);
    assert!((g - want).abs() < 1e-6, "after the loop: {g} vs {want}");
    let (value, g) = taken_in_a_loop_grad(0.7, &data[..3]);
    assert_eq!(value, taken_in_a_loop(0.7, &data[..3]));
    let want = fd(&|x| taken_in_a_loop(x, &data[..3]), 0.7);
    assert!((g - want).abs() < 1e-6, "in a loop: {g} vs {want}");
    check(
        |w| sorted_data(w, &data),
        |w| sorted_data_grad(w, &data),
        "sorted data",
    );
}

/// `from_iterator` of a matrix with fixed rows, whose one written dimension is its columns:
/// kept as nalgebra's own call.
#[differentiable]
fn fixed_rows(#[no_grad] w: &[f64], s: f64) -> f64 {
    let m = nalgebra::Matrix2xX::from_iterator(2, (0..4).map(|k| w[k] * 2.0));
    m.sum() * s
}

#[test]
fn from_iterator_with_fixed_rows() {
    let (value, g) = fixed_rows_grad(&W, 0.5);
    assert_eq!(value, fixed_rows(&W, 0.5));
    assert_eq!(g, fixed_rows(&W, 1.0));
}

/// A sorted copy inside `stop_gradient(..)` under the buffer's own name: the copy is changed,
/// not the buffer, which is no error. (The second `stop_gradient` has its argument on lines of
/// its own, with the trailing comma rustfmt writes: still one argument, not a tuple.)
#[differentiable]
fn scaled_by_the_median(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    v.push(w[0] * 2.0);
    let median = stop_gradient({
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    });
    let spread = stop_gradient(
        w.iter()
            .map(|v| {
                let mut v = vec![*v, 1.0];
                v.push(2.0);
                v.len() as f64
            })
            .sum::<f64>(),
    );
    v[0] * median + v[4] * spread
}

#[test]
fn a_copy_changed_under_the_same_name_inside_stop_gradient() {
    let (value, g) = scaled_by_the_median_grad(&W);
    assert_eq!(value, scaled_by_the_median(&W));
    let mut sorted = W.to_vec();
    sorted.push(W[0] * 2.0);
    sorted.sort_by(f64::total_cmp);
    let (median, spread) = (sorted[sorted.len() / 2], 3.0 * W.len() as f64);
    // v[0] = w0 and v[4] = w4, with the median and the spread held constant.
    let mut want = vec![0.0; W.len()];
    want[0] = median;
    want[4] = spread;
    assert_eq!(g, want);
}
