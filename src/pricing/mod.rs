//! The price catalog (built-in, genai-prices' data and configured, with dated versions, tiers
//! and batch prices),
//! model-name normalisation, the exact `Decimal` cost of a call, and why a call has none.

pub mod attributes;
mod catalog;
mod cost;
pub mod explain;
pub mod genai_prices;
mod normalise;
mod swap;
mod unpriced;

pub use attributes::decimal_to_f64;
pub use catalog::{
    AppliedPrice, BatchPrice, Catalog, CatalogError, EntryError, MatchKind, ModelMatch, PriceEntry,
    PriceTime, PriceVersion, Rates, Tier, TimeOfDay, BUILTIN_CATALOG,
};
pub use cost::{cost_of, CostBreakdown};
pub use normalise::{normalise, NormalisedModel};
pub use swap::{CatalogCell, CatalogChanges};
pub use unpriced::UnpricedReason;
