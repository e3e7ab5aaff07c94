//! The operators on matrices: `A + B`, `A - B`, `-A`, `A * B` (matrix, vector and row-vector
//! products), `s * A`, `A * s` and `A / s`.
//!
//! The traits and their scalar implementations are in [`crate::rules::arith`].

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use super::transposed;
use crate::rules::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
use crate::Real;

/// `Y = A + B`: `dA = dY`, `dB = dY`.
impl<T, R, C, SA, SB> AddRule<Matrix<T, R, C, SB>> for Matrix<T, R, C, SA>
where
    T: Real,
    R: Dim,
    C: Dim,
    SA: Storage<T, R, C>,
    SB: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    // `d` is borrowed and each operand's adjoint is its own matrix: one copy is unavoidable.
    #[inline]
    fn add_adjoint_lhs(&self, _: &Matrix<T, R, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        d.clone()
    }
    #[inline]
    fn add_accumulate_lhs(
        &self,
        _: &Matrix<T, R, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, C>,
    ) {
        *acc += d;
    }
    #[inline]
    fn add_accumulate_rhs(
        &self,
        _: &Matrix<T, R, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, C>,
    ) {
        *acc += d;
    }
    #[inline]
    fn add_adjoint_rhs(&self, _: &Matrix<T, R, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        d.clone()
    }
}

/// `Y = A - B`: `dA = dY`, `dB = -dY`.
impl<T, R, C, SA, SB> SubRule<Matrix<T, R, C, SB>> for Matrix<T, R, C, SA>
where
    T: Real,
    R: Dim,
    C: Dim,
    SA: Storage<T, R, C>,
    SB: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn sub_adjoint_lhs(&self, _: &Matrix<T, R, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        d.clone()
    }
    #[inline]
    fn sub_accumulate_lhs(
        &self,
        _: &Matrix<T, R, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, C>,
    ) {
        *acc += d;
    }
    #[inline]
    fn sub_accumulate_rhs(
        &self,
        _: &Matrix<T, R, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, C>,
    ) {
        *acc -= d;
    }
    #[inline]
    fn sub_adjoint_rhs(&self, _: &Matrix<T, R, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        -d
    }
}

/// `Y = -A`: `dA = -dY`.
impl<T, R, C, S> NegRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn neg_adjoint(&self, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        -d
    }
}

/// `Y = A · B` (A is R×K, B is K×C; vectors are K×1, row vectors 1×K):
/// `dA = dY · Bᵀ`, `dB = Aᵀ · dY`. For `A · x` with a vector `x`, `dY · xᵀ` is the outer
/// product `dy ⊗ x`.
//
// Neither transpose is copied. `Bᵀ` is a strided view of `B` (`super::transposed`) on the
// right of a product: nalgebra's `gemm` reads it element by element in its small-matrix path,
// and hands large dynamic products to `matrixmultiply`, which takes any strides. `Aᵀ · dY` is
// `tr_mul`, which reads the columns of `A` as they are stored. (A transposed view on the *left*
// of nalgebra 0.35's `gemm` is not an option: its small-matrix path walks a left column with
// row stride ≠ 1 past its end.)
impl<T, R, K, C, SA, SB> MulRule<Matrix<T, K, C, SB>> for Matrix<T, R, K, SA>
where
    T: Real + RealField,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: Storage<T, R, K>,
    SB: Storage<T, K, C>,
    DefaultAllocator: Allocator<R, K> + Allocator<K, C> + Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn mul_adjoint_lhs(&self, rhs: &Matrix<T, K, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, K> {
        d * transposed(rhs)
    }
    #[inline]
    fn mul_adjoint_rhs(&self, _: &Matrix<T, K, C, SB>, d: &OMatrix<T, R, C>) -> OMatrix<T, K, C> {
        self.tr_mul(d)
    }
    // In a loop, `dA += dY · Bᵀ` is one `gemm` with β = 1 (a rank-1 update for vectors), not a
    // product followed by an addition.
    #[inline]
    fn mul_accumulate_lhs(
        &self,
        rhs: &Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, K>,
    ) {
        acc.gemm(T::one(), d, &transposed(rhs), T::one());
    }
    #[inline]
    fn mul_accumulate_rhs(
        &self,
        _: &Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, K, C>,
    ) {
        acc.gemm_tr(T::one(), self, d, T::one());
    }
}

// The scalar on the left of `s * A` is a concrete float: nalgebra itself only multiplies
// `f32`/`f64` scalars from the left, and concrete impls keep literal types (`2.0 * a`) easy to
// infer. On the right (`A * s`, `A / s`) the scalar is the matrix's own element type, also a
// type parameter (`v * s` with `v: SVector<T, 3>`, `s: T`).
macro_rules! scalar_matrix {
    ($($t:ty)*) => {$(
        /// `Y = s · A`: `ds = ⟨dY, A⟩` (the sum of element-wise products), `dA = s · dY`.
        impl<R, C, S> MulRule<Matrix<$t, R, C, S>> for $t
        where
            R: Dim,
            C: Dim,
            S: Storage<$t, R, C>,
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<$t, R, C>;
            #[inline]
            fn mul_adjoint_lhs(&self, rhs: &Matrix<$t, R, C, S>, d: &OMatrix<$t, R, C>) -> $t {
                rhs.dot(d)
            }
            #[inline]
            fn mul_adjoint_rhs(
                &self,
                _: &Matrix<$t, R, C, S>,
                d: &OMatrix<$t, R, C>,
            ) -> OMatrix<$t, R, C> {
                d * *self
            }
        }

    )*};
}
scalar_matrix!(f32 f64);

/// `Y = A · s`: `dA = s · dY`, `ds = ⟨dY, A⟩`.
impl<T, R, C, S> MulRule<T> for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn mul_adjoint_lhs(&self, rhs: &T, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        d * *rhs
    }
    #[inline]
    fn mul_adjoint_rhs(&self, _: &T, d: &OMatrix<T, R, C>) -> T {
        self.dot(d)
    }
}

/// `Y = A / s`: `dA = dY / s`, `ds = -⟨dY, A⟩ / s²`, written `-(⟨dY, A⟩ / s) / s` so it stays
/// finite where `s²` would overflow (as the scalar rule).
impl<T, R, C, S> DivRule<T> for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn div_adjoint_lhs(&self, rhs: &T, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        d / *rhs
    }
    #[inline]
    fn div_adjoint_rhs(&self, rhs: &T, d: &OMatrix<T, R, C>) -> T {
        -(self.dot(d) / *rhs) / *rhs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        assert_close_in, assert_matrix_close, central_difference, fd_gradient, lift, sample,
    };
    use nalgebra::{Const, Dyn, U1};

    /// `⟨d, y⟩`: differentiating it gives the vector-Jacobian product with cotangent `d`.
    fn pair<R: Dim, C: Dim>(d: &OMatrix<f64, R, C>, y: &OMatrix<f64, R, C>) -> f64
    where
        DefaultAllocator: Allocator<R, C>,
    {
        d.dot(y)
    }

    /// A function of one matrix of a fixed shape.
    type Map<'a, R, C> = dyn Fn(&OMatrix<f64, R, C>) -> OMatrix<f64, R, C> + 'a;

    fn check_add_sub_neg<T, R, C>(r: R, c: C)
    where
        T: Real + RealField,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C>,
    {
        let (a, b, d) = (sample(r, c, 1), sample(r, c, 2), sample(r, c, 3));
        let (ta, tb, td) = (
            lift::<T, _, _>(&a),
            lift::<T, _, _>(&b),
            lift::<T, _, _>(&d),
        );
        let fd_a = |f: &Map<'_, R, C>| fd_gradient(|x| pair(&d, &f(x)), &a);
        let fd_b = |f: &Map<'_, R, C>| fd_gradient(|x| pair(&d, &f(x)), &b);
        assert_matrix_close(&ta.add_adjoint_lhs(&tb, &td), &fd_a(&|x| x + &b), "add lhs");
        assert_matrix_close(&ta.add_adjoint_rhs(&tb, &td), &fd_b(&|x| &a + x), "add rhs");
        assert_matrix_close(&ta.sub_adjoint_lhs(&tb, &td), &fd_a(&|x| x - &b), "sub lhs");
        assert_matrix_close(&ta.sub_adjoint_rhs(&tb, &td), &fd_b(&|x| &a - x), "sub rhs");
        assert_matrix_close(&ta.neg_adjoint(&td), &fd_a(&|x| -x), "neg");
    }

    #[test]
    fn add_sub_neg_match_finite_differences() {
        check_add_sub_neg::<f64, _, _>(Const::<3>, Const::<2>);
        check_add_sub_neg::<f32, _, _>(Const::<3>, Const::<2>);
        check_add_sub_neg::<f64, _, _>(Dyn(4), Dyn(5));
        check_add_sub_neg::<f32, _, _>(Dyn(4), U1);
    }

    #[test]
    fn add_accepts_views() {
        let m = sample(Dyn(4), Dyn(4), 7);
        let d = sample(Dyn(2), Dyn(2), 8);
        let (a, b) = (m.view((0, 0), (2, 2)), m.view((1, 2), (2, 2)));
        assert_eq!(a.add_adjoint_rhs(&b, &d), d);
        assert_eq!(a.sub_adjoint_rhs(&b, &d), -&d);
    }

    /// `Y = A · B` for A of `r × k` and B of `k × c`, with B's own storage (owned or a view).
    fn check_mul<T, R, K, C>(r: R, k: K, c: C, seed: usize)
    where
        T: Real + RealField,
        R: Dim,
        K: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, K> + Allocator<K, C> + Allocator<R, C>,
    {
        let (a, b, d) = (
            sample(r, k, seed),
            sample(k, c, seed + 1),
            sample(r, c, seed + 2),
        );
        let (ta, tb, td) = (
            lift::<T, _, _>(&a),
            lift::<T, _, _>(&b),
            lift::<T, _, _>(&d),
        );
        let fd_a = fd_gradient(|x| pair(&d, &(x * &b)), &a);
        let fd_b = fd_gradient(|x| pair(&d, &(&a * x)), &b);
        assert_matrix_close(&ta.mul_adjoint_lhs(&tb, &td), &fd_a, "mul lhs");
        assert_matrix_close(&ta.mul_adjoint_rhs(&tb, &td), &fd_b, "mul rhs");
    }

    #[test]
    fn matrix_products_match_finite_differences() {
        // matrix × matrix, matrix × vector, row vector × matrix, vector × row vector (outer).
        check_mul::<f64, _, _, _>(Const::<3>, Const::<4>, Const::<2>, 10);
        check_mul::<f64, _, _, _>(Const::<3>, Const::<4>, U1, 20);
        check_mul::<f64, _, _, _>(U1, Const::<4>, Const::<2>, 30);
        check_mul::<f64, _, _, _>(Const::<3>, U1, Const::<2>, 40);
        check_mul::<f32, _, _, _>(Const::<3>, Const::<4>, Const::<2>, 10);
        check_mul::<f32, _, _, _>(Const::<3>, Const::<4>, U1, 20);
        // Dynamic: small, and larger than nalgebra's threshold (5) for `matrixmultiply`, which
        // then reads the strided transposed views.
        check_mul::<f64, _, _, _>(Dyn(2), Dyn(3), Dyn(4), 50);
        check_mul::<f64, _, _, _>(Dyn(7), Dyn(6), Dyn(8), 60);
        check_mul::<f64, _, _, _>(Dyn(7), Dyn(6), U1, 70);
        check_mul::<f32, _, _, _>(Dyn(7), Dyn(6), Dyn(8), 60);
        check_mul::<f32, _, _, _>(U1, Dyn(6), Dyn(3), 80);
    }

    #[test]
    fn matrix_products_accept_views() {
        // Operands that are views with non-unit strides, as `m.rows_with_step(..)` gives.
        let big = sample(Dyn(14), Dyn(9), 90);
        let a = big.rows_with_step(0, 7, 1); // 7 × 9, row stride 2
        let b = big.view((0, 0), (9, 8)); // 9 × 8, column stride 14
        let d = sample(Dyn(7), Dyn(8), 91);
        let (ao, bo) = (a.clone_owned(), b.clone_owned());
        assert_matrix_close(
            &a.mul_adjoint_lhs(&b, &d),
            &ao.mul_adjoint_lhs(&bo, &d),
            "view lhs",
        );
        assert_matrix_close(
            &a.mul_adjoint_rhs(&b, &d),
            &ao.mul_adjoint_rhs(&bo, &d),
            "view rhs",
        );
        let fd_a = fd_gradient(|x| pair(&d, &(x * &bo)), &ao);
        assert_matrix_close(&a.mul_adjoint_lhs(&b, &d), &fd_a, "view lhs fd");
    }

    macro_rules! check_scalar_matrix {
        ($t:ty, $r:expr, $c:expr) => {{
            let (m, d, s) = (sample($r, $c, 100), sample($r, $c, 101), -1.375);
            let (tm, td, ts) = (lift::<$t, _, _>(&m), lift::<$t, _, _>(&d), s as $t);
            let fd_s =
                |f: &dyn Fn(f64) -> OMatrix<f64, _, _>| central_difference(|x| pair(&d, &f(x)), s);
            let fd_m = |f: &dyn Fn(&OMatrix<f64, _, _>) -> OMatrix<f64, _, _>| {
                fd_gradient(|x| pair(&d, &f(x)), &m)
            };
            assert_close_in(ts.mul_adjoint_lhs(&tm, &td), fd_s(&|x| x * &m), "s*M s");
            assert_matrix_close(&ts.mul_adjoint_rhs(&tm, &td), &fd_m(&|x| s * x), "s*M M");
            assert_matrix_close(&tm.mul_adjoint_lhs(&ts, &td), &fd_m(&|x| x * s), "M*s M");
            assert_close_in(tm.mul_adjoint_rhs(&ts, &td), fd_s(&|x| &m * x), "M*s s");
            assert_matrix_close(&tm.div_adjoint_lhs(&ts, &td), &fd_m(&|x| x / s), "M/s M");
            assert_close_in(tm.div_adjoint_rhs(&ts, &td), fd_s(&|x| &m / x), "M/s s");
        }};
    }

    #[test]
    fn scalar_matrix_products_match_finite_differences() {
        check_scalar_matrix!(f64, Const::<2>, Const::<3>);
        check_scalar_matrix!(f32, Const::<2>, Const::<3>);
        check_scalar_matrix!(f64, Dyn(4), Dyn(3));
        check_scalar_matrix!(f32, Dyn(5), U1);
    }

    /// The in-place forms add exactly what the plain rules return.
    #[test]
    fn accumulating_rules_add_the_plain_contribution() {
        use nalgebra::{DMatrix, Matrix3x2, SMatrix};
        let a = Matrix3x2::new(1.0, -2.0, 0.5, 3.0, -1.5, 2.5);
        let b = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i as f64) - 0.5 * (j as f64) + 0.25);
        let d = SMatrix::<f64, 3, 4>::from_fn(|i, j| 0.3 * (i as f64) + (j as f64) - 1.0);
        let start_a = Matrix3x2::from_fn(|i, j| (i * 2 + j) as f64);
        let start_b = SMatrix::<f64, 2, 4>::repeat(0.75);
        let mut acc_a = start_a;
        a.mul_accumulate_lhs(&b, &d, &mut acc_a);
        assert_matrix_close(
            &acc_a,
            &(start_a + a.mul_adjoint_lhs(&b, &d)),
            "mul lhs in place",
        );
        let mut acc_b = start_b;
        a.mul_accumulate_rhs(&b, &d, &mut acc_b);
        assert_matrix_close(
            &acc_b,
            &(start_b + a.mul_adjoint_rhs(&b, &d)),
            "mul rhs in place",
        );

        let x = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) * 0.5);
        let dy = DMatrix::from_fn(4, 3, |i, j| (i + j) as f64);
        let mut acc = DMatrix::from_element(4, 3, 1.0);
        x.add_accumulate_lhs(&x, &dy, &mut acc);
        x.sub_accumulate_rhs(&x, &dy, &mut acc);
        assert_matrix_close(
            &acc,
            &DMatrix::from_element(4, 3, 1.0),
            "add then sub in place",
        );
    }
}
