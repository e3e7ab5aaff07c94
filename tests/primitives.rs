//! The stable primitives used inside `#[differentiable]` functions, end to end: the generated
//! gradients go through the primitives' companion pullbacks and must agree with finite
//! differences (`nabla::check_gradient`), stay finite where the naive formulas overflow, and
//! come back in the owned form of each parameter.

use nabla::{
    bce_with_logits, check_gradient, differentiable, log_sigmoid, log_sum_exp, mse, relu, sigmoid,
    softmax, softmax_cross_entropy, softplus,
};
use nalgebra::{DVector, SVector};

const TOL: f64 = 1e-6;

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    sigmoid(x * y) + x
}

#[test]
fn sigmoid_of_a_product() {
    for (x, y) in [
        (0.5, 2.0),
        (-1.5, 0.25),
        (1e-3, -3.0),
        (30.0, 2.0),
        (-1e2, 1e2),
    ] {
        let (value, (dx, dy)) = f_grad(x, y);
        assert_eq!(value, f(x, y));
        check_gradient(|v| f(v[0], v[1]), &[x, y], &[dx, dy]).assert_below(TOL);
    }
    // Closed form at one point: σ'(t) = σ(t)σ(-t).
    let (_, (dx, dy)) = f_grad(0.5, 2.0);
    let ds = sigmoid(1.0) * sigmoid(-1.0);
    assert!((dx - (2.0 * ds + 1.0)).abs() < 1e-15);
    assert!((dy - 0.5 * ds).abs() < 1e-15);
}

/// The same function through the full path `nabla::sigmoid`.
#[differentiable]
fn f_by_path(x: f64, y: f64) -> f64 {
    nabla::sigmoid(x * y) + x
}

#[test]
fn primitives_called_by_path() {
    assert_eq!(f_by_path_grad(0.5, 2.0), f_grad(0.5, 2.0));
    assert_eq!(f_by_path(0.5, 2.0), f(0.5, 2.0));
}

#[differentiable]
fn activations(x: f64, y: f64) -> f64 {
    let a = softplus(x) + 2.0 * log_sigmoid(y);
    a * relu(x - y) + sigmoid(-x)
}

#[test]
fn activations_compose() {
    for (x, y) in [(1.5, -0.5), (-2.0, -3.0), (3.0, 0.25), (40.0, -40.0)] {
        let (value, (dx, dy)) = activations_grad(x, y);
        assert_eq!(value, activations(x, y));
        check_gradient(|v| activations(v[0], v[1]), &[x, y], &[dx, dy]).assert_below(TOL);
    }
    // Far past where e^x overflows, the gradient stays finite.
    let (value, (dx, dy)) = activations_grad(1e4, -1e4);
    assert!(value.is_finite() && dx.is_finite() && dy.is_finite());
}

/// Logistic regression on one example: the loss of the logit `w·x + b` against the label `y`.
#[differentiable]
fn logistic_loss(w: f64, b: f64, #[no_grad] x: f64, #[no_grad] y: f64) -> f64 {
    bce_with_logits(w * x + b, y)
}

#[test]
fn logistic_loss_on_one_example() {
    for (w, b, x, y) in [
        (0.5, -0.25, 2.0, 1.0),
        (-1.0, 0.5, 3.0, 0.0),
        (2.0, 0.0, -0.5, 0.3),
        (0.0, 0.0, 1.0, 1.0),
    ] {
        let (value, (dw, db)) = logistic_loss_grad(w, b, x, y);
        assert_eq!(value, logistic_loss(w, b, x, y));
        check_gradient(|v| logistic_loss(v[0], v[1], x, y), &[w, b], &[dw, db]).assert_below(TOL);
        // Closed form: ∂/∂z = σ(z) - y with z = w·x + b.
        let dz = sigmoid(w * x + b) - y;
        assert!((db - dz).abs() < 1e-15 && (dw - dz * x).abs() < 1e-15);
    }
    // A confidently wrong logit of 1e4: the naive loss is inf, this one is exact and its
    // gradient is the limit σ(z) - y = 1.
    let (value, (dw, db)) = logistic_loss_grad(1e2, 0.0, 1e2, 0.0);
    assert_eq!((value, dw, db), (1e4, 1e2, 1.0));
}

/// The mean logistic loss over a data set, in a loop.
#[differentiable]
fn logistic_loss_mean(w: f64, b: f64, #[no_grad] xs: &[f64], #[no_grad] ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        total += bce_with_logits(w * xs[i] + b, ys[i]);
    }
    total / 4.0
}

#[test]
fn logistic_loss_over_a_batch() {
    let xs = [-2.0, -0.5, 1.0, 3.0];
    let ys = [0.0, 1.0, 0.0, 1.0];
    for (w, b) in [(0.5, 0.1), (-3.0, 2.0), (50.0, -10.0)] {
        let (value, (dw, db)) = logistic_loss_mean_grad(w, b, &xs, &ys);
        assert_eq!(value, logistic_loss_mean(w, b, &xs, &ys));
        let loss = |v: &[f64]| logistic_loss_mean(v[0], v[1], &xs, &ys);
        check_gradient(loss, &[w, b], &[dw, db]).assert_below(TOL);
    }
}

#[differentiable]
fn lse(xs: &[f64]) -> f64 {
    log_sum_exp(&xs)
}

#[differentiable]
fn tempered_lse(xs: &[f64], t: f64) -> f64 {
    t * log_sum_exp(&xs) + xs[0]
}

#[test]
fn log_sum_exp_of_a_slice_parameter() {
    for xs in [
        vec![1.0, 2.0, 3.0],
        vec![-0.5, 1e-3, 0.25, -2.0],
        vec![1e4, 1e4 - 1.0, -1e4],
    ] {
        let (value, g): (f64, Vec<f64>) = lse_grad(&xs);
        assert_eq!(value, log_sum_exp(&xs[..]));
        assert!(value.is_finite());
        check_gradient(lse, &xs, &g).assert_below(TOL);
        // The gradient of log-sum-exp is the softmax.
        let p = softmax(&xs[..]);
        assert!(g.iter().zip(&p).all(|(a, b)| (a - b).abs() < 1e-15));

        let (value, (gx, dt)) = tempered_lse_grad(&xs, 0.7);
        assert_eq!(value, tempered_lse(&xs, 0.7));
        let mut point = xs.clone();
        point.push(0.7);
        let mut gradient = gx.clone();
        gradient.push(dt);
        let n = xs.len();
        check_gradient(|v| tempered_lse(&v[..n], v[n]), &point, &gradient).assert_below(TOL);
    }
}

#[differentiable]
fn lse_dynamic(v: &DVector<f64>) -> f64 {
    log_sum_exp(&v)
}

#[differentiable]
fn lse_static(v: &SVector<f64, 3>, scale: f64) -> f64 {
    log_sum_exp(&v) * scale
}

#[test]
fn log_sum_exp_of_nalgebra_vectors() {
    let v = DVector::from_vec(vec![0.5, -1.0, 2.0]);
    let (value, g): (f64, DVector<f64>) = lse_dynamic_grad(&v);
    assert_eq!(value, log_sum_exp(v.as_slice()));
    let fd = |x: &[f64]| lse_dynamic(&DVector::from_column_slice(x));
    check_gradient(fd, v.as_slice(), g.as_slice()).assert_below(TOL);

    let s = SVector::<f64, 3>::new(0.5, -1.0, 2.0);
    let (_, (gs, dscale)): (f64, (SVector<f64, 3>, f64)) = lse_static_grad(&s, 2.0);
    assert!((gs / 2.0 - g.fixed_rows::<3>(0)).norm() < 1e-15);
    assert_eq!(dscale, log_sum_exp(&s));
    assert_eq!(lse_static(&s, 2.0), 2.0 * dscale);
}

#[differentiable]
fn cross_entropy(logits: &[f64], #[no_grad] label: usize) -> f64 {
    softmax_cross_entropy(&logits, label)
}

/// A linear classifier: logits `wⱼ·x` for the classes, then the cross-entropy.
#[differentiable]
fn classifier_loss(w: &[f64], #[no_grad] x: f64, #[no_grad] label: usize) -> f64 {
    let mut logits = vec![0.0; w.len()];
    for j in 0..w.len() {
        logits[j] = w[j] * x;
    }
    softmax_cross_entropy(&logits, label)
}

#[test]
fn softmax_cross_entropy_with_an_integer_label() {
    for logits in [
        vec![1.0, 2.0, 3.0],
        vec![-0.5, 1e-3, 0.25, -2.0],
        vec![1e4, 0.0, -1e4],
    ] {
        for label in 0..logits.len() {
            let (value, g): (f64, Vec<f64>) = cross_entropy_grad(&logits, label);
            assert_eq!(value, softmax_cross_entropy(&logits[..], label));
            assert!(value.is_finite() && g.iter().all(|g| g.is_finite()));
            check_gradient(|v| cross_entropy(v, label), &logits, &g).assert_below(TOL);
            // softmax - onehot.
            let p = softmax(&logits[..]);
            for (j, (gj, pj)) in g.iter().zip(&p).enumerate() {
                let onehot = if j == label { 1.0 } else { 0.0 };
                assert!((gj - (pj - onehot)).abs() < 1e-15);
            }
        }
    }
    for (w, x, label) in [
        ([0.5, -0.5, 0.25], 2.0, 0),
        ([1.0, 3.0, -2.0], -1.5, 1),
        ([80.0, -80.0, 0.0], 1e2, 1), // logits ±8e3: the naive loss is NaN
    ] {
        let (value, g) = classifier_loss_grad(&w, x, label);
        assert!(value.is_finite() && g.iter().all(|g| g.is_finite()));
        check_gradient(|v| classifier_loss(v, x, label), &w, &g).assert_below(TOL);
    }
}

#[differentiable]
fn squared_error(pred: &[f64], target: &[f64]) -> f64 {
    mse(&pred, &target)
}

/// Least squares for a line through the origin: `mse(w·xs, ys)`.
#[differentiable]
fn line_fit(w: f64, #[no_grad] xs: &[f64], #[no_grad] ys: &[f64]) -> f64 {
    let mut pred = vec![0.0; xs.len()];
    for i in 0..xs.len() {
        pred[i] = w * xs[i];
    }
    mse(&pred, &ys)
}

#[test]
fn mean_squared_error() {
    let pred = [1.0, -2.0, 0.5];
    let target = [0.5, -1.0, 2.0];
    let (value, (gp, gt)): (f64, (Vec<f64>, Vec<f64>)) = squared_error_grad(&pred, &target);
    assert_eq!(value, mse(&pred[..], &target[..]));
    let point: Vec<f64> = pred.iter().chain(&target).copied().collect();
    let gradient: Vec<f64> = gp.iter().chain(&gt).copied().collect();
    check_gradient(|v| squared_error(&v[..3], &v[3..]), &point, &gradient).assert_below(TOL);

    let xs = [1.0, 2.0, 3.0];
    let ys = [2.0, 3.9, 6.2];
    let (_, dw) = line_fit_grad(1.5, &xs, &ys);
    // Closed form: d/dw Σ(w xᵢ - yᵢ)²/n = 2 Σ xᵢ(w xᵢ - yᵢ)/n.
    let exact: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 2.0 * x * (1.5 * x - y))
        .sum::<f64>()
        / 3.0;
    assert!((dw - exact).abs() < 1e-14);
    check_gradient(|v| line_fit(v[0], &xs, &ys), &[1.5], &[dw]).assert_below(TOL);
}

#[differentiable]
fn first_probability(xs: &[f64]) -> f64 {
    let p = softmax(&xs);
    p[0] * 3.0
}

#[test]
fn softmax_result_indexed() {
    for xs in [vec![0.5, -1.0, 2.0], vec![1e4, 1e4 + 1.0]] {
        let (value, g) = first_probability_grad(&xs);
        assert_eq!(value, first_probability(&xs));
        check_gradient(first_probability, &xs, &g).assert_below(TOL);
    }
}

/// The natural spellings: slices and vectors passed by name, buffers written at constant
/// indices. They must agree with the forms used above.
mod natural_spellings {
    use super::*;

    #[differentiable]
    fn lse_by_name(xs: &[f64]) -> f64 {
        log_sum_exp(xs)
    }

    #[differentiable]
    fn lse_dvector_by_name(v: &DVector<f64>) -> f64 {
        log_sum_exp(v)
    }

    #[differentiable]
    fn cross_entropy_by_name(logits: &[f64], #[no_grad] label: usize) -> f64 {
        softmax_cross_entropy(logits, label)
    }

    #[differentiable]
    fn squared_error_by_name(pred: &[f64], target: &[f64]) -> f64 {
        mse(pred, target)
    }

    #[differentiable]
    fn classifier_constant_indices(
        w0: f64,
        w1: f64,
        #[no_grad] x: f64,
        #[no_grad] label: usize,
    ) -> f64 {
        let mut logits = vec![0.0; 2];
        logits[0] = w0 * x;
        logits[1] = w1 * x;
        softmax_cross_entropy(&logits, label)
    }

    #[test]
    fn natural_spellings_agree_with_the_other_forms() {
        let xs = [0.5, -1.0, 2.0];
        assert_eq!(lse_by_name_grad(&xs), lse_grad(&xs));
        let v = DVector::from_column_slice(&xs);
        assert_eq!(lse_dvector_by_name_grad(&v), lse_dynamic_grad(&v));
        assert_eq!(
            cross_entropy_by_name_grad(&xs, 1),
            cross_entropy_grad(&xs, 1)
        );
        let t = [0.0, 1.0, 2.0];
        assert_eq!(
            squared_error_by_name_grad(&xs, &t),
            squared_error_grad(&xs, &t)
        );
        let (a, (d0, d1)) = classifier_constant_indices_grad(0.5, -0.5, 2.0, 0);
        let (b, g) = classifier_loss_grad(&[0.5, -0.5], 2.0, 0);
        assert_eq!((a, vec![d0, d1]), (b, g));
    }
}
