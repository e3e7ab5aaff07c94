//! Linear solves, inverses and determinants, with the standard matrix-calculus rules.
//!
//! `#[differentiable]` code writes these as nalgebra does (`a.lu().solve(&b).unwrap()`,
//! `a.cholesky().unwrap().solve(&b)`, `a.try_inverse().unwrap()`, `a.determinant()`,
//! `a.cholesky().unwrap().ln_determinant()`, `a.cholesky().unwrap().l()`), and the macro turns
//! each chain into one function of this module (a Cholesky factor bound to a name is
//! `factor.rs`'s), so that the decomposition itself never needs a gradient. The reverse rules
//! use solves, not inverses, where a solve serves: for `x = A⁻¹b`, `λ = A⁻ᵀ·dx`, `db = λ` and
//! `dA = -λ·xᵀ`.
//!
//! nalgebra's Cholesky decomposition reads only the lower triangle of its matrix, so the
//! gradients of the Cholesky forms with respect to `A` are those of the lower triangle: the
//! symmetric gradient `G` folded onto it (`Gᵢⱼ + Gⱼᵢ` below the diagonal, `Gᵢᵢ` on it, zero
//! above), exactly what finite differences of the program measure.

use core::borrow::Borrow;

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, DimMin, OMatrix, RealField, Scalar};

use crate::Real;

pub use super::factor::cholesky_factor;

/// The square matrices the solves take: `SMatrix<T, N, N>` and `DMatrix<T>`.
pub(super) type Square<T, D> = OMatrix<T, D, D>;

/// A right-hand side as generated code passes it: a matrix, or a reference to one, or to a
/// reference. An element of a slice of matrices (`lu.solve(&bs[i])`) is read by reference, and
/// the macro, which does not see types, borrows it once more.
pub trait RightHandSide<M> {
    fn matrix(&self) -> &M;
}

impl<M> RightHandSide<M> for M {
    fn matrix(&self) -> &M {
        self
    }
}

impl<M> RightHandSide<M> for &M {
    fn matrix(&self) -> &M {
        self
    }
}

impl<M> RightHandSide<M> for &&M {
    fn matrix(&self) -> &M {
        self
    }
}

fn singular(what: &str) -> ! {
    panic!("{what}: the matrix is singular (nalgebra returned `None`, which the user's `unwrap` would have panicked on)")
}

/// `a.lu().solve(&b).unwrap()`.
pub fn solve_by_lu<T, D, C, A, B>(a: A, b: B) -> OMatrix<T, D, C>
where
    T: Real + RealField,
    D: DimMin<D, Output = D>,
    C: Dim,
    A: Borrow<Square<T, D>>,
    B: RightHandSide<OMatrix<T, D, C>>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
{
    a.borrow()
        .clone()
        .lu()
        .solve(b.matrix())
        .unwrap_or_else(|| singular("lu().solve(..)"))
}

/// `a.qr().solve(&b).unwrap()`: the same solution as [`solve_by_lu`], computed as written.
pub fn solve_by_qr<T, D, C, A, B>(a: A, b: B) -> OMatrix<T, D, C>
where
    T: Real + RealField,
    D: DimMin<D, Output = D>,
    C: Dim,
    A: Borrow<Square<T, D>>,
    B: RightHandSide<OMatrix<T, D, C>>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C>,
{
    a.borrow()
        .clone()
        .qr()
        .solve(b.matrix())
        .unwrap_or_else(|| singular("qr().solve(..)"))
}

/// `a.cholesky().unwrap().solve(&b)`.
pub fn solve_by_cholesky<T, D, C, A, B>(a: A, b: B) -> OMatrix<T, D, C>
where
    T: Real + RealField,
    D: Dim,
    C: Dim,
    A: Borrow<Square<T, D>>,
    B: RightHandSide<OMatrix<T, D, C>>,
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    a.borrow()
        .clone()
        .cholesky()
        .unwrap_or_else(|| not_positive_definite())
        .solve(b.matrix())
}

pub(super) fn not_positive_definite() -> ! {
    panic!("cholesky(): the matrix is not positive definite (nalgebra returned `None`, which the user's `unwrap` would have panicked on)")
}

/// `a.try_inverse().unwrap()`.
pub fn inverse_by_lu<T, D, A>(a: A) -> Square<T, D>
where
    T: Real + RealField,
    D: DimMin<D, Output = D>,
    A: Borrow<Square<T, D>>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    a.borrow()
        .clone()
        .try_inverse()
        .unwrap_or_else(|| singular("try_inverse()"))
}

/// `a.cholesky().unwrap().ln_determinant()`: `ln det A` of a positive definite matrix.
pub fn ln_determinant_by_cholesky<T, D, A>(a: A) -> T
where
    T: Real + RealField,
    D: Dim,
    A: Borrow<Square<T, D>>,
    DefaultAllocator: Allocator<D, D>,
{
    a.borrow()
        .clone()
        .cholesky()
        .unwrap_or_else(|| not_positive_definite())
        .ln_determinant()
}

/// `a.cholesky().unwrap().l()`: the lower-triangular factor `L` of `A = L·Lᵀ`, its strict upper
/// triangle zero.
pub fn cholesky_l<T, D, A>(a: A) -> Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    A: Borrow<Square<T, D>>,
    DefaultAllocator: Allocator<D, D>,
{
    a.borrow()
        .clone()
        .cholesky()
        .unwrap_or_else(|| not_positive_definite())
        .l()
}

/// A gradient `g` with respect to a symmetric matrix, as the gradient of its lower triangle
/// (which is all nalgebra's Cholesky decomposition reads): `gᵢⱼ + gⱼᵢ` below the diagonal,
/// `gᵢᵢ` on it, zero above. In place: one pass, no allocation.
pub(super) fn onto_lower_triangle<T: Real + RealField, D: Dim>(mut g: Square<T, D>) -> Square<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let n = g.nrows();
    for j in 0..n {
        for i in j + 1..n {
            let upper = g[(j, i)];
            g[(i, j)] += upper;
            g[(j, i)] = T::ZERO;
        }
    }
    g
}

/// `A⁻¹ = L⁻ᵀ·L⁻¹` from the Cholesky factor `L` of `A`: the triangular inverse by forward
/// substitution (which skips the zeros of the identity it solves against), then the product.
/// For small matrices the product is taken in place, over the triangles only: `n³/6`
/// multiply-adds, as many as the decomposition itself; from [`GEMM_SIZE`] on it is one general
/// product, whose blocked kernels outrun the triangles despite twice the work.
pub(super) fn inverse_from_factor<T: Real + RealField, D: Dim>(
    factor: &nalgebra::Cholesky<T, D>,
) -> Square<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let l = factor.l_dirty();
    let n = l.nrows();
    let (rows, columns) = l.shape_generic();
    let mut inv = Square::<T, D>::zeros_generic(rows, columns);
    // Column j of L⁻¹ solves L·x = eⱼ; it is zero above row j. Column-oriented substitution
    // reads L by columns, as it is stored (only its lower triangle, as nalgebra left it). The
    // diagonal's reciprocals are taken once: a division in the loop would hold up every
    // multiply-add after it.
    let factor_columns = l.as_slice();
    let reciprocals: Vec<T> = (0..n).map(|k| T::ONE / factor_columns[k * n + k]).collect();
    let columns = inv.as_mut_slice();
    for j in 0..n {
        let x = &mut columns[j * n..(j + 1) * n];
        x[j] = T::ONE;
        for k in j..n {
            let column = &factor_columns[k * n..(k + 1) * n];
            let xk = x[k] * reciprocals[k];
            x[k] = xk;
            for (xi, &lik) in x[k + 1..].iter_mut().zip(&column[k + 1..]) {
                *xi -= lik * xk;
            }
        }
    }
    if n >= GEMM_SIZE {
        // nalgebra hands a product this large to `matrixmultiply`'s blocked kernels, which pick
        // the widest vector instructions at run time: faster than the triangles alone.
        return inv.transpose() * &inv;
    }
    symmetric_product_in_place(columns, n);
    inv
}

/// The order from which `Lᵀ·L` is a general product rather than a product of triangles: below
/// it the general product's setup and its twice as many multiply-adds cost more (measured with
/// `benches/language.rs`: slower at n = 50, faster at n = 200).
const GEMM_SIZE: usize = 96;

/// Overwrites the lower triangular `M` (column-major, `n × n`) with `Mᵀ·M`.
///
/// `(MᵀM)ᵢⱼ = Σₖ Mₖᵢ·Mₖⱼ` over `k ≥ max(i, j)`, the rows where both columns are nonzero: a dot
/// product of two contiguous column tails. Going through the columns `i` from the left and the
/// rows `j ≥ i` downwards, entry `(i, j)` is written where `Mⱼᵢ` was, which no later entry
/// reads; the upper triangle is then mirrored.
fn symmetric_product_in_place<T: Real>(columns: &mut [T], n: usize) {
    for i in 0..n {
        for j in i..n {
            let (left, right) = columns.split_at_mut(j * n);
            let entry = if j == i {
                let tail = &right[j..n];
                lanes_dot(tail, tail)
            } else {
                lanes_dot(&left[i * n + j..(i + 1) * n], &right[j..n])
            };
            columns[i * n + j] = entry;
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            columns[j * n + i] = columns[i * n + j];
        }
    }
}

/// `Σ aₖ·bₖ` in four independent sums, which the compiler keeps in vector registers (one sum
/// would be a chain of dependent additions it may not reorder).
#[inline]
fn lanes_dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut lanes = [T::ZERO; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_rest, b_rest) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            lanes[k] += x[k] * y[k];
        }
    }
    let mut sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += *x * *y;
    }
    sum
}

/// The symmetric gradient with respect to `A = L·Lᵀ` of a function of its Cholesky factor `L`
/// with cotangent `dL` (Murray 2016, "Differentiation of the Cholesky decomposition"):
/// `P = Φ(Lᵀ·dL)`, the lower triangle with the diagonal halved, `S = L⁻ᵀ·P·L⁻¹`, and the
/// result `(S + Sᵀ)/2`.
///
/// For a perturbation `δA`, `δL = L·Φ(L⁻¹·δA·L⁻ᵀ)` (`L⁻¹·δL` is lower triangular and
/// `L⁻¹·δA·L⁻ᵀ` is it plus its transpose), so `⟨dL, δL⟩ = ⟨Φ(Lᵀ·dL), L⁻¹·δA·L⁻ᵀ⟩ = ⟨S, δA⟩`.
/// Only the lower triangle of `dL` matters, as `L` has no other elements (and the lower
/// triangle of `Lᵀ·dL` does not involve the upper one of `dL`). `L⁻ᵀ·P·L⁻¹` is two triangular
/// solves, no inverse.
///
/// `l` must be the factor with its strict upper triangle zero (nalgebra's `l()`), since
/// `Lᵀ·dL` reads all of it; the solves read only the lower triangle.
pub(super) fn symmetric_gradient_from_l<T: Real + RealField, D: Dim>(
    l: &Square<T, D>,
    d: &Square<T, D>,
) -> Square<T, D>
where
    DefaultAllocator: Allocator<D, D>,
{
    let mut p = l.tr_mul(d);
    p.fill_upper_triangle(T::ZERO, 1);
    for i in 0..p.nrows() {
        p[(i, i)] *= T::HALF;
    }
    // A Cholesky factor has a positive diagonal, so the solves cannot fail.
    let solve = |b: &Square<T, D>| {
        l.tr_solve_lower_triangular(b)
            .expect("a Cholesky factor has a nonzero diagonal")
    };
    // L⁻ᵀ·(L⁻ᵀ·P)ᵀ = L⁻ᵀ·Pᵀ·L⁻¹ = Sᵀ, which serves as well as S for the symmetric part.
    let st = solve(&solve(&p).transpose());
    (&st + st.transpose()) * T::HALF
}

/// `x = A⁻¹b` by LU or QR: `λ = A⁻ᵀ·dx`, `dA = -λ·xᵀ`, `db = λ`.
pub trait SolveRule<B> {
    type Solution;
    type Tangent;
    fn solve_adjoint_self(&self, b: &B, x: &Self::Solution, d: &Self::Solution) -> Self::Tangent;
    fn solve_adjoint_other(&self, b: &B, x: &Self::Solution, d: &Self::Solution) -> Self::Solution;
}

impl<T, D, C> SolveRule<OMatrix<T, D, C>> for Square<T, D>
where
    T: Real + RealField,
    D: DimMin<D, Output = D>,
    C: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<D, C> + Allocator<C, D>,
{
    type Solution = OMatrix<T, D, C>;
    type Tangent = Square<T, D>;
    fn solve_adjoint_self(
        &self,
        _: &OMatrix<T, D, C>,
        x: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> Square<T, D> {
        let lambda = solve_by_lu(self.transpose(), d);
        -(lambda * x.transpose())
    }
    fn solve_adjoint_other(
        &self,
        _: &OMatrix<T, D, C>,
        _: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> OMatrix<T, D, C> {
        solve_by_lu(self.transpose(), d)
    }
}

/// A right-hand side read by reference (an element of a slice of matrices): the rule of the
/// matrix it refers to.
impl<T, D, C> SolveRule<&OMatrix<T, D, C>> for Square<T, D>
where
    Square<T, D>: SolveRule<OMatrix<T, D, C>>,
    T: Scalar,
    D: Dim,
    C: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    type Solution = <Self as SolveRule<OMatrix<T, D, C>>>::Solution;
    type Tangent = <Self as SolveRule<OMatrix<T, D, C>>>::Tangent;
    fn solve_adjoint_self(
        &self,
        b: &&OMatrix<T, D, C>,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Tangent {
        SolveRule::<OMatrix<T, D, C>>::solve_adjoint_self(self, *b, x, d)
    }
    fn solve_adjoint_other(
        &self,
        b: &&OMatrix<T, D, C>,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Solution {
        SolveRule::<OMatrix<T, D, C>>::solve_adjoint_other(self, *b, x, d)
    }
}

/// `x = A⁻¹b` by Cholesky, `A` symmetric positive definite: as [`SolveRule`], with `dA`
/// folded onto the lower triangle.
pub trait CholeskySolveRule<B> {
    type Solution;
    type Tangent;
    fn cholesky_solve_adjoint_self(
        &self,
        b: &B,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Tangent;
    fn cholesky_solve_adjoint_other(
        &self,
        b: &B,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Solution;
}

impl<T, D, C> CholeskySolveRule<OMatrix<T, D, C>> for Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    C: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D, C> + Allocator<C, D>,
{
    type Solution = OMatrix<T, D, C>;
    type Tangent = Square<T, D>;
    fn cholesky_solve_adjoint_self(
        &self,
        _: &OMatrix<T, D, C>,
        x: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> Square<T, D> {
        let lambda = solve_by_cholesky(self, d);
        // The solution depends on the symmetric matrix the lower triangle stands for.
        onto_lower_triangle(-(&lambda * x.transpose()))
    }
    fn cholesky_solve_adjoint_other(
        &self,
        _: &OMatrix<T, D, C>,
        _: &OMatrix<T, D, C>,
        d: &OMatrix<T, D, C>,
    ) -> OMatrix<T, D, C> {
        solve_by_cholesky(self, d)
    }
}

/// A right-hand side read by reference: as for [`SolveRule`].
impl<T, D, C> CholeskySolveRule<&OMatrix<T, D, C>> for Square<T, D>
where
    Square<T, D>: CholeskySolveRule<OMatrix<T, D, C>>,
    T: Scalar,
    D: Dim,
    C: Dim,
    DefaultAllocator: Allocator<D, D> + Allocator<D, C>,
{
    type Solution = <Self as CholeskySolveRule<OMatrix<T, D, C>>>::Solution;
    type Tangent = <Self as CholeskySolveRule<OMatrix<T, D, C>>>::Tangent;
    fn cholesky_solve_adjoint_self(
        &self,
        b: &&OMatrix<T, D, C>,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Tangent {
        CholeskySolveRule::<OMatrix<T, D, C>>::cholesky_solve_adjoint_self(self, *b, x, d)
    }
    fn cholesky_solve_adjoint_other(
        &self,
        b: &&OMatrix<T, D, C>,
        x: &Self::Solution,
        d: &Self::Solution,
    ) -> Self::Solution {
        CholeskySolveRule::<OMatrix<T, D, C>>::cholesky_solve_adjoint_other(self, *b, x, d)
    }
}

/// `Y = A⁻¹`: `dA = -Yᵀ·dY·Yᵀ`.
pub trait InverseRule {
    type Tangent;
    fn inverse_adjoint(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
}

impl<T, D> InverseRule for Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    type Tangent = Square<T, D>;
    fn inverse_adjoint(&self, y: &Square<T, D>, d: &Square<T, D>) -> Square<T, D> {
        let yt = y.transpose();
        -(&yt * d * &yt)
    }
}

/// `y = ln det A` by Cholesky: `dA = dy·A⁻¹`, folded onto the lower triangle.
pub trait LnDeterminantRule {
    type Output;
    type Tangent;
    fn ln_determinant_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

impl<T, D> LnDeterminantRule for Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    type Output = T;
    type Tangent = Square<T, D>;
    fn ln_determinant_adjoint(&self, _: &T, d: &T) -> Square<T, D> {
        let factor = self
            .clone()
            .cholesky()
            .unwrap_or_else(|| not_positive_definite());
        onto_lower_triangle(inverse_from_factor(&factor) * *d)
    }
}

/// `L = cholesky_l(A)`, `A = L·Lᵀ` symmetric positive definite: with `P = Φ(Lᵀ·dL)` (the lower
/// triangle, diagonal halved) and `S = L⁻ᵀ·P·L⁻¹`, the symmetric gradient `(S + Sᵀ)/2` (Murray
/// 2016), folded onto the lower triangle nalgebra's decomposition reads, as
/// [`LnDeterminantRule`]. Only the lower triangle of `dL` matters. `y` is the factor `L` the
/// forward computed, so the rule needs no second decomposition.
pub trait CholeskyLRule {
    type Tangent;
    fn cholesky_l_adjoint(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
}

impl<T, D> CholeskyLRule for Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    type Tangent = Square<T, D>;
    fn cholesky_l_adjoint(&self, y: &Square<T, D>, d: &Square<T, D>) -> Square<T, D> {
        onto_lower_triangle(symmetric_gradient_from_l(y, d))
    }
}

/// `y = det A`: `dA = dy·adj(A)ᵀ`, which is `dy·y·A⁻ᵀ` for an invertible `A` and the cofactor
/// matrix otherwise (a singular matrix of rank n - 1 still has a nonzero gradient).
pub trait DeterminantRule {
    type Output;
    type Tangent;
    fn determinant_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// For owned matrices and views alike (`m.fixed_view::<2, 2>(0, 1).determinant()`).
impl<T, D, S> DeterminantRule for nalgebra::Matrix<T, D, D, S>
where
    T: Real + RealField,
    D: DimMin<D, Output = D>,
    S: nalgebra::Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    type Output = T;
    type Tangent = Square<T, D>;
    fn determinant_adjoint(&self, y: &T, d: &T) -> Square<T, D> {
        let a = self.clone_owned();
        match a.clone().try_inverse() {
            Some(inverse) if *y != T::ZERO => inverse.transpose() * (*y * *d),
            _ => cofactors(&a) * *d,
        }
    }
}

/// The cofactor matrix: `Cᵢⱼ = (-1)^(i+j)·det(A without row i and column j)`.
fn cofactors<T, D>(a: &Square<T, D>) -> Square<T, D>
where
    T: Real + RealField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
    let n = a.nrows();
    let dynamic = nalgebra::DMatrix::from_fn(n, n, |i, j| a[(i, j)]);
    let mut c = a.clone();
    for i in 0..n {
        for j in 0..n {
            let minor = dynamic.clone().remove_row(i).remove_column(j);
            let sign = if (i + j) % 2 == 0 { T::ONE } else { -T::ONE };
            c[(i, j)] = if n == 1 {
                T::ONE
            } else {
                sign * minor.determinant()
            };
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, DMatrix, DVector, Dyn, Matrix3, Vector3};

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
    fn lu_solve_against_finite_differences() {
        let a = Matrix3::new(2.0, 1.0, 0.5, -1.0, 3.0, 0.2, 0.4, 0.1, 1.5);
        let b = Vector3::new(1.0, -2.0, 0.5);
        let d = Vector3::new(0.3, 1.0, -0.7);
        let x = solve_by_lu(a, b);
        assert!((a * x - b).norm() < 1e-12);
        let da = SolveRule::solve_adjoint_self(&a, &b, &x, &d);
        close(&da, &numeric(|a| solve_by_lu(*a, b).dot(&d), &a));
        let db = SolveRule::solve_adjoint_other(&a, &b, &x, &d);
        for k in 0..3 {
            let mut plus = b;
            plus[k] += 1e-6;
            let mut minus = b;
            minus[k] -= 1e-6;
            let fd = (solve_by_lu(a, plus).dot(&d) - solve_by_lu(a, minus).dot(&d)) / 2e-6;
            assert!((db[k] - fd).abs() < 1e-6);
        }
    }

    #[test]
    fn cholesky_forms_differentiate_the_lower_triangle() {
        let a = spd();
        let b = Vector3::new(1.0, -2.0, 0.5);
        let d = Vector3::new(0.3, 1.0, -0.7);
        let x = solve_by_cholesky(a, b);
        let da = CholeskySolveRule::cholesky_solve_adjoint_self(&a, &b, &x, &d);
        close(&da, &numeric(|a| solve_by_cholesky(*a, b).dot(&d), &a));
        let y = ln_determinant_by_cholesky(a);
        assert!((y - a.determinant().ln()).abs() < 1e-12);
        let g = LnDeterminantRule::ln_determinant_adjoint(&a, &y, &2.0);
        close(&g, &numeric(|a| 2.0 * ln_determinant_by_cholesky(*a), &a));
    }

    fn check_cholesky_l<T: Real + RealField, D: Dim>(n: D, seed: usize)
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let m = sample(n, n, seed);
        let mut a = &m * m.transpose();
        for i in 0..n.value() {
            a[(i, i)] += 1.0;
        }
        let ta = lift::<T, _, _>(&a);
        // A cotangent with an upper triangle too, which the rule must ignore.
        let d = sample(n, n, seed + 1);
        // Every element perturbed alone: nalgebra never reads the upper triangle (its
        // differences are 0), and a lower element stands for both triangles.
        let fd = fd_gradient(|x| cholesky_l(x).dot(&d), &a);
        let l = cholesky_l(&ta);
        assert_eq!(l, l.lower_triangle());
        let g = CholeskyLRule::cholesky_l_adjoint(&ta, &l, &lift(&d));
        assert_matrix_close(&g, &fd, "cholesky_l");
    }

    #[test]
    fn cholesky_l_matches_finite_differences() {
        check_cholesky_l::<f64, _>(Const::<1>, 1);
        check_cholesky_l::<f64, _>(Const::<3>, 2);
        check_cholesky_l::<f64, _>(Dyn(6), 3);
        check_cholesky_l::<f32, _>(Const::<4>, 4);
        check_cholesky_l::<f32, _>(Dyn(3), 5);
    }

    #[test]
    fn cholesky_l_of_a_one_by_one_is_the_square_root() {
        // L = √a: dL/da = 1/(2√a).
        let a = nalgebra::Matrix1::new(4.0);
        let l = cholesky_l(a);
        assert_eq!(l[0], 2.0);
        let g = CholeskyLRule::cholesky_l_adjoint(&a, &l, &nalgebra::Matrix1::new(1.0));
        assert_eq!(g[0], 0.25);
    }

    #[test]
    fn the_inverse_from_a_factor_is_the_inverse() {
        // Both ways of taking the product: over the triangles, and as one general product.
        for n in [1, 2, 7, GEMM_SIZE - 1, GEMM_SIZE, GEMM_SIZE + 13] {
            let b = DMatrix::from_fn(n, n, |i, j| ((i * n + j) as f64 * 0.37).sin());
            let a = &b * b.transpose() + DMatrix::identity(n, n) * n as f64;
            let inverse = inverse_from_factor(&a.clone().cholesky().unwrap());
            let error = (&a * &inverse - DMatrix::identity(n, n)).amax();
            assert!(error < 1e-12, "n = {n}: |A·A⁻¹ - I| = {error}");
            let asymmetry = (&inverse - inverse.transpose()).amax();
            assert!(asymmetry < 1e-12, "n = {n}: |A⁻¹ - A⁻ᵀ| = {asymmetry}");
        }
    }

    #[test]
    fn inverse_and_determinant_against_finite_differences() {
        let a = Matrix3::new(2.0, 1.0, 0.5, -1.0, 3.0, 0.2, 0.4, 0.1, 1.5);
        let d = Matrix3::new(0.3, -0.2, 0.1, 0.5, 0.4, -0.6, 0.2, 0.7, -0.1);
        let y = inverse_by_lu(a);
        let g = InverseRule::inverse_adjoint(&a, &y, &d);
        close(
            &g,
            &numeric(|a| inverse_by_lu(*a).component_mul(&d).sum(), &a),
        );
        let det = a.determinant();
        let g = DeterminantRule::determinant_adjoint(&a, &det, &1.5);
        close(&g, &numeric(|a| 1.5 * a.determinant(), &a));
        // A singular matrix of rank 2 still has a gradient: its cofactors.
        let s = Matrix3::new(1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 1.0, 0.0, 1.0);
        let g = DeterminantRule::determinant_adjoint(&s, &s.determinant(), &1.0);
        close(&g, &numeric(|a| a.determinant(), &s));
    }

    #[test]
    fn dynamic_shapes_and_matrix_right_sides() {
        let a = DMatrix::from_fn(4, 4, |i, j| {
            if i == j {
                3.0
            } else {
                0.1 * (i + 2 * j) as f64
            }
        });
        let b = DMatrix::from_fn(4, 2, |i, j| (i + j) as f64 - 1.5);
        let x = solve_by_qr(&a, &b);
        assert!((&a * &x - &b).norm() < 1e-10);
        let d = DMatrix::from_element(4, 2, 1.0);
        let da = SolveRule::solve_adjoint_self(&a, &b, &x, &d);
        assert_eq!(da.shape(), (4, 4));
        let v = DVector::from_element(4, 1.0);
        assert!(
            (solve_by_lu(&a, &v) - solve_by_cholesky(&(&a * a.transpose()), &(&a * &v))).norm()
                > 0.0
        );
    }
}
