// Functions that are not smooth everywhere but have a derivative almost everywhere are
// differentiated: `max`, `min`, `abs`, `clamp`, `fract`; and an index from `argmax` selects an
// element, whose gradient flows.
use nabla::differentiable;
use nalgebra::SVector;

#[differentiable]
fn kinks(x: f64, y: f64) -> f64 {
    x.max(y) + x.min(0.5) + (x - y).abs() + x.clamp(-1.0, 1.0) + (3.0 * y).fract()
}

#[differentiable]
fn largest(v: &SVector<f64, 3>) -> f64 {
    let (i, _) = v.argmax();
    v[i] * v[i]
}

#[differentiable]
fn largest_magnitude(v: &SVector<f64, 3>) -> f64 {
    let i = v.iamax();
    3.0 * v[i] + v.max()
}

fn main() {
    // max: d/dx = 1 (x > y), min: 0 (x > 0.5), |x - y|: 1, clamp: 0 (x > 1), fract(3y): 3 in y
    let (_, (dx, dy)) = kinks_grad(2.0, 0.1);
    assert_eq!(dx, 2.0);
    assert_eq!(dy, -1.0 + 3.0);
    let v = SVector::<f64, 3>::new(1.0, 4.0, -2.0);
    let (value, g) = largest_grad(&v);
    assert_eq!(value, 16.0);
    assert_eq!(g, SVector::<f64, 3>::new(0.0, 8.0, 0.0));
    let w = SVector::<f64, 3>::new(1.0, 2.0, -5.0);
    let (_, g) = largest_magnitude_grad(&w);
    assert_eq!(g, SVector::<f64, 3>::new(0.0, 1.0, 3.0));
}
