// The position of the maximum turned into a number (TF: `argmax` in the loss gives `None`
// gradients), and the value half of `argmax`, which nabla does not differentiate.
use nabla::differentiable;
use nalgebra::SVector;

#[differentiable]
fn predicted_class(logits: &SVector<f64, 4>) -> f64 {
    let (class, _) = logits.argmax();
    class as f64
}

#[differentiable]
fn biggest(v: &SVector<f64, 3>) -> f64 {
    let (_, m) = v.argmax();
    m * 2.0
}

#[differentiable]
fn position(v: &SVector<f64, 3>) -> f64 {
    v.imax() as f64 + v.sum()
}

fn main() {}
