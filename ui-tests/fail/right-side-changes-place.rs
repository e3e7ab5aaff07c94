use nabla::differentiable;

// Rust evaluates the right side of an assignment before the place, and for `+=` on numbers
// reads the element after it: each of these assigns where, or adds to what, the right side
// left behind. nabla denies them rather than guess the order.
#[differentiable]
fn steps_inside(w: &[f64]) -> f64 {
    let mut b = w.to_vec();
    let mut k = 0;
    for _ in 0..3 {
        b[k] += {
            k += 1;
            w[k]
        };
        b[k] = {
            k += 1;
            w[k] * 2.0
        };
    }
    let mut s = w[0];
    s += {
        s = 2.0;
        s
    };
    s + b[0]
}

// Outside a loop `k += 1` binds a new `k`; an index computed before the right side; an index
// read from a buffer the right side writes.
#[differentiable]
fn straight_line(w: &[f64]) -> f64 {
    let mut b = vec![0.0; 3];
    let mut k = 0;
    b[k] += {
        k += 1;
        w[k]
    };
    b[k + 1] = {
        k += 1;
        w[k]
    };
    let mut idx = vec![0usize; 1];
    b[idx[0]] = {
        idx[0] = 2;
        w[0] * w[1]
    };
    b[0] + b[1] + b[2]
}

fn main() {
    let _ = steps_inside_grad(&[1.0; 8]);
    let _ = straight_line_grad(&[1.0; 8]);
}
