//! Properties of the cost of a call over random token counts and the built-in catalog's models:
//! never negative, the breakdown sums exactly to the total, and the cost never falls when any
//! token count rises.
//!
//! A call is described by its parts: uncached input, cache reads, 5-minute and 1-hour cache
//! writes, output (reasoning inside), web searches. Spans are built from the parts the way
//! instrumentations report them: under the OpenTelemetry convention the input count includes
//! cache reads and writes, so raising a cache count while holding the others raises the input
//! count too (the same tokens cannot be both cached and uncached). The spans go through the
//! public path: `UsageReader::read`, then `Enricher::price`.

#[allow(dead_code)] // shared helpers; this test uses a few
#[path = "../src/test_support.rs"]
mod test_support;

use genai_cost_agent::config::{load_str, ConfigDate};
use genai_cost_agent::enrich::Enricher;
use genai_cost_agent::pricing::{CostBreakdown, Rates};
use genai_cost_agent::usage::{Source, SpanUsage, UsageReader};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::sync::OnceLock;
use test_support::attr;

const DATES: [&str; 5] = [
    "2025-06-01",
    "2026-01-15",
    "2026-03-12",
    "2026-03-13",
    "2026-11-30",
];

const MAX_TOKENS: u64 = 10_000_000;

struct Pricer {
    enricher: Enricher,
    reader: UsageReader,
    /// Id and provider of every built-in entry.
    models: Vec<(String, String)>,
}

fn pricer() -> &'static Pricer {
    static PRICER: OnceLock<Pricer> = OnceLock::new();
    PRICER.get_or_init(|| {
        let loaded = load_str("", &[], |_| None).expect("default configuration");
        let enricher = Enricher::from_config(&loaded.config).expect("enricher");
        let models = enricher
            .catalog()
            .entries()
            .iter()
            .map(|entry| (entry.id.clone(), entry.provider.clone().unwrap_or_default()))
            .collect();
        Pricer {
            reader: UsageReader::from_config(&loaded.config.usage).expect("reader"),
            enricher,
            models,
        }
    })
}

/// The token counts of one call, by part.
#[derive(Debug, Clone, Copy)]
struct Counts {
    uncached: u64,
    cache_read: u64,
    write_5m: u64,
    write_1h: u64,
    output: u64,
    /// Percent of the output that is reasoning.
    reasoning_percent: u64,
    web_searches: u64,
}

impl Counts {
    fn input(&self) -> u64 {
        self.uncached + self.cache_read + self.write_5m + self.write_1h
    }
    fn reasoning(&self) -> u64 {
        self.output * self.reasoning_percent / 100
    }
}

/// How the model is spelled on the span.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    Id,
    ProviderPrefixed,
    /// `us.anthropic.<id>-v1:0` for Anthropic entries (1.1× uplift), the id for others.
    BedrockRegional,
}

#[derive(Debug, Clone)]
struct Call {
    model: usize,
    spelling: Spelling,
    date: &'static str,
    batch: bool,
    counts: Counts,
}

impl Call {
    fn model_name(&self) -> String {
        let (id, provider) = &pricer().models[self.model];
        match self.spelling {
            Spelling::ProviderPrefixed => format!("{provider}/{id}"),
            Spelling::BedrockRegional if provider == "anthropic" => {
                format!("us.anthropic.{id}-v1:0")
            }
            _ => id.clone(),
        }
    }
}

/// How the span reports input.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// The GenAI convention: input includes cache reads and writes.
    Convention,
    /// OpenLIT's Anthropic spans: input is the uncached part only.
    OpenLitUncached,
}

fn int(key: &str, value: u64) -> KeyValue {
    attr(
        key,
        Value::IntValue(i64::try_from(value).expect("count fits i64")),
    )
}

fn span_attributes(call: &Call, reading: Reading) -> Vec<KeyValue> {
    let counts = &call.counts;
    let (_, provider) = &pricer().models[call.model];
    let input = match reading {
        Reading::Convention => counts.input(),
        Reading::OpenLitUncached => counts.uncached,
    };
    vec![
        attr(
            "gen_ai.request.model",
            Value::StringValue(call.model_name()),
        ),
        attr("gen_ai.provider.name", Value::StringValue(provider.clone())),
        attr("gen_ai.request.batch", Value::BoolValue(call.batch)),
        int("gen_ai.usage.input_tokens", input),
        int("gen_ai.usage.output_tokens", counts.output),
        int("gen_ai.usage.reasoning.output_tokens", counts.reasoning()),
        int("gen_ai.usage.cache_read.input_tokens", counts.cache_read),
        int(
            "gen_ai.usage.cache_creation.input_tokens",
            counts.write_5m + counts.write_1h,
        ),
        int(
            "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
            counts.write_1h,
        ),
        int("gen_ai.usage.web_search_requests", counts.web_searches),
    ]
}

/// The call priced through the public path, or why not.
fn price(call: &Call, reading: Reading) -> Result<CostBreakdown, String> {
    let pricer = pricer();
    let attributes = span_attributes(call, reading);
    let openlit = reading == Reading::OpenLitUncached;
    let source = Source {
        scope_name: if openlit {
            "openlit.instrumentation.anthropic"
        } else {
            "props"
        },
        scope_version: "1.0",
        sdk_name: openlit.then_some("openlit"),
    };
    let facts = match pricer.reader.read(&attributes, "chat", &source) {
        SpanUsage::Present(facts) => facts,
        other => return Err(format!("not read as a call: {other:?}")),
    };
    if facts.usage.input != call.counts.input() {
        return Err(format!(
            "input read as {}, the call has {}",
            facts.usage.input,
            call.counts.input()
        ));
    }
    let date = ConfigDate::parse(call.date).expect("date");
    pricer
        .enricher
        .price(&facts, date)
        .map(|priced| priced.cost)
        .map_err(|reason| format!("unpriced: {}", reason.as_str()))
}

fn token_count() -> impl Strategy<Value = u64> {
    // Small, around the 200,000-token tiers, and anything up to 10M.
    prop_oneof![0..=1_000u64, 150_000..=250_000u64, 0..=MAX_TOKENS]
}

fn counts() -> impl Strategy<Value = Counts> {
    (
        token_count(),
        token_count(),
        token_count(),
        token_count(),
        token_count(),
        0..=100u64,
        prop_oneof![Just(0u64), 0..=1_000u64],
    )
        .prop_map(
            |(
                uncached,
                cache_read,
                write_5m,
                write_1h,
                output,
                reasoning_percent,
                web_searches,
            )| {
                Counts {
                    uncached,
                    cache_read,
                    write_5m,
                    write_1h,
                    output,
                    reasoning_percent,
                    web_searches,
                }
            },
        )
}

fn call() -> impl Strategy<Value = Call> {
    (
        0..pricer().models.len(),
        prop_oneof![
            Just(Spelling::Id),
            Just(Spelling::ProviderPrefixed),
            Just(Spelling::BedrockRegional)
        ],
        proptest::sample::select(&DATES[..]),
        any::<bool>(),
        counts(),
    )
        .prop_map(|(model, spelling, date, batch, counts)| Call {
            model,
            spelling,
            date,
            batch,
            counts,
        })
}

/// One part of a call to raise.
#[derive(Debug, Clone, Copy)]
enum Part {
    Uncached,
    CacheRead,
    Write5m,
    Write1h,
    Output,
    WebSearches,
}

fn raised(counts: Counts, part: Part, by: u64) -> Counts {
    let mut counts = counts;
    let count = match part {
        Part::Uncached => &mut counts.uncached,
        Part::CacheRead => &mut counts.cache_read,
        Part::Write5m => &mut counts.write_5m,
        Part::Write1h => &mut counts.write_1h,
        Part::Output => &mut counts.output,
        Part::WebSearches => &mut counts.web_searches,
    };
    *count += by;
    counts
}

fn parts(cost: &CostBreakdown) -> [Decimal; 5] {
    [
        cost.input,
        cost.output,
        cost.cache_read,
        cost.cache_creation,
        cost.tools,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No part and no total is negative; the hit ratio is a ratio.
    #[test]
    fn cost_is_never_negative(call in call()) {
        let cost = price(&call, Reading::Convention).map_err(TestCaseError::fail)?;
        for part in parts(&cost) {
            prop_assert!(part >= Decimal::ZERO, "{cost:?}");
        }
        prop_assert!(cost.total >= Decimal::ZERO);
        prop_assert!(cost.hit_ratio >= Decimal::ZERO && cost.hit_ratio <= Decimal::ONE);
    }

    /// input + output + cache_read + cache_creation + tools == total, exactly.
    #[test]
    fn breakdown_sums_exactly_to_the_total(call in call()) {
        let cost = price(&call, Reading::Convention).map_err(TestCaseError::fail)?;
        let sum: Decimal = parts(&cost).iter().sum();
        prop_assert_eq!(sum, cost.total);
    }

    /// Raising one part, the others held, never lowers the total nor any part of the breakdown
    /// (crossing a tier raises every rate); a token part raises the total strictly (every
    /// built-in rate is positive, checked below).
    #[test]
    fn cost_is_monotonic_in_every_token_count(
        call in call(),
        part in prop_oneof![
            Just(Part::Uncached),
            Just(Part::CacheRead),
            Just(Part::Write5m),
            Just(Part::Write1h),
            Just(Part::Output),
            Just(Part::WebSearches),
        ],
        by in prop_oneof![1..=10u64, 1..=MAX_TOKENS],
    ) {
        let before = price(&call, Reading::Convention).map_err(TestCaseError::fail)?;
        let more = Call { counts: raised(call.counts, part, by), ..call.clone() };
        let after = price(&more, Reading::Convention).map_err(TestCaseError::fail)?;
        for (was, is) in parts(&before).iter().zip(parts(&after)) {
            prop_assert!(is >= *was, "{part:?} +{by}: {before:?} → {after:?}");
        }
        match part {
            Part::WebSearches => prop_assert!(after.total >= before.total),
            _ => prop_assert!(after.total > before.total, "{part:?} +{by}: {before:?} → {after:?}"),
        }
    }

    /// Crossing an entry's input threshold never makes a call cheaper, whatever part of the
    /// input (uncached, read, written) carries it over.
    #[test]
    fn crossing_a_tier_threshold_never_lowers_the_cost(
        call in call(),
        part in prop_oneof![
            Just(Part::Uncached),
            Just(Part::CacheRead),
            Just(Part::Write5m),
            Just(Part::Write1h),
        ],
        by in 1..=1_000u64,
    ) {
        // A tiered entry, exactly at 200,000 input tokens (the threshold of every tier), then
        // one input part raised above it.
        let tiered = tiered_models();
        let mut at = Call { model: tiered[call.model % tiered.len()], ..call };
        at.counts.uncached = 200_000;
        at.counts.cache_read = 0;
        at.counts.write_5m = 0;
        at.counts.write_1h = 0;
        let below = price(&at, Reading::Convention).map_err(TestCaseError::fail)?;
        let over = Call { counts: raised(at.counts, part, by), ..at };
        let above = price(&over, Reading::Convention).map_err(TestCaseError::fail)?;
        prop_assert!(above.total > below.total, "{below:?} → {above:?}");
    }

    /// A cache read never costs more than the same token uncached (every built-in reads at or
    /// below its input rate): moving input tokens into cache reads, the input count held, never
    /// raises the cost, and without cache writes the savings are never negative.
    #[test]
    fn moving_input_into_cache_reads_never_costs_more(call in call(), share in 0..=100u64) {
        let moved_tokens = call.counts.uncached * share / 100;
        let mut moved = call.clone();
        moved.counts.uncached -= moved_tokens;
        moved.counts.cache_read += moved_tokens;
        let before = price(&call, Reading::Convention).map_err(TestCaseError::fail)?;
        let after = price(&moved, Reading::Convention).map_err(TestCaseError::fail)?;
        prop_assert!(after.total <= before.total, "{before:?} → {after:?}");
        prop_assert!(after.savings >= before.savings, "{before:?} → {after:?}");
        let mut no_writes = moved;
        no_writes.counts.write_5m = 0;
        no_writes.counts.write_1h = 0;
        let cost = price(&no_writes, Reading::Convention).map_err(TestCaseError::fail)?;
        prop_assert!(cost.savings >= Decimal::ZERO, "{cost:?}");
    }

    /// Reasoning is inside output: how much of it there is never changes the cost.
    #[test]
    fn reasoning_inside_output_is_not_priced_again(call in call()) {
        let mut none = call.clone();
        none.counts.reasoning_percent = 0;
        let mut all = call;
        all.counts.reasoning_percent = 100;
        prop_assert_eq!(
            price(&none, Reading::Convention).map_err(TestCaseError::fail)?,
            price(&all, Reading::Convention).map_err(TestCaseError::fail)?
        );
    }

    /// An Anthropic call costs the same whether its span counts input with the cache (the
    /// convention) or without (OpenLIT): cache tokens are priced once, never twice or never.
    #[test]
    fn both_input_readings_price_an_anthropic_call_the_same(call in call()) {
        let anthropic: Vec<usize> = (0..pricer().models.len())
            .filter(|index| pricer().models[*index].1 == "anthropic")
            .collect();
        let call = Call {
            model: anthropic[call.model % anthropic.len()],
            spelling: Spelling::Id,
            ..call
        };
        prop_assert_eq!(
            price(&call, Reading::Convention).map_err(TestCaseError::fail)?,
            price(&call, Reading::OpenLitUncached).map_err(TestCaseError::fail)?
        );
    }

    /// A batch call's token costs are the plain call's times the entry's multiplier (0.5 for
    /// every built-in); tool fees are not discounted.
    #[test]
    fn batch_halves_token_costs_only(call in call()) {
        let plain = price(&Call { batch: false, ..call.clone() }, Reading::Convention)
            .map_err(TestCaseError::fail)?;
        let batch = price(&Call { batch: true, ..call }, Reading::Convention)
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(batch.tools, plain.tools);
        prop_assert_eq!(batch.total - batch.tools, (plain.total - plain.tools) / Decimal::TWO);
    }
}

/// Indexes of the entries with a tier in some version.
fn tiered_models() -> Vec<usize> {
    let catalog = pricer().enricher.catalog();
    let entries = catalog.entries();
    (0..entries.len())
        .filter(|index| {
            entries[*index]
                .versions
                .iter()
                .any(|version| !version.tiers.is_empty())
        })
        .collect()
}

fn rates_of(rates: &Rates) -> [Decimal; 5] {
    [
        rates.input,
        rates.output,
        rates.cache_read,
        rates.cache_write_5m,
        rates.cache_write_1h,
    ]
}

/// What monotonicity across tiers rests on, for the listed catalog: every rate is positive and
/// every tier's rates are at least those below it (the base prices, then lower tiers).
#[test]
fn builtin_tiers_only_raise_prices() {
    let mut tiers_seen = 0;
    for entry in pricer().enricher.catalog().entries() {
        for version in &entry.versions {
            let mut below = rates_of(&version.rates);
            assert!(
                below.iter().all(|rate| *rate > Decimal::ZERO),
                "{}: a rate is not positive",
                entry.id
            );
            let mut threshold = 0;
            for tier in &version.tiers {
                assert!(tier.above_input_tokens > threshold, "{}", entry.id);
                threshold = tier.above_input_tokens;
                let rates = rates_of(&tier.rates);
                for (kind, (low, high)) in below.iter().zip(rates).enumerate() {
                    assert!(
                        high >= *low,
                        "{} above {}: rate {kind} falls from {low} to {high}",
                        entry.id,
                        tier.above_input_tokens
                    );
                }
                below = rates;
                tiers_seen += 1;
            }
        }
    }
    // Sonnet 4, Sonnet 4.5, Sonnet 4.6 and Opus 4.6 before 2026-03-13, Gemini 2.5 Pro.
    assert_eq!(tiers_seen, 5);
}
