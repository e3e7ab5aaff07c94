//! Shared by tests/control_flow.rs, tests/gmm.rs, tests/tape_memory.rs and
//! benches/control_flow.rs: central finite differences, ADBench's error measure, a tiny
//! deterministic PRNG, and the three workloads that are both tested and benchmarked (an ODE
//! integrator, a logistic-regression loss and ADBench's GMM objective), each with its data, and
//! a gradient of each written by hand (GMM's in `gmm_hand.rs`).
//!
//! Every consumer uses a different part of this module, hence `dead_code`. The workloads are
//! written with index loops on purpose (the way ADBench's C reference is), hence
//! `needless_range_loop`.
#![allow(dead_code, clippy::needless_range_loop)]

use nabla::differentiable;

mod gmm_hand;
use gmm_hand::gmm_objective_hand_grad;

// ---------------------------------------------------------------------------------------------
// Finite differences and comparison.
// ---------------------------------------------------------------------------------------------

/// ADBench's error measure: `|a - b| / max(1, |a| + |b|)`.
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// Central-difference gradient of `f` at `x`, step `h·max(1, |x_i|)`.
pub fn fd_gradient_with(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            let step = h * x[i].abs().max(1.0);
            p[i] = x[i] + step;
            let up = f(&p);
            p[i] = x[i] - step;
            let down = f(&p);
            p[i] = x[i];
            (up - down) / (2.0 * step)
        })
        .collect()
}

/// Central-difference gradient with the default step `1e-6` (f64).
pub fn fd_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    fd_gradient_with(f, x, 1e-6)
}

/// Central-difference derivative of a scalar function.
pub fn fd_scalar(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    fd_gradient(|p| f(p[0]), &[x])[0]
}

/// Asserts `rel_err(got[i], want[i]) < tol` for every `i`, naming the first failure.
#[track_caller]
pub fn assert_close_slices(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let e = rel_err(g, w);
        assert!(
            e < tol,
            "{what}[{i}]: got {g:e}, want {w:e} (relative error {e:e} >= {tol:e})"
        );
    }
}

/// Asserts `rel_err(got, want) < tol`.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert_close_slices(what, &[got], &[want], tol);
}

/// The f64 finite-difference tolerance: central differences in f64 agree to about 1e-6.
pub const FD_TOL: f64 = 1e-6;

/// Tolerance between an f32 gradient and the f64 reference of the same function.
pub const F32_TOL: f64 = 2e-4;

/// Tolerance between two ways of writing the same function (iterator form and index loop).
pub const SAME_TOL: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random data.
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a tiny, well-mixed, deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Approximately standard normal (sum of 12 uniforms minus 6).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }

    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.range(lo, hi)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Workload 1: explicit Euler integration of a damped oscillator, x'' = -k·x - c·x'.
// ---------------------------------------------------------------------------------------------

/// Final energy-like quantity `x² + v²` of a damped oscillator started at `x = 1, v = 0`,
/// integrated with `steps` explicit Euler steps of size `dt`. Parameters: stiffness `k`,
/// damping `c`.
#[differentiable]
pub fn oscillator(k: f64, c: f64, #[no_grad] steps: usize, #[no_grad] dt: f64) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    for _ in 0..steps {
        let a = -k * x - c * v;
        x += dt * v;
        v += dt * a;
    }
    x * x + v * v
}

/// The oscillator's gradient written by hand (adjoint of the Euler map), for the benchmark's
/// hand-written reference and the tests.
pub fn oscillator_hand_grad(k: f64, c: f64, steps: usize, dt: f64) -> (f64, (f64, f64)) {
    let mut xs = Vec::with_capacity(steps);
    let (mut x, mut v) = (1.0f64, 0.0f64);
    for _ in 0..steps {
        xs.push((x, v));
        let a = -k * x - c * v;
        x += dt * v;
        v += dt * a;
    }
    let value = x * x + v * v;
    let (mut bx, mut bv) = (2.0 * x, 2.0 * v);
    let (mut bk, mut bc) = (0.0, 0.0);
    for &(x0, v0) in xs.iter().rev() {
        // x1 = x0 + dt v0 ; v1 = v0 + dt (-k x0 - c v0)
        let ba = dt * bv;
        bk -= ba * x0;
        bc -= ba * v0;
        let nbx = bx - ba * k;
        let nbv = bv + dt * bx - ba * c;
        bx = nbx;
        bv = nbv;
    }
    (value, (bk, bc))
}

// ---------------------------------------------------------------------------------------------
// Workload 1b: the extended Rosenbrock function, the simplest loop over a slice.
// ---------------------------------------------------------------------------------------------

/// `Σᵢ (1 - xᵢ)² + 100 (xᵢ₊₁ - xᵢ²)²` over neighbouring elements.
#[differentiable]
#[allow(clippy::needless_range_loop)]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

/// Rosenbrock's gradient written by hand: each term's derivative added as the loop goes, since
/// no value is carried from one iteration to the next but the sum.
pub fn rosenbrock_hand_grad(x: &[f64]) -> (f64, Vec<f64>) {
    let mut s = 0.0;
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
        g[i] += -2.0 * a - 400.0 * b * x[i];
        g[i + 1] += 200.0 * b;
    }
    (s, g)
}

// ---------------------------------------------------------------------------------------------
// Workload 2: L2-regularized logistic-regression loss over a flat data set.
// ---------------------------------------------------------------------------------------------

/// Mean logistic loss of the linear model `w·x + b` over `n = y.len()` samples with `d`
/// features stored row-major in `x`, plus `lambda/2·|w|²`. Labels are 0 or 1; each sample's
/// loss is the numerically stable `softplus(±z)`, picked by an `if` on the label.
#[differentiable]
pub fn logistic_loss(
    w: &[f64],
    b: f64,
    #[no_grad] x: &[f64],
    #[no_grad] y: &[f64],
    #[no_grad] d: usize,
    #[no_grad] lambda: f64,
) -> f64 {
    let n = y.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut z = b;
        for j in 0..d {
            z += w[j] * x[i * d + j];
        }
        // softplus(s) = max(s, 0) + ln(1 + exp(-|s|)), with s = -z for label 1, z for label 0.
        let s = if y[i] > 0.5 { -z } else { z };
        let l = s.max(0.0) + (-s.abs()).exp().ln_1p();
        total += l;
    }
    let mut reg = 0.0;
    for j in 0..d {
        reg += w[j] * w[j];
    }
    total / (n as f64) + 0.5 * lambda * reg
}

/// The plain-Rust primal of [`logistic_loss`] (same arithmetic), used as its reference.
pub fn logistic_loss_hand_grad(
    w: &[f64],
    b: f64,
    x: &[f64],
    y: &[f64],
    d: usize,
    lambda: f64,
) -> (f64, (Vec<f64>, f64)) {
    let n = y.len();
    let mut total = 0.0;
    let mut gw = vec![0.0; d];
    let mut gb = 0.0;
    for i in 0..n {
        let row = &x[i * d..(i + 1) * d];
        let mut z = b;
        for j in 0..d {
            z += w[j] * row[j];
        }
        let (s, sign) = if y[i] > 0.5 { (-z, -1.0) } else { (z, 1.0) };
        total += s.max(0.0) + (-s.abs()).exp().ln_1p();
        // d softplus(s)/ds = sigmoid(s)
        let sig = if s >= 0.0 {
            1.0 / (1.0 + (-s).exp())
        } else {
            let e = s.exp();
            e / (1.0 + e)
        };
        let dz = sign * sig / n as f64;
        gb += dz;
        for j in 0..d {
            gw[j] += dz * row[j];
        }
    }
    let mut reg = 0.0;
    for j in 0..d {
        reg += w[j] * w[j];
        gw[j] += lambda * w[j];
    }
    (total / n as f64 + 0.5 * lambda * reg, (gw, gb))
}

/// Logistic-regression data: `n` samples of `d` features in `[-1, 1)`, labels drawn from the
/// model with weights `w_true`.
pub struct LogisticData {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub b: f64,
}

pub fn logistic_data(d: usize, n: usize, seed: u64) -> LogisticData {
    let mut rng = Rng::new(seed);
    let w_true = rng.vec(d, -2.0, 2.0);
    let x = rng.vec(n * d, -1.0, 1.0);
    let y = (0..n)
        .map(|i| {
            let z: f64 = (0..d).map(|j| w_true[j] * x[i * d + j]).sum::<f64>() + 0.3;
            let p = 1.0 / (1.0 + (-z).exp());
            if rng.uniform() < p {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    LogisticData {
        x,
        y,
        w: rng.vec(d, -0.5, 0.5),
        b: 0.1,
    }
}

// ---------------------------------------------------------------------------------------------
// Workload 3: ADBench's GMM objective, written the way ADBench's C reference is.
// ---------------------------------------------------------------------------------------------

/// `ln Γ(m/2)` for a positive integer `m` (all the Wishart constant needs: `n = d + m + 1` is
/// an integer, so every argument is a half-integer). `Γ(1/2) = √π`, `Γ(1) = 1`,
/// `Γ(x + 1) = x·Γ(x)`.
pub fn ln_gamma_half(m: usize) -> f64 {
    assert!(m > 0);
    let (mut x, mut out) = if m & 1 == 1 {
        (0.5, 0.5 * std::f64::consts::PI.ln())
    } else {
        (1.0, 0.0)
    };
    while 2.0 * x < m as f64 {
        out += x.ln();
        x += 1.0;
    }
    out
}

/// ADBench's `log_gamma_distrib(a, p)` (the log multivariate gamma function) for `a = n2/2`.
pub fn log_gamma_distrib(n2: usize, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * std::f64::consts::PI.ln();
    for j in 1..=p {
        // a + (1 - j)/2 = (n2 + 1 - j)/2
        out += ln_gamma_half(n2 + 1 - j);
    }
    out
}

/// ADBench's GMM objective (src/cpp/shared/gmm.h, `gmm_objective`), imperative over flat
/// slices.
///
/// - `alphas`: `k` unnormalized log mixture weights;
/// - `means`: `k·d` component means;
/// - `icf`: `k·(d + d(d-1)/2)` inverse-covariance factors per component: `d` logs of the
///   diagonal of the Cholesky factor `Q` of the inverse covariance, then its strictly lower
///   triangle column by column;
/// - `x`: `n·d` data points; `wishart_gamma`, `wishart_m`: the Wishart prior.
///
/// Returns `-n·d/2·ln 2π + Σ_i logsumexp_k(α_k + Σ log diag Q_k - ½|Q_k (x_i - μ_k)|²)
/// - n·logsumexp(α) + Σ_k (½γ²‖Q_k‖²_F - m·Σ log diag Q_k) - k·C(d, m, γ)`.
#[differentiable]
#[allow(clippy::too_many_arguments)]
pub fn gmm_objective(
    #[no_grad] d: usize,
    #[no_grad] k: usize,
    #[no_grad] n: usize,
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    #[no_grad] x: &[f64],
    #[no_grad] wishart_gamma: f64,
    #[no_grad] wishart_m: usize,
) -> f64 {
    let icf_sz = d * (d + 1) / 2;
    let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();

    // preprocess_qs: sums of log-diagonals and the diagonals themselves.
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            // Qtimesx: Q·xcentered with Q = diag(qdiags) + strictly lower triangle.
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lparamsidx = ik * icf_sz + d;
            for i in 0..d {
                for j in (i + 1)..d {
                    qxcentered[j] += icf[lparamsidx] * xcentered[i];
                    lparamsidx += 1;
                }
            }
            let mut sqnorm = 0.0;
            for id in 0..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        // logsumexp over components
        let mut mx = main_term[0];
        for ik in 1..k {
            mx = mx.max(main_term[ik]);
        }
        let mut semx = 0.0;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }

    // logsumexp(alphas)
    let mut amx = alphas[0];
    for ik in 1..k {
        amx = amx.max(alphas[ik]);
    }
    let mut asum = 0.0;
    for ik in 0..k {
        asum += (alphas[ik] - amx).exp();
    }
    let lse_alphas = asum.ln() + amx;

    // log_wishart_prior
    let wn = d + wishart_m + 1;
    let c = (wn * d) as f64 * (wishart_gamma.ln() - 0.5 * 2.0f64.ln()) - log_gamma_distrib(wn, d);
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for i in d..icf_sz {
            frobenius += icf[ik * icf_sz + i] * icf[ik * icf_sz + i];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * frobenius - (wishart_m as f64) * sum_qs[ik];
    }

    constant + slse - (n as f64) * lse_alphas + prior - (k as f64) * c
}

/// One GMM instance with flat storage, in ADBench's layout.
pub struct GmmData {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    pub alphas: Vec<f64>,
    pub means: Vec<f64>,
    pub icf: Vec<f64>,
    pub x: Vec<f64>,
    pub gamma: f64,
    pub m: usize,
}

impl GmmData {
    pub fn objective(&self) -> f64 {
        gmm_objective(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }

    #[allow(clippy::type_complexity)]
    pub fn gradient(&self) -> (f64, (Vec<f64>, Vec<f64>, Vec<f64>)) {
        gmm_objective_grad(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }

    /// The same gradient, written by hand (`gmm_hand.rs`).
    #[allow(clippy::type_complexity)]
    pub fn hand_gradient(&self) -> (f64, (Vec<f64>, Vec<f64>, Vec<f64>)) {
        gmm_objective_hand_grad(
            self.d,
            self.k,
            self.n,
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            self.gamma,
            self.m,
        )
    }
}

/// ADBench data/gmm/test.txt (= gmm_instances/gmm1.txt's parameters with its first point).
pub fn adbench_test_instance() -> GmmData {
    GmmData {
        d: 2,
        k: 3,
        n: 1,
        alphas: vec![-0.649014, 1.181166, -0.758453],
        means: vec![0.092339, 0.186260, 0.345561, 0.396767, 0.538817, 0.419195],
        icf: vec![
            0.586443, -0.851887, 0.800321, //
            -1.509405, 0.875874, -0.242790, //
            0.166813, -1.965419, -1.270071,
        ],
        x: vec![1.175171, 2.029160],
        gamma: 1.0,
        m: 0,
    }
}

// Copied digit for digit as ADBench prints them (18 significant digits).
#[allow(clippy::excessive_precision)]
pub const PUBLISHED_OBJECTIVE: f64 = 8.07380408004975791e+00;

/// Gradient w.r.t. (alphas, means, icf), in that order, as ADBench publishes it.
#[allow(clippy::excessive_precision)]
pub const PUBLISHED_GRADIENT: [f64; 18] = [
    1.08662855508652456e-01,
    -7.41270039523898472e-01,
    6.32607184015246071e-01,
    1.11692576532787013e+00,
    1.63333013551455269e-01,
    -2.19989824071193142e-02,
    2.27778292254236098e-01,
    1.20963025612832187e+00,
    -6.06375920733956339e-02,
    2.58529994051162237e+00,
    1.12632694524213789e-01,
    3.85744309849611777e-01,
    7.35180573182305508e-02,
    5.41836362715595232e+00,
    -3.21494409677446469e-01,
    1.71892309775004937e+00,
    8.60091090790866875e-01,
    -9.94640930466322848e-01,
];

pub fn flat_gradient(g: &(Vec<f64>, Vec<f64>, Vec<f64>)) -> Vec<f64> {
    g.0.iter().chain(&g.1).chain(&g.2).copied().collect()
}

/// The objective as a function of the concatenated (alphas, means, icf).
pub fn objective_of_flat(data: &GmmData, p: &[f64]) -> f64 {
    let (k, d) = (data.k, data.d);
    let (alphas, rest) = p.split_at(k);
    let (means, icf) = rest.split_at(k * d);
    gmm_objective(
        d, k, data.n, alphas, means, icf, &data.x, data.gamma, data.m,
    )
}

pub fn flat_params(data: &GmmData) -> Vec<f64> {
    data.alphas
        .iter()
        .chain(&data.means)
        .chain(&data.icf)
        .copied()
        .collect()
}

/// Pseudo-random GMM data in the ranges ADBench's generator uses (uniform alphas, means in
/// `[0, 1)`, small icf, normal data).
pub fn gmm_data(d: usize, k: usize, n: usize, seed: u64) -> GmmData {
    let mut rng = Rng::new(seed);
    let icf_sz = d * (d + 1) / 2;
    GmmData {
        d,
        k,
        n,
        alphas: rng.vec(k, -1.0, 1.0),
        means: rng.vec(k * d, 0.0, 1.0),
        icf: (0..k * icf_sz).map(|_| 0.1 * rng.normal()).collect(),
        x: (0..n * d).map(|_| rng.normal()).collect(),
        gamma: 1.0,
        m: 0,
    }
}
