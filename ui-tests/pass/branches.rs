// Comparisons are fine in conditions when an arm carries gradient: piecewise functions, `match`
// on data, early returns, and loops that iterate until convergence.
use nabla::differentiable;

#[differentiable]
fn leaky_relu(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.01 * x
    }
}

#[differentiable]
fn relu_statement(x: f64) -> f64 {
    let mut y = 0.0;
    if x > 0.0 {
        y = x;
    }
    y * 3.0
}

#[differentiable]
fn huber(r: f64, #[no_grad] delta: f64) -> f64 {
    if r.abs() <= delta && delta > 0.0 {
        0.5 * r * r
    } else {
        delta * (r.abs() - 0.5 * delta)
    }
}

#[differentiable]
fn by_mode(x: f64, #[no_grad] mode: u8) -> f64 {
    match mode {
        0 => x * x,
        1 => x.sin(),
        _ => 3.0 * x,
    }
}

#[differentiable]
fn capped(x: f64, #[no_grad] n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        if y > 100.0 {
            return y;
        }
        y = y * 3.0;
    }
    y
}

#[differentiable]
fn leaky_squared(x: f64) -> f64 {
    let a = if x > 0.0 { x } else { 0.01 * x };
    a * a
}

/// The running maximum (for a stable log-sum-exp) is chosen by comparisons and carries gradient.
#[differentiable]
fn stable_log_sum_exp(xs: &[f64]) -> f64 {
    let mut m = xs[0];
    for i in 1..xs.len() {
        if xs[i] > m {
            m = xs[i];
        }
    }
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += (xs[i] - m).exp();
    }
    m + s.ln()
}

/// Newton's iteration for `sqrt(a)`, run until it converges: the trip count depends on `a`, the
/// value computed in the loop carries the gradient.
#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut y = a;
    let mut steps = 0;
    while (y * y - a).abs() > 1e-12 && steps < 100 {
        y = 0.5 * (y + a / y);
        steps += 1;
    }
    y
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs() + b.abs())
}

fn main() {
    assert_eq!(leaky_relu_grad(2.0).1, 1.0);
    assert_eq!(leaky_relu_grad(-2.0).1, 0.01);
    assert_eq!(relu_statement_grad(2.0).1, 3.0);
    assert_eq!(relu_statement_grad(-2.0).1, 0.0);
    assert_eq!(huber_grad(0.5, 1.0).1, 0.5);
    assert_eq!(huber_grad(-3.0, 1.0).1, -1.0);
    assert_eq!(by_mode_grad(3.0, 0).1, 6.0);
    assert!(close(by_mode_grad(0.5, 1).1, 0.5f64.cos()));
    assert_eq!(by_mode_grad(3.0, 7).1, 3.0);
    assert_eq!(capped_grad(2.0, 10).1, 81.0); // 2·3⁴ = 162 > 100 after four steps
    assert!(close(leaky_squared_grad(-2.0).1, 2.0 * 0.01 * 0.01 * -2.0));
    assert_eq!(leaky_squared_grad(3.0).1, 6.0);
    let xs = [1.0, 3.0, 2.0];
    let (_, g) = stable_log_sum_exp_grad(&xs);
    let total: f64 = xs.iter().map(|x| x.exp()).sum();
    for i in 0..3 {
        assert!(close(g[i], xs[i].exp() / total)); // softmax
    }
    let (value, dvalue) = newton_sqrt_grad(2.0);
    assert!(close(value, 2f64.sqrt()));
    assert!(close(dvalue, 0.5 / 2f64.sqrt()));
}
