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

#[derive(nabla::Parameters)]
struct Particle {
    mass: f64,
    #[no_grad]
    charge: f64,
}

impl Particle {
    // A `#[no_grad]` field passed on as data is fine (`charge`); the trained `mass` is not.
    #[differentiable]
    fn energy(&self, p: f64) -> f64 {
        kinetic(p, self.mass) + kinetic(p, self.charge)
    }

    #[differentiable]
    fn field(#[no_grad] &self, p: f64) -> f64 {
        p * self.charge
    }

    // `self` carries gradient (`mass` is trained), and `field` takes it as data: one error.
    #[differentiable]
    fn force(&self, p: f64) -> f64 {
        self.mass * self.field(p)
    }
}

#[derive(nabla::Parameters)]
struct Chain {
    masses: Vec<f64>,
    #[no_grad]
    charges: Vec<f64>,
}

impl Chain {
    // The same for elements and parts: of the `#[no_grad]` `charges` they are data, of the
    // trained `masses` their gradient would be lost.
    #[differentiable]
    fn energy(&self, p: f64) -> f64 {
        kinetic(p, self.charges[0]) + kinetic(p, self.masses[1]) + total(p, &self.masses[1..])
    }
}

#[differentiable]
fn total(p: f64, #[no_grad] ms: &[f64]) -> f64 {
    p * ms[0]
}

fn main() {
    let _ = energy_grad(1.0, 2.0);
    let particle = Particle {
        mass: 2.0,
        charge: 1.0,
    };
    let _ = particle.energy_grad(1.0);
}
