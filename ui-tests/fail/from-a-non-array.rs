// `from` of a value that carries gradient is differentiated for arrays only: a conversion from
// anything else is rustc's error with nabla's message.
use nabla::differentiable;
use nalgebra::{Vector3, VectorView3};

#[differentiable]
fn from_view(v: &Vector3<f64>) -> f64 {
    let view: VectorView3<f64> = v.fixed_rows::<3>(0);
    Vector3::from(view).norm()
}

fn main() {}
