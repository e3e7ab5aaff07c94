//! The inner loops of Adam: one fused pass per contiguous block.
//!
//! The loops are written over zipped slices so that LLVM sees no bounds checks and vectorizes
//! them, and carry no branch on the convention or on weight decay: those are folded into the
//! per-step [`Coefficients`] (a multiplier of 1 or a term of 0 where a feature is off). Only
//! AMSGrad, which touches a fourth state array, has a loop of its own.
//!
//! `multiversion` compiles every kernel for each SIMD level of the target (on x86-64: the
//! x86-64-v4 AVX-512 level from Rust 1.89 on, v3 with AVX2 and FMA, v2, and the baseline) and
//! picks the best one for the running CPU once, so a plain `cargo build` gets wide vectors
//! without `-C target-cpu=native`.
//!
//! With the `rayon` feature, blocks of `PAR_MIN_LEN` elements or more are cut into chunks run
//! on rayon's thread pool; every element's arithmetic is the same either way, so results do not
//! depend on the feature or the number of threads.

use crate::real::Real;
use multiversion::multiversion;

/// The per-step constants of the update, computed once per step in `f64` and then cast to the
/// element type, so that no loop recomputes powers or branches on the convention.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Coefficients<T> {
    /// `1 - beta1`: the first moment moves this far towards the gradient.
    pub one_minus_beta1: T,
    pub beta2: T,
    pub one_minus_beta2: T,
    /// L2 weight decay, added to the gradient as `l2 * p` (0 when off).
    pub l2: T,
    /// Decoupled weight decay: parameters are first multiplied by this (1 when off).
    pub decay: T,
    /// Multiplies `m / denominator` in the parameter update.
    pub step_size: T,
    /// Multiplies `sqrt(v)` in the denominator: `1 / sqrt(1 - beta2^t)` for PyTorch's bias
    /// correction of `v`, 1 for Keras, whose correction lives in `step_size`.
    pub denom_scale: T,
    pub eps: T,
}

impl Coefficients<f64> {
    /// The same constants rounded to `T`.
    pub(crate) fn cast<T: Real>(&self) -> Coefficients<T> {
        Coefficients {
            one_minus_beta1: T::from_f64(self.one_minus_beta1),
            beta2: T::from_f64(self.beta2),
            one_minus_beta2: T::from_f64(self.one_minus_beta2),
            l2: T::from_f64(self.l2),
            decay: T::from_f64(self.decay),
            step_size: T::from_f64(self.step_size),
            denom_scale: T::from_f64(self.denom_scale),
            eps: T::from_f64(self.eps),
        }
    }
}

/// Blocks at least this long are split across threads: below it, fork-join costs more than the
/// loop.
#[cfg(feature = "rayon")]
const PAR_MIN_LEN: usize = 1 << 16;

/// Elements per parallel task: enough to amortize scheduling, few enough to balance the load.
#[cfg(feature = "rayon")]
const PAR_CHUNK: usize = 1 << 14;

/// The new first and second moments of one element; shared by both loops so that they cannot
/// drift apart.
#[inline(always)]
fn moments<T: Real>(c: &Coefficients<T>, p: T, g: T, m: T, v: T) -> (T, T) {
    let g = g + c.l2 * p;
    // The first moment in lerp form, as PyTorch (`lerp_`) and Keras (`m += (g - m) * (1 - b1)`)
    // both write it.
    let m = m + c.one_minus_beta1 * (g - m);
    let v = c.beta2 * v + c.one_minus_beta2 * (g * g);
    (m, v)
}

/// The updated parameter, given the new first moment and the second moment the denominator
/// uses (AMSGrad's maximum or the moment itself).
#[inline(always)]
fn updated<T: Real>(c: &Coefficients<T>, p: T, m: T, v: T) -> T {
    p * c.decay - c.step_size * (m / (v.sqrt() * c.denom_scale + c.eps))
}

/// One Adam step over a block: `p`, `m` and `v` are read and written, `g` is read, once each.
///
/// All four slices have the same length (checked by the caller before anything is mutated).
pub(crate) fn adam<T: Real>(c: &Coefficients<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    #[cfg(feature = "rayon")]
    if p.len() >= PAR_MIN_LEN {
        use rayon::prelude::*;
        p.par_chunks_mut(PAR_CHUNK)
            .zip(g.par_chunks(PAR_CHUNK))
            .zip(m.par_chunks_mut(PAR_CHUNK))
            .zip(v.par_chunks_mut(PAR_CHUNK))
            .for_each(|(((p, g), m), v)| adam_serial(c, p, g, m, v));
        return;
    }
    adam_serial(c, p, g, m, v);
}

#[multiversion(targets = "simd")]
fn adam_serial<T: Real>(c: &Coefficients<T>, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    debug_assert!(g.len() == p.len() && m.len() == p.len() && v.len() == p.len());
    let c = *c;
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let (mt, vt) = moments(&c, *p, g, *m, *v);
        *m = mt;
        *v = vt;
        *p = updated(&c, *p, mt, vt);
    }
}

/// One AMSGrad step over a block: like [`adam`], and the running maximum `vmax` of the raw
/// second moment is what the denominator uses.
pub(crate) fn amsgrad<T: Real>(
    c: &Coefficients<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: &mut [T],
) {
    #[cfg(feature = "rayon")]
    if p.len() >= PAR_MIN_LEN {
        use rayon::prelude::*;
        p.par_chunks_mut(PAR_CHUNK)
            .zip(g.par_chunks(PAR_CHUNK))
            .zip(m.par_chunks_mut(PAR_CHUNK))
            .zip(v.par_chunks_mut(PAR_CHUNK))
            .zip(vmax.par_chunks_mut(PAR_CHUNK))
            .for_each(|((((p, g), m), v), vmax)| amsgrad_serial(c, p, g, m, v, vmax));
        return;
    }
    amsgrad_serial(c, p, g, m, v, vmax);
}

#[multiversion(targets = "simd")]
fn amsgrad_serial<T: Real>(
    c: &Coefficients<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: &mut [T],
) {
    debug_assert!(g.len() == p.len() && m.len() == p.len());
    debug_assert!(v.len() == p.len() && vmax.len() == p.len());
    let c = *c;
    let pg = p.iter_mut().zip(g);
    let state = m.iter_mut().zip(v.iter_mut()).zip(vmax.iter_mut());
    for ((p, &g), ((m, v), vmax)) in pg.zip(state) {
        let (mt, vt) = moments(&c, *p, g, *m, *v);
        // A plain comparison rather than `max`: all values are finite (gradients are checked
        // first), so the NaN handling of `max` would only cost instructions.
        let vm = if vt > *vmax { vt } else { *vmax };
        *m = mt;
        *v = vt;
        *vmax = vm;
        *p = updated(&c, *p, mt, vm);
    }
}

/// The index of the first NaN or infinity in `g`, if any.
///
/// The common case (all finite) is one branch-free pass that vectorizes; only a block known to
/// hold a bad value is scanned again for its position.
pub(crate) fn first_non_finite<T: Real>(g: &[T]) -> Option<usize> {
    #[cfg(feature = "rayon")]
    if g.len() >= PAR_MIN_LEN {
        use rayon::prelude::*;
        return g
            .par_chunks(PAR_CHUNK)
            .enumerate()
            .find_map_first(|(k, chunk)| {
                first_non_finite_serial(chunk).map(|i| k * PAR_CHUNK + i)
            });
    }
    first_non_finite_serial(g)
}

#[multiversion(targets = "simd")]
fn first_non_finite_serial<T: Real>(g: &[T]) -> Option<usize> {
    let all_finite = g.iter().fold(true, |all, x| all & x.is_finite());
    if all_finite {
        None
    } else {
        g.iter().position(|x| !x.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_non_finite_value_anywhere() {
        // The last size is above the threshold of the `rayon` feature's parallel scan.
        for n in [1usize, 7, 8, 9, 63, 64, 65, 1000, (1 << 17) + 5] {
            let clean = vec![0.5f64; n];
            assert_eq!(first_non_finite(&clean), None);
            for at in [0, n / 2, n - 1] {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut g = clean.clone();
                    g[at] = bad;
                    if at + 1 < n {
                        g[n - 1] = f64::NAN;
                    }
                    assert_eq!(first_non_finite(&g), Some(at), "n={n} at={at} bad={bad}");
                    let g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
                    assert_eq!(first_non_finite(&g32), Some(at));
                }
            }
        }
        assert_eq!(first_non_finite::<f32>(&[]), None);
        assert_eq!(first_non_finite(&[f64::MAX, f64::MIN, 0.0]), None);
    }
}
