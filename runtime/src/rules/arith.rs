//! Rules for the arithmetic operators `+ - * /` and unary `-`.
//!
//! Scalars here; nalgebra matrices and vectors implement the same traits in `linalg`.

use crate::tangent::{Accumulate, Tangent};

/// `y = lhs + rhs`.
#[diagnostic::on_unimplemented(
    message = "nabla has no derivative rule for `{Self} + {Rhs}`",
    label = "this operation's operands do not carry gradient together",
    note = "an integer read from a model (a `#[no_grad]` count) is data: read it through `stop_gradient(..)`; matrices must have matching shapes"
)]
pub trait AddRule<Rhs: Tangent + ?Sized = Self>: Tangent {
    type Output;
    fn add_adjoint_lhs(&self, rhs: &Rhs, d: &Self::Output) -> Self::Tangent;
    fn add_adjoint_rhs(&self, rhs: &Rhs, d: &Self::Output) -> Rhs::Tangent;
    /// Adds the left operand's adjoint into `acc`; matrix types override this to accumulate in
    /// place instead of building the contribution first.
    #[inline(always)]
    fn add_accumulate_lhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Self::Tangent)
    where
        Self::Tangent: Accumulate,
    {
        acc.accumulate(self.add_adjoint_lhs(rhs, d));
    }
    /// Adds the right operand's adjoint into `acc`.
    #[inline(always)]
    fn add_accumulate_rhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Rhs::Tangent)
    where
        Rhs::Tangent: Accumulate,
    {
        acc.accumulate(self.add_adjoint_rhs(rhs, d));
    }
}

/// `y = lhs - rhs`.
#[diagnostic::on_unimplemented(
    message = "nabla has no derivative rule for `{Self} - {Rhs}`",
    label = "this operation's operands do not carry gradient together",
    note = "an integer read from a model (a `#[no_grad]` count) is data: read it through `stop_gradient(..)`; matrices must have matching shapes"
)]
pub trait SubRule<Rhs: Tangent + ?Sized = Self>: Tangent {
    type Output;
    fn sub_adjoint_lhs(&self, rhs: &Rhs, d: &Self::Output) -> Self::Tangent;
    fn sub_adjoint_rhs(&self, rhs: &Rhs, d: &Self::Output) -> Rhs::Tangent;
    /// Adds the left operand's adjoint into `acc`; matrix types override this to accumulate in
    /// place instead of building the contribution first.
    #[inline(always)]
    fn sub_accumulate_lhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Self::Tangent)
    where
        Self::Tangent: Accumulate,
    {
        acc.accumulate(self.sub_adjoint_lhs(rhs, d));
    }
    /// Adds the right operand's adjoint into `acc`.
    #[inline(always)]
    fn sub_accumulate_rhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Rhs::Tangent)
    where
        Rhs::Tangent: Accumulate,
    {
        acc.accumulate(self.sub_adjoint_rhs(rhs, d));
    }
}

/// `y = lhs * rhs`.
#[diagnostic::on_unimplemented(
    message = "nabla has no derivative rule for `{Self} * {Rhs}`",
    label = "this operation's operands do not carry gradient together",
    note = "an integer read from a model (a `#[no_grad]` count) is data: read it through `stop_gradient(..)`; matrices must have matching shapes"
)]
pub trait MulRule<Rhs: Tangent + ?Sized = Self>: Tangent {
    type Output;
    fn mul_adjoint_lhs(&self, rhs: &Rhs, d: &Self::Output) -> Self::Tangent;
    fn mul_adjoint_rhs(&self, rhs: &Rhs, d: &Self::Output) -> Rhs::Tangent;
    /// Adds the left operand's adjoint into `acc`; matrix types override this to accumulate in
    /// place instead of building the contribution first.
    #[inline(always)]
    fn mul_accumulate_lhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Self::Tangent)
    where
        Self::Tangent: Accumulate,
    {
        acc.accumulate(self.mul_adjoint_lhs(rhs, d));
    }
    /// Adds the right operand's adjoint into `acc`.
    #[inline(always)]
    fn mul_accumulate_rhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Rhs::Tangent)
    where
        Rhs::Tangent: Accumulate,
    {
        acc.accumulate(self.mul_adjoint_rhs(rhs, d));
    }
}

/// `y = lhs / rhs`.
#[diagnostic::on_unimplemented(
    message = "nabla has no derivative rule for `{Self} / {Rhs}`",
    label = "this operation's operands do not carry gradient together",
    note = "an integer read from a model (a `#[no_grad]` count) is data: read it through `stop_gradient(..)`; matrices must have matching shapes"
)]
pub trait DivRule<Rhs: Tangent + ?Sized = Self>: Tangent {
    type Output;
    fn div_adjoint_lhs(&self, rhs: &Rhs, d: &Self::Output) -> Self::Tangent;
    fn div_adjoint_rhs(&self, rhs: &Rhs, d: &Self::Output) -> Rhs::Tangent;
    /// Adds the left operand's adjoint into `acc`; matrix types override this to accumulate in
    /// place instead of building the contribution first.
    #[inline(always)]
    fn div_accumulate_lhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Self::Tangent)
    where
        Self::Tangent: Accumulate,
    {
        acc.accumulate(self.div_adjoint_lhs(rhs, d));
    }
    /// Adds the right operand's adjoint into `acc`.
    #[inline(always)]
    fn div_accumulate_rhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Rhs::Tangent)
    where
        Rhs::Tangent: Accumulate,
    {
        acc.accumulate(self.div_adjoint_rhs(rhs, d));
    }
}

/// `y = -x`.
pub trait NegRule: Tangent {
    type Output;
    fn neg_adjoint(&self, d: &Self::Output) -> Self::Tangent;
}

macro_rules! scalar_arith {
    ($($t:ty)*) => {$(
        impl AddRule for $t {
            type Output = $t;
            #[inline(always)]
            fn add_adjoint_lhs(&self, _: &$t, d: &$t) -> $t { *d }
            #[inline(always)]
            fn add_adjoint_rhs(&self, _: &$t, d: &$t) -> $t { *d }
        }
        impl SubRule for $t {
            type Output = $t;
            #[inline(always)]
            fn sub_adjoint_lhs(&self, _: &$t, d: &$t) -> $t { *d }
            #[inline(always)]
            fn sub_adjoint_rhs(&self, _: &$t, d: &$t) -> $t { -*d }
        }
        impl MulRule for $t {
            type Output = $t;
            #[inline(always)]
            fn mul_adjoint_lhs(&self, rhs: &$t, d: &$t) -> $t { *d * *rhs }
            #[inline(always)]
            fn mul_adjoint_rhs(&self, _: &$t, d: &$t) -> $t { *d * *self }
        }
        impl DivRule for $t {
            type Output = $t;
            #[inline(always)]
            fn div_adjoint_lhs(&self, rhs: &$t, d: &$t) -> $t { *d / *rhs }
            // d(a/b)/db = -a/b², written as -(d/b)·(a/b): finite where b² overflows, and both
            // quotients are ones the forward sweep and the lhs rule compute already, so the
            // optimizer shares the divisions.
            #[inline(always)]
            fn div_adjoint_rhs(&self, rhs: &$t, d: &$t) -> $t { -(*d / *rhs) * (*self / *rhs) }
        }
        impl NegRule for $t {
            type Output = $t;
            #[inline(always)]
            fn neg_adjoint(&self, d: &$t) -> $t { -*d }
        }
    )*};
}
scalar_arith!(f32 f64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_close, central_difference};

    const POINTS: [(f64, f64); 4] = [(1.5, -2.0), (-0.3, 0.7), (1e-3, 4.0), (-7.0, -0.25)];

    #[test]
    fn binary_rules_match_finite_differences() {
        for (a, b) in POINTS {
            let d = 0.75;
            let fd = |f: &dyn Fn(f64, f64) -> f64| {
                (
                    d * central_difference(|x| f(x, b), a),
                    d * central_difference(|x| f(a, x), b),
                )
            };
            let (l, r) = fd(&|x, y| x + y);
            assert_close(a.add_adjoint_lhs(&b, &d), l, "add lhs");
            assert_close(a.add_adjoint_rhs(&b, &d), r, "add rhs");
            let (l, r) = fd(&|x, y| x - y);
            assert_close(a.sub_adjoint_lhs(&b, &d), l, "sub lhs");
            assert_close(a.sub_adjoint_rhs(&b, &d), r, "sub rhs");
            let (l, r) = fd(&|x, y| x * y);
            assert_close(a.mul_adjoint_lhs(&b, &d), l, "mul lhs");
            assert_close(a.mul_adjoint_rhs(&b, &d), r, "mul rhs");
            let (l, r) = fd(&|x, y| x / y);
            assert_close(a.div_adjoint_lhs(&b, &d), l, "div lhs");
            assert_close(a.div_adjoint_rhs(&b, &d), r, "div rhs");
            assert_close(a.neg_adjoint(&d), d * central_difference(|x| -x, a), "neg");
        }
    }

    #[test]
    fn f32_rules_agree_with_f64() {
        let (a, b, d) = (1.25f32, -0.5f32, 2.0f32);
        assert_eq!(a.mul_adjoint_lhs(&b, &d), -1.0);
        assert_eq!(a.div_adjoint_rhs(&b, &d), -(2.0 * 1.25 / 0.25));
    }
}
