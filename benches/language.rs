//! The language of issue-sized programs: a Gaussian-process negative log-likelihood through a
//! Cholesky factor (gradient against primal, n = 50 and 200), and a smoothness penalty and a
//! `fold` Horner written with iterator adaptors against the same code written with index loops
//! (generated gradient against generated gradient).
//!
//! The figures that matter are the ratios within one run.
//!
//! Run: `cargo bench --bench language -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

#[path = "../tests/gp_common/mod.rs"]
mod gp_common;

use criterion::{criterion_group, criterion_main, Criterion};
use gp_common::{gp_nll, gp_nll_grad};
use nabla::differentiable;
use nalgebra::DVector;

#[differentiable]
fn smoothness(w: &[f64]) -> f64 {
    let n = w.len();
    w[1..]
        .iter()
        .zip(&w[..n - 1])
        .map(|(a, b)| (a - b) * (a - b))
        .sum()
}

#[differentiable]
#[allow(clippy::needless_range_loop)]
fn smoothness_indexed(w: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 1..w.len() {
        let e = w[i] - w[i - 1];
        total += e * e;
    }
    total
}

#[differentiable]
fn horner_fold(c: &[f64], #[no_grad] x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, a| acc * x + a)
}

#[differentiable]
fn horner_indexed(c: &[f64], #[no_grad] x: f64) -> f64 {
    let mut y = 0.0;
    for i in (0..c.len()).rev() {
        y = y * x + c[i];
    }
    y
}

fn gp(c: &mut Criterion) {
    for n in [50, 200] {
        let xs: Vec<f64> = (0..n).map(|i| i as f64 * 3.0 / n as f64).collect();
        let y = DVector::from_fn(n, |i, _| (xs[i] * 2.0).sin());
        let mut group = c.benchmark_group(format!("gp_nll n={n}"));
        group.bench_function("primal", |b| {
            b.iter(|| gp_nll(black_box(0.7), black_box(1.1), black_box(0.3), &xs, &y))
        });
        group.bench_function("gradient", |b| {
            b.iter(|| gp_nll_grad(black_box(0.7), black_box(1.1), black_box(0.3), &xs, &y))
        });
        group.finish();
    }
}

fn adaptors(c: &mut Criterion) {
    let w: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut group = c.benchmark_group("smoothness n=1000");
    group.bench_function("adaptors gradient", |b| {
        b.iter(|| smoothness_grad(black_box(&w)))
    });
    group.bench_function("index loop gradient", |b| {
        b.iter(|| smoothness_indexed_grad(black_box(&w)))
    });
    group.finish();
    let mut group = c.benchmark_group("horner n=1000");
    group.bench_function("fold gradient", |b| {
        b.iter(|| horner_fold_grad(black_box(&w), black_box(0.9)))
    });
    group.bench_function("index loop gradient", |b| {
        b.iter(|| horner_indexed_grad(black_box(&w), black_box(0.9)))
    });
    group.finish();
}

criterion_group!(benches, gp, adaptors);
criterion_main!(benches);
