//! In-place methods on local buffers inside `#[differentiable]`: each one against central
//! finite differences, in straight-line code and inside loops (where the overwritten elements
//! must be saved for the reverse sweep).

// The functions read their buffers with index loops, the form the in-place rewrites produce.
#![allow(clippy::needless_range_loop, clippy::useless_vec)]

mod common;

use common::{check_fd, grad};
use nabla::differentiable;
use nalgebra::{Matrix2x3, Vector3};

/// A finite-volume step that resets its flux buffer every step.
#[differentiable]
fn flux_reset(alpha: f64, #[no_grad] steps: usize) -> f64 {
    let mut u = vec![1.0, 0.5, 2.0, 1.5];
    let mut flux = vec![0.0; 4];
    for _ in 0..steps {
        flux.fill(0.0);
        for i in 0..3 {
            flux[i] += alpha * (u[i + 1] - u[i]) + 0.1 * u[i];
        }
        for i in 0..3 {
            u[i] -= 0.1 * flux[i];
        }
    }
    u[0] + u[1] * u[2]
}

#[test]
fn fill_inside_a_loop() {
    for alpha in [0.3, 0.7, -0.4] {
        let (value, g) = flux_reset_grad(alpha, 5);
        assert_eq!(value, flux_reset(alpha, 5));
        check_fd(|[a]| flux_reset(a, 5), [alpha], [g], "flux_reset");
    }
}

#[differentiable]
fn fill_with_parameter(a: f64, b: f64) -> f64 {
    let mut v = vec![3.0; 3];
    v[0] = a;
    v[1] = 2.0 * a;
    let before = v[0] * v[1];
    v.fill(b * b);
    before + v[0] * a + v[1] + v[2] * b
}

#[test]
fn fill_with_a_value_that_carries_gradient() {
    let x = [0.7, -1.3];
    let (_, (da, db)) = fill_with_parameter_grad(x[0], x[1]);
    check_fd(|[a, b]| fill_with_parameter(a, b), x, [da, db], "fill");
}

#[differentiable]
fn permutations(a: f64, b: f64, c: f64, #[no_grad] k: usize) -> f64 {
    let mut v = vec![1.0; 5];
    v[0] = a;
    v[1] = b * b;
    v[2] = c;
    v[3] = a * c;
    v.swap(0, 2);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += (i as f64 + 1.0) * v[i];
    }
    v.reverse();
    v.rotate_left(k);
    for i in 0..v.len() {
        s += (i as f64 + 0.5) * v[i] * v[i];
    }
    v.rotate_right(1);
    s + v[0] * 3.0 + v[4]
}

#[test]
fn swap_reverse_rotate() {
    let x = [0.4, -0.9, 1.7];
    for k in 0..=5 {
        let (value, (da, db, dc)) = permutations_grad(x[0], x[1], x[2], k);
        assert_eq!(value, permutations(x[0], x[1], x[2], k));
        check_fd(
            |[a, b, c]| permutations(a, b, c, k),
            x,
            [da, db, dc],
            &format!("permutations k = {k}"),
        );
    }
}

#[differentiable]
fn growing(a: f64, b: f64, #[no_grad] at: usize) -> f64 {
    let mut v = Vec::with_capacity(8);
    v.push(a);
    v.push(b);
    let mut w = vec![2.0; 3];
    w[0] = a * b;
    w[2] = b.sin();
    v.extend_from_slice(&w);
    v.insert(at, a * a);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += (i as f64 + 1.0) * v[i];
    }
    s
}

#[test]
fn extend_and_insert() {
    let x = [0.8, -0.6];
    for at in 0..=5 {
        let (value, (da, db)) = growing_grad(x[0], x[1], at);
        assert_eq!(value, growing(x[0], x[1], at));
        check_fd(
            |[a, b]| growing(a, b, at),
            x,
            [da, db],
            &format!("insert at {at}"),
        );
    }
}

#[differentiable]
fn copy_into(w: &[f64], b: f64) -> f64 {
    let mut v = vec![0.0; w.len()];
    let mut s = 0.0;
    for step in 0..3 {
        v.copy_from_slice(w);
        v[step] *= b;
        s += v[0] * v[1] + v[2];
    }
    s
}

#[test]
fn copy_from_slice_in_a_loop() {
    let x = [0.5, -1.5, 2.5, 0.25];
    let (_, (dw, db)) = copy_into_grad(&x[..3], x[3]);
    check_fd(
        |[a, b, c, d]| copy_into(&[a, b, c], d),
        x,
        [dw[0], dw[1], dw[2], db],
        "copy_from_slice",
    );
}

#[differentiable]
fn double_buffer(k: f64, #[no_grad] steps: usize) -> f64 {
    let mut u = vec![1.0, 2.0, 3.0];
    let mut next = vec![0.0; 3];
    for _ in 0..steps {
        for i in 0..3 {
            next[i] = u[i] * k + 0.1 * u[(i + 1) % 3];
        }
        std::mem::swap(&mut u, &mut next);
    }
    u[0] + u[2] * u[1]
}

#[test]
fn mem_swap_of_two_buffers() {
    for steps in [0, 1, 4] {
        let (value, g) = double_buffer_grad(0.9, steps);
        assert_eq!(value, double_buffer(0.9, steps));
        check_fd(|[k]| double_buffer(k, steps), [0.9], [g], "mem::swap");
    }
}

#[differentiable]
fn matrix_in_place(m: &Matrix2x3<f64>, k: f64, r: &Vector3<f64>) -> f64 {
    let mut a = *m;
    a.scale_mut(k);
    a.swap_rows(0, 1);
    a.swap_columns(0, 2);
    let mut s = a[(0, 0)] * a[(1, 2)] + a[(0, 1)];
    a.set_row(1, &r.transpose());
    a.neg_mut();
    s += a[(1, 0)] * a[(0, 2)] + a[(1, 1)];
    let mut b = Matrix2x3::zeros();
    b.copy_from(&a);
    b.fill(k);
    s + b[(0, 0)] + a.norm_squared()
}

#[test]
fn nalgebra_in_place_methods() {
    let m = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75];
    let (k, r) = (1.3, [0.2, -0.4, 0.9]);
    let f = |x: [f64; 10]| {
        matrix_in_place(
            &Matrix2x3::from_row_slice(&x[..6]),
            x[6],
            &Vector3::new(x[7], x[8], x[9]),
        )
    };
    let (_, (dm, dk, dr)) = matrix_in_place_grad(
        &Matrix2x3::from_row_slice(&m),
        k,
        &Vector3::new(r[0], r[1], r[2]),
    );
    let mut got = [0.0; 10];
    for i in 0..2 {
        for j in 0..3 {
            got[i * 3 + j] = dm[(i, j)];
        }
    }
    got[6] = dk;
    got[7..].copy_from_slice(dr.as_slice());
    let x = [m[0], m[1], m[2], m[3], m[4], m[5], k, r[0], r[1], r[2]];
    let want = grad(f, x);
    common::assert_grad_close(got, want, common::FD_TOL, "nalgebra in-place");
}

#[differentiable]
fn double_buffer_by_assignment(k: f64, #[no_grad] steps: usize) -> f64 {
    let mut u = vec![1.0, 2.0, 3.0];
    for _ in 0..steps {
        let mut next = vec![0.0; 3];
        for i in 0..3 {
            next[i] = u[i] * k + 0.1 * u[(i + 1) % 3];
        }
        u = next;
    }
    u[0] * u[1]
}

#[test]
fn whole_buffer_assignment_in_a_loop() {
    for steps in [0, 1, 3] {
        let (value, g) = double_buffer_by_assignment_grad(0.9, steps);
        assert_eq!(value, double_buffer_by_assignment(0.9, steps));
        check_fd(
            |[k]| double_buffer_by_assignment(k, steps),
            [0.9],
            [g],
            "u = next",
        );
    }
}

#[differentiable]
fn shrinking(a: f64, b: f64, #[no_grad] keep: usize) -> f64 {
    let mut v = vec![0.0; 4];
    v[0] = a;
    v[1] = a * b;
    v[2] = b.sin();
    v[3] = a * a;
    let before = v[2] * v[3];
    v.truncate(keep);
    let mut s = before;
    for i in 0..v.len() {
        s += (i as f64 + 2.0) * v[i];
    }
    v.resize(5, b * 0.5);
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    v.clear();
    v.push(a);
    s + v[0]
}

#[test]
fn truncate_resize_and_clear() {
    let x = [0.7, -1.1];
    for keep in 0..=5 {
        let (value, (da, db)) = shrinking_grad(x[0], x[1], keep);
        assert_eq!(value, shrinking(x[0], x[1], keep));
        check_fd(
            |[a, b]| shrinking(a, b, keep),
            x,
            [da, db],
            &format!("truncate to {keep}"),
        );
    }
}

/// A buffer replaced by a shorter one: its gradient follows the length it had at each read.
#[differentiable]
fn replaced_by_a_shorter_buffer(x: f64) -> f64 {
    let mut v = vec![0.0; 3];
    v[2] = x;
    let s = v[2] * 2.0;
    v = vec![0.0; 2];
    v[1] = x * x;
    s + v[1]
}

#[test]
fn whole_buffer_assignment_changing_length() {
    let (value, g) = replaced_by_a_shorter_buffer_grad(3.0);
    assert_eq!(value, 15.0);
    assert_eq!(g, 8.0);
}

/// Each step replaces the buffer with a longer copy of itself. The adjoint a replaced buffer
/// leaves behind has the new, longer length, so every push takes its element by the length the
/// buffer had (`push_adjoint_at`), not as the adjoint's last element.
#[differentiable]
#[allow(clippy::vec_init_then_push)]
fn grown_by_copies(w: &[f64]) -> f64 {
    let mut v = Vec::new();
    v.push(w[0]);
    for i in 1..w.len() {
        let mut n = v.clone();
        n.push(w[i] * v[i - 1]);
        v = n;
    }
    v.iter().sum()
}

/// A buffer replaced by a longer one, then pushed onto again.
#[differentiable]
#[allow(clippy::vec_init_then_push)]
fn replaced_by_a_longer_buffer(a: f64, b: f64, c: f64) -> f64 {
    let mut v = Vec::new();
    v.push(a * b);
    let first = v[0];
    let mut longer = vec![0.0; 3];
    longer[1] = b * c;
    v = longer;
    v.push(c * first);
    v[1] + 2.0 * v[3]
}

#[test]
fn pushes_onto_buffers_replaced_by_copies_of_another_length() {
    for w in [[0.5, 1.5, -0.7, 2.0], [1.0, -2.0, 0.25, 0.5]] {
        let (value, g) = grown_by_copies_grad(&w);
        assert_eq!(value, grown_by_copies(&w));
        let g: [f64; 4] = g
            .try_into()
            .expect("the gradient has the parameter's length");
        check_fd(|x| grown_by_copies(&x), w, g, "grown_by_copies");
    }
    let x = [0.7, -1.2, 2.0];
    let (value, g) = replaced_by_a_longer_buffer_grad(x[0], x[1], x[2]);
    assert_eq!(value, replaced_by_a_longer_buffer(x[0], x[1], x[2]));
    check_fd(
        |[a, b, c]| replaced_by_a_longer_buffer(a, b, c),
        x,
        [g.0, g.1, g.2],
        "replaced_by_a_longer_buffer",
    );
}

/// The copy of a parameter replaced by a longer buffer: the parameter's gradient keeps the
/// parameter's length.
#[differentiable]
fn copy_replaced_by_a_longer_buffer(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    let s = v[0] * v[1];
    v = vec![0.0; 6];
    v[5] = s;
    v[5] * 2.0
}

/// The same with the parameter moved into the buffer.
#[differentiable]
fn moved_and_replaced_by_a_longer_buffer(w: Vec<f64>) -> f64 {
    let mut v = w;
    let s = v[0] * v[1];
    v = vec![0.0; 6];
    v[5] = s;
    v[5] * 2.0
}

/// A buffer doubled each step with `extend_from_slice` of itself, and one read through a
/// reference bound in the loop; both replace the buffer at the step's end.
#[differentiable]
fn doubled_by_extend(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    for i in 0..2 {
        let mut n = v.clone();
        n.extend_from_slice(&v);
        n[0] *= w[i];
        v = n;
    }
    v[0] + v[1] + v[7] * v[15]
}

#[differentiable]
fn grown_through_a_reference(w: &[f64]) -> f64 {
    let mut v = w.to_vec();
    for i in 0..2 {
        let r = &v;
        let mut n = r.clone();
        n.push(r[0] * w[i]);
        v = n;
    }
    v[0] + v[4] * v[5]
}

#[test]
fn a_buffer_parameter_gradient_keeps_the_parameter_length() {
    let w = [0.5, 1.5, -0.7, 2.0];
    let (_, g) = copy_replaced_by_a_longer_buffer_grad(&w);
    let g: [f64; 4] = g.try_into().expect("the parameter's length");
    check_fd(|x| copy_replaced_by_a_longer_buffer(&x), w, g, "copied");
    let (_, g) = moved_and_replaced_by_a_longer_buffer_grad(w.to_vec());
    let g: [f64; 4] = g.try_into().expect("the parameter's length");
    check_fd(
        |x| moved_and_replaced_by_a_longer_buffer(x.to_vec()),
        w,
        g,
        "moved",
    );
    let (value, g) = doubled_by_extend_grad(&w);
    assert_eq!(value, doubled_by_extend(&w));
    let g: [f64; 4] = g.try_into().expect("the parameter's length");
    check_fd(|x| doubled_by_extend(&x), w, g, "doubled_by_extend");
    let (value, g) = grown_through_a_reference_grad(&w);
    assert_eq!(value, grown_through_a_reference(&w));
    let g: [f64; 4] = g.try_into().expect("the parameter's length");
    check_fd(
        |x| grown_through_a_reference(&x),
        w,
        g,
        "grown_through_a_reference",
    );
}

/// A reference to a buffer bound in a loop whose body is run again in the reverse sweep, with
/// the buffer replaced or written after the last use of the reference.
#[differentiable]
fn reference_then_replaced(x: &[f64]) -> f64 {
    let mut u = x.to_vec();
    for _ in 0..3 {
        let r = &u;
        let mut next = vec![0.0; 2];
        for i in 0..2 {
            next[i] = r[i] * r[1];
        }
        u = next;
    }
    u[0]
}

#[differentiable]
fn reference_then_written(x: &[f64]) -> f64 {
    let mut u = x.to_vec();
    for _ in 0..3 {
        let r = &u;
        let mut acc = 0.0;
        for i in 0..2 {
            acc += r[i] * r[1];
        }
        u[0] = acc;
    }
    u[0]
}

#[differentiable]
fn sum_of_squares(v: &[f64]) -> f64 {
    v.iter().map(|t| t * t).sum()
}

/// References to a `Vec` passed on to a function taking a slice, in a loop and through a
/// second binding.
#[differentiable]
fn reference_passed_on(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    for _ in 0..2 {
        let r = &v;
        v[0] = sum_of_squares(r);
    }
    let w = vec![v[0] * 2.0, x[1]];
    let r = &w;
    let again = r;
    sum_of_squares(again)
}

/// A reference to a reference, in a loop that saves both.
#[differentiable]
fn reference_of_a_reference(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut v = vec![0.0; 2];
    for k in 0..2 {
        for i in 0..2 {
            v[i] = x[(i + k) % 2] * x[i];
        }
        let r = &v;
        let again = r;
        s += again[0] * r[1];
    }
    s
}

/// A counter that is not `Clone`, referred to after the loop that replaces it.
struct Counter {
    n: usize,
}

#[differentiable]
fn reference_to_a_non_clone_local(x: &[f64]) -> f64 {
    let mut c = Counter { n: 0 };
    let mut s = 0.0;
    for i in 0..2 {
        c = Counter { n: c.n + i + 1 };
        s += x[i] * x[i];
    }
    let r = &c;
    s * (r.n as f64)
}

#[test]
fn references_to_buffers() {
    let x = [0.5, 1.5];
    for (f, g, what) in [
        (
            reference_then_replaced as fn(&[f64]) -> f64,
            reference_then_replaced_grad as fn(&[f64]) -> (f64, Vec<f64>),
            "replaced",
        ),
        (
            reference_then_written,
            reference_then_written_grad,
            "written",
        ),
        (reference_passed_on, reference_passed_on_grad, "passed on"),
        (
            reference_of_a_reference,
            reference_of_a_reference_grad,
            "a reference of a reference",
        ),
        (
            reference_to_a_non_clone_local,
            reference_to_a_non_clone_local_grad,
            "a non-Clone local",
        ),
    ] {
        let (value, grad) = g(&x);
        assert_eq!(value, f(&x), "{what}");
        let grad: [f64; 2] = grad.try_into().expect("the parameter's length");
        check_fd(|p| f(&p), x, grad, what);
    }
}

/// `fill` and `copy_from_slice` on parts of a buffer, straight and in a loop.
#[differentiable]
fn parts_written_in_place(x: &[f64], a: f64) -> f64 {
    let mut v = vec![0.0; 5];
    v[..2].copy_from_slice(&x[..2]);
    v[3..].fill(a);
    v[2..=2].fill(a * x[2]);
    let mut s = 0.0;
    for i in 0..5 {
        s += v[i] * v[i] * (i as f64 + 1.0);
    }
    let mut u = vec![0.0; 4];
    for k in 0..3 {
        u[1..3].copy_from_slice(&x[k..k + 2]);
        u[3..].fill(x[k] * a);
        s += u[1] * u[2] + u[3] * u[0];
        u[..1].fill(s * 0.1);
    }
    s
}

#[test]
fn fill_and_copy_into_parts() {
    let x = [0.5, -1.0, 0.3, 1.2];
    let (value, (g, ga)) = parts_written_in_place_grad(&x, 0.7);
    assert_eq!(value, parts_written_in_place(&x, 0.7));
    check_fd(
        |p| parts_written_in_place(&p[..4], p[4]),
        [x[0], x[1], x[2], x[3], 0.7],
        [g[0], g[1], g[2], g[3], ga],
        "parts",
    );
}
