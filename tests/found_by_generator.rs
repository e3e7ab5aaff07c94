//! Programs the random-program generator (`tests/progen`) once found mishandled, kept as they
//! were minimised: each gradient against central finite differences at several points.

// The functions are written as the generator minimised them.
#![allow(
    clippy::self_assignment,
    clippy::needless_return,
    clippy::assign_op_pattern,
    clippy::needless_range_loop,
    clippy::misrefactored_assign_op
)]

mod common;

use common::check_fd;
use nabla::differentiable;

const POINTS: [[f64; 2]; 4] = [[0.7, 0.3], [0.2, 1.4], [-0.6, 0.15], [1.3, -0.8]];

/// A self-assignment, then an update in a branch.
// (rustc reports `s = s` under `dead_code`, and the lint attribute must follow the macro's.)
#[differentiable]
#[allow(dead_code)]
fn self_assigned(x: f64, y: f64) -> f64 {
    let mut s = x;
    s = s;
    if y < x {
        s = s * y;
    }
    s
}

/// A block statement as the value of an `if` nested in another `if`.
#[differentiable]
fn nested_block_in_branch(x: f64, y: f64) -> f64 {
    let mut s = x;
    if y >= 0.0 {
        if y >= 1.0 {
            {
                s *= y;
            }
        } else {
            s += y;
        }
    } else {
        s -= y;
    }
    s
}

/// A loop with `break` and an inner loop, then `return`.
#[differentiable]
fn break_inner_loop_return(x: f64, y: f64) -> f64 {
    let mut s = 1.0;
    for j in 0..5 {
        if j == 2 {
            break;
        }
        for _ in 0..2 {
            s += x * y;
        }
    }
    return s * s;
}

/// An `if` statement (whose branches are statements) after a `break`.
#[differentiable]
fn branch_statement_after_break(x: f64, y: f64) -> f64 {
    let mut s = x;
    for _ in 0..2 {
        if y > 1.0 {
            break;
        }
        if x < 0.5 {
            if y < 0.2 {
                s *= y;
            }
        } else {
            s += y;
        }
    }
    s
}

/// `continue` followed by another branch, inside a branch of a loop.
#[differentiable]
fn continue_then_branch(x: f64, y: f64) -> f64 {
    let mut s = x;
    for _ in 0..3 {
        if x > y {
            if s > 2.0 {
                continue;
            }
            if s > 1.0 {
                s *= y;
            }
        } else {
            s += y;
        }
    }
    s
}

/// A buffer read in a checkpointed loop and written after it.
#[differentiable]
fn buffer_written_after_checkpointed_loop(x: f64, y: f64) -> f64 {
    let mut s: f64 = 0.5;
    let mut buf = vec![0.0; 2];
    for i in 0..2 {
        for _ in 0..2 {
            s *= 0.8 + 0.4 * (s - buf[i]).sin();
        }
        s += (buf[i] - x).sin();
    }
    buf[0] += s;
    s + buf[1] + y
}

/// A copy of an `if` value, then updated: the update must not reach the original.
#[differentiable]
fn copy_of_branch_value(a: f64, b: f64) -> f64 {
    let v1 = if b <= 0.45 * a {
        b
    } else {
        0.94 * b.abs().powf(a)
    };
    let mut s3 = v1;
    s3 *= 0.9 * s3;
    s3 + v1
}

#[test]
fn every_found_program_against_finite_differences() {
    type Grad = fn(f64, f64) -> (f64, (f64, f64));
    type Primal = fn(f64, f64) -> f64;
    let programs: [(&str, Primal, Grad); 7] = [
        ("self_assigned", self_assigned, self_assigned_grad),
        (
            "nested_block_in_branch",
            nested_block_in_branch,
            nested_block_in_branch_grad,
        ),
        (
            "break_inner_loop_return",
            break_inner_loop_return,
            break_inner_loop_return_grad,
        ),
        (
            "branch_statement_after_break",
            branch_statement_after_break,
            branch_statement_after_break_grad,
        ),
        (
            "continue_then_branch",
            continue_then_branch,
            continue_then_branch_grad,
        ),
        (
            "copy_of_branch_value",
            copy_of_branch_value,
            copy_of_branch_value_grad,
        ),
        (
            "buffer_written_after_checkpointed_loop",
            buffer_written_after_checkpointed_loop,
            buffer_written_after_checkpointed_loop_grad,
        ),
    ];
    for (name, f, grad) in programs {
        for x in POINTS {
            let (value, (dx, dy)) = grad(x[0], x[1]);
            assert_eq!(value, f(x[0], x[1]), "{name} value");
            check_fd(|[a, b]| f(a, b), x, [dx, dy], name);
        }
    }
}
