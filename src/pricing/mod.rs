//! The price catalog (built-in and configured, with dated versions, tiers and multipliers),
//! model-name normalisation, the exact `Decimal` cost of a call, and why a call has none.

pub mod attributes;
mod catalog;
mod cost;
pub mod explain;
mod normalise;
mod unpriced;

pub use attributes::decimal_to_f64;
pub use catalog::{
    AppliedPrice, Catalog, CatalogError, EntryError, MatchKind, ModelMatch, PriceEntry,
    PriceVersion, Rates, Tier, BUILTIN_CATALOG,
};
pub use cost::{cost_of, CostBreakdown};
pub use normalise::{normalise, NormalisedModel};
pub use unpriced::UnpricedReason;
