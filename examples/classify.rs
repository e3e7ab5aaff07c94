//! Trains a two-layer perceptron to tell three interleaved spirals apart, with `nabla::Adam`
//! and a gradient from `#[differentiable]`.
//!
//! The model is `logits = W₂·tanh(W₁·x + b₁) + b₂` on 2-D points, 16 hidden units, 3 classes: a
//! `Network` struct of two `Dense` layers, each deriving `Parameters`, with `#[differentiable]`
//! methods. The loss — the mean softmax cross-entropy over the whole data set — is a
//! `#[differentiable]` function of the network, looping over the samples, which are marked
//! `#[no_grad]`. `loss_grad` returns the loss and the gradient as a `Network` value, so
//! `Adam::step` applies it as it is.
//!
//! Spirals are not linearly separable, so this only works if the hidden layer learns.
//!
//! Run with `cargo run --release --example classify`.

use nabla::{check_parameters, differentiable, softmax_cross_entropy, Adam, Parameters};
use nalgebra::{SMatrix, SVector};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

const HIDDEN: usize = 16;
const CLASSES: usize = 3;
const PER_CLASS: usize = 100;

/// A fully connected layer `y = W·x + b` from `IN` to `OUT` units.
#[derive(Clone, Debug, Parameters)]
struct Dense<const IN: usize, const OUT: usize> {
    w: SMatrix<f64, OUT, IN>,
    b: SVector<f64, OUT>,
}

/// The network: a tanh hidden layer and a linear output layer. Its gradient is a `Network` too,
/// so `Adam::step` applies it as it is.
#[derive(Clone, Debug, Parameters)]
struct Network {
    hidden: Dense<2, HIDDEN>,
    output: Dense<HIDDEN, CLASSES>,
}

impl Network {
    /// The class scores for one point.
    ///
    /// Differentiable too, so the loss below differentiates through the call, and training and
    /// prediction share one definition of the model. (Each differentiated call runs its callee
    /// once more in the reverse sweep, so the layers are written out here rather than called as
    /// methods of their own: calls nested two deep would run the layers three times.)
    #[differentiable]
    fn logits(&self, #[no_grad] x: &SVector<f64, 2>) -> SVector<f64, CLASSES> {
        let hidden = (self.hidden.w * x + self.hidden.b).map(|v| v.tanh());
        self.output.w * hidden + self.output.b
    }

    /// The fraction of points whose highest logit is their label.
    fn accuracy(&self, xs: &[SVector<f64, 2>], labels: &[usize]) -> f64 {
        let correct = xs
            .iter()
            .zip(labels)
            .filter(|&(x, &label)| self.logits(x).imax() == label)
            .count();
        correct as f64 / xs.len() as f64
    }
}

/// Mean cross-entropy of the network's softmax against the labels, over the whole data set.
///
/// `softmax_cross_entropy` works from the logits with a max shift, so it stays finite however
/// confident the network gets; `ln(softmax(..))` would not.
#[differentiable]
fn loss(net: &Network, #[no_grad] xs: &[SVector<f64, 2>], #[no_grad] labels: &[usize]) -> f64 {
    let mut total = 0.0;
    for (x, label) in xs.iter().zip(labels) {
        let z = net.logits(x);
        total += softmax_cross_entropy(&z, *label);
    }
    total / xs.len() as f64
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
fn init(rng: &mut StdRng) -> Network {
    let w1 = SMatrix::from_fn(|_, _| rng.sample::<f64, _>(StandardNormal) / 2f64.sqrt());
    let w2 = SMatrix::from_fn(|_, _| rng.sample::<f64, _>(StandardNormal) / (HIDDEN as f64).sqrt());
    Network {
        hidden: Dense {
            w: w1,
            b: SVector::zeros(),
        },
        output: Dense {
            w: w2,
            b: SVector::zeros(),
        },
    }
}

fn main() -> Result<(), nabla::OptimError> {
    let start = std::time::Instant::now();
    // A seeded generator: every run prints the same numbers.
    let mut rng = StdRng::seed_from_u64(7);
    let (xs, labels) = spirals(&mut rng);
    // Fresh points from the same spirals, never trained on: they show whether the network
    // learned the arms or memorized the training points.
    let (test_xs, test_labels) = spirals(&mut rng);
    let mut net = init(&mut rng);

    // Trust, but verify: compare the generated gradient with finite differences of the plain
    // loss once, at the random starting point, in every parameter.
    let (_, grads) = loss_grad(&net, &xs, &labels);
    let report = check_parameters(|n: &Network| loss(n, &xs, &labels), &net, &grads);
    let count = HIDDEN * 2 + HIDDEN + CLASSES * HIDDEN + CLASSES;
    println!(
        "gradient check over {count} parameters: worst relative error {:.1e}",
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
        let (value, grads) = loss_grad(&net, &xs, &labels);
        if epoch % 200 == 0 {
            let acc = net.accuracy(&xs, &labels);
            println!("{epoch:>6}  {value:>10.6}  {:>8.1}%", 100.0 * acc);
        }
        // Full-batch steps: the data set is small enough that a whole pass is cheap.
        adam.step(&mut net, &grads)?;
    }
    // `loss` itself is still the plain function: no gradient needed for the last report.
    let final_loss = loss(&net, &xs, &labels);
    let train = net.accuracy(&xs, &labels);
    println!("{epochs:>6}  {final_loss:>10.6}  {:>8.1}%", 100.0 * train);

    println!();
    println!(
        "final accuracy: training {:.1}%, held-out {:.1}% (chance {:.1}%); {:.2} s in all",
        100.0 * train,
        100.0 * net.accuracy(&test_xs, &test_labels),
        100.0 / CLASSES as f64,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
