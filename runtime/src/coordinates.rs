//! A nalgebra vector's coordinates read as fields: `p.x`, `p.y`, .. `p.b`.
//!
//! nalgebra gives vectors of up to six elements the fields `x y z w a b` through `Deref`.
//! Differentiable code adds a field read's cotangent into the gradient value through methods
//! named after the field (`d_p.__nabla_slot_x()`, see the tuples' `TupleField0`); for a vector
//! these are the element at the coordinate's position. A vector without that coordinate has no
//! such field, which rustc reports at the user's `p.z`, so the methods never run there.

use nalgebra::{Dim, Matrix, RawStorageMut};

use crate::tangent::{Accumulate, TrainedCall};
use crate::Real;

macro_rules! coordinate {
    ($trait:ident $add:ident $slot:ident $call:ident $index:literal) => {
        #[doc(hidden)]
        pub trait $trait {
            type Field;
            fn $add(&mut self, contribution: Self::Field);
            fn $slot(&mut self) -> Option<&mut Self::Field>;
            /// Where a call's gradient for this coordinate, passed as an argument, goes.
            fn $call(&mut self) -> TrainedCall<'_, Self::Field>;
        }

        impl<T, R, C, S> $trait for Matrix<T, R, C, S>
        where
            T: Real + Accumulate,
            R: Dim,
            C: Dim,
            S: RawStorageMut<T, R, C>,
        {
            type Field = T;
            #[inline(always)]
            fn $add(&mut self, contribution: T) {
                self[$index].accumulate(contribution);
            }
            #[inline(always)]
            fn $slot(&mut self) -> Option<&mut T> {
                Some(&mut self[$index])
            }
            #[inline(always)]
            fn $call(&mut self) -> TrainedCall<'_, T> {
                TrainedCall(&mut self[$index])
            }
        }
    };
}

coordinate!(CoordinateX __nabla_add_x __nabla_slot_x __nabla_call_x 0);
coordinate!(CoordinateY __nabla_add_y __nabla_slot_y __nabla_call_y 1);
coordinate!(CoordinateZ __nabla_add_z __nabla_slot_z __nabla_call_z 2);
coordinate!(CoordinateW __nabla_add_w __nabla_slot_w __nabla_call_w 3);
coordinate!(CoordinateA __nabla_add_a __nabla_slot_a __nabla_call_a 4);
coordinate!(CoordinateB __nabla_add_b __nabla_slot_b __nabla_call_b 5);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{RowVector2, Vector3, Vector6};

    #[test]
    fn coordinates_are_the_elements_at_their_positions() {
        let mut d = Vector3::new(1.0, 2.0, 3.0);
        d.__nabla_add_x(0.5);
        *d.__nabla_slot_z().unwrap() += 1.0;
        *d.__nabla_call_y().0 -= 2.0;
        assert_eq!(d, Vector3::new(1.5, 0.0, 4.0));
        let mut d = Vector6::<f32>::zeros();
        d.__nabla_add_w(1.0);
        d.__nabla_add_a(2.0);
        d.__nabla_add_b(3.0);
        assert_eq!(d.as_slice(), [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
        let mut d = RowVector2::new(0.0, 0.0);
        d.__nabla_add_y(1.0);
        assert_eq!(d, RowVector2::new(0.0, 1.0));
    }
}
