// `stop_gradient(..)` stops the gradient of the value it returns, not of a change it makes to a
// buffer that carries gradient: the rest of the function reads the changed buffer. Nor does it
// hide an assignment to a variable of the function, there or in a filter's test.
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

/// Writes through a mutable iterator, as any method that lends the buffer mutably may.
#[differentiable]
fn zeroed(w: &[f64]) -> f64 {
    let mut u = w.to_vec();
    stop_gradient(u.iter_mut().for_each(|x| *x = 0.0));
    u[0] * w[1]
}

/// A count whose closure doubles `c` on the way: `c` then depends on `w[0]` as `2ⁿ·w[0]`, which
/// the reverse sweep would not know.
#[differentiable]
fn doubled(w: &[f64]) -> f64 {
    let mut c = w[0];
    let n = stop_gradient(w.iter().map(|v| { c *= 2.0; *v }).count());
    c * n as f64
}

#[differentiable]
fn tested(w: &[f64]) -> f64 {
    let mut c = w[0];
    let mut seen = [0.0; 1];
    let s: f64 = w.iter().filter(|v| { c = c * 2.0; **v > 0.0 }).map(|v| v * v).sum();
    let k = stop_gradient({ seen[0] = 1.0; s.abs() });
    s * c * k + seen[0]
}

/// What a block kept as written binds itself, it may change; a macro's named argument
/// (`{w:?}`, passed as `w = w`) assigns nothing.
#[differentiable]
fn own_names(w: &[f64]) -> f64 {
    let total = stop_gradient({
        let mut t = 0.0;
        for v in w {
            t += v;
        }
        t
    });
    let checked = stop_gradient({
        assert!(total.is_finite(), "not finite: {total} of {w:?}");
        total
    });
    checked * w[0]
}

// A buffer that carries gradient changed in place however the call is written: on a part of
// it, through parentheses, by a method of no list, or after a `|` at the same level.
#[differentiable]
fn changed_in_place(w: &[f64], #[no_grad] k: usize) -> f64 {
    let mut v = vec![0.0; 4];
    for i in 0..4 {
        v[i] = w[i] * w[i];
    }
    stop_gradient(v[..].reverse());
    stop_gradient((v).rotate_left(1));
    let mut m = nalgebra::DMatrix::from_element(2, 2, 0.0);
    m[(0, 0)] = w[0] * w[1];
    stop_gradient(m.fill_diagonal(1.0));
    stop_gradient(match k {
        1 | 2 => v.swap(0, 1),
        _ => (),
    });
    v[0] * 3.0 + v[1] + m.sum()
}

fn main() {}
