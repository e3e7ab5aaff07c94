use nabla::differentiable;

#[differentiable]
fn loss(w: f64, b: f64, #[no_grad] x: f64, #[no_grad] y: f64) -> f64 {
    let e = w * x + b - y;
    e * e
}

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    let a = x * y;
    a.sin() + x
}

#[differentiable]
fn branchy(x: f64) -> f64 {
    let mut y = x * 2.0;
    if x > 0.0 {
        y = y * x;
    } else {
        y = -y;
    }
    y + 1.0
}

#[test]
fn smoke() {
    let (v, (dw, db)) = loss_grad(2.0, 1.0, 3.0, 4.0);
    assert_eq!((v, dw, db), (9.0, 18.0, 6.0));
    let (_, (dx, dy)) = f_grad(0.5, 2.0);
    assert!((dx - (2.0 * 1.0f64.cos() + 1.0)).abs() < 1e-12);
    assert!((dy - (0.5 * 1.0f64.cos())).abs() < 1e-12);
    assert_eq!(branchy_grad(3.0).1, 12.0);
    assert_eq!(branchy_grad(-3.0).1, -2.0);
}
