use super::*;
use crate::metrics::CallSpan;
use crate::pricing::CostBreakdown;
use crate::usage::TokenUsage;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const MINUTE: u64 = 29_942_520; // 2026-12-06T10:00Z

fn page(top_calls: usize, values: usize) -> LivePage {
    LivePage::new(
        &PageConfig {
            enabled: true,
            trace_url: "http://jaeger:16686/trace/{trace_id}".into(),
            top_calls,
            max_values: values,
        },
        &["team".to_string()],
        Arc::new(AgentCounters::default()),
    )
}

/// A priced call of `model` by `team`: `input` tokens of which `read` from the cache,
/// `output` tokens, costing `cost` and saving `savings`.
fn call(
    model: &str,
    team: &str,
    tokens: (u64, u64, u64),
    cost: Decimal,
    savings: Decimal,
) -> CallRecord {
    let (input, output, read) = tokens;
    CallRecord {
        span: CallSpan {
            trace_id: [7; 16],
            span_id: [cost.mantissa() as u8; 8],
            ..CallSpan::default()
        },
        dimensions: vec![
            ("gen_ai.provider.name".into(), "anthropic".into()),
            ("gen_ai.response.model".into(), model.into()),
            ("service.name".into(), "chat-app".into()),
            ("team".into(), team.into()),
        ],
        usage: Some(TokenUsage {
            input,
            output,
            cache_read: read,
            ..TokenUsage::default()
        }),
        cost: Some(CostBreakdown {
            total: cost,
            savings,
            ..CostBreakdown::default()
        }),
        price_id: Some(format!("{model}@2026-01-01")),
        ..CallRecord::default()
    }
}

fn refused(error_type: &str) -> CallRecord {
    CallRecord {
        span: CallSpan {
            failed: true,
            ..CallSpan::default()
        },
        dimensions: vec![
            ("gen_ai.request.model".into(), "claude-sonnet-4-5".into()),
            ("error.type".into(), error_type.into()),
            ("service.name".into(), "chat-app".into()),
        ],
        ..CallRecord::default()
    }
}

fn unknown_model() -> CallRecord {
    CallRecord {
        dimensions: vec![
            ("gen_ai.request.model".into(), "acme-llm-1".into()),
            ("service.name".into(), "chat-app".into()),
        ],
        usage: Some(TokenUsage {
            input: 900,
            output: 90,
            ..TokenUsage::default()
        }),
        unpriced: Some(UnpricedReason::UnknownModel),
        ..CallRecord::default()
    }
}

/// Three priced calls, a 429 and an unknown model, in two minutes:
///   Sonnet, search: input 20,000 (15,000 read), output 800; 0.0315, saved 0.0405
///   Haiku, search: input 4,000, output 500; 0.0065
///   Sonnet, ads: input 10,000 (8,000 read), output 1,000; 0.0234, saved 0.0216
/// Cost 0.0614 over 3 priced calls (average 0.0204666667; p95 the most expensive, 0.0315);
/// input 34,900 and output 2,390 with the unknown model's; cache reads 23,000; 5 calls, 1 failed.
fn record_known(page: &LivePage) {
    page.record_at(
        &[
            call(
                "claude-sonnet-4-5",
                "search",
                (20_000, 800, 15_000),
                dec!(0.0315),
                dec!(0.0405),
            ),
            call(
                "claude-haiku-4-5",
                "search",
                (4_000, 500, 0),
                dec!(0.0065),
                dec!(0),
            ),
        ],
        "USD",
        MINUTE,
    );
    page.record_at(
        &[
            call(
                "claude-sonnet-4-5",
                "ads",
                (10_000, 1_000, 8_000),
                dec!(0.0234),
                dec!(0.0216),
            ),
            refused("429"),
            unknown_model(),
        ],
        "USD",
        MINUTE + 1,
    );
}

/// Value, calls and cost of each row of the summary's spend by `dimension`.
fn spend_by<'a>(summary: &'a Summary, dimension: &str) -> Vec<(&'a str, u64, Decimal)> {
    let breakdown = summary
        .spend
        .iter()
        .find(|breakdown| breakdown.dimension == dimension)
        .unwrap();
    breakdown
        .values
        .iter()
        .map(|share| (share.value.as_str(), share.calls, share.cost))
        .collect()
}

#[test]
fn the_figures_of_known_calls_are_exact() {
    let page = page(20, 50);
    record_known(&page);
    let summary = page.summary_at(Window::Minutes15, MINUTE + 2);
    let figures = &summary.figures;
    assert_eq!((figures.calls, figures.priced_calls), (5, 3));
    assert_eq!(figures.cost, dec!(0.0614));
    assert_eq!(figures.cost_per_call_average, dec!(0.0204666667));
    assert_eq!(figures.cost_per_call_p95, dec!(0.0315));
    // the priced calls' (34,000 + 2,300) tokens / 0.0614
    assert_eq!(figures.tokens_per_unit, dec!(591205.2117263844));
    assert_eq!(figures.cache_hit_rate, dec!(0.6590257880));
    assert_eq!(figures.cache_savings, dec!(0.0621));
    assert_eq!(figures.output_input_ratio, dec!(0.0684813754));
    assert_eq!(
        (
            figures.failed_calls,
            figures.error_rate,
            figures.throttled_calls
        ),
        (1, dec!(0.2), 1)
    );
    assert_eq!(summary.series.len(), 2);
    assert_eq!(summary.series[0].time, "2026-12-06T10:00:00.000000000Z");
    assert_eq!(summary.series[0].cost, dec!(0.038));
    let teams = spend_by(&summary, "team");
    assert_eq!(
        teams,
        [
            ("search", 2, dec!(0.038)),
            ("ads", 1, dec!(0.0234)),
            ("", 2, dec!(0))
        ]
    );
    let tops: Vec<Decimal> = summary
        .top_calls
        .iter()
        .map(|top| top.call.cost.unwrap().total)
        .collect();
    assert_eq!(tops, [dec!(0.0315), dec!(0.0234), dec!(0.0065)]);
    assert_eq!(summary.top_calls[0].share, dec!(0.5130293160));
    // The top 5% of 3 calls is the most expensive one.
    assert_eq!(
        (summary.pareto.calls, summary.pareto.share),
        (1, dec!(0.5130293160))
    );
    assert_eq!(summary.unpriced.len(), 1);
    assert_eq!(
        (
            summary.unpriced[0].reason.as_str(),
            summary.unpriced[0].model.as_str(),
            summary.unpriced[0].calls
        ),
        ("unknown_model", "acme-llm-1", 1)
    );
    assert_eq!(summary.trace_url, "http://jaeger:16686/trace/{trace_id}");
}

#[test]
fn windows_take_only_their_minutes_and_old_minutes_live_on_in_quarters() {
    let page = page(20, 50);
    record_known(&page);
    // 20 minutes later the 15-minute window is empty, the hour still has everything.
    assert_eq!(
        page.summary_at(Window::Minutes15, MINUTE + 20)
            .figures
            .calls,
        0
    );
    assert_eq!(page.summary_at(Window::Hour, MINUTE + 20).figures.calls, 5);
    // Two hours later the minutes went into their quarter: only the day window has them.
    let later = MINUTE + 120;
    assert_eq!(page.summary_at(Window::Hour, later).figures.calls, 0);
    let day = page.summary_at(Window::Day, later);
    assert_eq!((day.figures.calls, day.figures.cost), (5, dec!(0.0614)));
    assert_eq!(day.series.len(), 1, "one quarter");
    assert_eq!(day.series[0].minutes, 15);
    assert_eq!(day.top_calls.len(), 3);
    // The day window still has them in its last minute; their quarter goes once all of it
    // is older than a day.
    assert_eq!(page.summary_at(Window::Day, MINUTE + 1439).figures.calls, 5);
    assert_eq!(page.summary_at(Window::Day, MINUTE + 1454).figures.calls, 0);
}

#[test]
fn values_beyond_the_bound_are_summed_under_other_and_the_top_is_bounded() {
    let page = page(2, 2);
    let calls: Vec<CallRecord> = (1..=5)
        .map(|n| {
            call(
                "claude-haiku-4-5",
                &format!("team-{n}"),
                (1_000, 10, 0),
                Decimal::new(n, 3),
                dec!(0),
            )
        })
        .collect();
    page.record_at(&calls, "USD", MINUTE);
    let summary = page.summary_at(Window::Minutes15, MINUTE);
    let teams = spend_by(&summary, "team");
    assert_eq!(
        teams,
        [
            (OTHER, 3, dec!(0.012)),
            ("team-2", 1, dec!(0.002)),
            ("team-1", 1, dec!(0.001))
        ]
    );
    let tops: Vec<Decimal> = summary
        .top_calls
        .iter()
        .map(|top| top.call.cost.unwrap().total)
        .collect();
    assert_eq!(tops, [dec!(0.005), dec!(0.004)]);
    assert_eq!(summary.figures.cost, dec!(0.015), "every call is counted");
}
