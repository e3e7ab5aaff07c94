// Every error of a function is reported in one build.
use nabla::differentiable;

#[differentiable]
fn many(x: f64, y: f64, unused: f64) -> f64 {
    let a = (x > 0.0) as i32 as f64;
    let b = y.round();
    let c = x % 2.0;
    a + b + c
}

fn main() {}
