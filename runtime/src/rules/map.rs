//! Rule for element-wise `m.map(|x| f(x))` on nalgebra matrices and vectors.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, Scalar};

use crate::Real;

/// `y = m.map(f)`: each element's adjoint is the scalar pullback of `f` at that element,
/// `pullback(x, y, dy) = f'(x) · dy`, which the macro generates from the closure body; it gets
/// the element's result `y` too, so that `f` need not be evaluated again.
pub trait MapRule<T> {
    type Tangent;
    fn map_adjoint<F: FnMut(T, T, T) -> T>(
        &self,
        y: &Self::Tangent,
        d: &Self::Tangent,
        pullback: F,
    ) -> Self::Tangent;
}

impl<T, R, C, S> MapRule<T> for Matrix<T, R, C, S>
where
    T: Real + Scalar,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Tangent = OMatrix<T, R, C>;
    #[inline]
    fn map_adjoint<F: FnMut(T, T, T) -> T>(
        &self,
        y: &OMatrix<T, R, C>,
        d: &OMatrix<T, R, C>,
        pullback: F,
    ) -> OMatrix<T, R, C> {
        self.zip_zip_map(y, d, pullback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_close, central_difference};
    use nalgebra::{DVector, Vector3};

    #[test]
    fn map_adjoint_applies_the_pullback_per_element() {
        let m = Vector3::new(0.3, -1.2, 2.0);
        let d = Vector3::new(1.0, 0.5, -2.0);
        let y = m.map(f64::tanh);
        let g = m.map_adjoint(&y, &d, |_, y: f64, dy| dy * (1.0 - y * y));
        for i in 0..3 {
            let fd = d[i] * central_difference(f64::tanh, m[i]);
            assert_close(g[i], fd, "map tanh");
        }
        let v = DVector::from_vec(vec![1.0f32, 2.0]);
        let ones = DVector::from_vec(vec![1.0, 1.0]);
        let g = v.map_adjoint(&v.map(|x| x * x), &ones, |x, _, dy| dy * 2.0 * x);
        assert_eq!(g, DVector::from_vec(vec![2.0, 4.0]));
    }
}
