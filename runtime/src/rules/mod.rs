//! Every derivative rule nabla knows, written once.
//!
//! The macro sees syntax, not types: for `a * b` it cannot tell scalar × scalar from
//! matrix × vector. So it emits a call to a rule trait (`MulRule::mul_adjoint_lhs(&a, &b, &d)`)
//! and rustc's type checker picks the implementation. Rules come one per operand, so the
//! generated code asks only for the adjoints of operands that carry gradient.
//!
//! Conventions: `d` is the cotangent (adjoint) of the operation's result; `y` is its result;
//! the return value is the contribution to the operand's adjoint.

pub mod arith;
pub mod borrowed;
pub mod cast;
pub mod index;
pub mod linalg;
pub mod map;
pub mod part;
pub mod scalar;

pub use arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
pub use cast::CastRule;
pub use index::{
    push_adjoint, push_adjoint_at, IndexAdjointRule, IndexRule, IndexTakeRule, NewRule,
    PushedElement,
};
pub use linalg::{
    AddScalarRule, AmaxRule, AminRule, CholeskyFactorRule, CholeskyLRule, CholeskySolveRule,
    ColumnRule, ComponentDivRule, ComponentMulRule, CrossRule, DeterminantRule, DotRule,
    FactorLRule, FactorLnDeterminantRule, FactorSolveRule, FromArrayRule, FromSliceRule,
    InverseRule, KroneckerRule, LnDeterminantRule, LpNormRule, MaxRule, MeanRule, MinRule,
    NormRule, NormSquaredRule, NormalizeRule, ProductRule, RowRule, SolveRule, SumRule,
    SymmetricEigenvaluesRule, TraceRule, TransposeRule, ViewRule,
};
pub use map::MapRule;
pub use part::PartRule;
pub use scalar::AbsRule;

#[cfg(test)]
pub(crate) mod test_support;
