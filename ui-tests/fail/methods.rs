// Methods: `&mut self` is rejected, a method called on a model must be #[differentiable] itself,
// and struct update syntax is not differentiated.
use nabla::{differentiable, Parameters};

#[derive(Clone, Copy, Parameters)]
struct Oscillator {
    k: f64,
    c: f64,
}

impl Oscillator {
    fn stiffness(&self, x: f64) -> f64 {
        self.k * x
    }

    #[differentiable]
    fn force(&self, x: f64) -> f64 {
        self.stiffness(x) + self.c
    }

    #[differentiable]
    fn scaled(&mut self, x: f64) -> f64 {
        self.k * x
    }

    #[differentiable]
    fn softened(&self, k: f64) -> Oscillator {
        Oscillator { k, ..*self }
    }
}

fn main() {}
