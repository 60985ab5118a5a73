//! The attribution hold: a priced span whose request span (carrying `user.id`) is exported later
//! waits for it, then goes on with the key copied onto it and into the metrics; a span whose
//! ancestor never comes goes on when its wait ends.

mod common;

use common::*;
use genai_cost_agent::enrich::hold::Release;
use genai_cost_agent::metrics::{Instrument, Value};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::time::{Duration, Instant};

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    traces_request(spans)
}

fn llm_span(trace: u8, id: u8, parent: u8) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: vec![parent; 8],
        name: "chat gpt-4o".into(),
        attributes: vec![
            text("gen_ai.request.model", "gpt-4o"),
            int("gen_ai.usage.input_tokens", 1_000_000),
            int("gen_ai.usage.output_tokens", 0),
        ],
        ..Default::default()
    }
}

fn request_span(trace: u8, id: u8, user: &str) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        name: "POST /chat".into(),
        attributes: vec![text("user.id", user)],
        ..Default::default()
    }
}

fn user_cost(agent: &genai_cost_agent::Agent, user: Option<&str>) -> Option<Value> {
    agent
        .metrics()
        .unwrap()
        .snapshot()
        .into_iter()
        .find_map(|(instrument, key, value)| {
            let user_of_series = key
                .iter()
                .find(|(k, _)| k == "user.id")
                .map(|(_, v)| v.as_str());
            (instrument == Instrument::RequestCost && user_of_series == user).then_some(value)
        })
}

/// An agent attributing by `user.id` with the hold on (spans wait up to `max_wait` for their
/// ancestors), exporting to a capture backend; and a client of it.
async fn holding_agent(
    max_wait: &str,
) -> (
    genai_cost_agent::Agent,
    std::sync::Arc<Captured>,
    TraceServiceClient<tonic::transport::Channel>,
) {
    let (backend, captured) = start_capture_backend().await;
    let max_wait = format!("metrics.attribution.hold.max_wait={max_wait}");
    let agent = start_agent(
        backend,
        &[
            "metrics.attribution.keys=[user.id]",
            "metrics.attribution.hold.enabled=true",
            &max_wait,
        ],
    )
    .await;
    let client = TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
        .await
        .unwrap();
    (agent, captured, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_waits_for_its_ancestor_and_gains_its_attribution() {
    let (agent, captured, mut client) = holding_agent("10s").await;

    client
        .export(request(vec![llm_span(1, 2, 1)]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        captured.span_count(),
        0,
        "the priced span waits for its request span"
    );

    let sent_parent = Instant::now();
    client
        .export(request(vec![request_span(1, 1, "u7")]))
        .await
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || captured.span_count() == 2).await);
    assert!(
        sent_parent.elapsed() < Duration::from_secs(2),
        "released as soon as the ancestor arrived"
    );
    let spans = captured.spans();
    let llm = spans
        .iter()
        .find(|span| span.name == "chat gpt-4o")
        .unwrap();
    assert_eq!(
        attribute(&llm.attributes, "user.id"),
        Some(&any_value::Value::StringValue("u7".into()))
    );
    // 1,000,000 × 2.50 / 1M = 2.5
    assert_eq!(
        attribute(&llm.attributes, "gen_ai.usage.cost.amount"),
        Some(&any_value::Value::DoubleValue(2.5))
    );
    let Some(Value::Histogram { count, .. }) = user_cost(&agent, Some("u7")) else {
        panic!("no series for u7")
    };
    assert_eq!(count, 1);
    assert_eq!(agent.counters().released_total(Release::Resolved), 1);
    assert!(
        wait_until(Duration::from_secs(5), || agent
            .counters()
            .sent_total(genai_cost_agent::otlp::Signal::Traces)
            == 2)
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        agent
            .counters()
            .sent_total(genai_cost_agent::otlp::Signal::Traces),
        2,
        "the held span counts once"
    );
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_whose_ancestor_never_comes_goes_on_when_its_wait_ends() {
    let (agent, captured, mut client) = holding_agent("500ms").await;
    let sent = Instant::now();
    client
        .export(request(vec![llm_span(3, 2, 1)]))
        .await
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || captured.span_count() == 1).await);
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(2),
        "waited {waited:?}"
    );
    assert_eq!(attribute(&captured.spans()[0].attributes, "user.id"), None);
    assert!(user_cost(&agent, None).is_some(), "counted without a user");
    assert_eq!(agent.counters().released_total(Release::Timeout), 1);
    assert!(agent.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_spans_are_sent_at_shutdown() {
    let (agent, captured, mut client) = holding_agent("60s").await;
    client
        .export(request(vec![llm_span(4, 2, 1)]))
        .await
        .unwrap();
    drop(client);
    assert!(agent.shutdown().await);
    assert_eq!(captured.span_count(), 1);
}
