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
