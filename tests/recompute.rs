//! Values the reverse sweep computes again instead of saving, and what makes that right: an
//! integer stepped by a literal (`idx += 1`) is restored by undoing the step, and an element
//! read is computed again right before its last use, from a buffer whose overwritten values
//! the reverse sweep restores. Each against central finite differences, with the patterns that
//! must fall back to saving (a buffer written between the read and its use).
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // written as users write them

use std::ops::AddAssign;

use nabla::differentiable;
use nalgebra::DVector;

mod common;

use common::check_value_and_gradient as check;

/// A packed lower triangle walked with a running index, as ADBench's GMM does: the reverse
/// sweep reads `w[idx]` at each step, with `idx` restored by `idx -= 1`.
#[differentiable]
fn packed_triangle(w: &[f64]) -> f64 {
    let n = 3;
    let mut x = vec![0.0; n];
    let mut s = 0.0;
    for round in 0..2 {
        for i in 0..n {
            x[i] = w[i] * (round as f64 + 1.0);
        }
        let mut idx = n;
        for i in 0..n {
            for j in (i + 1)..n {
                s += w[idx] * x[i] * x[j];
                idx += 1;
            }
        }
    }
    s
}

/// Steps of both signs and sizes, in branches, with the index also read after the loop.
#[differentiable]
fn stepped_in_branches(w: &[f64]) -> f64 {
    let mut k = 5;
    let mut s = 0.0;
    for i in 0..4 {
        if w[i] > 0.0 {
            k -= 2;
        } else {
            k = k - 1;
        }
        s += w[k] * w[i];
        k += 1;
    }
    s + w[k] * w[k]
}

/// A buffer refilled every outer iteration and read many times inside it: its overwritten
/// values are restored in the reverse sweep, and each read is computed again.
#[differentiable]
fn refilled_buffer(w: &[f64]) -> f64 {
    let mut centered = vec![0.0; 3];
    let mut s = 0.0;
    for sample in 0..2 {
        for round in 0..3 {
            for i in 0..3 {
                centered[i] = w[i] * w[sample] - w[3 + round];
            }
            for i in 0..3 {
                for j in 0..3 {
                    s += centered[i] * centered[j] * w[(i + j) % 6];
                }
            }
        }
    }
    s
}

/// The buffer changes between the read and its use: the read is saved, not computed again.
#[differentiable]
fn written_between_read_and_use(w: &[f64]) -> f64 {
    let mut buf = vec![0.0; 3];
    let mut s = 0.0;
    for round in 0..2 {
        for i in 0..3 {
            buf[i] = w[i] * w[3 + round];
        }
        for i in 0..3 {
            for j in 0..3 {
                let a = buf[i];
                buf[i] = a * 0.5 + w[j];
                s += a * buf[i] * w[5];
            }
        }
    }
    s
}

/// The index changes between the read and its use.
#[differentiable]
fn index_stepped_before_use(w: &[f64]) -> f64 {
    let mut idx = 0;
    let mut s = 0.0;
    for _ in 0..2 {
        for i in 0..3 {
            let a = w[idx];
            idx += 1;
            s += a * w[idx] * w[i];
        }
        idx -= 2;
    }
    s
}

/// A temporary `idx + 1` bound before `idx` changes otherwise, assigned later: not a step.
#[differentiable]
fn step_bound_earlier(w: &[f64]) -> f64 {
    let mut idx = 0;
    let mut s = 0.0;
    for i in 0..3 {
        let t = idx + 1;
        idx = i + 3;
        s += w[idx] * w[i];
        idx = t;
    }
    s
}

/// The same temporary assigned in every iteration of an inner loop.
#[differentiable]
fn step_assigned_repeatedly(w: &[f64]) -> f64 {
    let mut idx = 0;
    let mut s = 0.0;
    for _ in 0..2 {
        let t = idx + 1;
        for i in 0..3 {
            idx = t;
            s += w[idx] * w[i];
        }
    }
    s
}

/// An index also changed by methods kept as written: its steps are saved, not undone.
#[differentiable]
fn stepped_and_changed_by_methods(w: &[f64]) -> f64 {
    let mut idx = 0usize;
    let mut j = 1usize;
    let mut s = 0.0;
    for k in 0..2 {
        s += w[idx] * w[k] * w[idx] + w[j];
        idx += 1;
        idx.add_assign(1);
        j += 1;
        if k == 0 {
            idx.clone_from(&j);
        }
    }
    s
}

#[test]
fn an_index_stepped_by_a_literal_is_restored_by_undoing_the_step() {
    check(packed_triangle, packed_triangle_grad, "packed_triangle");
    check(
        stepped_in_branches,
        stepped_in_branches_grad,
        "stepped_in_branches",
    );
    check(
        index_stepped_before_use,
        index_stepped_before_use_grad,
        "index_stepped_before_use",
    );
    check(
        step_bound_earlier,
        step_bound_earlier_grad,
        "step_bound_earlier",
    );
    check(
        step_assigned_repeatedly,
        step_assigned_repeatedly_grad,
        "step_assigned_repeatedly",
    );
    check(
        stepped_and_changed_by_methods,
        stepped_and_changed_by_methods_grad,
        "stepped_and_changed_by_methods",
    );
}

/// Element reads last used inside `map` closures: computed again before the closure's pullback.
#[differentiable]
fn read_by_closures(w: &[f64]) -> f64 {
    let m = DVector::from_column_slice(&w[3..6]);
    let mut c = vec![0.0; 3];
    let mut s = 0.0;
    let mut idx = 0;
    for r in 0..2 {
        for i in 0..3 {
            c[i] = w[i] * w[r + 3];
        }
        for i in 0..3 {
            for j in 0..2 {
                let a = c[i];
                s += a * w[j];
                let y = m.map(|x| x * a);
                s += y.sum();
            }
            let b = w[idx];
            s += b * w[5];
            let z = m.map(|x| x * b * b);
            s += z.sum();
            idx += 1;
        }
    }
    s
}

#[test]
fn element_reads_of_a_restored_buffer_are_computed_again() {
    check(read_by_closures, read_by_closures_grad, "read_by_closures");
    check(refilled_buffer, refilled_buffer_grad, "refilled_buffer");
    check(
        written_between_read_and_use,
        written_between_read_and_use_grad,
        "written_between_read_and_use",
    );
}
