//! Array literals (constant and carrying gradient, nested), tuple assignment and
//! `first`/`last`. Every gradient against central finite differences or closed forms.
#![allow(clippy::useless_vec)] // `vec![..]` as users write it

mod common;

use common::check_fd;
use nabla::differentiable;

/// One classical Runge-Kutta step of `y' = -k·y`, with the Butcher table as array literals.
#[differentiable]
fn rk4(y0: f64, k: f64) -> f64 {
    let a = [
        [0.0, 0.0, 0.0],
        [0.5, 0.0, 0.0],
        [0.0, 0.5, 0.0],
        [0.0, 0.0, 1.0],
    ];
    let b = [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];
    let h = 0.1;
    let mut stages = [0.0; 4];
    let mut y = y0;
    for _ in 0..10 {
        for i in 0..4 {
            let mut yi = y;
            for j in 0..3 {
                yi += h * a[i][j] * stages[j];
            }
            stages[i] = -k * yi;
        }
        let mut next = y;
        for i in 0..4 {
            next += h * b[i] * stages[i];
        }
        y = next;
    }
    y
}

#[test]
fn runge_kutta_with_a_constant_table() {
    let (value, (dy0, dk)) = rk4_grad(1.5, 0.8);
    // RK4 on a linear equation multiplies by the degree-4 Taylor polynomial of e^(-kh) per step.
    let z: f64 = -0.8 * 0.1;
    let r = 1.0 + z + z * z / 2.0 + z.powi(3) / 6.0 + z.powi(4) / 24.0;
    assert!((value - 1.5 * r.powi(10)).abs() < 1e-12);
    assert!((dy0 - r.powi(10)).abs() < 1e-12);
    check_fd(|[y0, k]| rk4(y0, k), [1.5, 0.8], [dy0, dk], "rk4");
}

/// Arrays built from values that carry gradient, read back by index and by loop.
#[differentiable]
fn features(w: &[f64]) -> f64 {
    let f = [w[0], 2.0 * w[1], w[0] * w[1]];
    let pairs = [[w[0], 1.0], [w[1], w[0]]];
    let mut total = 0.0;
    for v in f {
        total += v * v;
    }
    total + pairs[1][1] * pairs[0][0] + f[2]
}

#[test]
fn arrays_of_values_that_carry_gradient() {
    let (_, g) = features_grad(&[0.7, -1.3]);
    check_fd(
        |[a, b]| features(&[a, b]),
        [0.7, -1.3],
        [g[0], g[1]],
        "features",
    );
}

/// Symplectic Euler with tuple assignment, and a swap.
#[differentiable]
fn oscillate(q0: f64, p0: f64, #[no_grad] h: f64) -> f64 {
    let (mut q, mut p) = (q0, p0);
    for _ in 0..20 {
        (q, p) = (q + h * p, p - h * (q + h * p));
    }
    let (mut a, mut b) = (q, 2.0 * p);
    (a, b) = (b, a);
    a * a + 3.0 * b
}

#[test]
fn tuple_assignment_computes_the_right_side_first() {
    let (_, (dq, dp)) = oscillate_grad(0.4, -0.9, 0.1);
    check_fd(
        |[q, p]| oscillate(q, p, 0.1),
        [0.4, -0.9],
        [dq, dp],
        "oscillate",
    );
}

#[differentiable]
fn ends(w: &[f64]) -> f64 {
    let first = w.first().unwrap();
    let last = *w.last().expect("a non-empty vector");
    first * last + w.last().unwrap() * w.first().unwrap()
}

#[test]
fn first_and_last() {
    let (value, g) = ends_grad(&[0.5, 2.0, -1.5]);
    assert_eq!(value, 2.0 * 0.5 * -1.5);
    assert_eq!(g, vec![2.0 * -1.5, 0.0, 2.0 * 0.5]);
}

/// A row of a local array of arrays overwritten whole.
#[differentiable]
fn rows(a: f64) -> f64 {
    let mut k = [[0.0; 2]; 2];
    k[1] = [a, a * a];
    k[0] = [k[1][1], 3.0];
    k[1][0] * k[1][1] + k[0][0] * k[0][1]
}

#[test]
fn rows_of_arrays_of_arrays() {
    let (_, da) = rows_grad(1.5);
    // a·a² + 3a²: 3a² + 6a
    assert!((da - (3.0 * 1.5 * 1.5 + 6.0 * 1.5)).abs() < 1e-12);
}

/// `vec![..]` listing values that carry gradient, then grown by `push`.
#[differentiable]
fn listed(w: &[f64], b: f64) -> f64 {
    let mut v = vec![w[0] * b, w[1], 2.0];
    v.push(b * b);
    v[0] * v[1] + v[2] * v[3]
}

#[test]
fn vec_listing_values_that_carry_gradient() {
    let (w, b) = ([0.5, -1.5], 1.25);
    let ((value, (dw, db)), f) = (listed_grad(&w, b), |[w0, w1, b]: [f64; 3]| {
        listed(&[w0, w1], b)
    });
    assert_eq!(value, listed(&w, b));
    check_fd(f, [w[0], w[1], b], [dw[0], dw[1], db], "listed");
}

/// `vec![..]` of values that are not `Clone`, read as data.
struct Tag {
    k: usize,
}

#[differentiable]
fn tagged(w: &[f64]) -> f64 {
    let tags = vec![Tag { k: 1 }, Tag { k: 2 }];
    w[tags[0].k] * w[tags[1].k]
}

#[test]
fn vec_of_values_that_are_not_clone() {
    let w = [0.5, -1.5, 2.0];
    let (value, g) = tagged_grad(&w);
    assert_eq!(value, -3.0);
    assert_eq!(g, vec![0.0, 2.0, -1.5]);
}

/// Loops over array literals, as written in place: of constants, of values that carry
/// gradient, by reference, with adaptors, and one inside another.
#[differentiable]
fn over_literals(w: f64, v: f64) -> f64 {
    let mut s = 0.0;
    for k in [0.1, 0.5, 1.0] {
        s += (w * k).sin();
    }
    for x in [w, v * 2.0, w * v] {
        s += x * x;
    }
    for &k in &[1.0, 2.0] {
        s += w * k;
    }
    for (i, x) in [v, w].iter().enumerate().rev() {
        s += x * (i as f64 + 1.0);
    }
    for x in [v, v] {
        for k in [3.0, 4.0] {
            s += x * k * w;
        }
    }
    s
}

#[test]
fn loops_over_array_literals() {
    let f = |[w, v]: [f64; 2]| over_literals(w, v);
    let (w, v) = (0.7, -1.3);
    let (value, (dw, dv)) = over_literals_grad(w, v);
    let want = [0.1, 0.5, 1.0].iter().map(|k| (w * k).sin()).sum::<f64>()
        + w * w
        + 4.0 * v * v
        + w * w * v * v
        + 3.0 * w
        + v
        + 2.0 * w
        + 14.0 * v * w;
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    check_fd(f, [w, v], [dw, dv], "over_literals");
}
