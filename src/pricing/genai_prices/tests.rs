use super::lookup::expand_compact_date;
use super::*;
use crate::config::ConfigDate;
use crate::pricing::catalog::{BatchPrice, PriceTime, Rates};
use rust_decimal_macros::dec;

fn snapshot() -> SharedPrices {
    SharedPrices::parse(SNAPSHOT, SNAPSHOT_VERSION).expect("the embedded snapshot reads")
}

fn at(date: &str, second_of_day: u32) -> PriceTime {
    PriceTime {
        date: ConfigDate::parse(date).unwrap(),
        second_of_day,
    }
}

fn one_model(prices: &str, variants: &str) -> SharedPrices {
    let json = format!(
        r#"[{{"id":"p","api_pattern":"https://p\\.example","models":[
            {{"id":"m","match":{{"equals":"m"}},"prices":{prices}{variants}}}]}}]"#
    );
    SharedPrices::parse(&json, "test").unwrap()
}

fn rates(
    input: Decimal,
    output: Decimal,
    read: Decimal,
    write: Decimal,
    write_1h: Decimal,
) -> Rates {
    Rates {
        input,
        output,
        cache_read: read,
        cache_write_5m: write,
        cache_write_1h: write_1h,
    }
}

use rust_decimal::Decimal;

#[test]
fn the_embedded_snapshot_has_every_provider_and_model() {
    let prices = snapshot();
    assert_eq!(prices.providers.len(), 47);
    assert_eq!(prices.entries.len(), 2330);
    // 26 are priced only by characters, audio or requests: listed, never matched.
    assert_eq!(prices.not_token_priced.len(), 26);
    let orpheus = "groq/canopylabs/orpheus-v1-english";
    assert!(prices.not_token_priced.contains(&orpheus.to_string()));
    assert!(prices
        .find("canopylabs/orpheus-v1-english", Some("groq"), None, &|_| {
            false
        })
        .is_none());
    let ids: Vec<&str> = prices.providers.iter().map(|p| p.id.as_str()).collect();
    for id in [
        "anthropic",
        "openai",
        "google",
        "aws",
        "azure",
        "mistral",
        "deepseek",
        "x-ai",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
}

#[test]
fn numbers_are_taken_exactly_from_their_text() {
    let prices = one_model(
        r#"{"input_mtok":0.18000000000000002,"output_mtok":{"base":1.1,"tiers":[{"start":200000,"price":2.2}]}}"#,
        "",
    );
    let version = &prices.entries[0].versions[0];
    assert_eq!(version.rates.input, dec!(0.18000000000000002));
    assert_eq!(version.rates.output, dec!(1.1));
    assert_eq!(version.tiers[0].rates.output, dec!(2.2));
    let scientific = one_model(r#"{"input_mtok":9.7e-7,"output_mtok":1E+2}"#, "");
    assert_eq!(
        scientific.entries[0].versions[0].rates.input,
        dec!(0.00000097)
    );
    assert_eq!(scientific.entries[0].versions[0].rates.output, dec!(100));
    for bad in [r#""5""#, "true", "-1", "[]"] {
        let json = format!(
            r#"[{{"id":"p","api_pattern":"x","models":[{{"id":"m","match":{{"equals":"m"}},"prices":{{"input_mtok":{bad}}}}}]}}]"#
        );
        assert!(SharedPrices::parse(&json, "test").is_err(), "{bad}");
    }
    let empty = r#"[{"id":"p","api_pattern":"x","models":[{"id":"m","match":{"equals":"m"},"prices":[]}]}]"#;
    let error = SharedPrices::parse(empty, "test").unwrap_err().to_string();
    assert_eq!(error, "test: model `p/m`: prices: an empty list");
}

#[test]
fn per_kind_tiers_become_whole_rate_tiers_at_every_threshold() {
    let prices = one_model(
        r#"{"input_mtok":{"base":1,"tiers":[{"start":100,"price":2},{"start":300,"price":3}]},
            "output_mtok":{"base":10,"tiers":[{"start":200,"price":20}]},
            "cache_read_mtok":0.1}"#,
        "",
    );
    let version = &prices.entries[0].versions[0];
    assert_eq!(
        version.rates,
        rates(dec!(1), dec!(10), dec!(0.1), dec!(1), dec!(1))
    );
    let tiers: Vec<(u64, Rates)> = version
        .tiers
        .iter()
        .map(|tier| (tier.above_input_tokens, tier.rates))
        .collect();
    assert_eq!(
        tiers,
        vec![
            // Unpriced cache writes follow the input rate of the tier.
            (100, rates(dec!(2), dec!(10), dec!(0.1), dec!(2), dec!(2))),
            (200, rates(dec!(2), dec!(20), dec!(0.1), dec!(2), dec!(2))),
            (300, rates(dec!(3), dec!(20), dec!(0.1), dec!(3), dec!(3))),
        ]
    );
}

#[test]
fn dated_prices_and_a_later_batch_variant_split_into_versions() {
    let prices = one_model(
        r#"[{"prices":{"input_mtok":5,"output_mtok":15}},
            {"constraint":{"start_date":"2026-03-01"},"prices":{"input_mtok":4,"output_mtok":12}}]"#,
        r#","price_variants":[{"when":{"service_tier":"priority"},"prices":{"input_mtok":9}},
            {"when":{"processing":"batch"},"prices":{"input_mtok":2},"constraint":{"start_date":"2026-06-01"}}]"#,
    );
    let entry = &prices.entries[0];
    let summary: Vec<(bool, i64, Decimal, BatchPrice)> = entry
        .versions
        .iter()
        .map(|v| {
            (
                v.dated,
                v.effective_from.days_since_epoch,
                v.rates.input,
                v.batch.clone(),
            )
        })
        .collect();
    let day = |text: &str| ConfigDate::parse(text).unwrap().days_since_epoch;
    assert_eq!(summary.len(), 3);
    assert_eq!(summary[0], (false, 0, dec!(5), BatchPrice::Standard));
    assert_eq!(
        summary[1],
        (true, day("2026-03-01"), dec!(4), BatchPrice::Standard)
    );
    // From June the batch variant's input price, the standard output price.
    let BatchPrice::Own { rates: batch, .. } = &summary[2].3 else {
        panic!("{:?}", summary[2]);
    };
    assert_eq!(
        (summary[2].2, batch.input, batch.output),
        (dec!(4), dec!(2), dec!(12))
    );
    assert_eq!(entry.version_at(at("2026-01-01", 0)).rates.input, dec!(5));
    assert_eq!(entry.version_at(at("2026-05-31", 0)).rates.input, dec!(4));
    assert_eq!(entry.version_at(at("2026-06-01", 0)).rates.input, dec!(4));
}

#[test]
fn time_of_day_prices_hold_within_their_window_even_past_midnight() {
    let prices = one_model(
        r#"[{"prices":{"input_mtok":0.135,"output_mtok":0.55}},
            {"constraint":{"start_time":"00:30:00Z","end_time":"16:30:00Z"},"prices":{"input_mtok":0.27,"output_mtok":1.1}},
            {"constraint":{"start_time":"22:00:00Z","end_time":"01:00:00Z"},"prices":{"input_mtok":0.5,"output_mtok":2}}]"#,
        "",
    );
    let entry = &prices.entries[0];
    let input = |second| entry.version_at(at("2026-05-01", second)).rates.input;
    assert_eq!(input(3 * 3600), dec!(0.27));
    assert_eq!(input(17 * 3600), dec!(0.135));
    assert_eq!(input(16 * 3600 + 1800), dec!(0.135)); // the end is not in the window
    assert_eq!(input(23 * 3600), dec!(0.5));
    // 00:45 is in both windows: the later one in the list wins.
    assert_eq!(input(2700), dec!(0.5));
}

#[test]
fn the_provider_comes_first_then_its_models_in_order() {
    let prices = snapshot();
    let found = |model: &str, provider: Option<&str>| {
        prices
            .find(model, provider, None, &|_| false)
            .map(|found| prices.entries[found.entry].id.as_str())
    };
    assert_eq!(
        found("claude-sonnet-4-5", Some("anthropic")),
        Some("anthropic/claude-sonnet-4-5")
    );
    assert_eq!(
        found("claude-sonnet-4-5", None),
        Some("anthropic/claude-sonnet-4-5")
    );
    // A Bedrock id on Bedrock: AWS's own entry (its regional price).
    let bedrock = found(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        Some("aws.bedrock"),
    );
    assert!(
        bedrock.is_some_and(|id| id.starts_with("aws/")),
        "{bedrock:?}"
    );
    // Azure serves OpenAI's models through its fallback list.
    let azure = prices
        .find("gpt-4o", Some("azure.ai.openai"), None, &|_| false)
        .unwrap();
    assert_eq!(prices.providers[azure.provider].id, "azure");
    assert_eq!(prices.providers[azure.listed_by].id, "openai");
    // A dated snapshot with a price of its own keeps it.
    assert_eq!(
        found("gpt-4o-2024-05-13", Some("openai")),
        Some("openai/gpt-4o-2024-05-13")
    );
    // A provider name the data does not know is not guessed from the model's name (a
    // self-hosted model is not billed at an API's price); no provider name at all is.
    assert_eq!(found("gpt-4o", Some("some-proxy")), None);
    assert_eq!(found("deepseek-r1:8b", Some("ollama")), None);
    assert_eq!(found("gpt-4o", None), Some("openai/gpt-4o"));
    // The instrumentations' other names for providers.
    assert_eq!(found("gpt-4o", Some("azure.chat")).map(|_| ()), Some(()));
    assert_eq!(found("grok-4", Some("xai")), Some("x-ai/grok-4-0709"));
    // LiteLLM: the provider in the model's name, by id or by the provider's own rule.
    assert_eq!(
        found("xai/grok-4", Some("litellm")),
        Some("x-ai/grok-4-0709")
    );
    assert_eq!(
        found("anthropic/claude-sonnet-4-5", Some("litellm")),
        Some("anthropic/claude-sonnet-4-5")
    );
    // An unknown model is not priced.
    assert_eq!(found("no-such-model", Some("openai")), None);
    // The API host names the provider when no provider name is given.
    let by_host = prices
        .find(
            "mistral-large-latest",
            None,
            Some("api.mistral.ai"),
            &|_| false,
        )
        .unwrap();
    assert_eq!(by_host.provider_found_by, ProviderFoundBy::ApiHost);
    assert_eq!(prices.providers[by_host.provider].id, "mistral");
}

#[test]
fn compact_dates_are_written_out_only_when_real() {
    assert_eq!(
        expand_compact_date("gpt-5.2-20251211").as_deref(),
        Some("gpt-5.2-2025-12-11")
    );
    assert_eq!(
        expand_compact_date("a-20250101-b-20250202:0").as_deref(),
        Some("a-2025-01-01-b-2025-02-02:0")
    );
    assert_eq!(expand_compact_date("model-20250230"), None);
    assert_eq!(expand_compact_date("model-202501011"), None);
    assert_eq!(expand_compact_date("model-19990101"), None);
}

#[test]
fn a_later_file_replaces_a_provider_of_the_same_id() {
    let newer = r#"[{"id":"openai","api_pattern":"https://api\\.openai\\.com","models":[
        {"id":"gpt-4o","match":{"equals":"gpt-4o"},"prices":{"input_mtok":1,"output_mtok":2}}]}]"#;
    let prices =
        SharedPrices::layered(&[(SNAPSHOT, SNAPSHOT_VERSION), (newer, "newer.json")]).unwrap();
    assert_eq!(prices.providers.len(), 47);
    let found = prices
        .find("gpt-4o", Some("openai"), None, &|_| false)
        .unwrap();
    let entry = &prices.entries[found.entry];
    assert_eq!(entry.versions[0].rates.input, dec!(1));
    assert_eq!(entry.source.as_deref(), Some("newer.json"));
    assert!(prices
        .find("gpt-4o-mini", Some("openai"), None, &|_| false)
        .is_none());
    let anthropic = prices
        .find("claude-sonnet-4-5", Some("anthropic"), None, &|_| false)
        .unwrap();
    assert_eq!(
        prices.entries[anthropic.entry].source.as_deref(),
        Some(SNAPSHOT_VERSION)
    );
}

#[test]
fn bad_data_is_refused_naming_the_place() {
    let error = SharedPrices::parse(
        r#"[{"id":"p","api_pattern":"x","models":[{"id":"m","match":{"regex":"("},"prices":{}}]}]"#,
        "bad.json",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("bad.json: model `p/m`: regex `(`"),
        "{error}"
    );
    let error = SharedPrices::parse(r#"[{"id":"p"}]"#, "bad.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("bad.json: not genai-prices v2 data"),
        "{error}"
    );
}
