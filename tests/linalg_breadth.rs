//! nalgebra's read-only views, `cross`, `kronecker`, `lp_norm`, `amax`/`amin`, `product`,
//! `fold`, symmetric eigenvalues and the Cholesky factor `l()`, in functions as users write them. Every
//! gradient against central finite differences, at several points.

use nabla::{check_gradient, differentiable};
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, Matrix4, SMatrix, SVector, Vector3, Vector4};

fn matrix_points<const R: usize, const C: usize>() -> Vec<SMatrix<f64, R, C>> {
    (0..3)
        .map(|s| SMatrix::from_fn(|i, j| ((i * C + j + 7 * s) as f64 * 0.83 + 0.3).sin() * 1.4))
        .collect()
}

/// Parts of a matrix through views: rows, columns, a block, fixed rows and a fixed block.
#[differentiable]
fn block_energy(m: &DMatrix<f64>) -> f64 {
    let top = m.rows(0, 2);
    let right = m.columns(1, 2);
    let block = m.view((1, 1), (2, 2));
    top.norm_squared() + right.sum() * block.trace() + m.fixed_view::<2, 2>(0, 1).determinant()
}

#[differentiable]
fn fixed_parts(x: &Vector4<f64>, a: &Matrix4<f64>) -> f64 {
    let middle = x.fixed_rows::<2>(1);
    let left = a.fixed_columns::<2>(0);
    middle.dot(&middle) * x[0] + (left.transpose() * x).norm()
}

#[test]
fn views() {
    for (s, p) in matrix_points::<4, 3>().iter().enumerate() {
        let m = DMatrix::from_column_slice(4, 3, p.as_slice());
        let (value, g) = block_energy_grad(&m);
        assert!((value - block_energy(&m)).abs() < 1e-12);
        check_gradient(
            |w| block_energy(&DMatrix::from_column_slice(4, 3, w)),
            m.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-7);
        let x = Vector4::new(0.3, -1.1, 0.7 + s as f64, 1.4);
        let a = Matrix4::from_fn(|i, j| ((i + 2 * j + s) as f64 * 0.57).cos());
        let (_, (gx, ga)) = fixed_parts_grad(&x, &a);
        check_gradient(
            |w| fixed_parts(&Vector4::from_column_slice(w), &a),
            x.as_slice(),
            gx.as_slice(),
        )
        .assert_below(1e-7);
        check_gradient(
            |w| fixed_parts(&x, &Matrix4::from_column_slice(w)),
            a.as_slice(),
            ga.as_slice(),
        )
        .assert_below(1e-7);
    }
}

/// The magnitude of a torque, and a triple product.
#[differentiable]
fn torque(r: &Vector3<f64>, f: &Vector3<f64>) -> f64 {
    r.cross(f).norm() + r.dot(&f.cross(&Vector3::new(0.2, -0.5, 1.0)))
}

#[test]
fn cross_products() {
    for s in 0..3 {
        let r = Vector3::new(0.4, -1.2 + s as f64, 0.9);
        let f = Vector3::new(1.5, 0.3, -0.7 * s as f64 + 0.2);
        let (_, (gr, gf)) = torque_grad(&r, &f);
        check_gradient(
            |w| torque(&Vector3::from_column_slice(w), &f),
            r.as_slice(),
            gr.as_slice(),
        )
        .assert_below(1e-7);
        check_gradient(
            |w| torque(&r, &Vector3::from_column_slice(w)),
            f.as_slice(),
            gf.as_slice(),
        )
        .assert_below(1e-7);
    }
}

/// A separable operator `A ⊗ B` applied to a vector.
#[differentiable]
fn kron_apply(a: &Matrix2<f64>, b: &Matrix2<f64>, #[no_grad] v: &Vector4<f64>) -> f64 {
    (a.kronecker(b) * v).norm_squared()
}

#[test]
fn kronecker_products() {
    let v = Vector4::new(0.5, -1.0, 0.25, 2.0);
    for (a, b) in matrix_points::<2, 2>()
        .iter()
        .zip(matrix_points::<2, 2>().iter().rev())
    {
        let (_, (ga, gb)) = kron_apply_grad(a, b, &v);
        check_gradient(
            |w| kron_apply(&Matrix2::from_column_slice(w), b, &v),
            a.as_slice(),
            ga.as_slice(),
        )
        .assert_below(1e-7);
        check_gradient(
            |w| kron_apply(a, &Matrix2::from_column_slice(w), &v),
            b.as_slice(),
            gb.as_slice(),
        )
        .assert_below(1e-7);
    }
}

/// Norms and reductions: `lp_norm`, `amax`, `amin`, `product`.
#[differentiable]
fn reductions(x: &Matrix3<f64>) -> f64 {
    x.lp_norm(3) + 2.0 * x.lp_norm(1) + x.amax() - 0.5 * x.amin() + x.product()
}

#[test]
fn norms_and_reductions() {
    for x in matrix_points::<3, 3>() {
        let (value, g) = reductions_grad(&x);
        assert!((value - reductions(&x)).abs() < 1e-12);
        check_gradient(
            |w| reductions(&Matrix3::from_column_slice(w)),
            x.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-6);
    }
}

/// nalgebra's own `fold`, which passes each element by value: over a parameter and over a
/// local product, with the element's type written out.
#[differentiable]
fn folded(x: &Matrix3<f64>, #[no_grad] floor: f64) -> f64 {
    let xx = x * x.transpose();
    x.fold(0.0, |acc, v| acc + v.max(floor) * v) + xx.fold(1.0, |acc, v: f64| acc * v.cos())
}

#[test]
fn matrix_folds() {
    for x in matrix_points::<3, 3>() {
        let (value, g) = folded_grad(&x, 0.1);
        assert!((value - folded(&x, 0.1)).abs() < 1e-12);
        check_gradient(
            |w| folded(&Matrix3::from_column_slice(w), 0.1),
            x.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-6);
    }
}

/// The largest eigenvalue and the spread of the eigenvalues of a symmetrised matrix.
#[differentiable]
fn spectrum(a: &Matrix3<f64>) -> f64 {
    let s = a + a.transpose();
    let eigenvalues = s.symmetric_eigen().eigenvalues;
    eigenvalues.max() + 0.3 * s.symmetric_eigenvalues().norm_squared()
}

#[test]
fn symmetric_eigenvalues() {
    for a in matrix_points::<3, 3>() {
        let (value, g) = spectrum_grad(&a);
        assert!((value - spectrum(&a)).abs() < 1e-12);
        check_gradient(
            |w| spectrum(&Matrix3::from_column_slice(w)),
            a.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-6);
    }
}

/// The Cholesky factor itself, written as a chain and through a bound factor that its other
/// uses share.
#[differentiable]
fn factor_chain(b: &Matrix3<f64>) -> f64 {
    let k = b * b.transpose() + Matrix3::identity();
    let l = k.cholesky().unwrap().l();
    l.sum() + l.column(0).norm_squared()
}

#[differentiable]
fn factor_bound(b: &Matrix3<f64>, #[no_grad] v: &Vector3<f64>) -> f64 {
    let k = b * b.transpose() + Matrix3::identity();
    let chol = k.cholesky().expect("positive definite");
    let l = chol.l();
    (l * v).norm_squared() + chol.ln_determinant() + chol.solve(v).sum()
}

#[test]
fn cholesky_factor() {
    let v = Vector3::new(0.7, -0.4, 1.2);
    for b in matrix_points::<3, 3>() {
        let (_, g) = factor_chain_grad(&b);
        check_gradient(
            |w| factor_chain(&Matrix3::from_column_slice(w)),
            b.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-7);
        let (_, g) = factor_bound_grad(&b, &v);
        check_gradient(
            |w| factor_bound(&Matrix3::from_column_slice(w), &v),
            b.as_slice(),
            g.as_slice(),
        )
        .assert_below(1e-7);
    }
}

/// `zip_map` with a closure that reads another value carrying gradient.
#[differentiable]
fn zipped(pred: &Vector4<f64>, target: &Vector4<f64>, scale: f64) -> f64 {
    let r = pred.zip_map(target, |p, t| ((p - t) * scale).tanh() * p);
    r.sum() + pred.zip_map(&r, |a, b| a * b.exp()).norm_squared()
}

#[test]
fn zip_map() {
    for s in 0..3 {
        let p = Vector4::new(0.3, -1.2 + s as f64, 2.0, 0.5);
        let t = Vector4::new(0.1, 0.4, 1.5 - s as f64, -0.2);
        let scale = 0.8 + 0.3 * s as f64;
        let (value, (gp, gt, gs)) = zipped_grad(&p, &t, scale);
        assert!((value - zipped(&p, &t, scale)).abs() < 1e-12);
        let x: Vec<f64> = p.iter().chain(t.iter()).copied().chain([scale]).collect();
        let g: Vec<f64> = gp.iter().chain(gt.iter()).copied().chain([gs]).collect();
        check_gradient(
            |w| {
                zipped(
                    &Vector4::from_column_slice(&w[..4]),
                    &Vector4::from_column_slice(&w[4..8]),
                    w[8],
                )
            },
            &x,
            &g,
        )
        .assert_below(1e-7);
    }
}

/// Vectors and matrices built from values that carry gradient: from arrays, from slices with
/// their shape first, and from mapped iterators.
#[differentiable]
fn constructed(p: &[f64], x: f64) -> f64 {
    let v = SVector::<f64, 3>::from([x, p[0] * p[0], p[1]]);
    let m = Matrix2::from([[x, p[1]], [p[2], x * p[3]]]);
    let d = DMatrix::from_row_slice(2, 2, &p[..4]);
    let e = DMatrix::from_column_slice(2, 2, p);
    let f = DMatrix::from_vec(2, 2, p[..4].to_vec());
    let g = nalgebra::DVector::from_iterator(p.len(), p.iter().map(|q| q * x));
    let h = DMatrix::from_iterator(2, 2, (0..4).map(|i| p[i] * (i as f64 + 1.0)));
    let k = nalgebra::DVector::from_iterator(3, p.iter().zip(&p[1..]).map(|(a, b)| a * b));
    v.norm()
        + m.determinant()
        + d.determinant() * e.trace()
        + f[(1, 0)] * x
        + g.sum()
        + h.determinant()
        + k.norm()
}

#[test]
fn constructors_from_arrays_and_shaped_slices() {
    for s in 0..3 {
        let p = [0.5, -1.0 + s as f64, 2.0, 0.25];
        let x = 0.3 * s as f64 - 0.4;
        let (value, (gp, gx)) = constructed_grad(&p, x);
        assert!((value - constructed(&p, x)).abs() < 1e-12);
        let all: Vec<f64> = p.iter().copied().chain([x]).collect();
        let g: Vec<f64> = gp.iter().copied().chain([gx]).collect();
        check_gradient(|w| constructed(&w[..4], w[4]), &all, &g).assert_below(1e-7);
    }
}

#[differentiable]
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `map` of a function path: a float method's path and a differentiable function.
#[differentiable]
fn mapped_by_paths(x: &Vector3<f64>) -> f64 {
    let e = x.map(f64::exp);
    let t = e.map(f64::tanh);
    let s = x.map(logistic);
    e.sum() + t.dot(&s)
}

#[test]
fn map_of_a_function_path() {
    for x in [Vector3::new(0.5, -1.0, 0.3), Vector3::new(-0.2, 0.8, 1.4)] {
        let (value, g) = mapped_by_paths_grad(&x);
        assert_eq!(value, mapped_by_paths(&x));
        let f = |p: &[f64]| mapped_by_paths(&Vector3::from_column_slice(p));
        check_gradient(f, x.as_slice(), g.as_slice()).assert_below(1e-8);
    }
}

/// `map` closures reading a value bound before them (whose generated name once clashed with
/// the closure's own temporaries), and reading values that carry gradient over a receiver
/// that carries none.
#[differentiable]
fn gained(w: &DMatrix<f64>, log_gain: f64, #[no_grad] x: &DVector<f64>) -> f64 {
    let gain = log_gain.exp();
    let scale = log_gain * 1.0;
    (w * x).map(|z| (z * gain).tanh()).sum() + x.map(|v| v * scale).sum()
}

#[differentiable]
fn tempered(temperature: f64, #[no_grad] logits: &DVector<f64>) -> f64 {
    let s = logits.map(|z| (z / temperature).exp());
    (s[0] / s.sum()).ln()
}

#[test]
fn map_closures_reading_other_values() {
    let x = DVector::from_vec(vec![0.3, -0.8, 1.1]);
    let w = DMatrix::from_row_slice(2, 3, &[0.1, -0.2, 0.3, 0.4, 0.5, -0.6]);
    let (value, (dw, dg)) = gained_grad(&w, 0.2, &x);
    assert_eq!(value, gained(&w, 0.2, &x));
    let point: Vec<f64> = w.iter().copied().chain([0.2]).collect();
    let f = |p: &[f64]| gained(&DMatrix::from_column_slice(2, 3, &p[..6]), p[6], &x);
    let g: Vec<f64> = dw.iter().copied().chain([dg]).collect();
    check_gradient(f, &point, &g).assert_below(1e-8);
    let (value, dt) = tempered_grad(1.3, &x);
    assert_eq!(value, tempered(1.3, &x));
    check_gradient(|p: &[f64]| tempered(p[0], &x), &[1.3], &[dt]).assert_below(1e-8);
}

/// A closure whose own second version of `k` once had the generated name of the function's
/// `c0_k`; and a `map` over data inside a loop and a branch, capturing a parameter.
#[differentiable]
#[allow(clippy::assign_op_pattern)] // the second version of `k` is the point
fn closure_names(b: f64, w: &DVector<f64>, s: f64) -> f64 {
    let mut c0_k = s;
    for _ in 0..2 {
        c0_k = c0_k * s + b;
    }
    let a = w.map(|x| {
        let mut k = x * 2.0;
        k = k * x;
        k * c0_k + k.sin()
    });
    a.sum() + c0_k
}

#[differentiable]
fn data_mapped_in_loops(w: f64, #[no_grad] x: &DVector<f64>, #[no_grad] flag: bool) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        acc += x.map(|e| e * w).sum();
    }
    let mut y = x.clone();
    if flag {
        y = x.map(|e| e * w * w);
    }
    acc + y.sum()
}

#[test]
fn closure_names_and_maps_of_data_in_loops() {
    let w = DVector::from_vec(vec![0.1, -0.2, 0.3]);
    let (value, (db, dw, ds)) = closure_names_grad(1.0, &w, 0.7);
    assert_eq!(value, closure_names(1.0, &w, 0.7));
    let point = [1.0, 0.1, -0.2, 0.3, 0.7];
    let f = |p: &[f64]| closure_names(p[0], &DVector::from_column_slice(&p[1..4]), p[4]);
    check_gradient(f, &point, &[db, dw[0], dw[1], dw[2], ds]).assert_below(1e-8);
    for flag in [false, true] {
        let (value, d) = data_mapped_in_loops_grad(0.5, &w, flag);
        assert_eq!(value, data_mapped_in_loops(0.5, &w, flag));
        let f = |p: &[f64]| data_mapped_in_loops(p[0], &w, flag);
        check_gradient(f, &[0.5], &[d]).assert_below(1e-8);
    }
}
