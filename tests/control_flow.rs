//! Control flow and mutation inside `#[differentiable]`: every gradient against central finite
//! differences (relative error `|a-b|/max(1,|a|+|b|) < 1e-6`), closed forms where they exist,
//! and every iterator form against the same function written with index loops (`1e-12`).

// Index loops are half of what is tested here (each iterator form against its index loop).
#![allow(clippy::needless_range_loop)]

mod flow_common;

use flow_common::{
    assert_close, assert_close_slices, fd_gradient, fd_scalar, gmm_data, logistic_data,
    logistic_loss, logistic_loss_grad, logistic_loss_hand_grad, oscillator, oscillator_grad,
    oscillator_hand_grad, rel_err, rosenbrock, rosenbrock_grad, rosenbrock_hand_grad, F32_TOL,
    FD_TOL, SAME_TOL,
};
use nabla::differentiable;

// =============================================================================================
// Piecewise: Huber
// =============================================================================================

#[differentiable]
fn huber(r: f64, #[no_grad] delta: f64) -> f64 {
    if r.abs() <= delta {
        0.5 * r * r
    } else {
        delta * (r.abs() - 0.5 * delta)
    }
}

#[differentiable]
fn huber_f32(r: f32, #[no_grad] delta: f32) -> f32 {
    if r.abs() <= delta {
        0.5 * r * r
    } else {
        delta * (r.abs() - 0.5 * delta)
    }
}

/// Robust line fit: Huber loss of the residuals of `a·x + b`, an `if` statement per sample.
#[differentiable]
fn huber_fit(
    a: f64,
    b: f64,
    #[no_grad] xs: &[f64],
    #[no_grad] ys: &[f64],
    #[no_grad] delta: f64,
) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        if r.abs() <= delta {
            total += 0.5 * r * r;
        } else {
            total += delta * (r.abs() - 0.5 * delta);
        }
    }
    total
}

/// The same fit calling the differentiable `huber` from the loop.
#[differentiable]
fn huber_fit_call(
    a: f64,
    b: f64,
    #[no_grad] xs: &[f64],
    #[no_grad] ys: &[f64],
    #[no_grad] delta: f64,
) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        total += huber(a * xs[i] + b - ys[i], delta);
    }
    total
}

#[test]
fn huber_both_branches() {
    for r in [-3.0, -1.2, -0.4, 0.0, 0.3, 0.99, 1.01, 2.5] {
        let (v, g) = huber_grad(r, 1.0);
        assert_eq!(v, huber(r, 1.0));
        let want = if r.abs() <= 1.0 { r } else { r.signum() };
        assert_close(&format!("huber'({r})"), g, want, 1e-15);
        assert_close(
            &format!("huber'({r}) FD"),
            g,
            fd_scalar(|r| huber(r, 1.0), r),
            FD_TOL,
        );
    }
}

#[test]
fn huber_fit_matches_fd_and_call_form() {
    let xs: Vec<f64> = (0..40).map(|i| i as f64 * 0.25 - 5.0).collect();
    // a line with a few outliers
    let ys: Vec<f64> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            0.7 * x - 0.2
                + if i % 7 == 0 {
                    4.0
                } else {
                    0.1 * (i as f64).sin()
                }
        })
        .collect();
    let (a, b) = (0.5, 0.3);
    let (v, (da, db)) = huber_fit_grad(a, b, &xs, &ys, 1.0);
    assert_eq!(v, huber_fit(a, b, &xs, &ys, 1.0));
    let fd = fd_gradient(|p| huber_fit(p[0], p[1], &xs, &ys, 1.0), &[a, b]);
    assert_close_slices("huber_fit", &[da, db], &fd, FD_TOL);
    let (v2, (da2, db2)) = huber_fit_call_grad(a, b, &xs, &ys, 1.0);
    assert_close("call form value", v2, v, SAME_TOL);
    assert_close_slices("call form", &[da2, db2], &[da, db], SAME_TOL);
}

#[test]
fn huber_f32_matches_f64() {
    for r in [-2.0f32, -0.5, 0.25, 1.5] {
        let (v, g) = huber_f32_grad(r, 1.0);
        let (v64, g64) = huber_grad(r as f64, 1.0);
        assert_close("huber f32 value", v as f64, v64, F32_TOL);
        assert_close("huber f32 grad", g as f64, g64, F32_TOL);
    }
}

// =============================================================================================
// ODE integrators (1,000 steps, 2 parameters)
// =============================================================================================

/// Logistic growth `p' = r·p·(1 - p/cap)` integrated with `steps` midpoint (RK2) steps.
#[differentiable]
fn logistic_growth_rk2(
    r: f64,
    cap: f64,
    #[no_grad] p0: f64,
    #[no_grad] steps: usize,
    #[no_grad] dt: f64,
) -> f64 {
    let mut p = p0;
    for _ in 0..steps {
        let k1 = r * p * (1.0 - p / cap);
        let mid = p + 0.5 * dt * k1;
        let k2 = r * mid * (1.0 - mid / cap);
        p += dt * k2;
    }
    p
}

#[differentiable]
fn oscillator_f32(k: f32, c: f32, #[no_grad] steps: usize, #[no_grad] dt: f32) -> f32 {
    let mut x = 1.0;
    let mut v = 0.0;
    for _ in 0..steps {
        let a = -k * x - c * v;
        x += dt * v;
        v += dt * a;
    }
    x * x + v * v
}

#[test]
fn euler_oscillator_1000_steps() {
    let (k, c) = (4.0, 0.3);
    let (v, (dk, dc)) = oscillator_grad(k, c, 1000, 0.01);
    assert_eq!(v, oscillator(k, c, 1000, 0.01));
    let fd = fd_gradient(|p| oscillator(p[0], p[1], 1000, 0.01), &[k, c]);
    assert_close_slices("oscillator vs FD", &[dk, dc], &fd, FD_TOL);
    let (hv, (hk, hc)) = oscillator_hand_grad(k, c, 1000, 0.01);
    assert_close("oscillator value vs hand", v, hv, SAME_TOL);
    assert_close_slices("oscillator vs hand adjoint", &[dk, dc], &[hk, hc], SAME_TOL);
}

#[test]
fn rosenbrock_against_finite_differences_and_by_hand() {
    for n in [2, 5, 128] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() * 1.3).collect();
        let (v, g) = rosenbrock_grad(&x);
        assert_eq!(v, rosenbrock(&x));
        assert_close_slices("rosenbrock vs FD", &g, &fd_gradient(rosenbrock, &x), FD_TOL);
        let (hv, hg) = rosenbrock_hand_grad(&x);
        assert_close("rosenbrock value vs hand", v, hv, SAME_TOL);
        assert_close_slices("rosenbrock vs hand", &g, &hg, SAME_TOL);
    }
}

#[test]
fn rk2_logistic_growth_1000_steps() {
    let (r, cap) = (0.9, 5.0);
    let (_, (dr, dcap)) = logistic_growth_rk2_grad(r, cap, 0.1, 1000, 0.01);
    let p = logistic_growth_rk2(r, cap, 0.1, 1000, 0.01);
    // RK2 follows the closed-form solution at t = 10 closely
    let t: f64 = 10.0;
    let exact = cap * 0.1 * (r * t).exp() / (cap + 0.1 * ((r * t).exp() - 1.0));
    assert!((p - exact).abs() < 1e-4, "{p} vs {exact}");
    let fd = fd_gradient(
        |q| logistic_growth_rk2(q[0], q[1], 0.1, 1000, 0.01),
        &[r, cap],
    );
    assert_close_slices("rk2 vs FD", &[dr, dcap], &fd, FD_TOL);
    // and its parameter derivatives approach the closed form's
    let fd_exact = fd_gradient(
        |q| {
            let e = (q[0] * t).exp();
            q[1] * 0.1 * e / (q[1] + 0.1 * (e - 1.0))
        },
        &[r, cap],
    );
    assert_close_slices(
        "rk2 vs exact solution's gradient",
        &[dr, dcap],
        &fd_exact,
        1e-3,
    );
}

#[test]
fn euler_oscillator_f32() {
    let (v, (dk, dc)) = oscillator_f32_grad(4.0, 0.3, 1000, 0.01);
    let (v64, (dk64, dc64)) = oscillator_grad(4.0, 0.3, 1000, 0.01);
    assert_close("f32 value", v as f64, v64, F32_TOL);
    assert_close_slices("f32 gradient", &[dk as f64, dc as f64], &[dk64, dc64], 1e-3);
}

// =============================================================================================
// Fixed-point iteration
// =============================================================================================

/// `x ← cos(a·x)`, `iters` times.
#[differentiable]
fn cos_fixed_point(a: f64, #[no_grad] iters: usize) -> f64 {
    let mut x = 1.0;
    for _ in 0..iters {
        x = (a * x).cos();
    }
    x
}

#[differentiable]
fn cos_fixed_point_f32(a: f32, #[no_grad] iters: usize) -> f32 {
    let mut x = 1.0;
    for _ in 0..iters {
        x = (a * x).cos();
    }
    x
}

/// `x ← cos(a·x)` until the change (an active value) drops below `1e-13`.
#[differentiable]
fn cos_fixed_point_while(a: f64) -> f64 {
    let mut x = 1.0;
    let mut change = 1.0;
    let mut iters = 0;
    while change > 1e-13 && iters < 1000 {
        let next = (a * x).cos();
        change = (next - x).abs();
        x = next;
        iters += 1;
    }
    x
}

/// Implicit-function derivative of the fixed point `x = cos(a·x)`.
fn fixed_point_derivative(a: f64, x: f64) -> f64 {
    let s = (a * x).sin();
    -x * s / (1.0 + a * s)
}

#[test]
fn fixed_point_50_iterations() {
    let a = 0.8;
    let (_, dx) = cos_fixed_point_grad(a, 50);
    let x = cos_fixed_point(a, 50);
    assert!((x - (a * x).cos()).abs() < 1e-9);
    assert_close(
        "vs FD",
        dx,
        fd_scalar(|a| cos_fixed_point(a, 50), a),
        FD_TOL,
    );
    assert_close(
        "vs implicit derivative",
        dx,
        fixed_point_derivative(a, x),
        1e-8,
    );
}

#[test]
fn fixed_point_while_until_convergence() {
    for a in [0.3, 0.8, 1.1] {
        let (_, dx) = cos_fixed_point_while_grad(a);
        let x = cos_fixed_point_while(a);
        assert!((x - (a * x).cos()).abs() < 1e-12);
        assert_close("vs FD", dx, fd_scalar(cos_fixed_point_while, a), FD_TOL);
        assert_close("vs implicit", dx, fixed_point_derivative(a, x), 1e-9);
    }
}

#[test]
fn fixed_point_f32() {
    let (x, dx) = cos_fixed_point_f32_grad(0.8, 50);
    let (x64, dx64) = cos_fixed_point_grad(0.8, 50);
    assert_close("f32 value", x as f64, x64, F32_TOL);
    assert_close("f32 derivative", dx as f64, dx64, F32_TOL);
}

// =============================================================================================
// Horner's rule with `while`
// =============================================================================================

#[differentiable]
fn horner_while(x: f64, coeffs: &[f64]) -> f64 {
    let mut acc = 0.0;
    let mut i = coeffs.len();
    while i > 0 {
        i -= 1;
        acc = acc * x + coeffs[i];
    }
    acc
}

#[differentiable]
fn horner_while_f32(x: f32, coeffs: &[f32]) -> f32 {
    let mut acc = 0.0;
    let mut i = coeffs.len();
    while i > 0 {
        i -= 1;
        acc = acc * x + coeffs[i];
    }
    acc
}

#[test]
fn horner_closed_form_and_fd() {
    let c = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5];
    for x in [-1.3, 0.0, 0.4, 2.0] {
        let (_, (dx, dc)) = horner_while_grad(x, &c);
        let v = horner_while(x, &c);
        let p: f64 = c
            .iter()
            .enumerate()
            .map(|(j, cj)| cj * x.powi(j as i32))
            .sum();
        assert_close("value", v, p, 1e-14);
        let dp: f64 = c
            .iter()
            .enumerate()
            .skip(1)
            .map(|(j, cj)| j as f64 * cj * x.powi(j as i32 - 1))
            .sum();
        assert_close("d/dx closed form", dx, dp, 1e-13);
        let want_dc: Vec<f64> = (0..c.len()).map(|j| x.powi(j as i32)).collect();
        assert_close_slices("d/dc closed form", &dc, &want_dc, 1e-14);
        let mut params = vec![x];
        params.extend_from_slice(&c);
        let fd = fd_gradient(|p| horner_while(p[0], &p[1..]), &params);
        let mut got = vec![dx];
        got.extend_from_slice(&dc);
        assert_close_slices("horner vs FD", &got, &fd, FD_TOL);
    }
}

#[test]
fn horner_f32() {
    let c = [0.5f32, -1.0, 2.0, 0.25];
    let (_, (dx, dc)) = horner_while_f32_grad(0.7, &c);
    let c64: Vec<f64> = c.iter().map(|&v| v as f64).collect();
    let (_, (dx64, dc64)) = horner_while_grad(0.7f32 as f64, &c64);
    assert_close("f32 dx", dx as f64, dx64, F32_TOL);
    let dc: Vec<f64> = dc.iter().map(|&v| v as f64).collect();
    assert_close_slices("f32 dc", &dc, &dc64, F32_TOL);
}

// =============================================================================================
// Prefix sum into a buffer, then a reduction
// =============================================================================================

#[differentiable]
fn prefix_sum_energy(xs: &[f64]) -> f64 {
    let mut buf = vec![0.0; xs.len()];
    buf[0] = xs[0];
    for i in 1..xs.len() {
        buf[i] = buf[i - 1] + xs[i];
    }
    buf.iter().map(|v| v * v).sum()
}

/// The same with `+=` into the buffer and an index-loop reduction.
#[differentiable]
fn prefix_sum_energy_index(xs: &[f64]) -> f64 {
    let mut buf = vec![0.0; xs.len()];
    for i in 0..xs.len() {
        buf[i] += xs[i];
        if i > 0 {
            buf[i] += buf[i - 1];
        }
    }
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * buf[i];
    }
    s
}

#[test]
fn prefix_sum_closed_form() {
    let xs = [0.3, -1.2, 2.0, 0.7, -0.4, 1.1];
    let (v, g) = prefix_sum_energy_grad(&xs);
    let prefix: Vec<f64> = xs
        .iter()
        .scan(0.0, |s, x| {
            *s += x;
            Some(*s)
        })
        .collect();
    assert_close("value", v, prefix.iter().map(|s| s * s).sum(), 1e-14);
    // d/dx_j Σ_i S_i² = 2 Σ_{i ≥ j} S_i
    let want: Vec<f64> = (0..xs.len())
        .map(|j| 2.0 * prefix[j..].iter().sum::<f64>())
        .collect();
    assert_close_slices("closed form", &g, &want, 1e-14);
    assert_close_slices("vs FD", &g, &fd_gradient(prefix_sum_energy, &xs), FD_TOL);
    let (v2, g2) = prefix_sum_energy_index_grad(&xs);
    assert_close("index form value", v2, v, SAME_TOL);
    assert_close_slices("index form", &g2, &g, SAME_TOL);
}

// =============================================================================================
// Logistic regression over a flat data set (nested loops, an `if` inside)
// =============================================================================================

#[differentiable]
fn logistic_loss_f32(
    w: &[f32],
    b: f32,
    #[no_grad] x: &[f32],
    #[no_grad] y: &[f32],
    #[no_grad] d: usize,
) -> f32 {
    let mut total = 0.0;
    for i in 0..y.len() {
        let mut z = b;
        for j in 0..d {
            z += w[j] * x[i * d + j];
        }
        let mut s = z;
        if y[i] > 0.5 {
            s = -z;
        }
        total += s.max(0.0) + (-s.abs()).exp().ln_1p();
    }
    total / (y.len() as f32)
}

#[test]
fn logistic_regression_vs_fd_and_hand() {
    let data = logistic_data(4, 30, 5);
    let (v, (gw, gb)) = logistic_loss_grad(&data.w, data.b, &data.x, &data.y, 4, 0.1);
    assert_eq!(v, logistic_loss(&data.w, data.b, &data.x, &data.y, 4, 0.1));
    let mut params = data.w.clone();
    params.push(data.b);
    let fd = fd_gradient(
        |p| logistic_loss(&p[..4], p[4], &data.x, &data.y, 4, 0.1),
        &params,
    );
    let mut got = gw.clone();
    got.push(gb);
    assert_close_slices("logistic vs FD", &got, &fd, FD_TOL);

    let big = logistic_data(10, 500, 6);
    let (v, (gw, gb)) = logistic_loss_grad(&big.w, big.b, &big.x, &big.y, 10, 0.01);
    let (hv, (hw, hb)) = logistic_loss_hand_grad(&big.w, big.b, &big.x, &big.y, 10, 0.01);
    assert_close("value vs hand", v, hv, SAME_TOL);
    assert_close_slices("w vs hand", &gw, &hw, SAME_TOL);
    assert_close("b vs hand", gb, hb, SAME_TOL);
}

#[test]
fn logistic_regression_f32() {
    let data = logistic_data(3, 40, 9);
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (x32, y32, w32) = (to32(&data.x), to32(&data.y), to32(&data.w));
    let (_, (gw, gb)) = logistic_loss_f32_grad(&w32, data.b as f32, &x32, &y32, 3);
    let back = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let (_, (gw64, gb64)) = logistic_loss_grad(
        &back(&w32),
        data.b as f32 as f64,
        &back(&x32),
        &data.y,
        3,
        0.0,
    );
    assert_close_slices("f32 w", &back(&gw), &gw64, F32_TOL);
    assert_close("f32 b", gb as f64, gb64, F32_TOL);
}

// =============================================================================================
// Matrix-vector product with index arithmetic and `+=` into a local buffer
// =============================================================================================

#[differentiable]
fn matvec_loss(a: &[f64], x: &[f64], #[no_grad] m: usize, #[no_grad] n: usize) -> f64 {
    let mut y = vec![0.0; m];
    for i in 0..m {
        for j in 0..n {
            y[i] += a[i * n + j] * x[j];
        }
    }
    let mut s = 0.0;
    for i in 0..m {
        s += y[i].sin() * y[i];
    }
    s
}

#[test]
fn matvec_closed_form() {
    let (m, n) = (3, 4);
    let a: Vec<f64> = (0..m * n)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.1)
        .collect();
    let x = [0.5, -0.3, 0.8, 0.1];
    let (v, (ga, gx)) = matvec_loss_grad(&a, &x, m, n);
    let y: Vec<f64> = (0..m)
        .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
        .collect();
    assert_close("value", v, y.iter().map(|y| y.sin() * y).sum(), 1e-14);
    let fp: Vec<f64> = y.iter().map(|y| y.cos() * y + y.sin()).collect();
    let want_a: Vec<f64> = (0..m * n).map(|idx| fp[idx / n] * x[idx % n]).collect();
    let want_x: Vec<f64> = (0..n)
        .map(|j| (0..m).map(|i| a[i * n + j] * fp[i]).sum())
        .collect();
    assert_close_slices("dA", &ga, &want_a, 1e-14);
    assert_close_slices("dx", &gx, &want_x, 1e-14);
    let mut params = a.clone();
    params.extend_from_slice(&x);
    let fd = fd_gradient(|p| matvec_loss(&p[..m * n], &p[m * n..], m, n), &params);
    let mut got = ga.clone();
    got.extend_from_slice(&gx);
    assert_close_slices("matvec vs FD", &got, &fd, FD_TOL);
}

// =============================================================================================
// `loop` / `break`, with `max`
// =============================================================================================

#[differentiable]
fn loop_max(xs: &[f64], w: f64) -> f64 {
    let mut best = xs[0] * w;
    let mut i = 1;
    loop {
        if i >= xs.len() {
            break;
        }
        best = best.max(xs[i] * w + 0.1 * (i as f64));
        i += 1;
    }
    best
}

/// Breaks on a condition on an active value.
#[differentiable]
fn grow_until(a: f64, x0: f64) -> f64 {
    let mut x = x0;
    let mut steps = 0;
    loop {
        x = x * 1.5 + a;
        steps += 1;
        if x > 10.0 || steps >= 100 {
            break;
        }
    }
    x
}

#[test]
fn loop_break_max() {
    let xs = [0.3, 1.7, -0.5, 1.2, 0.9];
    let (_, (gx, gw)) = loop_max_grad(&xs, 2.0);
    // the max is at index 1 (3.4 + 0.1)
    assert_close_slices("dxs", &gx, &[0.0, 2.0, 0.0, 0.0, 0.0], 1e-15);
    assert_close("dw", gw, 1.7, 1e-15);
    let mut params = xs.to_vec();
    params.push(2.0);
    let fd = fd_gradient(|p| loop_max(&p[..5], p[5]), &params);
    let mut got = gx.clone();
    got.push(gw);
    assert_close_slices("loop_max vs FD", &got, &fd, FD_TOL);

    let (a, x0) = (0.4, 0.3);
    let (_, (da, dx0)) = grow_until_grad(a, x0);
    assert!(grow_until(a, x0) > 10.0);
    let fd = fd_gradient(|p| grow_until(p[0], p[1]), &[a, x0]);
    assert_close_slices("grow_until vs FD", &[da, dx0], &fd, FD_TOL);
}

// =============================================================================================
// `match` on an integer mode
// =============================================================================================

#[differentiable]
fn mode_program(x: f64, y: f64, #[no_grad] modes: &[u8]) -> f64 {
    let mut acc = x;
    for i in 0..modes.len() {
        match modes[i] {
            0 => acc *= y,
            1 => acc += y.sin(),
            2 | 3 => {
                acc = acc.tanh() * 2.0;
            }
            _ => acc -= 0.5 * x,
        }
    }
    acc
}

#[differentiable]
fn mode_value(x: f64, #[no_grad] mode: u32) -> f64 {
    let t = match mode {
        0 => x * x,
        1 => x.exp(),
        // (a binding pattern `n if n < 10 => ..` is rejected with a clear error: the macro
        // matches on plain values only)
        2..=9 => x * (mode as f64),
        _ => x.sin(),
    };
    t + x
}

/// A `match` as the function's tail expression.
#[differentiable]
fn mode_tail(x: f64, #[no_grad] mode: u8) -> f64 {
    match mode {
        0 => x * x,
        1 | 2 => x.sin(),
        _ => 3.0 * x,
    }
}

/// Arm guards: on data, on a value that carries gradient, and in statement arms.
#[differentiable]
fn guarded_arms(x: f64, y: f64, #[no_grad] k: i32, #[no_grad] flag: bool) -> f64 {
    let mut acc = match k {
        0 if flag => x.ln(),
        0 if x > y => x * y,
        1 | 2 if !flag => y.exp() * x,
        _ => x * x + y,
    };
    for i in 0..3 {
        match i {
            0 if acc > 1.0 => acc *= y,
            1 if flag => acc += x,
            _ => acc -= 0.25 * y,
        }
    }
    acc
}

#[test]
fn match_arms_with_guards() {
    for (x, y) in [(0.8, 1.3), (1.7, 0.4)] {
        for k in [0, 1, 2, 5] {
            for flag in [false, true] {
                let (value, (dx, dy)) = guarded_arms_grad(x, y, k, flag);
                assert_eq!(value, guarded_arms(x, y, k, flag));
                let fd = fd_gradient(|p| guarded_arms(p[0], p[1], k, flag), &[x, y]);
                let what = format!("guarded arms k = {k}, flag = {flag}");
                assert_close_slices(&what, &[dx, dy], &fd, FD_TOL);
            }
        }
    }
}

#[test]
fn match_on_integer_mode() {
    let modes = [0u8, 1, 2, 4, 0, 3, 1, 7];
    let (_, (dx, dy)) = mode_program_grad(0.6, 1.3, &modes);
    let fd = fd_gradient(|p| mode_program(p[0], p[1], &modes), &[0.6, 1.3]);
    assert_close_slices("mode program vs FD", &[dx, dy], &fd, FD_TOL);
    let x: f64 = 0.7;
    let cases: [(u32, f64); 4] = [
        (0, 2.0 * x + 1.0),
        (1, x.exp() + 1.0),
        (5, 6.0),
        (12, x.cos() + 1.0),
    ];
    for (mode, want) in cases {
        let (_, d) = mode_value_grad(x, mode);
        assert_close(&format!("mode {mode}"), d, want, 1e-15);
    }
    for (mode, want) in [(0u8, 2.0 * x), (1, x.cos()), (2, x.cos()), (9, 3.0)] {
        let (v, d) = mode_tail_grad(x, mode);
        assert_eq!(v, mode_tail(x, mode));
        assert_close(&format!("tail mode {mode}"), d, want, 1e-15);
    }
}

// =============================================================================================
// Early return from inside a loop and from a branch
// =============================================================================================

#[differentiable]
fn first_crossing(xs: &[f64], scale: f64, #[no_grad] threshold: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..xs.len() {
        acc += xs[i] * scale;
        if acc > threshold {
            return acc * acc;
        }
    }
    if acc < 0.0 {
        return -acc * scale;
    }
    acc + scale
}

/// A `loop` as the last expression, left only by `return`: its type is `!`.
#[differentiable]
fn first_above(x: f64, #[no_grad] limit: f64) -> f64 {
    let mut y = x;
    loop {
        y = y * 1.5 + 0.25;
        if y > limit {
            return y * x;
        }
    }
}

#[test]
fn a_last_loop_left_by_return() {
    for (x, limit) in [(1.0, 10.0), (2.5, 3.0), (0.7, 40.0)] {
        let (value, dx) = first_above_grad(x, limit);
        assert_eq!(value, first_above(x, limit));
        assert_close(
            "first_above vs FD",
            dx,
            fd_scalar(|x| first_above(x, limit), x),
            FD_TOL,
        );
    }
}

/// A `return` as a branch's last expression, with and without its semicolon, and as an arm.
#[allow(clippy::needless_return)] // the form under test
#[differentiable]
fn returned_from_branch(x: f64) -> f64 {
    if x > 0.0 {
        return x * 2.0;
    } else {
        x * x
    }
}

#[allow(clippy::needless_return)] // the form under test
#[differentiable]
fn returned_as_branch_value(x: f64) -> f64 {
    if x > 1.0 {
        return x.sin();
    } else {
        x * x * 3.0
    }
}

#[allow(clippy::needless_return)] // the form under test
#[differentiable]
fn returned_from_arm(x: f64) -> f64 {
    match x > 1.0 {
        true => return x * 2.0,
        false => x.exp(),
    }
}

#[differentiable]
fn returned_from_let(x: f64) -> f64 {
    let y = if x > 0.0 { x * 5.0 } else { return x * 2.0 };
    y * x
}

/// A `loop` left only by `return` as the last expression of a branch, a block and an arm.
// The forms under test: `y = y * ..` reads clearer than `*=` beside `y * y`; the `loop` that
// never loops is a diverging arm.
#[allow(clippy::assign_op_pattern, clippy::never_loop)]
#[differentiable]
fn loops_left_by_return(x: f64, #[no_grad] which: usize) -> f64 {
    if which == 0 {
        let mut y = x;
        loop {
            y = y * 0.5;
            if y < 1.0 {
                return y * x;
            }
        }
    } else if which == 1 {
        {
            let mut y = x * 2.0;
            loop {
                y = y * 0.75;
                if y < 1.0 {
                    return y * y;
                }
            }
        }
    } else {
        match which {
            2 => loop {
                return x.cos();
            },
            _ => x * 4.0,
        }
    }
}

/// An `else if` chain whose first branches return, and whose last gives the value.
#[allow(clippy::needless_return)] // the form under test
#[differentiable]
fn returned_from_a_chain(x: f64) -> f64 {
    let y = if x > 2.0 {
        return x * 3.0;
    } else if x > 1.0 {
        return x * x;
    } else if x > 0.0 {
        x.exp()
    } else {
        x.sin()
    };
    y * 2.0
}

#[test]
fn returns_and_diverging_loops_as_branch_values() {
    type ValueAndGradient = fn(f64) -> (f64, f64);
    type Primal = fn(f64) -> f64;
    let functions: [(&str, Primal, ValueAndGradient); 5] = [
        ("branch", returned_from_branch, returned_from_branch_grad),
        ("chain", returned_from_a_chain, returned_from_a_chain_grad),
        (
            "branch value",
            returned_as_branch_value,
            returned_as_branch_value_grad,
        ),
        ("arm", returned_from_arm, returned_from_arm_grad),
        ("let", returned_from_let, returned_from_let_grad),
    ];
    for (name, f, grad) in functions {
        for x in [-1.3, 0.4, 1.6, 2.7] {
            let (value, dx) = grad(x);
            assert_eq!(value, f(x), "{name} at {x}");
            assert_close(name, dx, fd_scalar(f, x), FD_TOL);
        }
    }
    assert_eq!(returned_from_branch_grad(3.0), (6.0, 2.0));
    for which in 0..4 {
        for x in [1.7, 3.1, 6.4] {
            let (value, dx) = loops_left_by_return_grad(x, which);
            assert_eq!(
                value,
                loops_left_by_return(x, which),
                "loops {which} at {x}"
            );
            let fd = fd_scalar(|x| loops_left_by_return(x, which), x);
            assert_close("loops left by return", dx, fd, FD_TOL);
        }
    }
}

/// Branches that end in `panic!`, `unreachable!`, `todo!` or `unimplemented!`, with and without
/// a semicolon, beside branches that give the value: in a `let`, as the function's value, in a
/// loop, and as a statement.
#[differentiable]
fn panicking_branches(x: f64, #[no_grad] mode: u32) -> f64 {
    let y = match mode {
        0 => x * x,
        1 | 2 => x.sin(),
        _ => {
            panic!("unsupported mode {}", mode);
        }
    };
    let s = if y < 10.0 { y * x } else { todo!() };
    let mut t = 0.0;
    for i in 0..mode + 1 {
        t += match i {
            0 => s,
            1 | 2 => s * x,
            _ => unimplemented!(),
        };
    }
    if t > 100.0 {
        panic!("too large: {t}");
    }
    match mode {
        0 | 1 => t,
        2 => t * 2.0,
        _ => unreachable!("mode {mode} was refused above"),
    }
}

#[test]
fn branches_that_panic() {
    for mode in 0..3 {
        for x in [-1.3, 0.4, 1.6] {
            let (value, dx) = panicking_branches_grad(x, mode);
            assert_eq!(value, panicking_branches(x, mode), "mode {mode} at {x}");
            let fd = fd_scalar(|x| panicking_branches(x, mode), x);
            assert_close("panicking branches", dx, fd, FD_TOL);
        }
    }
    let refused = std::panic::catch_unwind(|| panicking_branches_grad(0.5, 3));
    assert!(
        refused.is_err(),
        "the gradient panics where the function does"
    );
}

/// A branch or arm that returns early and then ends in a statement without its semicolon
/// (`s += x * 3.0`): the `if` is a statement, with no value to carry past the `return`.
#[differentiable]
fn statement_after_a_return(x: f64, #[no_grad] c: bool, #[no_grad] m: u8) -> f64 {
    let mut s = x;
    if c {
        if x > 5.0 {
            return x * x;
        }
        s += x * 3.0
    } else {
        s -= x
    }
    match m {
        0 => {
            if x > 4.0 {
                return s;
            }
            s *= x
        }
        _ => {
            s += 1.0;
        }
    }
    s * x
}

#[test]
fn statements_after_an_early_return() {
    for (c, m) in [(true, 0), (true, 1), (false, 0), (false, 1)] {
        for x in [-1.3, 2.0, 4.5, 6.0] {
            let (value, dx) = statement_after_a_return_grad(x, c, m);
            assert_eq!(value, statement_after_a_return(x, c, m), "{c} {m} at {x}");
            let fd = fd_scalar(|x| statement_after_a_return(x, c, m), x);
            assert_close("statement after a return", dx, fd, FD_TOL);
        }
    }
}

/// A branch value beside a branch that leaves the loop (`continue`, `break`), in `if`, `else if`
/// and `match`.
#[differentiable]
fn skipped_or_stopped(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < xs.len() {
        let x = xs[i];
        i += 1;
        let y = if x < 0.0 {
            continue;
        } else if x > 2.5 {
            break;
        } else {
            x * w
        };
        let z = match y > 1.0 {
            true => y.sin(),
            false => y * y,
        };
        s += z;
    }
    for &x in xs {
        let y = match x > 1.5 {
            true => break,
            false => x * w,
        };
        s += y;
    }
    s
}

#[test]
fn branch_values_beside_continue_and_break() {
    let x = [0.5, -1.0, 1.0, 2.0, 0.25, 3.0, 0.4];
    let w = 1.3;
    let (value, (dx, dw)) = skipped_or_stopped_grad(&x, w);
    assert_eq!(value, skipped_or_stopped(&x, w));
    let mut params = x.to_vec();
    params.push(w);
    let n = x.len();
    let fd = fd_gradient(|p| skipped_or_stopped(&p[..n], p[n]), &params);
    let mut got = dx.clone();
    got.push(dw);
    assert_close_slices("continue and break", &got, &fd, FD_TOL);
}

/// A loop's element named like a variable assigned elsewhere (`x` below), and like the
/// parameter of a closure kept as written inside `stop_gradient`: the element is not that
/// variable, and is never written.
#[differentiable]
fn names_shared_with_an_element(w: &[f64]) -> f64 {
    let scale: f64 = nabla::stop_gradient(w.iter().map(|x| x.abs()).sum());
    let mut x = 0.0;
    for i in 0..2 {
        x += w[i];
    }
    let mut s = x;
    for x in w {
        s += x * x / scale;
    }
    s
}

#[test]
fn an_element_named_like_another_variable() {
    let w = [1.0, -2.0, 0.5];
    let (value, g) = names_shared_with_an_element_grad(&w);
    assert_eq!(value, names_shared_with_an_element(&w));
    // d/dw_i of (w0 + w1) + Σ w_i² / c, with c = Σ|w_i| held fixed.
    let c = 3.5;
    let want = [1.0 + 2.0 * w[0] / c, 1.0 + 2.0 * w[1] / c, 2.0 * w[2] / c];
    assert_close_slices("names shared with an element", &g, &want, 1e-12);
}

#[test]
fn early_return_paths() {
    // crosses at index 2; later elements get no gradient
    let xs = [0.5, 0.4, 0.9, 5.0, -3.0];
    let (v, (gx, gs)) = first_crossing_grad(&xs, 1.0, 1.5);
    assert_close("crossing value", v, 1.8 * 1.8, 1e-15);
    assert_close_slices("crossing dxs", &gx, &[3.6, 3.6, 3.6, 0.0, 0.0], 1e-15);
    assert_close("crossing dscale", gs, 2.0 * 1.8 * 1.8, 1e-14);
    for (xs, threshold) in [
        (vec![-0.5, 0.2, -0.4], 10.0),
        (vec![0.5, 0.2, 0.4], 10.0),
        (xs.to_vec(), 1.5),
    ] {
        let n = xs.len();
        let (_, (gx, gs)) = first_crossing_grad(&xs, 1.1, threshold);
        let mut params = xs.clone();
        params.push(1.1);
        let fd = fd_gradient(|p| first_crossing(&p[..n], p[n], threshold), &params);
        let mut got = gx.clone();
        got.push(gs);
        assert_close_slices("first_crossing vs FD", &got, &fd, FD_TOL);
    }
}

// =============================================================================================
// Array parameters `[f64; 3]`
// =============================================================================================

#[differentiable]
fn triple(p: [f64; 3], q: [f64; 3]) -> f64 {
    let mut dot = 0.0;
    for i in 0..3 {
        dot += p[i] * q[i];
    }
    let cross_z = p[0] * q[1] - p[1] * q[0];
    let sq: f64 = p.iter().map(|v| v * v).sum();
    dot.sin() + cross_z * cross_z + sq
}

#[test]
fn array_parameters() {
    let p = [0.3, -0.7, 1.1];
    let q = [0.9, 0.2, -0.4];
    let (v, (gp, gq)): (f64, ([f64; 3], [f64; 3])) = triple_grad(p, q);
    assert_eq!(v, triple(p, q));
    let fd = fd_gradient(
        |x| triple([x[0], x[1], x[2]], [x[3], x[4], x[5]]),
        &[p, q].concat(),
    );
    assert_close_slices("array params vs FD", &[gp, gq].concat(), &fd, FD_TOL);
    let dot: f64 = (0..3).map(|i| p[i] * q[i]).sum();
    let cz = p[0] * q[1] - p[1] * q[0];
    let want_p = [
        dot.cos() * q[0] + 2.0 * cz * q[1] + 2.0 * p[0],
        dot.cos() * q[1] - 2.0 * cz * q[0] + 2.0 * p[1],
        dot.cos() * q[2] + 2.0 * p[2],
    ];
    assert_close_slices("closed form", &gp, &want_p, 1e-14);
}

// =============================================================================================
// Iterator forms against index loops
// =============================================================================================

#[differentiable]
fn it_for_by_value(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for x in xs {
        s += (x * w).sin();
    }
    s
}

#[differentiable]
fn ix_for_by_value(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += (xs[i] * w).sin();
    }
    s
}

#[differentiable]
fn it_for_ref_pattern(xs: &[f64], w: f64) -> f64 {
    let mut s = 1.0;
    for &x in xs.iter() {
        s = s * w + x * x;
    }
    s
}

#[differentiable]
fn ix_for_ref_pattern(xs: &[f64], w: f64) -> f64 {
    let mut s = 1.0;
    for i in 0..xs.len() {
        s = s * w + xs[i] * xs[i];
    }
    s
}

#[differentiable]
fn it_enumerate(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for (i, x) in xs.iter().enumerate() {
        s += x * (w * (i as f64)).cos();
    }
    s
}

#[differentiable]
fn ix_enumerate(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += xs[i] * (w * (i as f64)).cos();
    }
    s
}

#[differentiable]
fn it_zip(xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in xs.iter().zip(ys) {
        s += a * b.exp() - b * a;
    }
    s
}

#[differentiable]
fn ix_zip(xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += xs[i] * ys[i].exp() - ys[i] * xs[i];
    }
    s
}

#[differentiable]
fn it_iter_mut(xs: &[f64], w: f64) -> f64 {
    let mut buf = vec![0.0; xs.len()];
    for (i, v) in buf.iter_mut().enumerate() {
        *v = xs[i] * w;
    }
    for v in buf.iter_mut() {
        *v += v.sin();
    }
    let mut s = 0.0;
    for v in &buf {
        s += v * v;
    }
    s
}

#[differentiable]
fn ix_iter_mut(xs: &[f64], w: f64) -> f64 {
    let mut buf = vec![0.0; xs.len()];
    for i in 0..xs.len() {
        buf[i] = xs[i] * w;
    }
    for i in 0..buf.len() {
        buf[i] += buf[i].sin();
    }
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * buf[i];
    }
    s
}

#[differentiable]
fn it_sum(xs: &[f64], w: f64) -> f64 {
    let t: f64 = xs.iter().sum();
    t * w
}

#[differentiable]
fn ix_sum(xs: &[f64], w: f64) -> f64 {
    let mut t = 0.0;
    for i in 0..xs.len() {
        t += xs[i];
    }
    t * w
}

#[differentiable]
fn it_map_sum(xs: &[f64], w: f64) -> f64 {
    xs.iter().map(|v| (v * w).tanh() * v).sum()
}

#[differentiable]
fn ix_map_sum(xs: &[f64], w: f64) -> f64 {
    let mut t = 0.0;
    for i in 0..xs.len() {
        t += (xs[i] * w).tanh() * xs[i];
    }
    t
}

#[differentiable]
fn it_zip_map_sum(xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter().zip(ys).map(|(a, b)| a * b).sum()
}

#[differentiable]
fn ix_zip_map_sum(xs: &[f64], ys: &[f64]) -> f64 {
    let mut t = 0.0;
    for i in 0..xs.len() {
        t += xs[i] * ys[i];
    }
    t
}

/// Several iterator forms in one function: a `map().sum()` into an annotated `let`, `enumerate`
/// and a `sum()` over a local buffer.
#[differentiable]
fn iter_mix(xs: &[f64], w: f64) -> f64 {
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
fn ix_iter_mix(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += xs[i] * w + xs[i] * (i as f64) + xs[i] * xs[i];
    }
    s
}

/// Ranges: `.rev()`, `.step_by(k)`, `a..=b`.
#[differentiable]
fn it_ranges(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in (0..xs.len()).rev() {
        s = s * w + xs[i];
    }
    for i in (0..xs.len()).step_by(2) {
        s += xs[i] * xs[i];
    }
    for i in 1..=3 {
        s += w * xs[i];
    }
    s
}

#[differentiable]
fn ix_ranges(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut i = xs.len();
    while i > 0 {
        i -= 1;
        s = s * w + xs[i];
    }
    let mut j = 0;
    while j < xs.len() {
        s += xs[j] * xs[j];
        j += 2;
    }
    for i in 1..4 {
        s += w * xs[i];
    }
    s
}

/// A `Vec<f64>` parameter and `for x in &xs`.
#[differentiable]
fn it_vec_param(xs: Vec<f64>, w: f64) -> f64 {
    let mut s = 0.0;
    for x in &xs {
        s += x * w * x;
    }
    s
}

/// Iterating over an array parameter by value.
#[differentiable]
fn it_array_by_value(p: [f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for x in p {
        s += (x + w).sin();
    }
    s
}

#[differentiable]
fn ix_array_by_value(p: [f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += (p[i] + w).sin();
    }
    s
}

#[track_caller]
fn same(what: &str, a: (f64, (Vec<f64>, f64)), b: (f64, (Vec<f64>, f64))) {
    assert_close(&format!("{what} value"), a.0, b.0, SAME_TOL);
    assert_close_slices(&format!("{what} d/dxs"), &a.1 .0, &b.1 .0, SAME_TOL);
    assert_close(&format!("{what} d/dw"), a.1 .1, b.1 .1, SAME_TOL);
}

#[track_caller]
fn same2(what: &str, a: (f64, (Vec<f64>, Vec<f64>)), b: (f64, (Vec<f64>, Vec<f64>))) {
    assert_close(&format!("{what} value"), a.0, b.0, SAME_TOL);
    assert_close_slices(&format!("{what} d/dxs"), &a.1 .0, &b.1 .0, SAME_TOL);
    assert_close_slices(&format!("{what} d/dys"), &a.1 .1, &b.1 .1, SAME_TOL);
}

fn fd_xs_w(f: impl Fn(&[f64], f64) -> f64, xs: &[f64], w: f64) -> Vec<f64> {
    let n = xs.len();
    let mut p = xs.to_vec();
    p.push(w);
    fd_gradient(|p| f(&p[..n], p[n]), &p)
}

#[test]
fn iterator_forms_equal_index_loops() {
    let xs = [0.4, -1.1, 0.7, 2.2, -0.3, 0.9];
    let ys = [1.3, 0.2, -0.6, 0.5, 0.8, -1.4];
    let w = 0.85;
    same(
        "for x in xs",
        it_for_by_value_grad(&xs, w),
        ix_for_by_value_grad(&xs, w),
    );
    same(
        "for &x in xs.iter()",
        it_for_ref_pattern_grad(&xs, w),
        ix_for_ref_pattern_grad(&xs, w),
    );
    same(
        "enumerate",
        it_enumerate_grad(&xs, w),
        ix_enumerate_grad(&xs, w),
    );
    same2("zip", it_zip_grad(&xs, &ys), ix_zip_grad(&xs, &ys));
    same(
        "iter_mut",
        it_iter_mut_grad(&xs, w),
        ix_iter_mut_grad(&xs, w),
    );
    same("iter().sum()", it_sum_grad(&xs, w), ix_sum_grad(&xs, w));
    same(
        "iter().map().sum()",
        it_map_sum_grad(&xs, w),
        ix_map_sum_grad(&xs, w),
    );
    same2(
        "zip().map().sum()",
        it_zip_map_sum_grad(&xs, &ys),
        ix_zip_map_sum_grad(&xs, &ys),
    );
    same("ranges", it_ranges_grad(&xs, w), ix_ranges_grad(&xs, w));
    same("mixed", iter_mix_grad(&xs, w), ix_iter_mix_grad(&xs, w));
    let (_, (gx, gw)) = iter_mix_grad(&xs, w);
    let want: Vec<f64> = (0..xs.len()).map(|i| w + i as f64 + 2.0 * xs[i]).collect();
    assert_close_slices("mixed d/dxs closed form", &gx, &want, SAME_TOL);
    assert_close("mixed d/dw closed form", gw, xs.iter().sum(), SAME_TOL);
    let (v, (gx, gw)) = it_vec_param_grad(xs.to_vec(), w);
    let want: Vec<f64> = xs.iter().map(|x| 2.0 * w * x).collect();
    assert_close(
        "Vec param value",
        v,
        xs.iter().map(|x| x * w * x).sum(),
        SAME_TOL,
    );
    assert_close_slices("Vec param d/dxs", &gx, &want, SAME_TOL);
    assert_close(
        "Vec param d/dw",
        gw,
        xs.iter().map(|x| x * x).sum(),
        SAME_TOL,
    );
    let p = [0.1, 0.5, -0.2, 1.0];
    let (va, (ga, gwa)) = it_array_by_value_grad(p, w);
    let (vb, (gb, gwb)) = ix_array_by_value_grad(p, w);
    assert_close("array by value", va, vb, SAME_TOL);
    assert_close_slices("array by value d/dp", &ga, &gb, SAME_TOL);
    assert_close("array by value d/dw", gwa, gwb, SAME_TOL);
}

#[test]
fn iterator_forms_match_fd() {
    let xs = [0.4, -1.1, 0.7, 2.2, -0.3, 0.9];
    let w = 0.85;
    type F = fn(&[f64], f64) -> f64;
    type G = fn(&[f64], f64) -> (f64, (Vec<f64>, f64));
    let cases: [(&str, F, G); 8] = [
        ("by value", it_for_by_value, it_for_by_value_grad),
        ("ref pattern", it_for_ref_pattern, it_for_ref_pattern_grad),
        ("enumerate", it_enumerate, it_enumerate_grad),
        ("iter_mut", it_iter_mut, it_iter_mut_grad),
        ("sum", it_sum, it_sum_grad),
        ("map sum", it_map_sum, it_map_sum_grad),
        ("ranges", it_ranges, it_ranges_grad),
        ("mixed", iter_mix, iter_mix_grad),
    ];
    for (name, f, g) in cases {
        let (_, (gx, gw)) = g(&xs, w);
        let mut got = gx;
        got.push(gw);
        assert_close_slices(name, &got, &fd_xs_w(f, &xs, w), FD_TOL);
    }
}

// =============================================================================================
// `Vec::with_capacity` + `push`, `continue`
// =============================================================================================

#[differentiable]
fn pushed(xs: &[f64], w: f64) -> f64 {
    let mut buf = Vec::with_capacity(xs.len());
    for i in 0..xs.len() {
        buf.push(xs[i] * xs[i] + w);
    }
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * (i as f64 + 1.0) * w;
    }
    s
}

#[differentiable]
fn skip_negatives(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        if xs[i] < 0.0 {
            continue;
        }
        s += (xs[i] * w).sin();
    }
    s
}

/// `continue` and `break` together in a `while` loop.
#[differentiable]
fn while_continue_break(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < xs.len() {
        let x = xs[i];
        i += 1;
        if x < 0.0 {
            continue;
        }
        s = s * w + x;
        if s > 4.0 {
            break;
        }
    }
    s
}

#[test]
fn with_capacity_push() {
    let xs = [0.5, -1.0, 2.0];
    let w = 0.3;
    let (v, (gx, gw)) = pushed_grad(&xs, w);
    assert_eq!(v, pushed(&xs, w));
    // s = w Σ (i+1)(x_i² + w)
    let want_x: Vec<f64> = (0..3).map(|i| w * (i as f64 + 1.0) * 2.0 * xs[i]).collect();
    let want_w: f64 = (0..3)
        .map(|i| (i as f64 + 1.0) * (xs[i] * xs[i] + 2.0 * w))
        .sum();
    assert_close_slices("d/dxs", &gx, &want_x, 1e-15);
    assert_close("d/dw", gw, want_w, 1e-15);
}

#[test]
fn continue_skips() {
    let xs = [0.5, -1.0, 2.0, -0.1, 0.7];
    let w = 0.6;
    let (_, (gx, gw)) = skip_negatives_grad(&xs, w);
    assert_eq!(gx[1], 0.0);
    assert_eq!(gx[3], 0.0);
    let mut got = gx;
    got.push(gw);
    assert_close_slices(
        "skip_negatives vs FD",
        &got,
        &fd_xs_w(skip_negatives, &xs, w),
        FD_TOL,
    );

    for xs in [vec![1.0, -2.0, 1.5, 3.0, 0.5, 2.0], vec![0.5, -1.0, 0.2]] {
        let (_, (gx, gw)) = while_continue_break_grad(&xs, 1.2);
        let mut got = gx;
        got.push(gw);
        assert_close_slices(
            "while continue/break vs FD",
            &got,
            &fd_xs_w(while_continue_break, &xs, 1.2),
            FD_TOL,
        );
    }
}

// =============================================================================================
// A differentiable call on a local buffer, nested loops that overwrite a needed value
// =============================================================================================

#[differentiable]
fn lse(xs: &[f64]) -> f64 {
    let mut mx = xs[0];
    for i in 1..xs.len() {
        mx = mx.max(xs[i]);
    }
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += (xs[i] - mx).exp();
    }
    s.ln() + mx
}

#[differentiable]
fn softmax_mixture(ws: &[f64], #[no_grad] data: &[f64]) -> f64 {
    let mut buf = vec![0.0; ws.len()];
    let mut total = 0.0;
    for t in 0..data.len() {
        for j in 0..ws.len() {
            buf[j] = ws[j] * data[t] - 0.5 * (j as f64);
        }
        total += lse(&buf);
    }
    total
}

#[differentiable]
fn nested_overwrite(a: f64, b: f64, #[no_grad] n: usize, #[no_grad] m: usize) -> f64 {
    let mut x = a;
    for i in 0..n {
        let mut y = x;
        for _ in 0..m {
            y = (y * b).sin() + x;
        }
        x = y * 0.5 + (i as f64) * 0.01;
    }
    x
}

#[test]
fn call_on_local_buffer() {
    let xs = [0.3, -2.0, 1.1];
    let (v, g) = lse_grad(&xs);
    let soft: Vec<f64> = xs.iter().map(|x| (x - v).exp()).collect();
    assert_close_slices("lse gradient is softmax", &g, &soft, 1e-15);
    let ws = [0.5, -0.2, 1.3, 0.1];
    let data = [0.7, -1.5, 2.0];
    let (_, gw) = softmax_mixture_grad(&ws, &data);
    let fd = fd_gradient(|p| softmax_mixture(p, &data), &ws);
    assert_close_slices("mixture vs FD", &gw, &fd, FD_TOL);
}

#[test]
fn nested_loops_overwriting() {
    let (_, (da, db)) = nested_overwrite_grad(0.4, 0.9, 20, 7);
    let fd = fd_gradient(|p| nested_overwrite(p[0], p[1], 20, 7), &[0.4, 0.9]);
    assert_close_slices("nested vs FD", &[da, db], &fd, FD_TOL);
}

#[test]
fn fd_helper_sanity() {
    assert!(rel_err(1.0, 1.0 + 1e-9) < 1e-9);
    assert_close("fd of sin", fd_scalar(f64::sin, 0.3), 0.3f64.cos(), 1e-9);
}

// =============================================================================================
// A local as a range bound, an `if` value inside a loop, a unit `if` after `continue`, reading
// an `iter_mut()` element through auto-deref
// =============================================================================================

#[differentiable]
fn sum_first(xs: &[f64], #[no_grad] m: usize) -> f64 {
    let n = m + 1;
    let mut s = 0.0;
    for i in 0..n {
        s += xs[i] * xs[i];
    }
    let last = m;
    for i in 1..=last {
        s += xs[i];
    }
    s
}

#[differentiable]
fn signed_squares(xs: &[f64], #[no_grad] y: &[f64]) -> f64 {
    let mut t = 0.0;
    for i in 0..xs.len() {
        let s = if y[i] > 0.5 { -xs[i] } else { 2.0 * xs[i] };
        t += s * xs[i];
    }
    t
}

#[differentiable]
fn positive_prefix(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        if xs[i] < 0.0 {
            continue;
        }
        s += xs[i] * xs[i];
        if s > 4.0 {
            break;
        }
    }
    s
}

#[differentiable]
fn sines(xs: &[f64]) -> f64 {
    let mut buf = vec![0.0; xs.len()];
    for (i, v) in buf.iter_mut().enumerate() {
        *v = xs[i];
    }
    for v in buf.iter_mut() {
        *v += v.sin();
    }
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += buf[i];
    }
    s
}

#[test]
fn local_variable_as_range_bound() {
    let xs = [1.0, 2.0, 3.0, -0.5];
    for m in 0..xs.len() {
        // Σ_{i ≤ m} x_i² + Σ_{1 ≤ i ≤ m} x_i
        let (v, g) = sum_first_grad(&xs, m);
        assert_eq!(v, sum_first(&xs, m));
        let want_v: f64 =
            (0..=m).map(|i| xs[i] * xs[i]).sum::<f64>() + (1..=m).map(|i| xs[i]).sum::<f64>();
        assert_close("sum_first value", v, want_v, 1e-15);
        let want: Vec<f64> = (0..xs.len())
            .map(|i| match i {
                0 => 2.0 * xs[0],
                i if i <= m => 2.0 * xs[i] + 1.0,
                _ => 0.0,
            })
            .collect();
        assert_close_slices(&format!("sum_first m = {m}"), &g, &want, 1e-15);
        let fd = fd_gradient(|p| sum_first(p, m), &xs);
        assert_close_slices(&format!("sum_first m = {m} vs FD"), &g, &fd, FD_TOL);
    }
}

#[test]
fn if_value_inside_a_loop() {
    let xs = [1.0, 2.0, 3.0, -0.7];
    let y = [1.0, 0.0, 1.0, 0.0];
    let (v, g) = signed_squares_grad(&xs, &y);
    assert_eq!(v, signed_squares(&xs, &y));
    assert_close("signed_squares value", v, -1.0 + 8.0 - 9.0 + 0.98, 1e-15);
    assert_close_slices(
        "signed_squares closed form",
        &g,
        &[-2.0, 8.0, -6.0, -2.8],
        1e-15,
    );
    let fd = fd_gradient(|p| signed_squares(p, &y), &xs);
    assert_close_slices("signed_squares vs FD", &g, &fd, FD_TOL);
}

#[test]
fn unit_if_break_after_continue() {
    // skips -2.0, breaks after 3.0 (1 + 2.25 + 9 > 4), never reads 0.5
    let xs = [1.0, -2.0, 1.5, 3.0, 0.5];
    let (v, g) = positive_prefix_grad(&xs);
    assert_eq!(v, positive_prefix(&xs));
    assert_eq!(v, 1.0 + 2.25 + 9.0);
    assert_eq!(g, vec![2.0, 0.0, 3.0, 6.0, 0.0]);
    for xs in [vec![0.5, -1.0, 0.2], vec![1.5, 0.3, -0.4, 1.2, 2.0]] {
        let (v, g) = positive_prefix_grad(&xs);
        assert_eq!(v, positive_prefix(&xs));
        let fd = fd_gradient(positive_prefix, &xs);
        assert_close_slices("positive_prefix vs FD", &g, &fd, FD_TOL);
    }
}

#[test]
fn iter_mut_element_read_through_auto_deref() {
    let xs = [0.0, 1.0, -0.4, 2.5];
    let (v, g) = sines_grad(&xs);
    assert_eq!(v, sines(&xs));
    assert_close(
        "sines value",
        v,
        xs.iter().map(|x| x + x.sin()).sum(),
        1e-15,
    );
    let want: Vec<f64> = xs.iter().map(|x| 1.0 + x.cos()).collect();
    assert_close_slices("sines closed form", &g, &want, 1e-15);
    assert_close_slices("sines vs FD", &g, &fd_gradient(sines, &xs), FD_TOL);
}

// =============================================================================================
// `NAME_grad` returns the primal value
// =============================================================================================

/// `(name, value from NAME_grad, value from NAME)` for every function in this file.
fn grad_values() -> Vec<(&'static str, f64, f64)> {
    let xs = [0.4, -1.1, 0.7, 2.2, -0.3, 0.9];
    let ys = [1.3, 0.2, -0.6, 0.5, 0.8, -1.4];
    let w = 0.85;
    let c = [0.5, -1.0, 2.0, 0.25];
    let modes = [0u8, 1, 2, 4, 0, 3, 1, 7];
    let data = logistic_data(3, 20, 1);
    let p3 = [0.3, -0.7, 1.1];
    let p4 = [0.1, 0.5, -0.2, 1.0];
    let c32 = [0.5f32, -1.0, 2.0, 0.25];
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (w32, x32, y32) = (to32(&data.w), to32(&data.x), to32(&data.y));
    let gmm = gmm_data(3, 2, 5, 4);
    vec![
        ("huber", huber_grad(2.0, 1.0).0, huber(2.0, 1.0)),
        (
            "huber_fit",
            huber_fit_grad(0.5, 0.1, &xs, &ys, 1.0).0,
            huber_fit(0.5, 0.1, &xs, &ys, 1.0),
        ),
        (
            "huber_fit_call",
            huber_fit_call_grad(0.5, 0.1, &xs, &ys, 1.0).0,
            huber_fit_call(0.5, 0.1, &xs, &ys, 1.0),
        ),
        (
            "oscillator",
            oscillator_grad(4.0, 0.3, 100, 0.01).0,
            oscillator(4.0, 0.3, 100, 0.01),
        ),
        (
            "oscillator_f32",
            oscillator_f32_grad(4.0, 0.3, 100, 0.01).0 as f64,
            oscillator_f32(4.0, 0.3, 100, 0.01) as f64,
        ),
        (
            "logistic_growth_rk2",
            logistic_growth_rk2_grad(0.9, 5.0, 0.1, 100, 0.01).0,
            logistic_growth_rk2(0.9, 5.0, 0.1, 100, 0.01),
        ),
        (
            "cos_fixed_point",
            cos_fixed_point_grad(0.8, 50).0,
            cos_fixed_point(0.8, 50),
        ),
        (
            "cos_fixed_point_f32",
            cos_fixed_point_f32_grad(0.8, 50).0 as f64,
            cos_fixed_point_f32(0.8, 50) as f64,
        ),
        (
            "cos_fixed_point_while",
            cos_fixed_point_while_grad(0.8).0,
            cos_fixed_point_while(0.8),
        ),
        (
            "horner_while",
            horner_while_grad(0.3, &c).0,
            horner_while(0.3, &c),
        ),
        (
            "prefix_sum_energy",
            prefix_sum_energy_grad(&xs).0,
            prefix_sum_energy(&xs),
        ),
        (
            "prefix_sum_energy_index",
            prefix_sum_energy_index_grad(&xs).0,
            prefix_sum_energy_index(&xs),
        ),
        (
            "logistic_loss",
            logistic_loss_grad(&data.w, data.b, &data.x, &data.y, 3, 0.1).0,
            logistic_loss(&data.w, data.b, &data.x, &data.y, 3, 0.1),
        ),
        (
            "matvec_loss",
            matvec_loss_grad(&xs, &ys[..3], 2, 3).0,
            matvec_loss(&xs, &ys[..3], 2, 3),
        ),
        ("loop_max", loop_max_grad(&xs, w).0, loop_max(&xs, w)),
        (
            "grow_until",
            grow_until_grad(0.4, 0.3).0,
            grow_until(0.4, 0.3),
        ),
        (
            "mode_program",
            mode_program_grad(0.6, 1.3, &modes).0,
            mode_program(0.6, 1.3, &modes),
        ),
        ("mode_value", mode_value_grad(0.6, 1).0, mode_value(0.6, 1)),
        (
            "first_crossing",
            first_crossing_grad(&xs, 1.0, 1.0).0,
            first_crossing(&xs, 1.0, 1.0),
        ),
        ("triple", triple_grad(p3, p3).0, triple(p3, p3)),
        (
            "ix_for_by_value",
            ix_for_by_value_grad(&xs, w).0,
            ix_for_by_value(&xs, w),
        ),
        (
            "ix_enumerate",
            ix_enumerate_grad(&xs, w).0,
            ix_enumerate(&xs, w),
        ),
        ("ix_zip", ix_zip_grad(&xs, &ys).0, ix_zip(&xs, &ys)),
        ("ix_sum", ix_sum_grad(&xs, w).0, ix_sum(&xs, w)),
        ("ix_map_sum", ix_map_sum_grad(&xs, w).0, ix_map_sum(&xs, w)),
        (
            "ix_zip_map_sum",
            ix_zip_map_sum_grad(&xs, &ys).0,
            ix_zip_map_sum(&xs, &ys),
        ),
        (
            "ix_array_by_value",
            ix_array_by_value_grad(p4, w).0,
            ix_array_by_value(p4, w),
        ),
        (
            "huber_f32",
            huber_f32_grad(2.0, 1.0).0 as f64,
            huber_f32(2.0, 1.0) as f64,
        ),
        (
            "horner_while_f32",
            horner_while_f32_grad(0.3, &c32).0 as f64,
            horner_while_f32(0.3, &c32) as f64,
        ),
        (
            "logistic_loss_f32",
            logistic_loss_f32_grad(&w32, 0.1, &x32, &y32, 3).0 as f64,
            logistic_loss_f32(&w32, 0.1, &x32, &y32, 3) as f64,
        ),
        (
            "it_for_by_value",
            it_for_by_value_grad(&xs, w).0,
            it_for_by_value(&xs, w),
        ),
        (
            "it_for_ref_pattern",
            it_for_ref_pattern_grad(&xs, w).0,
            it_for_ref_pattern(&xs, w),
        ),
        (
            "ix_for_ref_pattern",
            ix_for_ref_pattern_grad(&xs, w).0,
            ix_for_ref_pattern(&xs, w),
        ),
        (
            "it_enumerate",
            it_enumerate_grad(&xs, w).0,
            it_enumerate(&xs, w),
        ),
        ("it_zip", it_zip_grad(&xs, &ys).0, it_zip(&xs, &ys)),
        (
            "it_iter_mut",
            it_iter_mut_grad(&xs, w).0,
            it_iter_mut(&xs, w),
        ),
        (
            "ix_iter_mut",
            ix_iter_mut_grad(&xs, w).0,
            ix_iter_mut(&xs, w),
        ),
        ("it_sum", it_sum_grad(&xs, w).0, it_sum(&xs, w)),
        ("it_map_sum", it_map_sum_grad(&xs, w).0, it_map_sum(&xs, w)),
        (
            "it_zip_map_sum",
            it_zip_map_sum_grad(&xs, &ys).0,
            it_zip_map_sum(&xs, &ys),
        ),
        ("it_ranges", it_ranges_grad(&xs, w).0, it_ranges(&xs, w)),
        ("ix_ranges", ix_ranges_grad(&xs, w).0, ix_ranges(&xs, w)),
        (
            "it_vec_param",
            it_vec_param_grad(xs.to_vec(), w).0,
            it_vec_param(xs.to_vec(), w),
        ),
        (
            "it_array_by_value",
            it_array_by_value_grad(p4, w).0,
            it_array_by_value(p4, w),
        ),
        ("pushed", pushed_grad(&xs, w).0, pushed(&xs, w)),
        (
            "skip_negatives",
            skip_negatives_grad(&xs, w).0,
            skip_negatives(&xs, w),
        ),
        (
            "while_continue_break",
            while_continue_break_grad(&xs, w).0,
            while_continue_break(&xs, w),
        ),
        ("lse", lse_grad(&xs).0, lse(&xs)),
        (
            "softmax_mixture",
            softmax_mixture_grad(&xs[..3], &ys).0,
            softmax_mixture(&xs[..3], &ys),
        ),
        (
            "nested_overwrite",
            nested_overwrite_grad(0.4, 0.9, 5, 3).0,
            nested_overwrite(0.4, 0.9, 5, 3),
        ),
        ("mode_tail", mode_tail_grad(0.6, 1).0, mode_tail(0.6, 1)),
        ("iter_mix", iter_mix_grad(&xs, w).0, iter_mix(&xs, w)),
        (
            "ix_iter_mix",
            ix_iter_mix_grad(&xs, w).0,
            ix_iter_mix(&xs, w),
        ),
        ("sum_first", sum_first_grad(&xs, 3).0, sum_first(&xs, 3)),
        (
            "signed_squares",
            signed_squares_grad(&xs, &ys).0,
            signed_squares(&xs, &ys),
        ),
        (
            "positive_prefix",
            positive_prefix_grad(&xs).0,
            positive_prefix(&xs),
        ),
        ("sines", sines_grad(&xs).0, sines(&xs)),
        ("gmm_objective", gmm.gradient().0, gmm.objective()),
    ]
}

#[test]
fn grad_returns_primal_value() {
    for (name, got, want) in grad_values() {
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "{name}_grad value: {got} vs {want}"
        );
    }
}

// =============================================================================================
// Values declared without one, left unassigned on some paths
// =============================================================================================

/// Assigned in one branch, the other returns early.
#[differentiable]
fn declared_then_returned(x: &[f64]) -> f64 {
    let mut v: Vec<f64>;
    if x[0] > 0.0 {
        v = vec![x[0], x[1]];
    } else {
        return x[2] * x[2];
    }
    v[1] *= v[0];
    v[0] + v[1]
}

/// Assigned after a `continue`, or in one branch only and read there.
#[differentiable]
#[allow(clippy::needless_late_init)] // the late initialization is the point
fn declared_in_loops(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 1..x.len() {
        let y: f64;
        if x[k - 1] < -0.5 {
            continue;
        }
        y = x[k] * x[k - 1];
        s += y;
    }
    for k in 0..x.len() - 1 {
        let v: Vec<f64>;
        if x[k] > 0.0 {
            v = vec![x[k], x[k + 1]];
            s += v[0] * v[1];
        }
    }
    s
}

#[test]
fn values_declared_without_one() {
    for x in [[0.8, -0.3, 1.2, 0.5], [-0.9, 0.4, 0.7, -1.1]] {
        let (value, g) = declared_then_returned_grad(&x);
        assert_eq!(value, declared_then_returned(&x));
        let fd = fd_gradient(declared_then_returned, &x);
        assert_close_slices("declared then returned", &g, &fd, FD_TOL);
        let (value, g) = declared_in_loops_grad(&x);
        assert_eq!(value, declared_in_loops(&x));
        let fd = fd_gradient(declared_in_loops, &x);
        assert_close_slices("declared in loops", &g, &fd, FD_TOL);
    }
}
