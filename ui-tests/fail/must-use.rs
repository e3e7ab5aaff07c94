// A gradient that is computed and dropped is a warning (here denied): the model never learns.
#![deny(unused_must_use)]
use nabla::differentiable;

#[differentiable]
fn loss(w: f64) -> f64 {
    w * w
}

fn main() {
    loss_grad(3.0);
}
