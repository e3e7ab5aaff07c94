//! Loops whose iterations only add to one sum run each iteration's reverse right after its
//! forward run, with the seed 1, and scale the gradients they collect by the sum's adjoint at
//! the end. Each case against central finite differences: sums that reach the result scaled
//! (a mean), squared or not at all, scratch buffers written whole in every iteration, gradients
//! of every kind the loop collects (slices, nalgebra vectors, model structs, `f32`), and loops
//! that look alike but pass something on between iterations.
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // written as users write them

mod common;

use common::check_value_and_gradient as check;
use nabla::{check_gradient, check_parameters, differentiable, Parameters};
use nalgebra::{DMatrix, DVector, Vector2};

/// The mean of squared residuals: the sum's adjoint is `1/n`.
#[differentiable]
fn mean_squared_residual(w: &[f64]) -> f64 {
    let n = 4;
    let mut s = 0.0;
    for i in 0..n {
        let r = w[i] * w[4] - w[5] + i as f64;
        s += r * r;
    }
    s / n as f64
}

/// The sum squared after the loop: its adjoint depends on its value.
#[differentiable]
fn squared_sum(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (w[i] * 0.5).sin();
    }
    s * s + w[0]
}

/// Added and subtracted under branches, with the sum's final value read after the loop.
#[differentiable]
fn signed_sum(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..6 {
        if w[i] > 0.0 {
            s += w[i] * w[(i + 1) % 6];
        } else {
            s -= w[i].exp();
        }
    }
    let t = s.tanh();
    t * s
}

/// GMM's shape: a scratch buffer written whole, then read, in every iteration, with an inner
/// loop that saves per element; and a scalar assigned before it is read.
#[differentiable]
fn scratch_per_sample(w: &[f64]) -> f64 {
    let d = 3;
    let mut xc = vec![0.0; d];
    let mut scale: f64;
    let mut s = 0.0;
    for sample in 0..4 {
        for j in 0..d {
            xc[j] = (sample as f64) * 0.3 - w[j];
        }
        scale = w[3] * w[3] + 1.0;
        let mut q = 0.0;
        for j in 0..d {
            q += xc[j] * xc[j] * (1.0 + w[4 + j % 2] * w[4 + j % 2]);
        }
        s += (q / scale).ln_1p();
    }
    s * 0.25 + w[5]
}

/// Two fused loops one after the other, each with a sum of its own, the second reading what
/// the first returned.
#[differentiable]
fn two_loops(w: &[f64]) -> f64 {
    let mut a = 0.0;
    for i in 0..3 {
        a += w[i] * w[i + 3];
    }
    let mut b = 0.0;
    for x in w {
        b += (x * a).cos();
    }
    a * b
}

/// Not fused: the sum starts from a parameter, and a scratch value is read before it is written
/// (both fall back to the loop as it is).
#[differentiable]
fn carried_between_iterations(w: &[f64]) -> f64 {
    let mut s = w[0];
    let mut last = 0.0;
    for i in 0..6 {
        s += last * w[i];
        last = w[i].sin();
    }
    s
}

#[test]
fn sums_reach_the_result_in_any_way() {
    check(mean_squared_residual, mean_squared_residual_grad, "mean");
    check(squared_sum, squared_sum_grad, "squared sum");
    check(signed_sum, signed_sum_grad, "signed sum");
}

#[test]
fn scratch_written_whole_in_every_iteration() {
    check(scratch_per_sample, scratch_per_sample_grad, "scratch");
    check(two_loops, two_loops_grad, "two loops");
    check(
        carried_between_iterations,
        carried_between_iterations_grad,
        "carried",
    );
}

/// A loss over data rows with a nalgebra parameter: the loop's gradient is a vector.
#[differentiable]
fn vector_loss(w: &Vector2<f64>, #[no_grad] xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let p = Vector2::new(xs[i], 1.0);
        let r = w.dot(&p) - 0.5 * xs[i];
        s += r * r;
    }
    s / xs.len() as f64
}

#[test]
fn nalgebra_gradients_are_scaled() {
    let xs = [0.3, -1.2, 2.0, 0.7];
    let w = Vector2::new(0.4, -0.9);
    let (value, g) = vector_loss_grad(&w, &xs);
    assert_eq!(value, vector_loss(&w, &xs));
    check_gradient(
        |v: &[f64]| vector_loss(&Vector2::new(v[0], v[1]), &xs),
        &[w[0], w[1]],
        g.as_slice(),
    )
    .assert_below(1e-7);
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Line {
    pub slope: f64,
    pub offsets: Vec<f64>,
    #[no_grad]
    pub name: String,
}

#[differentiable]
fn predict(line: &Line, #[no_grad] x: f64) -> f64 {
    line.slope * x + line.offsets[0] - line.offsets[1] * x * x
}

/// A model passed whole to a call in every iteration. A loop that calls the user's functions is
/// not fused (see `clipped_cotangent`), and its gradient is the struct's as ever.
#[differentiable]
fn model_loss(line: &Line, #[no_grad] xs: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        let r = predict(line, *x) - x.sin();
        s += r * r;
    }
    s / 3.0
}

#[test]
fn model_gradients_through_calls() {
    let line = Line {
        slope: 0.7,
        offsets: vec![0.2, -0.4],
        name: "l".into(),
    };
    let xs = DVector::from_vec(vec![0.5, -1.0, 1.5]);
    let (value, g) = model_loss_grad(&line, &xs);
    assert_eq!(value, model_loss(&line, &xs));
    assert_eq!(g.name, "l");
    check_parameters(|l: &Line| model_loss(l, &xs), &line, &g).assert_below(1e-7);
}

/// A pullback written by hand need not be linear in its cotangent: this one clips it. Called
/// with the seed 1 and scaled after, it would clip 1 to 0.5 where it is given 0.25: a loop that
/// calls the user's functions is not fused.
#[nabla::custom_gradient(clip_pullback)]
fn clip(x: f64) -> f64 {
    x
}

fn clip_pullback(_x: f64, cotangent: f64) -> f64 {
    cotangent.clamp(-0.5, 0.5)
}

#[differentiable]
fn clipped_cotangent(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += clip(w[i] * 3.0);
    }
    s * 0.25
}

#[test]
fn pullbacks_get_the_sums_adjoint() {
    let (_, g) = clipped_cotangent_grad(&[0.3, -0.7, 1.2, 0.5, -0.4, 0.9]);
    // 0.25 reaches each clip, which passes it on unclipped, times 3.
    assert_eq!(g, vec![0.75, 0.75, 0.75, 0.75, 0.0, 0.0]);
}

/// A model struct's gradient scales field by field (through the derive), and so do the other
/// gradient values a fused loop may collect.
#[test]
fn gradients_scale_as_values() {
    use nabla::__private::TangentValue;
    let mut line = Line {
        slope: 2.0,
        offsets: vec![1.0, 0.0],
        name: "kept".into(),
    };
    line.scale(-0.5);
    assert_eq!(line.slope, -1.0);
    assert_eq!(line.offsets, vec![-0.5, 0.0]);
    assert_eq!(line.name, "kept");
    let mut pair = (Vector2::new(4.0, 0.0), [1.0f32, -2.0]);
    pair.scale(0.25);
    assert_eq!(pair, (Vector2::new(1.0, 0.0), [0.25, -0.5]));
    // A zero stays zero where the factor is infinite; the product is taken in `f64`.
    let mut v = vec![0.0f32, 1e-10];
    v.scale(f64::INFINITY);
    assert_eq!(v[0], 0.0);
    let mut small = vec![1e-10f32];
    small.scale(1e39);
    assert_eq!(small[0], 1e29);
}

/// `f32` values summed in `f64`, scaled by more than an `f32` holds.
#[differentiable]
fn wide_scale(w: &[f32]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (w[i] as f64) * 1e-10;
    }
    s * 1e39
}

#[test]
fn scaled_in_double_precision() {
    let (_, g) = wide_scale_grad(&[1.0, 2.0]);
    assert_eq!(g, vec![1e29f32, 1e29]);
}

/// An `f32` sum: the seed and the scale are `f32`.
#[differentiable]
fn single_precision(w: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for i in 0..w.len() {
        s += w[i] * w[i] * (i as f32 + 1.0);
    }
    s * 0.5
}

#[test]
fn single_precision_sums() {
    let w = [0.5f32, -1.5, 2.0];
    let (value, g) = single_precision_grad(&w);
    assert_eq!(value, single_precision(&w));
    for i in 0..3 {
        let want = 0.5 * 2.0 * w[i] * (i as f32 + 1.0);
        assert!(
            (g[i] - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{i}: {} vs {want}",
            g[i]
        );
    }
}

/// A loop that runs no time adds nothing, even where the sum's adjoint is infinite (the mean
/// of nothing, `0 / 0`): nothing flows through it.
#[test]
fn no_iterations() {
    let xs: [f64; 0] = [];
    let (value, g) = vector_loss_grad(&Vector2::new(1.0, 2.0), &xs);
    assert!(value.is_nan(), "0/0");
    assert_eq!(g, Vector2::zeros());
}

/// A bound decomposition used in every iteration: the matrix behind it is passed on to the
/// solve by value, and stays needed (it was moved in the first iteration).
#[differentiable]
fn solve_per_sample(a: &DMatrix<f64>, #[no_grad] bs: &[f64]) -> f64 {
    let lu = a.clone().lu();
    let mut s = 0.0;
    for i in 0..bs.len() {
        let b = DVector::from_vec(vec![bs[i], 1.0]);
        let x = lu.solve(&b).unwrap();
        s += x.norm_squared();
    }
    s / bs.len() as f64
}

#[test]
fn decompositions_bound_before_the_loop() {
    let a = DMatrix::from_row_slice(2, 2, &[2.0, 0.5, -0.3, 1.5]);
    let bs = [0.4, -1.1, 2.0];
    let (value, g) = solve_per_sample_grad(&a, &bs);
    assert_eq!(value, solve_per_sample(&a, &bs));
    check_gradient(
        |v: &[f64]| solve_per_sample(&DMatrix::from_column_slice(2, 2, v), &bs),
        a.as_slice(),
        g.as_slice(),
    )
    .assert_below(1e-7);
}
