// Calls the macro can tell have no derivative from the path alone: the standard library, nalgebra
// constructors other than `new`, and tuple-struct constructors. An associated function of a type
// (`Model::forward`) is differentiated through its `#[differentiable]` companion: when it has
// none, rustc says so at the function's name.
use nabla::differentiable;
use nalgebra::{DMatrix, DVector};

struct Model;
impl Model {
    fn forward(x: f64) -> f64 {
        x * 2.0
    }
}

struct Meters(f64);

#[differentiable]
fn widen(x: f32) -> f64 {
    f64::from(x) * 2.0
}

#[differentiable]
fn wrapped(x: f64) -> f64 {
    std::convert::identity(x) + 1.0
}

#[differentiable]
fn method_of_a_type(x: f64) -> f64 {
    Model::forward(x)
}

#[differentiable]
fn diagonal(v: &DVector<f64>) -> f64 {
    DMatrix::from_diagonal(v).sum()
}

#[differentiable]
fn newtype(x: f64) -> f64 {
    let m = Meters(x);
    m.0
}

fn main() {}
