// `stop_gradient(..)` stops the gradient of the value it returns, not of a change it makes to a
// buffer that carries gradient: the rest of the function reads the changed buffer.
use nabla::{differentiable, stop_gradient};

#[differentiable]
fn window(w: &[f64]) -> f64 {
    let mut q = w.to_vec();
    let first = q[0];
    let removed = stop_gradient(q.remove(0));
    let second = q[0];
    first * second + removed
}

#[differentiable]
fn stack(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut stack = Vec::new();
    for i in 0..x.len() {
        stack.push(2.0 * x[i]);
        if stop_gradient(stack.len() > 2) {
            s += stack[0];
            stop_gradient(stack.clear());
        }
    }
    s
}

fn main() {}
