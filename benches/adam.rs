//! One `Adam::step` on `n` elements against a copy kernel of the same memory traffic.
//!
//! Adam reads the parameters, the gradient and both moments and writes the parameters and both
//! moments: 4 arrays read, 3 written. The yardstick reads and writes the same arrays and does
//! nothing else, so its throughput is what the memory system gives a single thread; Adam is
//! held to at least 80% of it on vectors far larger than cache. Both report throughput as
//! those 7 streams of bytes, so the ratio of the two is the ratio of their times. (Adam also
//! reads the gradient once more, to refuse a non-finite one before changing anything: that
//! read is part of its cost, not of the accounted traffic.)
//!
//! Run with `cargo bench --bench adam -- --warm-up-time 1 --measurement-time 3`, and with
//! `--features nabla-runtime/rayon` to split large blocks across threads.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nabla::Adam;

/// Sizes from in-cache (2^10) to beyond the last-level cache: 2^24 `f64` elements are 512 MiB
/// over the four arrays, and 2^26 keeps even `f32` far out of a server's few hundred MiB of L3.
const LOG2_SIZES: [u32; 7] = [10, 14, 18, 20, 22, 24, 26];

/// Streams of the Adam update: p, m, v read and written, g read.
const STREAMS: u64 = 7;

/// The yardstick: p, g, m, v read, p, m, v written, one fused loop, values kept bounded (no
/// overflow, no subnormals) however often it runs. Never inlined, and every array goes through
/// `black_box`, so that LLVM cannot fuse consecutive iterations into one pass.
#[inline(never)]
fn copy7<T: Copy + core::ops::Add<Output = T>>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let (old_p, old_m) = (*p, *m);
        *p = g;
        *m = old_p;
        *v = old_m + g;
    }
}

macro_rules! bench_type {
    ($name:ident, $t:ty) => {
        fn $name(c: &mut Criterion) {
            let mut group = c.benchmark_group(concat!("adam_", stringify!($t)));
            for log2 in LOG2_SIZES {
                let n = 1usize << log2;
                let bytes = STREAMS * (n * core::mem::size_of::<$t>()) as u64;
                group.throughput(Throughput::Bytes(bytes));
                // Fewer samples for the large sizes, where one iteration takes milliseconds.
                group.sample_size(if log2 >= 20 { 10 } else { 50 });

                let grads: Vec<$t> = (0..n)
                    .map(|i| if i % 2 == 0 { 0.5 } else { -1.5 } + (i % 7) as $t * 0.125)
                    .collect();
                {
                    let mut params: Vec<$t> = vec![1.0; n];
                    let mut opt = Adam::new(1e-3);
                    // The first step allocates the state: measure the steady state.
                    opt.step(&mut params, &grads).unwrap();
                    group.bench_with_input(BenchmarkId::new("adam", n), &n, |b, _| {
                        b.iter(|| opt.step(black_box(&mut params), black_box(&grads)))
                    });
                }
                {
                    let mut p: Vec<$t> = vec![1.0; n];
                    let mut m: Vec<$t> = vec![0.0; n];
                    let mut v: Vec<$t> = vec![0.0; n];
                    group.bench_with_input(BenchmarkId::new("copy7", n), &n, |b, _| {
                        b.iter(|| {
                            copy7(
                                black_box(&mut p),
                                black_box(&grads),
                                black_box(&mut m),
                                black_box(&mut v),
                            )
                        })
                    });
                }
            }
            group.finish();
        }
    };
}

bench_type!(adam_f32, f32);
bench_type!(adam_f64, f64);

criterion_group!(benches, adam_f32, adam_f64);
criterion_main!(benches);
