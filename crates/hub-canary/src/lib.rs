//! Canary-gate judge (draft docs; completed below).

mod error;
pub mod eval;
mod gate;
pub mod kayenta;
pub mod math;
mod rng;
mod sequential;
mod series;
mod sim;

pub use error::{CanaryError, Result};
pub use gate::*;
pub use rng::Rng;
pub use sequential::*;
pub use series::*;
pub use sim::*;
