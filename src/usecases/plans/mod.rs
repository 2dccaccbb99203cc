//! The plan catalog (configured or built in) and the provider's price for each plan.

mod catalog;
mod prices;

pub use catalog::*;
pub use prices::PriceBook;
