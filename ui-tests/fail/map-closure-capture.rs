use nabla::differentiable;
use nalgebra::Vector3;

// `scale` carries gradient, but a `map` closure reading it would drop that gradient.
#[differentiable]
fn scaled_activation(v: &Vector3<f64>, scale: f64) -> f64 {
    v.map(|x| (x * scale).tanh()).sum()
}

fn main() {
    let _ = scaled_activation_grad(&Vector3::new(0.1, 0.2, 0.3), 2.0);
}
