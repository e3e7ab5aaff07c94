// The position of the maximum turned into a number (TF: `argmax` in the loss gives `None`
// gradients), and the value half of `argmax`, which nabla does not differentiate; a count of
// the elements a test keeps, likewise turned into a number.
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

/// The Keras bug with a count: how many predictions pass a threshold, added to the loss.
#[differentiable]
fn penalised(pred: &[f64]) -> f64 {
    let loss: f64 = pred.iter().map(|p| p * p).sum();
    loss + pred.iter().filter(|p| **p > 0.5).count() as f64
}

fn main() {}
