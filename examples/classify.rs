//! Trains a two-layer perceptron to tell three interleaved spirals apart, with `nabla::Adam`
//! and a gradient from `#[differentiable]`.
//!
//! The model is `logits = W₂·tanh(W₁·x + b₁) + b₂` on 2-D points, 16 hidden units, 3 classes.
//! The loss — the mean softmax cross-entropy over the whole data set — is one
//! `#[differentiable]` function of the four parameter matrices, looping over the samples, which
//! are marked `#[no_grad]`. `loss_grad` returns the loss and the tuple `(∂W₁, ∂b₁, ∂W₂, ∂b₂)`,
//! which has the type of the parameter tuple, so `Adam::step` applies it as it is.
//!
//! Spirals are not linearly separable, so this only works if the hidden layer learns.
//!
//! Run with `cargo run --release --example classify`.

use nabla::{check_gradient, differentiable, softmax_cross_entropy, Adam};
use nalgebra::{SMatrix, SVector};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

const HIDDEN: usize = 16;
const CLASSES: usize = 3;
const PER_CLASS: usize = 100;

/// The network's class scores for one point.
///
/// Differentiable too, so the loss below differentiates through the call, and training and
/// prediction share one definition of the model.
#[differentiable]
fn logits(
    w1: &SMatrix<f64, HIDDEN, 2>,
    b1: &SVector<f64, HIDDEN>,
    w2: &SMatrix<f64, CLASSES, HIDDEN>,
    b2: &SVector<f64, CLASSES>,
    #[no_grad] x: &SVector<f64, 2>,
) -> SVector<f64, CLASSES> {
    let hidden = (w1 * x + b1).map(|v| v.tanh());
    w2 * hidden + b2
}

/// Mean cross-entropy of the network's softmax against the labels, over the whole data set.
///
/// `softmax_cross_entropy` works from the logits with a max shift, so it stays finite however
/// confident the network gets; `ln(softmax(..))` would not.
#[differentiable]
fn loss(
    w1: &SMatrix<f64, HIDDEN, 2>,
    b1: &SVector<f64, HIDDEN>,
    w2: &SMatrix<f64, CLASSES, HIDDEN>,
    b2: &SVector<f64, CLASSES>,
    #[no_grad] xs: &[SVector<f64, 2>],
    #[no_grad] labels: &[usize],
) -> f64 {
    let mut total = 0.0;
    for (x, label) in xs.iter().zip(labels) {
        let z = logits(w1, b1, w2, b2, x);
        total += softmax_cross_entropy(&z, *label);
    }
    total / xs.len() as f64
}

/// The parameters, in the order (and with the types) of `loss`'s gradient. Only for code outside
/// the differentiable functions: their signatures spell the types out, because the macro decides
/// from the written type whether a parameter carries gradient and does not look through aliases.
type Params = (
    SMatrix<f64, HIDDEN, 2>,
    SVector<f64, HIDDEN>,
    SMatrix<f64, CLASSES, HIDDEN>,
    SVector<f64, CLASSES>,
);

/// The fraction of points whose highest logit is their label.
fn accuracy(p: &Params, xs: &[SVector<f64, 2>], labels: &[usize]) -> f64 {
    let correct = xs
        .iter()
        .zip(labels)
        .filter(|&(x, &label)| logits(&p.0, &p.1, &p.2, &p.3, x).imax() == label)
        .count();
    correct as f64 / xs.len() as f64
}

/// Three spiral arms, one per class, each turning once around the origin and rotated a third
/// of a turn from the next, with a little angular noise so the arms are not exact curves.
/// `PER_CLASS` points per arm.
fn spirals(rng: &mut StdRng) -> (Vec<SVector<f64, 2>>, Vec<usize>) {
    let mut xs = Vec::with_capacity(CLASSES * PER_CLASS);
    let mut labels = Vec::with_capacity(CLASSES * PER_CLASS);
    for class in 0..CLASSES {
        for i in 0..PER_CLASS {
            let r = i as f64 / PER_CLASS as f64;
            let offset = class as f64 * std::f64::consts::TAU / CLASSES as f64;
            let noise: f64 = rng.sample(StandardNormal);
            let theta = offset + std::f64::consts::TAU * r + 0.2 * noise;
            xs.push(SVector::<f64, 2>::new(r * theta.cos(), r * theta.sin()));
            labels.push(class);
        }
    }
    (xs, labels)
}

/// Small random weights scaled by 1/√fan-in (Xavier/Glorot-like), so tanh starts in its linear
/// range; zero biases.
fn init(rng: &mut StdRng) -> Params {
    let w1 = SMatrix::from_fn(|_, _| rng.sample::<f64, _>(StandardNormal) / 2f64.sqrt());
    let w2 = SMatrix::from_fn(|_, _| rng.sample::<f64, _>(StandardNormal) / (HIDDEN as f64).sqrt());
    (w1, SVector::zeros(), w2, SVector::zeros())
}

/// All parameters in one flat vector, for the finite-difference check.
fn flatten(p: &Params) -> Vec<f64> {
    [
        p.0.as_slice(),
        p.1.as_slice(),
        p.2.as_slice(),
        p.3.as_slice(),
    ]
    .concat()
}

/// The inverse of [`flatten`].
fn unflatten(v: &[f64]) -> Params {
    let (w1, rest) = v.split_at(HIDDEN * 2);
    let (b1, rest) = rest.split_at(HIDDEN);
    let (w2, b2) = rest.split_at(CLASSES * HIDDEN);
    (
        SMatrix::from_column_slice(w1),
        SVector::from_column_slice(b1),
        SMatrix::from_column_slice(w2),
        SVector::from_column_slice(b2),
    )
}

fn main() -> Result<(), nabla::OptimError> {
    let start = std::time::Instant::now();
    // A seeded generator: every run prints the same numbers.
    let mut rng = StdRng::seed_from_u64(7);
    let (xs, labels) = spirals(&mut rng);
    // Fresh points from the same spirals, never trained on: they show whether the network
    // learned the arms or memorized the training points.
    let (test_xs, test_labels) = spirals(&mut rng);
    let mut params = init(&mut rng);

    // Trust, but verify: compare the generated gradient with finite differences of the plain
    // loss once, at the random starting point, over all parameters.
    let (_, grads) = loss_grad(&params.0, &params.1, &params.2, &params.3, &xs, &labels);
    let point = flatten(&params);
    let report = check_gradient(
        |v| {
            let p = unflatten(v);
            loss(&p.0, &p.1, &p.2, &p.3, &xs, &labels)
        },
        &point,
        &flatten(&grads),
    );
    println!(
        "gradient check over {} parameters: worst relative error {:.1e}",
        point.len(),
        report.worst_error
    );
    report.assert_below(1e-6);

    println!(
        "training a 2-{HIDDEN}-{CLASSES} tanh network on {} points of {CLASSES} spirals",
        xs.len()
    );
    println!("{:>6}  {:>10}  {:>9}", "epoch", "loss", "accuracy");
    let mut adam = Adam::new(0.02);
    let epochs = 3000;
    for epoch in 0..epochs {
        let (value, grads) = loss_grad(&params.0, &params.1, &params.2, &params.3, &xs, &labels);
        if epoch % 200 == 0 {
            let acc = accuracy(&params, &xs, &labels);
            println!("{epoch:>6}  {value:>10.6}  {:>8.1}%", 100.0 * acc);
        }
        // Full-batch steps: the data set is small enough that a whole pass is cheap.
        adam.step(&mut params, &grads)?;
    }
    // `loss` itself is still the plain function: no gradient needed for the last report.
    let (w1, b1, w2, b2) = &params;
    let final_loss = loss(w1, b1, w2, b2, &xs, &labels);
    let train = accuracy(&params, &xs, &labels);
    println!("{epochs:>6}  {final_loss:>10.6}  {:>8.1}%", 100.0 * train);

    println!();
    println!(
        "final accuracy: training {:.1}%, held-out {:.1}% (chance {:.1}%); {:.2} s in all",
        100.0 * train,
        100.0 * accuracy(&params, &test_xs, &test_labels),
        100.0 / CLASSES as f64,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
