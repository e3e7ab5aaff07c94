//! How the reverse sweep accumulates into buffers' adjoints: an element increment
//! (`buf[i] += v`, `buf[i] -= v`) passes the element's adjoint on to `v` and leaves it in place,
//! and a loop that reads a buffer at one element only (`x[i]` in a loop over `j`) accumulates
//! that element's adjoint in a variable of its own. Each against central finite differences,
//! with the patterns that must not be taken for either.
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // written as users write them

use nabla::differentiable;
use nalgebra::{DMatrix, DVector};

mod common;

use common::{check_value_and_gradient as check, SIX_POINT as W};

/// Increments of both signs into a scratch buffer that later reads need restored.
#[differentiable]
fn running_increments(w: &[f64]) -> f64 {
    let mut acc = vec![0.5; 4];
    for i in 0..3 {
        for j in 1..4 {
            acc[j] += w[i] * acc[j - 1];
            acc[j - 1] -= w[i + 3] * acc[j];
        }
    }
    acc[0] * acc[3] + acc[1] * acc[2]
}

/// An element incremented by itself doubles, and its adjoint doubles with it.
#[differentiable]
fn incremented_by_itself(w: &[f64]) -> f64 {
    let mut b = w.to_vec();
    for i in 0..b.len() {
        b[i] += b[i];
        b[i] -= w[i] * b[i];
    }
    b.iter().map(|v| v * v).sum::<f64>()
}

/// Increments in branches, of a matrix element and of an array element.
#[differentiable]
fn increments_in_branches(w: &[f64]) -> f64 {
    let mut m = DMatrix::from_element(2, 2, 0.25);
    let mut a = [1.0, -1.0, 0.5];
    for k in 0..w.len() {
        if w[k] > 0.0 {
            m[(k % 2, 1)] += w[k] * a[k % 3];
        } else {
            a[k % 3] -= w[k] * m[(0, k % 2)];
        }
    }
    m.sum() * a[0] + a[1] * a[2]
}

/// A value that reads the element before it is incremented keeps its own adjoint.
#[differentiable]
fn element_read_also_elsewhere(w: &[f64]) -> f64 {
    let mut v = vec![1.0; 3];
    let mut s = 0.0;
    for i in 0..3 {
        let old = v[i];
        v[i] += w[i] * old;
        s += old * w[i + 3];
    }
    s + v[0] * v[1] * v[2]
}

#[test]
fn element_increments_match_finite_differences() {
    check(running_increments, running_increments_grad, "running");
    check(
        incremented_by_itself,
        incremented_by_itself_grad,
        "by itself",
    );
    check(
        increments_in_branches,
        increments_in_branches_grad,
        "branches",
    );
    check(
        element_read_also_elsewhere,
        element_read_also_elsewhere_grad,
        "read",
    );
}

/// ADBench's GMM in miniature: `x[i]` read in the loop over `j`, in a local buffer and in a
/// parameter, with one index also read after the loop.
#[differentiable]
fn triangle_of_products(w: &[f64]) -> f64 {
    let x: Vec<f64> = w.iter().map(|v| v * 0.5 + 1.0).collect();
    let y: Vec<f64> = w.iter().map(|v| v * v).collect();
    let mut s = 0.0;
    for i in 0..w.len() {
        for j in (i + 1)..w.len() {
            s += x[i] * w[j] + w[i] * y[j] * x[i];
        }
        s += x[i];
    }
    s
}

/// The same element read in loops nested three deep: the outer of the inner loops holds it.
#[differentiable]
fn nested_invariant_reads(w: &[f64]) -> f64 {
    let x = w.to_vec();
    let mut s = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..2 {
                s += x[i] * w[j + 3] * w[k];
            }
        }
    }
    s
}

/// An index that is a location, stepped between the loops that read it.
#[differentiable]
fn stepped_invariant_index(w: &[f64]) -> f64 {
    let x: Vec<f64> = w.iter().map(|v| v.sin()).collect();
    let mut p = 0;
    let mut s = 0.0;
    for _ in 0..3 {
        for j in 0..w.len() {
            s += x[p] * x[p] * w[j];
        }
        p += 2;
    }
    s
}

/// Not taken for an invariant read: the buffer is written in the loop, or read at the counter
/// too, or the index changes in the loop.
#[differentiable]
fn reads_that_vary(w: &[f64]) -> f64 {
    let mut x = w.to_vec();
    let mut s = 0.0;
    let mut q = 0;
    for i in 0..3 {
        for j in 0..3 {
            s += x[i] * x[j + 3];
            x[j + 3] = x[j + 3] * 0.5 + w[i];
            s += x[q % 6] * w[j];
            q += 1;
        }
    }
    s
}

/// An index the inner loop never reads at: past the end when that loop runs no iteration.
#[differentiable]
fn index_past_the_end_in_an_empty_loop(w: &[f64]) -> f64 {
    let x: Vec<f64> = w.iter().map(|v| v.sin()).collect();
    let a = [w[0].sin(), w[1], w[2], w[3], w[4], w[5]];
    let v = DVector::from_vec(w.to_vec()) * 0.5;
    let mut s = 0.0;
    for i in 0..6 {
        let next = i + 1;
        for j in next..6 {
            s += x[next] * w[j] + a[next] * v[next];
        }
    }
    s
}

/// An element read behind a guard that excludes the indices past the end.
#[differentiable]
fn guarded_invariant_read(w: &[f64]) -> f64 {
    let x = w.to_vec();
    let mut s = 0.0;
    for k in 0..8 {
        for j in 0..3 {
            if k < 6 {
                s += x[k] * x[k] * w[j];
            }
        }
    }
    s
}

/// A loop that may run no iteration at all, reading an element past the end.
#[differentiable]
fn never_read(w: &[f64], #[no_grad] n: usize) -> f64 {
    let x = w.to_vec();
    let k = w.len();
    let mut s = 0.0;
    for j in 0..n {
        s += x[k] * w[j];
    }
    s + x[0]
}

#[test]
fn invariant_reads_the_loop_never_makes_receive_nothing() {
    check(
        index_past_the_end_in_an_empty_loop,
        index_past_the_end_in_an_empty_loop_grad,
        "empty loop",
    );
    check(
        guarded_invariant_read,
        guarded_invariant_read_grad,
        "guarded",
    );
    let (value, g) = never_read_grad(&W, 0);
    assert_eq!(value, W[0]);
    assert_eq!(g, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}

/// A checkpointed loop over a buffer whose element type is inferred only after its first use.
#[differentiable]
fn late_inferred_rows(w: &[f64]) -> f64 {
    let mut rows = Vec::new();
    let mut s = 0.0;
    for r in 0..3 {
        s += rows.len() as f64 * 0.1;
        rows = vec![vec![r as f64 + 0.5, 1.0], vec![0.25, r as f64]];
        for k in 0..2 {
            s = s * w[k] * 0.5 + rows[k][0] * w[r] + rows[k][1];
        }
    }
    s
}

#[test]
fn checkpoints_of_buffers_of_buffers_match_finite_differences() {
    check(late_inferred_rows, late_inferred_rows_grad, "rows");
}

/// A stencil: each iteration reads two neighbouring elements (see `analysis/stencils.rs`).
#[differentiable]
fn stencil(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..w.len() - 1 {
        let d = w[i + 1] - 2.0 * w[i] + w[i - 1];
        s += d * d;
    }
    s
}

/// Blocks on the right side that shadow the names assigned to change no place (a right side
/// that does is an error: `ui-tests/fail/right-side-changes-place.rs`).
#[differentiable]
fn shadowing_right_sides(w: &[f64]) -> f64 {
    let mut b = w.to_vec();
    let mut s = 0.0;
    for i in 0..3 {
        s += {
            let s = w[i] * 2.0;
            s * s
        };
        b[i] += {
            let i = 5;
            w[i]
        };
        b[i + 3] = {
            let b = w[i] * 3.0;
            b * b
        };
    }
    s + b.iter().sum::<f64>()
}

/// Right sides that call methods of the index or the buffer, or check them, change no place.
#[differentiable]
fn methods_on_the_right_side(w: &[f64]) -> f64 {
    let n = w.len();
    let mut b = vec![0.0; n];
    for i in 0..n {
        b[i] = w[i] * (i.pow(2) as f64) + w[i.wrapping_add(1) % n];
        b[i] += {
            debug_assert!(i < n);
            assert!(b.len() == n);
            w[i.saturating_sub(1)] * (i.abs_diff(1) as f64)
        };
    }
    b.iter().map(|v| v * v).sum::<f64>()
}

/// A right side that reads the whole buffer inside `stop_gradient` changes no place (its
/// gradient is cut there, so finite differences do not apply).
#[differentiable]
fn stopped_sum_of_the_buffer(w: &[f64]) -> f64 {
    let mut b = w.to_vec();
    b[0] += nabla::stop_gradient(b.iter().sum::<f64>());
    b.iter().map(|v| v * v).sum::<f64>()
}

/// A typed `let` of a matrix's own `sum` is left as written.
#[differentiable]
fn matrix_sum_typed(w: &[f64]) -> f64 {
    let v = DVector::from_vec(w.to_vec());
    let s: f64 = v.sum();
    let p: f64 = v.map(|x| 1.0 + 0.1 * x).product();
    s * s + p
}

#[test]
fn stencils_match_finite_differences() {
    check(matrix_sum_typed, matrix_sum_typed_grad, "matrix sum typed");
    check(
        methods_on_the_right_side,
        methods_on_the_right_side_grad,
        "methods on the right side",
    );
    // b[0] = w0 + Σw, its sum taken as a constant: d/dw0 = 2 b0 (through `b[0]`'s own `w0`)
    // and d/dwk = 2 wk elsewhere.
    let (value, g) = stopped_sum_of_the_buffer_grad(&W);
    assert_eq!(value, stopped_sum_of_the_buffer(&W));
    let b0 = W[0] + W.iter().sum::<f64>();
    assert!((g[0] - 2.0 * b0).abs() < 1e-12);
    assert!((g[1] - 2.0 * W[1]).abs() < 1e-12);
    check(stencil, stencil_grad, "stencil");
    check(
        shadowing_right_sides,
        shadowing_right_sides_grad,
        "shadowing",
    );
}

#[test]
fn invariant_element_reads_match_finite_differences() {
    check(triangle_of_products, triangle_of_products_grad, "triangle");
    check(
        nested_invariant_reads,
        nested_invariant_reads_grad,
        "nested",
    );
    check(
        stepped_invariant_index,
        stepped_invariant_index_grad,
        "stepped index",
    );
    check(reads_that_vary, reads_that_vary_grad, "varying reads");
}

/// Rows of a slice of arrays read at the outer loop's index, beside rows of data.
#[differentiable]
fn rows_read_in_inner_loops(rows: &[[f64; 2]], #[no_grad] vectors: &[DVector<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..rows.len() {
        for j in 0..2 {
            s += rows[i][j] * vectors[i][j] * (j as f64 + 1.0);
        }
    }
    s
}

#[test]
fn invariant_rows_match_finite_differences() {
    let rows = [[0.3, -0.7], [1.2, 0.4]];
    let vectors = [
        DVector::from_vec(vec![0.5, 2.0]),
        DVector::from_vec(vec![-1.0, 0.25]),
    ];
    let (value, d_rows) = rows_read_in_inner_loops_grad(&rows, &vectors);
    assert_eq!(value, rows_read_in_inner_loops(&rows, &vectors));
    for i in 0..2 {
        for j in 0..2 {
            let weight = j as f64 + 1.0;
            assert!((d_rows[i][j] - vectors[i][j] * weight).abs() < 1e-12);
        }
    }
}

/// Whole rows of a local `Vec<[f64; 2]>` overwritten and added to.
#[differentiable]
fn rows_overwritten(w: &[f64]) -> f64 {
    let mut rows = vec![[0.0; 2]; 3];
    for i in 0..3 {
        rows[i] = [w[i], w[i] * w[i + 1]];
    }
    rows[1] = [rows[0][1] * w[5], rows[2][0]];
    rows[0][1] * rows[1][1] * w[4] + rows[2][1].sin() + rows[1][0]
}

#[test]
fn whole_rows_of_a_buffer_overwritten() {
    check(rows_overwritten, rows_overwritten_grad, "rows overwritten");
}

/// Rows of floats pushed onto a local buffer (`states.push([x, v])`) and read back.
#[differentiable]
fn pushed_rows(w: &[f64]) -> f64 {
    let mut states: Vec<[f64; 2]> = Vec::new();
    let mut x = w[0];
    let mut v = w[1];
    for i in 2..6 {
        x += 0.1 * v * w[i];
        v -= 0.1 * x;
        states.push([x, v * w[i]]);
    }
    let mut e = 0.0;
    for s in &states {
        e += s[0] * s[0] + 0.5 * s[1] * s[1];
    }
    e + states[3][1]
}

#[test]
fn rows_pushed_onto_a_buffer() {
    check(pushed_rows, pushed_rows_grad, "rows pushed");
}
