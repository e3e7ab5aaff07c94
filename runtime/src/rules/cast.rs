//! Rule for `as f32` / `as f64` between float types.

/// `y = x as Target` between float types: the adjoint is cast back.
pub trait CastRule<Target> {
    fn cast_adjoint(&self, d: Target) -> Self;
}

macro_rules! float_casts {
    ($($from:ty => $to:ty),*) => {$(
        impl CastRule<$to> for $from {
            #[inline(always)]
            fn cast_adjoint(&self, d: $to) -> $from {
                d as $from
            }
        }
    )*};
}
float_casts!(f32 => f32, f32 => f64, f64 => f32, f64 => f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_adjoint_casts_back() {
        assert_eq!(CastRule::<f32>::cast_adjoint(&1.0f64, 0.5f32), 0.5f64);
        assert_eq!(CastRule::<f64>::cast_adjoint(&1.0f32, 0.25f64), 0.25f32);
        assert_eq!(CastRule::<f64>::cast_adjoint(&1.0f64, 3.0f64), 3.0f64);
    }
}
