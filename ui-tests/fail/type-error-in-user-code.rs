// rustc's own type errors in user code point at the user's expression, once: a literal of the
// wrong kind (`x * 2`, `x.max(0)`, `x.powi(2.0)`) adds no second error from the generated code.
use nabla::differentiable;

#[differentiable]
fn shifted(x: f64) -> f64 {
    x + 1
}

#[differentiable]
fn doubled(x: f64) -> f64 {
    x * 2 + 3 / x
}

#[differentiable]
fn clamped(x: f64) -> f64 {
    x.max(0) * x
}

#[differentiable]
fn squared(x: f64) -> f64 {
    x.powi(2.0)
}

#[differentiable]
fn negated(x: f64) -> f64 {
    x * -2 + x.powi(-2.0)
}

fn main() {}
