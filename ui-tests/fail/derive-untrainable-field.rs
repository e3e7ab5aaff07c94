// A field that cannot be trained is one error at the field, with the fix.
use nabla::Parameters;
use nalgebra::DVector;

#[derive(Clone, Parameters)]
struct Model {
    w: DVector<f64>,
    name: String,
    steps: usize,
    #[no_grad]
    label: String,
}

fn main() {}
