use nabla::differentiable;

#[differentiable]
fn g(k: f64, #[no_grad] n: usize) -> f64 {
    let mut x = 1.0;
    for _ in 0..n {
        x = x * k + x.sin();
    }
    x
}

#[differentiable]
fn dot(xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += xs[i] * ys[i];
    }
    s
}

#[differentiable]
fn horner(x: f64, coeffs: &[f64]) -> f64 {
    let mut acc = 0.0;
    let mut i = coeffs.len();
    while i > 0 {
        i -= 1;
        acc = acc * x + coeffs[i];
    }
    acc
}

#[differentiable]
fn iter_forms(xs: &[f64], w: f64) -> f64 {
    let a: f64 = xs.iter().map(|v| v * w).sum();
    let mut b = 0.0;
    for (i, x) in xs.iter().enumerate() {
        b += x * (i as f64);
    }
    let mut buf = vec![0.0; xs.len()];
    for i in 0..xs.len() {
        buf[i] = xs[i] * xs[i];
    }
    let c: f64 = buf.iter().sum();
    a + b + c
}

#[differentiable]
fn early(x: f64, #[no_grad] n: usize) -> f64 {
    let mut y = x;
    for i in 0..n {
        if y > 100.0 {
            return y;
        }
        y = y * (i as f64 + 2.0);
    }
    y * 0.5
}

#[differentiable]
fn moded(x: f64, #[no_grad] mode: u8) -> f64 {
    match mode {
        0 => x * x,
        1 | 2 => x.sin(),
        _ => 3.0 * x,
    }
}

fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn loops_work() {
    let (_, dk) = g_grad(0.7, 10);
    assert!((dk - fd(|k| g(k, 10), 0.7)).abs() < 1e-6, "{dk}");
    let xs = [1.0, 2.0, 3.0];
    let ys = [4.0, -1.0, 0.5];
    let (_, (dx, dy)) = dot_grad(&xs, &ys);
    assert_eq!(dx, ys.to_vec());
    assert_eq!(dy, xs.to_vec());
    let c = [1.0, -2.0, 0.5, 3.0];
    let (_, (dxh, dc)) = horner_grad(0.3, &c);
    assert!((dxh - fd(|x| horner(x, &c), 0.3)).abs() < 1e-6);
    assert!((dc[2] - 0.09).abs() < 1e-12);
    let (_, (dxs, dw)) = iter_forms_grad(&xs, 2.0);
    assert!((dw - 6.0).abs() < 1e-12);
    for i in 0..3 {
        assert!((dxs[i] - (2.0 + i as f64 + 2.0 * xs[i])).abs() < 1e-12);
    }
    for x in [1.0, 40.0] {
        let (_, d) = early_grad(x, 6);
        assert!((d - fd(|x| early(x, 6), x)).abs() < 1e-4, "{x} {d}");
    }
    assert!((moded_grad(0.5, 1).1 - 0.5f64.cos()).abs() < 1e-12);
    assert_eq!(moded_grad(0.5, 0).1, 1.0);
    assert_eq!(moded_grad(0.5, 9).1, 3.0);
}
