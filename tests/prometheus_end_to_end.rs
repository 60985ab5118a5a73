//! Derived metrics end to end with a real Prometheus (Debian's `prometheus`, started here on
//! 127.0.0.1 with a one-second scrape interval): spans go in over OTLP, Prometheus scrapes the
//! agent, and every reference query of the README answers with the number worked out by hand.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    status::StatusCode, ResourceSpans, ScopeSpans, Span, Status,
};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const START: u64 = 1_780_000_000_000_000_000; // 2026-05-28

fn span(id: u8, parent: u8, tenths: u64, failed: bool, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![if parent == 0 { id } else { parent }; 16],
        span_id: vec![id; 8],
        parent_span_id: parent_id(parent),
        name: format!("span {id}"),
        start_time_unix_nano: START,
        end_time_unix_nano: START + tenths * 100_000_000,
        status: failed.then(|| Status {
            code: StatusCode::Error as i32,
            message: String::new(),
        }),
        attributes,
        ..Default::default()
    }
}

fn call(model: &str, extra: Vec<KeyValue>) -> Vec<KeyValue> {
    let provider = if model.starts_with("claude") {
        "anthropic"
    } else {
        "openai"
    };
    let mut attributes = vec![
        text("gen_ai.operation.name", "chat"),
        text("gen_ai.provider.name", provider),
        text("gen_ai.request.model", model),
    ];
    attributes.extend(extra);
    attributes
}

/// Four model calls:
/// - Sonnet 4.6, the worked example (0.0774), 2 s, attribution on its parent request span (u1/search/chat);
/// - GPT-4o, 1,000 input of which 400 cached, 200 output: 0.0015 + 0.0005 + 0.002 = 0.004, 0.5 s (u2/ads/summarize on the span);
/// - GPT-4o mini that failed mid-stream after 10,000 input tokens: 10,000 × 0.15 / 1M = 0.0015, error.type timeout;
/// - GPT-4o throttled (429), no usage, 0.1 s.
fn spans() -> Vec<Span> {
    let u2 = || {
        vec![
            text("user.id", "u2"),
            text("team", "ads"),
            text("feature", "summarize"),
        ]
    };
    vec![
        span(
            1,
            0,
            30,
            false,
            vec![
                text("user.id", "u1"),
                text("team", "search"),
                text("feature", "chat"),
            ],
        ),
        span(
            11,
            1,
            20,
            false,
            call(
                "claude-sonnet-4-6",
                vec![
                    int("gen_ai.usage.input_tokens", 23_000),
                    int("gen_ai.usage.output_tokens", 1_500),
                    int("gen_ai.usage.cache_read.input_tokens", 8_000),
                    int("gen_ai.usage.cache_creation.input_tokens", 10_000),
                ],
            ),
        ),
        span(
            2,
            0,
            5,
            false,
            call(
                "gpt-4o",
                [
                    vec![
                        int("gen_ai.usage.input_tokens", 1_000),
                        int("gen_ai.usage.output_tokens", 200),
                        int("gen_ai.usage.cache_read.input_tokens", 400),
                    ],
                    u2(),
                ]
                .concat(),
            ),
        ),
        span(
            3,
            0,
            40,
            true,
            call(
                "gpt-4o-mini",
                [
                    vec![
                        int("gen_ai.usage.input_tokens", 10_000),
                        int("gen_ai.usage.output_tokens", 0),
                        text("error.type", "timeout"),
                    ],
                    u2(),
                ]
                .concat(),
            ),
        ),
        span(
            4,
            0,
            1,
            true,
            call("gpt-4o", [vec![text("error.type", "429")], u2()].concat()),
        ),
    ]
}

struct Prometheus {
    child: Child,
    address: String,
    directory: std::path::PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(target: &str) -> Prometheus {
    let directory = std::env::temp_dir().join(format!(
        "genai-cost-agent-prometheus-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&directory).unwrap();
    let config = directory.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: genai-cost-agent\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", directory.join("data").display()))
        .arg(format!("--web.listen-address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the `prometheus` binary (Debian package prometheus) must be installed; .ci/run installs it");
    Prometheus {
        child,
        address,
        directory,
    }
}

/// The result of an instant query: (labels, value) per series.
fn query(prometheus: &Prometheus, promql: &str) -> Vec<(serde_json::Value, f64)> {
    let output = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "5",
            "--data-urlencode",
            &format!("query={promql}"),
        ])
        .arg(format!("http://{}/api/v1/query", prometheus.address))
        .output()
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    body["data"]["result"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|item| {
                    (
                        item["metric"].clone(),
                        item["value"][1]
                            .as_str()
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn single(prometheus: &Prometheus, promql: &str) -> f64 {
    let result = query(prometheus, promql);
    assert_eq!(result.len(), 1, "{promql}: {result:?}");
    result[0].1
}

fn by(prometheus: &Prometheus, promql: &str, label: &str) -> Vec<(String, f64)> {
    let mut result: Vec<(String, f64)> = query(prometheus, promql)
        .into_iter()
        .map(|(labels, value)| {
            (
                labels[label].as_str().unwrap_or_default().to_string(),
                value,
            )
        })
        .collect();
    result.sort_by(|a, b| a.0.cmp(&b.0));
    result
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {actual} ≠ {expected}"
    );
}

fn assert_all_close(actual: Vec<(String, f64)>, expected: &[(&str, f64)], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: {actual:?}");
    for ((label, value), (want_label, want)) in actual.iter().zip(expected) {
        assert_eq!(label, want_label, "{what}");
        assert_close(*value, *want, &format!("{what} {label}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_answers_every_reference_query() {
    let (backend, _captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &[
            "metrics.prometheus.enabled=true",
            "metrics.prometheus.endpoint=127.0.0.1:0",
            "metrics.attribution.keys=[user.id, team, feature]",
        ],
    )
    .await;
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "chat-app")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: spans(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut client =
        TraceServiceClient::connect(format!("http://{}", agent.grpc_address().unwrap()))
            .await
            .unwrap();
    client.export(request).await.unwrap();

    let prometheus = start_prometheus(&agent.prometheus_address().unwrap().to_string());
    let scraped = wait_until(Duration::from_secs(30), || {
        !query(&prometheus, "gen_ai_client_request_cost_USD_count").is_empty()
    })
    .await;
    assert!(scraped, "Prometheus did not scrape the agent");

    // 1. Cost per request: (0.0774 + 0.004 + 0.0015) / 3 priced calls.
    assert_close(
        single(
            &prometheus,
            "sum(gen_ai_client_request_cost_USD_sum) / sum(gen_ai_client_request_cost_USD_count)",
        ),
        0.0829 / 3.0,
        "average cost per request",
    );
    // p95: rank 0.95 × 3 = 2.85 falls in (0.05, 0.1] holding the 3rd call: 0.05 + 0.05 × 0.85.
    assert_close(
        single(
            &prometheus,
            "histogram_quantile(0.95, sum by (le) (gen_ai_client_request_cost_USD_bucket))",
        ),
        0.0925,
        "p95 cost per request",
    );
    // 2. Tokens per dollar: (24,500 + 1,200 + 10,000) / 0.0829.
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_token_usage_sum{gen_ai_token_type=~"input|output"}) / sum(gen_ai_client_cost_USD_total)"#,
        ),
        35_700.0 / 0.0829,
        "tokens per dollar",
    );
    // 3. Cache hit rate: (8,000 + 400) / (23,000 + 1,000 + 10,000).
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_token_usage_sum{gen_ai_token_type="cache_read"}) / sum(gen_ai_client_token_usage_sum{gen_ai_token_type="input"})"#,
        ),
        8_400.0 / 34_000.0,
        "cache hit rate",
    );
    // 4. Model mix by requests (every call, failed ones included) and by cost.
    assert_all_close(
        by(
            &prometheus,
            "sum by (gen_ai_request_model) (gen_ai_client_operation_duration_seconds_count)",
            "gen_ai_request_model",
        ),
        &[
            ("claude-sonnet-4-6", 1.0),
            ("gpt-4o", 2.0),
            ("gpt-4o-mini", 1.0),
        ],
        "model mix by requests",
    );
    assert_all_close(
        by(
            &prometheus,
            "sum by (gen_ai_request_model) (gen_ai_client_cost_USD_total)",
            "gen_ai_request_model",
        ),
        &[
            ("claude-sonnet-4-6", 0.0774),
            ("gpt-4o", 0.004),
            ("gpt-4o-mini", 0.0015),
        ],
        "model mix by cost",
    );
    // 5. Output/input ratio: 1,700 / 34,000.
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_token_usage_sum{gen_ai_token_type="output"}) / sum(gen_ai_client_token_usage_sum{gen_ai_token_type="input"})"#,
        ),
        0.05,
        "output/input",
    );
    // 6. Error rate (2 of 4 calls) and the cost of failed calls (the timed-out stream).
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_operation_duration_seconds_count{error_type!=""}) / sum(gen_ai_client_operation_duration_seconds_count)"#,
        ),
        0.5,
        "error rate",
    );
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_cost_USD_total{error_type!=""})"#,
        ),
        0.0015,
        "cost of failed calls",
    );
    // 7. Throttled calls.
    assert_close(
        single(
            &prometheus,
            r#"sum(gen_ai_client_operation_duration_seconds_count{error_type=~"429|rate_limit_error|RateLimitError"})"#,
        ),
        1.0,
        "throttled calls",
    );
    // Spend by user, team and feature (u1's from its parent request span).
    assert_all_close(
        by(
            &prometheus,
            "sum by (user_id) (gen_ai_client_cost_USD_total)",
            "user_id",
        ),
        &[("u1", 0.0774), ("u2", 0.0055)],
        "spend by user",
    );
    assert_all_close(
        by(
            &prometheus,
            "sum by (team) (gen_ai_client_cost_USD_total)",
            "team",
        ),
        &[("ads", 0.0055), ("search", 0.0774)],
        "spend by team",
    );
    assert_all_close(
        by(
            &prometheus,
            "sum by (feature) (gen_ai_client_cost_USD_total)",
            "feature",
        ),
        &[("chat", 0.0774), ("summarize", 0.0055)],
        "spend by feature",
    );
    assert!(agent.shutdown().await);
}
