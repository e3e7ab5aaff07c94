//! Linear solves, inverses and determinants as nalgebra users write them: a least-squares fit
//! with `lu().solve`, a Gaussian-process negative log-likelihood with `cholesky()`, and
//! `try_inverse`, `determinant` and `qr().solve`. Every gradient against central finite
//! differences, at several points.

mod gp_common;

use gp_common::{gp_nll, gp_nll_grad};
use nabla::{check_gradient, differentiable};
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, Vector3};

/// Ridge regression: the normal equations solved by LU, then the fit's residual.
#[differentiable]
fn ridge(lambda: f64, #[no_grad] x: &DMatrix<f64>, #[no_grad] y: &DVector<f64>) -> f64 {
    let n = x.ncols();
    let gram = x.transpose() * x + DMatrix::<f64>::identity(n, n) * lambda;
    let rhs = x.transpose() * y;
    let w = gram.lu().solve(&rhs).unwrap();
    let r = x * w - y;
    r.norm_squared()
}

#[test]
fn least_squares_through_an_lu_solve() {
    let x = DMatrix::from_fn(8, 3, |i, j| ((i * 3 + j) as f64 * 0.7).sin());
    let y = DVector::from_fn(8, |i, _| (i as f64 * 0.4).cos());
    for lambda in [0.1, 0.5, 2.0] {
        let (_, g) = ridge_grad(lambda, &x, &y);
        check_gradient(|p| ridge(p[0], &x, &y), &[lambda], &[g]).assert_below(1e-7);
    }
}

#[test]
fn gaussian_process_likelihood_through_cholesky() {
    let xs = [0.0, 0.4, 1.1, 1.7, 2.5, 3.0];
    let y = DVector::from_vec(vec![0.1, 0.5, 0.9, 0.7, -0.2, -0.6]);
    for p in [[0.8, 1.0, 0.2], [1.5, 0.7, 0.3], [0.5, 1.3, 0.5]] {
        let (_, (dl, ds, dn)) = gp_nll_grad(p[0], p[1], p[2], &xs, &y);
        check_gradient(|q| gp_nll(q[0], q[1], q[2], &xs, &y), &p, &[dl, ds, dn]).assert_below(1e-7);
    }
}

/// A matrix that carries gradient, inverted, solved with QR, and its determinant.
#[differentiable]
fn inverse_and_determinant(a: &Matrix3<f64>, b: &Vector3<f64>) -> f64 {
    let inv = a.try_inverse().unwrap();
    let x = a.qr().solve(b).unwrap();
    let m = Matrix2::new(a[(0, 0)], a[(0, 1)], a[(1, 0)], a[(1, 1)]);
    inv.trace() + x.norm_squared() + a.determinant() * m.determinant()
}

#[test]
fn inverses_solves_and_determinants() {
    let points = [
        Matrix3::new(2.0, 1.0, 0.5, -1.0, 3.0, 0.2, 0.4, 0.1, 1.5),
        Matrix3::new(1.0, -0.3, 0.8, 0.2, 2.2, -0.5, 0.7, 0.1, 1.9),
    ];
    let b = Vector3::new(1.0, -2.0, 0.5);
    for a in points {
        let (_, (da, db)) = inverse_and_determinant_grad(&a, &b);
        let f = |p: &[f64]| {
            inverse_and_determinant(
                &Matrix3::from_column_slice(&p[..9]),
                &Vector3::new(p[9], p[10], p[11]),
            )
        };
        let point: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
        let g: Vec<f64> = da.iter().chain(db.iter()).copied().collect();
        check_gradient(f, &point, &g).assert_below(1e-7);
    }
}

/// One matrix solved against each of several right-hand sides held in a slice: `&bs[i]` is an
/// element read by reference.
#[allow(clippy::needless_range_loop)] // the indexed read is the form under test
#[differentiable]
fn solves_against_rows(a: &DMatrix<f64>, #[no_grad] bs: &[DVector<f64>]) -> f64 {
    let lu = a.clone().lu();
    let mut s = 0.0;
    for i in 0..bs.len() {
        s += lu.solve(&bs[i]).unwrap().norm_squared();
    }
    s
}

/// As [`solves_against_rows`], by Cholesky, each right-hand side an element of the loop.
#[differentiable]
fn cholesky_solves_against_rows(a: &DMatrix<f64>, #[no_grad] bs: &[DVector<f64>]) -> f64 {
    let spd = a * a.transpose() + DMatrix::<f64>::identity(3, 3);
    let mut s = 0.0;
    for b in bs {
        s += spd.clone().cholesky().unwrap().solve(b).sum();
    }
    s
}

#[test]
fn solves_against_a_slice_of_right_hand_sides() {
    let a = DMatrix::from_fn(3, 3, |i, j| {
        if i == j {
            2.0
        } else {
            0.3 * (i + 2 * j) as f64
        }
    });
    let bs: Vec<DVector<f64>> = (0..3)
        .map(|k| DVector::from_fn(3, |i, _| ((i + k) as f64 * 0.9).sin()))
        .collect();
    let at = |p: &[f64]| DMatrix::from_column_slice(3, 3, p);

    let (_, da) = solves_against_rows_grad(&a, &bs);
    check_gradient(
        |p| solves_against_rows(&at(p), &bs),
        a.as_slice(),
        da.as_slice(),
    )
    .assert_below(1e-7);

    let (_, da) = cholesky_solves_against_rows_grad(&a, &bs);
    check_gradient(
        |p| cholesky_solves_against_rows(&at(p), &bs),
        a.as_slice(),
        da.as_slice(),
    )
    .assert_below(1e-7);
}
