//! Fits a damped oscillator `x(t) = A·e^(-γt)·cos(ωt + φ)` to noisy samples with plain gradient
//! descent, the gradient coming from `#[differentiable]`.
//!
//! The loss — the mean squared residual over all samples — is one `#[differentiable]` function
//! of the parameter array, looping over the data, which is marked `#[no_grad]`. `loss_grad`
//! returns the loss and its gradient, shaped like the parameters.
//!
//! Run with `cargo run --release --example fit`.

use nabla::differentiable;

/// Mean squared residual of the model `p[0]·e^(-p[1]·t)·cos(p[2]·t + p[3])` over the samples.
#[differentiable]
fn loss(p: [f64; 4], #[no_grad] ts: &[f64], #[no_grad] xs: &[f64]) -> f64 {
    let (amplitude, damping, frequency, phase) = (p[0], p[1], p[2], p[3]);
    let mut total = 0.0;
    for (t, x) in ts.iter().zip(xs) {
        let model = amplitude * (-damping * t).exp() * (frequency * t + phase).cos();
        let r = model - x;
        total += r * r;
    }
    total / ts.len() as f64
}

/// The oscillator's parameters.
#[derive(Clone, Copy, Debug)]
struct Params {
    amplitude: f64,
    damping: f64,
    frequency: f64,
    phase: f64,
}

impl Params {
    fn model(&self, t: f64) -> f64 {
        self.amplitude * (-self.damping * t).exp() * (self.frequency * t + self.phase).cos()
    }
}

/// A tiny deterministic PRNG (SplitMix64) with Gaussian samples by Box–Muller, so the example
/// needs no dependency and prints the same numbers on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn main() {
    let truth = Params {
        amplitude: 2.0,
        damping: 0.3,
        frequency: 1.7,
        phase: 0.4,
    };
    let noise = 0.05;

    // 200 samples over 10 time units, with Gaussian noise.
    let mut rng = Rng(2024);
    let ts: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
    let xs: Vec<f64> = ts
        .iter()
        .map(|&t| truth.model(t) + noise * rng.gaussian())
        .collect();

    // A rough first guess, as one would read it off a plot: [A, γ, ω, φ].
    let mut p = [1.0, 0.1, 1.4, 0.0];
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
        let (value, gradient) = loss_grad(p, &ts, &xs);
        if report_at.contains(&step) {
            println!(
                "{step:>6}  {value:>12.6e}  {:>8.4}  {:>8.4}  {:>8.4}  {:>8.4}",
                p[0], p[1], p[2], p[3]
            );
        }
        for (parameter, g) in p.iter_mut().zip(gradient) {
            *parameter -= learning_rate * g;
        }
    }

    // The function itself is still the plain primal: evaluate the fit with it.
    println!();
    println!(
        "final loss {:.6e} (noise variance {:.6e})",
        loss(p, &ts, &xs),
        noise * noise
    );
    println!("{:>10}  {:>10}  {:>10}", "", "recovered", "true");
    let want = [truth.amplitude, truth.damping, truth.frequency, truth.phase];
    for ((name, got), want) in ["A", "γ", "ω", "φ"].iter().zip(p).zip(want) {
        println!("{name:>10}  {got:>10.4}  {want:>10.4}");
    }
}
