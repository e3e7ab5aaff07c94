//! Calls and methods nabla has no rule for that take a closure, on data: kept as written, while
//! values that carry gradient go on around them. Every gradient against central finite
//! differences.

use std::cell::Cell;

use nabla::{check_gradient, differentiable, stop_gradient};
use nalgebra::{DMatrix, DVector};

/// A kernel matrix of data points built by `from_fn`, in a quadratic form of the weights.
#[differentiable]
fn kernel_energy(w: &DVector<f64>, #[no_grad] x: &[f64]) -> f64 {
    let n = x.len();
    let k = DMatrix::from_fn(n, n, |i, j| (-(x[i] - x[j]).powi(2)).exp());
    let kw = &k * w;
    w.dot(&kw)
}

#[test]
fn a_kernel_matrix_of_data() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = DVector::from_vec(vec![0.5, -1.0, 2.0, 0.25]);
    let (value, g) = kernel_energy_grad(&w, &x);
    let k = DMatrix::from_fn(4, 4, |i, j| (-(x[i] - x[j]) * (x[i] - x[j])).exp());
    assert!((value - w.dot(&(&k * &w))).abs() < 1e-12);
    // K is symmetric: the gradient of wᵀKw is 2Kw.
    assert!((&g - 2.0 * &k * &w).norm() < 1e-12);
    let report = check_gradient(
        |v: &[f64]| kernel_energy(&DVector::from_column_slice(v), &x),
        w.as_slice(),
        g.as_slice(),
    );
    assert!(report.passes(1e-8), "{report}");
}

/// The order of data points by `sort_by`, the largest by `max_by` and the first above a
/// threshold by `find`, each deciding which weight is read.
#[differentiable]
fn ranked(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let largest = x.iter().copied().max_by(|a, b| a.total_cmp(b)).unwrap();
    let first = x.iter().copied().find(|v| *v > 0.5).unwrap_or(0.0);
    w[order[0]] * w[order[0]] + 2.0 * w[order[1]] + largest * w[3] + first * w[2].sin()
}

#[test]
fn decisions_on_data() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = [0.5, -1.0, 2.0, 0.25];
    let (value, g) = ranked_grad(&w, &x);
    // Ascending, x orders the points 2, 0, 1, 3; the largest is 1.4, the first above 0.5 is 0.9.
    let want = w[2] * w[2] + 2.0 * w[0] + 1.4 * w[3] + 0.9 * w[2].sin();
    assert!((value - want).abs() < 1e-12);
    assert_eq!(g, vec![2.0, 0.0, 2.0 * w[2] + 0.9 * w[2].cos(), 1.4]);
    let report = check_gradient(|v| ranked(v, &x), &w, &g);
    assert!(report.passes(1e-8), "{report}");
}

/// A fold of data with an accumulator of two values, which nabla folds only one value at a
/// time when gradient flows through it, and a closure that writes into the data's own copy.
#[differentiable]
fn data_statistics(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let (sum, product) = x.iter().fold((0.0, 1.0), |(s, p), v| (s + v, p * v));
    let mut scaled = x.to_vec();
    scaled.iter_mut().for_each(|v| *v *= 2.0);
    w[0] * sum + w[1] * product + w[2] * scaled[1]
}

#[test]
fn folds_and_writes_of_data() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = [0.5, -1.0, 2.0];
    let (value, g) = data_statistics_grad(&w, &x);
    let (sum, product) = (2.4, 0.3 * 0.9 * -0.2 * 1.4);
    assert!((value - (0.5 * sum - product + 2.0 * 1.8)).abs() < 1e-12);
    let want = [sum, product, 1.8];
    assert!(
        g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{g:?}"
    );
    let report = check_gradient(|v| data_statistics(v, &x), &w, &g);
    assert!(report.passes(1e-8), "{report}");
}

/// In-place methods that take a closure, on copies of data read before they change: nalgebra's
/// `apply`, a partial sort and a sort by a cached key.
#[differentiable]
fn reordered(w: f64, #[no_grad] m: &DMatrix<f64>, #[no_grad] x: &[f64]) -> f64 {
    let mut k = m.clone();
    let before = k[(0, 0)];
    k.apply(|e| *e *= 3.0);
    let mut z = x.to_vec();
    z.select_nth_unstable_by(0, |p, q| p.total_cmp(q));
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by_cached_key(|&i| (x[i] * 100.0) as i64);
    (w * before).sin() + w * k[(0, 0)] + w * w * z[0] + w * x[idx[0]]
}

#[test]
fn in_place_closures_on_data() {
    let m = DMatrix::from_row_slice(2, 2, &[0.7, 1.0, 2.0, 3.0]);
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = 0.8;
    let (value, g) = reordered_grad(w, &m, &x);
    let want = (w * 0.7f64).sin() + w * 2.1 + w * w * -0.2 + w * -0.2;
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    let h = 1e-6;
    let fd = (reordered(w + h, &m, &x) - reordered(w - h, &m, &x)) / (2.0 * h);
    assert!((g - fd).abs() < 1e-8, "{g} vs {fd}");
    assert!((g - (0.7 * (w * 0.7f64).cos() + 2.1 - 2.0 * w * 0.2 - 0.2)).abs() < 1e-12);
}

/// Code kept as written with an effect, in a loop that has a loop of its own: the loop is not
/// checkpointed, whose reverse sweep would run the effect again and read what it changed.
#[differentiable]
#[allow(clippy::unit_arg)] // `stop_gradient` of the cell's `set`, as a user may write it.
fn counted_by_a_cell(w: f64, #[no_grad] c: &Cell<f64>) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        for _ in 0..2 {
            acc += w * w * stop_gradient(c.get());
        }
        stop_gradient(c.set(c.get() + 1.0));
    }
    acc
}

#[test]
fn effects_run_once() {
    let w = 0.7;
    let (value, g) = counted_by_a_cell_grad(w, &Cell::new(1.0));
    // The cell holds 1, 2 and 3 in the three iterations: acc = 2 w² (1 + 2 + 3).
    assert!((value - 12.0 * w * w).abs() < 1e-12);
    assert!((g - 24.0 * w).abs() < 1e-12, "{g}");
    let cell = Cell::new(1.0);
    let _ = counted_by_a_cell_grad(w, &cell);
    assert_eq!(cell.get(), 4.0);
}

/// Chains of adaptors with a closure that end in a method of no rule, on data, with closure
/// parameters named like the weights (`|w|`), which within their closures are the closures'.
// `last` rather than `next_back` is the point: a method with no rule at the chain's end.
#[differentiable]
#[allow(clippy::double_ended_iterator_last)]
fn counted(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let above = x.iter().filter(|&&w| w > 0.2).count() as f64;
    let first = x.iter().find(|w| **w > 0.5).copied().unwrap_or(0.0);
    let last_doubled = x
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|w| w * 2.0)
        .last()
        .unwrap_or(0.0);
    let tail: Vec<f64> = x.iter().copied().skip_while(|&w| w < 0.5).collect();
    above * w[0] + first * w[1] * w[1] + last_doubled * w[2] + tail.len() as f64 * w[3].exp()
}

#[test]
fn chains_of_closure_adaptors_on_data() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = [0.5, -1.0, 2.0, 0.25];
    let (value, g) = counted_grad(&w, &x);
    // Three above 0.2; the first above 0.5 is 0.9; the last positive is 1.4; from 0.9 on, three.
    let want = 3.0 * w[0] + 0.9 * w[1] * w[1] + 2.8 * w[2] + 3.0 * w[3].exp();
    assert!((value - want).abs() < 1e-12);
    assert_eq!(g, vec![3.0, 1.8 * w[1], 2.8, 3.0 * w[3].exp()]);
    let report = check_gradient(|v| counted(v, &x), &w, &g);
    assert!(report.passes(1e-8), "{report}");
}

/// Closures on data whose bodies bind a name of their own with `let`, `match` or `for` that a
/// weight also has (`w`): within its scope the name is the closure's, as rustc reads it.
#[differentiable]
fn own_names_in_closures(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let mut d = x.to_vec();
    d.sort_by(|a, b| {
        let w = a - b;
        w.total_cmp(&0.0)
    });
    let m = DMatrix::from_fn(2, 2, |i, j| {
        let w = (i + 2 * j) as f64;
        match i {
            0 => w * 0.5,
            w => w as f64,
        }
    });
    let counted = x.iter().fold(0.0, |acc, v| {
        let mut total = acc;
        for w in 1..3 {
            total += w as f64 * v;
        }
        total
    });
    w[0] * w[0] * d[0] + w[1] * m[(0, 1)] + w[2] * m[(1, 0)] + counted * w[3]
}

#[test]
fn a_closure_s_own_names_are_its_own() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = [0.5, -1.0, 2.0, 0.25];
    let (value, g) = own_names_in_closures_grad(&w, &x);
    // Ascending d starts at -0.2; m[(0, 1)] = 2 · 0.5, m[(1, 0)] = 1; counted = (1 + 2) · 2.4.
    let want = -0.2 * w[0] * w[0] + w[1] + w[2] + 7.2 * w[3];
    assert!((value - want).abs() < 1e-12, "{value} {want}");
    let report = check_gradient(|v| own_names_in_closures(v, &x), &w, &g);
    assert!(report.passes(1e-8), "{report}");
}

/// Integer sums and products of data, typed on the `let` or by a turbofish: the lengths of
/// strings made from the weights, counts of a mask. Kept as written; the weights go on around
/// them.
#[differentiable]
fn integer_reductions_of_data(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let labels: Vec<String> = w.iter().map(|v| format!("{v:.1}")).collect();
    let width: usize = labels.iter().map(|s| s.len()).sum();
    let positive = x.iter().map(|v| usize::from(*v > 0.0)).sum::<usize>();
    let all_set: u32 = x.iter().map(|v| if *v != 0.0 { 1 } else { 0 }).product();
    let scaled: i64 = x.iter().map(|v| (*v * 10.0) as i64).sum();
    w[0] * w[1] * width as f64 + positive as f64 * w[2] + (all_set as f64 + scaled as f64) * w[3]
}

#[test]
fn integer_sums_of_data() {
    let x = [0.3, 0.9, -0.2, 1.4];
    let w = [0.5, -1.0, 2.0, 0.25];
    let (value, g) = integer_reductions_of_data_grad(&w, &x);
    // "0.5", "-1.0", "2.0", "0.2": 13 characters; three positive; none zero; 3 + 9 - 2 + 14.
    let want = 13.0 * w[0] * w[1] + 3.0 * w[2] + (1.0 + 24.0) * w[3];
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    assert_eq!(g, vec![13.0 * w[1], 13.0 * w[0], 3.0, 25.0]);
    let report = check_gradient(|v| integer_reductions_of_data(v, &x), &w, &g);
    assert!(report.passes(1e-8), "{report}");
}
