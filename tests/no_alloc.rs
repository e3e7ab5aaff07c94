//! The gradient of straight-line scalar code allocates nothing (docs/guide.md, section 9).
//!
//! A counting global allocator (this test binary's own, so other tests are unaffected) counts
//! the allocations made on the measuring thread while `NAME_grad`/`NAME_vjp` run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use nabla::{custom_gradient, differentiable, stop_gradient};

struct CountingAllocator;

/// Allocations (including reallocations) made while a thread was measuring.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread measures: the test harness's own threads allocate freely.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting has no effect on memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// How many allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[differentiable]
fn energy(q: f64, p: f64, #[no_grad] k: f64) -> f64 {
    let (kinetic, potential) = (0.5 * p * p, 0.5 * k * q * q);
    let mut e = kinetic + potential;
    e += 0.1 * q.powi(4) - (q * p).sin().abs();
    e *= 1.0 + f64::tanh(q).exp() / (1.0 + p.hypot(q));
    e
}

#[custom_gradient(cube_pullback)]
fn cube(x: f64) -> f64 {
    x * x * x
}

fn cube_pullback(x: f64, cotangent: f64) -> f64 {
    3.0 * x * x * cotangent
}

#[differentiable]
fn straight_line(x: f64, y: f64, z: f64) -> f64 {
    let a: f64 = x * y + z.sqrt();
    let b = a.ln_1p() * f64::atan2(y, x) - stop_gradient(x.round()) * z;
    let c = energy(a, b, 3.0) + cube(z - x);
    let d = c.max(y).clamp(-5.0, 5.0) + x.mul_add(y, z) + b.cbrt() * std::f64::consts::PI;
    -d / (1.0 + x * x).recip() + (y as f32).exp() as f64
}

#[differentiable]
fn straight_line_f32(x: f32, y: f32) -> f32 {
    let (s, c) = (x.sin(), f32::cos(y));
    let mut r = s * c - x.exp2();
    r /= 1.0 + y * y;
    r.powf(2.0) + x.hypot(y).ln()
}

#[test]
fn gradients_of_straight_line_code_do_not_allocate() {
    // The counter works: a `Vec` is seen.
    let n = allocations_in(|| {
        black_box(vec![black_box(1.0f64); 8]);
    });
    assert_eq!(n, 1);

    let inputs = [(0.3, 1.2, 2.0), (-1.1, 0.4, 0.5), (2.0, -0.7, 1e-3)];
    for (x, y, z) in inputs {
        // The values are those of the functions as written.
        assert_eq!(
            straight_line_grad(x, y, z).0.to_bits(),
            straight_line(x, y, z).to_bits()
        );
        let (xf, yf) = (x as f32, y as f32);
        assert_eq!(
            straight_line_f32_grad(xf, yf).0.to_bits(),
            straight_line_f32(xf, yf).to_bits()
        );

        let n = allocations_in(|| {
            black_box(straight_line_grad(black_box(x), black_box(y), black_box(z)));
            black_box(straight_line_vjp(
                black_box(x),
                black_box(y),
                black_box(z),
                0.5,
            ));
            black_box(energy_grad(black_box(x), black_box(y), black_box(z)));
            black_box(cube_grad(black_box(x)));
            black_box(straight_line_f32_grad(
                black_box(x as f32),
                black_box(y as f32),
            ));
        });
        assert_eq!(n, 0, "the gradients allocated {n} times at {x}, {y}, {z}");
    }
}
