//! Classifies Fisher's iris flowers from four measurements with a small neural network trained
//! by `nabla::Adam`, on the real data set shipped in `examples/data/iris.csv`.
//!
//! The steps are those of any small supervised-learning job:
//!
//! 1. read the CSV file (`csv` crate) into feature vectors and class labels;
//! 2. split it into a training set and a held-out set with a fixed seed (`rand`), and
//!    standardize the features with the training set's means and deviations;
//! 3. train a 4-16-3 tanh network, `logits = W₂·tanh(W₁·x + b₁) + b₂`, on the mean softmax
//!    cross-entropy: one `#[differentiable]` function of the parameter tuple `(W₁, b₁, W₂, b₂)`
//!    (nalgebra `DMatrix`/`DVector`, sized from the data), whose generated `loss_grad` returns
//!    a gradient of the same tuple type for `Adam::step`, with a progress bar (`indicatif`);
//! 4. report the held-out accuracy, and plot the training and held-out loss per epoch to a PNG
//!    (`plotters`, drawing in pure Rust with the DejaVu Sans font shipped beside the data).
//!
//! Run with `cargo run --release --example iris`.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use nabla::{differentiable, softmax_cross_entropy, Adam};
use nalgebra::{DMatrix, DVector};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// The data set, relative to the crate root.
const DATA: &str = "examples/data/iris.csv";
/// Where the loss curve goes.
const PLOT: &str = "target/nabla-iris-loss.png";
/// Seed of the split and of the initial weights: every run prints the same numbers.
const SEED: u64 = 2024;
/// Share of the samples held out from training, to measure how well the model generalizes.
const HELD_OUT: f64 = 0.2;
/// Units in the hidden layer.
const HIDDEN: usize = 16;
/// Full passes over the training set, one Adam step each.
const EPOCHS: usize = 500;
const LEARNING_RATE: f64 = 0.01;
/// L2 weight decay: keeps the weights small, so that 16 hidden units do not memorize the 120
/// training samples at the expense of the held-out ones.
const L2: f64 = 1e-3;

/// The network's class scores (logits) for one standardized sample `x`.
///
/// Differentiable too, so that `loss` differentiates through the call and training and
/// prediction share one definition of the model.
#[differentiable]
fn logits(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    #[no_grad] x: &DVector<f64>,
) -> DVector<f64> {
    let hidden = (w1 * x + b1).map(|v| v.tanh());
    w2 * hidden + b2
}

/// Mean cross-entropy of the network's softmax against the labels.
///
/// `softmax_cross_entropy` works from the logits with a max shift, so it stays finite however
/// confident the network gets.
#[differentiable]
fn loss(
    w1: &DMatrix<f64>,
    b1: &DVector<f64>,
    w2: &DMatrix<f64>,
    b2: &DVector<f64>,
    #[no_grad] xs: &[DVector<f64>],
    #[no_grad] labels: &[usize],
) -> f64 {
    let mut total = 0.0;
    for (x, label) in xs.iter().zip(labels) {
        let z = logits(w1, b1, w2, b2, x);
        total += softmax_cross_entropy(&z, *label);
    }
    total / xs.len() as f64
}

/// The parameters `(W₁, b₁, W₂, b₂)`, in the order (and with the types) of `loss`'s gradient.
type Params = (DMatrix<f64>, DVector<f64>, DMatrix<f64>, DVector<f64>);

/// A labelled data set: one feature vector and one class index per sample.
struct Samples {
    xs: Vec<DVector<f64>>,
    labels: Vec<usize>,
}

/// Reads the CSV file: four measurements in cm, then the species name, with a header row.
/// Returns the samples and the class names, numbered in order of first appearance.
fn read_iris(path: &Path) -> Result<(Samples, Vec<String>), Box<dyn Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut samples = Samples {
        xs: Vec::new(),
        labels: Vec::new(),
    };
    let mut classes: Vec<String> = Vec::new();
    // Each record deserializes into a tuple of its columns' types; the header row is skipped.
    for record in reader.deserialize() {
        let (sepal_length, sepal_width, petal_length, petal_width, species): (
            f64,
            f64,
            f64,
            f64,
            String,
        ) = record?;
        let label = match classes.iter().position(|c| *c == species) {
            Some(label) => label,
            None => {
                classes.push(species);
                classes.len() - 1
            }
        };
        let x = DVector::from_vec(vec![sepal_length, sepal_width, petal_length, petal_width]);
        samples.xs.push(x);
        samples.labels.push(label);
    }
    Ok((samples, classes))
}

/// Shuffles the samples with `rng` and holds out `share` of each class: a stratified split, so
/// that both sets have the classes in the same proportions.
fn split(samples: Samples, share: f64, rng: &mut StdRng) -> (Samples, Samples) {
    let mut order: Vec<usize> = (0..samples.xs.len()).collect();
    order.shuffle(rng);
    let classes = samples.labels.iter().max().map_or(0, |&l| l + 1);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in 0..classes {
        let members: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| samples.labels[i] == class)
            .collect();
        let held_out = (share * members.len() as f64).round() as usize;
        test.extend_from_slice(&members[..held_out]);
        train.extend_from_slice(&members[held_out..]);
    }
    let pick = |indices: &[usize]| Samples {
        xs: indices.iter().map(|&i| samples.xs[i].clone()).collect(),
        labels: indices.iter().map(|&i| samples.labels[i]).collect(),
    };
    (pick(&train), pick(&test))
}

/// Rescales every feature to mean 0 and standard deviation 1 on the training set, and applies
/// the same affine map to the held-out set (whose statistics the model must not see).
fn standardize(train: &mut Samples, test: &mut Samples) {
    let n = train.xs.len() as f64;
    let mean = train.xs.iter().sum::<DVector<f64>>() / n;
    let var = train
        .xs
        .iter()
        .map(|x| (x - &mean).map(|d| d * d))
        .sum::<DVector<f64>>()
        / n;
    let std = var.map(f64::sqrt);
    for x in train.xs.iter_mut().chain(test.xs.iter_mut()) {
        *x = (&*x - &mean).component_div(&std);
    }
}

/// Gaussian weights scaled by 1/√fan-in (so that tanh starts in its linear range), zero biases.
fn init(inputs: usize, classes: usize, rng: &mut StdRng) -> Params {
    let mut weights = |rows: usize, fan_in: usize| {
        let normal = Normal::new(0.0, 1.0 / (fan_in as f64).sqrt()).expect("a positive deviation");
        DMatrix::from_fn(rows, fan_in, |_, _| normal.sample(rng))
    };
    let w1 = weights(HIDDEN, inputs);
    let w2 = weights(classes, HIDDEN);
    (w1, DVector::zeros(HIDDEN), w2, DVector::zeros(classes))
}

/// The mean loss of the parameters on a data set: the plain function, no gradient.
fn mean_loss(p: &Params, data: &Samples) -> f64 {
    loss(&p.0, &p.1, &p.2, &p.3, &data.xs, &data.labels)
}

/// The predicted class of every sample: the index of its highest logit.
fn predict(p: &Params, data: &Samples) -> Vec<usize> {
    let predict_one = |x| logits(&p.0, &p.1, &p.2, &p.3, x).imax();
    data.xs.iter().map(predict_one).collect()
}

/// The fraction of samples whose predicted class is their label.
fn accuracy(p: &Params, data: &Samples) -> f64 {
    let right = predict(p, data)
        .iter()
        .zip(&data.labels)
        .filter(|(predicted, label)| predicted == label)
        .count();
    right as f64 / data.labels.len() as f64
}

/// Draws the training and held-out loss per epoch to a PNG file, each curve with its legend.
fn plot_losses(
    path: &Path,
    train: (&str, &[f64]),
    test: (&str, &[f64]),
) -> Result<(), Box<dyn Error>> {
    // plotters draws text with a font registered by name; this one is shipped with the example,
    // so the plot needs no font installed on the machine.
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        include_bytes!("data/DejaVuSans.ttf"),
    )
    .map_err(|_| "examples/data/DejaVuSans.ttf is not a font")?;

    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let high = train.1.iter().chain(test.1).copied().fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Iris species from four measurements: loss per epoch",
            ("sans-serif", 26),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0..train.1.len(), 0.0..1.05 * high)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("mean cross-entropy")
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    for ((name, losses), color) in [(train, BLUE), (test, RED)] {
        chart
            .draw_series(LineSeries::new(
                losses.iter().copied().enumerate(),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 18))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();

    // 1. Read the data, found from the crate root wherever the example is started.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let (samples, classes) = read_iris(&path)?;
    let inputs = samples.xs[0].len();
    println!(
        "{DATA}: {} samples, {inputs} features, {} classes ({})",
        samples.xs.len(),
        classes.len(),
        classes.join(", ")
    );

    // 2. Split with a fixed seed, then standardize with the training set's statistics.
    let mut rng = StdRng::seed_from_u64(SEED);
    let (mut train, mut test) = split(samples, HELD_OUT, &mut rng);
    standardize(&mut train, &mut test);
    println!(
        "{} for training, {} held out (seed {SEED})",
        train.xs.len(),
        test.xs.len()
    );

    // 3. Train: full-batch Adam steps, the data set being small.
    let mut params = init(inputs, classes.len(), &mut rng);
    let mut adam = Adam::new(LEARNING_RATE).weight_decay(L2);
    let (mut train_curve, mut test_curve) = (Vec::new(), Vec::new());
    let bar = ProgressBar::new(EPOCHS as u64).with_style(ProgressStyle::with_template(
        "epoch {pos:>4}/{len} [{bar:32}] {msg}",
    )?);
    let training = Instant::now();
    for epoch in 1..=EPOCHS {
        let (value, grads) = loss_grad(
            &params.0,
            &params.1,
            &params.2,
            &params.3,
            &train.xs,
            &train.labels,
        );
        // Both losses of the parameters before this epoch's step.
        train_curve.push(value);
        test_curve.push(mean_loss(&params, &test));
        // The gradient has the type of `params`, so it is applied as it is.
        adam.step(&mut params, &grads)?;
        if epoch % 10 == 0 || epoch == EPOCHS {
            let per_second = (epoch * train.xs.len()) as f64 / training.elapsed().as_secs_f64();
            bar.set_message(format!("loss {value:.4}  {per_second:.0} samples/s"));
        }
        bar.inc(1);
    }
    bar.finish();

    // 4. Report, on the held-out set the model never trained on.
    println!();
    println!(
        "final loss: training {:.4}, held-out {:.4}",
        mean_loss(&params, &train),
        mean_loss(&params, &test)
    );
    println!(
        "training accuracy {:.1}%",
        100.0 * accuracy(&params, &train)
    );
    let predicted = predict(&params, &test);
    println!("held-out confusion (rows: true species, columns: predicted):");
    for (label, name) in classes.iter().enumerate() {
        let counts: Vec<String> = (0..classes.len())
            .map(|guess| {
                let n = test
                    .labels
                    .iter()
                    .zip(&predicted)
                    .filter(|&(&l, &p)| l == label && p == guess)
                    .count();
                format!("{n:>4}")
            })
            .collect();
        println!("  {name:>12} {}", counts.join(""));
    }
    println!(
        "held-out accuracy {:.1}% ({} samples)",
        100.0 * accuracy(&params, &test),
        test.xs.len()
    );

    let plot = Path::new(PLOT);
    std::fs::create_dir_all(plot.parent().expect("the plot path has a folder"))?;
    let train_label = format!(
        "training set ({:.1}% accuracy)",
        100.0 * accuracy(&params, &train)
    );
    let test_label = format!(
        "held-out set ({:.1}% accuracy)",
        100.0 * accuracy(&params, &test)
    );
    plot_losses(
        plot,
        (&train_label, &train_curve),
        (&test_label, &test_curve),
    )?;
    println!("loss curve: {}", plot.display());
    println!("{:.2} s in all", start.elapsed().as_secs_f64());
    Ok(())
}
