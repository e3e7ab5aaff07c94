//! Buffers whose length changes: each gradient against central finite differences, where a
//! buffer's gradient must keep the buffer's length through whole assignments (also of
//! constants), across calls (a caller's cotangent for a buffer result, a callee's gradient for
//! a buffer parameter), and through double buffers that shrink; a cotangent handed to
//! `NAME_vjp` must have the result's shape.
#![allow(clippy::vec_init_then_push, clippy::needless_range_loop)] // written as users write them

use nabla::{check_gradient, differentiable};

const X: [f64; 4] = [0.3, -0.7, 1.1, 0.5];

fn check(f: impl Fn(&[f64]) -> f64, grad: impl Fn(&[f64]) -> (f64, Vec<f64>), what: &str) {
    let (value, g) = grad(&X);
    assert_eq!(value, f(&X), "{what}: value");
    assert_eq!(g.len(), X.len(), "{what}: gradient length");
    check_gradient(&f, &X, &g).assert_below(1e-7);
}

const EMPTY: Vec<f64> = Vec::new();

/// A buffer replaced by a constant path (`EMPTY`), then pushed onto.
#[differentiable]
fn replaced_by_a_constant(x: &[f64]) -> f64 {
    let mut v = Vec::new();
    v.push(x[0]);
    v.push(x[1]);
    let s = 2.0 * v[0] + 3.0 * v[1];
    v = EMPTY;
    v.push(x[2]);
    s + 5.0 * v[0]
}

#[differentiable]
fn pair(p: &[f64]) -> Vec<f64> {
    let mut r = Vec::new();
    r.push(2.0 * p[0]);
    r.push(3.0 * p[1]);
    let t = r[1] * r[0];
    r.push(t);
    r
}

/// The result of a call replaced by a shorter and by a longer buffer: the cotangent handed
/// back to `pair` has another length than its result.
#[differentiable]
fn result_replaced_shorter(x: &[f64]) -> f64 {
    let mut u = pair(x);
    let s = u[0] * u[2];
    u = Vec::new();
    u.push(x[2]);
    s + u[0]
}

#[differentiable]
fn result_replaced_longer(x: &[f64]) -> f64 {
    let mut u = pair(x);
    let s = u[0] + 5.0 * u[1] + u[2];
    u = x.to_vec();
    u.push(x[3]);
    s + u[4]
}

/// A parameter moved into a buffer that is replaced by a shorter one: its gradient is padded to
/// the parameter's length, and a caller reads past the callee's last contribution.
#[differentiable]
fn shortened(mut w: Vec<f64>) -> f64 {
    let s = 2.0 * w[0];
    if s > -100.0 {
        w = Vec::new();
    }
    w.push(s);
    w[0] * w[0]
}

#[differentiable]
fn calls_shortened(x: &[f64]) -> f64 {
    let v = x.to_vec();
    let b = 3.0 * v[3];
    shortened(v.clone()) + b
}

/// A double buffer that shrinks each step, read linearly.
#[differentiable]
fn shrinking_double_buffer(x: &[f64]) -> f64 {
    let mut u = x.to_vec();
    for _ in 0..2 {
        let mut next = Vec::new();
        for i in 0..u.len() - 1 {
            next.push(2.0 * u[i] + u[i + 1]);
        }
        u = next;
    }
    u[0] + u[1]
}

/// A buffer declared without a value, assigned in both branches, then pushed onto.
#[differentiable]
fn declared_then_pushed(x: &[f64]) -> f64 {
    let mut v;
    if x[0] > 0.0 {
        v = vec![x[1], x[2]];
    } else {
        v = vec![x[1]];
    }
    v.push(x[3]);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += (i as f64 + 1.0) * v[i];
    }
    s
}

#[test]
fn buffers_replaced_by_constants_and_across_calls() {
    check(
        replaced_by_a_constant,
        replaced_by_a_constant_grad,
        "constant",
    );
    check(
        result_replaced_shorter,
        result_replaced_shorter_grad,
        "shorter result",
    );
    check(
        result_replaced_longer,
        result_replaced_longer_grad,
        "longer result",
    );
    check(calls_shortened, calls_shortened_grad, "shortened parameter");
    let (_, g) = shortened_grad(X.to_vec());
    assert_eq!(g.len(), X.len());
}

#[test]
fn shrinking_and_declared_buffers() {
    check(
        shrinking_double_buffer,
        shrinking_double_buffer_grad,
        "shrinking",
    );
    check(declared_then_pushed, declared_then_pushed_grad, "declared");
}

/// A buffer result of the length of its input, and a vector of it.
#[differentiable]
fn doubled(w: &[f64]) -> Vec<f64> {
    w.iter().map(|v| v * 2.0).collect()
}

#[differentiable]
fn doubled_vector(w: &nalgebra::DVector<f64>) -> nalgebra::DVector<f64> {
    w * 2.0
}

#[test]
fn a_cotangent_of_the_result_s_shape_is_taken() {
    let (value, g) = doubled_vjp(&X, vec![1.0, 0.0, 2.0, 0.0]);
    assert_eq!(value, vec![0.6, -1.4, 2.2, 1.0]);
    assert_eq!(g, vec![2.0, 0.0, 4.0, 0.0]);
}

#[test]
#[should_panic(
    expected = "`doubled_vjp`: the cotangent has the shape [1] (buffer lengths, matrix dimensions), but the result of `doubled` has the shape [4]"
)]
fn a_shorter_cotangent_is_refused() {
    let _ = doubled_vjp(&X, vec![1.0]);
}

#[test]
#[should_panic(expected = "the cotangent has the shape [2, 1]")]
fn a_vector_cotangent_of_another_length_is_refused() {
    let w = nalgebra::DVector::from_column_slice(&X);
    let _ = doubled_vector_vjp(&w, nalgebra::DVector::from_vec(vec![1.0, 2.0]));
}
