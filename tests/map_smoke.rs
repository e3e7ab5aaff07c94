use nabla::differentiable;
use nalgebra::SVector;

#[differentiable]
fn act(v: &SVector<f64, 3>, #[no_grad] s: f64) -> f64 {
    let h = v.map(|x| (x * s).tanh());
    h[0] + 2.0 * h[1] + 3.0 * h[2]
}

#[test]
fn map_closure() {
    let v = SVector::<f64, 3>::new(0.1, -0.4, 0.9);
    let (_, g) = act_grad(&v, 1.5);
    for i in 0..3 {
        let w = [1.0, 2.0, 3.0][i];
        let t = (v[i] * 1.5).tanh();
        assert!((g[i] - w * 1.5 * (1.0 - t * t)).abs() < 1e-12);
    }
}

#[differentiable]
fn built(a: f64, b: f64) -> f64 {
    let v = nalgebra::Vector3::new(a, a * b, 2.0);
    let m = nalgebra::Matrix2::new(a, b, 0.0, 1.0);
    v.norm_squared() + m[(0, 1)] * 3.0
}

#[test]
fn constructors() {
    let (_, (da, db)) = built_grad(1.5, -2.0);
    // |v|² = a² + a²b² + 4; m[(0,1)] = b
    assert!((da - (2.0 * 1.5 + 2.0 * 1.5 * 4.0)).abs() < 1e-12);
    assert!((db - (2.0 * 2.25 * -2.0 + 3.0)).abs() < 1e-12);
}

#[differentiable]
fn scaled(s: f64, m: &nalgebra::Matrix2<f64>, v: &nalgebra::DVector<f64>) -> f64 {
    let a = s * m;
    let b = m * s;
    let c = a / s;
    let w = s * v;
    (a + b + c).sum() + w.sum()
}

#[test]
fn scalar_times_matrix() {
    let m = nalgebra::Matrix2::new(1.0, 2.0, 3.0, 4.0);
    let v = nalgebra::DVector::from_vec(vec![1.0, -3.0]);
    let (_, (ds, dm, dv)) = scaled_grad(1.5, &m, &v);
    // (2s + 1)·Σm + s·Σv
    assert!((ds - (2.0 * 10.0 - 2.0)).abs() < 1e-12);
    assert!(dm.iter().all(|g| (g - 4.0).abs() < 1e-12));
    assert!(dv.iter().all(|g| (g - 1.5).abs() < 1e-12));
}
