// `%` and `rem_euclid` have no derivative rule in nabla; the fix keeps the value and gives the
// derivative 1.
use nabla::differentiable;

#[differentiable]
fn phase(t: f64) -> f64 {
    (t % 1.0) * 2.0
}

#[differentiable]
fn wrapped(angle: f64) -> f64 {
    angle.rem_euclid(std::f64::consts::TAU)
}

fn main() {}
