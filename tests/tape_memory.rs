//! Heap memory of one `NAME_grad` call on the benchmark workloads (benches/control_flow.rs),
//! measured with a counting global allocator: the peak of live heap bytes during the call,
//! minus the bytes live before it, minus the same for one primal call. What remains is what
//! the gradient adds: the loop tapes (`nabla::__private::Tape`, including the slack of their
//! growth) and the adjoint buffers of local `Vec`s, plus the returned gradient itself (reported
//! separately). Run with `cargo test --release --test tape_memory -- --nocapture` to see
//! the table.
//!
//! The bounds asserted are regression guards at about twice what was measured when written
//! (they hold in debug and release builds); the numbers are reported, not a target.

mod flow_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use flow_common::{
    gmm_data, logistic_data, logistic_loss, logistic_loss_grad, oscillator, oscillator_grad,
};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn add(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

fn sub(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::SeqCst);
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Count the moment both blocks may exist, as a copying realloc has them.
        add(new_size);
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            sub(new_size);
        } else {
            sub(layout.size());
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns (its result, the peak heap bytes above those live before the call).
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let r = std::hint::black_box(f());
    (r, PEAK.load(Ordering::SeqCst) - before)
}

struct Row {
    name: &'static str,
    primal: usize,
    grad: usize,
    output: usize,
}

fn kib(b: usize) -> String {
    format!("{:.1} KiB", b as f64 / 1024.0)
}

#[test]
fn tape_peak_memory_of_benchmark_workloads() {
    // Everything below runs in this one test, so no other test thread allocates meanwhile.
    let logistic = logistic_data(10, 10_000, 42);
    let gmm = gmm_data(10, 25, 1000, 42);
    let mut rows = Vec::new();

    {
        let (_, primal) = peak_during(|| oscillator(4.0, 0.3, 1000, 0.01));
        let (_, grad) = peak_during(|| oscillator_grad(4.0, 0.3, 1000, 0.01));
        rows.push(Row {
            name: "ODE (Euler, 1000 steps)",
            primal,
            grad,
            output: 0,
        });
    }
    {
        let d = &logistic;
        let (_, primal) = peak_during(|| logistic_loss(&d.w, d.b, &d.x, &d.y, 10, 0.01));
        let (g, grad) = peak_during(|| logistic_loss_grad(&d.w, d.b, &d.x, &d.y, 10, 0.01));
        rows.push(Row {
            name: "logistic (d=10, n=10000)",
            primal,
            grad,
            output: g.1 .0.capacity() * 8,
        });
    }
    {
        let (_, primal) = peak_during(|| gmm.objective());
        let (g, grad) = peak_during(|| gmm.gradient());
        let (ga, gm, gi) = &g.1;
        rows.push(Row {
            name: "GMM (d=10, k=25, n=1000)",
            primal,
            grad,
            output: (ga.capacity() + gm.capacity() + gi.capacity()) * 8,
        });
    }
    // nothing is left behind
    let before = LIVE.load(Ordering::SeqCst);
    drop(std::hint::black_box(gmm.gradient()));
    assert_eq!(
        LIVE.load(Ordering::SeqCst),
        before,
        "a gradient call leaked memory"
    );

    println!();
    println!(
        "{:<26} {:>14} {:>14} {:>14} {:>16}",
        "workload", "primal peak", "grad peak", "gradient out", "tape+adjoints"
    );
    for r in &rows {
        println!(
            "{:<26} {:>14} {:>14} {:>14} {:>16}",
            r.name,
            kib(r.primal),
            kib(r.grad),
            kib(r.output),
            kib(r.grad - r.primal.min(r.grad) - r.output.min(r.grad)),
        );
    }

    // Regression guards (about twice the measured values; see the module docs).
    let limits = [64 * 1024, 1024 * 1024, 2 * 1024 * 1024];
    for (r, limit) in rows.iter().zip(limits) {
        assert!(
            r.grad <= limit,
            "{}: gradient peak {} above the guard {}",
            r.name,
            kib(r.grad),
            kib(limit)
        );
    }
}
