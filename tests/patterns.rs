//! Patterns that bind names: `match` arms on data (`Some(s) => ..`, enum variants with data,
//! guards, `@` bindings, a binding catch-all), `if let`, and tuples within tuples in `let`.
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
