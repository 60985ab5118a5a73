//! The price catalog: entries from the configuration, model-name matching, and the cost of a
//! call computed exactly with `Decimal`.

mod catalog;
mod cost;

pub use catalog::{Catalog, PriceEntry};
pub use cost::{cost_of, CostBreakdown};
