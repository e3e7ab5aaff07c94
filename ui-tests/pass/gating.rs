// A step value (a comparison turned into a number, `signum`, an `if` that picks between
// constants) that only scales or selects a value carrying gradient has exactly the gradient one
// expects, piece by piece: these compile, and their gradients are checked against closed forms.
use nabla::differentiable;

/// The NumPy-style ReLU: a mask times the input.
#[differentiable]
fn relu(x: f64) -> f64 {
    let mask = (x > 0.0) as i32 as f64;
    mask * x
}

/// Leaky ReLU with the slope picked by an `if` expression.
#[differentiable]
fn leaky(x: f64) -> f64 {
    let s = if x > 0.0 { 1.0 } else { 0.01 };
    s * x
}

/// A weight set in an `if` statement, then used as a factor.
#[differentiable]
fn weighted(r: f64) -> f64 {
    let mut weight = 1.0;
    if r.abs() > 1.0 {
        weight = 0.5;
    }
    weight * r * r
}

/// `|x|` as a sign times the value.
#[differentiable]
fn magnitude(x: f64) -> f64 {
    x.signum() * x
}

/// A residual clipped to `[-1, 1]`: the sign where it is clipped, the value elsewhere.
#[differentiable]
fn clipped(r: f64, w: f64) -> f64 {
    let e = r * w;
    let c = if e.abs() > 1.0 { e.signum() } else { e };
    c * c + w
}

/// A floor that scales the value it was taken of.
#[differentiable]
fn stairs(x: f64) -> f64 {
    x.floor() * x
}

/// A power whose exponent is a step of the base: the step picks which power.
#[differentiable]
fn stepped_power(x: f64) -> f64 {
    let k = (x * 2.0) as i32;
    x.powi(k) + x.powf(k as f64) + x.powi(x.floor() as i32)
}

/// Linear interpolation in a table: the rounded position, cast to an integer, is an index.
#[differentiable]
fn interpolated(x: f64, #[no_grad] table: &[f64]) -> f64 {
    let i = x.floor() as usize;
    let t = x.fract();
    let steps = x.ceil() as usize;
    let mut s = 0.0;
    for _ in 0..steps {
        s += 0.1 * x;
    }
    table[i] * (1.0 - t) + table[i + 1] * t + s
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

fn main() {
    for x in [-1.5, -0.25, 0.75, 2.0] {
        close(relu_grad(x).1, if x > 0.0 { 1.0 } else { 0.0 });
        close(leaky_grad(x).1, if x > 0.0 { 1.0 } else { 0.01 });
        close(weighted_grad(x).1, if x.abs() > 1.0 { x } else { 2.0 * x });
        close(magnitude_grad(x).1, x.signum());
        close(stairs_grad(x).1, x.floor());
    }
    for x in [0.3f64, 1.3, 2.7] {
        let k = (x * 2.0) as i32;
        let f = x.floor() as i32;
        let want = k as f64 * x.powi(k - 1)
            + k as f64 * x.powf(k as f64 - 1.0)
            + f as f64 * x.powi(f - 1);
        close(stepped_power_grad(x).1, want);
    }
    let table = [0.0, 1.0, 4.0, 9.0];
    for x in [0.25f64, 1.5, 2.75] {
        let slope = table[x as usize + 1] - table[x as usize];
        close(interpolated_grad(x, &table).1, slope + 0.1 * x.ceil());
    }
    // Inside the clip: c = r·w, so d(c² + w)/dr = 2·r·w², d/dw = 2·r²·w + 1.
    let (_, (dr, dw)) = clipped_grad(0.5, 1.2);
    close(dr, 2.0 * 0.5 * 1.44);
    close(dw, 2.0 * 0.25 * 1.2 + 1.0);
    // Clipped: c = ±1 is flat in r, and w still enters as `+ w`.
    let (value, (dr, dw)) = clipped_grad(2.0, 1.2);
    close(value, 1.0 + 1.2);
    close(dr, 0.0);
    close(dw, 1.0);
}
