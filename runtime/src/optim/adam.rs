//! Adam, AdamW and AMSGrad, in PyTorch's and in Keras's form.

use core::fmt;
use core::ops::Range;

use super::error::OptimError;
use super::kernel::{self, Coefficients};
use crate::parameters::{BlockVisitor, Element, Parameters};
use crate::real::Real;

/// Where Adam's bias correction and `eps` go. The two forms differ only in how `eps` is scaled,
/// which matters early in training and for tiny gradients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Convention {
    /// PyTorch's `torch.optim.Adam`/`AdamW` (also optax's `scale_by_adam`): both moments are
    /// bias-corrected and `eps` is added to the corrected root,
    /// `p -= lr * m̂ / (sqrt(v̂) + eps)` with `m̂ = m / (1 - β₁ᵗ)`, `v̂ = v / (1 - β₂ᵗ)`.
    #[default]
    PyTorch,
    /// Keras 3 and TensorFlow (the "epsilon hat" of Kingma and Ba): the correction is folded
    /// into the step size and `eps` is added to the raw root,
    /// `p -= α · m / (sqrt(v) + eps)` with `α = lr · sqrt(1 - β₂ᵗ) / (1 - β₁ᵗ)`.
    Keras,
}

/// The Adam optimizer, with AMSGrad, L2 weight decay and decoupled weight decay (AdamW).
///
/// Hyperparameters are `f64` and apply to `f32` and `f64` parameters alike; the defaults are
/// PyTorch's (`betas` 0.9 and 0.999, `eps` 1e-8, no weight decay, no AMSGrad). The moment
/// estimates are allocated on the first [`step`](Adam::step), sized from the parameters, and
/// reused by every later step, which must therefore pass parameters of the same layout (or call
/// [`reset`](Adam::reset) first).
///
/// A step that receives a NaN or infinite gradient, or one of the wrong size, returns an
/// [`OptimError`] and changes nothing, so training can go on with the next gradient.
///
/// ```
/// use nabla_runtime::Adam;
/// use nalgebra::SVector;
///
/// // Minimize |w - target|² + (b - 1)²; `grads` has the type of `params`, as a generated
/// // `loss_grad` returns it.
/// let target = SVector::<f64, 3>::new(1.0, -2.0, 0.5);
/// let mut params = (SVector::<f64, 3>::zeros(), 0.0_f64);
/// let mut opt = Adam::new(0.05);
/// for _ in 0..1000 {
///     let grads = (2.0 * (params.0 - target), 2.0 * (params.1 - 1.0));
///     opt.step(&mut params, &grads)?;
/// }
/// assert!((params.0 - target).norm() < 1e-3 && (params.1 - 1.0).abs() < 1e-3);
///
/// // A bad gradient is refused and nothing changes.
/// let before = params;
/// assert!(opt.step(&mut params, &(SVector::zeros(), f64::NAN)).is_err());
/// assert_eq!(params, before);
/// # Ok::<(), nabla_runtime::OptimError>(())
/// ```
#[derive(Clone)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    amsgrad: bool,
    weight_decay: f64,
    decoupled_weight_decay: f64,
    convention: Convention,
    /// Steps taken so far: `t` of the bias corrections is `steps + 1` during a step.
    steps: u64,
    state: Option<State>,
}

/// The moment estimates, kept as one flat buffer per element type and walked in block order,
/// so that tuples mixing `f32` and `f64` members need no per-block allocation.
#[derive(Clone)]
struct State {
    /// The blocks of the parameters the state was built for, to refuse other parameters.
    layout: Vec<BlockKind>,
    f32: Moments<f32>,
    f64: Moments<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    F32(usize),
    F64(usize),
}

impl BlockKind {
    fn len(self) -> usize {
        match self {
            BlockKind::F32(n) | BlockKind::F64(n) => n,
        }
    }
}

#[derive(Clone)]
struct Moments<T> {
    m: Vec<T>,
    v: Vec<T>,
    /// Running maximum of `v` for AMSGrad; empty until a step with AMSGrad on needs it.
    vmax: Vec<T>,
}

impl<T: Real> Moments<T> {
    fn zeros(n: usize) -> Self {
        Moments {
            m: vec![T::ZERO; n],
            v: vec![T::ZERO; n],
            vmax: Vec::new(),
        }
    }

    /// Allocates the AMSGrad maximum if it is missing. AMSGrad turned on after some steps
    /// starts its maximum from zero, as a fresh PyTorch state would.
    fn ensure_vmax(&mut self) {
        if self.vmax.len() != self.m.len() {
            self.vmax = vec![T::ZERO; self.m.len()];
        }
    }
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's defaults for everything else.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    pub fn new(lr: f64) -> Self {
        check_learning_rate(lr);
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            amsgrad: false,
            weight_decay: 0.0,
            decoupled_weight_decay: 0.0,
            convention: Convention::PyTorch,
            steps: 0,
            state: None,
        }
    }

    /// Sets the decay rates of the first and second moment estimates (default 0.9 and 0.999).
    ///
    /// # Panics
    /// Unless `0 <= beta < 1` for both.
    #[must_use]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] {
            assert!(
                (0.0..1.0).contains(&beta),
                "Adam {name} must be in [0, 1), got {beta}"
            );
        }
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Sets the term added to the denominator for numerical stability (default 1e-8, PyTorch's;
    /// Keras uses 1e-7). Where it is added depends on the [`Convention`].
    ///
    /// # Panics
    /// If `eps` is negative or not finite.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        assert!(
            eps.is_finite() && eps >= 0.0,
            "Adam eps must be finite and non-negative, got {eps}"
        );
        self.eps = eps;
        self
    }

    /// Turns on AMSGrad: the denominator uses the running maximum of the second moment
    /// estimate, which never decreases (Reddi et al., "On the Convergence of Adam and Beyond").
    /// As in PyTorch, the maximum is taken over the raw estimate, and bias-corrected afterwards
    /// under [`Convention::PyTorch`].
    #[must_use]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// Sets L2 weight decay `lambda`, added to the gradient as `lambda * p` before the moments
    /// are updated, as PyTorch's `Adam(weight_decay=...)` does. For AdamW's decay see
    /// [`decoupled_weight_decay`](Adam::decoupled_weight_decay).
    ///
    /// # Panics
    /// If `lambda` is negative or not finite.
    #[must_use]
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        check_decay(lambda);
        self.weight_decay = lambda;
        self
    }

    /// Sets decoupled weight decay `lambda` (AdamW, Loshchilov and Hutter): each step first
    /// multiplies the parameters by `1 - lr * lambda`, as PyTorch's `AdamW(weight_decay=...)`
    /// does, independently of the gradient's scaling.
    ///
    /// # Panics
    /// If `lambda` is negative or not finite.
    #[must_use]
    pub fn decoupled_weight_decay(mut self, lambda: f64) -> Self {
        check_decay(lambda);
        self.decoupled_weight_decay = lambda;
        self
    }

    /// Chooses PyTorch's (default) or Keras's form of the update; see [`Convention`].
    #[must_use]
    pub fn convention(mut self, convention: Convention) -> Self {
        self.convention = convention;
        self
    }

    /// The learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// Changes the learning rate from the next step on (for a schedule); the moment estimates
    /// are kept.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    pub fn set_learning_rate(&mut self, lr: f64) {
        check_learning_rate(lr);
        self.lr = lr;
    }

    /// The number of steps taken so far (refused steps do not count).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Forgets the moment estimates and the step count, so that the next step starts afresh,
    /// possibly with parameters of another layout. The hyperparameters are kept.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.state = None;
    }

    /// Updates `params` by one Adam step with gradient `grads`.
    ///
    /// `grads` has the gradient type of the parameters: the same type for `f32`, `f64`, arrays,
    /// `Vec`s, nalgebra matrices and tuples of these, `Vec<T>` for a slice `[T]`.
    ///
    /// # Errors
    /// Everything is checked before anything is changed; on error the parameters, the step
    /// count and the moment estimates are untouched.
    /// - [`OptimError::NonFiniteGradient`] if `grads` holds a NaN or an infinity;
    /// - [`OptimError::SizeMismatch`] or [`OptimError::ShapeMismatch`] if a gradient block's
    ///   size or a gradient matrix's shape differs from its parameters';
    /// - [`OptimError::StateMismatch`] if the parameters are laid out differently from those of
    ///   the first step.
    pub fn step<P>(&mut self, params: &mut P, grads: &P::Gradient) -> Result<(), OptimError>
    where
        P: Parameters + ?Sized,
    {
        let new_layout = self.validate(params, grads)?;

        // Nothing below can fail: from here on, mutate.
        self.steps += 1;
        let c = self.coefficients(self.steps);
        // `validate` returns a layout exactly when there is no state yet.
        let state = match (&mut self.state, new_layout) {
            (Some(state), _) => state,
            (slot, layout) => slot.insert(State::new(layout.unwrap_or_default())),
        };
        if self.amsgrad {
            state.f32.ensure_vmax();
            state.f64.ensure_vmax();
        }
        let mut update = Update {
            amsgrad: self.amsgrad,
            f32: Cursor::new(c.cast(), &mut state.f32),
            f64: Cursor::new(c, &mut state.f64),
        };
        params.visit_blocks(grads, &mut update);
        Ok(())
    }

    /// Checks the whole gradient against the parameters and the state, without changing
    /// anything. On a first step, returns the layout to build the state for.
    fn validate<P>(
        &self,
        params: &mut P,
        grads: &P::Gradient,
    ) -> Result<Option<Vec<BlockKind>>, OptimError>
    where
        P: Parameters + ?Sized,
    {
        let expected = self.state.as_ref().map(|s| s.layout.as_slice());
        let mut check = Validator {
            expected,
            layout: Vec::new(),
            blocks: 0,
            elements: 0,
            error: None,
        };
        params.visit_blocks(grads, &mut check);
        let state_mismatch = |found| OptimError::StateMismatch {
            expected: expected.map_or(0, |layout| layout.iter().map(|b| b.len()).sum()),
            found,
        };
        match (check.error, expected) {
            (Some(OptimError::StateMismatch { .. }), _) => Err(state_mismatch(check.elements)),
            (Some(error), _) => Err(error),
            (None, Some(layout)) if layout.len() != check.blocks => {
                Err(state_mismatch(check.elements))
            }
            (None, Some(_)) => Ok(None),
            (None, None) => Ok(Some(check.layout)),
        }
    }

    /// The constants of step `t`, in `f64`: bias corrections are computed once here, never in
    /// the loops.
    fn coefficients(&self, t: u64) -> Coefficients<f64> {
        // `t as f64` is exact for any step count reachable in practice (below 2^53).
        let t = t as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let (step_size, denom_scale) = match self.convention {
            Convention::PyTorch => (self.lr / bias_correction1, 1.0 / bias_correction2.sqrt()),
            Convention::Keras => (self.lr * bias_correction2.sqrt() / bias_correction1, 1.0),
        };
        Coefficients {
            one_minus_beta1: 1.0 - self.beta1,
            beta2: self.beta2,
            one_minus_beta2: 1.0 - self.beta2,
            l2: self.weight_decay,
            decay: 1.0 - self.lr * self.decoupled_weight_decay,
            step_size,
            denom_scale,
            eps: self.eps,
        }
    }
}

impl fmt::Debug for Adam {
    /// Hyperparameters and sizes only: the moment estimates can hold millions of numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adam")
            .field("lr", &self.lr)
            .field("betas", &(self.beta1, self.beta2))
            .field("eps", &self.eps)
            .field("amsgrad", &self.amsgrad)
            .field("weight_decay", &self.weight_decay)
            .field("decoupled_weight_decay", &self.decoupled_weight_decay)
            .field("convention", &self.convention)
            .field("steps", &self.steps)
            .field(
                "state_elements",
                &self.state.as_ref().map(|s| s.f32.m.len() + s.f64.m.len()),
            )
            .finish()
    }
}

fn check_learning_rate(lr: f64) {
    assert!(
        lr.is_finite() && lr >= 0.0,
        "Adam learning rate must be finite and non-negative, got {lr}"
    );
}

fn check_decay(lambda: f64) {
    assert!(
        lambda.is_finite() && lambda >= 0.0,
        "Adam weight decay must be finite and non-negative, got {lambda}"
    );
}

impl State {
    fn new(layout: Vec<BlockKind>) -> Self {
        State {
            f32: Moments::zeros(state_len(&layout, true)),
            f64: Moments::zeros(state_len(&layout, false)),
            layout,
        }
    }
}

/// Number of `f32` (or `f64`) elements in `layout`.
fn state_len(layout: &[BlockKind], f32: bool) -> usize {
    layout
        .iter()
        .map(|&b| match (b, f32) {
            (BlockKind::F32(n), true) | (BlockKind::F64(n), false) => n,
            _ => 0,
        })
        .sum()
}

/// The read-only pass: sizes, layout and finiteness of every block, first error wins.
struct Validator<'a> {
    /// The layout of the existing state, if any.
    expected: Option<&'a [BlockKind]>,
    /// The layout seen, recorded only on a first step (when `expected` is `None`).
    layout: Vec<BlockKind>,
    blocks: usize,
    elements: usize,
    error: Option<OptimError>,
}

impl Validator<'_> {
    fn block<T: Element>(&mut self, kind: BlockKind, grads: &[T]) {
        let (block, start) = (self.blocks, self.elements);
        let len = kind.len();
        self.blocks += 1;
        self.elements += len;
        if self.error.is_some() {
            // Keep counting elements, for the message of a state mismatch, but check no more.
            return;
        }
        if grads.len() != len {
            self.error = Some(OptimError::SizeMismatch {
                expected: len,
                found: grads.len(),
            });
            return;
        }
        match self.expected {
            Some(layout) if layout.get(block) != Some(&kind) => {
                // Sizes are filled in by `validate` once all elements are counted.
                self.error = Some(OptimError::StateMismatch {
                    expected: 0,
                    found: 0,
                });
                return;
            }
            Some(_) => {}
            None => self.layout.push(kind),
        }
        if let Some(i) = kernel::first_non_finite(grads) {
            self.error = Some(OptimError::NonFiniteGradient {
                index: start + i,
                value: grads[i].to_f64(),
            });
        }
    }
}

impl BlockVisitor for Validator<'_> {
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
        self.block(BlockKind::F32(params.len()), grads);
    }

    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
        self.block(BlockKind::F64(params.len()), grads);
    }

    fn shape_mismatch(&mut self, expected: (usize, usize), found: (usize, usize)) {
        self.blocks += 1;
        self.elements += expected.0 * expected.1;
        self.error
            .get_or_insert(OptimError::ShapeMismatch { expected, found });
    }
}

/// The mutating pass, run only after [`Validator`] found nothing wrong.
struct Update<'a> {
    amsgrad: bool,
    f32: Cursor<'a, f32>,
    f64: Cursor<'a, f64>,
}

/// Walks one element type's state buffers in block order.
struct Cursor<'a, T> {
    c: Coefficients<T>,
    moments: &'a mut Moments<T>,
    offset: usize,
}

impl<'a, T: Real> Cursor<'a, T> {
    fn new(c: Coefficients<T>, moments: &'a mut Moments<T>) -> Self {
        Cursor {
            c,
            moments,
            offset: 0,
        }
    }

    fn next(&mut self, len: usize) -> Range<usize> {
        let range = self.offset..self.offset + len;
        self.offset = range.end;
        range
    }

    fn step(&mut self, amsgrad: bool, p: &mut [T], g: &[T]) {
        let range = self.next(p.len());
        let Moments { m, v, vmax } = &mut *self.moments;
        let (m, v) = (&mut m[range.clone()], &mut v[range.clone()]);
        // The branch is per block, not per element: each loop is branch-free.
        if amsgrad {
            kernel::amsgrad(&self.c, p, g, m, v, &mut vmax[range]);
        } else {
            kernel::adam(&self.c, p, g, m, v);
        }
    }
}

impl BlockVisitor for Update<'_> {
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
        self.f32.step(self.amsgrad, params, grads);
    }

    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
        self.f64.step(self.amsgrad, params, grads);
    }

    fn shape_mismatch(&mut self, _: (usize, usize), _: (usize, usize)) {
        unreachable!("shapes are validated before the update pass");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_fold_the_convention_into_constants() {
        let opt = Adam::new(0.1).betas(0.5, 0.75);
        let c = opt.coefficients(2);
        assert_eq!(c.step_size, 0.1 / 0.75);
        assert_eq!(c.denom_scale, 1.0 / (1.0f64 - 0.5625).sqrt());
        assert_eq!(c.decay, 1.0);
        assert_eq!(c.l2, 0.0);
        let keras = opt.convention(Convention::Keras).coefficients(2);
        assert_eq!(keras.step_size, 0.1 * (1.0f64 - 0.5625).sqrt() / 0.75);
        assert_eq!(keras.denom_scale, 1.0);
    }

    #[test]
    fn first_step_error_builds_no_state() {
        let mut opt = Adam::new(0.1);
        let mut p = vec![1.0f64, 2.0];
        assert!(opt.step(&mut p, &vec![1.0, f64::NAN]).is_err());
        assert!(opt.state.is_none());
        assert_eq!(opt.steps(), 0);
        opt.step(&mut p, &vec![1.0, 1.0]).unwrap();
        assert_eq!(opt.state.as_ref().unwrap().layout, vec![BlockKind::F64(2)]);
    }

    #[test]
    fn debug_shows_sizes_not_contents() {
        let mut opt = Adam::new(0.1);
        opt.step(&mut vec![0.0f32; 1000], &vec![1.0; 1000]).unwrap();
        let s = format!("{opt:?}");
        assert!(s.contains("state_elements: Some(1000)"), "{s}");
        assert!(s.len() < 300, "{s}");
    }

    #[test]
    #[should_panic(expected = "beta2 must be in [0, 1)")]
    fn beta_of_one_is_refused() {
        let _ = Adam::new(0.1).betas(0.9, 1.0);
    }
}
