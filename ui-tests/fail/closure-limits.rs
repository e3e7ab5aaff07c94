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

fn main() {}
