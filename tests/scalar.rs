//! Straight-line scalar code and `if`/`else`: every construct in docs/guide.md that does
//! not involve loops, each gradient checked against central finite differences and, where one
//! exists, a hand-derived closed form, at several points (negative and near zero included where
//! the function is defined), in f64 and f32.

mod common;

use common::{check_exact, check_f32, check_fd, check_vjp, diff, rel_err};
use nabla::differentiable;
use std::f64::consts::{LN_10, LN_2, PI, TAU};

// ---------------------------------------------------------------------------------------------
// Every float method, alone, in method form (`m_NAME`) and path form (`p_NAME`).
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn m_exp(x: f64) -> f64 {
    x.exp()
}
#[differentiable]
fn p_exp(x: f64) -> f64 {
    f64::exp(x)
}
#[differentiable]
fn m_exp2(x: f64) -> f64 {
    x.exp2()
}
#[differentiable]
fn p_exp2(x: f64) -> f64 {
    f64::exp2(x)
}
#[differentiable]
fn m_exp_m1(x: f64) -> f64 {
    x.exp_m1()
}
#[differentiable]
fn p_exp_m1(x: f64) -> f64 {
    f64::exp_m1(x)
}
#[differentiable]
fn m_ln(x: f64) -> f64 {
    x.ln()
}
#[differentiable]
fn p_ln(x: f64) -> f64 {
    f64::ln(x)
}
#[differentiable]
fn m_log2(x: f64) -> f64 {
    x.log2()
}
#[differentiable]
fn p_log2(x: f64) -> f64 {
    f64::log2(x)
}
#[differentiable]
fn m_log10(x: f64) -> f64 {
    x.log10()
}
#[differentiable]
fn p_log10(x: f64) -> f64 {
    f64::log10(x)
}
#[differentiable]
fn m_ln_1p(x: f64) -> f64 {
    x.ln_1p()
}
#[differentiable]
fn p_ln_1p(x: f64) -> f64 {
    f64::ln_1p(x)
}
#[differentiable]
fn m_sqrt(x: f64) -> f64 {
    x.sqrt()
}
#[differentiable]
fn p_sqrt(x: f64) -> f64 {
    f64::sqrt(x)
}
#[differentiable]
fn m_cbrt(x: f64) -> f64 {
    x.cbrt()
}
#[differentiable]
fn p_cbrt(x: f64) -> f64 {
    f64::cbrt(x)
}
#[differentiable]
fn m_sin(x: f64) -> f64 {
    x.sin()
}
#[differentiable]
fn p_sin(x: f64) -> f64 {
    f64::sin(x)
}
#[differentiable]
fn m_cos(x: f64) -> f64 {
    x.cos()
}
#[differentiable]
fn p_cos(x: f64) -> f64 {
    f64::cos(x)
}
#[differentiable]
fn m_tan(x: f64) -> f64 {
    x.tan()
}
#[differentiable]
fn p_tan(x: f64) -> f64 {
    f64::tan(x)
}
#[differentiable]
fn m_asin(x: f64) -> f64 {
    x.asin()
}
#[differentiable]
fn p_asin(x: f64) -> f64 {
    f64::asin(x)
}
#[differentiable]
fn m_acos(x: f64) -> f64 {
    x.acos()
}
#[differentiable]
fn p_acos(x: f64) -> f64 {
    f64::acos(x)
}
#[differentiable]
fn m_atan(x: f64) -> f64 {
    x.atan()
}
#[differentiable]
fn p_atan(x: f64) -> f64 {
    f64::atan(x)
}
#[differentiable]
fn m_sinh(x: f64) -> f64 {
    x.sinh()
}
#[differentiable]
fn p_sinh(x: f64) -> f64 {
    f64::sinh(x)
}
#[differentiable]
fn m_cosh(x: f64) -> f64 {
    x.cosh()
}
#[differentiable]
fn p_cosh(x: f64) -> f64 {
    f64::cosh(x)
}
#[differentiable]
fn m_tanh(x: f64) -> f64 {
    x.tanh()
}
#[differentiable]
fn p_tanh(x: f64) -> f64 {
    f64::tanh(x)
}
#[differentiable]
fn m_asinh(x: f64) -> f64 {
    x.asinh()
}
#[differentiable]
fn p_asinh(x: f64) -> f64 {
    f64::asinh(x)
}
#[differentiable]
fn m_acosh(x: f64) -> f64 {
    x.acosh()
}
#[differentiable]
fn p_acosh(x: f64) -> f64 {
    f64::acosh(x)
}
#[differentiable]
fn m_atanh(x: f64) -> f64 {
    x.atanh()
}
#[differentiable]
fn p_atanh(x: f64) -> f64 {
    f64::atanh(x)
}
#[differentiable]
fn m_abs(x: f64) -> f64 {
    x.abs()
}
#[differentiable]
fn p_abs(x: f64) -> f64 {
    f64::abs(x)
}
#[differentiable]
fn m_recip(x: f64) -> f64 {
    x.recip()
}
#[differentiable]
fn p_recip(x: f64) -> f64 {
    f64::recip(x)
}
#[differentiable]
fn m_to_degrees(x: f64) -> f64 {
    x.to_degrees()
}
#[differentiable]
fn p_to_degrees(x: f64) -> f64 {
    f64::to_degrees(x)
}
#[differentiable]
fn m_to_radians(x: f64) -> f64 {
    x.to_radians()
}
#[differentiable]
fn p_to_radians(x: f64) -> f64 {
    f64::to_radians(x)
}
#[differentiable]
fn m_powi(x: f64) -> f64 {
    x.powi(3)
}
#[differentiable]
fn p_powi(x: f64) -> f64 {
    f64::powi(x, 3)
}

/// (name, [method form, path form], their grads, the plain std function, closed-form
/// derivative, points where the function is defined and smooth)
type Unary = (
    &'static str,
    [fn(f64) -> f64; 2],
    [fn(f64) -> (f64, f64); 2],
    fn(f64) -> f64,
    fn(f64) -> f64,
    &'static [f64],
);

const EVERYWHERE: &[f64] = &[-2.5, -0.7, -1e-3, 1e-3, 0.4, 1.9];
const POSITIVE: &[f64] = &[1e-3, 0.4, 1.9, 7.5];
const UNIT: &[f64] = &[-0.9, -0.3, -1e-3, 1e-3, 0.6];
const ABOVE_ONE: &[f64] = &[1.1, 1.5, 2.0, 9.0];
const ABOVE_MINUS_ONE: &[f64] = &[-0.9, -0.3, -1e-3, 1e-3, 0.6, 4.0];

fn cube(x: f64) -> f64 {
    x.powi(3)
}

const UNARY: &[Unary] = &[
    (
        "exp",
        [m_exp, p_exp],
        [m_exp_grad, p_exp_grad],
        f64::exp,
        f64::exp,
        EVERYWHERE,
    ),
    (
        "exp2",
        [m_exp2, p_exp2],
        [m_exp2_grad, p_exp2_grad],
        f64::exp2,
        |x| x.exp2() * LN_2,
        EVERYWHERE,
    ),
    (
        "exp_m1",
        [m_exp_m1, p_exp_m1],
        [m_exp_m1_grad, p_exp_m1_grad],
        f64::exp_m1,
        f64::exp,
        EVERYWHERE,
    ),
    (
        "ln",
        [m_ln, p_ln],
        [m_ln_grad, p_ln_grad],
        f64::ln,
        |x| 1.0 / x,
        POSITIVE,
    ),
    (
        "log2",
        [m_log2, p_log2],
        [m_log2_grad, p_log2_grad],
        f64::log2,
        |x| 1.0 / (x * LN_2),
        POSITIVE,
    ),
    (
        "log10",
        [m_log10, p_log10],
        [m_log10_grad, p_log10_grad],
        f64::log10,
        |x| 1.0 / (x * LN_10),
        POSITIVE,
    ),
    (
        "ln_1p",
        [m_ln_1p, p_ln_1p],
        [m_ln_1p_grad, p_ln_1p_grad],
        f64::ln_1p,
        |x| 1.0 / (1.0 + x),
        ABOVE_MINUS_ONE,
    ),
    (
        "sqrt",
        [m_sqrt, p_sqrt],
        [m_sqrt_grad, p_sqrt_grad],
        f64::sqrt,
        |x| 0.5 / x.sqrt(),
        POSITIVE,
    ),
    (
        "cbrt",
        [m_cbrt, p_cbrt],
        [m_cbrt_grad, p_cbrt_grad],
        f64::cbrt,
        |x| 1.0 / (3.0 * x.cbrt().powi(2)),
        EVERYWHERE,
    ),
    (
        "sin",
        [m_sin, p_sin],
        [m_sin_grad, p_sin_grad],
        f64::sin,
        f64::cos,
        EVERYWHERE,
    ),
    (
        "cos",
        [m_cos, p_cos],
        [m_cos_grad, p_cos_grad],
        f64::cos,
        |x| -x.sin(),
        EVERYWHERE,
    ),
    (
        "tan",
        [m_tan, p_tan],
        [m_tan_grad, p_tan_grad],
        f64::tan,
        |x| 1.0 / x.cos().powi(2),
        EVERYWHERE,
    ),
    (
        "asin",
        [m_asin, p_asin],
        [m_asin_grad, p_asin_grad],
        f64::asin,
        |x| 1.0 / (1.0 - x * x).sqrt(),
        UNIT,
    ),
    (
        "acos",
        [m_acos, p_acos],
        [m_acos_grad, p_acos_grad],
        f64::acos,
        |x| -1.0 / (1.0 - x * x).sqrt(),
        UNIT,
    ),
    (
        "atan",
        [m_atan, p_atan],
        [m_atan_grad, p_atan_grad],
        f64::atan,
        |x| 1.0 / (1.0 + x * x),
        EVERYWHERE,
    ),
    (
        "sinh",
        [m_sinh, p_sinh],
        [m_sinh_grad, p_sinh_grad],
        f64::sinh,
        f64::cosh,
        EVERYWHERE,
    ),
    (
        "cosh",
        [m_cosh, p_cosh],
        [m_cosh_grad, p_cosh_grad],
        f64::cosh,
        f64::sinh,
        EVERYWHERE,
    ),
    (
        "tanh",
        [m_tanh, p_tanh],
        [m_tanh_grad, p_tanh_grad],
        f64::tanh,
        |x| 1.0 / x.cosh().powi(2),
        EVERYWHERE,
    ),
    (
        "asinh",
        [m_asinh, p_asinh],
        [m_asinh_grad, p_asinh_grad],
        f64::asinh,
        |x| 1.0 / (x * x + 1.0).sqrt(),
        EVERYWHERE,
    ),
    (
        "acosh",
        [m_acosh, p_acosh],
        [m_acosh_grad, p_acosh_grad],
        f64::acosh,
        |x| 1.0 / (x * x - 1.0).sqrt(),
        ABOVE_ONE,
    ),
    (
        "atanh",
        [m_atanh, p_atanh],
        [m_atanh_grad, p_atanh_grad],
        f64::atanh,
        |x| 1.0 / (1.0 - x * x),
        UNIT,
    ),
    (
        "abs",
        [m_abs, p_abs],
        [m_abs_grad, p_abs_grad],
        f64::abs,
        |x| if x < 0.0 { -1.0 } else { 1.0 },
        EVERYWHERE,
    ),
    (
        "recip",
        [m_recip, p_recip],
        [m_recip_grad, p_recip_grad],
        f64::recip,
        |x| -1.0 / (x * x),
        EVERYWHERE,
    ),
    (
        "to_degrees",
        [m_to_degrees, p_to_degrees],
        [m_to_degrees_grad, p_to_degrees_grad],
        f64::to_degrees,
        |_| 180.0 / PI,
        EVERYWHERE,
    ),
    (
        "to_radians",
        [m_to_radians, p_to_radians],
        [m_to_radians_grad, p_to_radians_grad],
        f64::to_radians,
        |_| PI / 180.0,
        EVERYWHERE,
    ),
    (
        "powi(3)",
        [m_powi, p_powi],
        [m_powi_grad, p_powi_grad],
        cube,
        |x| 3.0 * x * x,
        EVERYWHERE,
    ),
];

#[test]
fn every_unary_method_in_both_forms() {
    for &(name, [primal_m, primal_p], [method, path], plain, closed, points) in UNARY {
        for &x in points {
            assert_eq!(primal_m(x).to_bits(), plain(x).to_bits(), "{name} at {x}");
            assert_eq!(primal_p(x).to_bits(), plain(x).to_bits(), "{name} at {x}");
            let (vm, gm) = method(x);
            let (vp, gp) = path(x);
            assert_eq!(vm.to_bits(), plain(x).to_bits(), "{name}: value at {x}");
            assert_eq!(
                vp.to_bits(),
                plain(x).to_bits(),
                "{name}: path-form value at {x}"
            );
            assert_eq!(
                gm.to_bits(),
                gp.to_bits(),
                "{name}: method and path forms differ at {x}"
            );
            check_exact([gm], [closed(x)], [x], name);
            check_fd(|[x]| plain(x), [x], [gm], name);
        }
    }
}

#[test]
fn unary_vjp_scales_the_gradient() {
    for (x, c) in [(0.3, -2.5), (-1.2, 0.75), (1e-3, 4.0)] {
        let (v, g) = m_sin_grad(x);
        let (vv, gv) = m_sin_vjp(x, c);
        assert_eq!(v.to_bits(), vv.to_bits());
        check_vjp(gv, c, g, "unary");
        let (_, g) = p_atan_grad(x);
        let (_, gv) = p_atan_vjp(x, c);
        check_vjp(gv, c, g, "unary");
    }
}

#[differentiable]
fn m_powi_param(x: f64, n: i32) -> f64 {
    x.powi(n)
}
#[differentiable]
fn p_powi_param(x: f64, n: i32) -> f64 {
    f64::powi(x, n)
}

#[test]
fn powi_with_an_integer_parameter() {
    // `n: i32` is inactive: the gradient is bare.
    for n in [-3, -1, 0, 1, 2, 5] {
        for x in [-1.7, -0.4, 0.3, 2.2] {
            let (v, g) = m_powi_param_grad(x, n);
            let (vp, gp) = p_powi_param_grad(x, n);
            assert_eq!(v.to_bits(), x.powi(n).to_bits());
            assert_eq!(m_powi_param(x, n).to_bits(), v.to_bits());
            assert_eq!(p_powi_param(x, n).to_bits(), v.to_bits());
            assert_eq!(vp.to_bits(), v.to_bits());
            assert_eq!(gp.to_bits(), g.to_bits());
            let closed = if n == 0 {
                0.0
            } else {
                f64::from(n) * x.powi(n - 1)
            };
            check_exact([g], [closed], [x], &format!("powi({n})"));
            check_fd(|[x]| x.powi(n), [x], [g], &format!("powi({n})"));
        }
    }
}

// Methods of two and three operands, both operands active.

#[differentiable]
fn m_log(x: f64, b: f64) -> f64 {
    x.log(b)
}
#[differentiable]
fn p_log(x: f64, b: f64) -> f64 {
    f64::log(x, b)
}
#[differentiable]
fn m_powf(x: f64, y: f64) -> f64 {
    x.powf(y)
}
#[differentiable]
fn p_powf(x: f64, y: f64) -> f64 {
    f64::powf(x, y)
}
#[differentiable]
fn m_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}
#[differentiable]
fn p_atan2(y: f64, x: f64) -> f64 {
    f64::atan2(y, x)
}
#[differentiable]
fn m_max(x: f64, y: f64) -> f64 {
    x.max(y)
}
#[differentiable]
fn p_max(x: f64, y: f64) -> f64 {
    f64::max(x, y)
}
#[differentiable]
fn m_min(x: f64, y: f64) -> f64 {
    x.min(y)
}
#[differentiable]
fn p_min(x: f64, y: f64) -> f64 {
    f64::min(x, y)
}
#[differentiable]
fn m_hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}
#[differentiable]
fn p_hypot(x: f64, y: f64) -> f64 {
    f64::hypot(x, y)
}

type Binary = (
    &'static str,
    [fn(f64, f64) -> f64; 2],
    [fn(f64, f64) -> (f64, (f64, f64)); 2],
    fn(f64, f64) -> f64,
    fn(f64, f64) -> [f64; 2],
    &'static [(f64, f64)],
);

const POSITIVE_PAIRS: &[(f64, f64)] =
    &[(1.7, 2.3), (0.4, 3.1), (2.9, 0.6), (5.0, 1.5), (1e-2, 0.3)];
const ANY_PAIRS: &[(f64, f64)] = &[
    (1.7, 2.3),
    (-0.4, 3.1),
    (2.9, -0.6),
    (-5.0, -1.5),
    (1e-3, -2e-3),
    (-1e-3, 0.5),
];

const BINARY: &[Binary] = &[
    (
        "log",
        [m_log, p_log],
        [m_log_grad, p_log_grad],
        f64::log,
        |x, b| [1.0 / (x * b.ln()), -x.ln() / (b * b.ln() * b.ln())],
        POSITIVE_PAIRS,
    ),
    (
        "powf",
        [m_powf, p_powf],
        [m_powf_grad, p_powf_grad],
        f64::powf,
        |x, y| [y * x.powf(y - 1.0), x.powf(y) * x.ln()],
        POSITIVE_PAIRS,
    ),
    (
        "atan2",
        [m_atan2, p_atan2],
        [m_atan2_grad, p_atan2_grad],
        f64::atan2,
        |y, x| {
            let r2 = x * x + y * y;
            [x / r2, -y / r2]
        },
        ANY_PAIRS,
    ),
    (
        "max",
        [m_max, p_max],
        [m_max_grad, p_max_grad],
        f64::max,
        |x, y| {
            if x > y {
                [1.0, 0.0]
            } else {
                [0.0, 1.0]
            }
        },
        ANY_PAIRS,
    ),
    (
        "min",
        [m_min, p_min],
        [m_min_grad, p_min_grad],
        f64::min,
        |x, y| {
            if x < y {
                [1.0, 0.0]
            } else {
                [0.0, 1.0]
            }
        },
        ANY_PAIRS,
    ),
    (
        "hypot",
        [m_hypot, p_hypot],
        [m_hypot_grad, p_hypot_grad],
        f64::hypot,
        |x, y| {
            let h = (x * x + y * y).sqrt();
            [x / h, y / h]
        },
        ANY_PAIRS,
    ),
];

#[test]
fn every_binary_method_in_both_forms() {
    for &(name, [primal_m, primal_p], [method, path], plain, closed, points) in BINARY {
        for &(a, b) in points {
            assert_eq!(primal_m(a, b).to_bits(), plain(a, b).to_bits(), "{name}");
            assert_eq!(primal_p(a, b).to_bits(), plain(a, b).to_bits(), "{name}");
            let (vm, (ga, gb)) = method(a, b);
            let (vp, (pa, pb)) = path(a, b);
            assert_eq!(
                vm.to_bits(),
                plain(a, b).to_bits(),
                "{name}: value at {a}, {b}"
            );
            assert_eq!(
                vp.to_bits(),
                vm.to_bits(),
                "{name}: path-form value at {a}, {b}"
            );
            assert_eq!(
                (ga.to_bits(), gb.to_bits()),
                (pa.to_bits(), pb.to_bits()),
                "{name}"
            );
            check_exact([ga, gb], closed(a, b), [a, b], name);
            check_fd(|[a, b]| plain(a, b), [a, b], [ga, gb], name);
        }
    }
}

#[test]
fn max_and_min_at_a_tie_split_the_gradient() {
    // The runtime's documented convention: at a tie each operand gets half.
    assert_eq!(m_max_grad(1.5, 1.5), (1.5, (0.5, 0.5)));
    assert_eq!(p_min_grad(-2.0, -2.0), (-2.0, (0.5, 0.5)));
}

#[differentiable]
fn m_clamp(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi)
}
#[differentiable]
fn p_clamp(x: f64, lo: f64, hi: f64) -> f64 {
    f64::clamp(x, lo, hi)
}
#[differentiable]
fn m_mul_add(x: f64, a: f64, b: f64) -> f64 {
    x.mul_add(a, b)
}
#[differentiable]
fn p_mul_add(x: f64, a: f64, b: f64) -> f64 {
    f64::mul_add(x, a, b)
}

#[test]
fn clamp_in_both_forms() {
    // below, inside and above the interval, negative bounds included
    for (x, lo, hi, closed) in [
        (-3.0, -1.0, 2.0, [0.0, 1.0, 0.0]),
        (-0.5, -1.0, 2.0, [1.0, 0.0, 0.0]),
        (1e-3, -1e-2, 1e-2, [1.0, 0.0, 0.0]),
        (0.7, -1.0, 2.0, [1.0, 0.0, 0.0]),
        (5.0, -1.0, 2.0, [0.0, 0.0, 1.0]),
    ] {
        let (v, (gx, glo, ghi)) = m_clamp_grad(x, lo, hi);
        let (vp, gp) = p_clamp_grad(x, lo, hi);
        assert_eq!(v.to_bits(), x.clamp(lo, hi).to_bits());
        assert_eq!(m_clamp(x, lo, hi).to_bits(), v.to_bits());
        assert_eq!(p_clamp(x, lo, hi).to_bits(), v.to_bits());
        assert_eq!(vp.to_bits(), v.to_bits());
        assert_eq!(gp, (gx, glo, ghi));
        check_exact([gx, glo, ghi], closed, [x, lo, hi], "clamp");
        check_fd(
            |[x, lo, hi]| x.clamp(lo, hi),
            [x, lo, hi],
            [gx, glo, ghi],
            "clamp",
        );
    }
}

#[test]
fn mul_add_in_both_forms() {
    for (x, a, b) in [(1.5, -2.0, 0.25), (-0.3, 0.7, -4.0), (1e-3, 1e-3, 1e-3)] {
        let (v, (gx, ga, gb)) = m_mul_add_grad(x, a, b);
        let (vp, gp) = p_mul_add_grad(x, a, b);
        assert_eq!(v.to_bits(), x.mul_add(a, b).to_bits());
        assert_eq!(m_mul_add(x, a, b).to_bits(), v.to_bits());
        assert_eq!(p_mul_add(x, a, b).to_bits(), v.to_bits());
        assert_eq!(vp.to_bits(), v.to_bits());
        assert_eq!(gp, (gx, ga, gb));
        check_exact([gx, ga, gb], [a, x, 1.0], [x, a, b], "mul_add");
        check_fd(
            |[x, a, b]| x.mul_add(a, b),
            [x, a, b],
            [gx, ga, gb],
            "mul_add",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `let` forms, assignment, compound assignment, operators, literals and constants.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn lets(x: f64, y: f64) -> f64 {
    let a: f64 = x * y;
    let (b, c) = (x + y, x - y);
    let mut d = a * b;
    d = c - d;
    let e = d;
    e * 2.0
}

fn lets_twin(x: f64, y: f64) -> f64 {
    let a: f64 = x * y;
    let (b, c) = (x + y, x - y);
    let mut d = a * b;
    d = c - d;
    let e = d;
    e * 2.0
}

#[test]
fn let_forms() {
    // f = 2 (x - y - x y (x + y))
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gx, gy)) = lets_grad(x, y);
        assert_eq!(v.to_bits(), lets_twin(x, y).to_bits());
        let closed = [
            2.0 * (1.0 - 2.0 * x * y - y * y),
            -2.0 * (1.0 + x * x + 2.0 * x * y),
        ];
        check_exact([gx, gy], closed, [x, y], "lets");
        check_fd(|[x, y]| lets_twin(x, y), [x, y], [gx, gy], "lets");
    }
}

#[differentiable]
#[allow(clippy::let_and_return)]
fn more_lets(x: f64, y: f64) -> f64 {
    let (a, b, c) = (x * y, x.sin(), y * y);
    let (mut p, q): (f64, f64) = (a + c, b * c);
    p *= q;
    let r: f64 = p - a;
    let x = x * 3.0; // shadows the parameter
    let s = 2.5e-1_f64 * r + x;
    s
}

fn more_lets_twin(x: f64, y: f64) -> f64 {
    let (a, b, c) = (x * y, x.sin(), y * y);
    let (mut p, q): (f64, f64) = (a + c, b * c);
    p *= q;
    let r: f64 = p - a;
    let x = x * 3.0;
    #[allow(clippy::let_and_return)]
    let s = 2.5e-1_f64 * r + x;
    s
}

#[test]
fn tuple_patterns_ascription_and_shadowing() {
    // f = ((xy + y²) sin(x) y² - xy)/4 + 3x
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gx, gy)) = more_lets_grad(x, y);
        assert_eq!(v.to_bits(), more_lets_twin(x, y).to_bits());
        let (s, c) = x.sin_cos();
        let p = x * y + y * y;
        let dx = (y * s * y * y + p * c * y * y - y) / 4.0 + 3.0;
        let dy = ((x + 2.0 * y) * s * y * y + p * s * 2.0 * y - x) / 4.0;
        check_exact([gx, gy], [dx, dy], [x, y], "more_lets");
        check_fd(|[x, y]| more_lets_twin(x, y), [x, y], [gx, gy], "more_lets");
    }
}

#[differentiable]
fn mut_param(mut x: f64, y: f64) -> f64 {
    x = (x - 0.5) * y;
    x += y;
    x * x
}

#[test]
fn a_mut_parameter_is_a_local() {
    // f = ((x - 0.5) y + y)² = ((x + 0.5) y)²
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3]] {
        let (v, (gx, gy)) = mut_param_grad(x, y);
        let u = (x - 0.5) * y + y;
        assert_eq!(v.to_bits(), (u * u).to_bits());
        assert_eq!(mut_param(x, y).to_bits(), v.to_bits());
        check_exact(
            [gx, gy],
            [2.0 * u * y, 2.0 * u * (x + 0.5)],
            [x, y],
            "mut_param",
        );
    }
}

#[differentiable]
fn compound(x: f64, y: f64) -> f64 {
    let mut s = x;
    s += y;
    s *= x;
    s -= y * y;
    s /= y;
    s
}

fn compound_twin(x: f64, y: f64) -> f64 {
    let mut s = x;
    s += y;
    s *= x;
    s -= y * y;
    s /= y;
    s
}

#[test]
fn compound_assignment() {
    // s = ((x + y) x - y²) / y = x²/y + x - y
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-2], [-2.0, -3.0]] {
        let (v, (gx, gy)) = compound_grad(x, y);
        assert_eq!(v.to_bits(), compound_twin(x, y).to_bits());
        let closed = [2.0 * x / y + 1.0, -x * x / (y * y) - 1.0];
        check_exact([gx, gy], closed, [x, y], "compound");
        check_fd(|[x, y]| compound_twin(x, y), [x, y], [gx, gy], "compound");
    }
}

#[differentiable]
fn operators(x: f64, y: f64, z: f64) -> f64 {
    -(x - y) * (z + x) / (y * z) + -x - (-(-y))
}

#[test]
fn arithmetic_unary_minus_and_parentheses() {
    // f = -(x - y)(z + x)/(y z) - x - y
    for [x, y, z] in [
        [0.5, 2.0, 1.5],
        [-1.3, 0.7, -0.2],
        [1e-3, -2e-2, 3.0],
        [-2.0, -3.0, -1.0],
    ] {
        let (v, (gx, gy, gz)) = operators_grad(x, y, z);
        let plain = |[x, y, z]: [f64; 3]| -(x - y) * (z + x) / (y * z) + -x - (-(-y));
        assert_eq!(v.to_bits(), plain([x, y, z]).to_bits());
        assert_eq!(operators(x, y, z).to_bits(), v.to_bits());
        let yz = y * z;
        let dx = -((z + x) + (x - y)) / yz - 1.0;
        let dy = (z + x) / yz + (x - y) * (z + x) / (y * yz) - 1.0;
        let dz = -(x - y) / yz + (x - y) * (z + x) / (z * yz);
        check_exact([gx, gy, gz], [dx, dy, dz], [x, y, z], "operators");
        check_fd(plain, [x, y, z], [gx, gy, gz], "operators");
    }
}

#[differentiable]
fn constants(x: f64) -> f64 {
    let a = std::f64::consts::PI * x * x;
    let b = core::f64::consts::E * x;
    let c = TAU + x / std::f64::consts::SQRT_2;
    let d = 2. * x + 1e-1 * x + 3f64 + 0.5_f64 * x + 7.0f64;
    let e = f64::EPSILON * x + f64::MAX.min(x);
    a + b + c + d + e
}

#[test]
fn literals_and_constants() {
    // f = π x² + e x + τ + x/√2 + 2.6x + 10 + ε x + x
    for x in [-2.5, -1e-3, 1e-3, 0.4, 3.0] {
        let (_, g) = constants_grad(x);
        let closed = 2.0 * PI * x
            + std::f64::consts::E
            + std::f64::consts::FRAC_1_SQRT_2
            + 2.6
            + f64::EPSILON
            + 1.0;
        check_exact([g], [closed], [x], "constants");
        check_fd(|[x]| constants(x), [x], [g], "constants");
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks, `if`/`else if`/`else`.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn blocks(x: f64, y: f64) -> f64 {
    let a = {
        let t = x * y;
        let u = {
            let v = t + 1.0;
            v * v
        };
        u - t
    };
    let b = a;
    {
        let a = a * 0.5; // shadows the outer `a` inside this block only
        let c = a.sqrt() + b;
        c + x
    }
}

fn blocks_twin(x: f64, y: f64) -> f64 {
    let a = {
        let t = x * y;
        let u = {
            let v = t + 1.0;
            v * v
        };
        u - t
    };
    let b = a;
    {
        let a = a * 0.5;
        let c = a.sqrt() + b;
        c + x
    }
}

#[test]
fn nested_blocks() {
    // a = (t + 1)² - t = t² + t + 1 with t = x y (always positive); f = sqrt(a/2) + a + x
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gx, gy)) = blocks_grad(x, y);
        assert_eq!(v.to_bits(), blocks_twin(x, y).to_bits());
        let t = x * y;
        let a = t * t + t + 1.0;
        let da = 0.25 / (a / 2.0).sqrt() + 1.0; // df/da
        let dt = da * (2.0 * t + 1.0);
        check_exact([gx, gy], [dt * y + 1.0, dt * x], [x, y], "blocks");
        check_fd(|[x, y]| blocks_twin(x, y), [x, y], [gx, gy], "blocks");
    }
}

#[differentiable]
fn piecewise(x: f64) -> f64 {
    if x < -1.0 {
        -x * x
    } else if x < 1.0 {
        x.powi(3)
    } else {
        2.0 * x.ln() + 1.0
    }
}

#[test]
fn if_else_if_else_expression() {
    for x in [-3.0, -1.5, -0.5, -1e-3, 1e-3, 0.5, 1.5, 4.0] {
        let (v, g) = piecewise_grad(x);
        let closed = if x < -1.0 {
            -2.0 * x
        } else if x < 1.0 {
            3.0 * x * x
        } else {
            2.0 / x
        };
        assert_eq!(v.to_bits(), piecewise(x).to_bits());
        check_exact([g], [closed], [x], "piecewise");
        check_fd(|[x]| piecewise(x), [x], [g], "piecewise");
    }
}

#[differentiable]
fn branch_statements(x: f64, y: f64) -> f64 {
    let mut acc = x * y;
    if x > y {
        acc += x.sin();
    } else if x > 0.0 {
        acc *= y;
        acc -= x;
    } else {
        let t = acc.exp();
        acc = t + y;
    }
    if y < 0.0 {
        acc /= 2.0;
    }
    acc
}

fn branch_statements_twin(x: f64, y: f64) -> f64 {
    let mut acc = x * y;
    if x > y {
        acc += x.sin();
    } else if x > 0.0 {
        acc *= y;
        acc -= x;
    } else {
        let t = acc.exp();
        acc = t + y;
    }
    if y < 0.0 {
        acc /= 2.0;
    }
    acc
}

#[test]
fn if_else_if_else_statements() {
    for [x, y] in [
        [2.0, 1.0],
        [2.0, -1.0],
        [0.5, 2.0],
        [1e-3, 3.0],
        [-0.5, 1.0],
        [-1e-3, 2e-3],
        [-2.0, -1.0],
    ] {
        let (v, (gx, gy)) = branch_statements_grad(x, y);
        assert_eq!(v.to_bits(), branch_statements_twin(x, y).to_bits());
        let [mut dx, mut dy] = if x > y {
            [y + x.cos(), x]
        } else if x > 0.0 {
            [y * y - 1.0, 2.0 * x * y]
        } else {
            let t = (x * y).exp();
            [t * y, t * x + 1.0]
        };
        if y < 0.0 {
            dx /= 2.0;
            dy /= 2.0;
        }
        check_exact([gx, gy], [dx, dy], [x, y], "branch_statements");
        check_fd(
            |[x, y]| branch_statements_twin(x, y),
            [x, y],
            [gx, gy],
            "branch_statements",
        );
    }
}

#[test]
fn value_of_a_variable_reassigned_in_an_if() {
    // `acc` is overwritten in the branches (its old value saved for the reverse sweep); both
    // entry points return its final value.
    for [x, y] in [
        [2.0, 1.0],
        [2.0, -1.0],
        [0.5, 2.0],
        [-0.5, 1.0],
        [-2.0, -1.0],
    ] {
        let want = branch_statements_twin(x, y);
        let (v, _) = branch_statements_grad(x, y);
        assert_eq!(
            v.to_bits(),
            want.to_bits(),
            "grad value at {x}, {y}: {v} vs {want}"
        );
        let (v, _) = branch_statements_vjp(x, y, 1.5);
        assert_eq!(
            v.to_bits(),
            want.to_bits(),
            "vjp value at {x}, {y}: {v} vs {want}"
        );
    }
}

#[differentiable]
fn if_in_expressions(x: f64, y: f64, #[no_grad] flip: bool) -> f64 {
    let g = if x > 0.0 { x } else { -x.sin() };
    let s = 1.0 + g * y;
    let t = if flip {
        if y > 1.0 {
            s * y
        } else {
            s - y
        }
    } else {
        s / 2.0
    };
    t * x
}

#[test]
fn nested_if_expressions_and_a_bool_condition() {
    let plain = |[x, y]: [f64; 2], flip: bool| {
        let s = 1.0 + (if x > 0.0 { x } else { -x.sin() }) * y;
        let t = if flip {
            if y > 1.0 {
                s * y
            } else {
                s - y
            }
        } else {
            s / 2.0
        };
        t * x
    };
    for flip in [false, true] {
        for [x, y] in [
            [0.5, 2.0],
            [-1.3, 0.7],
            [1e-3, -2e-3],
            [-2.0, 3.0],
            [0.8, 0.3],
        ] {
            let (v, (gx, gy)) = if_in_expressions_grad(x, y, flip);
            assert_eq!(v.to_bits(), plain([x, y], flip).to_bits());
            assert_eq!(if_in_expressions(x, y, flip).to_bits(), v.to_bits());
            // s = 1 + g(x) y with g = x or -sin x
            let (g, dg) = if x > 0.0 {
                (x, 1.0)
            } else {
                (-x.sin(), -x.cos())
            };
            let s = 1.0 + g * y;
            let (t, dt_ds, dt_dy) = if flip {
                if y > 1.0 {
                    (s * y, y, s)
                } else {
                    (s - y, 1.0, -1.0)
                }
            } else {
                (s / 2.0, 0.5, 0.0)
            };
            let dx = dt_ds * dg * y * x + t;
            let dy = (dt_ds * g + dt_dy) * x;
            check_exact([gx, gy], [dx, dy], [x, y], "if_in_expressions");
            check_fd(|p| plain(p, flip), [x, y], [gx, gy], "if_in_expressions");
        }
    }
}

#[differentiable]
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

#[test]
fn stable_softplus() {
    // d/dx ln(1 + e^x) = σ(x)
    for x in [-40.0, -3.0, -1e-3, 0.0, 1e-3, 2.5, 40.0] {
        let (v, g) = softplus_grad(x);
        assert_eq!(v.to_bits(), softplus(x).to_bits());
        check_exact([g], [1.0 / (1.0 + (-x).exp())], [x], "softplus");
        check_fd(|[x]| softplus(x), [x], [g], "softplus");
    }
}

// ---------------------------------------------------------------------------------------------
// Realistic compositions of the methods.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn gaussian_log_pdf(x: f64, mu: f64, sigma: f64) -> f64 {
    let z = (x - mu) / sigma;
    -0.5 * z.powi(2) - sigma.ln() - 0.5 * (2.0 * PI).ln()
}

#[test]
fn gaussian_log_density() {
    for [x, mu, sigma] in [
        [0.3, -0.2, 1.5],
        [-2.0, 1.0, 0.1],
        [1e-3, 0.0, 1e-2],
        [4.0, 3.0, 7.0],
    ] {
        let (v, (gx, gmu, gs)) = gaussian_log_pdf_grad(x, mu, sigma);
        assert_eq!(v.to_bits(), gaussian_log_pdf(x, mu, sigma).to_bits());
        let z = (x - mu) / sigma;
        let closed = [-z / sigma, z / sigma, z * z / sigma - 1.0 / sigma];
        check_exact([gx, gmu, gs], closed, [x, mu, sigma], "gaussian_log_pdf");
        check_fd(
            |[x, m, s]| gaussian_log_pdf(x, m, s),
            [x, mu, sigma],
            [gx, gmu, gs],
            "gaussian",
        );
    }
}

#[differentiable]
fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), f64::to_radians(lat2));
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * f64::cos(p2) * f64::powi((dl / 2.0).sin(), 2);
    let c = 2.0 * a.sqrt().asin();
    6371.0 * c
}

#[test]
fn haversine_distance() {
    // Paris–London is about 344 km.
    let (d, _) = haversine_grad(48.8566, 2.3522, 51.5074, -0.1278);
    assert!((d - 343.5).abs() < 1.0, "{d}");
    for x in [
        [48.8566, 2.3522, 51.5074, -0.1278],
        [-33.9, 18.4, 40.7, -74.0],
        [1e-3, -1e-3, 0.5, 0.7],
    ] {
        let (_, g) = haversine_grad(x[0], x[1], x[2], x[3]);
        let g = [g.0, g.1, g.2, g.3];
        check_fd(|p| haversine(p[0], p[1], p[2], p[3]), x, g, "haversine");
        // symmetry of the distance: swapping the points swaps the gradients
        let (_, h) = haversine_grad(x[2], x[3], x[0], x[1]);
        check_exact(
            [h.0, h.1, h.2, h.3],
            [g[2], g[3], g[0], g[1]],
            x,
            "haversine symmetry",
        );
    }
}

#[differentiable]
fn polar(x: f64, y: f64) -> f64 {
    let r = x.hypot(y);
    let theta = f64::atan2(y, x);
    r * theta.cos() + r.cbrt() * theta.sin() - f64::tanh(r - 1.0)
}

#[test]
fn polar_coordinates() {
    // r cos θ = x, so f = x + r^{1/3} y / r - tanh(r - 1) = x + y r^{-2/3} - tanh(r - 1)
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (_, (gx, gy)) = polar_grad(x, y);
        let r = x.hypot(y);
        let sech2 = 1.0 - (r - 1.0).tanh().powi(2);
        let dr = -2.0 / 3.0 * y * r.powf(-5.0 / 3.0) - sech2; // ∂f/∂r at fixed y
        let dx = 1.0 + dr * x / r;
        let dy = r.powf(-2.0 / 3.0) + dr * y / r;
        check_exact([gx, gy], [dx, dy], [x, y], "polar");
        check_fd(|[x, y]| polar(x, y), [x, y], [gx, gy], "polar");
    }
}

#[differentiable]
fn hyperbolic_mix(x: f64, y: f64) -> f64 {
    let u = x.sinh() * y.cosh() + f64::asinh(x * y);
    let v = (x * 0.5).atanh() + (y * y + 1.5).acosh();
    let w = f64::exp2(x) - y.exp_m1() + x.log2() * f64::log10(y * y + 1.0);
    let z = x.max(y).mul_add(f64::min(x, y), f64::recip(1.0 + x * x));
    u + v + w * z.clamp(-3.0, 3.0) + f64::abs(x - y) + (x + 2.0).powf(y) + x.log(y + 3.0)
}

#[test]
fn every_method_in_one_expression() {
    for [x, y] in [[0.5, 2.0], [1.3, -0.7], [1e-2, -2e-3], [1.7, 0.2]] {
        let (v, (gx, gy)) = hyperbolic_mix_grad(x, y);
        assert_eq!(v.to_bits(), hyperbolic_mix(x, y).to_bits());
        check_fd(
            |[x, y]| hyperbolic_mix(x, y),
            [x, y],
            [gx, gy],
            "hyperbolic_mix",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Inactive parameters and the gradient's shape.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn with_inactive(w: f64, #[no_grad] x: f64, _scale: f64, n: i32, #[no_grad] target: f64) -> f64 {
    let e = (w * x).powi(n) * _scale - target;
    e * e
}

#[test]
fn no_grad_and_underscore_parameters_give_a_bare_gradient() {
    for (w, x, s, n, t) in [(0.5, 2.0, 3.0, 2, 1.0), (-1.2, 0.3, -0.5, 3, -2.0)] {
        let (v, g): (f64, f64) = with_inactive_grad(w, x, s, n, t);
        assert_eq!(v.to_bits(), with_inactive(w, x, s, n, t).to_bits());
        let e = (w * x).powi(n) * s - t;
        let closed = 2.0 * e * s * f64::from(n) * (w * x).powi(n - 1) * x;
        check_exact([g], [closed], [w], "with_inactive");
        check_fd(
            |[w]| with_inactive(w, x, s, n, t),
            [w],
            [g],
            "with_inactive",
        );
        let (_, gv) = with_inactive_vjp(w, x, s, n, t, -3.0);
        check_vjp(gv, -3.0, g, "with_inactive");
    }
}

// ---------------------------------------------------------------------------------------------
// Casts and f32.
// ---------------------------------------------------------------------------------------------

#[differentiable]
#[allow(clippy::unnecessary_cast)]
fn mixed_precision(x: f64, y: f32) -> f64 {
    let a = (x as f32) * y;
    let b = a.sin() as f64;
    b * x + (y as f64).exp() + x as f64
}

#[test]
fn casts_between_f32_and_f64() {
    // f = sin(x y) x + e^y + x
    for (x, y) in [(0.5, 2.0f32), (-1.3, 0.7), (1e-3, -2e-3), (-2.0, -3.0)] {
        let (v, (gx, gy)): (f64, (f64, f32)) = mixed_precision_grad(x, y);
        assert_eq!(v.to_bits(), mixed_precision(x, y).to_bits());
        let yd = f64::from(y);
        let xf = f64::from(x as f32);
        let (s, c) = (xf * yd).sin_cos();
        let closed = [c * yd * x + s + 1.0, c * xf * x + yd.exp()];
        for (got, want, what) in [(gx, closed[0], "x"), (f64::from(gy), closed[1], "y")] {
            assert!(rel_err(got, want) < 1e-5, "d/d{what}: {got} vs {want}");
        }
    }
}

#[differentiable]
fn narrowing(x: f64) -> f32 {
    let y = (x * x) as f32;
    y.sqrt() * 2.0f32 + y
}

#[differentiable]
fn widening(x: f32) -> f32 {
    let w = x as f64;
    let z = w.exp() * w - w.cos();
    z as f32
}

#[test]
fn gradients_through_casts() {
    // narrowing: f = 2|x| + x²  (f32 result, f64 gradient)
    for x in [-1.5, -0.3, 0.4, 2.0] {
        let (v, g): (f32, f64) = narrowing_grad(x);
        assert_eq!(v.to_bits(), narrowing(x).to_bits());
        assert!(rel_err(g, 2.0 * x.signum() + 2.0 * x) < 1e-5, "{g}");
    }
    // widening: f = x e^x - cos x, computed in f64
    for x in [-1.5f32, -1e-3, 0.4, 2.0] {
        let (v, g) = widening_grad(x);
        assert_eq!(v.to_bits(), widening(x).to_bits());
        let xd = f64::from(x);
        check_f32(|[x]| x * x.exp() - x.cos(), [x], [g], "widening");
        assert!(rel_err(f64::from(g), (1.0 + xd) * xd.exp() + xd.sin()) < 1e-6);
    }
}

#[differentiable]
fn lets_f32(x: f32, y: f32) -> f32 {
    let a: f32 = x * y;
    let (b, c) = (x + y, x - y);
    let mut d = a * b;
    d = c - d;
    d -= 0.5f32 * x;
    d *= 2.0;
    d /= y.abs() + 1.0;
    -d + std::f32::consts::PI * x
}

fn lets_f32_as_f64(x: f64, y: f64) -> f64 {
    let a = x * y;
    let (b, c) = (x + y, x - y);
    let mut d = a * b;
    d = c - d;
    d -= 0.5 * x;
    d *= 2.0;
    d /= y.abs() + 1.0;
    -d + f64::from(std::f32::consts::PI) * x
}

#[test]
fn f32_lets_and_compound_assignment() {
    for [x, y] in [[0.5f32, 2.0], [-1.3, 0.7], [1e-3, -2e-2], [-2.0, -3.0]] {
        let (v, (gx, gy)) = lets_f32_grad(x, y);
        assert_eq!(v.to_bits(), lets_f32(x, y).to_bits());
        check_f32(|[x, y]| lets_f32_as_f64(x, y), [x, y], [gx, gy], "lets_f32");
        // closed form: d = 2 (0.5 x - y - x y (x + y)) / (|y| + 1), f = -d + π x
        let (xd, yd) = (f64::from(x), f64::from(y));
        let den = yd.abs() + 1.0;
        let num = 2.0 * (0.5 * xd - yd - xd * yd * (xd + yd));
        let dnum_dx = 2.0 * (0.5 - 2.0 * xd * yd - yd * yd);
        let dnum_dy = -2.0 * (1.0 + xd * xd + 2.0 * xd * yd);
        let dx = -dnum_dx / den + f64::from(std::f32::consts::PI);
        let dy = -(dnum_dy / den - num * yd.signum() / (den * den));
        assert!(rel_err(f64::from(gx), dx) < 1e-4, "{gx} vs {dx}");
        assert!(rel_err(f64::from(gy), dy) < 1e-4, "{gy} vs {dy}");
    }
}

#[differentiable]
fn methods_f32(x: f32, y: f32) -> f32 {
    // x in (0, 1), y anywhere
    let a = x.exp() + f32::exp2(x) + x.exp_m1() + f32::ln(x) + x.log2() + f32::log10(x);
    let b = x.ln_1p() + f32::sqrt(x) + x.cbrt() + f32::sin(y) + y.cos() + f32::tan(x);
    let c = x.asin() + f32::acos(x) + y.atan() + f32::sinh(y) + y.cosh() + f32::tanh(y);
    let d = y.asinh() + f32::acosh(x + 1.5) + x.atanh() + f32::abs(y) + x.recip();
    let e = y.to_degrees() * 0.01 + f32::to_radians(y) + x.powi(3) + f32::powf(x, y);
    let f = x.log(2.0 + y * y) + f32::atan2(y, x) + x.max(y) + f32::min(x, y) + x.hypot(y);
    let g = f32::clamp(y, -0.5, 0.5) + x.mul_add(y, x) + f32::powi(y, 2) + x.clamp(0.2, 0.8);
    a + b + c + d + e + f + g
}

fn methods_f32_as_f64(x: f64, y: f64) -> f64 {
    let a = x.exp() + x.exp2() + x.exp_m1() + x.ln() + x.log2() + x.log10();
    let b = x.ln_1p() + x.sqrt() + x.cbrt() + y.sin() + y.cos() + x.tan();
    let c = x.asin() + x.acos() + y.atan() + y.sinh() + y.cosh() + y.tanh();
    let d = y.asinh() + (x + 1.5).acosh() + x.atanh() + y.abs() + x.recip();
    let e = y.to_degrees() * 0.01 + y.to_radians() + x.powi(3) + x.powf(y);
    let f = x.log(2.0 + y * y) + y.atan2(x) + x.max(y) + x.min(y) + x.hypot(y);
    let g = y.clamp(-0.5, 0.5) + x.mul_add(y, x) + y.powi(2) + x.clamp(0.2, 0.8);
    a + b + c + d + e + f + g
}

#[test]
fn every_method_in_f32() {
    for [x, y] in [
        [0.3f32, 0.2],
        [0.5, -1.7],
        [0.05, 2.5],
        [0.9, -1e-3],
        [1e-2, 0.1],
    ] {
        let (v, (gx, gy)) = methods_f32_grad(x, y);
        assert_eq!(v.to_bits(), methods_f32(x, y).to_bits());
        check_f32(
            |[x, y]| methods_f32_as_f64(x, y),
            [x, y],
            [gx, gy],
            "methods_f32",
        );
    }
}

#[differentiable]
fn piecewise_f32(x: f32, y: f32) -> f32 {
    let mut r = x * y;
    if x > 1.0 {
        r = r.sqrt() * y;
    } else if x > -1.0 {
        r += x.sin();
    } else {
        r -= y.exp();
    }
    let s = if r > 0.0 { r.ln_1p() } else { -r * r };
    s * 2.0f32
}

fn piecewise_f32_as_f64(x: f64, y: f64) -> f64 {
    let mut r = x * y;
    if x > 1.0 {
        r = r.sqrt() * y;
    } else if x > -1.0 {
        r += x.sin();
    } else {
        r -= y.exp();
    }
    let s = if r > 0.0 { r.ln_1p() } else { -r * r };
    s * 2.0
}

#[test]
fn f32_branches() {
    for [x, y] in [
        [2.0f32, 1.5],
        [0.5, 0.3],
        [-0.5, 0.2],
        [-1e-3, 2e-3],
        [-2.0, 0.4],
        [-2.0, -1.0],
    ] {
        let (v, (gx, gy)) = piecewise_f32_grad(x, y);
        assert_eq!(v.to_bits(), piecewise_f32(x, y).to_bits());
        check_f32(
            |[x, y]| piecewise_f32_as_f64(x, y),
            [x, y],
            [gx, gy],
            "piecewise_f32",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `NAME_vjp` and the primal's bits.
// ---------------------------------------------------------------------------------------------

#[test]
fn vjp_is_the_cotangent_times_the_gradient() {
    for c in [1.0, -2.5, 0.125, 1e-3, 0.0] {
        for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3]] {
            let (v, (gx, gy)) = lets_grad(x, y);
            let (vv, (vx, vy)) = lets_vjp(x, y, c);
            assert_eq!(v.to_bits(), vv.to_bits());
            check_vjp(vx, c, gx, "x");
            check_vjp(vy, c, gy, "y");

            let (_, (gx, gy)) = branch_statements_grad(x, y);
            let (_, (vx, vy)) = branch_statements_vjp(x, y, c);
            check_vjp(vx, c, gx, "x");
            check_vjp(vy, c, gy, "y");

            let (_, (gx, gy, gz)) = operators_grad(x, y, 0.3);
            let (_, (vx, vy, vz)) = operators_vjp(x, y, 0.3, c);
            for (g, v) in [(gx, vx), (gy, vy), (gz, vz)] {
                check_vjp(v, c, g, "operators");
            }

            let (_, (gx, gy)) = hyperbolic_mix_grad(x.abs() + 0.1, y);
            let (_, (vx, vy)) = hyperbolic_mix_vjp(x.abs() + 0.1, y, c);
            check_vjp(vx, c, gx, "x");
            check_vjp(vy, c, gy, "y");
        }
        let (_, (gx, gy)) = lets_f32_grad(0.5, -1.5);
        let (_, (vx, vy)) = lets_f32_vjp(0.5, -1.5, c as f32);
        assert!(rel_err(f64::from(vx), f64::from(c as f32 * gx)) < 1e-6);
        assert!(rel_err(f64::from(vy), f64::from(c as f32 * gy)) < 1e-6);
    }
}

#[test]
fn primal_is_bit_identical_to_the_undecorated_code() {
    let points = [-3.0, -1.0, -0.25, -1e-3, 0.0, 1e-3, 0.3, 1.0, 2.5, 17.0];
    for &x in &points {
        for &y in &points {
            assert_eq!(lets(x, y).to_bits(), lets_twin(x, y).to_bits());
            assert_eq!(more_lets(x, y).to_bits(), more_lets_twin(x, y).to_bits());
            assert_eq!(compound(x, y).to_bits(), compound_twin(x, y).to_bits());
            assert_eq!(blocks(x, y).to_bits(), blocks_twin(x, y).to_bits());
            assert_eq!(
                branch_statements(x, y).to_bits(),
                branch_statements_twin(x, y).to_bits()
            );
            assert_eq!(lets_grad(x, y).0.to_bits(), lets_twin(x, y).to_bits());
            assert_eq!(
                compound_grad(x, y).0.to_bits(),
                compound_twin(x, y).to_bits()
            );
            assert_eq!(blocks_grad(x, y).0.to_bits(), blocks_twin(x, y).to_bits());
            let (xf, yf) = (x as f32, y as f32);
            assert_eq!(
                methods_f32(xf, yf).to_bits(),
                methods_f32_twin(xf, yf).to_bits()
            );
            assert_eq!(
                methods_f32_grad(xf, yf).0.to_bits(),
                methods_f32_twin(xf, yf).to_bits()
            );
        }
    }
}

fn methods_f32_twin(x: f32, y: f32) -> f32 {
    let a = x.exp() + f32::exp2(x) + x.exp_m1() + f32::ln(x) + x.log2() + f32::log10(x);
    let b = x.ln_1p() + f32::sqrt(x) + x.cbrt() + f32::sin(y) + y.cos() + f32::tan(x);
    let c = x.asin() + f32::acos(x) + y.atan() + f32::sinh(y) + y.cosh() + f32::tanh(y);
    let d = y.asinh() + f32::acosh(x + 1.5) + x.atanh() + f32::abs(y) + x.recip();
    let e = y.to_degrees() * 0.01 + f32::to_radians(y) + x.powi(3) + f32::powf(x, y);
    let f = x.log(2.0 + y * y) + f32::atan2(y, x) + x.max(y) + f32::min(x, y) + x.hypot(y);
    let g = f32::clamp(y, -0.5, 0.5) + x.mul_add(y, x) + f32::powi(y, 2) + x.clamp(0.2, 0.8);
    a + b + c + d + e + f + g
}

#[test]
fn finite_difference_helper_is_accurate() {
    // The helper itself, on a function with a known derivative, near zero and far from it.
    for x in [-5.0f64, -1e-3, 1e-3, 0.7, 40.0] {
        assert!(rel_err(diff(f64::sin, x), x.cos()) < 1e-9);
        assert!(rel_err(diff(f64::exp, x), x.exp()) < 1e-9);
    }
}

// ---------------------------------------------------------------------------------------------
// `if`/`else` values in arithmetic, deferred initialization, path forms with literal receivers.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn let_if_then_use(r: f64) -> f64 {
    let s = if r > 0.0 { r.ln_1p() } else { -r * r };
    s * 2.0
}

#[differentiable]
fn if_in_parentheses(x: f64, y: f64) -> f64 {
    1.0 + (if x > 0.0 { x } else { -x.sin() }) * y
}

#[differentiable]
fn else_if_value(r: f64) -> f64 {
    let s = if r > 0.0 {
        r.sin()
    } else if r < -1.0 {
        r * 3.0
    } else {
        r.cos()
    };
    s * 2.0
}

#[test]
fn if_value_in_arithmetic() {
    for r in [-2.0, -0.5, -1e-3, 1e-3, 0.5, 3.0] {
        // f = 2 ln(1 + r) for r > 0, -2 r² otherwise
        let (v, g) = let_if_then_use_grad(r);
        assert_eq!(v.to_bits(), let_if_then_use(r).to_bits());
        let plain = 2.0 * if r > 0.0 { r.ln_1p() } else { -r * r };
        assert_eq!(v.to_bits(), plain.to_bits());
        let closed = if r > 0.0 { 2.0 / (1.0 + r) } else { -4.0 * r };
        check_exact([g], [closed], [r], "let_if_then_use");
        check_fd(|[r]| let_if_then_use(r), [r], [g], "let_if_then_use");

        // f = 2 sin r, 6 r or 2 cos r
        let (v, g) = else_if_value_grad(r);
        assert_eq!(v.to_bits(), else_if_value(r).to_bits());
        let closed = if r > 0.0 {
            2.0 * r.cos()
        } else if r < -1.0 {
            6.0
        } else {
            -2.0 * r.sin()
        };
        check_exact([g], [closed], [r], "else_if_value");
        check_fd(|[r]| else_if_value(r), [r], [g], "else_if_value");

        // f = 1 + x y or 1 - sin(x) y
        let y = 0.7;
        let (v, (gx, gy)) = if_in_parentheses_grad(r, y);
        assert_eq!(v.to_bits(), if_in_parentheses(r, y).to_bits());
        let closed = if r > 0.0 {
            [y, r]
        } else {
            [-r.cos() * y, -r.sin()]
        };
        check_exact([gx, gy], closed, [r, y], "if_in_parentheses");
        check_fd(
            |[x, y]| if_in_parentheses(x, y),
            [r, y],
            [gx, gy],
            "if_in_parentheses",
        );
    }
}

#[differentiable]
#[allow(clippy::needless_late_init)]
fn deferred(x: f64, y: f64) -> f64 {
    let r: f64;
    r = x * y;
    r.sin() + x
}

#[test]
fn deferred_initialization() {
    // f = sin(x y) + x
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3]] {
        let (v, (gx, gy)) = deferred_grad(x, y);
        assert_eq!(v.to_bits(), ((x * y).sin() + x).to_bits());
        assert_eq!(deferred(x, y).to_bits(), v.to_bits());
        let c = (x * y).cos();
        check_exact([gx, gy], [c * y + 1.0, c * x], [x, y], "deferred");
        check_fd(|[x, y]| deferred(x, y), [x, y], [gx, gy], "deferred");
    }
}

#[differentiable]
fn literal_receivers(x: f64, y: f64) -> f64 {
    let a = f64::powf(3.0, y) + f64::min(-0.25, y) + f64::max(0.25, x);
    a + f64::hypot(-3.0, x) + f64::exp(2.0) * x
}

#[test]
fn path_form_with_a_literal_receiver() {
    for [x, y] in [[0.7, 1.3], [-1.3, -0.7], [1e-3, -2e-3]] {
        let (v, (gx, gy)) = literal_receivers_grad(x, y);
        let plain = 3f64.powf(y) + (-0.25f64).min(y) + 0.25f64.max(x);
        let plain = plain + (-3f64).hypot(x) + 2f64.exp() * x;
        assert_eq!(v.to_bits(), plain.to_bits());
        assert_eq!(literal_receivers(x, y).to_bits(), v.to_bits());
        let dmin = if y < -0.25 { 1.0 } else { 0.0 };
        let dmax = if x > 0.25 { 1.0 } else { 0.0 };
        let closed = [
            dmax + x / 3f64.hypot(x) + 2f64.exp(),
            3f64.powf(y) * 3f64.ln() + dmin,
        ];
        check_exact([gx, gy], closed, [x, y], "literal_receivers");
        check_fd(
            |[x, y]| literal_receivers(x, y),
            [x, y],
            [gx, gy],
            "literal_receivers",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases: constant receivers with active arguments, self-referencing updates, `&&`/`||`
// conditions, integer parameters cast to float, a parameter shadowed with another type.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn constant_receivers(x: f64, y: f64) -> f64 {
    let a = 2.0f64.powf(x) + f64::powf(3.0, y);
    let b = 0.5f64.max(x) + f64::min(-0.25, y) + 1.0f64.atan2(x);
    let c = 10.0f64.log(y * y + 2.0) + f64::hypot(3.0, x) + 2.0f64.mul_add(x, y);
    a + b + c * -2.0
}

#[test]
fn constants_as_receivers_of_methods() {
    for [x, y] in [[0.7, 1.3], [-1.3, -0.7], [1e-3, -2e-3], [2.0, -3.0]] {
        let (v, (gx, gy)) = constant_receivers_grad(x, y);
        assert_eq!(v.to_bits(), constant_receivers(x, y).to_bits());
        let q = y * y + 2.0;
        let dmax = if x > 0.5 { 1.0 } else { 0.0 };
        let dmin = if y < -0.25 { 1.0 } else { 0.0 };
        // log_q(10) = ln 10 / ln q
        let dlog = -std::f64::consts::LN_10 / (q * q.ln().powi(2)) * 2.0 * y;
        let dx =
            2f64.powf(x) * LN_2 + dmax - 1.0 / (1.0 + x * x) + -2.0 * (x / 3.0f64.hypot(x) + 2.0);
        let dy = 3f64.powf(y) * 3f64.ln() + dmin + -2.0 * (dlog + 1.0);
        check_exact([gx, gy], [dx, dy], [x, y], "constant_receivers");
        check_fd(
            |[x, y]| constant_receivers(x, y),
            [x, y],
            [gx, gy],
            "constant_receivers",
        );
    }
}

#[differentiable]
fn self_updates(x: f64, y: f64) -> f64 {
    let mut s = x + y;
    s *= s;
    s -= x;
    s /= s + 1.0;
    s += s;
    s = s * s - s;
    s
}

fn self_updates_twin(x: f64, y: f64) -> f64 {
    let mut s = x + y;
    s *= s;
    s -= x;
    s /= s + 1.0;
    s += s;
    s = s * s - s;
    s
}

#[test]
fn updates_that_read_the_variable_they_write() {
    // u = (x + y)² - x, w = 2u / (u + 1), f = w² - w
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gx, gy)) = self_updates_grad(x, y);
        assert_eq!(v.to_bits(), self_updates_twin(x, y).to_bits());
        assert_eq!(self_updates(x, y).to_bits(), v.to_bits());
        let u = (x + y).powi(2) - x;
        let w = 2.0 * u / (u + 1.0);
        let dw_du = 2.0 / (u + 1.0).powi(2);
        let df_du = (2.0 * w - 1.0) * dw_du;
        let closed = [df_du * (2.0 * (x + y) - 1.0), df_du * 2.0 * (x + y)];
        check_exact([gx, gy], closed, [x, y], "self_updates");
        check_fd(
            |[x, y]| self_updates_twin(x, y),
            [x, y],
            [gx, gy],
            "self_updates",
        );
    }
}

#[differentiable]
fn logic_conditions(x: f64, y: f64, n: i32) -> f64 {
    let scale: f64 = if x > 0.0 && y > 0.0 {
        x * y
    } else if x < -1.0 || y < -1.0 {
        x - y
    } else {
        x + y * 2.0
    };
    let x = x as f32; // shadows the parameter with another type
    let z = x.sin() as f64 + x as f64;
    scale * (n as f64) + z * -1.5
}

#[test]
fn and_or_conditions_integer_casts_and_shadowing_by_type() {
    for [x, y] in [
        [0.5, 2.0],
        [0.5, -0.5],
        [-1.3, 0.7],
        [0.3, -2.0],
        [1e-3, -2e-3],
        [-0.5, -0.5],
    ] {
        for n in [-2, 3] {
            let (v, (gx, gy)) = logic_conditions_grad(x, y, n);
            assert_eq!(v.to_bits(), logic_conditions(x, y, n).to_bits());
            let nf = f64::from(n);
            let [sx, sy] = if x > 0.0 && y > 0.0 {
                [y, x]
            } else if x < -1.0 || y < -1.0 {
                [1.0, -1.0]
            } else {
                [1.0, 2.0]
            };
            let xf = f64::from(x as f32);
            let dz = xf.cos() + 1.0;
            let closed = [sx * nf - 1.5 * dz, sy * nf];
            for (got, want) in [(gx, closed[0]), (gy, closed[1])] {
                assert!(
                    rel_err(got, want) < 1e-6,
                    "{got} vs {want} at {x}, {y}, {n}"
                );
            }
        }
    }
}

#[differentiable]
fn same_names_in_branches(x: f64, y: f64) -> f64 {
    let mut r = x;
    if x > 0.0 {
        let t = x * y;
        r += t;
    } else {
        let t = y.sin();
        r -= t;
    }
    let t = r * 2.0;
    t + y
}

#[differentiable]
fn nested_if_mutation(x: f64, y: f64) -> f64 {
    let mut a = x;
    let mut b = y;
    if x > 0.0 {
        if y > 0.0 {
            a *= y;
        } else {
            b *= x;
        }
        a += b;
    }
    a * b
}

#[test]
fn branch_local_names_and_nested_mutation() {
    for [x, y] in [
        [1.0, 2.0],
        [0.5, -2.0],
        [-1.0, 2.0],
        [1e-3, -2e-3],
        [-0.3, -0.4],
    ] {
        // x > 0: f = 2 (x + x y) + y, else f = 2 (x - sin y) + y
        let (v, (gx, gy)) = same_names_in_branches_grad(x, y);
        assert_eq!(v.to_bits(), same_names_in_branches(x, y).to_bits());
        let closed = if x > 0.0 {
            [2.0 * (1.0 + y), 2.0 * x + 1.0]
        } else {
            [2.0, -2.0 * y.cos() + 1.0]
        };
        check_exact([gx, gy], closed, [x, y], "same_names_in_branches");
        check_fd(
            |[x, y]| same_names_in_branches(x, y),
            [x, y],
            [gx, gy],
            "same_names_in_branches",
        );

        // x > 0, y > 0: f = (x y + y) y; x > 0, y <= 0: f = (x + x y) x y; else f = x y
        let (v, (gx, gy)) = nested_if_mutation_grad(x, y);
        assert_eq!(v.to_bits(), nested_if_mutation(x, y).to_bits());
        let closed = if x > 0.0 && y > 0.0 {
            [y * y, 2.0 * x * y + 2.0 * y]
        } else if x > 0.0 {
            [(1.0 + y) * x * y + (x + x * y) * y, x * x + 2.0 * x * x * y]
        } else {
            [y, x]
        };
        check_exact([gx, gy], closed, [x, y], "nested_if_mutation");
        check_fd(
            |[x, y]| nested_if_mutation(x, y),
            [x, y],
            [gx, gy],
            "nested_if_mutation",
        );
    }
}
