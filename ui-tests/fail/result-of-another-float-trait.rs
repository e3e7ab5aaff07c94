// A generic function whose float type is bounded by another crate's trait (`RealField`), not
// by `nabla::Real`: the result's error says to add the bound, and no error comes from the
// generated code.
use nabla::differentiable;
use nalgebra::DVector;

#[differentiable]
fn norm_of<T: nalgebra::RealField + Copy>(v: &DVector<T>) -> T {
    v.norm()
}

fn main() {}
