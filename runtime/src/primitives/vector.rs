//! The vector shapes the vector primitives accept.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage};

use crate::Real;

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for [T] {}
    impl<T> Sealed for Vec<T> {}
    impl<T, const N: usize> Sealed for [T; N] {}
    impl<T, R, C, S> Sealed for nalgebra::Matrix<T, R, C, S> {}
    impl<X: Sealed + ?Sized> Sealed for &X {}
}

/// A vector of reals that [`log_sum_exp`](fn@crate::log_sum_exp),
/// [`softmax`](fn@crate::softmax), [`softmax_cross_entropy`](fn@crate::softmax_cross_entropy) and
/// [`mse`](fn@crate::mse) accept.
///
/// Implemented for `[T]`, `Vec<T>`, `[T; N]`, every nalgebra `Matrix<T, R, C, S>` (owned, views,
/// static and dynamic; all entries in column-major order) and references to these, with
/// `T` = `f32` or `f64`. The trait is sealed: use it as a bound, not for your own types.
///
/// `Owned` is the owned container of the same shape: it is what [`softmax`](fn@crate::softmax)
/// returns and the type of the gradients, matching [`Tangent`](crate::tangent::Tangent):
///
/// | `Self`                        | `Owned`            |
/// |-------------------------------|--------------------|
/// | `[T]`, `Vec<T>`               | `Vec<T>`           |
/// | `[T; N]`                      | `[T; N]`           |
/// | nalgebra `Matrix<T, R, C, S>` | `OMatrix<T, R, C>` |
///
/// ```
/// use nabla_runtime::RealVector;
///
/// fn mean<X: RealVector + ?Sized>(xs: &X) -> f64 {
///     let n = xs.element_count() as f64;
///     xs.elements().map(|x| x.to_f64()).sum::<f64>() / n
/// }
/// # use nabla_runtime::Real;
/// assert_eq!(mean(&[1.0f32, 2.0, 6.0][..]), 3.0);
/// assert_eq!(mean(&nalgebra::Vector2::new(1.0, 2.0)), 1.5);
/// ```
pub trait RealVector: sealed::Sealed {
    /// The element type, `f32` or `f64`.
    type Elem: Real;
    /// The owned container of the same shape, also the gradient type.
    type Owned;

    /// The number of entries.
    ///
    /// ```
    /// use nabla_runtime::RealVector;
    /// assert_eq!(nalgebra::Matrix2x3::<f64>::zeros().element_count(), 6);
    /// ```
    fn element_count(&self) -> usize;

    /// The entries, in storage order (column-major for nalgebra).
    ///
    /// ```
    /// use nabla_runtime::RealVector;
    /// let v = vec![1.0, 2.0];
    /// assert_eq!(v.elements().collect::<Vec<f64>>(), [1.0, 2.0]);
    /// ```
    fn elements(&self) -> impl Iterator<Item = Self::Elem> + '_;

    /// A new owned container of the same shape holding `f` of every entry.
    ///
    /// ```
    /// use nabla_runtime::RealVector;
    /// let doubled = [1.0, 2.0][..].map_owned(|x| 2.0 * x);
    /// assert_eq!(doubled, vec![2.0, 4.0]);
    /// ```
    fn map_owned(&self, f: impl FnMut(Self::Elem) -> Self::Elem) -> Self::Owned;

    /// The entries of an owned container, in the order of [`elements`](Self::elements).
    ///
    /// ```
    /// use nabla_runtime::RealVector;
    /// let m = nalgebra::Matrix2::new(1.0, 2.0, 3.0, 4.0);
    /// assert_eq!(<nalgebra::Matrix2<f64>>::owned_slice(&m), [1.0, 3.0, 2.0, 4.0]);
    /// ```
    fn owned_slice(owned: &Self::Owned) -> &[Self::Elem];

    /// The entries of an owned container, mutably.
    ///
    /// ```
    /// use nabla_runtime::RealVector;
    /// let mut v = vec![1.0, 2.0];
    /// <[f64]>::owned_slice_mut(&mut v)[0] = 5.0;
    /// assert_eq!(v, [5.0, 2.0]);
    /// ```
    fn owned_slice_mut(owned: &mut Self::Owned) -> &mut [Self::Elem];
}

impl<T: Real> RealVector for [T] {
    type Elem = T;
    type Owned = Vec<T>;
    #[inline]
    fn element_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn elements(&self) -> impl Iterator<Item = T> + '_ {
        self.iter().copied()
    }
    #[inline]
    fn map_owned(&self, f: impl FnMut(T) -> T) -> Vec<T> {
        self.iter().copied().map(f).collect()
    }
    #[inline]
    fn owned_slice(owned: &Vec<T>) -> &[T] {
        owned
    }
    #[inline]
    fn owned_slice_mut(owned: &mut Vec<T>) -> &mut [T] {
        owned
    }
}

impl<T: Real> RealVector for Vec<T> {
    type Elem = T;
    type Owned = Vec<T>;
    #[inline]
    fn element_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn elements(&self) -> impl Iterator<Item = T> + '_ {
        self.iter().copied()
    }
    #[inline]
    fn map_owned(&self, f: impl FnMut(T) -> T) -> Vec<T> {
        self.iter().copied().map(f).collect()
    }
    #[inline]
    fn owned_slice(owned: &Vec<T>) -> &[T] {
        owned
    }
    #[inline]
    fn owned_slice_mut(owned: &mut Vec<T>) -> &mut [T] {
        owned
    }
}

impl<T: Real, const N: usize> RealVector for [T; N] {
    type Elem = T;
    type Owned = [T; N];
    #[inline]
    fn element_count(&self) -> usize {
        N
    }
    #[inline]
    fn elements(&self) -> impl Iterator<Item = T> + '_ {
        self.iter().copied()
    }
    #[inline]
    fn map_owned(&self, f: impl FnMut(T) -> T) -> [T; N] {
        self.map(f)
    }
    #[inline]
    fn owned_slice(owned: &[T; N]) -> &[T] {
        owned
    }
    #[inline]
    fn owned_slice_mut(owned: &mut [T; N]) -> &mut [T] {
        owned
    }
}

impl<T, R, C, S> RealVector for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    type Owned = OMatrix<T, R, C>;
    #[inline]
    fn element_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn elements(&self) -> impl Iterator<Item = T> + '_ {
        self.iter().copied()
    }
    #[inline]
    fn map_owned(&self, f: impl FnMut(T) -> T) -> OMatrix<T, R, C> {
        self.map(f)
    }
    #[inline]
    fn owned_slice(owned: &OMatrix<T, R, C>) -> &[T] {
        // Owned nalgebra buffers are contiguous (`Allocator::Buffer: IsContiguous`).
        owned.as_slice()
    }
    #[inline]
    fn owned_slice_mut(owned: &mut OMatrix<T, R, C>) -> &mut [T] {
        owned.as_mut_slice()
    }
}

impl<X: RealVector + ?Sized> RealVector for &X {
    type Elem = X::Elem;
    type Owned = X::Owned;
    #[inline]
    fn element_count(&self) -> usize {
        (**self).element_count()
    }
    #[inline]
    fn elements(&self) -> impl Iterator<Item = X::Elem> + '_ {
        (**self).elements()
    }
    #[inline]
    fn map_owned(&self, f: impl FnMut(X::Elem) -> X::Elem) -> X::Owned {
        (**self).map_owned(f)
    }
    #[inline]
    fn owned_slice(owned: &X::Owned) -> &[X::Elem] {
        X::owned_slice(owned)
    }
    #[inline]
    fn owned_slice_mut(owned: &mut X::Owned) -> &mut [X::Elem] {
        X::owned_slice_mut(owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DVector, Matrix2x3, SVector};

    #[test]
    fn every_shape_iterates_and_maps() {
        let s: &[f64] = &[1.0, 2.0, 3.0];
        assert_eq!(s.element_count(), 3);
        assert_eq!(s.map_owned(|x| x + 1.0), vec![2.0, 3.0, 4.0]);
        let v = vec![1.0f32, -1.0];
        assert_eq!(v.elements().sum::<f32>(), 0.0);
        let a = [1.0, 2.0];
        assert_eq!(a.map_owned(|x| x * x), [1.0, 4.0]);
        let d = DVector::from_vec(vec![1.0, 2.0]);
        assert_eq!(d.map_owned(|x| -x), DVector::from_vec(vec![-1.0, -2.0]));
        let sv = SVector::<f64, 3>::new(1.0, 2.0, 3.0);
        assert_eq!(<SVector<f64, 3>>::owned_slice(&sv), [1.0, 2.0, 3.0]);
        let m = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        let view = m.columns(1, 2);
        assert_eq!(view.elements().collect::<Vec<_>>(), [2.0, 5.0, 3.0, 6.0]);
        assert_eq!((&&s).element_count(), 3);
    }
}
