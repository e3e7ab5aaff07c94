//! The cross product of 3-vectors, `a.cross(&b)`, and the Kronecker product of matrices,
//! `a.kronecker(&b)`.

use nalgebra::allocator::Allocator;
use nalgebra::constraint::{SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
use nalgebra::{
    DefaultAllocator, Dim, DimMul, DimProd, Matrix, MatrixCross, OMatrix, RawStorage, RealField,
    Storage,
};

use crate::tangent::Tangent;
use crate::Real;

/// `y = a.cross(&b)`, for 3-vectors (columns or rows, as nalgebra's `cross`): `da = b × dy`,
/// `db = dy × a`.
///
/// From the scalar triple product: `⟨dy, a × b⟩ = ⟨a, b × dy⟩ = ⟨b, dy × a⟩`.
pub trait CrossRule<Other: Tangent + ?Sized = Self>: Tangent {
    /// The type of `y`: an owned 3-vector, its own tangent type.
    type Output;
    fn cross_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent;
    fn cross_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent;
}

/// `Y = a.kronecker(&b)`, the block matrix `[aᵢⱼ·b]`: with `b` of shape `p × q`,
/// `daᵢⱼ = Σₖₗ dY[(i·p + k, j·q + l)]·bₖₗ = ⟨dY block (i, j), b⟩` and `db = Σᵢⱼ aᵢⱼ·(dY block (i, j))`.
pub trait KroneckerRule<Other: Tangent + ?Sized = Self>: Tangent {
    /// The type of `Y`: an owned matrix, its own tangent type.
    type Output;
    fn kronecker_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent;
    fn kronecker_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent;
}

/// The three elements of a 3-vector, column or row: the linear (column-major) index runs along
/// the vector either way.
#[inline]
fn elements<T, R, C, S>(v: &Matrix<T, R, C, S>) -> [T; 3]
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
{
    debug_assert_eq!(v.len(), 3, "cross: not a 3-vector");
    [v[0], v[1], v[2]]
}

/// `u × v` written into a matrix shaped like `like` (a 3-vector, column or row).
#[inline]
fn cross_shaped_like<T, R, C, S>(
    u: [T; 3],
    v: [T; 3],
    like: &Matrix<T, R, C, S>,
) -> OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = like.zero_tangent();
    g[0] = u[1] * v[2] - u[2] * v[1];
    g[1] = u[2] * v[0] - u[0] * v[2];
    g[2] = u[0] * v[1] - u[1] * v[0];
    g
}

// The bounds are nalgebra's `cross`'s: any pair of shapes that agree, which its shape check
// then restricts to 3 × 1 or 1 × 3 at run time.
impl<T, R, C, S, R2, C2, S2> CrossRule<Matrix<T, R2, C2, S2>> for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    DefaultAllocator: Allocator<R, C> + Allocator<R2, C2>,
    DefaultAllocator: nalgebra::allocator::SameShapeAllocator<R, C, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R, R2> + SameNumberOfColumns<C, C2>,
{
    type Output = MatrixCross<T, R, C, R2, C2>;
    #[inline]
    fn cross_adjoint_self(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R, C> {
        cross_shaped_like(elements(other), elements(d), self)
    }
    #[inline]
    fn cross_adjoint_other(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R2, C2> {
        cross_shaped_like(elements(d), elements(self), other)
    }
}

// The bounds are nalgebra's `kronecker`'s, plus the allocators of the two gradients.
impl<T, R1, C1, S1, R2, C2, S2> KroneckerRule<Matrix<T, R2, C2, S2>> for Matrix<T, R1, C1, S1>
where
    T: Real + RealField,
    R1: DimMul<R2>,
    C1: DimMul<C2>,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator:
        Allocator<R1, C1> + Allocator<R2, C2> + Allocator<DimProd<R1, R2>, DimProd<C1, C2>>,
{
    type Output = OMatrix<T, DimProd<R1, R2>, DimProd<C1, C2>>;
    fn kronecker_adjoint_self(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R1, C1> {
        let block = other.shape_generic();
        let (p, q) = other.shape();
        let mut g = self.zero_tangent();
        for j in 0..self.ncols() {
            for i in 0..self.nrows() {
                g[(i, j)] = d.generic_view((i * p, j * q), block).dot(other);
            }
        }
        g
    }
    fn kronecker_adjoint_other(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R2, C2> {
        let block = other.shape_generic();
        let (p, q) = other.shape();
        let mut g = other.zero_tangent();
        for j in 0..self.ncols() {
            for i in 0..self.nrows() {
                let a = self[(i, j)];
                g.zip_apply(&d.generic_view((i * p, j * q), block), |g, d| *g += a * d);
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, DMatrix, Dyn, Matrix3x2, RowVector3, Vector3, U1};

    fn check_cross<T, R, C>(r: R, c: C, seed: usize)
    where
        T: Real,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C>,
    {
        let (a, b, d) = (
            sample(r, c, seed),
            sample(r, c, seed + 1),
            sample(r, c, seed + 2),
        );
        let (ta, tb, td) = (
            lift::<T, _, _>(&a),
            lift::<T, _, _>(&b),
            lift::<T, _, _>(&d),
        );
        let y = ta.cross(&tb);
        let fd = fd_gradient(|x| d.dot(&x.cross(&b)), &a);
        assert_matrix_close(&ta.cross_adjoint_self(&tb, &y, &td), &fd, "cross self");
        let fd = fd_gradient(|x| d.dot(&a.cross(x)), &b);
        assert_matrix_close(&ta.cross_adjoint_other(&tb, &y, &td), &fd, "cross other");
    }

    #[test]
    fn cross_matches_finite_differences() {
        check_cross::<f64, _, _>(Const::<3>, U1, 1);
        check_cross::<f64, _, _>(U1, Const::<3>, 2);
        check_cross::<f64, _, _>(Dyn(3), U1, 3);
        check_cross::<f64, _, _>(Dyn(1), Dyn(3), 4);
        check_cross::<f32, _, _>(Const::<3>, U1, 5);
        check_cross::<f32, _, _>(Dyn(3), Dyn(1), 6);
    }

    #[test]
    fn cross_accepts_views_and_mixed_shapes() {
        let m = Matrix3x2::new(1.0, -2.0, 0.5, 3.0, -1.5, 2.0);
        let (a, b) = (m.column(0), Vector3::new(0.25, -1.0, 2.0));
        let d = Vector3::new(1.0, 0.5, -2.0);
        let y = a.cross(&b);
        assert_eq!(a.cross_adjoint_self(&b, &y, &d), b.cross(&d));
        assert_eq!(a.cross_adjoint_other(&b, &y, &d), d.cross(&a));
        // A static row against a dynamic one: the result is static (nalgebra's shape rules).
        let (r, s) = (
            RowVector3::new(1.0, 2.0, 3.0),
            DMatrix::from_row_slice(1, 3, &[4.0, 5.0, 6.0]),
        );
        let y = r.cross(&s);
        let g = r.cross_adjoint_other(&s, &y, &RowVector3::new(1.0, 0.0, 0.0));
        assert_eq!(g.shape(), (1, 3));
    }

    fn check_kronecker<T, R1, C1, R2, C2>(r1: R1, c1: C1, r2: R2, c2: C2, seed: usize)
    where
        T: Real + RealField,
        R1: DimMul<R2>,
        C1: DimMul<C2>,
        R2: Dim,
        C2: Dim,
        DefaultAllocator:
            Allocator<R1, C1> + Allocator<R2, C2> + Allocator<DimProd<R1, R2>, DimProd<C1, C2>>,
    {
        let (a, b) = (sample(r1, c1, seed), sample(r2, c2, seed + 1));
        let d = sample(r1.mul(r2), c1.mul(c2), seed + 2);
        let (ta, tb, td) = (
            lift::<T, _, _>(&a),
            lift::<T, _, _>(&b),
            lift::<T, _, _>(&d),
        );
        let y = ta.kronecker(&tb);
        let fd = fd_gradient(|x| d.dot(&x.kronecker(&b)), &a);
        let rule = ta.kronecker_adjoint_self(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "kronecker self");
        let fd = fd_gradient(|x| d.dot(&a.kronecker(x)), &b);
        let rule = ta.kronecker_adjoint_other(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "kronecker other");
    }

    #[test]
    fn kronecker_matches_finite_differences() {
        check_kronecker::<f64, _, _, _, _>(Const::<2>, Const::<3>, Const::<3>, Const::<2>, 1);
        check_kronecker::<f64, _, _, _, _>(Const::<3>, U1, U1, Const::<2>, 2);
        check_kronecker::<f64, _, _, _, _>(Dyn(2), Dyn(2), Dyn(3), Dyn(1), 3);
        check_kronecker::<f64, _, _, _, _>(Dyn(3), U1, Const::<2>, Const::<2>, 4);
        check_kronecker::<f32, _, _, _, _>(Const::<2>, Const::<2>, Const::<2>, Const::<3>, 5);
        check_kronecker::<f32, _, _, _, _>(Dyn(1), Dyn(3), Dyn(2), Dyn(2), 6);
    }
}
