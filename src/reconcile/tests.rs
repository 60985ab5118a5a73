use super::*;
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
        usage: Usage {
            input,
            output,
            cache_read,
            cache_creation: 0,
            cost,
        },
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
