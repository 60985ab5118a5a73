use super::*;
use crate::config::PerMillion;
use rust_decimal_macros::dec;

fn builtin() -> Catalog {
    Catalog::build(&PricingConfig::default()).unwrap()
}

fn date(text: &str) -> PriceTime {
    PriceTime::day(ConfigDate::parse(text).unwrap())
}

fn entry_id(catalog: &Catalog, model: &str) -> Option<String> {
    catalog
        .lookup(model, None, None)
        .map(|found| found.entry.id.clone())
}

#[test]
fn builtin_catalog_covers_every_listed_model() {
    let catalog = builtin();
    for model in [
        "claude-opus-4-7",
        "claude-opus-4-6",
        "claude-opus-4-5",
        "claude-opus-4-1",
        "claude-opus-4",
        "claude-sonnet-4-6",
        "claude-sonnet-4-5",
        "claude-sonnet-4",
        "claude-haiku-4-5",
        "claude-3-5-haiku",
        "claude-3-haiku",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5.1",
        "gpt-5-mini",
        "gpt-5-nano",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
    ] {
        assert_eq!(entry_id(&catalog, model).as_deref(), Some(model));
    }
}

#[test]
fn model_spellings_find_their_entry() {
    let catalog = builtin();
    assert_eq!(
        entry_id(&catalog, "claude-sonnet-4-20250514").as_deref(),
        Some("claude-sonnet-4")
    );
    assert_eq!(
        entry_id(&catalog, "anthropic/claude-sonnet-4-5-20250929").as_deref(),
        Some("claude-sonnet-4-5")
    );
    assert_eq!(
        entry_id(&catalog, "eu.anthropic.claude-haiku-4-5-20251001-v1:0").as_deref(),
        Some("claude-haiku-4-5")
    );
    assert_eq!(
        entry_id(&catalog, "claude-opus-4-1@20250805").as_deref(),
        Some("claude-opus-4-1")
    );
    assert_eq!(
        entry_id(&catalog, "GPT-4o-mini-2024-07-18").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(entry_id(&catalog, "claude-sonnet-4-7"), None);
    // No prefix guess from gpt-4o: genai-prices' data has gpt-4 itself.
    assert_eq!(entry_id(&catalog, "gpt-4").as_deref(), Some("openai/gpt-4"));
}

#[test]
fn version_in_force_follows_the_span_date() {
    let catalog = builtin();
    let found = catalog.lookup("claude-sonnet-4-6", None, None).unwrap();
    let before = catalog.apply(&found, date("2026-03-12"), 250_000, false);
    let after = catalog.apply(&found, date("2026-03-13"), 250_000, false);
    assert_eq!(before.price_id, "claude-sonnet-4-6@2026-01-01+above_200000");
    assert_eq!(before.rates.input, dec!(6));
    assert_eq!(after.price_id, "claude-sonnet-4-6@2026-03-13");
    assert_eq!(after.rates.input, dec!(3));
    // Spans older than the earliest version use it.
    assert_eq!(
        catalog
            .apply(&found, date("2025-01-01"), 10, false)
            .price_id,
        "claude-sonnet-4-6@2026-01-01"
    );
}

#[test]
fn tier_applies_only_above_its_threshold() {
    let catalog = builtin();
    let found = catalog.lookup("claude-sonnet-4-5", None, None).unwrap();
    assert_eq!(
        catalog
            .apply(&found, date("2026-06-01"), 200_000, false)
            .tier,
        None
    );
    let above = catalog.apply(&found, date("2026-06-01"), 200_001, false);
    assert_eq!(above.tier, Some(200_000));
    assert_eq!(
        above.rates,
        Rates {
            input: dec!(6),
            output: dec!(22.50),
            cache_read: dec!(0.60),
            cache_write_5m: dec!(7.50),
            cache_write_1h: dec!(12)
        }
    );
}

#[test]
fn batch_and_bedrock_regional_multipliers_stack() {
    let catalog = builtin();
    let found = catalog
        .lookup("us.anthropic.claude-haiku-4-5-20251001-v1:0", None, None)
        .unwrap();
    let applied = catalog.apply(&found, date("2026-06-01"), 10, true);
    assert_eq!(applied.rates.input, dec!(0.55)); // 1 × 0.5 × 1.1
    assert_eq!(applied.rates.output, dec!(2.75)); // 5 × 0.5 × 1.1
    assert_eq!(
        applied.price_id,
        "claude-haiku-4-5@2026-01-01+batch+bedrock_regional"
    );
    let global = catalog
        .lookup(
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            None,
            None,
        )
        .unwrap();
    assert_eq!(
        catalog
            .apply(&global, date("2026-06-01"), 10, false)
            .rates
            .input,
        dec!(1)
    );
}

fn configured(id: &str, patterns: &[&str], input: rust_decimal::Decimal) -> ModelPriceConfig {
    ModelPriceConfig {
        id: id.into(),
        provider: None,
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        source: None,
        versions: Vec::new(),
        effective_from: None,
        input: Some(PerMillion(input)),
        output: Some(PerMillion(dec!(1))),
        cache_read: None,
        cache_write: None,
        cache_write_1h: None,
        batch_multiplier: None,
        web_search_per_1k: None,
        tiers: Vec::new(),
    }
}

#[test]
fn configured_entries_replace_builtins_and_prefixes_match_longest_first() {
    let config = PricingConfig {
        models: vec![
            configured("gpt-4o", &["gpt-4o"], dec!(2)),
            configured("ft-mini", &["ft:gpt-4o-mini*"], dec!(0.3)),
            configured("ft-mini-acme", &["ft:gpt-4o-mini:acme*"], dec!(0.25)),
        ],
        ..PricingConfig::default()
    };
    let catalog = Catalog::build(&config).unwrap();
    let found = catalog.lookup("gpt-4o", None, None).unwrap();
    assert_eq!(found.entry.versions[0].rates.input, dec!(2));
    assert!(!found.entry.builtin);
    assert_eq!(
        entry_id(&catalog, "ft:gpt-4o-mini:acme::abc123").as_deref(),
        Some("ft-mini-acme")
    );
    assert_eq!(
        entry_id(&catalog, "ft:gpt-4o-mini:other::x").as_deref(),
        Some("ft-mini")
    );
    assert_eq!(
        catalog
            .lookup("ft:gpt-4o-mini:other::x", None, None)
            .unwrap()
            .kind,
        MatchKind::Prefix("ft:gpt-4o-mini*".into())
    );
}

#[test]
fn builtins_can_be_turned_off() {
    let config = PricingConfig {
        disable: vec!["gpt-4o".into()],
        ..PricingConfig::default()
    };
    // The agent's entry is off: genai-prices' data prices the model.
    assert_eq!(
        entry_id(&Catalog::build(&config).unwrap(), "gpt-4o").as_deref(),
        Some("openai/gpt-4o")
    );
    let both = PricingConfig {
        disable: vec!["gpt-4o".into(), "openai/gpt-4o".into()],
        ..PricingConfig::default()
    };
    let other = entry_id(&Catalog::build(&both).unwrap(), "gpt-4o");
    assert!(other.as_deref() != Some("openai/gpt-4o") && other.as_deref() != Some("gpt-4o"));
    let none = PricingConfig {
        builtin: false,
        ..PricingConfig::default()
    };
    assert_eq!(entry_id(&Catalog::build(&none).unwrap(), "gpt-4o"), None);
    let wrong = PricingConfig {
        disable: vec!["gpt-9".into()],
        ..PricingConfig::default()
    };
    assert_eq!(
        Catalog::build(&wrong).unwrap_err().to_string(),
        "pricing.disable: `gpt-9` is not a built-in entry (nor `provider/model` of genai-prices' data)"
    );
}

#[test]
fn unknown_fallback_is_refused() {
    let config = PricingConfig {
        fallback: Some("nope".into()),
        ..PricingConfig::default()
    };
    assert_eq!(
        Catalog::build(&config).unwrap_err().to_string(),
        "pricing.fallback: no entry has the id `nope`"
    );
}
