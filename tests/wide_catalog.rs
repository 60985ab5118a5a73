//! Current models of eight providers, named as their spans name them, priced end to end from
//! genai-prices' data (gRPC in, enriched, to a capture backend); a newer catalog file replacing a
//! provider's prices; unknown models counted by name.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::time::Duration;

/// 2026-11-01T12:00:00Z in Unix nanoseconds.
const NOON_2026_11_01: u64 = 1_793_534_400_000_000_000;

/// A chat span of `model` from `provider` with a million input and a million output tokens.
fn call(number: u64, provider: &str, model: &str) -> Span {
    Span {
        trace_id: number.to_be_bytes().repeat(2),
        span_id: number.to_be_bytes().to_vec(),
        name: format!("chat {model}"),
        start_time_unix_nano: NOON_2026_11_01,
        end_time_unix_nano: NOON_2026_11_01 + 1_000_000_000,
        attributes: vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", provider),
            text("gen_ai.request.model", model),
            int("gen_ai.usage.input_tokens", 1_000_000),
            int("gen_ai.usage.output_tokens", 1_000_000),
        ],
        ..Default::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The price id and total cost the agent wrote on each captured span, by span name.
fn priced(captured: &Captured) -> Vec<(String, Option<String>, Option<f64>)> {
    let mut spans: Vec<_> = captured
        .spans()
        .iter()
        .map(|span| {
            let price_id = match attribute(&span.attributes, "gen_ai.usage.cost.price_id") {
                Some(Value::StringValue(id)) => Some(id.clone()),
                _ => None,
            };
            let total = match attribute(&span.attributes, "gen_ai.usage.cost.amount") {
                Some(Value::DoubleValue(total)) => Some(*total),
                _ => None,
            };
            (span.name.clone(), price_id, total)
        })
        .collect();
    spans.sort_by(|a, b| a.0.cmp(&b.0));
    spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_model_of_each_provider_is_priced_from_genai_prices_data() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    // (provider as the span names it, model, price id, input + output price per million)
    let cases = [
        (
            "anthropic",
            "claude-opus-5",
            "anthropic/claude-opus-5@2026-10-14",
            30.0,
        ), // 5 + 25
        ("openai", "gpt-5.2", "openai/gpt-5.2@2026-10-14", 15.75), // 1.75 + 14
        // Above 200,000 input tokens: 4 + 18.
        (
            "gcp.gemini",
            "gemini-3-pro-preview",
            "google/gemini-3-pro-preview@2026-01-05+above_200000",
            22.0,
        ),
        (
            "aws.bedrock",
            "us.amazon.nova-pro-v1:0",
            "aws/amazon.nova-pro-v1:0",
            4.0,
        ), // 0.8 + 3.2
        // Azure serves OpenAI's model through its fallback list: 1.75 + 14.
        (
            "azure.ai.openai",
            "gpt-5.2",
            "openai/gpt-5.2@2026-10-14",
            15.75,
        ),
        (
            "mistral_ai",
            "mistral-large-latest",
            "mistral/mistral-large",
            8.0,
        ), // 2 + 6
        // Noon UTC is in DeepSeek's 00:30–16:30 window: 0.27 + 1.1.
        (
            "deepseek",
            "deepseek-chat",
            "deepseek/deepseek-chat@00:30-16:30Z",
            1.37,
        ),
        ("x_ai", "grok-4", "x-ai/grok-4-0709", 18.0), // 3 + 15
    ];
    let mut spans: Vec<Span> = cases
        .iter()
        .enumerate()
        .map(|(index, (provider, model, ..))| {
            let mut span = call(index as u64 + 1, provider, model);
            span.name = format!("{index} {provider}");
            span
        })
        .collect();
    spans.push(call(99, "acme", "acme-llm-1"));
    send_traces(&agent, request(spans)).await;
    assert!(wait_until(Duration::from_secs(10), || captured.spans().len() == 9).await);
    let priced = priced(&captured);
    for (index, (provider, model, price_id, total)) in cases.iter().enumerate() {
        let (name, found_id, found_total) = &priced[index];
        assert_eq!(name, &format!("{index} {provider}"));
        assert_eq!(found_id.as_deref(), Some(*price_id), "{provider} {model}");
        assert_eq!(*found_total, Some(*total), "{provider} {model}");
    }
    let counters = agent.counters();
    assert_eq!(
        counters.unpriced_model_total(
            genai_cost_agent::pricing::UnpricedReason::UnknownModel,
            "acme-llm-1"
        ),
        1
    );
    assert!(counters.render_prometheus().contains(
        "genai_cost_agent_spans_unpriced_by_model_total{reason=\"unknown_model\",model=\"acme-llm-1\"} 1\n"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_file_replaces_a_providers_prices_and_says_so() {
    let directory = TempDir::new("wide-catalog");
    let file = directory.0.join("mistral.json");
    std::fs::write(
        &file,
        r#"[{"id":"mistral","api_pattern":"https://api\\.mistral\\.ai","provider_match":{"starts_with":"mistral"},
            "models":[{"id":"mistral-large","match":{"starts_with":"mistral-large"},
                       "prices":{"input_mtok":1.5,"output_mtok":4.5}}]}]"#,
    )
    .unwrap();
    let (backend, captured) = start_capture_backend().await;
    let setting = format!("pricing.catalog_files=[{}]", file.display());
    let agent = start_agent(backend, &[&setting]).await;
    send_traces(
        &agent,
        request(vec![
            call(1, "mistral_ai", "mistral-large-latest"),
            call(2, "mistral_ai", "mistral-small-latest"),
            call(3, "anthropic", "claude-opus-5"),
        ]),
    )
    .await;
    assert!(wait_until(Duration::from_secs(10), || captured.spans().len() == 3).await);
    let priced = priced(&captured);
    let of = |model: &str| {
        priced
            .iter()
            .find(|(name, ..)| name == &format!("chat {model}"))
            .map(|(_, id, total)| (id.clone(), *total))
            .unwrap()
    };
    // The file's price; a model the file does not list is no longer known; other providers
    // keep the snapshot's prices.
    assert_eq!(
        of("mistral-large-latest"),
        (Some("mistral/mistral-large".into()), Some(6.0)) // 1.5 + 4.5
    );
    assert_eq!(of("mistral-small-latest"), (None, None));
    assert_eq!(
        of("claude-opus-5"),
        (
            Some("anthropic/claude-opus-5@2026-10-14".into()),
            Some(30.0)
        )
    );
}
