// A `match` on an integer cast of a parameter, picking constants: a step function.
use nabla::differentiable;

#[differentiable]
fn bucket(x: f64) -> f64 {
    match (x * 4.0) as i32 {
        0 => 0.1,
        1 => 0.5,
        _ => 1.0,
    }
}

fn main() {}
