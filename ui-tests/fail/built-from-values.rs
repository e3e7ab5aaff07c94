// A repeat array and a range of floats built from values that carry gradient: nabla has no
// derivative for either, and says which values they are built from.
use nabla::differentiable;

#[differentiable]
fn repeated(x: f64) -> f64 {
    let a = [x; 4];
    let b = x..2.0 * x;
    a[0] + b.start
}

fn main() {}
