//! Parts of slices as values of their own: `&w[a..b]` passed on or bound, `split_at`,
//! `windows`, `chunks`, `chunks_exact` (as loop sources and under `map(..).sum()`/`fold`), and
//! `pop`. Every gradient against central finite differences, at several points.
#![allow(clippy::redundant_slicing)] // `&w[..]` is one of the forms under test.

use nabla::{check_gradient, differentiable};

const POINTS: [[f64; 7]; 3] = [
    [0.3, -1.2, 0.8, 2.1, -0.4, 1.5, 0.9],
    [-0.7, 0.25, 1.9, -1.1, 0.6, -0.35, 1.2],
    [1.4, 0.9, -0.2, 0.45, -1.6, 0.8, -0.05],
];

fn check(f: impl Fn(&[f64]) -> f64, grad: impl Fn(&[f64]) -> (f64, Vec<f64>), what: &str) {
    for w in &POINTS {
        let (value, g) = grad(w);
        assert!(
            (value - f(w)).abs() < 1e-12,
            "{what}: value {value} vs {}",
            f(w)
        );
        let report = check_gradient(&f, w, &g);
        assert!(report.passes(1e-8), "{what} at {w:?}: {report}");
    }
}

#[differentiable]
fn sum_of_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

/// A flat parameter vector unpacked into two parts, each passed to a differentiable function.
#[differentiable]
fn unpacked(w: &[f64]) -> f64 {
    let head = &w[..3];
    let tail = &w[3..];
    2.0 * sum_of_squares(head) + sum_of_squares(tail) * tail[0] + w[0] * head[2]
}

#[test]
fn parts_passed_to_differentiable_functions() {
    check(unpacked, unpacked_grad, "unpacked");
}

#[differentiable]
fn inclusive_part(w: &[f64], #[no_grad] k: usize) -> f64 {
    let mid = w[1..=k].to_vec();
    let mut s = 0.0;
    for v in &mid {
        s += v.sin();
    }
    s * sum_of_squares(&w[k..]) + sum_of_squares(&w[..])
}

#[test]
fn inclusive_and_full_ranges() {
    for k in [1, 3, 6] {
        check(
            |w| inclusive_part(w, k),
            |w| inclusive_part_grad(w, k),
            "inclusive part",
        );
    }
}

/// Parts by a range held in a parameter: cloned where it is used (a `Range` is not `Copy`),
/// and bound to a name of its own.
#[differentiable]
fn part_by_range(
    w: &[f64],
    #[no_grad] r: std::ops::Range<usize>,
    #[no_grad] s: &std::ops::RangeInclusive<usize>,
) -> f64 {
    let t = s.clone();
    sum_of_squares(&w[r.clone()]) * w[r.start] + w[t].iter().map(|v| v.sin()).sum::<f64>()
}

#[test]
fn parts_by_ranges_held_in_parameters() {
    for (r, s) in [(0..3, 2..=5), (2..7, 0..=0), (4..5, 1..=6)] {
        check(
            |w| part_by_range(w, r.clone(), &s),
            |w| part_by_range_grad(w, r.clone(), &s),
            "part by a range parameter",
        );
    }
}

#[differentiable]
fn split(w: &[f64], #[no_grad] k: usize) -> f64 {
    let (a, b) = w.split_at(k);
    a[0] * b[0] + b.iter().sum::<f64>() * sum_of_squares(a)
}

#[test]
fn split_at_binds_both_parts() {
    for k in [1, 4] {
        check(|w| split(w, k), |w| split_grad(w, k), "split_at");
    }
}

/// The smoothness penalty written with `windows`, as a loop and as `map(..).sum()`.
#[differentiable]
fn smoothness_loop(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in w.windows(2) {
        s += (p[1] - p[0]).powi(2);
    }
    s
}

#[differentiable]
fn smoothness_sum(w: &[f64]) -> f64 {
    w.windows(2).map(|p| (p[1] - p[0]).powi(2)).sum::<f64>()
}

#[differentiable]
fn curvature_fold(w: &[f64]) -> f64 {
    w.windows(3)
        .fold(0.0, |acc, p| acc + (p[0] - 2.0 * p[1] + p[2]).powi(2))
}

#[differentiable]
fn weighted_windows(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, p) in w.windows(3).enumerate() {
        s += (i as f64 + 1.0) * p.iter().sum::<f64>() * p[1];
    }
    s
}

#[test]
fn windows() {
    check(smoothness_loop, smoothness_loop_grad, "windows loop");
    check(smoothness_sum, smoothness_sum_grad, "windows sum");
    check(curvature_fold, curvature_fold_grad, "windows fold");
    check(
        weighted_windows,
        weighted_windows_grad,
        "enumerated windows",
    );
    let w = POINTS[0];
    let want: f64 = (1..w.len()).map(|i| (w[i] - w[i - 1]).powi(2)).sum();
    assert!((smoothness_sum(&w) - want).abs() < 1e-12);
}

/// Chunks of three: the last is one element short in `chunks`, dropped by `chunks_exact`.
#[differentiable]
fn chunk_products(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in w.chunks(3) {
        s += c.iter().product::<f64>() + c[c.len() - 1];
    }
    s
}

#[differentiable]
fn exact_chunk_norms(w: &[f64]) -> f64 {
    w.chunks_exact(3)
        .map(|c| sum_of_squares(c).sqrt())
        .sum::<f64>()
}

#[test]
fn chunks() {
    check(chunk_products, chunk_products_grad, "chunks");
    check(exact_chunk_norms, exact_chunk_norms_grad, "chunks_exact");
}

/// `pop` from a buffer built from parameters.
#[differentiable]
fn popped(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    let last = v.pop().unwrap();
    let before = v.pop().expect("seven elements");
    last * before + v.iter().sum::<f64>() * last
}

#[test]
fn pop() {
    check(popped, popped_grad, "pop");
}

#[derive(nabla::Parameters, Clone)]
struct Packed {
    w: Vec<f64>,
}

impl Packed {
    /// A part of a model's field, bound and iterated.
    #[differentiable]
    fn tail_response(&self, x: f64) -> f64 {
        let tail = &self.w[1..];
        tail.iter().map(|v| (v * x).tanh()).sum::<f64>() + self.w[0] * tail[0]
    }
}

#[test]
fn parts_of_model_fields() {
    for w in &POINTS {
        let m = Packed { w: w.to_vec() };
        let (value, (g, dx)) = m.tail_response_grad(0.6);
        assert!((value - m.tail_response(0.6)).abs() < 1e-12);
        let report = check_gradient(|w| Packed { w: w.to_vec() }.tail_response(0.6), w, &g.w);
        assert!(report.passes(1e-8), "model part: {report}");
        let h = 1e-6;
        let fd = (m.tail_response(0.6 + h) - m.tail_response(0.6 - h)) / (2.0 * h);
        assert!((dx - fd).abs() < 1e-6, "dx {dx} vs {fd}");
    }
}
