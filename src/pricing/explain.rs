//! `genai-cost-agent price`: the cost of one call as a person checking a bill wants to see it —
//! the breakdown, the entry that matched, how, and which version, tier and multipliers applied.

use super::genai_prices::{ProviderFoundBy, SharedMatch, SharedPrices, SNAPSHOT_VERSION};
use super::{cost_of, Catalog, MatchKind, PriceTime};
use crate::usage::TokenUsage;
use rust_decimal::Decimal;
use std::fmt::Write;

/// One call as given on the command line. `uncached_input` excludes cache reads and writes, as
/// provider invoices list them.
#[derive(Debug, Clone, Default)]
pub struct PriceQuestion {
    pub model: String,
    /// The provider as a span names it (`gen_ai.provider.name`), if any.
    pub provider: Option<String>,
    pub uncached_input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    pub web_searches: u64,
    pub batch: bool,
    pub at: PriceTime,
}

/// Why a call has no price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no price entry matches `{model}` (canonical name `{canonical}`); configure one or a fallback"
)]
pub struct NoPriceEntry {
    pub model: String,
    pub canonical: String,
}

/// The answer as text, or why the model has no price.
pub fn explain(catalog: &Catalog, question: &PriceQuestion) -> Result<String, NoPriceEntry> {
    let found = catalog
        .lookup(&question.model, question.provider.as_deref(), None)
        .ok_or_else(|| NoPriceEntry {
            model: question.model.clone(),
            canonical: super::normalise(&question.model).canonical,
        })?;
    let usage = TokenUsage {
        input: question.uncached_input
            + question.cache_read
            + question.cache_write_5m
            + question.cache_write_1h,
        output: question.output,
        cache_read: question.cache_read,
        cache_write_5m: question.cache_write_5m,
        cache_write_1h: question.cache_write_1h,
        reasoning: 0,
        web_searches: question.web_searches,
    };
    let applied = catalog.apply(&found, question.at, usage.input, question.batch);
    let cost = cost_of(&usage, &applied);
    let entry = found.entry;
    let currency = catalog.currency();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model          {} (canonical name {})",
        question.model, found.model.canonical
    );
    let _ = writeln!(
        out,
        "entry          {} ({}{}{})",
        entry.id,
        match (&found.kind, entry.builtin) {
            (MatchKind::Shared(_), _) if entry.source.as_deref() == Some(SNAPSHOT_VERSION) => {
                "genai-prices data, embedded snapshot"
            }
            (MatchKind::Shared(_), _) => "genai-prices data, pricing.catalog_files",
            (_, true) => "built-in",
            (_, false) => "configured",
        },
        entry
            .provider
            .as_deref()
            .map(|provider| format!(", provider {provider}"))
            .unwrap_or_default(),
        entry
            .source
            .as_deref()
            .map(|source| format!(", source {source}"))
            .unwrap_or_default(),
    );
    let how = match &found.kind {
        MatchKind::Exact(name) => format!("exact name `{name}`"),
        MatchKind::Prefix(pattern) => format!("prefix `{pattern}`"),
        MatchKind::Shared(shared) => catalog
            .shared_prices()
            .map(|prices| describe_shared(prices, shared))
            .unwrap_or_default(),
        MatchKind::Fallback => "no entry matched; the configured fallback".to_string(),
    };
    let _ = writeln!(out, "matched by     {how}");
    if let (MatchKind::Shared(shared), Some(prices)) = (&found.kind, catalog.shared_prices()) {
        let unsupported = &prices.unsupported[shared.entry];
        if !unsupported.is_empty() {
            let _ = writeln!(
                out,
                "not applied    {} (the entry's prices for other units than text tokens)",
                unsupported.join(", ")
            );
        }
    }
    let version = found.entry.version_at(question.at);
    let since = match (version.dated, version.time_of_day) {
        (true, _) => format!("effective from {}", version.effective_from.to_iso()),
        (false, Some(window)) => format!("in force daily {}", window.to_text()),
        (false, None) => "undated".to_string(),
    };
    let at = if question.at.second_of_day == 0 {
        question.at.date.to_iso()
    } else {
        question.at.to_iso()
    };
    let _ = writeln!(out, "version        {since} (prices in force on {at})");
    let tier = match applied.tier {
        Some(threshold) => format!("above {threshold} input tokens: the whole request at the tier's prices (total input {})", usage.input),
        None => format!("base prices (total input {})", usage.input),
    };
    let _ = writeln!(out, "tier           {tier}");
    let mut multipliers = Vec::new();
    match applied.batch_multiplier {
        Some(batch) => multipliers.push(format!("batch ×{}", batch.normalize())),
        None if applied.batch => multipliers.push("batch: the entry's own batch prices".into()),
        None => {}
    }
    if let Some(regional) = applied.regional_multiplier {
        multipliers.push(format!("Bedrock in-region ×{}", regional.normalize()));
    }
    let _ = writeln!(
        out,
        "multipliers    {}",
        if multipliers.is_empty() {
            "none".to_string()
        } else {
            multipliers.join(", ")
        }
    );
    let _ = writeln!(out, "price id       {}", applied.price_id);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<18}{:>12}{:>14}{:>16}",
        "",
        "tokens",
        "per 1M",
        format!("cost ({currency})")
    );
    let rates = &applied.rates;
    let cache_write_5m_cost =
        Decimal::from(usage.cache_write_5m) * rates.cache_write_5m / Decimal::from(1_000_000);
    let rows = [
        (
            "input (uncached)",
            question.uncached_input,
            rates.input,
            cost.input,
        ),
        (
            "cache read",
            usage.cache_read,
            rates.cache_read,
            cost.cache_read,
        ),
        (
            "cache write 5m",
            usage.cache_write_5m,
            rates.cache_write_5m,
            cache_write_5m_cost,
        ),
        (
            "cache write 1h",
            usage.cache_write_1h,
            rates.cache_write_1h,
            cost.cache_creation - cache_write_5m_cost,
        ),
        ("output", usage.output, rates.output, cost.output),
    ];
    for (label, tokens, rate, amount) in rows {
        let _ = writeln!(
            out,
            "{label:<18}{tokens:>12}{:>14}{:>16}",
            rate.normalize(),
            amount.normalize()
        );
    }
    let _ = writeln!(
        out,
        "{:<18}{:>12}{:>14}{:>16}",
        "web searches",
        usage.web_searches,
        format!("{}/1k", applied.web_search_per_1k.normalize()),
        cost.tools.normalize()
    );
    let _ = writeln!(out, "{:<18}{:>42}", "total", cost.total.normalize());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "cache hit ratio {}%",
        (cost.hit_ratio * Decimal::ONE_HUNDRED)
            .round_dp(2)
            .normalize()
    );
    let _ = writeln!(out, "cache savings   {} {currency} (all input at the input price minus input, cache reads and writes)", cost.savings.normalize());
    Ok(out)
}

/// How genai-prices' data matched, in words: the provider and how it was chosen, the provider
/// whose model list held the entry, and the rule that matched.
fn describe_shared(shared: &SharedPrices, found: &SharedMatch) -> String {
    let provider = &shared.providers[found.provider].id;
    let how = match found.provider_found_by {
        ProviderFoundBy::Id => "the span's provider name",
        ProviderFoundBy::ProviderRule => "its provider_match rule",
        ProviderFoundBy::ApiHost => "the span's server address",
        ProviderFoundBy::ModelRule => "its model_match rule (no provider named)",
    };
    let listed_by = &shared.providers[found.listed_by].id;
    let through = if found.listed_by == found.provider {
        String::new()
    } else {
        format!(" of its fallback provider {listed_by}")
    };
    let rule = shared
        .rule_of(found.listed_by, found.entry)
        .map(|rule| format!(": {rule}"))
        .unwrap_or_default();
    format!("genai-prices: provider {provider} (by {how}), then the first matching model rule{through}{rule}")
}

/// Which entries `price --list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Entries of this provider only (case-insensitive; genai-prices' provider ids such as
    /// `anthropic`, `aws`, `azure`, `google`).
    pub provider: Option<String>,
    /// Entries whose id contains this text (case-insensitive).
    pub search: Option<String>,
}

impl ListFilter {
    fn keeps(&self, catalog: &Catalog, entry: &super::PriceEntry) -> bool {
        // Both sides by genai-prices' provider id where it knows the name (`gcp.gemini` and
        // `google` are one provider).
        let id = |name: &str| {
            let name = name.trim().to_lowercase();
            catalog
                .shared_prices()
                .and_then(|shared| shared.provider_id(&name))
                .map_or(name.clone(), str::to_string)
        };
        let provider = entry.provider.as_deref().unwrap_or_default();
        self.provider
            .as_deref()
            .is_none_or(|wanted| id(provider) == id(wanted))
            && self.search.as_deref().is_none_or(|text| {
                entry
                    .id
                    .to_lowercase()
                    .contains(&text.trim().to_lowercase())
            })
    }
}

/// The catalog's entries `filter` keeps, one line each: id, provider, what matches (the entry's
/// names, or genai-prices' rules), and each version's date or hours with its input and output
/// prices; the agent's own entries first, in the order they are matched.
pub fn list(catalog: &Catalog, filter: &ListFilter) -> String {
    let mut out = String::new();
    for entry in catalog
        .all_entries()
        .filter(|entry| filter.keeps(catalog, entry))
    {
        let versions: Vec<String> = entry.versions.iter().map(version_text).collect();
        let matched = if !catalog.prices_tokens(entry) {
            "never: not priced by tokens".to_string()
        } else if entry.patterns.is_empty() {
            "genai-prices rules".to_string()
        } else {
            entry.patterns.join(",")
        };
        let _ = writeln!(
            out,
            "{:<40} {:<11} {:<40} {}",
            entry.id,
            entry.provider.as_deref().unwrap_or("-"),
            matched,
            versions.join("; ")
        );
    }
    out
}

fn version_text(version: &super::PriceVersion) -> String {
    let tiers = if version.tiers.is_empty() {
        String::new()
    } else {
        format!(" (+{} tier)", version.tiers.len())
    };
    let when = match (version.dated, version.time_of_day) {
        (true, _) => version.effective_from.to_iso(),
        (false, Some(window)) => window.to_text(),
        (false, None) => "always".to_string(),
    };
    format!(
        "{when}: in {} out {}{tiers}",
        version.rates.input.normalize(),
        version.rates.output.normalize()
    )
}
