//! # nabla
//!
//! Compile-time reverse-mode automatic differentiation for Rust.
//!
//! `#[differentiable]` on a plain Rust function generates `NAME_grad` and `NAME_vjp` beside it:
//! forward and reverse sweeps as ordinary Rust that rustc optimizes, with no runtime graph.
//! Programs whose gradient would silently be wrong or zero — comparisons used as numbers,
//! rounding, calls with no known derivative, parameters that never reach the result — fail to
//! compile, with an error at your own code that says what to write instead.
//!
//! ```
//! use nabla::differentiable;
//!
//! #[differentiable]
//! fn loss(w: f64, b: f64, #[no_grad] x: f64, #[no_grad] y: f64) -> f64 {
//!     let e = w * x + b - y;
//!     e * e
//! }
//!
//! let (value, (dw, db)) = loss_grad(2.0, 1.0, 3.0, 4.0);
//! assert_eq!(value, 9.0); // e = 2·3 + 1 - 4 = 3
//! assert_eq!(dw, 18.0);   // 2·e·x
//! assert_eq!(db, 6.0);    // 2·e
//! ```
//!
//! The [`guide`] shows every construct `#[differentiable]` accepts, what `NAME_grad` and
//! `NAME_vjp` return, `#[custom_gradient]`, training with [`Adam`] and what the tape costs.
//! [`errors`] lists every error the macro reports, the silent-gradient bug it prevents, and the
//! fix.

/// Generates `NAME_grad` and `NAME_vjp` beside a function, a method or a generic function over
/// [`Real`]: see the crate documentation and the [`guide`].
pub use nabla_macros::differentiable;

/// Makes a function differentiable with a hand-written pullback.
///
/// `#[custom_gradient(pullback)]` keeps the function's body as written (nabla neither checks
/// nor differentiates it) and generates `NAME_grad` and `NAME_vjp` from `pullback`, which also
/// makes the function callable from `#[differentiable]` code. The pullback takes every
/// parameter of the function, in order and with the same types, then the cotangent (of the
/// result's type), and returns the gradient as `NAME_grad` does: bare for one parameter that
/// carries gradient, a tuple in parameter order for several (`#[no_grad]` parameters are passed
/// in but get no entry), each in the owned form of its parameter (`&[f64]` → `Vec<f64>`).
///
/// ```
/// use nabla::{custom_gradient, differentiable};
///
/// /// `x·y` with a pullback written by hand.
/// #[custom_gradient(product_pullback)]
/// fn product(x: f64, y: f64, #[no_grad] scale: f64) -> f64 {
///     scale * x * y
/// }
///
/// fn product_pullback(x: f64, y: f64, scale: f64, cotangent: f64) -> (f64, f64) {
///     (cotangent * scale * y, cotangent * scale * x)
/// }
///
/// #[differentiable]
/// fn area(w: f64, h: f64) -> f64 {
///     product(w, h, 0.5) + w
/// }
///
/// assert_eq!(product_grad(2.0, 3.0, 1.0), (6.0, (3.0, 2.0)));
/// assert_eq!(area_grad(2.0, 3.0), (5.0, (2.5, 1.0)));
/// ```
///
/// For a vector or matrix result the cotangent has the result's type and only `NAME_vjp` is
/// generated; the [`guide`] shows one, and a slice parameter.
pub use nabla_macros::custom_gradient;

/// Derives [`Parameters`](trait@crate::Parameters) and the gradient traits for a model struct,
/// whose gradient is then a value of the same struct. Fields are trained unless marked
/// `#[no_grad]` (those are cloned into the gradient value unchanged); the [`guide`]
/// shows models, methods and training.
///
/// ```
/// use nabla::{differentiable, Parameters};
///
/// #[derive(Clone, Debug, PartialEq, Parameters)]
/// struct Line {
///     slope: f64,
///     intercept: f64,
///     #[no_grad]
///     name: &'static str,
/// }
///
/// #[differentiable]
/// fn squared_error(line: &Line, #[no_grad] x: f64, #[no_grad] y: f64) -> f64 {
///     let e = line.slope * x + line.intercept - y;
///     e * e
/// }
///
/// let line = Line { slope: 2.0, intercept: 1.0, name: "fit" };
/// let (_, g) = squared_error_grad(&line, 3.0, 4.0);
/// assert_eq!(g, Line { slope: 18.0, intercept: 6.0, name: "fit" });
/// ```
pub use nabla_macros::Parameters;
pub use nabla_runtime::*;

#[doc = include_str!("../docs/guide.md")]
pub mod guide {}

#[doc = include_str!("../docs/errors.md")]
pub mod errors {}
