//! The price catalog (built-in and configured, with dated versions, tiers and multipliers),
//! model-name normalisation, and the exact `Decimal` cost of a call.

mod catalog;
mod cost;
pub mod explain;
mod normalise;

pub use catalog::{
    AppliedPrice, Catalog, MatchKind, ModelMatch, PriceEntry, PriceVersion, Rates, Tier,
    BUILTIN_CATALOG,
};
pub use cost::{cost_of, CostBreakdown};
pub use normalise::{normalise, NormalisedModel};
