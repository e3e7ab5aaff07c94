//! `stop_gradient`: the explicit way to block a gradient.

/// Returns `x` unchanged and blocks its gradient inside `#[differentiable]` functions.
///
/// The expression inside is exempt from the differentiability checks, so it may compare, round or
/// call functions that have no derivative. Outside `#[differentiable]` code it is the identity.
///
/// ```text
/// #[differentiable]
/// fn scaled(x: f64) -> f64 {
///     // the scale is treated as a constant: d/dx = x.abs()
///     stop_gradient(x.abs()) * x
/// }
/// assert_eq!(scaled_grad(-3.0).1, 3.0);
/// ```
///
/// ```
/// // Outside differentiable code it returns its argument.
/// assert_eq!(nabla_runtime::stop_gradient(2.5), 2.5);
/// ```
#[inline(always)]
pub fn stop_gradient<T>(x: T) -> T {
    x
}
