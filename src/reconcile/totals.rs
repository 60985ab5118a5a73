//! What the gauges show of a comparison: each provider and model summed over the complete days,
//! bounded in how many models they name.

use super::Row;
use crate::telemetry::ModelTotals;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The most provider and model pairs the gauges carry; the rest of a provider's are summed
/// under the model `(other)` (the model names come from the providers' reports).
pub const MAX_MODEL_TOTALS: usize = 200;

/// Each provider and model over the complete days of `rows` (a partial day is left out: one
/// side of it is still growing). Costs are summed over the days both sides have one.
pub fn model_totals(rows: &[Row]) -> Vec<ModelTotals> {
    let mut totals: BTreeMap<(String, String), ModelTotals> = BTreeMap::new();
    for row in rows.iter().filter(|row| !row.partial) {
        add_row(&mut totals, &row.provider, &row.model, row);
    }
    if totals.len() <= MAX_MODEL_TOTALS {
        return totals.into_values().collect();
    }
    // Keep the models the providers bill most tokens for.
    let mut ranked: Vec<ModelTotals> = totals.into_values().collect();
    ranked.sort_by_key(|totals| std::cmp::Reverse(totals.provider_tokens));
    let rest = ranked.split_off(MAX_MODEL_TOTALS - 1);
    let mut kept: BTreeMap<(String, String), ModelTotals> = ranked
        .into_iter()
        .map(|totals| ((totals.provider.clone(), totals.model.clone()), totals))
        .collect();
    for other in rest {
        let entry = kept
            .entry((other.provider.clone(), "(other)".into()))
            .or_insert_with(|| empty_totals(&other.provider, "(other)"));
        merge_totals(entry, &other);
    }
    kept.into_values().collect()
}

fn empty_totals(provider: &str, model: &str) -> ModelTotals {
    ModelTotals {
        provider: provider.to_string(),
        model: model.to_string(),
        agent_tokens: 0,
        provider_tokens: 0,
        agent_cost: None,
        provider_cost: None,
    }
}

fn add_row(
    totals: &mut BTreeMap<(String, String), ModelTotals>,
    provider: &str,
    model: &str,
    row: &Row,
) {
    let entry = totals
        .entry((provider.to_string(), model.to_string()))
        .or_insert_with(|| empty_totals(provider, model));
    let costs = match (row.agent.cost, row.reported.cost) {
        (Some(mine), Some(theirs)) => Some((mine, theirs)),
        _ => None,
    };
    merge_totals(
        entry,
        &ModelTotals {
            provider: String::new(),
            model: String::new(),
            agent_tokens: row.agent.tokens(),
            provider_tokens: row.reported.tokens(),
            agent_cost: costs.map(|(mine, _)| mine),
            provider_cost: costs.map(|(_, theirs)| theirs),
        },
    );
}

fn merge_totals(into: &mut ModelTotals, from: &ModelTotals) {
    let add = |a: Option<Decimal>, b: Option<Decimal>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default().saturating_add(b.unwrap_or_default())),
    };
    into.agent_tokens = into.agent_tokens.saturating_add(from.agent_tokens);
    into.provider_tokens = into.provider_tokens.saturating_add(from.provider_tokens);
    into.agent_cost = add(into.agent_cost, from.agent_cost);
    into.provider_cost = add(into.provider_cost, from.provider_cost);
}
