//! Patterns that bind names: `match` arms on data (`Some(s) => ..`, enum variants with data,
//! guards, `@` bindings, a binding catch-all), `if let`, tuples within tuples in `let`, and a
//! `match` of one arm that takes values apart.
//! Every gradient against central finite differences and closed forms.

mod common;

use common::check_fd;
use nabla::differentiable;

/// A loss term chosen by a data-carrying enum.
#[derive(Clone, Debug)]
pub enum Penalty {
    None,
    L2(f64),
    Huber { delta: f64 },
    Named(String, f64),
}

#[differentiable]
fn regularized(
    w: f64,
    #[no_grad] scale: Option<f64>,
    #[no_grad] penalty: &Penalty,
    #[no_grad] bucket: usize,
) -> f64 {
    let scaled = match scale {
        Some(s) if s > 0.0 => w * s,
        Some(_) => -w,
        None => w,
    };
    let term = match penalty {
        Penalty::None => 0.0,
        Penalty::L2(k) => k * w * w,
        Penalty::Huber { delta } => {
            if w.abs() <= *delta {
                0.5 * w * w
            } else {
                delta * (w.abs() - 0.5 * delta)
            }
        }
        Penalty::Named(name, k) => name.len() as f64 * k * w,
    };
    let weight = match bucket {
        0 => 1.0,
        n @ 1..=3 => n as f64 * 0.5,
        many => many as f64 * 0.25,
    };
    weight * (scaled + term)
}

#[test]
fn match_arms_bind_data() {
    let penalties = [
        Penalty::None,
        Penalty::L2(0.3),
        Penalty::Huber { delta: 0.5 },
        Penalty::Huber { delta: 5.0 },
        Penalty::Named("abc".to_string(), 0.25),
    ];
    for penalty in &penalties {
        for scale in [Some(2.0), Some(-1.0), None] {
            for bucket in [0, 2, 7] {
                let w = 1.3;
                let (value, dw) = regularized_grad(w, scale, penalty, bucket);
                assert_eq!(value, regularized(w, scale, penalty, bucket));
                check_fd(
                    |[w]| regularized(w, scale, penalty, bucket),
                    [w],
                    [dw],
                    "regularized",
                );
            }
        }
    }
    // L2 with k = 0.3, scale 2, bucket 2 (weight 1): d/dw (2w + 0.3w²) = 2 + 0.6w.
    let (_, dw) = regularized_grad(1.3, Some(2.0), &Penalty::L2(0.3), 2);
    assert!((dw - (2.0 + 0.6 * 1.3)).abs() < 1e-12);
}

/// Tuples within tuples, destructured in one `let`.
#[differentiable]
fn nested(x: f64, y: f64, z: f64) -> f64 {
    let ((a, b), (c, _)) = ((x, y * 2.0), (z.sin(), 1.0));
    a * b + c
}

#[test]
fn tuples_within_tuples_in_let() {
    let (value, (dx, dy, dz)) = nested_grad(1.0, 2.0, 3.0);
    assert_eq!(value, 4.0 + 3.0f64.sin());
    assert_eq!((dx, dy, dz), (4.0, 2.0, 3.0f64.cos()));
    check_fd(
        |[x, y, z]| nested(x, y, z),
        [1.0, 2.0, 3.0],
        [dx, dy, dz],
        "nested",
    );
}

/// `if let` on data, as a statement and as a value, with `else if let` after it.
#[differentiable]
fn optional_steps(x: f64, #[no_grad] k: Option<f64>, #[no_grad] j: Option<usize>) -> f64 {
    let mut y = x;
    if let Some(s) = k {
        y *= s;
    }
    let z = if let Some(i) = j {
        y * i as f64
    } else if let Some(s) = k {
        y + s
    } else {
        y * y
    };
    z + y
}

#[test]
fn if_let_binds_data() {
    for (k, j) in [
        (Some(3.0), Some(2)),
        (None, None),
        (Some(3.0), None),
        (None, Some(4)),
    ] {
        let x = 1.7;
        let (value, dx) = optional_steps_grad(x, k, j);
        assert_eq!(value, optional_steps(x, k, j));
        check_fd(|[x]| optional_steps(x, k, j), [x], [dx], "optional_steps");
    }
    // k = 3, no j: y = 3x, z = y + 3, so d/dx (z + y) = 6.
    assert_eq!(optional_steps_grad(1.7, Some(3.0), None).1, 6.0);
}

#[derive(Clone, Copy)]
pub struct Pair {
    a: f64,
    b: f64,
}

/// A `match` with one arm that only takes its value apart is the `let` it stands for: its
/// names may carry gradient.
#[differentiable]
#[allow(clippy::match_single_binding)] // written as users write it
fn single_arm_destructuring(w: [f64; 2], #[no_grad] p: Pair) -> f64 {
    let s = match w {
        [x, y] => x * y,
    };
    let t = match (w[0], s) {
        (u, v) => {
            let z = u + v;
            z * u
        }
    };
    let q = match p {
        Pair { a, b } => a * b,
    };
    match t {
        m => m * s * q,
    }
}

#[test]
fn single_arm_matches_take_values_apart() {
    let p = Pair { a: 2.0, b: 0.5 };
    let w = [0.7, -1.3];
    let (value, g) = single_arm_destructuring_grad(w, p);
    let [x, y] = w;
    let s = x * y;
    let t = (x + s) * x;
    assert!((value - t * s).abs() < 1e-12);
    // d(t s)/dx with t = (x + xy) x = x² (1 + y), s = xy: t s = x³ y (1 + y).
    let dx = 3.0 * x * x * y * (1.0 + y);
    let dy = x * x * x * (1.0 + 2.0 * y);
    assert!((g[0] - dx).abs() < 1e-12 && (g[1] - dy).abs() < 1e-12);
    check_fd(|w| single_arm_destructuring(w, p), w, g, "single-arm match");
}
