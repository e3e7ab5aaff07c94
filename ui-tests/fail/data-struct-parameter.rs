// A parameter carries gradient unless it says otherwise: a data struct passed without
// `#[no_grad]` is an error at the parameter, not silently left out of the gradient.
use nabla::differentiable;

#[derive(Clone, Copy)]
struct Config {
    scale: f64,
}

#[differentiable]
fn loss(x: f64, config: Config) -> f64 {
    x * x
}

fn main() {
    let _ = loss_grad(1.0, Config { scale: 2.0 });
}
