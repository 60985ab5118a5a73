//! Current models of eight providers, named as their spans name them (and one known only by the
//! host it was sent to), priced end to end from genai-prices' data (gRPC in, enriched, to a
//! capture backend); a newer catalog file replacing a
//! provider's prices; unknown models counted by name.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
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
    // No provider name, only the host it was sent to (an OpenAI-compatible client).
    let mut by_host = call(98, "", "llama-3.3-70b-versatile");
    by_host
        .attributes
        .retain(|kv| kv.key != "gen_ai.provider.name");
    by_host
        .attributes
        .push(text("server.address", "api.groq.com"));
    by_host.name = "8 by host".into();
    spans.push(by_host);
    spans.push(call(99, "acme", "acme-llm-1"));
    send_traces(&agent, traces_request(spans)).await;
    assert!(wait_until(Duration::from_secs(10), || captured.spans().len() == 10).await);
    let priced = priced(&captured);
    for (index, (provider, model, price_id, total)) in cases.iter().enumerate() {
        let (name, found_id, found_total) = &priced[index];
        assert_eq!(name, &format!("{index} {provider}"));
        assert_eq!(found_id.as_deref(), Some(*price_id), "{provider} {model}");
        assert_eq!(*found_total, Some(*total), "{provider} {model}");
    }
    // Groq's list, found by its API host: 0.59 + 0.79.
    assert_eq!(
        priced[8],
        (
            "8 by host".to_string(),
            Some("groq/llama-3.3-70b-versatile".to_string()),
            Some(1.38)
        )
    );
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
        traces_request(vec![
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

/// A catalog file of one provider, `acme`, whose one model (matching `acme-model`) has the id
/// `id` and costs `input` per million input tokens.
fn acme_catalog(id: &str, input: &str) -> String {
    format!(
        r#"[{{"id":"acme","api_pattern":"https://api\\.acme\\.example","models":[
            {{"id":"{id}","match":{{"equals":"acme-model"}},"prices":{{"input_mtok":{input},"output_mtok":0}}}}]}}]"#
    )
}

/// Request `number` of `spans` calls of `acme-model`, named `NNN SS` (request, span).
fn acme_request(number: u64, spans: u64) -> ExportTraceServiceRequest {
    traces_request(
        (0..spans)
            .map(|index| {
                let mut span = call(number * spans + index + 1, "acme", "acme-model");
                span.name = format!("{number:03} {index:02}");
                span
            })
            .collect(),
    )
}

/// Writes `text` to `path` as a ConfigMap update does: a new file renamed over the old.
fn replace_file(path: &std::path::Path, text: &str) {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, text).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_file_changed_under_load_prices_each_request_by_the_old_or_the_new_catalog() {
    let directory = TempDir::new("catalog-reload");
    let file = directory.0.join("acme.json");
    replace_file(&file, &acme_catalog("model-v1", "1"));
    let (backend, captured) = start_capture_backend().await;
    let files = format!("pricing.catalog_files=[{}]", file.display());
    let agent = start_agent(backend, &[&files, "pricing.reload_interval=50ms"]).await;
    // Requests go on while the file changes, until the reload is in force and at least
    // REQUESTS in all were sent (at most 10 s).
    const REQUESTS: u64 = 60;
    const SPANS: u64 = 20;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut sent = 0;
    let mut number = 0;
    while number < REQUESTS
        || (agent.counters().catalog_reloads_total(true) == 0
            && std::time::Instant::now() < deadline)
    {
        if number == REQUESTS / 2 {
            replace_file(&file, &acme_catalog("model-v2", "2"));
        }
        send_traces(&agent, acme_request(number, SPANS)).await;
        sent += SPANS;
        number += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // One more request after the reload, priced by the new catalog.
    send_traces(&agent, acme_request(number, SPANS)).await;
    sent += SPANS;
    let total = sent as usize;
    assert!(wait_until(Duration::from_secs(10), || captured.spans().len() == total).await);
    let priced = priced(&captured);
    assert_eq!(priced.len() as u64, sent, "every span arrived once");
    // One catalog per request, the old one then the new one, each span's cost that of its id.
    let mut per_request: Vec<&str> = Vec::new();
    for (name, id, cost) in &priced {
        let id = id.as_deref().unwrap_or("unpriced");
        let expected = match id {
            "acme/model-v1" => 1.0,
            "acme/model-v2" => 2.0,
            other => panic!("{name}: priced as {other}"),
        };
        assert_eq!(*cost, Some(expected), "{name}");
        let request: usize = name[..3].parse().unwrap();
        match per_request.get(request) {
            Some(seen) => assert_eq!(*seen, id, "request {request} mixed catalogs"),
            None => per_request.push(id),
        }
    }
    let switch = per_request
        .iter()
        .position(|id| *id == "acme/model-v2")
        .expect("the new catalog came into force");
    assert!(switch >= (REQUESTS / 2) as usize, "{switch}");
    assert!(per_request[switch..]
        .iter()
        .all(|id| *id == "acme/model-v2"));
    assert_eq!(agent.counters().catalog_reloads_total(true), 1);

    // A broken file is refused: the catalog in force stays, the failure is counted.
    replace_file(&file, "[{\"id\":\"acme\"");
    assert!(
        wait_until(Duration::from_secs(5), || agent
            .counters()
            .catalog_reloads_total(false)
            == 1)
        .await
    );
    send_traces(
        &agent,
        traces_request(vec![call(9_999, "acme", "acme-model")]),
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || captured.spans().len()
            == total + 1)
        .await
    );
    let last = captured.spans().last().cloned().unwrap();
    assert_eq!(
        attribute(&last.attributes, "gen_ai.usage.cost.price_id"),
        Some(&Value::StringValue("acme/model-v2".into()))
    );
    assert!(agent
        .counters()
        .render_prometheus()
        .contains("genai_cost_agent_catalog_reloads_total{result=\"failed\"} 1\n"));
}
