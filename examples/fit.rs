//! Fits a damped oscillator `x(t) = A·e^(-γt)·cos(ωt + φ)` to noisy samples with plain gradient
//! descent, the gradient coming from `#[differentiable]`.
//!
//! The parameters are a struct deriving `Parameters`, whose `model` method is `#[differentiable]`.
//! The loss — the mean squared residual over all samples — is a `#[differentiable]` function of
//! the parameters that calls `model` in a loop over the data, which is marked `#[no_grad]`.
//! `loss_grad` returns the loss and its gradient: a `Params` value, one derivative per field.
//!
//! The samples' noise comes from a seeded `rand` generator, so every run prints the same
//! numbers; the data, the first guess and the fitted curve are plotted to a PNG (`plotters`,
//! drawing in pure Rust with the DejaVu Sans font shipped in `examples/data`).
//!
//! Run with `cargo run --release --example fit`.

use std::error::Error;
use std::path::Path;

use nabla::{differentiable, Parameters};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Where the plot goes.
const PLOT: &str = "target/nabla-fit.png";

/// The oscillator's parameters: the model, and (derived) the shape of its gradient.
#[derive(Clone, Copy, Debug, Parameters)]
struct Params {
    amplitude: f64,
    damping: f64,
    frequency: f64,
    phase: f64,
}

impl Params {
    /// The displacement at time `t`.
    #[differentiable]
    fn model(&self, #[no_grad] t: f64) -> f64 {
        self.amplitude * (-self.damping * t).exp() * (self.frequency * t + self.phase).cos()
    }

    /// One step of plain gradient descent.
    fn descend(&mut self, gradient: &Params, learning_rate: f64) {
        self.amplitude -= learning_rate * gradient.amplitude;
        self.damping -= learning_rate * gradient.damping;
        self.frequency -= learning_rate * gradient.frequency;
        self.phase -= learning_rate * gradient.phase;
    }
}

/// Mean squared residual of the model over the samples.
#[differentiable]
fn loss(p: &Params, #[no_grad] ts: &[f64], #[no_grad] xs: &[f64]) -> f64 {
    let mut total = 0.0;
    for (t, x) in ts.iter().zip(xs) {
        let r = p.model(*t) - x;
        total += r * r;
    }
    total / ts.len() as f64
}

/// Plots the samples, the first guess and the fitted curve to a PNG file.
fn plot_fit(
    path: &Path,
    ts: &[f64],
    xs: &[f64],
    guess: Params,
    fitted: Params,
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
    let t_end = ts[ts.len() - 1];
    let x_max = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Damped oscillator fitted by gradient descent",
            ("sans-serif", 26),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..t_end, -1.1 * x_max..1.1 * x_max)?;
    chart
        .configure_mesh()
        .x_desc("time t")
        .y_desc("displacement x(t)")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;

    chart
        .draw_series(
            ts.iter()
                .zip(xs)
                .map(|(&t, &x)| Circle::new((t, x), 3, BLACK.mix(0.6).filled())),
        )?
        .label(format!("{} noisy samples", ts.len()))
        .legend(|(x, y)| Circle::new((x + 12, y), 3, BLACK.mix(0.6).filled()));
    // The curves, evaluated on a grid finer than the samples.
    let grid = |model: Params| {
        (0..=1000).map(move |i| {
            let t = t_end * i as f64 / 1000.0;
            (t, model.model(t))
        })
    };
    let curves = [
        ("first guess", guess, RGBColor(150, 150, 150)),
        ("fitted model", fitted, RED),
    ];
    for (name, model, color) in curves {
        chart
            .draw_series(LineSeries::new(grid(model), color.stroke_width(2)))?
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
    let truth = Params {
        amplitude: 2.0,
        damping: 0.3,
        frequency: 1.7,
        phase: 0.4,
    };
    let noise = 0.05;

    // 200 samples over 10 time units, with Gaussian noise from a seeded generator.
    let mut rng = StdRng::seed_from_u64(2024);
    let gaussian = Normal::new(0.0, noise)?;
    let ts: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
    let xs: Vec<f64> = ts
        .iter()
        .map(|&t| truth.model(t) + gaussian.sample(&mut rng))
        .collect();

    // A rough first guess, as one would read it off a plot.
    let guess = Params {
        amplitude: 1.0,
        damping: 0.1,
        frequency: 1.4,
        phase: 0.0,
    };
    let mut p = guess;
    let learning_rate = 0.05;
    let report_at = [
        0, 10, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000,
    ];
    let steps = report_at[report_at.len() - 1];

    println!(
        "fitting x(t) = A·e^(-γt)·cos(ωt + φ) to {} noisy samples",
        ts.len()
    );
    println!(
        "{:>6}  {:>12}  {:>8}  {:>8}  {:>8}  {:>8}",
        "step", "loss", "A", "γ", "ω", "φ"
    );
    for step in 0..=steps {
        let (value, gradient) = loss_grad(&p, &ts, &xs);
        if report_at.contains(&step) {
            println!(
                "{step:>6}  {value:>12.6e}  {:>8.4}  {:>8.4}  {:>8.4}  {:>8.4}",
                p.amplitude, p.damping, p.frequency, p.phase
            );
        }
        p.descend(&gradient, learning_rate);
    }

    // The function itself is still the plain primal: evaluate the fit with it.
    println!();
    println!(
        "final loss {:.6e} (noise variance {:.6e})",
        loss(&p, &ts, &xs),
        noise * noise
    );
    println!("{:>10}  {:>10}  {:>10}", "", "recovered", "true");
    let got = [p.amplitude, p.damping, p.frequency, p.phase];
    let want = [truth.amplitude, truth.damping, truth.frequency, truth.phase];
    for ((name, got), want) in ["A", "γ", "ω", "φ"].iter().zip(got).zip(want) {
        println!("{name:>10}  {got:>10.4}  {want:>10.4}");
    }

    let plot = Path::new(PLOT);
    std::fs::create_dir_all(plot.parent().expect("the plot path has a folder"))?;
    plot_fit(plot, &ts, &xs, guess, p)?;
    println!();
    println!("plot: {}", plot.display());
    Ok(())
}
