//! Data-parallel gradients: `nabla::par_grad` against one serial call of the same generated
//! gradient, on a mean logistic loss with d = 10 features over n = 10^6 samples.
//!
//! Criterion times both; after it, a short summary times them again, alternating the two so
//! that both see the same load on the machine, and prints the speed-up and the number of
//! threads in rayon's pool.
//!
//! Run: `cargo bench --bench par_grad --features rayon -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use nabla::{bce_with_logits, differentiable, par_grad};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

const D: usize = 10;
const N: usize = 1_000_000;

/// The mean logistic loss over the data set of `n` samples, of the rows given here (all of them,
/// or one chunk): each row's loss divided by the whole data set's size `n`, so that chunks' values
/// and gradients add up to the mean's.
#[differentiable]
fn logistic(
    w: &[f64],
    b: f64,
    #[no_grad] rows: &[[f64; D]],
    #[no_grad] ys: &[f64],
    #[no_grad] n: f64,
) -> f64 {
    let mut total = 0.0;
    for (row, y) in rows.iter().zip(ys) {
        let mut z = b;
        for j in 0..D {
            z += w[j] * row[j];
        }
        total += bce_with_logits(z, *y);
    }
    total / n
}

struct Data {
    rows: Vec<[f64; D]>,
    ys: Vec<f64>,
    w: Vec<f64>,
    b: f64,
}

/// Gaussian features; labels drawn from a logistic model with random true weights.
fn data() -> Data {
    let mut rng = StdRng::seed_from_u64(42);
    let truth: Vec<f64> = (0..D).map(|_| rng.sample(StandardNormal)).collect();
    let rows: Vec<[f64; D]> = (0..N)
        .map(|_| std::array::from_fn(|_| rng.sample(StandardNormal)))
        .collect();
    let ys = rows
        .iter()
        .map(|row| {
            let z: f64 = row.iter().zip(&truth).map(|(x, w)| x * w).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            if rng.random::<f64>() < p {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let w = (0..D).map(|j| 0.1 * j as f64 - 0.4).collect();
    Data {
        rows,
        ys,
        w,
        b: 0.1,
    }
}

fn serial(d: &Data) -> (f64, (Vec<f64>, f64)) {
    logistic_grad(black_box(&d.w), d.b, &d.rows, &d.ys, N as f64)
}

fn parallel(d: &Data) -> (f64, (Vec<f64>, f64)) {
    par_grad(0..N, |chunk| {
        logistic_grad(
            black_box(&d.w),
            d.b,
            &d.rows[chunk.clone()],
            &d.ys[chunk],
            N as f64,
        )
    })
}

fn bench(c: &mut Criterion, d: &Data) {
    let mut group = c.benchmark_group("logistic_d10_n1000000");
    group.sample_size(20);
    group.bench_function("serial", |b| b.iter(|| serial(d)));
    group.bench_function("par_grad", |b| b.iter(|| parallel(d)));
    group.finish();
}

/// Median times of one serial and one parallel gradient, measured alternately.
fn summary(d: &Data) {
    let rounds = 41;
    let (mut s, mut p) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(serial(d));
        s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(parallel(d));
        p.push(t.elapsed().as_secs_f64());
    }
    s.sort_by(f64::total_cmp);
    p.sort_by(f64::total_cmp);
    let (s, p) = (s[rounds / 2], p[rounds / 2]);
    println!();
    println!(
        "logistic gradient, d = {D}, n = {N}: serial {:.2} ms, par_grad {:.2} ms on {} threads: {:.2}x",
        s * 1e3,
        p * 1e3,
        rayon_threads(),
        s / p
    );
}

/// The size of rayon's global pool, which `par_grad` runs on (`RAYON_NUM_THREADS` sets it).
fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn main() {
    let d = data();

    // The two agree before either is timed.
    let (sv, (sw, sb)) = serial(&d);
    let (pv, (pw, pb)) = parallel(&d);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
    assert!(close(sv, pv) && close(sb, pb) && sw.iter().zip(&pw).all(|(&a, &b)| close(a, b)));

    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &d);
    c.final_summary();

    // `cargo test --benches` runs this binary with `--bench` absent: skip the summary there.
    if std::env::args().any(|a| a == "--bench") {
        summary(&d);
    }
}
