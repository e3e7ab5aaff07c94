// `#[differentiable]` on a method of a trait implementation is not supported yet: the items it
// generates are not members of the trait.
use nabla::{differentiable, Parameters};

#[derive(Clone, Copy, Parameters)]
struct Spring {
    k: f64,
}

trait Energy {
    fn energy(&self, x: f64) -> f64;
}

impl Energy for Spring {
    #[differentiable]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

fn main() {}
