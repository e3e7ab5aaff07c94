//! nalgebra gradients: a two-layer MLP loss over a batch (static shapes) and a least-squares loss
//! (dynamic, 200 × 50), each as primal, generated gradient and hand-written gradient; the MLP also
//! with its parameters as one struct deriving `Parameters`.
//!
//! The figures that matter are the ratios within one run: gradient / primal and generated /
//! hand-written.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use nabla::{differentiable, Parameters};
use nalgebra::{DMatrix, DVector, SMatrix, SVector};

type W1 = SMatrix<f64, 16, 8>;
type V16 = SVector<f64, 16>;
type X = SVector<f64, 8>;

// Parameters that carry gradient are recognized by their type's syntax, so they are spelled
// out here rather than through the aliases.
#[differentiable]
fn mlp_loss(
    w1: &SMatrix<f64, 16, 8>,
    b1: &SVector<f64, 16>,
    w2: &SVector<f64, 16>,
    #[no_grad] xs: &[X],
    #[no_grad] ys: &[f64],
) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let h = (w1 * xs[i] + b1).map(|v| v.tanh());
        let e = w2.dot(&h) - ys[i];
        total += e * e;
    }
    total / (xs.len() as f64)
}

/// The same network as one model struct: its gradient is an `Mlp` too.
#[derive(Clone, Debug, Parameters)]
struct Mlp {
    w1: W1,
    b1: V16,
    w2: V16,
}

/// `mlp_loss` reading the parameters as fields of one struct.
#[differentiable]
fn mlp_struct_loss(m: &Mlp, #[no_grad] xs: &[X], #[no_grad] ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let h = (m.w1 * xs[i] + m.b1).map(|v| v.tanh());
        let e = m.w2.dot(&h) - ys[i];
        total += e * e;
    }
    total / (xs.len() as f64)
}

/// The gradient of `mlp_loss` as a person would write it.
fn mlp_loss_by_hand(w1: &W1, b1: &V16, w2: &V16, xs: &[X], ys: &[f64]) -> (f64, (W1, V16, V16)) {
    let n = xs.len() as f64;
    let (mut gw1, mut gb1, mut gw2) = (W1::zeros(), V16::zeros(), V16::zeros());
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let h = (w1 * x + b1).map(f64::tanh);
        let e = w2.dot(&h) - y;
        total += e * e;
        let de = 2.0 * e / n;
        gw2.axpy(de, &h, 1.0);
        let dz = (w2 * de).component_mul(&h.map(|t| 1.0 - t * t));
        gb1 += dz;
        gw1.ger(1.0, &dz, x, 1.0);
    }
    (total / n, (gw1, gb1, gw2))
}

#[differentiable]
fn least_squares(
    x: &DVector<f64>,
    #[no_grad] a: &DMatrix<f64>,
    #[no_grad] b: &DVector<f64>,
) -> f64 {
    let r = a * x - b;
    r.norm_squared()
}

/// The gradient of `least_squares` by hand: 2 Aᵀ(Ax - b).
fn least_squares_by_hand(
    x: &DVector<f64>,
    a: &DMatrix<f64>,
    b: &DVector<f64>,
) -> (f64, DVector<f64>) {
    let r = a * x - b;
    (r.norm_squared(), a.tr_mul(&r) * 2.0)
}

/// Deterministic data in [-1, 1): a linear congruential generator, enough for a benchmark.
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs() + b.abs())
}

fn bench_mlp(c: &mut Criterion) {
    let w1 = W1::from_iterator(data(128, 1));
    let b1 = V16::from_iterator(data(16, 2));
    let w2 = V16::from_iterator(data(16, 3));
    let xs: Vec<X> = (0..32).map(|i| X::from_iterator(data(8, 10 + i))).collect();
    let ys = data(32, 4);

    let (value, (g1, g2, g3)) = mlp_loss_grad(&w1, &b1, &w2, &xs, &ys);
    let (hand_value, (h1, h2, h3)) = mlp_loss_by_hand(&w1, &b1, &w2, &xs, &ys);
    assert!(close(value, hand_value));
    assert!(g1.iter().zip(h1.iter()).all(|(a, b)| close(*a, *b)));
    assert!(g2.iter().zip(h2.iter()).all(|(a, b)| close(*a, *b)));
    assert!(g3.iter().zip(h3.iter()).all(|(a, b)| close(*a, *b)));

    let model = Mlp { w1, b1, w2 };
    let (struct_value, g) = mlp_struct_loss_grad(&model, &xs, &ys);
    assert!(close(struct_value, value));
    assert!(g.w1.iter().zip(g1.iter()).all(|(a, b)| close(*a, *b)));
    assert!(g.b1.iter().zip(g2.iter()).all(|(a, b)| close(*a, *b)));
    assert!(g.w2.iter().zip(g3.iter()).all(|(a, b)| close(*a, *b)));

    let mut group = c.benchmark_group("mlp 16x8 batch 32");
    group.bench_function("primal", |b| {
        b.iter(|| {
            mlp_loss(
                black_box(&w1),
                black_box(&b1),
                black_box(&w2),
                black_box(&xs),
                black_box(&ys),
            )
        })
    });
    group.bench_function("generated gradient", |b| {
        b.iter(|| {
            mlp_loss_grad(
                black_box(&w1),
                black_box(&b1),
                black_box(&w2),
                black_box(&xs),
                black_box(&ys),
            )
        })
    });
    group.bench_function("generated gradient, struct of parameters", |b| {
        b.iter(|| mlp_struct_loss_grad(black_box(&model), black_box(&xs), black_box(&ys)))
    });
    group.bench_function("hand-written gradient", |b| {
        b.iter(|| {
            mlp_loss_by_hand(
                black_box(&w1),
                black_box(&b1),
                black_box(&w2),
                black_box(&xs),
                black_box(&ys),
            )
        })
    });
    group.finish();
}

fn bench_least_squares(c: &mut Criterion) {
    let a = DMatrix::from_vec(200, 50, data(200 * 50, 5));
    let b = DVector::from_vec(data(200, 6));
    let x = DVector::from_vec(data(50, 7));

    let (value, g) = least_squares_grad(&x, &a, &b);
    let (hand_value, h) = least_squares_by_hand(&x, &a, &b);
    assert!(close(value, hand_value));
    assert!(g.iter().zip(h.iter()).all(|(p, q)| close(*p, *q)));

    let mut group = c.benchmark_group("least squares 200x50");
    group.bench_function("primal", |bench| {
        bench.iter(|| least_squares(black_box(&x), black_box(&a), black_box(&b)))
    });
    group.bench_function("generated gradient", |bench| {
        bench.iter(|| least_squares_grad(black_box(&x), black_box(&a), black_box(&b)))
    });
    group.bench_function("hand-written gradient", |bench| {
        bench.iter(|| least_squares_by_hand(black_box(&x), black_box(&a), black_box(&b)))
    });
    group.finish();
}

criterion_group!(benches, bench_mlp, bench_least_squares);
criterion_main!(benches);
