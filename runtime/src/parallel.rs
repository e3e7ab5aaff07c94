//! Data-parallel gradients: [`par_grad`] and [`par_grad_chunked`] (feature `rayon`).
//!
//! A loss that is a sum over samples has a gradient that is a sum over samples too, so the data
//! set can be cut into chunks, the gradient of each chunk computed on its own thread, and the
//! chunks' values and gradients added up. These functions do the cutting, the threading (on
//! rayon's global pool) and the adding; the closure they call computes one chunk's value and
//! gradient, usually with a generated `NAME_grad` on that chunk's rows.
//!
//! Gradients are added with the [`Parameters`] walk that optimizers use, so any gradient an
//! optimizer can apply can be added: `f32`, `f64`, arrays, `Vec`s, nalgebra matrices, tuples of
//! these, and user types whose `Parameters::Gradient` is the type itself.

use core::ops::Range;

use rayon::prelude::*;

use crate::parameters::{BlockVisitor, Parameters};

/// Chunks per thread of the pool in [`par_grad`]: more than one, so that a thread that finishes
/// early (or a core busy with something else) does not leave the others waiting.
const CHUNKS_PER_THREAD: usize = 4;

/// The value and gradient of a loss that is a sum over the samples `range`, computed chunk by
/// chunk on rayon's thread pool.
///
/// `range` indexes the samples (usually `0..n`). `chunk_grad(chunk)` returns the value and
/// gradient of the loss over the samples `chunk`, a sub-range of `range`; `par_grad` calls it
/// once per chunk, on the pool's threads, and returns the sum of the values and the sum of the
/// gradients. The range is cut into about four chunks per thread of the pool, each at least one
/// sample long.
///
/// # Sum or mean: the closure decides
///
/// `par_grad` only adds up what the chunks return, so the closure decides what the total means:
///
/// - **Sum:** let each chunk return the sum of its samples' losses: the result is the sum over
///   the data set.
/// - **Mean:** let each chunk divide its sum by the size of the *whole* data set, passed to the
///   loss as a `#[no_grad]` argument: the chunks' shares add up to the mean. A loss that divides
///   by its own chunk's length (`rows.len()`) would give a sum of chunk means instead: wrong by a
///   factor of the number of chunks, and weighting a short last chunk too heavily.
///
/// # Example
///
/// A mean squared error over a data set, `loss(w) = Σ (w·x − y)² / n`. Here `loss_grad` is
/// written out by hand; in a program it is the one `#[differentiable]` generates for
///
/// ```text
/// #[differentiable]
/// fn loss(w: f64, #[no_grad] xs: &[f64], #[no_grad] ys: &[f64], #[no_grad] n: f64) -> f64 {
///     let mut total = 0.0;
///     for (x, y) in xs.iter().zip(ys) {
///         let r = w * x - y;
///         total += r * r;
///     }
///     total / n
/// }
/// ```
///
/// ```
/// # fn loss_grad(w: f64, xs: &[f64], ys: &[f64], n: f64) -> (f64, f64) {
/// #     let (mut value, mut dw) = (0.0, 0.0);
/// #     for (x, y) in xs.iter().zip(ys) {
/// #         let r = w * x - y;
/// #         value += r * r;
/// #         dw += 2.0 * r * x;
/// #     }
/// #     (value / n, dw / n)
/// # }
/// let xs: Vec<f64> = (0..10_000).map(|i| i as f64 / 10_000.0).collect();
/// let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x + 0.5).collect();
/// let n = xs.len() as f64;
///
/// // Each chunk returns its share of the mean: its own sum divided by the whole `n`.
/// let (value, dw) = nabla_runtime::par_grad(0..xs.len(), |chunk| {
///     loss_grad(2.0, &xs[chunk.clone()], &ys[chunk], n)
/// });
///
/// // The same numbers as one serial call over all the data, up to rounding.
/// let (serial_value, serial_dw) = loss_grad(2.0, &xs, &ys, n);
/// assert!((value - serial_value).abs() <= 1e-12 * serial_value.abs());
/// assert!((dw - serial_dw).abs() <= 1e-12 * serial_dw.abs());
/// ```
///
/// The gradient can be anything a generated `NAME_grad` returns, tuples included:
/// `|chunk| loss_grad(&w, b, &rows[chunk.clone()], &ys[chunk], n)` for a loss of weights
/// `w: &[f64]` and a bias `b: f64` over data rows gives `(value, (dw, db))`, which
/// `Adam::step(&mut (w, b), &grads)` applies as it is.
///
/// # Rounding and reproducibility
///
/// The chunks' results are added in chunk order after all chunks are done, never in the order
/// the threads finish, so the result is the same on every run with the same number of threads.
/// It differs from a serial gradient over all samples only by the rounding of a different order
/// of additions (in the last few bits, relative to the sum of magnitudes). The chunk boundaries
/// depend on the size of the pool; [`par_grad_chunked`] takes a chunk length instead and gives
/// the same bits on every machine.
///
/// # Panics
///
/// If the chunks' gradients have different lengths or matrix shapes (a gradient must have the
/// same shape for every chunk), or if `chunk_grad` panics. An empty `range` is one empty chunk:
/// `chunk_grad` is called once, with it.
pub fn par_grad<V, G, F>(range: Range<usize>, chunk_grad: F) -> (V, G)
where
    V: Parameters<Gradient = V> + Send,
    G: Parameters<Gradient = G> + Send,
    F: Fn(Range<usize>) -> (V, G) + Sync,
{
    let chunks = CHUNKS_PER_THREAD * rayon::current_num_threads();
    let chunk_len = range.len().div_ceil(chunks).max(1);
    par_grad_chunked(range, chunk_len, chunk_grad)
}

/// [`par_grad`] with chunks of `chunk_len` samples (the last one shorter): the chunk boundaries,
/// and so the result's bits, do not depend on the number of threads.
///
/// A chunk should be long enough that computing its gradient costs far more than allocating and
/// adding one gradient: thousands of samples for a small model.
///
/// ```
/// // The sum of x² over 0..1000, and its derivative with respect to a scale s at s = 1.
/// let (value, ds) = nabla_runtime::par_grad_chunked(0..1000, 64, |chunk| {
///     let s = 1.0;
///     let value: f64 = chunk.clone().map(|i| (s * i as f64).powi(2)).sum();
///     let ds: f64 = chunk.map(|i| 2.0 * s * (i as f64).powi(2)).sum();
///     (value, ds)
/// });
/// assert_eq!(value, 332_833_500.0);
/// assert_eq!(ds, 2.0 * 332_833_500.0);
/// ```
///
/// # Panics
///
/// If `chunk_len` is 0, and as [`par_grad`].
pub fn par_grad_chunked<V, G, F>(range: Range<usize>, chunk_len: usize, chunk_grad: F) -> (V, G)
where
    V: Parameters<Gradient = V> + Send,
    G: Parameters<Gradient = G> + Send,
    F: Fn(Range<usize>) -> (V, G) + Sync,
{
    assert!(
        chunk_len > 0,
        "par_grad_chunked: chunk_len must be at least 1"
    );
    if range.is_empty() {
        return chunk_grad(range);
    }
    let start = range.start;
    let end = range.end;
    let chunks = range.len().div_ceil(chunk_len);
    // `collect` into a Vec keeps chunk order, whatever order the threads finish in.
    let parts: Vec<(V, G)> = (0..chunks)
        .into_par_iter()
        .map(|k| {
            let first = start + k * chunk_len;
            chunk_grad(first..end.min(first + chunk_len))
        })
        .collect();
    let mut parts = parts.into_iter();
    let (mut value, mut gradient) = parts.next().expect("a non-empty range has a chunk");
    for (v, g) in parts {
        value.visit_blocks(&v, &mut AddBlocks);
        gradient.visit_blocks(&g, &mut AddBlocks);
    }
    (value, gradient)
}

/// Adds each block of a gradient into the matching block of an accumulated one.
struct AddBlocks;

fn add_block<T: Copy + core::ops::AddAssign>(total: &mut [T], part: &[T]) {
    assert_eq!(
        total.len(),
        part.len(),
        "par_grad: chunks returned gradients of different lengths"
    );
    for (t, &p) in total.iter_mut().zip(part) {
        *t += p;
    }
}

impl BlockVisitor for AddBlocks {
    fn f32_block(&mut self, total: &mut [f32], part: &[f32]) {
        add_block(total, part);
    }

    fn f64_block(&mut self, total: &mut [f64], part: &[f64]) {
        add_block(total, part);
    }

    fn shape_mismatch(&mut self, expected: (usize, usize), found: (usize, usize)) {
        panic!("par_grad: chunks returned gradient matrices of different shapes, {expected:?} and {found:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::bce_with_logits;
    use nalgebra::{DMatrix, SVector};

    /// The largest relative difference between two lists of numbers, relative to the larger
    /// magnitude of each pair.
    fn worst_relative(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max)
    }

    /// Deterministic data in [-1, 1) (a small LCG: the runtime has no dependency for this).
    fn data(n: usize, d: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        let rows: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| next()).collect()).collect();
        let ys = (0..n)
            .map(|_| if next() > 0.0 { 1.0 } else { 0.0 })
            .collect();
        (rows, ys)
    }

    /// A hand-written gradient of the mean logistic loss over `rows`, divided by the full `n`,
    /// with the gradient shaped as a generated `logistic_grad(w: &[f64], b: f64, ..)` returns it.
    fn logistic_grad(
        w: &[f64],
        b: f64,
        rows: &[Vec<f64>],
        ys: &[f64],
        n: f64,
    ) -> (f64, (Vec<f64>, f64)) {
        let mut value = 0.0;
        let mut dw = vec![0.0; w.len()];
        let mut db = 0.0;
        for (row, &y) in rows.iter().zip(ys) {
            let z = b + w.iter().zip(row).map(|(w, x)| w * x).sum::<f64>();
            value += bce_with_logits(z, y);
            let dz = 1.0 / (1.0 + (-z).exp()) - y;
            for (g, x) in dw.iter_mut().zip(row) {
                *g += dz * x;
            }
            db += dz;
        }
        for g in &mut dw {
            *g /= n;
        }
        (value / n, (dw, db / n))
    }

    #[test]
    fn equals_the_serial_gradient() {
        let (rows, ys) = data(10_007, 7);
        let n = rows.len() as f64;
        let w: Vec<f64> = (0..7).map(|j| 0.3 - 0.1 * j as f64).collect();
        let b = 0.2;
        let (serial_value, (serial_dw, serial_db)) = logistic_grad(&w, b, &rows, &ys, n);
        let serial: Vec<f64> = [&[serial_value][..], &serial_dw, &[serial_db]].concat();

        let by_pool = par_grad(0..rows.len(), |chunk| {
            logistic_grad(&w, b, &rows[chunk.clone()], &ys[chunk], n)
        });
        // Chunk lengths that divide n, that do not, of one sample, and longer than the data.
        let by_length = [1, 100, 1000, 10_007, 20_000].map(|len| {
            par_grad_chunked(0..rows.len(), len, |chunk| {
                logistic_grad(&w, b, &rows[chunk.clone()], &ys[chunk], n)
            })
        });
        for (value, (dw, db)) in std::iter::once(by_pool).chain(by_length) {
            let parallel: Vec<f64> = [&[value][..], &dw, &[db]].concat();
            let worst = worst_relative(&parallel, &serial);
            assert!(worst <= 1e-12, "relative difference {worst:e}");
        }
    }

    #[test]
    fn sub_ranges_are_offset_and_cover_the_range_once() {
        // Each chunk returns a one-hot count of the samples it was given.
        let (total, counts) = par_grad_chunked(3..50, 5, |chunk| {
            let mut counts = vec![0.0; 50];
            for i in chunk.clone() {
                counts[i] += 1.0;
            }
            (chunk.len() as f64, counts)
        });
        assert_eq!(total, 47.0);
        let expected: Vec<f64> = (0..50).map(|i| if i >= 3 { 1.0 } else { 0.0 }).collect();
        assert_eq!(counts, expected);
    }

    #[test]
    fn adds_every_gradient_shape() {
        type Grad = (f32, [f64; 2], Vec<f64>, SVector<f64, 3>, DMatrix<f32>);
        let (value, g): (f64, Grad) = par_grad_chunked(0..10, 3, |chunk| {
            let k = chunk.len() as f64;
            (
                k,
                (
                    k as f32,
                    [k, 2.0 * k],
                    vec![k; 4],
                    SVector::repeat(-k),
                    DMatrix::from_element(2, 3, k as f32),
                ),
            )
        });
        assert_eq!(value, 10.0);
        assert_eq!(g.0, 10.0);
        assert_eq!(g.1, [10.0, 20.0]);
        assert_eq!(g.2, vec![10.0; 4]);
        assert_eq!(g.3, SVector::<f64, 3>::repeat(-10.0));
        assert_eq!(g.4, DMatrix::from_element(2, 3, 10.0f32));
    }

    #[test]
    fn an_empty_range_is_one_empty_chunk() {
        let (value, g) = par_grad(7..7, |chunk| (chunk.len() as f64, [1.0f64]));
        assert_eq!((value, g), (0.0, [1.0]));
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn gradients_of_different_lengths_panic() {
        par_grad_chunked(0..4, 1, |chunk| (0.0, vec![0.0; chunk.start + 1]));
    }

    #[test]
    #[should_panic(expected = "different shapes")]
    fn matrices_of_different_shapes_panic() {
        par_grad_chunked(0..4, 2, |chunk| {
            let rows = if chunk.start == 0 { 2 } else { 3 };
            (0.0, DMatrix::<f64>::zeros(rows, 6 / rows))
        });
    }
}
