//! The cotangent a caller hands to `NAME_vjp`, checked against the result it stands for.
//!
//! A vector-Jacobian product is `<cotangent, f(..)>` differentiated: the cotangent must have the
//! result's shape. One of another length would be read as far as it goes (a shorter `Vec` as
//! zeros past its end, a shorter `DVector` as a gradient of the wrong length), a wrong answer
//! with no sign of it. So `NAME_vjp` takes the cotangent's shape before the sweeps and compares
//! it with the result's after, and panics on a mismatch, as nalgebra does for matrices of
//! mismatched shapes.

use crate::tangent::TangentValue;

/// The shape of a cotangent: its buffers' lengths and its matrices' dimensions.
#[inline]
pub fn cotangent_shape<R: TangentValue>(cotangent: &R) -> Vec<usize> {
    let mut dims = Vec::new();
    cotangent.push_shape(&mut dims);
    dims
}

/// Panics unless the result has the shape the cotangent had (see the module docs).
#[inline]
#[track_caller]
pub fn check_cotangent_shape<R: TangentValue>(result: &R, cotangent: &[usize], function: &str) {
    let result = cotangent_shape(result);
    if result != cotangent {
        mismatch(function, &result, cotangent);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn mismatch(function: &str, result: &[usize], cotangent: &[usize]) -> ! {
    panic!(
        "`{function}_vjp`: the cotangent has the shape {cotangent:?} (buffer lengths, matrix dimensions), but the result of `{function}` has the shape {result:?}; pass a cotangent of the result's shape"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn equal_shapes_pass() {
        let shape = cotangent_shape(&vec![1.0, 2.0, 3.0]);
        check_cotangent_shape(&vec![0.0, 0.0, 0.0], &shape, "f");
        let shape = cotangent_shape(&(2.0, DMatrix::<f64>::zeros(2, 3)));
        check_cotangent_shape(&(1.0, DMatrix::<f64>::zeros(2, 3)), &shape, "f");
        check_cotangent_shape(&5.0f32, &cotangent_shape(&1.0f32), "f");
    }

    #[test]
    #[should_panic(expected = "`f_vjp`: the cotangent has the shape [1]")]
    fn a_shorter_vec_panics() {
        let shape = cotangent_shape(&vec![1.0]);
        check_cotangent_shape(&vec![0.0, 0.0, 0.0], &shape, "f");
    }

    #[test]
    #[should_panic(expected = "the result of `f` has the shape [3, 1]")]
    fn a_vector_of_another_length_panics() {
        let shape = cotangent_shape(&DVector::<f64>::zeros(2));
        check_cotangent_shape(&DVector::<f64>::zeros(3), &shape, "f");
    }

    #[test]
    #[should_panic(expected = "the cotangent has the shape [2, 1]")]
    fn the_parts_of_a_tuple_are_compared_one_by_one() {
        let shape = cotangent_shape(&(vec![1.0, 2.0], vec![3.0]));
        check_cotangent_shape(&(vec![1.0], vec![2.0, 3.0]), &shape, "f");
    }
}
