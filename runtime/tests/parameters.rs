//! How each parameter type is walked: which blocks, of which type, in which order, and that
//! `Adam::step` accepts each type with its gradient type.

use nabla_runtime::parameters::{BlockVisitor, Parameters};
use nabla_runtime::Adam;
use nalgebra::{DMatrix, DVector, Matrix3, SMatrix, SVector, Vector2};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    F32,
    F64,
}

/// One walked block: its type, the parameters and the gradient, widened to `f64`.
type Block = (Ty, Vec<f64>, Vec<f64>);

/// Records every block, and writes into the parameters to prove the walk can mutate them.
#[derive(Default)]
struct Record {
    blocks: Vec<Block>,
    mismatches: usize,
}

impl BlockVisitor for Record {
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
        let widen = |s: &[f32]| s.iter().map(|&x| f64::from(x)).collect();
        self.blocks.push((Ty::F32, widen(params), widen(grads)));
        params.iter_mut().for_each(|p| *p += 100.0);
    }

    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
        self.blocks.push((Ty::F64, params.to_vec(), grads.to_vec()));
        params.iter_mut().for_each(|p| *p += 100.0);
    }

    fn shape_mismatch(&mut self, _: (usize, usize), _: (usize, usize)) {
        self.mismatches += 1;
    }
}

fn walk<P: Parameters + ?Sized>(params: &mut P, grads: &P::Gradient) -> Vec<Block> {
    let mut r = Record::default();
    params.visit_blocks(grads, &mut r);
    assert_eq!(r.mismatches, 0);
    r.blocks
}

fn block(ty: Ty, params: &[f64], grads: &[f64]) -> Block {
    (ty, params.to_vec(), grads.to_vec())
}

#[test]
fn scalars_are_one_element_blocks() {
    let mut x = 1.5f64;
    assert_eq!(walk(&mut x, &2.5), vec![block(Ty::F64, &[1.5], &[2.5])]);
    assert_eq!(x, 101.5);
    let mut y = 1.5f32;
    assert_eq!(walk(&mut y, &2.5), vec![block(Ty::F32, &[1.5], &[2.5])]);
    assert_eq!(y, 101.5);
}

#[test]
fn arrays_vecs_and_slices_are_one_block() {
    let mut a = [1.0f64, 2.0, 3.0];
    assert_eq!(
        walk(&mut a, &[4.0, 5.0, 6.0]),
        vec![block(Ty::F64, &[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0])]
    );
    assert_eq!(a, [101.0, 102.0, 103.0]);

    let mut v = vec![1.0f32, 2.0];
    assert_eq!(
        walk(&mut v, &vec![3.0, 4.0]),
        vec![block(Ty::F32, &[1.0, 2.0], &[3.0, 4.0])]
    );

    // A slice's gradient is a `Vec`, as a generated gradient of a `&[T]` parameter is.
    let mut storage = vec![1.0f64, 2.0, 3.0];
    let slice: &mut [f64] = &mut storage[1..];
    assert_eq!(
        walk(slice, &vec![5.0, 6.0]),
        vec![block(Ty::F64, &[2.0, 3.0], &[5.0, 6.0])]
    );
    assert_eq!(storage, vec![1.0, 102.0, 103.0]);

    let mut empty: [f32; 0] = [];
    assert_eq!(walk(&mut empty, &[]), vec![block(Ty::F32, &[], &[])]);
}

#[test]
fn matrices_are_one_column_major_block() {
    let mut m = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
    let g = SMatrix::<f64, 2, 3>::repeat(0.5);
    assert_eq!(
        walk(&mut m, &g),
        vec![block(Ty::F64, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], &[0.5; 6])]
    );
    assert_eq!(m[(0, 0)], 101.0);

    let mut d = DMatrix::<f32>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let gd = DMatrix::<f32>::zeros(2, 2);
    assert_eq!(
        walk(&mut d, &gd),
        vec![block(Ty::F32, &[1.0, 3.0, 2.0, 4.0], &[0.0; 4])]
    );

    let mut dv = DVector::<f64>::from_vec(vec![1.0, 2.0]);
    assert_eq!(walk(&mut dv, &DVector::from_vec(vec![3.0, 4.0])).len(), 1);
    let mut sv = SVector::<f32, 3>::new(1.0, 2.0, 3.0);
    assert_eq!(walk(&mut sv, &SVector::zeros()).len(), 1);
    let mut m3 = Matrix3::<f64>::identity();
    assert_eq!(walk(&mut m3, &Matrix3::zeros())[0].1.len(), 9);
}

/// A contiguous mutable view (whole columns of a matrix with static rows) is a block of the
/// parent matrix; its gradient is the owned matrix of the view's dimensions.
#[test]
fn contiguous_views_update_the_parent() {
    let mut m = SMatrix::<f64, 2, 3>::zeros();
    let mut view = m.fixed_columns_mut::<2>(1);
    let g = SMatrix::<f64, 2, 2>::repeat(1.0);
    assert_eq!(
        walk(&mut view, &g),
        vec![block(Ty::F64, &[0.0; 4], &[1.0; 4])]
    );
    assert_eq!(m.column(0).sum(), 0.0);
    assert_eq!(m.column(2).sum(), 200.0);
}

#[test]
fn tuples_walk_their_members_in_order() {
    let mut p = (
        1.0f64,
        [2.0f32, 3.0],
        vec![4.0f64],
        Vector2::new(5.0f32, 6.0),
        DMatrix::from_element(1, 1, 7.0f64),
        8.0f32,
        (9.0f64, 10.0f32),
        [11.0f64],
    );
    let g = (
        -1.0,
        [-2.0, -3.0],
        vec![-4.0],
        Vector2::new(-5.0, -6.0),
        DMatrix::from_element(1, 1, -7.0),
        -8.0,
        (-9.0, -10.0),
        [-11.0],
    );
    let blocks = walk(&mut p, &g);
    let tys: Vec<Ty> = blocks.iter().map(|b| b.0).collect();
    use Ty::{F32, F64};
    assert_eq!(tys, [F64, F32, F64, F32, F64, F32, F64, F32, F64]);
    let params: Vec<f64> = blocks.iter().flat_map(|b| b.1.clone()).collect();
    let grads: Vec<f64> = blocks.iter().flat_map(|b| b.2.clone()).collect();
    let expected: Vec<f64> = (1..=11).map(f64::from).collect();
    assert_eq!(params, expected);
    assert_eq!(grads, expected.iter().map(|x| -x).collect::<Vec<_>>());
}

/// Tuples may hold borrowed parameters; their gradients are the owned forms.
#[test]
fn tuples_of_mutable_references() {
    let mut w = vec![1.0f64, 2.0];
    let mut b = 3.0f32;
    let mut p = (&mut w[..], &mut b);
    let g: (Vec<f64>, f32) = (vec![0.1, 0.2], 0.3);
    assert_eq!(walk(&mut p, &g).len(), 2);
    assert_eq!(w, vec![101.0, 102.0]);
    assert_eq!(b, 103.0);
}

#[test]
fn matrix_shape_mismatch_is_reported() {
    let mut m = DMatrix::<f64>::zeros(2, 3);
    let mut r = Record::default();
    m.visit_blocks(&DMatrix::zeros(3, 2), &mut r);
    assert_eq!((r.blocks.len(), r.mismatches), (0, 1));
    assert_eq!(m, DMatrix::zeros(2, 3), "nothing visited, nothing changed");
}

/// A user model implements `Parameters` by walking its fields.
struct Dense {
    w: DMatrix<f32>,
    b: DVector<f32>,
    scale: f64,
}

impl Parameters for Dense {
    type Gradient = Dense;

    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &Dense, visitor: &mut V) {
        self.w.visit_blocks(&grads.w, visitor);
        self.b.visit_blocks(&grads.b, visitor);
        self.scale.visit_blocks(&grads.scale, visitor);
    }
}

#[test]
fn user_types_compose() {
    let mut model = Dense {
        w: DMatrix::from_element(2, 3, 1.0),
        b: DVector::from_element(2, 0.0),
        scale: 1.0,
    };
    let grads = Dense {
        w: DMatrix::from_element(2, 3, 0.5),
        b: DVector::from_element(2, -0.5),
        scale: 2.0,
    };
    let tys: Vec<Ty> = walk(&mut model, &grads).iter().map(|b| b.0).collect();
    assert_eq!(tys, [Ty::F32, Ty::F32, Ty::F64]);

    let mut model = Dense {
        w: DMatrix::from_element(2, 3, 1.0),
        b: DVector::from_element(2, 0.0),
        scale: 1.0,
    };
    let mut opt = Adam::new(0.1);
    opt.step(&mut model, &grads).unwrap();
    // The first Adam step moves every element with a nonzero gradient by lr against its sign.
    assert!((model.w[(1, 2)] - 0.9).abs() < 1e-6);
    assert!((model.b[0] - 0.1).abs() < 1e-6);
    assert!((model.scale - 0.9).abs() < 1e-9);
}

/// `opt.step(&mut params, &grads)` type-checks with the gradient type a generated `NAME_grad`
/// returns for each parameter type, and every element moves.
#[test]
fn step_accepts_every_parameter_type_with_its_gradient() {
    let opt = || Adam::new(0.1);

    let mut tuple = (SVector::<f64, 3>::zeros(), 0.0f64);
    let grads: (SVector<f64, 3>, f64) = (SVector::repeat(1.0), 1.0);
    opt().step(&mut tuple, &grads).unwrap();
    assert!(tuple.0.iter().all(|&x| x < 0.0) && tuple.1 < 0.0);

    let mut x = 0.0f64;
    opt().step(&mut x, &1.0).unwrap();
    assert!(x < 0.0);

    let mut v = vec![0.0f64; 3];
    opt().step(&mut v, &vec![1.0; 3]).unwrap();
    assert!(v.iter().all(|&x| x < 0.0));

    let mut a = [0.0f32; 4];
    opt().step(&mut a, &[1.0; 4]).unwrap();
    assert!(a.iter().all(|&x| x < 0.0));

    let mut m = DMatrix::<f64>::zeros(2, 3);
    opt()
        .step(&mut m, &DMatrix::from_element(2, 3, 1.0))
        .unwrap();
    assert!(m.iter().all(|&x| x < 0.0));

    // A slice, with the `Vec` gradient of a `&[f64]` parameter.
    let mut storage = vec![0.0f64; 3];
    let slice: &mut [f64] = &mut storage;
    opt().step(slice, &vec![1.0; 3]).unwrap();
    assert!(storage.iter().all(|&x| x < 0.0));

    let mut w = [0.0f64; 2];
    let mut b = 0.0f32;
    opt()
        .step(&mut (&mut w[..], &mut b), &(vec![1.0, 1.0], 1.0))
        .unwrap();
    assert!(w.iter().all(|&x| x < 0.0) && b < 0.0);
}
