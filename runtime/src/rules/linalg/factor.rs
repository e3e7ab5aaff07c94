//! A Cholesky factor bound to a name in differentiable code (`let chol = k.cholesky().unwrap();`):
//! computed once, shared by `chol.solve(&b)`, `chol.ln_determinant()` and `chol.l()` in both
//! sweeps, and differentiated with respect to the lower triangle of the factored matrix, as in
//! `solve.rs`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, RealField};

use super::solve::{
    inverse_from_factor, not_positive_definite, onto_lower_triangle, symmetric_gradient_from_l,
    Square,
};
use crate::Real;

/// A Cholesky factor bound to a name (`let chol = k.cholesky().unwrap();`): computed once, and
/// shared by its solves and its log-determinant, forward and reverse. Its gradient is one with
/// respect to the factored matrix.
#[derive(Clone, Debug)]
pub struct CholeskyFactor<T: Real + RealField, D: Dim>
where
    DefaultAllocator: Allocator<D, D>,
{
    factor: nalgebra::Cholesky<T, D>,
}

impl<T: Real + RealField, D: Dim> CholeskyFactor<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    /// `chol.solve(&b)`, as nalgebra's `Cholesky::solve`.
    pub fn solve<C: Dim>(&self, b: &OMatrix<T, D, C>) -> OMatrix<T, D, C>
    where
        DefaultAllocator: Allocator<D, C>,
    {
        self.factor.solve(b)
    }

    /// `chol.ln_determinant()`, as nalgebra's `Cholesky::ln_determinant`.
    pub fn ln_determinant(&self) -> T {
        self.factor.ln_determinant()
    }

    /// `chol.l()`, as nalgebra's `Cholesky::l`: the lower-triangular factor, its strict upper
    /// triangle zero.
    pub fn l(&self) -> Square<T, D> {
        self.factor.l()
    }
}

/// `a.cholesky().unwrap()`, bound to a name. The decomposition works in place: a matrix given
/// by value (a local the function built) is factored where it is, one given by reference is
/// copied first.
pub fn cholesky_factor<T, D, A>(a: A) -> CholeskyFactor<T, D>
where
    T: Real + RealField,
    D: Dim,
    A: IntoSquare<T, D>,
    DefaultAllocator: Allocator<D, D>,
{
    CholeskyFactor {
        factor: a
            .into_square()
            .cholesky()
            .unwrap_or_else(|| not_positive_definite()),
    }
}

/// A square matrix by value or by reference, as an owned one: moved, or copied.
pub trait IntoSquare<T: Real + RealField, D: Dim>
where
    DefaultAllocator: Allocator<D, D>,
{
    fn into_square(self) -> Square<T, D>;
}

impl<T: Real + RealField, D: Dim> IntoSquare<T, D> for Square<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    fn into_square(self) -> Square<T, D> {
        self
    }
}

impl<T: Real + RealField, D: Dim> IntoSquare<T, D> for &Square<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    fn into_square(self) -> Square<T, D> {
        self.clone()
    }
}

impl<T: Real + RealField, D: Dim> crate::tangent::Tangent for CholeskyFactor<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    type Tangent = Square<T, D>;
    fn zero_tangent(&self) -> Square<T, D> {
        let n = self.factor.l_dirty().shape_generic().0;
        Square::from_element_generic(n, n, T::ZERO)
    }
}

/// `chol = cholesky_factor(a)`: the uses' gradient `G` with respect to the symmetric matrix,
/// folded onto the lower triangle nalgebra reads.
///
/// Implemented on the factor `y`, and reading neither `a` nor `y`'s value: so the reverse sweep
/// keeps nothing of `a` for it (the matrix is often built element by element in a loop, whose
/// every write would otherwise be saved and restored).
pub trait CholeskyFactorRule {
    type Tangent;
    fn cholesky_factor_adjoint(&self, d: &Self::Tangent) -> Self::Tangent;
}

impl<T: Real + RealField, D: Dim> CholeskyFactorRule for CholeskyFactor<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    type Tangent = Square<T, D>;
    fn cholesky_factor_adjoint(&self, d: &Square<T, D>) -> Square<T, D> {
        onto_lower_triangle(d.clone())
    }
}

/// `x = chol.solve(&b)`: `λ = A⁻¹·dx` from the stored factor, `dA = -λ·xᵀ`, `db = λ`.
pub trait FactorSolveRule<B> {
    type Solution;
    type Tangent;
    fn factor_solve_adjoint_self(
        &self,
        b: &B,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Tangent;
    fn factor_solve_adjoint_other(
        &self,
        b: &B,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Solution;
}

impl<T, D, C> FactorSolveRule<OMatrix<T, D, C>> for CholeskyFactor<T, D>
where
    T: Real + RealField,
    D: Dim,
    C: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D, C> + Allocator<C, D>,
{
    type Solution = OMatrix<T, D, C>;
    type Tangent = Square<T, D>;
    fn factor_solve_adjoint_self(
        &self,
        _: &OMatrix<T, D, C>,
        x: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> Square<T, D> {
        -(self.factor.solve(d) * x.transpose())
    }
    fn factor_solve_adjoint_other(
        &self,
        _: &OMatrix<T, D, C>,
        _: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> OMatrix<T, D, C> {
        self.factor.solve(d)
    }
}

/// `y = chol.ln_determinant()`: `dA = dy·A⁻¹`, from the stored factor.
pub trait FactorLnDeterminantRule {
    type Output;
    type Tangent;
    fn factor_ln_determinant_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

impl<T: Real + RealField, D: Dim> FactorLnDeterminantRule for CholeskyFactor<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    type Output = T;
    type Tangent = Square<T, D>;
    fn factor_ln_determinant_adjoint(&self, _: &T, d: &T) -> Square<T, D> {
        inverse_from_factor(&self.factor) * *d
    }
}

/// `L = chol.l()`: with `P = Φ(Lᵀ·dL)` (the lower triangle, diagonal halved) and
/// `S = L⁻ᵀ·P·L⁻¹`, the symmetric gradient `(S + Sᵀ)/2` with respect to the factored matrix
/// (Murray 2016), which [`CholeskyFactorRule`] folds onto the lower triangle with the other
/// uses' gradients. Only the lower triangle of `dL` matters. `y` is the factor `l()` returned.
pub trait FactorLRule {
    type Tangent;
    fn factor_l_adjoint(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
}

impl<T: Real + RealField, D: Dim> FactorLRule for CholeskyFactor<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    type Tangent = Square<T, D>;
    fn factor_l_adjoint(&self, y: &Square<T, D>, d: &Square<T, D>) -> Square<T, D> {
        symmetric_gradient_from_l(y, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, Dyn, Matrix3, Vector3};

    fn spd() -> Matrix3<f64> {
        let m = Matrix3::new(2.0, 0.3, -0.4, 0.1, 1.5, 0.2, -0.3, 0.5, 1.8);
        m * m.transpose() + Matrix3::identity()
    }

    /// Central differences of `f` in every element of `a`.
    fn numeric(f: impl Fn(&Matrix3<f64>) -> f64, a: &Matrix3<f64>) -> Matrix3<f64> {
        let mut g = Matrix3::zeros();
        for k in 0..9 {
            let h = 1e-6;
            let (mut plus, mut minus) = (*a, *a);
            plus[k] += h;
            minus[k] -= h;
            g[k] = (f(&plus) - f(&minus)) / (2.0 * h);
        }
        g
    }

    fn close(a: &Matrix3<f64>, b: &Matrix3<f64>) {
        assert!((a - b).amax() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn a_shared_factor_gives_the_gradients_of_its_uses() {
        let a = spd();
        let b = Vector3::new(1.0, -2.0, 0.5);
        let d = Vector3::new(0.3, 1.0, -0.7);
        let f = |a: &Matrix3<f64>| {
            let chol = cholesky_factor(a);
            chol.solve(&b).dot(&d) + 2.0 * chol.ln_determinant()
        };
        let chol = cholesky_factor(a);
        let x = chol.solve(&b);
        let g = FactorSolveRule::factor_solve_adjoint_self(&chol, &b, &x, &d)
            + FactorLnDeterminantRule::factor_ln_determinant_adjoint(&chol, &0.0, &2.0);
        let da = CholeskyFactorRule::cholesky_factor_adjoint(&chol, &g);
        close(&da, &numeric(f, &a));
    }

    /// A symmetric positive definite matrix whose elements are exact in `f32`.
    fn spd_sample<D: Dim>(n: D, seed: usize) -> Square<f64, D>
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let m = sample(n, n, seed);
        let mut a = &m * m.transpose();
        for i in 0..n.value() {
            a[(i, i)] += 1.0;
        }
        a
    }

    fn check_l<T: Real + RealField, D: Dim>(n: D, seed: usize)
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let a = spd_sample(n, seed);
        let ta = lift::<T, _, _>(&a);
        // A cotangent with an upper triangle too, which the rule must ignore.
        let d = sample(n, n, seed + 1);
        let td = lift::<T, _, _>(&d);
        // Every element perturbed alone: nalgebra never reads the upper triangle (its
        // differences are 0), and a lower element stands for both triangles.
        let fd = fd_gradient(|x| cholesky_factor(x).l().dot(&d), &a);

        let chol = cholesky_factor(&ta);
        let l = chol.l();
        assert_eq!(l, ta.clone().cholesky().unwrap().l());
        let g = FactorLRule::factor_l_adjoint(&chol, &l, &td);
        assert_eq!(g, g.transpose(), "the factor's gradient is symmetric");
        let da = CholeskyFactorRule::cholesky_factor_adjoint(&chol, &g);
        assert_matrix_close(&da, &fd, "chol.l()");
    }

    #[test]
    fn the_factor_l_matches_finite_differences() {
        check_l::<f64, _>(Const::<1>, 1);
        check_l::<f64, _>(Const::<3>, 2);
        check_l::<f64, _>(Dyn(5), 3);
        check_l::<f32, _>(Const::<4>, 4);
        check_l::<f32, _>(Dyn(3), 5);
    }

    #[test]
    fn the_factor_l_shares_the_factor_with_the_other_uses() {
        let a = spd();
        let b = Vector3::new(1.0, -2.0, 0.5);
        let dl = Matrix3::new(0.3, 0.0, 0.0, -1.0, 0.5, 0.0, 0.2, 0.7, -0.4);
        let f = |a: &Matrix3<f64>| {
            let chol = cholesky_factor(a);
            chol.solve(&b).sum() + chol.l().component_mul(&dl).sum()
        };
        let chol = cholesky_factor(a);
        let (x, l) = (chol.solve(&b), chol.l());
        let g = FactorSolveRule::factor_solve_adjoint_self(&chol, &b, &x, &Vector3::repeat(1.0))
            + FactorLRule::factor_l_adjoint(&chol, &l, &dl);
        let da = CholeskyFactorRule::cholesky_factor_adjoint(&chol, &g);
        close(&da, &numeric(f, &a));
    }
}
