// A struct built from values that carry gradient must derive `Parameters`: the error is at the
// literal, not at the attribute.
use nabla::differentiable;

struct State {
    x: f64,
    v: f64,
}

#[differentiable]
fn energy(a: f64) -> f64 {
    let s = State { x: a, v: a * 2.0 };
    s.x * s.v
}

fn main() {
    let _ = energy_grad(0.5);
}
