//! Why an optimizer step was refused.

use core::fmt;

/// Why [`Adam::step`](super::Adam::step) refused a gradient.
///
/// A refused step changes nothing: not the parameters, not the step count, not the optimizer's
/// state. Training can go on with the next gradient as if the refused one never came.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// The gradient holds a NaN or an infinity.
    NonFiniteGradient {
        /// Flat index of the first offending element: elements are counted across all blocks
        /// of the parameters in their walk order (tuple members in order, matrices column-major).
        index: usize,
        /// The offending value (widened to `f64` for `f32` gradients).
        value: f64,
    },
    /// A gradient block has another number of elements than its parameter block (a `Vec`
    /// gradient of the wrong length).
    SizeMismatch {
        /// Number of elements of the parameter block.
        expected: usize,
        /// Number of elements of the gradient block.
        found: usize,
    },
    /// A matrix gradient has another shape `(rows, columns)` than its parameter matrix.
    ShapeMismatch {
        /// Shape of the parameter matrix.
        expected: (usize, usize),
        /// Shape of the gradient matrix.
        found: (usize, usize),
    },
    /// The parameters are laid out differently from those the optimizer's state (its moment
    /// estimates) was built for on its first step: a `Vec` that changed length, or another
    /// parameter type.
    StateMismatch {
        /// Number of parameter elements the state was built for.
        expected: usize,
        /// Number of elements of the parameters passed now.
        found: usize,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptimError::NonFiniteGradient { index, value } => write!(
                f,
                "non-finite gradient: element {index} is {value}; \
                 parameters and optimizer state are unchanged"
            ),
            OptimError::SizeMismatch { expected, found } => write!(
                f,
                "gradient block has {found} elements but its parameter block has {expected}"
            ),
            OptimError::ShapeMismatch { expected, found } => write!(
                f,
                "gradient matrix is {}x{} but its parameter matrix is {}x{}",
                found.0, found.1, expected.0, expected.1
            ),
            OptimError::StateMismatch { expected, found } if expected == found => write!(
                f,
                "parameters are laid out differently from those the optimizer state was built \
                 for; use a new optimizer or call `reset` for new parameters"
            ),
            OptimError::StateMismatch { expected, found } => write!(
                f,
                "parameters have {found} elements but the optimizer state was built for \
                 {expected}; use a new optimizer or call `reset` for new parameters"
            ),
        }
    }
}

impl std::error::Error for OptimError {}
