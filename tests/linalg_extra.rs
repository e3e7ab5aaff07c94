//! nalgebra constructs beyond tests/linalg.rs: `map` with a closure that captures a scalar,
//! vectors and matrices built with `new` from active scalars, and a scalar *variable* times and
//! dividing a matrix (`s * m`, `m * s`, `m / s`) and times a dynamic vector, and functions with
//! vector results (a dense layer called from a scalar loss, through `NAME_vjp`), and views of a
//! local matrix that is written after them. Each gradient is
//! checked against a closed form and central finite differences, and each value against the
//! primal.

use nabla::differentiable;
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, SVector, VectorView3};

/// ADBench's relative error: `|a - b| / max(1, |a| + |b|)`.
fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// Central-difference gradient of `f` at `x`.
fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            p[i] = x[i] + h;
            let up = f(&p);
            p[i] = x[i] - h;
            let down = f(&p);
            p[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

#[track_caller]
fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let e = rel_err(g, w);
        assert!(e < tol, "{what}[{i}]: got {g:e}, want {w:e} (error {e:e})");
    }
}

const FD_TOL: f64 = 1e-6;
const EXACT_TOL: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// `map` with a closure
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn act(v: &SVector<f64, 3>, #[no_grad] s: f64) -> f64 {
    let h = v.map(|x| (x * s).tanh());
    h[0] + 2.0 * h[1] + 3.0 * h[2]
}

#[test]
fn map_closure() {
    let weights = [1.0, 2.0, 3.0];
    for (v, s) in [
        (SVector::<f64, 3>::new(0.1, -0.4, 0.9), 1.5),
        (SVector::<f64, 3>::new(-2.0, 1e-3, 0.3), -0.7),
    ] {
        let (value, g) = act_grad(&v, s);
        assert_eq!(value.to_bits(), act(&v, s).to_bits());
        let plain: f64 = (0..3).map(|i| weights[i] * (v[i] * s).tanh()).sum();
        assert_close("act value", &[value], &[plain], EXACT_TOL);
        let want: Vec<f64> = (0..3)
            .map(|i| {
                let t = (v[i] * s).tanh();
                weights[i] * s * (1.0 - t * t)
            })
            .collect();
        assert_close("act closed form", g.as_slice(), &want, EXACT_TOL);
        let fd = fd(
            |p| act(&SVector::<f64, 3>::from_column_slice(p), s),
            v.as_slice(),
        );
        assert_close("act vs FD", g.as_slice(), &fd, FD_TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Constructors from active scalars
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn built(a: f64, b: f64) -> f64 {
    let v = nalgebra::Vector3::new(a, a * b, 2.0);
    let m = nalgebra::Matrix2::new(a, b, 0.0, 1.0);
    v.norm_squared() + m[(0, 1)] * 3.0
}

#[test]
fn constructors() {
    for [a, b] in [[1.5, -2.0], [-0.3, 0.8], [1e-3, 4.0]] {
        let (value, (da, db)) = built_grad(a, b);
        assert_eq!(value.to_bits(), built(a, b).to_bits());
        // |v|² = a² + a²b² + 4; m[(0,1)] = b
        let plain = a * a + (a * b) * (a * b) + 4.0 + 3.0 * b;
        assert_close("built value", &[value], &[plain], EXACT_TOL);
        let want = [2.0 * a + 2.0 * a * b * b, 2.0 * a * a * b + 3.0];
        assert_close("built closed form", &[da, db], &want, EXACT_TOL);
        let fd = fd(|p| built(p[0], p[1]), &[a, b]);
        assert_close("built vs FD", &[da, db], &fd, FD_TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// A scalar variable times and dividing a matrix, and times a dynamic vector
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn scaled(s: f64, m: &Matrix2<f64>, v: &DVector<f64>) -> f64 {
    let a = s * m;
    let b = m * s;
    let c = a / s;
    let w = s * v;
    (a + b + c).sum() + w.sum()
}

#[test]
fn scalar_times_matrix() {
    let m = Matrix2::new(1.0, 2.0, 3.0, 4.0);
    let v = DVector::from_vec(vec![1.0, -3.0]);
    for s in [1.5, -0.8, 1e-2] {
        let (value, (ds, dm, dv)) = scaled_grad(s, &m, &v);
        assert_eq!(value.to_bits(), scaled(s, &m, &v).to_bits());
        // f = (2s + 1)·Σm + s·Σv
        let plain = (2.0 * s + 1.0) * m.sum() + s * v.sum();
        assert_close("scaled value", &[value], &[plain], EXACT_TOL);
        assert_close("d/ds", &[ds], &[2.0 * m.sum() + v.sum()], EXACT_TOL);
        assert_close("d/dm", dm.as_slice(), &[2.0 * s + 1.0; 4], EXACT_TOL);
        assert_close("d/dv", dv.as_slice(), &[s; 2], EXACT_TOL);

        let mut params = vec![s];
        params.extend_from_slice(m.as_slice());
        params.extend_from_slice(v.as_slice());
        let fd = fd(
            |p| {
                scaled(
                    p[0],
                    &Matrix2::from_column_slice(&p[1..5]),
                    &DVector::from_column_slice(&p[5..]),
                )
            },
            &params,
        );
        let mut got = vec![ds];
        got.extend_from_slice(dm.as_slice());
        got.extend_from_slice(dv.as_slice());
        assert_close("scaled vs FD", &got, &fd, FD_TOL);
    }
}

/// A layer with a vector result: only `dense_vjp` is generated for it.
#[differentiable]
fn dense(
    w: &nalgebra::SMatrix<f64, 4, 3>,
    b: &nalgebra::SVector<f64, 4>,
    x: &nalgebra::SVector<f64, 3>,
) -> nalgebra::SVector<f64, 4> {
    (w * x + b).map(|v| v.tanh())
}

/// A scalar loss through the layer: the call is differentiated through `dense`'s pullback.
#[differentiable]
fn dense_loss(
    w: &nalgebra::SMatrix<f64, 4, 3>,
    b: &nalgebra::SVector<f64, 4>,
    #[no_grad] x: &nalgebra::SVector<f64, 3>,
    #[no_grad] target: &nalgebra::SVector<f64, 4>,
) -> f64 {
    let y = dense(w, b, x);
    (y - target).norm_squared()
}

/// A dynamic vector result.
#[differentiable]
fn scaled_copy(v: &nalgebra::DVector<f64>, s: f64) -> nalgebra::DVector<f64> {
    v * s
}

#[test]
fn vector_results_through_vjp() {
    let w = nalgebra::SMatrix::<f64, 4, 3>::from_fn(|i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1);
    let b = nalgebra::SVector::<f64, 4>::new(0.1, -0.2, 0.3, 0.05);
    let x = nalgebra::SVector::<f64, 3>::new(0.5, -1.0, 2.0);
    let target = nalgebra::SVector::<f64, 4>::new(0.2, 0.1, -0.3, 0.4);

    // The vjp of the layer with cotangent c is the gradient of <c, dense(..)>.
    let c = nalgebra::SVector::<f64, 4>::new(1.0, -2.0, 0.5, 3.0);
    let (value, (dw, db, dx)) = dense_vjp(&w, &b, &x, c);
    assert_eq!(value, dense(&w, &b, &x));
    let h = 1e-6;
    for i in 0..4 {
        for j in 0..3 {
            let mut wp = w;
            let mut wm = w;
            wp[(i, j)] += h;
            wm[(i, j)] -= h;
            let fd = (c.dot(&dense(&wp, &b, &x)) - c.dot(&dense(&wm, &b, &x))) / (2.0 * h);
            assert!(
                (dw[(i, j)] - fd).abs() < 1e-8,
                "dw[{i},{j}]: {} vs {fd}",
                dw[(i, j)]
            );
        }
        let mut bp = b;
        let mut bm = b;
        bp[i] += h;
        bm[i] -= h;
        let fd = (c.dot(&dense(&w, &bp, &x)) - c.dot(&dense(&w, &bm, &x))) / (2.0 * h);
        assert!((db[i] - fd).abs() < 1e-8);
    }
    for j in 0..3 {
        let mut xp = x;
        let mut xm = x;
        xp[j] += h;
        xm[j] -= h;
        let fd = (c.dot(&dense(&w, &b, &xp)) - c.dot(&dense(&w, &b, &xm))) / (2.0 * h);
        assert!((dx[j] - fd).abs() < 1e-8);
    }

    // The scalar loss calling the layer.
    let (loss, (gw, gb)) = dense_loss_grad(&w, &b, &x, &target);
    assert_eq!(loss, dense_loss(&w, &b, &x, &target));
    for i in 0..4 {
        let mut bp = b;
        let mut bm = b;
        bp[i] += h;
        bm[i] -= h;
        let fd = (dense_loss(&w, &bp, &x, &target) - dense_loss(&w, &bm, &x, &target)) / (2.0 * h);
        assert!((gb[i] - fd).abs() < 1e-8);
        for j in 0..3 {
            let mut wp = w;
            let mut wm = w;
            wp[(i, j)] += h;
            wm[(i, j)] -= h;
            let fd =
                (dense_loss(&wp, &b, &x, &target) - dense_loss(&wm, &b, &x, &target)) / (2.0 * h);
            assert!((gw[(i, j)] - fd).abs() < 1e-8);
        }
    }

    // Dynamic: the vjp of v * s is (s * c, <c, v>).
    let v = nalgebra::DVector::from_vec(vec![1.0, -2.0, 0.5]);
    let c = nalgebra::DVector::from_vec(vec![0.5, 1.0, -1.0]);
    let (value, (dv, ds)) = scaled_copy_vjp(&v, 3.0, c.clone());
    assert_eq!(value, scaled_copy(&v, 3.0));
    assert_eq!(dv, &c * 3.0);
    assert!((ds - c.dot(&v)).abs() < 1e-15);
}

/// Loop elements held by reference and passed to another differentiable function, as `x` of
/// `.iter().zip(..)`, of `for x in xs`, and `let x = &xs[i]` (clippy prefers the other two, but
/// the form is plain Rust and must work).
#[differentiable]
fn affine(w: &nalgebra::Matrix2<f64>, x: &nalgebra::Vector2<f64>) -> f64 {
    (w * x).sum()
}

#[allow(clippy::needless_range_loop)]
#[differentiable]
fn summed_by_zip(
    w: &nalgebra::Matrix2<f64>,
    #[no_grad] xs: &[nalgebra::Vector2<f64>],
    #[no_grad] ys: &[f64],
) -> f64 {
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        total += affine(w, x) * y;
    }
    for x in xs {
        total += affine(w, x);
    }
    for i in 0..xs.len() {
        let x = &xs[i];
        total += affine(w, x);
    }
    total
}

#[test]
fn loop_elements_passed_on_by_reference() {
    let w = nalgebra::Matrix2::new(1.0, 2.0, -1.0, 0.5);
    let xs = [
        nalgebra::Vector2::new(1.0, 2.0),
        nalgebra::Vector2::new(-0.5, 3.0),
    ];
    let ys = [2.0, -1.0];
    let (value, g) = summed_by_zip_grad(&w, &xs, &ys);
    assert_eq!(value, summed_by_zip(&w, &xs, &ys));
    // d/dw_ij of Σ_k (w x_k)_i summed over i = x_kj, weighted by (y_k + 2).
    for i in 0..2 {
        for j in 0..2 {
            let expected: f64 = xs.iter().zip(ys).map(|(x, y)| x[j] * (y + 2.0)).sum();
            assert!((g[(i, j)] - expected).abs() < 1e-12);
        }
    }
}

/// `map` closures that read values carrying gradient: a bias, a scale and an element of a
/// vector, each summed over the elements in the reverse sweep.
#[differentiable]
fn captured_map(p: &DVector<f64>, b: f64, w: &[f64]) -> f64 {
    let scale = 2.0 * w[1];
    let h = p.map(|v| (v + b).tanh() * scale);
    let g = p.map(|v| v * w[0] + b * b);
    h.sum() + g.norm_squared()
}

#[test]
fn map_closures_read_values_that_carry_gradient() {
    let p = DVector::from_vec(vec![0.3, -0.7, 1.1]);
    let (_, (dp, db, dw)) = captured_map_grad(&p, 0.4, &[0.9, -0.5]);
    let f = |x: &[f64]| captured_map(&DVector::from_column_slice(&x[..3]), x[3], &[x[4], x[5]]);
    let x = [0.3, -0.7, 1.1, 0.4, 0.9, -0.5];
    let g = [dp[0], dp[1], dp[2], db, dw[0], dw[1]];
    nabla::check_gradient(f, &x, &g).assert_below(1e-8);
}

/// A closure whose pullback computes an intermediate value from the element again.
#[differentiable]
fn recomputed_in_closure(p: &DVector<f64>) -> f64 {
    p.map(|v| (v + 1.0).tanh() * 2.0).sum()
}

#[test]
fn closure_pullbacks_that_recompute_from_the_element() {
    let p = DVector::from_vec(vec![0.3, -0.7, 1.1]);
    let (_, dp) = recomputed_in_closure_grad(&p);
    for i in 0..3 {
        let want = 2.0 * (1.0 - (p[i] + 1.0).tanh().powi(2));
        assert!((dp[i] - want).abs() < 1e-14, "{i}: {} vs {want}", dp[i]);
    }
}

/// Scalars spread over vectors, vectors built from slices, and a mean.
#[differentiable]
fn broadcast(w: &[f64], b: f64, #[no_grad] x: &DVector<f64>) -> f64 {
    let v = DVector::from_column_slice(w);
    let shifted = v.component_mul(x).add_scalar(b);
    let bias = DVector::from_element(w.len(), b * b);
    let m = Matrix2::from_row_slice(w);
    let s = SVector::<f64, 2>::repeat(b);
    (shifted + bias).map(|t| t.tanh()).sum() + m[(0, 1)] * s.mean() + v.mean()
}

#[test]
fn scalars_spread_over_vectors_and_vectors_from_slices() {
    let x = DVector::from_vec(vec![0.5, -1.0, 2.0, 0.25]);
    let w = [0.3, -0.7, 1.1, 0.2];
    let (_, (dw, db)) = broadcast_grad(&w, 0.4, &x);
    let f = |p: &[f64]| broadcast(&p[..4], p[4], &x);
    let point = [w[0], w[1], w[2], w[3], 0.4];
    let g = [dw[0], dw[1], dw[2], dw[3], db];
    nabla::check_gradient(f, &point, &g).assert_below(1e-8);
}

// ---------------------------------------------------------------------------------------------
// A dynamic shape meeting a fixed one, as nalgebra allows
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn mixed_products(v: &DVector<f64>, w: &SVector<f64, 3>) -> f64 {
    v.dot(w) + v.component_mul(w).sum() + w.component_div(v).sum()
}

#[test]
fn dynamic_and_fixed_shapes_in_products() {
    let (v, w) = ([0.5, -1.5, 2.0], [1.25, 0.75, -0.5]);
    let f = |x: &[f64]| {
        let (v, w) = (
            DVector::from_column_slice(&x[..3]),
            SVector::<f64, 3>::from_column_slice(&x[3..]),
        );
        mixed_products(&v, &w)
    };
    let (dv, dw) = mixed_products_grad(&DVector::from_column_slice(&v), &SVector::from(w)).1;
    let got: Vec<f64> = dv.iter().chain(dw.iter()).copied().collect();
    // d/dv = 2w - w/v², d/dw = 2v + 1/v.
    let want: Vec<f64> = (0..3)
        .map(|i| 2.0 * w[i] - w[i] / (v[i] * v[i]))
        .chain((0..3).map(|i| 2.0 * v[i] + 1.0 / v[i]))
        .collect();
    assert_close("closed form", &got, &want, EXACT_TOL);
    let x: Vec<f64> = v.iter().chain(&w).copied().collect();
    assert_close("finite differences", &got, &fd(f, &x), FD_TOL);
}

// ---------------------------------------------------------------------------------------------
// A vector's coordinates as fields: `p.x`, `p.y`, `p.z`
// ---------------------------------------------------------------------------------------------

/// A projectile's height and a pendulum's energy, written with coordinates, beside an element
/// write of a copy.
#[differentiable]
fn coordinates(p: &SVector<f64, 3>, v: nalgebra::Vector2<f64>) -> f64 {
    let mut q = *p;
    q[0] += v.y;
    p.x * p.y + p.z.sin() + v.x * q.x + q.y.powi(2)
}

#[test]
fn coordinates_read_as_fields() {
    let (p, v) = ([1.0, 2.0, 0.5], [0.3, -0.7]);
    let f = |x: &[f64]| {
        let p = SVector::<f64, 3>::from_column_slice(&x[..3]);
        coordinates(&p, nalgebra::Vector2::new(x[3], x[4]))
    };
    let (dp, dv) = coordinates_grad(&SVector::from(p), nalgebra::Vector2::from(v)).1;
    let got: Vec<f64> = dp.iter().chain(dv.iter()).copied().collect();
    // d/dp = (y + vx, x + 2y, cos z), d/dv = (x + vy, vx).
    let want = [
        p[1] + v[0],
        p[0] + 2.0 * p[1],
        p[2].cos(),
        p[0] + v[1],
        v[0],
    ];
    assert_close("closed form", &got, &want, EXACT_TOL);
    let x: Vec<f64> = p.iter().chain(&v).copied().collect();
    assert_close("finite differences", &got, &fd(f, &x), FD_TOL);
}

/// Matrices built from an array literal passed by reference, by columns and by rows.
#[differentiable]
fn from_array_literals(a: f64, b: f64) -> f64 {
    let m = Matrix2::from_column_slice(&[a, b, b * b, a]);
    let n = nalgebra::DMatrix::from_row_slice(2, 2, &[a, 2.0 * b, 0.5, a * b]);
    m.determinant() + n.sum() + Matrix2::from_row_slice(&[a, b, 0.0, 1.0])[(0, 1)]
}

#[test]
fn matrices_from_array_literals() {
    let (a, b) = (1.5, -0.5);
    let (value, (da, db)) = from_array_literals_grad(a, b);
    assert_eq!(value, from_array_literals(a, b));
    // det = a² - b³, sum = a + 2b + 0.5 + ab, the element (0, 1) of the last is b.
    let want = [2.0 * a + 1.0 + b, -3.0 * b * b + 2.0 + a + 1.0];
    assert_close("closed form", &[da, db], &want, EXACT_TOL);
    let f = |x: &[f64]| from_array_literals(x[0], x[1]);
    assert_close("finite differences", &[da, db], &fd(f, &[a, b]), FD_TOL);
}

/// A vector times and divided by a scalar of a type parameter's type, in f64 and f32.
#[differentiable]
fn generic_scaled<T: nabla::Real + nalgebra::RealField>(v: &SVector<T, 3>, s: T) -> T {
    (v * s).dot(v) + (v / s).sum()
}

#[test]
fn a_generic_vector_times_its_scalar() {
    let (v, s) = ([1.0, 2.0, -0.5], 1.5);
    let (dv, ds) = generic_scaled_grad(&SVector::from(v), s).1;
    let got: Vec<f64> = dv.iter().copied().chain([ds]).collect();
    // d/dv = 2 s v + 1/s, d/ds = |v|² - Σv / s².
    let norm2: f64 = v.iter().map(|x| x * x).sum();
    let want: Vec<f64> = v
        .iter()
        .map(|x| 2.0 * s * x + 1.0 / s)
        .chain([norm2 - v.iter().sum::<f64>() / (s * s)])
        .collect();
    assert_close("closed form", &got, &want, EXACT_TOL);
    let f = |x: &[f64]| generic_scaled(&SVector::<f64, 3>::from_column_slice(&x[..3]), x[3]);
    let x = [v[0], v[1], v[2], s];
    assert_close("finite differences", &got, &fd(f, &x), FD_TOL);
    let (dv32, ds32) = generic_scaled_grad(&SVector::<f32, 3>::new(1.0, 2.0, -0.5), 1.5f32).1;
    assert!((dv32[0] as f64 - want[0]).abs() < 1e-5 && (ds32 as f64 - want[3]).abs() < 1e-5);
}

// ---------------------------------------------------------------------------------------------
// A view or a copy iterated where it is made: `m.column(0).iter()`
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn iterated_views(m: &nalgebra::DMatrix<f64>, v: &DVector<f64>) -> f64 {
    let a: f64 = m.column(0).iter().map(|x| x * x).sum();
    let b: f64 = v.iter().zip(m.column(1).iter()).map(|(a, b)| a * b).sum();
    let mut c = 0.0;
    for x in m.row(1).iter() {
        c += x.sin();
    }
    let d: f64 = m.transpose().iter().map(|t| t * 0.5).sum();
    a + b + c + d
}

#[test]
fn views_iterated_where_they_are_made() {
    let (m, v) = ([1.0, -0.5, 2.0, 0.7], [0.3, -1.1]);
    let matrix = |x: &[f64]| nalgebra::DMatrix::from_column_slice(2, 2, &x[..4]);
    let f = |x: &[f64]| iterated_views(&matrix(x), &DVector::from_column_slice(&x[4..]));
    let (dm, dv) = iterated_views_grad(&matrix(&m), &DVector::from_column_slice(&v)).1;
    let got: Vec<f64> = dm.iter().chain(dv.iter()).copied().collect();
    // Column-major m = [m00, m10, m01, m11]: Σ col0² + v·col1 + Σ sin(row1) + ½ Σ m.
    let want = [
        2.0 * m[0] + 0.5,
        2.0 * m[1] + m[1].cos() + 0.5,
        v[0] + 0.5,
        v[1] + m[3].cos() + 0.5,
        m[2],
        m[3],
    ];
    assert_close("closed form", &got, &want, EXACT_TOL);
    let x: Vec<f64> = m.iter().chain(&v).copied().collect();
    assert_close("finite differences", &got, &fd(f, &x), FD_TOL);
}

// ---------------------------------------------------------------------------------------------
// Views of a local matrix, then a write to it
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn column_then_write(a0: &DMatrix<f64>) -> f64 {
    let mut a = a0.clone();
    let s = a.column(1).sum();
    a[(0, 0)] = s;
    a.sum()
}

#[differentiable]
fn head_then_write(v0: &DVector<f64>) -> f64 {
    let mut v = v0.clone();
    let head = v.rows(0, 2).norm_squared();
    v[2] = head * v[1];
    v.sum()
}

#[differentiable]
fn columns_written_in_a_loop(a0: &DMatrix<f64>) -> f64 {
    let mut a = a0.clone();
    let mut t = 0.0;
    for k in 0..2 {
        let c = a.column(k);
        let s = c.dot(&c);
        t += s;
        a[(0, k + 1)] = s * 0.5;
    }
    t + a.sum()
}

#[differentiable]
fn annotated_view_then_write(m0: &Matrix3<f64>) -> f64 {
    let mut m = *m0;
    let col: VectorView3<f64> = m.fixed_view::<3, 1>(0, 0);
    let s = col.sum();
    m[(1, 1)] = s * s;
    let r = m.row(1).sum();
    m[(2, 2)] = r;
    m.norm_squared()
}

#[differentiable]
fn view_in_a_branch_then_write(a0: &DMatrix<f64>, c: f64) -> f64 {
    let mut a = a0.clone();
    let mut s = 0.0;
    if c > 0.0 {
        let v = a.row(0);
        s = v.sum() * c;
    }
    a[(1, 0)] = s;
    a.sum() * c
}

#[test]
fn views_of_a_matrix_written_after_them() {
    // a = [[1, 2], [3, 4]]: the write replaces a00 by a01 + a11.
    let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let (value, g) = column_then_write_grad(&a);
    assert_eq!(value, 15.0);
    assert_close("column", g.as_slice(), &[0.0, 1.0, 2.0, 2.0], EXACT_TOL);

    let v = DVector::from_vec(vec![1.0, 2.0, 3.0]);
    let (_, g) = head_then_write_grad(&v);
    let want = fd(
        |x| head_then_write(&DVector::from_column_slice(x)),
        v.as_slice(),
    );
    assert_close("rows", g.as_slice(), &want, FD_TOL);

    let a = DMatrix::from_fn(2, 3, |i, j| (i + 2 * j) as f64 * 0.3 + 0.1);
    let (_, g) = columns_written_in_a_loop_grad(&a);
    let want = fd(
        |x| columns_written_in_a_loop(&DMatrix::from_column_slice(2, 3, x)),
        a.as_slice(),
    );
    assert_close("loop", g.as_slice(), &want, FD_TOL);

    let m = Matrix3::from_fn(|i, j| (i * 3 + j) as f64 * 0.1 + 0.2);
    let (_, g) = annotated_view_then_write_grad(&m);
    let want = fd(
        |x| annotated_view_then_write(&Matrix3::from_column_slice(x)),
        m.as_slice(),
    );
    assert_close("annotated", g.as_slice(), &want, FD_TOL);

    let b = DMatrix::from_fn(2, 2, |i, j| (i + 2 * j) as f64 * 0.3 + 0.1);
    for c in [0.8, -0.6] {
        let (_, (ga, gc)) = view_in_a_branch_then_write_grad(&b, c);
        let mut x = b.as_slice().to_vec();
        x.push(c);
        let want = fd(
            |x| view_in_a_branch_then_write(&DMatrix::from_column_slice(2, 2, &x[..4]), x[4]),
            &x,
        );
        let mut got = ga.as_slice().to_vec();
        got.push(gc);
        assert_close("branch", &got, &want, FD_TOL);
    }
}
