//! Optimizers: [`Adam`] (with AMSGrad and AdamW's decoupled weight decay) over anything that
//! implements [`Parameters`](crate::parameters::Parameters).

mod adam;
mod error;
mod kernel;

pub use adam::{Adam, Convention};
pub use error::OptimError;
