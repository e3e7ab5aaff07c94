//! The functions a generated program may call: a fixed library of helpers, written once here and
//! copied into every corpus, and the programs generated before it in the same file.

use crate::ast::ParamTy;
use crate::bounds::Iv;

/// What a caller needs to know of a function: its parameters, the range of its result when every
/// scalar argument is within `bounds::ARG_LIMIT` (and every count at most the value in its
/// `ParamTy::NoGradUsize`), and roughly how many operations a call costs.
#[derive(Clone, Debug)]
pub struct Callee {
    pub name: String,
    pub params: Vec<ParamTy>,
    pub out: Iv,
    pub cost: u64,
}

/// The helpers, each with a construct of its own inside (a branch, a loop, a buffer, a `while`,
/// an early `return`, a call of a helper).
pub const SOURCE: &str = r#"// ---- the fixed helper library -----------------------------------------------------------

/// The smallest callee.
#[differentiable]
fn h_square(x: f64) -> f64 {
    x * x
}

#[differentiable]
fn h_softplus(x: f64) -> f64 {
    (x.exp() + 1.0).ln()
}

/// A branch on a condition that carries gradient.
#[differentiable]
fn h_gate(x: f64, y: f64) -> f64 {
    if x > y {
        x * y.cos()
    } else {
        (y - x).sin() + 0.5 * x
    }
}

/// A `#[no_grad]` scale.
#[differentiable]
fn h_scale(x: f64, #[no_grad] k: f64) -> f64 {
    k * x.tanh() + 0.1 * x
}

/// A loop whose trip count is an argument.
#[differentiable]
fn h_iterate(x: f64, #[no_grad] n: usize) -> f64 {
    let mut acc = x;
    for i in 0..n {
        acc = (0.8 * acc + 0.1 * i as f64).sin() + 0.2 * x;
    }
    acc
}

/// An array parameter.
#[differentiable]
fn h_norm3(p: [f64; 3]) -> f64 {
    (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + 1.0).sqrt()
}

/// A slice parameter (called with slice parameters and with local buffers).
#[differentiable]
fn h_energy(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += (xs[i] * w).tanh();
    }
    s
}

/// `max` inside a log-sum-exp.
#[differentiable]
fn h_lse(x: f64, y: f64) -> f64 {
    let m = x.max(y);
    m + ((x - m).exp() + (y - m).exp()).ln()
}

/// A local buffer.
#[differentiable]
fn h_prefix(x: f64, y: f64) -> f64 {
    let mut buf = vec![0.0; 3];
    buf[0] = x;
    for i in 1..3 {
        buf[i] = buf[i - 1] * 0.5 + y;
    }
    buf[2].tanh() + buf[1] * 0.1
}

/// Helpers calling helpers.
#[differentiable]
fn h_nested(x: f64, y: f64) -> f64 {
    h_gate(h_square(x) * 0.5, y) + h_softplus(y)
}

/// A `while` loop with an integer counter.
#[differentiable]
fn h_horner(x: f64, #[no_grad] k: f64) -> f64 {
    let mut s = 0.0;
    let mut j = 0;
    while j < 3 {
        s = s * x * 0.5 + k;
        j += 1;
    }
    s
}

/// An early `return` on a condition that carries gradient.
#[differentiable]
fn h_early(x: f64, y: f64) -> f64 {
    if x > 1.0 {
        return x * y;
    }
    x.sin() + y
}
"#;

/// The helpers of `SOURCE`. Result ranges are worked out by hand for arguments in
/// [-1.5, 1.5], `k` in [0.5, 1.5], `n` at most 4 and slices of at most 5 elements.
pub fn helpers() -> Vec<Callee> {
    use ParamTy::*;
    let h = |name: &str, params: Vec<ParamTy>, lo: f64, hi: f64, cost: u64| Callee {
        name: name.to_string(),
        params,
        out: Iv::new(lo, hi),
        cost,
    };
    vec![
        h("h_square", vec![Scalar], 0.0, 2.25, 2),
        h("h_softplus", vec![Scalar], 0.0, 1.8, 4),
        h("h_gate", vec![Scalar, Scalar], -2.0, 2.0, 8),
        h("h_scale", vec![Scalar, NoGradF64(1.0)], -1.7, 1.7, 6),
        h("h_iterate", vec![Scalar, NoGradUsize(4)], -1.5, 1.5, 40),
        h("h_norm3", vec![Array3], 1.0, 2.8, 14),
        h("h_energy", vec![Slice(5), Scalar], -5.0, 5.0, 30),
        h("h_lse", vec![Scalar, Scalar], -1.5, 2.2, 12),
        h("h_prefix", vec![Scalar, Scalar], -1.3, 1.3, 16),
        h("h_nested", vec![Scalar, Scalar], -2.0, 3.8, 24),
        h("h_horner", vec![Scalar, NoGradF64(1.0)], -3.5, 3.5, 20),
        h("h_early", vec![Scalar, Scalar], -2.5, 2.5, 8),
    ]
}
