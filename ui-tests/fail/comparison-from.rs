// A comparison turned into a number through `From` conversions and integer arithmetic.
use nabla::differentiable;

#[differentiable]
fn indicator(x: f64, y: f64) -> f64 {
    f64::from(x > y) * 0.5 + x
}

#[differentiable]
fn votes(a: f64, b: f64, c: f64) -> f64 {
    let n = u8::from(a > 0.0) + u8::from(b > 0.0) + u8::from(c > 0.0);
    n as f64 / 3.0
}

#[differentiable]
fn both(x: f64, y: f64) -> f64 {
    let inside = (x > 0.0) & (y > 0.0);
    f64::from(u8::from(inside))
}

fn main() {}
