//! Fits a damped oscillator `x(t) = A·e^(-γt)·cos(ωt + φ)` to noisy samples with plain gradient
//! descent, the gradient coming from `#[differentiable]`.
//!
//! The per-sample squared residual is a `#[differentiable]` function of the four parameters,
//! with the sample itself marked `#[no_grad]`; the loss is the mean over the samples, so its
//! gradient is the mean of the per-sample gradients, summed here in ordinary Rust.
//!
//! Run with `cargo run --release --example fit`.

use nabla::differentiable;

/// Squared residual of the model at one sample `(t, x)`.
#[differentiable]
fn squared_residual(
    amplitude: f64,
    damping: f64,
    frequency: f64,
    phase: f64,
    #[no_grad] t: f64,
    #[no_grad] x: f64,
) -> f64 {
    let model = amplitude * (-damping * t).exp() * (frequency * t + phase).cos();
    let r = model - x;
    r * r
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

/// Mean squared residual and its gradient with respect to `(A, γ, ω, φ)`.
fn loss_and_gradient(p: &Params, samples: &[(f64, f64)]) -> (f64, [f64; 4]) {
    let mut loss = 0.0;
    let mut grad = [0.0; 4];
    for &(t, x) in samples {
        let (value, (da, dg, dw, dp)) =
            squared_residual_grad(p.amplitude, p.damping, p.frequency, p.phase, t, x);
        loss += value;
        for (g, d) in grad.iter_mut().zip([da, dg, dw, dp]) {
            *g += d;
        }
    }
    let n = samples.len() as f64;
    (loss / n, grad.map(|g| g / n))
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
    let samples: Vec<(f64, f64)> = (0..200)
        .map(|i| {
            let t = i as f64 * 0.05;
            (t, truth.model(t) + noise * rng.gaussian())
        })
        .collect();

    // A rough first guess, as one would read it off a plot.
    let mut p = Params {
        amplitude: 1.0,
        damping: 0.1,
        frequency: 1.4,
        phase: 0.0,
    };
    let learning_rate = 0.05;
    let report_at = [
        0, 10, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000,
    ];
    let steps = report_at[report_at.len() - 1];

    println!(
        "fitting x(t) = A·e^(-γt)·cos(ωt + φ) to {} noisy samples",
        samples.len()
    );
    println!(
        "{:>6}  {:>12}  {:>8}  {:>8}  {:>8}  {:>8}",
        "step", "loss", "A", "γ", "ω", "φ"
    );
    for step in 0..=steps {
        let (loss, g) = loss_and_gradient(&p, &samples);
        if report_at.contains(&step) {
            println!(
                "{step:>6}  {loss:>12.6e}  {:>8.4}  {:>8.4}  {:>8.4}  {:>8.4}",
                p.amplitude, p.damping, p.frequency, p.phase
            );
        }
        p.amplitude -= learning_rate * g[0];
        p.damping -= learning_rate * g[1];
        p.frequency -= learning_rate * g[2];
        p.phase -= learning_rate * g[3];
    }

    // The function itself is still the plain primal: evaluate the fit with it.
    let loss = samples
        .iter()
        .map(|&(t, x)| squared_residual(p.amplitude, p.damping, p.frequency, p.phase, t, x))
        .sum::<f64>()
        / samples.len() as f64;
    println!();
    println!(
        "final loss {loss:.6e} (noise variance {:.6e})",
        noise * noise
    );
    println!("{:>10}  {:>10}  {:>10}", "", "recovered", "true");
    for (name, got, want) in [
        ("A", p.amplitude, truth.amplitude),
        ("γ", p.damping, truth.damping),
        ("ω", p.frequency, truth.frequency),
        ("φ", p.phase, truth.phase),
    ] {
        println!("{name:>10}  {got:>10.4}  {want:>10.4}");
    }
}
