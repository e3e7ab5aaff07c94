//! A scalar spread over a matrix, and matrices built from slices and arrays: `m.add_scalar(b)`,
//! `DVector::from_column_slice(w)`, `from_row_slice`, `from_vec` (also with their shape first,
//! `DMatrix::from_row_slice(r, c, w)`), `SVector::from([a, b, c])`, and `m.mean()`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, Storage};

use crate::tangent::Tangent;
use crate::Real;

/// `y = m.add_scalar(b)`, `yᵢⱼ = mᵢⱼ + b`: `dm = dy`, `db = Σ dyᵢⱼ`.
pub trait AddScalarRule<T>: Tangent {
    type Output;
    fn add_scalar_adjoint_self(&self, b: &T, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
    fn add_scalar_adjoint_scalar(&self, b: &T, y: &Self::Output, d: &Self::Output) -> T;
}

impl<T, R, C, S> AddScalarRule<T> for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn add_scalar_adjoint_self(&self, _: &T, _: &Self::Output, d: &Self::Output) -> Self::Output {
        d.clone()
    }
    #[inline]
    fn add_scalar_adjoint_scalar(&self, _: &T, _: &Self::Output, d: &Self::Output) -> T {
        d.iter().fold(T::ZERO, |acc, &x| acc + x)
    }
}

/// `y = m.mean()`: `dm = dy / n` in every element.
pub trait MeanRule: Tangent {
    type Output;
    fn mean_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

impl<T, R, C, S> MeanRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn mean_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        let (rows, cols) = self.shape_generic();
        let n = T::from_usize(rows.value() * cols.value());
        OMatrix::from_element_generic(rows, cols, *d / n)
    }
}

/// `y = M::from_column_slice(w)`, `from_vec(w)` or `from_row_slice(w)`: `w`'s gradient is `dy`'s
/// elements in the order `w` held them (column-major, or row-major for `from_row_slice`).
/// Implemented on the slice or `Vec` the matrix is built from; the methods are named after the
/// constructors they differentiate.
#[allow(clippy::wrong_self_convention)]
pub trait FromSliceRule<M> {
    type Tangent;
    fn from_column_slice_adjoint(&self, y: &M, d: &M) -> Self::Tangent;
    fn from_row_slice_adjoint(&self, y: &M, d: &M) -> Self::Tangent;
    fn from_vec_adjoint(&self, y: &M, d: &M) -> Self::Tangent {
        self.from_column_slice_adjoint(y, d)
    }
    /// `DMatrix::from_column_slice(rows, columns, w)`: the shape carries no gradient.
    fn shaped_from_column_slice_adjoint(
        &self,
        _: &usize,
        _: &usize,
        y: &M,
        d: &M,
    ) -> Self::Tangent {
        self.from_column_slice_adjoint(y, d)
    }
    /// `DMatrix::from_row_slice(rows, columns, w)`.
    fn shaped_from_row_slice_adjoint(&self, _: &usize, _: &usize, y: &M, d: &M) -> Self::Tangent {
        self.from_row_slice_adjoint(y, d)
    }
    /// `DMatrix::from_vec(rows, columns, v)`.
    fn shaped_from_vec_adjoint(&self, _: &usize, _: &usize, y: &M, d: &M) -> Self::Tangent {
        self.from_column_slice_adjoint(y, d)
    }
}

/// `y = Matrix::from(array)`: `SVector::from([a, b, c])`, whose elements are the array's in
/// order, and `SMatrix::from([[..]; C])`, an array of columns. The gradient is the cotangent's
/// elements in the same arrangement.
#[diagnostic::on_unimplemented(
    message = "nabla differentiates `from` of arrays only, not from `{Self}`",
    label = "this value carries gradient into the conversion",
    note = "build vectors and matrices that carry gradient with `SVector::from([a, b, c])`, `Vector3::new(a, b, c)` or `from_column_slice(w)`"
)]
pub trait FromArrayRule<M>: Sized {
    fn array_adjoint(&self, y: &M, d: &M) -> Self;
}

impl<T, R, C, const N: usize> FromArrayRule<OMatrix<T, R, C>> for [T; N]
where
    T: Real,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn array_adjoint(&self, _: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> [T; N] {
        let elements = d.as_slice();
        core::array::from_fn(|k| elements[k])
    }
}

impl<T, R, C, const ROWS: usize, const COLUMNS: usize> FromArrayRule<OMatrix<T, R, C>>
    for [[T; ROWS]; COLUMNS]
where
    T: Real,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn array_adjoint(&self, _: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> [[T; ROWS]; COLUMNS] {
        core::array::from_fn(|j| core::array::from_fn(|i| d[(i, j)]))
    }
}

macro_rules! from_slice_rule {
    ($($source:ty),*) => {$(
        impl<T, R, C> FromSliceRule<OMatrix<T, R, C>> for $source
        where
            T: Real,
            R: Dim,
            C: Dim,
            DefaultAllocator: Allocator<R, C>,
        {
            type Tangent = Vec<T>;
            #[inline]
            fn from_column_slice_adjoint(&self, _: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> Vec<T> {
                d.as_slice().to_vec()
            }
            #[inline]
            fn from_row_slice_adjoint(&self, _: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> Vec<T> {
                let (rows, cols) = d.shape();
                (0..rows)
                    .flat_map(|i| (0..cols).map(move |j| (i, j)))
                    .map(|at| d[at])
                    .collect()
            }
        }
    )*};
}
from_slice_rule!([T], Vec<T>);

/// An array literal passed by reference (`Matrix2::from_column_slice(&[a, b, c, d])`): its
/// gradient is the slice's, as an array of the same length.
impl<T, R, C, const N: usize> FromSliceRule<OMatrix<T, R, C>> for [T; N]
where
    T: Real,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    type Tangent = [T; N];
    #[inline]
    fn from_column_slice_adjoint(&self, y: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> [T; N] {
        let slice = self[..].from_column_slice_adjoint(y, d);
        core::array::from_fn(|k| slice[k])
    }
    #[inline]
    fn from_row_slice_adjoint(&self, y: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> [T; N] {
        let slice = self[..].from_row_slice_adjoint(y, d);
        core::array::from_fn(|k| slice[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_close, central_difference};
    use nalgebra::{DVector, Matrix2x3, Vector3};

    #[test]
    fn add_scalar_passes_the_cotangent_and_sums_it_for_the_scalar() {
        let m = Vector3::new(1.0, -2.0, 0.5);
        let d = Vector3::new(0.5, 1.5, -1.0);
        let y = m.add_scalar(0.3);
        assert_eq!(m.add_scalar_adjoint_self(&0.3, &y, &d), d);
        let fd = central_difference(|b| m.add_scalar(b).dot(&d), 0.3);
        assert_close(m.add_scalar_adjoint_scalar(&0.3, &y, &d), fd, "add_scalar");
    }

    #[test]
    fn mean_spreads_the_cotangent_evenly() {
        let m = DVector::from_vec(vec![1.0, 2.0, 4.0, 5.0]);
        let g = m.mean_adjoint(&m.mean(), &2.0);
        assert_eq!(g, DVector::from_element(4, 0.5));
    }

    #[test]
    fn slices_get_the_elements_back_in_their_order() {
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let by_columns = Matrix2x3::from_column_slice(&w);
        let by_rows = Matrix2x3::from_row_slice(&w);
        let d = Matrix2x3::new(10.0, 20.0, 30.0, 40.0, 50.0, 60.0);
        // Element k of `w` lands at the same place in `y` as `d`'s entry that comes back to it.
        let back = FromSliceRule::from_column_slice_adjoint(&w[..], &by_columns, &d);
        for (k, g) in back.iter().enumerate() {
            assert_eq!(*g, d[(k % 2, k / 2)]);
        }
        let back = FromSliceRule::from_row_slice_adjoint(&w[..], &by_rows, &d);
        for (k, g) in back.iter().enumerate() {
            assert_eq!(*g, d[(k / 3, k % 3)]);
        }
        // From the array itself, the same elements in an array.
        let from_array = FromSliceRule::from_column_slice_adjoint(&w, &by_columns, &d);
        assert_eq!(
            from_array.to_vec(),
            FromSliceRule::from_column_slice_adjoint(&w[..], &by_columns, &d)
        );
        let from_array = FromSliceRule::from_row_slice_adjoint(&w, &by_rows, &d);
        assert_eq!(
            from_array.to_vec(),
            FromSliceRule::from_row_slice_adjoint(&w[..], &by_rows, &d)
        );
    }

    /// `f(w) = ⟨d, M(w)⟩` for each constructor, against finite differences in each element.
    #[test]
    fn constructors_match_finite_differences() {
        use nalgebra::{DMatrix, Matrix2, SVector};
        let w = [0.5, -1.25, 2.0, 0.75, -0.5, 1.5];
        let fd = |f: &dyn Fn(&[f64; 6]) -> f64, k: usize| {
            central_difference(
                |x| {
                    let mut v = w;
                    v[k] = x;
                    f(&v)
                },
                w[k],
            )
        };
        let d = DMatrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64 - 1.5);
        let rows = |v: &[f64; 6]| DMatrix::from_row_slice(2, 3, v).dot(&d);
        let columns = |v: &[f64; 6]| DMatrix::from_column_slice(2, 3, v).dot(&d);
        let y = DMatrix::from_row_slice(2, 3, &w);
        let by_rows = FromSliceRule::shaped_from_row_slice_adjoint(&w[..], &2, &3, &y, &d);
        let y = DMatrix::from_column_slice(2, 3, &w);
        let by_columns = FromSliceRule::shaped_from_column_slice_adjoint(&w[..], &2, &3, &y, &d);
        let by_vec = FromSliceRule::shaped_from_vec_adjoint(&w.to_vec(), &2, &3, &y, &d);
        for k in 0..6 {
            assert_close(by_rows[k], fd(&rows, k), "from_row_slice(r, c, w)");
            assert_close(by_columns[k], fd(&columns, k), "from_column_slice(r, c, w)");
            assert_close(by_vec[k], fd(&columns, k), "from_vec(r, c, v)");
        }

        let e = SVector::<f64, 6>::from_fn(|i, _| i as f64 * 0.5 - 1.0);
        let flat = |v: &[f64; 6]| SVector::<f64, 6>::from(*v).dot(&e);
        let g = FromArrayRule::array_adjoint(&w, &SVector::from(w), &e);
        let columns = [[w[0], w[1]], [w[2], w[3]]];
        let d2 = Matrix2::new(0.5, -2.0, 1.5, 3.0);
        let nested = |v: &[f64; 6]| Matrix2::from([[v[0], v[1]], [v[2], v[3]]]).dot(&d2);
        let g2 = FromArrayRule::array_adjoint(&columns, &Matrix2::from(columns), &d2);
        for (k, gk) in g.iter().enumerate() {
            assert_close(*gk, fd(&flat, k), "from([..])");
        }
        for k in 0..4 {
            assert_close(g2[k / 2][k % 2], fd(&nested, k), "from([[..]; C])");
        }
    }
}
