// A loss that counts correct predictions: `(pred > 0.5)` is a step, so the gradient with respect
// to `pred` is zero (Keras: `cast(greater(pred, 0.5), float)` in a loss).
use nabla::differentiable;

#[differentiable]
fn accuracy_loss(pred: f64, #[no_grad] label: f64) -> f64 {
    let hit = (pred > 0.5) as i32 as f64;
    (hit - label) * (hit - label)
}

fn main() {}
