//! Data sets laid out as rows, the default layout of CSV data: `&[Vec<f64>]`, `&[[f64; N]]`
//! and `&[DVector<f64>]`, iterated and indexed. Every gradient against central finite
//! differences.

// Index loops over rows are one of the layouts tested here.
#![allow(clippy::needless_range_loop)]

mod common;

use common::check_fd;
use nabla::differentiable;
use nalgebra::DVector;

/// Logistic regression over rows of a `Vec<Vec<f64>>`.
#[differentiable]
fn logistic(w: &[f64], b: f64, #[no_grad] rows: &[Vec<f64>], #[no_grad] ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for (row, y) in rows.iter().zip(ys) {
        let mut z = b;
        for j in 0..row.len() {
            z += w[j] * row[j];
        }
        total += nabla::bce_with_logits(z, *y);
    }
    total / rows.len() as f64
}

#[differentiable]
fn least_squares_arrays(w: [f64; 2], #[no_grad] rows: &[[f64; 3]]) -> f64 {
    let mut total = 0.0;
    for row in rows {
        let r = w[0] * row[0] + w[1] * row[1] - row[2];
        total += r * r;
    }
    total
}

#[differentiable]
fn indexed_vectors(w: f64, #[no_grad] rows: &[DVector<f64>]) -> f64 {
    let mut total = 0.0;
    for i in 0..rows.len() {
        total += (w * rows[i][0] - rows[i][1]).powi(2);
    }
    total
}

#[test]
fn rows_of_vecs() {
    let rows = vec![
        vec![0.5, -1.0, 2.0],
        vec![1.5, 0.25, -0.5],
        vec![-0.3, 0.8, 0.1],
    ];
    let ys = [1.0, 0.0, 1.0];
    let x = [0.3, -0.2, 0.5, 0.1];
    let (_, (dw, db)) = logistic_grad(&x[..3], x[3], &rows, &ys);
    check_fd(
        |[a, b, c, d]| logistic(&[a, b, c], d, &rows, &ys),
        x,
        [dw[0], dw[1], dw[2], db],
        "logistic over Vec rows",
    );
}

#[test]
fn rows_of_arrays() {
    let rows = [[1.0, 2.0, 3.5], [0.5, -1.0, 0.0], [2.0, 0.5, 1.0]];
    let x = [0.7, 1.2];
    let (_, g) = least_squares_arrays_grad(x, &rows);
    check_fd(|w| least_squares_arrays(w, &rows), x, g, "array rows");
}

/// A row borrowed by index as a loop's source (`for x in &rows[i]`, `rows[i].iter()`), from rows
/// that are data and from rows that carry gradient.
#[differentiable]
fn borrowed_row_sources(w: &[[f64; 2]], k: f64, #[no_grad] rows: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..rows.len() {
        for x in &rows[i] {
            s += k * x;
        }
        for x in &w[i % w.len()] {
            s += (x * k).sin();
        }
        for x in w[i % w.len()].iter() {
            s += x * x * x;
        }
    }
    s
}

#[test]
fn rows_borrowed_by_index_as_loop_sources() {
    let rows = vec![vec![1.0, 2.0], vec![3.0], vec![-0.5, 0.25, 4.0]];
    let x = [0.3, -0.7, 1.1, 0.45, 1.5];
    let f = |p: [f64; 5]| borrowed_row_sources(&[[p[0], p[1]], [p[2], p[3]]], p[4], &rows);
    let (value, (dw, dk)) = borrowed_row_sources_grad(&[[x[0], x[1]], [x[2], x[3]]], x[4], &rows);
    assert_eq!(value, f(x));
    check_fd(
        f,
        x,
        [dw[0][0], dw[0][1], dw[1][0], dw[1][1], dk],
        "rows borrowed by index",
    );
}

#[test]
fn rows_of_nalgebra_vectors() {
    let rows = vec![
        DVector::from_vec(vec![1.0, 2.0]),
        DVector::from_vec(vec![-0.5, 0.5]),
    ];
    let (_, g) = indexed_vectors_grad(0.8, &rows);
    check_fd(|[w]| indexed_vectors(w, &rows), [0.8], [g], "DVector rows");
}

/// Loop elements read through `*x`, as `for x in xs` gives references.
#[differentiable]
fn dereferenced(w: f64, xs: &[f64]) -> f64 {
    let mut v = vec![0.0; xs.len()];
    let mut s = 0.0;
    for (i, x) in xs.iter().enumerate() {
        v[i] = *x * w;
    }
    for x in xs {
        if *x < -5.0 {
            break;
        }
        s += *x * *x * w;
    }
    s + v[0] * v[1]
}

#[test]
fn dereferenced_loop_elements() {
    let x = [0.6, 1.5, -0.5];
    let (_, (dw, dxs)) = dereferenced_grad(x[0], &x[1..]);
    check_fd(
        |[w, a, b]| dereferenced(w, &[a, b]),
        x,
        [dw, dxs[0], dxs[1]],
        "*x",
    );
}

/// Index pairs as data, destructured in the loop pattern: by reference, by value, and read as
/// fields.
#[differentiable]
fn pair_products(w: &[f64], #[no_grad] pairs: &[(usize, usize)]) -> f64 {
    let mut s = 0.0;
    for &(i, j) in pairs {
        s += w[i] * w[j];
    }
    for (i, j) in pairs.iter() {
        s += (w[*i] - w[*j]).sin();
    }
    for p in pairs {
        s += w[p.0] * 0.5;
    }
    s
}

#[test]
fn loops_over_tuples_of_data() {
    let w = [0.5, 1.5, -0.7];
    let pairs = [(0, 1), (2, 2), (1, 0)];
    let (value, g) = pair_products_grad(&w, &pairs);
    assert_eq!(value, pair_products(&w, &pairs));
    nabla::check_gradient(|x| pair_products(x, &pairs), &w, &g).assert_below(1e-8);
}

/// A layer applied to rows of data held as `&[DVector<f64>]`: `w * x` with `x` a row borrowed
/// from the slice.
#[differentiable]
fn layer_over_rows(w: &nalgebra::DMatrix<f64>, #[no_grad] xs: &[DVector<f64>]) -> f64 {
    let mut total = 0.0;
    for x in xs {
        total += (w * x).map(|v| v.tanh()).sum();
    }
    total + (w * &xs[0]).norm_squared()
}

#[test]
fn a_matrix_times_borrowed_rows() {
    let w = nalgebra::DMatrix::from_row_slice(2, 3, &[0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);
    let xs = vec![
        DVector::from_vec(vec![0.3, -0.8, 1.1]),
        DVector::from_vec(vec![1.0, 0.5, -0.2]),
    ];
    let (value, g) = layer_over_rows_grad(&w, &xs);
    assert_eq!(value, layer_over_rows(&w, &xs));
    let f = |p: &[f64]| layer_over_rows(&nalgebra::DMatrix::from_column_slice(2, 3, p), &xs);
    nabla::check_gradient(f, w.as_slice(), g.as_slice()).assert_below(1e-8);
}

/// Rows borrowed from a slice of vectors on either side of the rules: `dot`, products with a
/// scalar from both sides, `component_mul`, `map` over the row, and a row times a transpose.
#[differentiable]
fn borrowed_row_rules(w: &DVector<f64>, s: f64, #[no_grad] xs: &[DVector<f64>]) -> f64 {
    let mut total = 0.0;
    for x in xs {
        total += x.dot(w) + (x * s).sum() + (s * x).sum() + x.component_mul(w).sum();
        total += x.map(|v| v * s).sum();
    }
    total + xs[1].dot(w) + (&xs[0] * w.transpose()).sum()
}

#[test]
fn rows_on_either_side_of_the_rules() {
    let w = DVector::from_vec(vec![0.1, -0.2, 0.3]);
    let xs = vec![
        DVector::from_vec(vec![0.3, -0.8, 1.1]),
        DVector::from_vec(vec![1.0, 0.5, -0.2]),
    ];
    let (value, (dw, ds)) = borrowed_row_rules_grad(&w, 0.7, &xs);
    assert_eq!(value, borrowed_row_rules(&w, 0.7, &xs));
    let point: Vec<f64> = w.iter().copied().chain([0.7]).collect();
    let f = |p: &[f64]| borrowed_row_rules(&DVector::from_column_slice(&p[..3]), p[3], &xs);
    let g: Vec<f64> = dw.iter().copied().chain([ds]).collect();
    nabla::check_gradient(f, &point, &g).assert_below(1e-8);
}

/// A data set as a struct of columns, passed as `#[no_grad]` data and indexed inside loops.
pub struct Columns {
    pub xs: Vec<f64>,
    pub table: nalgebra::DMatrix<f64>,
}

#[differentiable]
fn fit_columns(w: f64, b: f64, #[no_grad] data: &Columns) -> f64 {
    let mut s = 0.0;
    for i in 0..data.xs.len() {
        let r = w * data.xs[i] + b - data.table[(i, 0)];
        s += r * r * data.table[(i, 1)];
    }
    s
}

#[test]
fn fields_of_data_indexed_in_loops() {
    let data = Columns {
        xs: vec![0.5, -1.0, 2.0],
        table: nalgebra::DMatrix::from_row_slice(3, 2, &[1.0, 0.5, -0.5, 2.0, 3.0, 1.0]),
    };
    let x = [0.7, -0.2];
    let (value, (dw, db)) = fit_columns_grad(x[0], x[1], &data);
    assert_eq!(value, fit_columns(x[0], x[1], &data));
    check_fd(
        |[w, b]| fit_columns(w, b, &data),
        x,
        [dw, db],
        "fields of data",
    );
}
