//! The agent's prices against the field's: genai-prices from PyPI (`Decimal` arithmetic) prices
//! calls of every text model of nine providers (`tests/python/genai_prices_cases.py`: plain,
//! cache reads, 5-minute and 1-hour writes, web searches, batch, around each prompt-size tier,
//! at each date the prices change and, for prices by the hour, several times of day; and calls
//! through Azure's fallback lists, API hosts, LiteLLM names and compact dates), and the
//! agent's catalog must agree to the last digit — except for the few deliberate differences
//! listed below, each with its reason and source, which must still differ (so the list stays
//! true).
//!
//! Needs `genai-prices==0.2.3` (tests/python/requirements.txt; set `PYTHON` to use another
//! interpreter).

use genai_cost_agent::config::ConfigDate;
use genai_cost_agent::pricing::{cost_of, BatchPrice, Catalog, MatchKind, PriceTime};
use genai_cost_agent::usage::TokenUsage;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::str::FromStr;

/// Calls the agent prices differently on purpose: `(provider, model prefix, case prefix,
/// reason)`. Besides these, a batch call priced by one of the agent's own entries may pay the
/// provider's batch discount where genai-prices has no batch price at that date, provided the
/// same call without batch agrees (see [`BATCH_REASON`]).
const DELIBERATE: &[(&str, &str, &str, &str)] = &[
    (
        "aws",
        "global.anthropic.claude-",
        "web_searches",
        WEB_SEARCH_REASON,
    ),
    ("google", "claude-", "web_searches", WEB_SEARCH_REASON),
    (
        "aws",
        "global.anthropic.claude-sonnet-4-20250514",
        "cache_write_1h",
        ONE_HOUR_REASON,
    ),
    ("google", "claude-", "cache_write_1h", ONE_HOUR_REASON),
];

const WEB_SEARCH_REASON: &str = "the agent prices an Anthropic model's web searches \
    (server_tool_use.web_search_requests) at Anthropic's $10 per 1,000 wherever the call reports \
    them; genai-prices' Bedrock and Vertex entries list no search fee \
    (https://platform.claude.com/docs/en/about-claude/pricing)";
const ONE_HOUR_REASON: &str = "the agent prices 1-hour cache writes at Anthropic's 1-hour rate \
    (2x input) wherever the model is served; these genai-prices Bedrock and Vertex entries have \
    no 1-hour price and charge them at the 5-minute rate \
    (https://platform.claude.com/docs/en/build-with-claude/prompt-caching#pricing)";
const BATCH_REASON: &str = "Anthropic's Message Batches, OpenAI's Batch API (on Azure too) and \
    Gemini's batch mode have been half price since before these dates; genai-prices records batch \
    prices only from the date it added them (2026-10), none for retired models, and none through a \
    fallback provider (https://platform.claude.com/docs/en/build-with-claude/batch-processing#pricing)";

/// The model and provider as a span names them (the provider as instrumentations write it,
/// or the host the call was sent to).
#[derive(serde::Deserialize)]
struct Query {
    model: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    server_address: Option<String>,
}

#[derive(serde::Deserialize)]
struct Case {
    /// genai-prices' provider and model the call was generated for.
    provider: String,
    model: String,
    case: String,
    query: Query,
    at: String,
    batch: bool,
    usage: BTreeMap<String, u64>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    priced_as: Option<String>,
    #[serde(default)]
    input_price: Option<String>,
    #[serde(default)]
    output_price: Option<String>,
    #[serde(default)]
    total_price: Option<String>,
}

fn cases() -> Vec<Case> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/genai_prices_cases.py"
    );
    let output = Command::new(python)
        .arg(script)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "genai_prices_cases.py failed (is genai-prices==0.2.3 installed?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&output.stderr).trim());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn price_time(text: &str) -> PriceTime {
    let (date, clock) = text.trim_end_matches('Z').split_once('T').unwrap();
    let seconds: Vec<u32> = clock.split(':').map(|part| part.parse().unwrap()).collect();
    PriceTime {
        date: ConfigDate::parse(date).unwrap(),
        second_of_day: seconds[0] * 3600 + seconds[1] * 60 + seconds[2],
    }
}

/// genai-prices' usage (input inclusive of cache reads and writes; 1-hour writes within all
/// writes) as the agent reads it.
fn usage(given: &BTreeMap<String, u64>) -> TokenUsage {
    let count = |key: &str| given.get(key).copied().unwrap_or(0);
    TokenUsage {
        input: count("input_tokens"),
        output: count("output_tokens"),
        cache_read: count("cache_read_tokens"),
        cache_write_5m: count("cache_write_tokens") - count("cache_write_1h_tokens"),
        cache_write_1h: count("cache_write_1h_tokens"),
        reasoning: 0,
        web_searches: count("web_searches"),
    }
}

/// The deliberate difference that covers `case`, if one does.
fn deliberate(case: &Case) -> Option<&'static str> {
    DELIBERATE
        .iter()
        .find(|(provider, model, cases, _)| {
            *provider == case.provider
                && case.model.starts_with(model)
                && case.case.starts_with(cases)
        })
        .map(|(.., reason)| *reason)
}

/// What identifies a call apart from the batch flag.
fn call_key(case: &Case) -> (String, String, String, String) {
    (
        case.provider.clone(),
        case.model.clone(),
        case.case.clone(),
        case.at.clone(),
    )
}

#[test]
fn the_agent_prices_every_call_as_genai_prices_does() {
    let catalog = Catalog::build(&Default::default()).unwrap();
    let decimal = |text: &Option<String>| Decimal::from_str(text.as_deref().unwrap()).unwrap();
    let (mut compared, mut not_priced_by_peer) = (0, 0);
    let mut models = BTreeSet::new();
    let mut differing: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut deliberate_seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut agreed_without_batch = BTreeSet::new();
    for case in cases() {
        if case.error.is_some() {
            not_priced_by_peer += 1;
            continue;
        }
        let query = &case.query;
        let found = catalog.lookup(
            &query.model,
            query.provider.as_deref(),
            query.server_address.as_deref(),
        );
        let Some(found) = found else {
            differing
                .entry((case.provider.clone(), case.model.clone()))
                .or_default()
                .push(format!("{}: not priced by the agent", case.case));
            continue;
        };
        let usage = usage(&case.usage);
        let at = price_time(&case.at);
        let cost = cost_of(&usage, &catalog.apply(&found, at, usage.input, case.batch));
        let ours = (
            cost.input + cost.cache_read + cost.cache_creation,
            cost.output,
            cost.total,
        );
        let theirs = (
            decimal(&case.input_price),
            decimal(&case.output_price),
            decimal(&case.total_price),
        );
        compared += 1;
        models.insert((case.provider.clone(), case.model.clone()));
        // genai-prices names the provider chosen (Azure, for OpenAI's model on its fallback
        // list) and the model; the agent's entry is the listing provider's.
        let same_entry = match &found.kind {
            MatchKind::Shared(shared) => {
                let chosen = &catalog.shared_prices().unwrap().providers[shared.provider].id;
                let (_, model) = found.entry.id.split_once('/').unwrap();
                case.priced_as.as_deref() == Some(format!("{chosen}/{model}").as_str())
            }
            _ => true,
        };
        if ours == theirs && same_entry {
            if !case.batch {
                agreed_without_batch.insert(call_key(&case));
            }
            continue;
        }
        let own_batch_discount = case.batch
            && !matches!(found.kind, MatchKind::Shared(_))
            && matches!(
                found.entry.version_at(at).batch,
                BatchPrice::Multiplier(multiplier) if multiplier == Decimal::new(5, 1)
            )
            && agreed_without_batch.contains(&call_key(&case));
        let reason = deliberate(&case).or(own_batch_discount.then_some(BATCH_REASON));
        if let Some(reason) = reason {
            *deliberate_seen.entry(reason).or_default() += 1;
            continue;
        }
        differing
            .entry((case.provider.clone(), case.model.clone()))
            .or_default()
            .push(format!(
                "{} at {} batch={}: agent {:?} via {}, genai-prices {:?} via {:?}",
                case.case, case.at, case.batch, ours, found.entry.id, theirs, case.priced_as
            ));
    }
    eprintln!(
        "compared {compared} calls of {} models; {not_priced_by_peer} calls genai-prices could not price by the model's own id",
        models.len(),
    );
    for (reason, calls) in &deliberate_seen {
        eprintln!("{calls} calls differ on purpose: {reason}");
    }
    let report: Vec<String> = differing
        .iter()
        .map(|((provider, model), lines)| {
            format!(
                "{provider}/{model} ({} calls), e.g. {}",
                lines.len(),
                lines[0]
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "{} models differ:\n{}",
        differing.len(),
        report.join("\n")
    );
    for reason in [WEB_SEARCH_REASON, ONE_HOUR_REASON, BATCH_REASON] {
        assert!(
            deliberate_seen.contains_key(reason),
            "no longer a difference: {reason}"
        );
    }
}
