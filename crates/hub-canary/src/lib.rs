//! Canary-gate judge (draft docs; completed below).

mod error;
mod gate;
pub mod kayenta;
pub mod math;
mod rng;
mod sequential;
mod series;

pub use error::{CanaryError, Result};
pub use gate::*;
pub use rng::Rng;
pub use sequential::*;
pub use series::*;
