use nabla::differentiable;

#[differentiable]
fn kinetic(p: f64, #[no_grad] m: f64) -> f64 {
    p * p / (2.0 * m)
}

// `m` carries gradient here, but `kinetic` takes it as data: its gradient would be lost.
#[differentiable]
fn energy(p: f64, m: f64) -> f64 {
    kinetic(p, m) + m
}

fn main() {
    let _ = energy_grad(1.0, 2.0);
}
