// A value that carries gradient stored in a `#[no_grad]` field would lose its gradient there.
use nabla::{differentiable, Parameters};

#[derive(Clone, Parameters)]
pub struct Tagged {
    pub x: f64,
    #[no_grad]
    pub energy: f64,
}

#[differentiable]
fn tag(k: f64) -> f64 {
    let t = Tagged { x: k, energy: k * k };
    t.x + t.energy
}

fn main() {}
