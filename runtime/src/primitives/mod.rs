//! Numerically stable primitives usable inside `#[differentiable]` code.
