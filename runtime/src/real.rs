//! The two float types nabla differentiates: `f32` and `f64`.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A float type nabla can differentiate: implemented for `f32` and `f64` only.
///
/// The methods mirror the inherent float methods so that derivative rules can be written once,
/// generically, instead of once per type.
pub trait Real:
    sealed::Sealed
    + Copy
    + Debug
    + Display
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + core::iter::Sum
    + core::iter::Product
    + for<'a> core::iter::Sum<&'a Self>
    + for<'a> core::iter::Product<&'a Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + nalgebra::Scalar
    + crate::elements::TangentElement
    + crate::elements::ParameterElement
    + crate::fields::ParameterField
    // The scalar derivative rules, so that generic code (`fn f<T: Real>`) finds them.
    + crate::rules::AddRule<Output = Self>
    + crate::rules::SubRule<Output = Self>
    + crate::rules::MulRule<Output = Self>
    + crate::rules::DivRule<Output = Self>
    + crate::rules::NegRule<Output = Self>
    + crate::rules::scalar::AbsRule<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const TWO: Self;
    const HALF: Self;
    const LN_2: Self;
    const LN_10: Self;
    /// Machine epsilon.
    const EPSILON: Self;
    const INFINITY: Self;

    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn from_usize(n: usize) -> Self;
    fn from_i32(n: i32) -> Self;

    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn exp_m1(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sqrt(self) -> Self;
    fn cbrt(self) -> Self;
    fn powi(self, n: i32) -> Self;
    fn powf(self, e: Self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
}

macro_rules! impl_real {
    ($t:ident) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const TWO: Self = 2.0;
            const HALF: Self = 0.5;
            const LN_2: Self = core::$t::consts::LN_2;
            const LN_10: Self = core::$t::consts::LN_10;
            const EPSILON: Self = $t::EPSILON;
            const INFINITY: Self = $t::INFINITY;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline(always)]
            fn from_i32(n: i32) -> Self {
                n as $t
            }
            impl_real!(@unary $t: exp exp2 exp_m1 ln ln_1p sqrt cbrt sin cos tan sinh cosh tanh abs);
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                $t::powi(self, n)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                $t::powf(self, e)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                $t::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                $t::min(self, other)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
        }
    };
    (@unary $t:ident: $($name:ident)*) => {
        $(
            #[inline(always)]
            fn $name(self) -> Self {
                $t::$name(self)
            }
        )*
    };
}

impl_real!(f32);
impl_real!(f64);

/// The seed `1` of a `NAME_grad`, which exists for a function whose result is a float. A
/// method's one-letter result type (`-> T`) is read as the float type parameter of its `impl`,
/// which its own signature cannot show; this names the mistake when it was a struct's name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a float, yet this method's result is read as one",
    label = "read as the float type parameter of the `impl`",
    note = "a method's one-letter result type is taken for the `impl`'s type parameter (`impl<T: Real> Model<T>`): write `Self` to return the model's own type"
)]
pub trait ScalarResult: Copy {
    /// The seed of the reverse sweep.
    const ONE: Self;
}

impl<T: Real> ScalarResult for T {
    const ONE: Self = T::ONE;
}

/// The result of a `NAME_grad` whose function's result type the macro cannot tell from its
/// name: an alias (`type Scalar = f64`) or a struct. Such a `NAME_grad` is generated requiring
/// this of the result, and can be called where the result is a float.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a float, and a `_grad` function exists for float results only",
    label = "this function's result is not a float",
    note = "call the function's `_vjp` with a cotangent shaped like its result instead"
)]
pub trait FloatResult: ScalarResult {}

#[diagnostic::do_not_recommend]
impl<T: Real> FloatResult for T {}
