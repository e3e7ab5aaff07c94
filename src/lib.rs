pub use nabla_macros::*;
