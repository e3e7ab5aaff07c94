//! Rule for `as f32` / `as f64`: between float types, and from integers.

/// `y = x as Target`: between float types the adjoint is cast back; from an integer (a count
/// read from a `#[no_grad]` field of a model, `net.depth as f64`) there is none, `()`.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for casting `{Self}` to `{Target}`",
    label = "nabla differentiates casts between f32 and f64, and from integers (with derivative zero)"
)]
pub trait CastRule<Target> {
    type Adjoint;
    fn cast_adjoint(&self, d: Target) -> Self::Adjoint;
}

macro_rules! float_casts {
    ($($from:ty => $to:ty),*) => {$(
        impl CastRule<$to> for $from {
            type Adjoint = $from;
            #[inline(always)]
            fn cast_adjoint(&self, d: $to) -> $from {
                d as $from
            }
        }
    )*};
}
float_casts!(f32 => f32, f32 => f64, f64 => f32, f64 => f64);

macro_rules! integer_casts {
    ($($from:ty)*) => {$(
        impl CastRule<f32> for $from {
            type Adjoint = ();
            #[inline(always)]
            fn cast_adjoint(&self, _d: f32) {}
        }
        impl CastRule<f64> for $from {
            type Adjoint = ();
            #[inline(always)]
            fn cast_adjoint(&self, _d: f64) {}
        }
    )*};
}
integer_casts!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

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
