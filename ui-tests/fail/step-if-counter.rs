// Counting how many predictions pass a threshold, then using the count in the loss: the count is
// a step function of the predictions (Keras: accuracy used as a loss).
use nabla::differentiable;

#[differentiable]
fn precision_loss(pred: &[f64]) -> f64 {
    let mut correct = 0;
    for i in 0..pred.len() {
        if pred[i] > 0.5 {
            correct += 1;
        }
    }
    1.0 - correct as f64 / pred.len() as f64
}

fn main() {}
