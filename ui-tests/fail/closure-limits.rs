// What closures may not do: a `map` inside another reading the function's own values, and a
// `return` inside a `fold`'s closure (it would return from the function).
use nabla::differentiable;
use nalgebra::DVector;

#[differentiable]
fn nested(w: f64, a: &DVector<f64>) -> f64 {
    a.map(|x| w * x + a.map(|y| y * w).sum()).sum()
}

#[differentiable]
fn early(w: f64, xs: &[f64]) -> f64 {
    if w > 100.0 {
        return w;
    }
    xs.iter().fold(0.0, |acc, &x| {
        if x < 0.0 {
            return acc;
        }
        acc + w * x
    })
}

// The same in a `map` that is collected: written out as a loop, the `return` would leave the
// function.
#[differentiable]
fn clipped(w: &[f64], k: f64) -> Vec<f64> {
    w.iter()
        .map(|&x| {
            if x < 0.0 {
                return 0.0;
            }
            x * k
        })
        .collect()
}

// A closure called through the variable holding it.
#[differentiable]
fn through_a_variable(w: f64) -> f64 {
    let sq = |x: f64| x * x;
    sq(w)
}

// A closure passed to a function or method nabla has no rule for is kept as written on data;
// reading a value that carries gradient, it is one error at the call.
#[differentiable]
fn kernel(w: &DVector<f64>, ell: f64, #[no_grad] x: &[f64]) -> f64 {
    let n = x.len();
    let k = nalgebra::DMatrix::from_fn(n, n, |i, j| (-(x[i] - x[j]).powi(2) / ell).exp());
    w.dot(&(&k * w))
}

#[differentiable]
fn moments(w: &[f64]) -> f64 {
    let (s, p) = w.iter().fold((0.0, 1.0), |(s, p), x| (s + x, p * x));
    s + p
}

fn main() {}
