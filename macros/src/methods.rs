//! The float methods nabla differentiates, and the runtime rule that goes with each operand.
//!
//! This table is syntax only: a method name, how many arguments it takes, and the name of the
//! rule function in `nabla_runtime::rules::scalar` for each operand (receiver first). The
//! derivatives themselves live in the runtime.

use crate::ir::Decision;

/// Which values a one-operand rule reads besides the cotangent. The generated code keeps only
/// those for the reverse sweep (`exp_adjoint` needs the result, `sin_adjoint` the input). The
/// rule tests of every method, in straight-line code where both are at hand, pin this down: a
/// wrong entry passes the wrong value and fails them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Input,
    Output,
    Neither,
    /// Methods of several operands read all of them.
    All,
}

pub struct FloatMethod {
    pub name: &'static str,
    pub reads: Reads,
    /// One entry per operand, receiver first: the rule for that operand's adjoint, or `None` for
    /// an operand that never carries gradient (the integer exponent of `powi`).
    pub rules: &'static [Option<&'static str>],
}

macro_rules! float_methods {
    ($($name:ident: [$($rule:tt),*];)*) => {
        pub const FLOAT_METHODS: &[FloatMethod] = &[
            $(FloatMethod {
                name: stringify!($name),
                reads: reads(stringify!($name)),
                rules: &[$(float_methods!(@rule $rule)),*],
            },)*
        ];
    };
    (@rule _) => { None };
    (@rule $rule:ident) => { Some(stringify!($rule)) };
}

float_methods! {
    exp: [exp_adjoint];
    exp2: [exp2_adjoint];
    exp_m1: [exp_m1_adjoint];
    ln: [ln_adjoint];
    log: [log_adjoint_self, log_adjoint_other];
    log2: [log2_adjoint];
    log10: [log10_adjoint];
    ln_1p: [ln_1p_adjoint];
    sqrt: [sqrt_adjoint];
    cbrt: [cbrt_adjoint];
    powi: [powi_adjoint, _];
    powf: [powf_adjoint_self, powf_adjoint_other];
    sin: [sin_adjoint];
    cos: [cos_adjoint];
    tan: [tan_adjoint];
    asin: [asin_adjoint];
    acos: [acos_adjoint];
    atan: [atan_adjoint];
    atan2: [atan2_adjoint_self, atan2_adjoint_other];
    sinh: [sinh_adjoint];
    cosh: [cosh_adjoint];
    tanh: [tanh_adjoint];
    asinh: [asinh_adjoint];
    acosh: [acosh_adjoint];
    atanh: [atanh_adjoint];
    max: [max_adjoint_self, max_adjoint_other];
    min: [min_adjoint_self, min_adjoint_other];
    clamp: [clamp_adjoint_self, clamp_adjoint_lo, clamp_adjoint_hi];
    hypot: [hypot_adjoint_self, hypot_adjoint_other];
    recip: [recip_adjoint];
    mul_add: [mul_add_adjoint_self, mul_add_adjoint_a, mul_add_adjoint_b];
    to_degrees: [to_degrees_adjoint];
    to_radians: [to_radians_adjoint];
    fract: [fract_adjoint];
}

/// A method whose rule is chosen by type: it exists for scalars and matrices alike, or only for
/// nalgebra types. The rules are methods of the runtime trait `rules::<trait_name>`, called as
/// `Trait::rule(&receiver, &args.., &y, &d)`.
pub struct TraitMethod {
    pub name: &'static str,
    pub trait_name: &'static str,
    /// One entry per operand, receiver first, as in [`FloatMethod::rules`].
    pub rules: &'static [Option<&'static str>],
}

macro_rules! trait_methods {
    ($($name:ident => $trait:ident [$($rule:tt),*];)*) => {
        pub const TRAIT_METHODS: &[TraitMethod] = &[
            $(TraitMethod {
                name: stringify!($name),
                trait_name: stringify!($trait),
                rules: &[$(float_methods!(@rule $rule)),*],
            },)*
        ];
    };
}

// `abs` is here, not in `float_methods!`: it exists on floats and on matrices (element-wise).
// `max`/`min` without arguments are nalgebra's whole-matrix reductions; with one argument they
// stay the float methods above. The index of `column`/`row` never carries gradient.
trait_methods! {
    dot => DotRule [dot_adjoint_self, dot_adjoint_other];
    transpose => TransposeRule [transpose_adjoint];
    component_mul => ComponentMulRule [component_mul_adjoint_self, component_mul_adjoint_other];
    component_div => ComponentDivRule [component_div_adjoint_self, component_div_adjoint_other];
    sum => SumRule [sum_adjoint];
    norm => NormRule [norm_adjoint];
    norm_squared => NormSquaredRule [norm_squared_adjoint];
    normalize => NormalizeRule [normalize_adjoint];
    trace => TraceRule [trace_adjoint];
    max => MaxRule [max_adjoint];
    min => MinRule [min_adjoint];
    abs => AbsRule [abs_adjoint];
    column => ColumnRule [column_adjoint, _];
    row => RowRule [row_adjoint, _];
    // Read-only views: their start and size never carry gradient.
    rows => ViewRule [rows_adjoint, _, _];
    columns => ViewRule [columns_adjoint, _, _];
    fixed_rows => ViewRule [fixed_rows_adjoint, _];
    fixed_columns => ViewRule [fixed_columns_adjoint, _];
    view => ViewRule [view_adjoint, _, _];
    fixed_view => ViewRule [fixed_view_adjoint, _, _];
    cross => CrossRule [cross_adjoint_self, cross_adjoint_other];
    kronecker => KroneckerRule [kronecker_adjoint_self, kronecker_adjoint_other];
    lp_norm => LpNormRule [lp_norm_adjoint, _];
    amax => AmaxRule [amax_adjoint];
    amin => AminRule [amin_adjoint];
    // nalgebra's whole-matrix product; `xs.iter().product()` is a reduction (`lower/reduce.rs`).
    product => ProductRule [product_adjoint];
    symmetric_eigenvalues => SymmetricEigenvaluesRule [symmetric_eigenvalues_adjoint];
    add_scalar => AddScalarRule [add_scalar_adjoint_self, add_scalar_adjoint_scalar];
    mean => MeanRule [mean_adjoint];
    // `DVector::from_column_slice(w)` and its kin, lowered with `w` as the receiver.
    from_column_slice => FromSliceRule [from_column_slice_adjoint];
    from_row_slice => FromSliceRule [from_row_slice_adjoint];
    from_vec => FromSliceRule [from_vec_adjoint];
    // `DMatrix::from_row_slice(r, c, w)` and its kin: the slice is the receiver, the shape the
    // arguments (written first; see `SHAPED_SLICE_CONSTRUCTORS`).
    from_column_slice => FromSliceRule [shaped_from_column_slice_adjoint, _, _];
    from_row_slice => FromSliceRule [shaped_from_row_slice_adjoint, _, _];
    from_vec => FromSliceRule [shaped_from_vec_adjoint, _, _];
    // `SVector::from([a, b, c])`, `SMatrix::from([[..]; C])`.
    from => FromArrayRule [array_adjoint];
    determinant => DeterminantRule [determinant_adjoint];
    // The linear-algebra chains (`a.lu().solve(&b).unwrap()`, ..), lowered to one function each
    // of the runtime's `linalg` module (see `lower/linalg.rs`).
    solve_by_lu => SolveRule [solve_adjoint_self, solve_adjoint_other];
    solve_by_qr => SolveRule [solve_adjoint_self, solve_adjoint_other];
    solve_by_cholesky => CholeskySolveRule [cholesky_solve_adjoint_self, cholesky_solve_adjoint_other];
    inverse_by_lu => InverseRule [inverse_adjoint];
    ln_determinant_by_cholesky => LnDeterminantRule [ln_determinant_adjoint];
    cholesky_l => CholeskyLRule [cholesky_l_adjoint];
    // A Cholesky factor bound to a name, and its uses (`chol.solve(..)`, `chol.ln_determinant()`).
    cholesky_factor => CholeskyFactorRule [cholesky_factor_adjoint];
    factor_solve => FactorSolveRule [factor_solve_adjoint_self, factor_solve_adjoint_other];
    factor_ln_determinant => FactorLnDeterminantRule [factor_ln_determinant_adjoint];
    factor_l => FactorLRule [factor_l_adjoint];
}

/// Rules that read only the result and its cotangent, called as `Trait::rule(&y, &d)`: the
/// reverse sweep then keeps nothing of the operands for them.
pub const RESULT_ONLY_RULES: &[&str] = &["cholesky_factor_adjoint"];

/// nalgebra constructors from one slice or `Vec` (see `FromSliceRule` in the runtime), with or
/// without the shape before it (`DMatrix::from_row_slice(r, c, w)`), and from an array.
pub const SLICE_CONSTRUCTORS: &[&str] = &["from_column_slice", "from_row_slice", "from_vec"];

/// Whether a nalgebra constructor `name` with `shape_args` arguments before its slice takes the
/// shape first: the forward sweep writes it `Owner::name(shape.., slice)`.
pub fn takes_shape_first(name: &str, shape_args: usize) -> bool {
    shape_args == 2 && SLICE_CONSTRUCTORS.contains(&name)
}

/// nalgebra constructors that spread one element: `from_element(n, b)`, `repeat(b)`; the
/// element is their last argument.
pub const ELEMENT_CONSTRUCTORS: &[&str] = &["from_element", "repeat"];

/// nalgebra constructors that take dimensions only.
pub const SHAPE_CONSTRUCTORS: &[&str] = &["zeros", "identity"];

/// Looks up a method whose rule is chosen by type.
pub fn trait_method(name: &str, args: usize) -> Option<usize> {
    TRAIT_METHODS
        .iter()
        .position(|m| m.name == name && m.rules.len() == args + 1)
}

/// See [`Reads`].
const fn reads(name: &str) -> Reads {
    match name.as_bytes() {
        b"exp" | b"exp2" | b"exp_m1" | b"sqrt" | b"cbrt" | b"tan" | b"tanh" | b"recip" => {
            Reads::Output
        }
        b"to_degrees" | b"to_radians" | b"fract" => Reads::Neither,
        b"ln" | b"log2" | b"log10" | b"ln_1p" | b"sin" | b"cos" | b"asin" | b"acos" | b"atan"
        | b"sinh" | b"cosh" | b"asinh" | b"acosh" | b"atanh" => Reads::Input,
        _ => Reads::All,
    }
}

/// Methods whose derivative is zero almost everywhere, undefined, or not known to nabla: on a
/// value that carries gradient they would silently stop it. The checks allow the orderings where
/// a comparison is (in conditions), the rounding methods where they only gate a value that
/// carries gradient, and reject the others (see `check/`).
pub const ROUNDING_METHODS: &[&str] = &[
    "round",
    "round_ties_even",
    "floor",
    "ceil",
    "trunc",
    "signum",
    "to_bits",
    "copysign",
    "rem_euclid",
    "div_euclid",
    "to_int_unchecked",
];

/// Step methods that compare: allowed where comparisons are (conditions).
pub const ORDERING_METHODS: &[&str] = &[
    "total_cmp",
    "partial_cmp",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
];

/// Step methods whose result may scale or select a value that carries gradient (`x.signum() * x`,
/// `x.floor() * x`): the gradient then flows through the other value, piece by piece.
pub const GATING_STEP_METHODS: &[&str] = &[
    "signum",
    "round",
    "round_ties_even",
    "floor",
    "ceil",
    "trunc",
];

/// Whether a method is a step function of its receiver (see [`ROUNDING_METHODS`]).
pub fn is_step(name: &str) -> bool {
    ROUNDING_METHODS.contains(&name) || ORDERING_METHODS.contains(&name)
}

/// Methods that return their receiver's value unchanged.
pub const IDENTITY_METHODS: &[&str] = &["clone", "to_owned", "into_owned", "clone_owned", "to_vec"];

/// Questions about shape: fine on anything, carry no gradient.
pub const SHAPE_QUERIES: &[&str] = &["len", "is_empty", "nrows", "ncols", "shape", "capacity"];

/// Tests of a value: a bool, a step value where the value carries gradient.
pub const VALUE_TESTS: &[&str] = &[
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_positive",
    "is_sign_negative",
    "is_normal",
    "is_subnormal",
    "classify",
];

/// Positions (`argmax`, `imax`, ..): indices for selecting (`v[i]`), step values where they are
/// turned into a number.
pub const POSITION_METHODS: &[&str] = &[
    "argmax",
    "argmin",
    "imax",
    "imin",
    "iamax",
    "iamin",
    "icamax",
    "iamax_full",
    "icamax_full",
    "position",
    "rposition",
];

/// Tests of elements by a closure (`w.iter().any(|&v| v > t)`): a bool or a position, which
/// decides and carries no gradient; kept as written with the closure, a step value where it is
/// turned into a number. The second entry says which it gives.
pub const CLOSURE_TESTS: &[(&str, Decision)] = &[
    ("any", Decision::Test),
    ("all", Decision::Test),
    ("position", Decision::Position),
    ("rposition", Decision::Position),
];

/// What a method of [`CLOSURE_TESTS`] gives, `None` for any other.
pub fn closure_test(name: &str) -> Option<Decision> {
    CLOSURE_TESTS
        .iter()
        .find(|(test, _)| *test == name)
        .map(|&(_, decision)| decision)
}

/// Methods that only make an iterator or a view of their receiver's elements, in the same
/// values (`w.iter().copied()`). Where one feeds a method nabla has no rule for, the error
/// names that method, where the derivative is lost, not the adaptor before it.
pub const ELEMENT_ADAPTORS: &[&str] = &[
    "iter",
    "into_iter",
    "copied",
    "cloned",
    "rev",
    "skip",
    "take",
    "step_by",
    "enumerate",
    "zip",
    "chain",
    "peekable",
    "by_ref",
    "fuse",
    "as_slice",
    "windows",
    "chunks",
];

/// The methods of the rule table that give a view borrowing their receiver (`a.column(1)`), not
/// a matrix of their own: the reverse sweep takes such a view again where it reads it, rather
/// than holding the forward sweep's borrow across later writes to the receiver. A loop over one
/// (`m.column(0).iter()`) iterates the container it shows.
pub const BORROWING_VIEWS: &[&str] = &[
    "column",
    "row",
    "rows",
    "columns",
    "fixed_rows",
    "fixed_columns",
    "view",
    "fixed_view",
];

/// Positions returned together with the value: `(index, value)`.
pub const POSITION_VALUE_METHODS: &[&str] = &["argmax", "argmin"];

/// Whether a method's result carries no gradient and is fine on anything: a question about
/// shape, a test of a value, or a position. The checks reject a test or a position of a value
/// that carries gradient where it is turned into a number (see `check/`).
pub fn is_query(name: &str) -> bool {
    SHAPE_QUERIES.contains(&name) || VALUE_TESTS.contains(&name) || POSITION_METHODS.contains(&name)
}

/// Looks up a float method taking `args` arguments besides the receiver.
pub fn float_method(name: &str, args: usize) -> Option<usize> {
    FLOAT_METHODS
        .iter()
        .position(|m| m.name == name && m.rules.len() == args + 1)
}

/// The float methods in `f64::NAME(x, ..)` form, for error messages.
pub fn is_float_method_name(name: &str) -> bool {
    let constructor = name == "from" || SLICE_CONSTRUCTORS.contains(&name);
    FLOAT_METHODS.iter().any(|m| m.name == name)
        || (TRAIT_METHODS.iter().any(|m| m.name == name) && !constructor)
        || is_step(name)
}

/// Methods of the standard collections that change their receiver. On data (`idx.sort()`) they
/// are kept as written, so the buffer is a location: declared `mut`, and never taken for the
/// value it had before the call.
pub const MUTATING_METHODS: &[&str] = &[
    "sort",
    "sort_by",
    "sort_by_key",
    "sort_unstable",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "dedup",
    "dedup_by",
    "dedup_by_key",
    "retain",
    "retain_mut",
    "remove",
    "swap_remove",
    "drain",
    "append",
    "split_off",
    "fill_with",
    "extend",
    "push_str",
    "sort_by_cached_key",
    "select_nth_unstable",
    "select_nth_unstable_by",
    "select_nth_unstable_by_key",
    "swap_with_slice",
    "clone_from_slice",
    "shuffle",
    "apply",
];

/// Iterator adaptors that take a closure and give an iterator, which the rest of a chain reads
/// lazily: kept as written, they would hand a later `map` or sum an iterator nabla cannot
/// differentiate through, so they stay refused as closures are.
pub const LAZY_CLOSURE_ADAPTORS: &[&str] = &[
    "skip_while",
    "take_while",
    "map_while",
    "filter_map",
    "flat_map",
    "scan",
    "inspect",
    "filter",
    "chunk_by",
];

/// Whether a method only reads its receiver: a float method or rule of nabla's tables, a test,
/// a shape query, a copy, a view, or an iterator over it. Any other may change it in place.
pub fn reads_only(name: &str) -> bool {
    const READING: &[&str] = &[
        "sin_cos",
        "magnitude",
        "magnitude_squared",
        "scale",
        "unscale",
        "row_sum",
        "column_sum",
        "row_mean",
        "column_mean",
        "row_variance",
        "column_variance",
        "row_product",
        "column_product",
        "tr_mul",
        "tr_dot",
        "ad_mul",
        "metric_distance",
        "is_square",
        "is_invertible",
        "is_identity",
        "is_orthogonal",
        "singular_values",
        "rank",
        "select_rows",
        "select_columns",
        "angle",
        "xy",
        "xyz",
        "xyzw",
        "inf",
        "sup",
        "inf_sup",
        "as_vec",
        "rchunks",
        "is_sorted_by",
        "is_sorted_by_key",
        "partition_point",
        "each_ref",
        "full_piv_lu",
        "eigenvalues",
        "try_normalize",
        "camax",
        "camin",
        "icamax",
        "map",
        "zip_map",
        "fold",
        "chunks_exact",
        "split",
        "concat",
        "join",
        "is_sorted",
        "binary_search_by",
        "binary_search_by_key",
        "repeat",
        "diagonal",
        "upper_triangle",
        "lower_triangle",
        "rows_range",
        "columns_range",
        "view_range",
        "cast",
        "adjoint",
        "lu",
        "qr",
        "cholesky",
        "svd",
        "symmetric_eigen",
        "symmetric_eigenvalues",
        "try_inverse",
        "determinant",
        "solve",
        "pseudo_inverse",
        "iamax",
        "iamin",
        "imax",
        "imin",
        "argmax",
        "argmin",
        "variance",
        "into_owned",
        "iter",
        "into_iter",
        "as_slice",
        "get",
        "first",
        "last",
        "contains",
        "windows",
        "chunks",
        "rows",
        "columns",
        "row",
        "column",
        "view",
        "fixed_view",
        "fixed_rows",
        "fixed_columns",
        "row_iter",
        "column_iter",
        "transpose",
        "to_string",
        "partial_cmp",
        "total_cmp",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "starts_with",
        "ends_with",
        "binary_search",
        "split_at",
        "split_first",
        "split_last",
        "as_ref",
        "borrow",
        "sum",
        "product",
        "mean",
        "max",
        "min",
        "copied",
        "cloned",
        "enumerate",
        "zip",
        "rev",
        "skip",
        "step_by",
        "chain",
    ];
    READING.contains(&name)
        || FLOAT_METHODS.iter().any(|m| m.name == name)
        || TRAIT_METHODS.iter().any(|m| m.name == name)
        || is_step(name)
        || IDENTITY_METHODS.contains(&name)
        || is_query(name)
        || POSITION_VALUE_METHODS.contains(&name)
        || closure_test(name).is_some()
}
