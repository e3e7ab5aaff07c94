// A method nabla has no rule for, on a value that carries gradient, is an error even where its
// result is unused: it may change the value in place, and the gradient would silently be wrong.
use nabla::differentiable;
use nalgebra::Vector3;

#[differentiable]
fn shortened(w: f64) -> f64 {
    let mut v = vec![0.0; 3];
    v[0] = w;
    v[1] = w * w;
    v.dedup();
    v[0] + v[1]
}

#[differentiable]
fn sorted(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[0]
}

#[differentiable]
fn normalized(m: &Vector3<f64>) -> f64 {
    let mut u = *m;
    u.normalize_mut();
    u[0]
}

fn main() {}

#[derive(Clone, nabla::Parameters)]
pub struct Net {
    pub w: nalgebra::Vector3<f64>,
}

// A copy of a model's field is a model value, whose unknown methods might be its own: with the
// result unused, on a local, it is rejected as an in-place change would be.
#[differentiable]
fn renormalized(net: &Net) -> f64 {
    let mut u = net.w.clone();
    u[2] *= 1.0;
    u.normalize_mut();
    u[0]
}

// Writes through `iter_mut()` in a closure, on a buffer that carries gradient: the error says
// to write them in a `for` loop, where nabla differentiates them.
#[differentiable]
fn doubled(w: &[f64]) -> f64 {
    let mut u = w.to_vec();
    u.iter_mut().for_each(|x| *x *= 2.0);
    u[0]
}
