use super::*;
use crate::ledger::LedgerEntry;
use rust_decimal_macros::dec;

/// A priced call in the ledger's form.
fn call(
    provider: &str,
    model: &str,
    day: &str,
    tokens: (u64, u64, u64),
    cost: &str,
) -> LedgerEntry {
    let (input, output, cache_read) = tokens;
    serde_json::from_value(serde_json::json!({
        "time": format!("{day}T12:00:00.000000000Z"),
        "start_time": format!("{day}T11:59:59.000000000Z"),
        "trace_id": "01000000000000000000000000000000",
        "span_id": "0100000000000001",
        "provider": provider,
        "response_model": model,
        "status": "ok",
        "tokens": {"input": input, "output": output, "cache_read": cache_read, "cache_creation": 0},
        "currency": "USD",
        "cost": {"total": cost, "input": "0", "output": "0", "cache_read": "0",
                 "cache_creation": "0", "tools": "0", "cache_savings": "0", "cache_hit_ratio": "0"},
    }))
    .unwrap()
}

fn reported(
    provider: &str,
    model: &str,
    tokens: (u64, u64, u64),
    cost: Option<Decimal>,
) -> ProviderDay {
    let (input, output, cache_read) = tokens;
    ProviderDay {
        provider: provider.into(),
        model: model.into(),
        day: "2026-12-05".into(),
        usage: Spend {
            input,
            output,
            cache_read,
            cache_creation: 0,
            cost,
        },
        currency: Some("USD".into()),
    }
}

const TOLERANCE: Tolerance = Tolerance {
    tokens: dec!(0.02),
    cost: dec!(0.02),
};

/// Three models on 2026-12-05:
///   Sonnet 4.5: two calls the agent priced at 0.0315 + 0.0087 = 0.0402, 25,000 + 1,100 tokens;
///     the provider reports the same tokens and charges 0.0402: matched
///   Haiku 4.5: the agent saw 4,500 tokens (0.0065); the provider counts 9,000 and charges 0.013:
///     half the traffic bypassed the agent
///   GPT-4o mini: the same 4,500 tokens; the agent priced 0.00075, the provider charged 0.0009:
///     a price mismatch (0.8333333333)
///   and a call of acme-llm the provider does not report (its data may still be coming).
fn rows() -> Vec<Row> {
    let entries = vec![
        call(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            "2026-12-05",
            (20_000, 800, 15_000),
            "0.0315",
        ),
        call(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            "2026-12-05",
            (5_000, 300, 4_000),
            "0.0087",
        ),
        call(
            "anthropic",
            "claude-haiku-4-5-20251001",
            "2026-12-05",
            (4_000, 500, 0),
            "0.0065",
        ),
        call(
            "openai",
            "gpt-4o-mini-2024-07-18",
            "2026-12-05",
            (4_000, 500, 2_000),
            "0.00075",
        ),
        call("acme", "acme-llm-1", "2026-12-05", (900, 90, 0), "0.001"),
    ];
    let reported = vec![
        reported(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            (25_000, 1_100, 19_000),
            Some(dec!(0.0402)),
        ),
        reported(
            "anthropic",
            "claude-haiku-4-5-20251001",
            (8_000, 1_000, 0),
            Some(dec!(0.013)),
        ),
        reported(
            "openai",
            "gpt-4o-mini-2024-07-18",
            (4_000, 500, 2_000),
            Some(dec!(0.0009)),
        ),
    ];
    compare(&agent_days(&entries), &reported, TOLERANCE)
}

#[test]
fn each_provider_model_and_day_gets_its_verdict() {
    let rows = rows();
    let verdicts: Vec<(&str, Decimal, Option<Decimal>, Verdict)> = rows
        .iter()
        .map(|row| {
            (
                row.model.as_str(),
                row.token_ratio,
                row.cost_ratio,
                row.verdict,
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("acme-llm-1", dec!(0), None, Verdict::AgentOnly),
            (
                "claude-haiku-4-5-20251001",
                dec!(0.5),
                Some(dec!(0.5)),
                Verdict::NotSeen
            ),
            (
                "claude-sonnet-4-5-20250929",
                dec!(1),
                Some(dec!(1)),
                Verdict::Matched
            ),
            (
                "gpt-4o-mini-2024-07-18",
                dec!(1),
                Some(dec!(0.8333333333)),
                Verdict::PriceMismatch
            ),
        ]
    );
    let sonnet = &rows[2];
    assert_eq!(
        (
            sonnet.agent.input,
            sonnet.agent.cache_read,
            sonnet.agent.cost
        ),
        (25_000, 19_000, Some(dec!(0.0402)))
    );
}

#[test]
fn within_the_tolerance_is_a_match() {
    let entries = vec![call(
        "openai",
        "gpt-4o-mini",
        "2026-12-05",
        (9_850, 0, 0),
        "0.0099",
    )];
    let rows = compare(
        &agent_days(&entries),
        &[reported(
            "openai",
            "gpt-4o-mini",
            (10_000, 0, 0),
            Some(dec!(0.01)),
        )],
        TOLERANCE,
    );
    assert_eq!(
        rows[0].verdict,
        Verdict::Matched,
        "98.5% of the tokens, 99% of the cost"
    );
}

#[test]
fn the_table_shows_both_sides_the_ratios_and_the_verdict() {
    assert_eq!(
        table(&rows(), "USD"),
        "\
day         provider   model                       agent tokens  provider tokens  ratio  agent USD  provider USD         ratio  verdict
2026-12-05  acme       acme-llm-1                           990                0      0      0.001             –             –  not in the provider's report
2026-12-05  anthropic  claude-haiku-4-5-20251001           4500             9000    0.5     0.0065         0.013           0.5  traffic not seen by the agent
2026-12-05  anthropic  claude-sonnet-4-5-20250929         26100            26100      1     0.0402        0.0402             1  matched
2026-12-05  openai     gpt-4o-mini-2024-07-18              4500             4500      1    0.00075        0.0009  0.8333333333  price mismatch
"
    );
}

/// A page as Anthropic's messages usage report answers with `group_by=model` and daily buckets
/// (the 5m/1h split nested; the flat fields some documents show are read too).
const ANTHROPIC_PAGE: &str = r#"{
  "data": [
    {"starting_at": "2026-12-05T00:00:00Z", "ending_at": "2026-12-06T00:00:00Z", "results": [
      {"model": "claude-sonnet-4-5-20250929", "uncached_input_tokens": 5000, "cache_read_input_tokens": 15000,
       "cache_creation": {"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 2000},
       "output_tokens": 800, "server_tool_use": {"web_search_requests": 0}},
      {"model": "claude-haiku-4-5-20251001", "uncached_input_tokens": 8000, "cache_read_input_tokens": 0,
       "cache_creation_5m_input_tokens": 100, "cache_creation_1h_input_tokens": 0, "output_tokens": 1000}
    ]}
  ],
  "has_more": true,
  "next_page": "page_2"
}"#;

/// A page as OpenAI's completions usage report answers with `group_by=model` and daily buckets.
const OPENAI_PAGE: &str = r#"{
  "object": "page",
  "data": [
    {"object": "bucket", "start_time": 1796428800, "end_time": 1796515200, "results": [
      {"object": "organization.usage.completions.result", "input_tokens": 4000, "output_tokens": 500,
       "input_cached_tokens": 2000, "input_audio_tokens": 0, "output_audio_tokens": 0,
       "num_model_requests": 1, "project_id": null, "user_id": null, "api_key_id": null,
       "model": "gpt-4o-mini-2024-07-18", "batch": null}
    ]}
  ],
  "has_more": false,
  "next_page": "page_unused"
}"#;

#[test]
fn anthropic_usage_pages_read_in_the_conventions_reading() {
    let page = reports::anthropic_usage(ANTHROPIC_PAGE.as_bytes()).unwrap();
    assert_eq!(page.next_page.as_deref(), Some("page_2"));
    let sonnet = &page.days[0];
    assert_eq!(
        (
            sonnet.provider.as_str(),
            sonnet.model.as_str(),
            sonnet.day.as_str()
        ),
        ("anthropic", "claude-sonnet-4-5-20250929", "2026-12-05")
    );
    // 5,000 uncached + 15,000 read + 5,000 written.
    assert_eq!(
        (
            sonnet.usage.input,
            sonnet.usage.cache_read,
            sonnet.usage.cache_creation,
            sonnet.usage.output
        ),
        (25_000, 15_000, 5_000, 800)
    );
    let haiku = &page.days[1];
    assert_eq!(
        (haiku.usage.input, haiku.usage.cache_creation),
        (8_100, 100)
    );
}

#[test]
fn openai_usage_pages_keep_cached_tokens_inside_the_input() {
    let page = reports::openai_usage(OPENAI_PAGE.as_bytes()).unwrap();
    assert_eq!(page.next_page, None, "has_more is false");
    let mini = &page.days[0];
    assert_eq!(
        (
            mini.day.as_str(),
            mini.usage.input,
            mini.usage.cache_read,
            mini.usage.output
        ),
        ("2026-12-05", 4_000, 2_000, 500)
    );
}

#[test]
fn a_page_of_another_shape_is_refused_with_the_reason() {
    let error =
        reports::anthropic_usage(br#"{"error": {"type": "rate_limit_error"}}"#).unwrap_err();
    assert!(
        error.to_string().starts_with("not a usage report page"),
        "{error}"
    );
    let error =
        reports::anthropic_usage(br#"{"data": [{"starting_at": "yesterday", "results": []}]}"#)
            .unwrap_err();
    assert_eq!(
        error.to_string(),
        "a bucket starts at `yesterday`, not a UTC time"
    );
}

fn agent_days(entries: &[LedgerEntry]) -> DailySpend {
    let mut days = DailySpend::default();
    for entry in entries {
        days.add_entry(entry);
    }
    days
}

#[test]
fn anthropic_cost_pages_are_token_charges_in_dollars_by_model() {
    let page = reports::anthropic_costs(
        br#"{"data": [{"starting_at": "2026-12-05T00:00:00Z", "ending_at": "2026-12-06T00:00:00Z", "results": [
            {"amount": "123.45", "currency": "USD", "model": "claude-sonnet-4-5-20250929", "cost_type": "tokens"},
            {"amount": "7", "currency": "USD", "model": null, "cost_type": "web_search"}]}],
          "has_more": false, "next_page": null}"#,
    )
    .unwrap();
    assert_eq!(page.days.len(), 1, "the web search has no model");
    assert_eq!(
        page.days[0].usage.cost,
        Some(dec!(1.2345)),
        "cents to dollars"
    );
    assert_eq!(page.days[0].usage.tokens(), 0);
    let error = reports::anthropic_costs(
        br#"{"data": [{"starting_at": "2026-12-05T00:00:00Z", "results": [{"amount": "1,5", "model": "m"}]}]}"#,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "an amount `1,5` is not a decimal number");
}

#[test]
fn a_page_with_more_but_no_next_page_is_refused() {
    let error =
        reports::openai_usage(br#"{"data": [], "has_more": true, "next_page": null}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the page says there is more but gives no next page"
    );
}

#[test]
fn openai_cost_pages_take_the_model_from_the_line_item_and_keep_the_amount_exact() {
    let page = reports::openai_costs(
        br#"{"object": "page", "data": [{"object": "bucket", "start_time": 1796428800, "end_time": 1796515200, "results": [
            {"object": "organization.costs.result", "amount": {"value": 0.0006, "currency": "usd"}, "line_item": "gpt-4o-mini-2024-07-18, input"},
            {"object": "organization.costs.result", "amount": {"value": 1.1e-5, "currency": "usd"}, "line_item": "gpt-4o-mini-2024-07-18, cached input"},
            {"object": "organization.costs.result", "amount": {"value": 0.25, "currency": "usd"}, "line_item": "web search tool calls"},
            {"object": "organization.costs.result", "amount": {"value": 3, "currency": "usd"}, "line_item": null}]}],
          "has_more": true, "next_page": "next"}"#,
    )
    .unwrap();
    let days: Vec<(&str, &str, Option<Decimal>)> = page
        .days
        .iter()
        .map(|day| (day.model.as_str(), day.day.as_str(), day.usage.cost))
        .collect();
    assert_eq!(
        days,
        [
            ("gpt-4o-mini-2024-07-18", "2026-12-05", Some(dec!(0.0006))),
            ("gpt-4o-mini-2024-07-18", "2026-12-05", Some(dec!(0.000011))),
        ],
        "a line item without a model is left out"
    );
    assert_eq!(page.days[0].currency.as_deref(), Some("USD"));
    assert_eq!(page.next_page.as_deref(), Some("next"));
}

#[test]
fn a_charge_for_what_the_agent_never_saw_is_traffic_not_seen() {
    let charged = ProviderDay {
        provider: "openai".into(),
        model: "gpt-4.1-2025-04-14".into(),
        day: "2026-12-05".into(),
        usage: Spend {
            cost: Some(dec!(0.01)),
            ..Spend::default()
        },
        currency: Some("USD".into()),
    };
    let rows = compare(&DailySpend::default(), &[charged], TOLERANCE);
    assert_eq!(rows[0].verdict, Verdict::NotSeen);
}

#[test]
fn the_running_spend_keys_providers_in_lowercase_and_forgets_days_before_its_window() {
    use crate::config::ConfigDate;
    use crate::ledger::days::RunningSpend;
    use crate::metrics::{CallRecord, CallSpan};
    use crate::pricing::CostBreakdown;
    use crate::usage::TokenUsage;
    let record = |day: i64, provider: &str| CallRecord {
        span: CallSpan {
            end_unix_nano: day as u64 * 86_400_000_000_000 + 1,
            ..CallSpan::default()
        },
        dimensions: vec![
            ("gen_ai.provider.name".into(), provider.into()),
            ("gen_ai.request.model".into(), "claude-haiku-4-5".into()),
        ],
        usage: Some(TokenUsage {
            input: 1_000,
            output: 100,
            ..TokenUsage::default()
        }),
        cost: Some(CostBreakdown {
            total: dec!(0.0025),
            tools: dec!(0.001),
            ..CostBreakdown::default()
        }),
        ..CallRecord::default()
    };
    let today = ConfigDate::parse("2026-12-06").unwrap();
    let spend = RunningSpend::started_on(today, 2);
    spend.record(&[
        record(today.days_since_epoch, "Anthropic"),
        record(today.days_since_epoch, "anthropic"),
        record(today.days_since_epoch - 1, "anthropic"),
        record(today.days_since_epoch - 2, "anthropic"),
    ]);
    let days = spend.snapshot(today).days;
    let kept: Vec<(&str, &str, u64, Option<Decimal>)> = days
        .iter()
        .map(|((provider, _, day), spend)| {
            (provider.as_str(), day.as_str(), spend.tokens(), spend.cost)
        })
        .collect();
    assert_eq!(
        kept,
        [
            ("anthropic", "2026-12-05", 1_100, Some(dec!(0.0015))),
            ("anthropic", "2026-12-06", 2_200, Some(dec!(0.0030))),
        ],
        "the tool fee is not a token charge"
    );
}

#[test]
fn source_urls_ask_for_daily_buckets_of_the_window_and_escape_the_page_token() {
    use crate::config::{ConfigDate, ProviderReports};
    use sources::{Provider, Report, Source};
    std::env::set_var("RECONCILE_UNIT_TEST_KEY", "sk-unit-secret");
    let reports = ProviderReports {
        admin_key_env: Some("RECONCILE_UNIT_TEST_KEY".into()),
        base_url: Some("https://proxy:8080/".into()),
    };
    let from = ConfigDate::parse("2026-12-05").unwrap();
    let until = ConfigDate::parse("2026-12-07").unwrap();
    let anthropic = Source::from_config(Provider::Anthropic, &reports).unwrap();
    assert_eq!(
        anthropic.url(Report::Usage, from, until, Some("a b/+")),
        "https://proxy:8080/v1/organizations/usage_report/messages?starting_at=2026-12-05T00:00:00Z&ending_at=2026-12-07T00:00:00Z&bucket_width=1d&group_by%5B%5D=model&limit=2&page=a%20b%2F%2B"
    );
    let openai = Source::from_config(Provider::OpenAi, &reports).unwrap();
    assert_eq!(
        openai.url(Report::Cost, from, until, None),
        "https://proxy:8080/v1/organization/costs?start_time=1796428800&end_time=1796601600&bucket_width=1d&group_by=line_item&limit=2"
    );
    assert_eq!(format!("{openai:?}").matches("sk-unit-secret").count(), 0);
    assert_eq!(
        openai.scrub("echo: Bearer sk-unit-secret"),
        "echo: Bearer <admin key>"
    );
    let headers = openai.headers();
    assert!(headers[0].1.is_sensitive());
    for (base_url, accepted) in [
        ("http://127.0.0.1:9000", true),
        ("http://localhost:9000/", true),
        ("http://[::1]:9000", true),
        ("http://proxy.internal:8080", false),
        ("http://127.0.0.1.example.com", false),
        ("ftp://127.0.0.1", false),
    ] {
        let reports = ProviderReports {
            base_url: Some(base_url.into()),
            ..reports.clone()
        };
        assert_eq!(
            Source::from_config(Provider::OpenAi, &reports).is_ok(),
            accepted,
            "{base_url}"
        );
    }
    let typed_in = ProviderReports {
        admin_key_env: Some("sk-admin-typed-into-the-name".into()),
        base_url: None,
    };
    let error = Source::from_config(Provider::OpenAi, &typed_in)
        .unwrap_err()
        .to_string();
    assert!(!error.contains("sk-admin"), "{error}");
}

#[test]
fn the_gauges_keep_the_most_billed_models_and_sum_the_rest_as_other() {
    use totals::{model_totals, MAX_MODEL_TOTALS};
    let rows: Vec<Row> = (0..MAX_MODEL_TOTALS as u64 + 10)
        .map(|index| Row {
            provider: "openai".into(),
            model: format!("model-{index:03}"),
            day: "2026-12-05".into(),
            agent: Spend {
                input: 1,
                cost: Some(dec!(0.001)),
                ..Spend::default()
            },
            reported: Spend {
                input: 1_000 + index,
                cost: Some(dec!(0.002)),
                ..Spend::default()
            },
            token_ratio: Decimal::ZERO,
            cost_ratio: None,
            verdict: Verdict::NotSeen,
            partial: false,
        })
        .collect();
    let totals = model_totals(&rows);
    assert_eq!(totals.len(), MAX_MODEL_TOTALS);
    let other = totals.iter().find(|t| t.model == "(other)").unwrap();
    // The 11 least billed: model-000 … model-010.
    assert_eq!(other.provider_tokens, (1_000..1_011).sum::<u64>());
    assert_eq!(other.agent_cost, Some(dec!(0.011)));
    assert!(totals.iter().any(|t| t.model == "model-209"));
    assert!(!totals.iter().any(|t| t.model == "model-010"));
}
