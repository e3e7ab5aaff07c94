// `Parameters` is derived for structs only, and `#[no_grad]` on a field takes no arguments.
use nabla::Parameters;

#[derive(Clone, Parameters)]
enum Activation {
    Tanh,
    Leaky(f64),
}

#[derive(Clone, Copy, Parameters)]
union Bits {
    x: f64,
    n: u64,
}

#[derive(Clone, Parameters)]
struct Layer {
    w: Vec<f64>,
    #[no_grad(frozen)]
    depth: usize,
}

fn main() {}
