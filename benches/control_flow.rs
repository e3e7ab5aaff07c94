//! Gradient time over primal time on loop-heavy code (the yardstick: `NAME_grad` within 3x of
//! the primal on loop code; ADBench measured 1.9-7.2x for hand-written C++ GMM gradients):
//!
//! - `ode`: explicit Euler, damped oscillator, 1,000 steps, 2 parameters;
//! - `rosenbrock`: the extended Rosenbrock function over 128 and 1,024 elements;
//! - `logistic`: logistic-regression loss, d = 10 features, n = 10,000 samples;
//! - `gmm`: ADBench's GMM objective, d = 10, k = 25, n = 1,000 (and in the summary also
//!   ADBench's d = 2, k = 5 and d = 64, k = 10).
//!
//! Each group times the primal, the generated gradient and a hand-written gradient. After
//! criterion, a short summary re-times each with a plain loop and prints the ratios. Data comes from a deterministic inline PRNG (tests/flow_common).
//!
//! Run: `cargo bench --bench control_flow -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/flow_common/mod.rs"]
mod flow_common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use flow_common::{
    gmm_data, logistic_data, logistic_loss, logistic_loss_grad, logistic_loss_hand_grad,
    oscillator, oscillator_grad, oscillator_hand_grad, rosenbrock, rosenbrock_grad,
    rosenbrock_hand_grad, GmmData, LogisticData,
};

const ODE_STEPS: usize = 1000;
const ODE_DT: f64 = 0.01;
const LOGISTIC_D: usize = 10;
const LOGISTIC_N: usize = 10_000;

fn ode(c: &mut Criterion) {
    let mut group = c.benchmark_group("ode_euler_1000");
    group.bench_function("primal", |b| {
        b.iter(|| oscillator(black_box(4.0), black_box(0.3), ODE_STEPS, ODE_DT))
    });
    group.bench_function("grad", |b| {
        b.iter(|| oscillator_grad(black_box(4.0), black_box(0.3), ODE_STEPS, ODE_DT))
    });
    group.bench_function("hand_grad", |b| {
        b.iter(|| oscillator_hand_grad(black_box(4.0), black_box(0.3), ODE_STEPS, ODE_DT))
    });
    group.finish();
}

fn rosenbrock_group(c: &mut Criterion) {
    for n in [128, 1024] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() * 1.3).collect();
        let mut group = c.benchmark_group(format!("rosenbrock_{n}"));
        group.bench_function("primal", |b| b.iter(|| rosenbrock(black_box(&x))));
        group.bench_function("grad", |b| b.iter(|| rosenbrock_grad(black_box(&x))));
        group.bench_function("hand_grad", |b| {
            b.iter(|| rosenbrock_hand_grad(black_box(&x)))
        });
        group.finish();
    }
}

fn logistic(c: &mut Criterion, data: &LogisticData) {
    let mut group = c.benchmark_group("logistic_d10_n10000");
    group.bench_function("primal", |b| {
        b.iter(|| {
            logistic_loss(
                black_box(&data.w),
                data.b,
                &data.x,
                &data.y,
                LOGISTIC_D,
                0.01,
            )
        })
    });
    group.bench_function("grad", |b| {
        b.iter(|| {
            logistic_loss_grad(
                black_box(&data.w),
                data.b,
                &data.x,
                &data.y,
                LOGISTIC_D,
                0.01,
            )
        })
    });
    group.bench_function("hand_grad", |b| {
        b.iter(|| {
            logistic_loss_hand_grad(
                black_box(&data.w),
                data.b,
                &data.x,
                &data.y,
                LOGISTIC_D,
                0.01,
            )
        })
    });
    group.finish();
}

fn gmm(c: &mut Criterion, data: &GmmData) {
    let mut group = c.benchmark_group("gmm_d10_k25_n1000");
    group.sample_size(20);
    group.bench_function("primal", |b| b.iter(|| black_box(data).objective()));
    group.bench_function("grad", |b| b.iter(|| black_box(data).gradient()));
    group.bench_function("hand_grad", |b| b.iter(|| black_box(data).hand_gradient()));
    group.finish();
}

/// Median time of one call, over batches filling about `budget`.
fn time<R>(budget: Duration, mut f: impl FnMut() -> R) -> f64 {
    let start = Instant::now();
    black_box(f());
    let once = start.elapsed().as_secs_f64().max(1e-9);
    let batch = ((0.02 / once) as usize).max(1);
    let batches = ((budget.as_secs_f64() / (once * batch as f64)) as usize).clamp(5, 200);
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            t.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn summary(logistic_data: &LogisticData, gmm_sets: &[(&'static str, GmmData)]) {
    let budget = Duration::from_millis(1500);
    let mut rows: Vec<(&str, f64, f64, Option<f64>)> = vec![
        (
            "ODE (Euler, 1000 steps)",
            time(budget, || {
                oscillator(black_box(4.0), 0.3, ODE_STEPS, ODE_DT)
            }),
            time(budget, || {
                oscillator_grad(black_box(4.0), 0.3, ODE_STEPS, ODE_DT)
            }),
            Some(time(budget, || {
                oscillator_hand_grad(black_box(4.0), 0.3, ODE_STEPS, ODE_DT)
            })),
        ),
        {
            let d = logistic_data;
            (
                "logistic (d=10, n=10000)",
                time(budget, || {
                    logistic_loss(black_box(&d.w), d.b, &d.x, &d.y, LOGISTIC_D, 0.01)
                }),
                time(budget, || {
                    logistic_loss_grad(black_box(&d.w), d.b, &d.x, &d.y, LOGISTIC_D, 0.01)
                }),
                Some(time(budget, || {
                    logistic_loss_hand_grad(black_box(&d.w), d.b, &d.x, &d.y, LOGISTIC_D, 0.01)
                })),
            )
        },
    ];
    for (name, data) in gmm_sets {
        rows.push((
            name,
            time(budget, || black_box(data).objective()),
            time(budget, || black_box(data).gradient()),
            Some(time(budget, || black_box(data).hand_gradient())),
        ));
    }
    println!();
    println!(
        "{:<26} {:>12} {:>12} {:>12} {:>10} {:>12}",
        "workload", "primal", "grad", "hand grad", "grad/primal", "grad/hand"
    );
    for (name, primal, grad, hand) in rows {
        let hand_s = hand.map_or("-".to_string(), |h| format!("{:.1} us", h * 1e6));
        let vs_hand = hand.map_or("-".to_string(), |h| format!("{:.2}x", grad / h));
        println!(
            "{:<26} {:>9.1} us {:>9.1} us {:>12} {:>10.2}x {:>12}",
            name,
            primal * 1e6,
            grad * 1e6,
            hand_s,
            grad / primal,
            vs_hand
        );
    }
}

fn main() {
    let logistic_set = logistic_data(LOGISTIC_D, LOGISTIC_N, 42);
    let gmm_set = gmm_data(10, 25, 1000, 42);
    assert!(gmm_set.objective().is_finite());

    let mut c = Criterion::default().configure_from_args();
    ode(&mut c);
    rosenbrock_group(&mut c);
    logistic(&mut c, &logistic_set);
    gmm(&mut c, &gmm_set);
    c.final_summary();

    // `cargo test --benches` runs this binary with `--bench` absent: skip the summary there.
    if std::env::args().any(|a| a == "--bench") {
        // ADBench's sizes.
        let gmm_sets = [
            ("GMM (d=2, k=5, n=1000)", gmm_data(2, 5, 1000, 42)),
            ("GMM (d=10, k=25, n=1000)", gmm_set),
            ("GMM (d=64, k=10, n=1000)", gmm_data(64, 10, 1000, 42)),
        ];
        summary(&logistic_set, &gmm_sets);
    }
}
