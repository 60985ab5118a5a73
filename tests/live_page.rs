//! The live cost page in a real browser: known calls go through the agent, Chromium (Debian's
//! `chromium`, driven by playwright-core from `tests/node`) opens the telemetry endpoint's `/`,
//! and the figures, the top calls, the spend by team and the unpriced calls on the page are
//! checked against values worked out by hand; a screenshot goes to `target/live-page.png`.

mod common;

use common::binary::repository_file;
use common::browser::run_browser_script;
use common::*;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span, Status};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// A model-call span of a second ago, in a trace of its own (`number` sets its ids).
fn call(number: u8, attributes: Vec<KeyValue>) -> Span {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    Span {
        trace_id: vec![number; 16],
        span_id: vec![number; 8],
        name: "chat".into(),
        start_time_unix_nano: now - 1_000_000_000,
        end_time_unix_nano: now,
        attributes,
        ..Default::default()
    }
}

/// The known calls (prices: Sonnet 4.6 3 / 15 / 0.30 / 3.75; Haiku 4.5 1 / 5; GPT-4o mini
/// 0.15 / 0.60, cached 0.075):
///   1 Sonnet 4.6, search/qa: input 23,000 (8,000 read, 10,000 written), output 1,500: 0.0774,
///     saves 0.0141
///   2 Haiku 4.5, search/summarize: input 4,000, output 500: 0.004 + 0.0025 = 0.0065
///   3 GPT-4o mini, ads/qa: input 4,000 (2,000 cached), output 500: 0.0003 + 0.00015 + 0.0003
///     = 0.00075, saves 0.0006 − 0.0003 − 0.00015 = 0.00015
///   4 Sonnet 4.6 refused with 429: no usage
///   5 acme-llm-1: input 900, output 90, unpriced
fn known_calls() -> Vec<Span> {
    let usage = |model: &str, input: i64, output: i64| {
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.request.model", model),
            int("gen_ai.usage.input_tokens", input),
            int("gen_ai.usage.output_tokens", output),
        ]
    };
    let with = |mut attributes: Vec<KeyValue>, more: Vec<KeyValue>| {
        attributes.extend(more);
        attributes
    };
    let mut refused = call(
        4,
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.provider.name", "anthropic"),
            text("gen_ai.request.model", "claude-sonnet-4-6"),
            text("error.type", "429"),
            text("team", "ads"),
        ],
    );
    refused.status = Some(Status {
        code: StatusCode::Error as i32,
        message: "rate limited".into(),
    });
    vec![
        call(
            1,
            with(
                usage("claude-sonnet-4-6", 23_000, 1_500),
                vec![
                    text("gen_ai.provider.name", "anthropic"),
                    int("gen_ai.usage.cache_read.input_tokens", 8_000),
                    int("gen_ai.usage.cache_creation.input_tokens", 10_000),
                    text("team", "search"),
                    text("feature", "qa"),
                ],
            ),
        ),
        call(
            2,
            with(
                usage("claude-haiku-4-5", 4_000, 500),
                vec![
                    text("gen_ai.provider.name", "anthropic"),
                    text("team", "search"),
                    text("feature", "summarize"),
                ],
            ),
        ),
        call(
            3,
            with(
                usage("gpt-4o-mini", 4_000, 500),
                vec![
                    text("gen_ai.provider.name", "openai"),
                    int("gen_ai.usage.cache_read.input_tokens", 2_000),
                    text("team", "ads"),
                    text("feature", "qa"),
                ],
            ),
        ),
        refused,
        call(5, usage("acme-llm-1", 900, 90)),
    ]
}

/// Runs the browser script against `url`; what it read off the page.
fn read_page(url: &str) -> Json {
    let screenshot = repository_file("target/live-page.png");
    run_browser_script(
        "live_page.mjs",
        &["--url", url, "--screenshot", &screenshot],
        "PAGE",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_page_shows_the_figures_of_known_calls_in_a_real_browser() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &[
            "service.telemetry.page.enabled=true",
            "service.telemetry.page.trace_url=http://jaeger.example:16686/trace/{trace_id}",
            "metrics.attribution.keys=[team, feature]",
        ],
    )
    .await;
    let mut request = traces_request(known_calls());
    request.resource_spans[0].resource = Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                        "chat-app".into(),
                    ),
                ),
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    send_traces(&agent, request).await;
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 5).await);

    let url = format!("http://{}/", agent.telemetry_address());
    let page = tokio::task::spawn_blocking(move || read_page(&url))
        .await
        .unwrap();
    // Cost 0.08465 over 3 priced calls of 5; input 31,900 and output 2,590 tokens (the unknown
    // model's too), cache reads 10,000; one failed (429) call.
    assert_eq!(
        page["figures"],
        json!({
            "cost": "0.08465 USD",
            "calls": "5 (3)",
            "cost-average": "0.0282166667 USD",  // 0.08465 / 3
            "cost-p95": "0.0774 USD",            // the highest of 3 (nearest rank)
            "tokens-per-unit": "395,747",        // priced calls' 33,500 tokens / 0.08465
            "cache-hit-rate": "31.3%",           // 10,000 / 31,900
            "cache-savings": "0.01425 USD",      // 0.0141 + 0.00015
            "output-input": "0.081",             // 2,590 / 31,900
            "failed": "1 · 20.0%",
            "failed-cost": "0 USD",
            "throttled": "1",
            "pareto": "The top 5% of priced calls (1) cost 91.4% of all.", // 0.0774 / 0.08465
            "duplicates": "0",
        })
    );
    let top_calls = page["topCalls"].as_array().unwrap();
    assert_eq!(top_calls.len(), 4, "the header and three priced calls");
    let first: Vec<&str> = top_calls[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell.as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        [
            "0.0774",
            "91.4%",
            "claude-sonnet-4-6",
            "chat-app",
            "23000",
            "1500",
            "8000",
            "10000",
            "input 0.015 · output 0.0225 · cache read 0.0024 · cache write 0.0375",
            "claude-sonnet-4-6@2026-03-13",
            "feature=qa team=search",
            "01010101010101010101010101010101"
        ]
    );
    assert_eq!(
        page["traceLink"],
        "http://jaeger.example:16686/trace/01010101010101010101010101010101"
    );
    assert_eq!(
        page["spendByTeam"],
        json!([
            ["team", "calls", "of calls", "cost", "of cost"],
            ["search", "2", "40.0%", "0.0839", "99.1%"],
            ["ads", "2", "40.0%", "0.00075", "0.9%"],
            ["(none)", "1", "20.0%", "0", "0.0%"],
        ])
    );
    // Two clicks on the cost column: the least first.
    assert_eq!(
        page["spendByTeamByCost"],
        json!([
            ["team", "calls", "of calls", "cost", "of cost"],
            ["(none)", "1", "20.0%", "0", "0.0%"],
            ["ads", "2", "40.0%", "0.00075", "0.9%"],
            ["search", "2", "40.0%", "0.0839", "99.1%"],
        ])
    );
    assert_eq!(
        page["unpriced"],
        json!([
            ["reason", "model", "calls"],
            ["unknown_model", "acme-llm-1", "1"]
        ])
    );
    assert_eq!(page["dayCost"], "0.08465 USD");
    assert_eq!(
        page["elsewhere"],
        json!([]),
        "the page loads nothing from elsewhere"
    );
    assert!(agent.shutdown().await);
}
