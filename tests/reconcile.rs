//! Reconciling with the bill end to end: a fake admin API for Anthropic and OpenAI (usage and
//! cost reports, in pages, one 429 with `Retry-After`, and today's partial day) against known
//! traffic — one model fully covered and matched, one with traffic the agent never saw, one
//! priced differently than billed. `reconcile` reads a ledger and prints the table; the
//! running agent, without a ledger, compares what it priced since it started and shows it on
//! `/metrics` and `/api/reconciliation`. The admin keys never appear in its logs, in
//! `validate`'s output or on `/metrics`.

mod common;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::binary::{repository_file, start_binary_with, RunningBinary, BINARY};
use common::browser::run_browser_script;
use common::*;
use genai_cost_agent::config::ConfigDate;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ANTHROPIC_KEY: &str = "sk-ant-admin01-test-key-never-shown-Zq9";
const OPENAI_KEY: &str = "sk-admin-test-key-never-shown-Xw7";

/// Yesterday and today, UTC.
fn days() -> (ConfigDate, ConfigDate) {
    let today = ConfigDate::today();
    let yesterday = ConfigDate {
        days_since_epoch: today.days_since_epoch - 1,
    };
    (yesterday, today)
}

/// The fake admin API's state: whether its one 429 was sent, the requests it answered, and
/// whether yesterday's late-arriving Haiku usage has come in.
#[derive(Default)]
struct AdminApi {
    rate_limited_once: AtomicBool,
    answered: AtomicU64,
    late_data: AtomicBool,
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn json(body: String) -> Response {
    ([("content-type", "application/json")], body).into_response()
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, r#"{"error":"invalid admin key"}"#).into_response()
}

fn anthropic_authorized(headers: &HeaderMap) -> bool {
    headers
        .get("x-api-key")
        .is_some_and(|key| key == ANTHROPIC_KEY)
        && headers.get("anthropic-version").is_some()
}

fn openai_authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .is_some_and(|value| value.to_str().ok() == Some(&format!("Bearer {OPENAI_KEY}")))
}

/// Anthropic's messages usage report in two pages; the first request is refused with a 429.
/// Yesterday: Sonnet 4.5 (25,000 input of which 19,000 cache reads, 1,100 output) and Haiku 4.5
/// (9,000 tokens); today (not over): Sonnet 4.5 with 1,100 tokens so far.
async fn anthropic_usage(
    State(api): State<Arc<AdminApi>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if !anthropic_authorized(&headers) {
        return unauthorized();
    }
    if !api.rate_limited_once.swap(true, Ordering::SeqCst) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            r#"{"type":"error","error":{"type":"rate_limit_error"}}"#,
        )
            .into_response();
    }
    api.answered.fetch_add(1, Ordering::SeqCst);
    let query = query.unwrap_or_default();
    assert!(
        query.contains("bucket_width=1d") && query.contains("group_by%5B%5D=model"),
        "{query}"
    );
    let (yesterday, today) = days();
    let (yesterday, today) = (yesterday.to_iso(), today.to_iso());
    let haiku_input = if api.late_data.load(Ordering::SeqCst) {
        12_000
    } else {
        8_000
    };
    json(match query_value(&query, "page") {
        None => format!(
            r#"{{"data": [{{"starting_at": "{yesterday}T00:00:00Z", "ending_at": "{today}T00:00:00Z", "results": [
                {{"model": "claude-sonnet-4-5-20250929", "uncached_input_tokens": 6000, "cache_read_input_tokens": 19000,
                  "cache_creation": {{"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}},
                  "output_tokens": 1100, "server_tool_use": {{"web_search_requests": 0}}}}]}}],
              "has_more": true, "next_page": "page/2+"}}"#
        ),
        Some("page%2F2%2B") => format!(
            r#"{{"data": [{{"starting_at": "{yesterday}T00:00:00Z", "ending_at": "{today}T00:00:00Z", "results": [
                {{"model": "claude-haiku-4-5-20251001", "uncached_input_tokens": {haiku_input}, "cache_read_input_tokens": 0,
                  "cache_creation": {{"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}}, "output_tokens": 1000}}]}},
              {{"starting_at": "{today}T00:00:00Z", "ending_at": "{today}T12:00:00Z", "results": [
                {{"model": "claude-sonnet-4-5-20250929", "uncached_input_tokens": 1000, "cache_read_input_tokens": 0,
                  "output_tokens": 100}}]}}],
              "has_more": false, "next_page": null}}"#
        ),
        Some(other) => panic!("unexpected page token {other}"),
    })
}

/// Anthropic's cost report (cents as decimal strings, grouped by description); a web search
/// charge without a model is not a token charge and is left out.
async fn anthropic_costs(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if !anthropic_authorized(&headers) {
        return unauthorized();
    }
    assert!(query
        .unwrap_or_default()
        .contains("group_by%5B%5D=description"));
    let (yesterday, today) = days();
    let (yesterday, today) = (yesterday.to_iso(), today.to_iso());
    json(format!(
        r#"{{"data": [{{"starting_at": "{yesterday}T00:00:00Z", "ending_at": "{today}T00:00:00Z", "results": [
            {{"amount": "1.8", "currency": "USD", "model": "claude-sonnet-4-5-20250929", "cost_type": "tokens", "token_type": "uncached_input_tokens", "description": "Claude Sonnet 4.5 Usage - Input Tokens"}},
            {{"amount": "0.57", "currency": "USD", "model": "claude-sonnet-4-5-20250929", "cost_type": "tokens", "token_type": "cache_read_input_tokens", "description": "Claude Sonnet 4.5 Usage - Input Tokens, Cache Hit"}},
            {{"amount": "1.65", "currency": "USD", "model": "claude-sonnet-4-5-20250929", "cost_type": "tokens", "token_type": "output_tokens", "description": "Claude Sonnet 4.5 Usage - Output Tokens"}},
            {{"amount": "1.3", "currency": "USD", "model": "claude-haiku-4-5-20251001", "cost_type": "tokens", "description": "Claude Haiku 4.5 Usage"}},
            {{"amount": "1.0", "currency": "USD", "model": null, "cost_type": "web_search", "description": "Web Search"}}]}},
          {{"starting_at": "{today}T00:00:00Z", "ending_at": "{today}T12:00:00Z", "results": [
            {{"amount": "0.45", "currency": "USD", "model": "claude-sonnet-4-5-20250929", "cost_type": "tokens"}}]}}],
          "has_more": false, "next_page": null}}"#
    ))
}

/// OpenAI's completions usage: yesterday, GPT-4o mini with 4,000 input (2,000 cached) and 500
/// output.
async fn openai_usage(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if !openai_authorized(&headers) {
        return unauthorized();
    }
    assert!(query.unwrap_or_default().contains("group_by=model"));
    let (yesterday, _) = days();
    let start = yesterday.days_since_epoch * 86_400;
    json(format!(
        r#"{{"object": "page", "data": [{{"object": "bucket", "start_time": {start}, "end_time": {}, "results": [
            {{"object": "organization.usage.completions.result", "input_tokens": 4000, "output_tokens": 500,
              "input_cached_tokens": 2000, "num_model_requests": 1, "model": "gpt-4o-mini-2024-07-18", "batch": null}}]}}],
          "has_more": false, "next_page": null}}"#,
        start + 86_400
    ))
}

/// OpenAI's costs by line item, in two pages: 0.0006 for input and 0.0003 for output, where the
/// agent's catalog prices the same tokens at 0.00075.
async fn openai_costs(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if !openai_authorized(&headers) {
        return unauthorized();
    }
    let query = query.unwrap_or_default();
    assert!(query.contains("group_by=line_item"));
    let (yesterday, _) = days();
    let start = yesterday.days_since_epoch * 86_400;
    let (line_item, value, more) = match query_value(&query, "page") {
        None => (
            "gpt-4o-mini-2024-07-18, input",
            "0.0006",
            r#"true, "next_page": "costs-2""#,
        ),
        Some("costs-2") => (
            "gpt-4o-mini-2024-07-18, output",
            "0.0003",
            r#"false, "next_page": null"#,
        ),
        Some(other) => panic!("unexpected page token {other}"),
    };
    json(format!(
        r#"{{"object": "page", "data": [{{"object": "bucket", "start_time": {start}, "end_time": {}, "results": [
            {{"object": "organization.costs.result", "amount": {{"value": {value}, "currency": "usd"}},
              "line_item": "{line_item}", "project_id": null}}]}}],
          "has_more": {more}}}"#,
        start + 86_400
    ))
}

async fn start_admin_api() -> (SocketAddr, Arc<AdminApi>) {
    let api = Arc::new(AdminApi::default());
    let app = Router::new()
        .route(
            "/v1/organizations/usage_report/messages",
            get(anthropic_usage),
        )
        .route("/v1/organizations/cost_report", get(anthropic_costs))
        .route("/v1/organization/usage/completions", get(openai_usage))
        .route("/v1/organization/costs", get(openai_costs))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, api)
}

/// The `reconcile` section for the fake admin API, as `--set` overrides.
fn reconcile_overrides(api: SocketAddr) -> Vec<String> {
    vec![
        "reconcile.interval=2s".into(),
        "reconcile.days=2".into(),
        "reconcile.timeout=5s".into(),
        format!("reconcile.anthropic.base_url=http://{api}"),
        "reconcile.anthropic.admin_key_env=TEST_ANTHROPIC_ADMIN_KEY".into(),
        format!("reconcile.openai.base_url=http://{api}/"),
        "reconcile.openai.admin_key_env=TEST_OPENAI_ADMIN_KEY".into(),
    ]
}

fn with_keys(command: &mut Command) {
    command
        .env("TEST_ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)
        .env("TEST_OPENAI_ADMIN_KEY", OPENAI_KEY);
}

fn assert_no_key(what: &str, text: &str) {
    for key in [ANTHROPIC_KEY, OPENAI_KEY] {
        assert!(!text.contains(key), "{what} shows an admin key:\n{text}");
    }
}

/// The model calls of the known traffic: (day, provider, model, input, cache read, output,
/// the cost the agent's catalog gives them).
const CALLS: [(bool, &str, &str, u64, u64, u64, &str); 5] = [
    // Sonnet 4.5 at 3 / 0.30 / 15 per million: 5,000 × 3 + 15,000 × 0.3 + 800 × 15 = 0.0315.
    (
        false,
        "anthropic",
        "claude-sonnet-4-5-20250929",
        20_000,
        15_000,
        800,
        "0.0315",
    ),
    // 1,000 × 3 + 4,000 × 0.3 + 300 × 15 = 0.0087.
    (
        false,
        "anthropic",
        "claude-sonnet-4-5-20250929",
        5_000,
        4_000,
        300,
        "0.0087",
    ),
    // Haiku 4.5 at 1 / 5: half of what the provider saw.
    (
        false,
        "anthropic",
        "claude-haiku-4-5-20251001",
        4_000,
        0,
        500,
        "0.0065",
    ),
    // GPT-4o mini at 0.15 / 0.075 / 0.60: 0.0003 + 0.00015 + 0.0003.
    (
        false,
        "openai",
        "gpt-4o-mini-2024-07-18",
        4_000,
        2_000,
        500,
        "0.00075",
    ),
    // Today: 2,000 × 3 + 200 × 15.
    (
        true,
        "anthropic",
        "claude-sonnet-4-5-20250929",
        2_000,
        0,
        200,
        "0.009",
    ),
];

/// The table both ways of reconciling print for the known traffic.
fn expected_table() -> String {
    let (yesterday, today) = days();
    let (yesterday, today) = (yesterday.to_iso(), today.to_iso());
    format!(
        "\
day         provider   model                       agent tokens  provider tokens  ratio  agent USD  provider USD         ratio  verdict
{yesterday}  anthropic  claude-haiku-4-5-20251001           4500             9000    0.5     0.0065         0.013           0.5  traffic not seen by the agent
{yesterday}  anthropic  claude-sonnet-4-5-20250929         26100            26100      1     0.0402        0.0402             1  matched
{today}  anthropic  claude-sonnet-4-5-20250929          2200             1100      2      0.009        0.0045             2  not in the provider's report (partial day)
{yesterday}  openai     gpt-4o-mini-2024-07-18              4500             4500      1    0.00075        0.0009  0.8333333333  price mismatch
"
    )
}

/// The calls as ledger lines, in the files of their days.
fn write_ledger(directory: &TempDir) {
    let (yesterday, today) = days();
    for (is_today, provider, model, input, cache_read, output, cost) in CALLS {
        let day = if is_today { today } else { yesterday }.to_iso();
        let line = serde_json::json!({
            "time": format!("{day}T00:00:01.000000000Z"),
            "start_time": format!("{day}T00:00:00.000000000Z"),
            "trace_id": "0af7651916cd43dd8448eb211c80319c",
            "span_id": "b7ad6b7169203331",
            "provider": provider,
            "response_model": model,
            "status": "ok",
            "tokens": {"input": input, "output": output, "cache_read": cache_read, "cache_creation": 0},
            "currency": "USD",
            "cost": {"total": cost, "input": "0", "output": "0", "cache_read": "0", "cache_creation": "0",
                     "tools": "0", "cache_savings": "0", "cache_hit_ratio": "0"},
        });
        let path = directory.0.join(format!("ledger-{day}.jsonl"));
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("{line}\n"));
        std::fs::write(path, text).unwrap();
    }
}

fn agent_command(overrides: &[String]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(["--config", &repository_file("config.yaml")]);
    for assignment in overrides {
        command.args(["--set", assignment]);
    }
    command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_prints_the_comparison_of_the_ledger_with_both_providers() {
    let (api, admin) = start_admin_api().await;
    let directory = TempDir::new("reconcile-ledger");
    write_ledger(&directory);
    let mut overrides = reconcile_overrides(api);
    overrides.push(format!("exporters.ledger.directory={}", directory.path()));
    let (yesterday, _) = days();
    let mut command = agent_command(&overrides);
    command.args(["reconcile", "--from", &yesterday.to_iso()]);
    with_keys(&mut command);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, expected_table());
    assert!(
        admin.rate_limited_once.load(Ordering::SeqCst),
        "the 429 was sent"
    );
    assert_eq!(
        admin.answered.load(Ordering::SeqCst),
        2,
        "both usage pages, after the retry"
    );
    assert_no_key("reconcile's output", &format!("{stdout}{stderr}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_refusing_the_key_fails_the_command_without_showing_the_key() {
    let (api, _) = start_admin_api().await;
    let directory = TempDir::new("reconcile-wrong-key");
    write_ledger(&directory);
    let mut overrides = reconcile_overrides(api);
    overrides.push(format!("exporters.ledger.directory={}", directory.path()));
    let mut command = agent_command(&overrides);
    command.arg("reconcile");
    with_keys(&mut command);
    command.env("TEST_OPENAI_ADMIN_KEY", "sk-admin-wrong-key-also-secret");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success());
    assert!(
        stderr.contains("genai-cost-agent: reconcile: openai: usage report: HTTP 401"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sk-admin-wrong-key-also-secret"),
        "{stderr}"
    );
    // Anthropic's side is still compared.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("claude-haiku-4-5-20251001"), "{stdout}");
}

#[test]
fn validate_names_a_missing_key_by_its_variable_and_never_shows_a_key() {
    let overrides = reconcile_overrides("127.0.0.1:9".parse().unwrap());
    let mut command = agent_command(&overrides);
    command.arg("validate");
    with_keys(&mut command);
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert_no_key("validate", &text);

    let mut command = agent_command(&overrides);
    command.arg("validate");
    command.env("TEST_ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY);
    command.env_remove("TEST_OPENAI_ADMIN_KEY");
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success());
    assert!(
        stderr.contains("reconcile.openai.admin_key_env: the environment variable `TEST_OPENAI_ADMIN_KEY` is not set"),
        "{stderr}"
    );
    assert_no_key("validate", &stderr);
}

/// One OTLP/JSON request with the known traffic's model calls, ended at the calls' days.
fn traffic() -> String {
    let (yesterday, today) = days();
    let spans: Vec<serde_json::Value> = CALLS
        .iter()
        .enumerate()
        .map(|(index, (is_today, provider, model, input, cache_read, output, _))| {
            let day = if *is_today { today } else { yesterday };
            let end = day.days_since_epoch as u64 * 86_400_000_000_000 + 1_000_000_000;
            let int = |key: &str, value: u64| serde_json::json!({"key": key, "value": {"intValue": value.to_string()}});
            let text = |key: &str, value: &str| serde_json::json!({"key": key, "value": {"stringValue": value}});
            serde_json::json!({
                "traceId": format!("{:032x}", index + 1),
                "spanId": format!("{:016x}", index + 1),
                "name": format!("chat {model}"),
                "kind": 3,
                "startTimeUnixNano": (end - 1_000_000_000).to_string(),
                "endTimeUnixNano": end.to_string(),
                "attributes": [
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", provider),
                    text("gen_ai.request.model", model),
                    text("gen_ai.response.model", model),
                    int("gen_ai.usage.input_tokens", *input),
                    int("gen_ai.usage.cache_read.input_tokens", *cache_read),
                    int("gen_ai.usage.output_tokens", *output),
                ],
            })
        })
        .collect();
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "chat-app"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }]})
    .to_string()
}

fn curl(arguments: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(arguments)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The agent's binary with the admin keys and `overrides`, sent the known traffic over
/// OTLP/HTTP JSON.
async fn start_agent_with_traffic(overrides: Vec<String>) -> RunningBinary {
    let agent = tokio::task::spawn_blocking(move || {
        let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
        start_binary_with(&overrides, with_keys)
    })
    .await
    .unwrap();
    let sent = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data",
        &traffic(),
        &format!("http://{}/v1/traces", agent.http),
    ]);
    assert_eq!(sent, "{}", "the agent took the traffic");
    agent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_agent_reconciles_what_it_priced_on_metrics_and_the_page() {
    let (api, admin) = start_admin_api().await;
    // The agent's side: the ledger it writes itself.
    let directory = TempDir::new("reconcile-running-ledger");
    let mut overrides = reconcile_overrides(api);
    overrides.push(format!("exporters.ledger.directory={}", directory.path()));
    let agent = start_agent_with_traffic(overrides).await;

    // The first poll ran at start; the next ones see the traffic.
    let page_url = format!("http://{}/api/reconciliation", agent.telemetry);
    let mut table = serde_json::Value::Null;
    let seen = wait_until(Duration::from_secs(30), || {
        table = serde_json::from_str(&curl(&[&page_url])).unwrap_or_default();
        table["rows"].as_array().is_some_and(|rows| {
            rows.len() == 4
                && rows
                    .iter()
                    .all(|row| row["agent"]["input"].as_u64() > Some(0))
        })
    })
    .await;
    assert!(seen, "the comparison with the traffic: {table}");
    let (yesterday, today) = days();
    assert_eq!(table["from"], yesterday.to_iso());
    assert_eq!(table["to"], today.to_iso());
    let verdicts: Vec<(String, String, bool)> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["model"].as_str().unwrap().to_string(),
                row["verdict"].as_str().unwrap().to_string(),
                row["partial"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("claude-haiku-4-5-20251001".into(), "not_seen".into(), false),
            ("claude-sonnet-4-5-20250929".into(), "matched".into(), false),
            (
                "claude-sonnet-4-5-20250929".into(),
                "agent_only".into(),
                true
            ),
            (
                "gpt-4o-mini-2024-07-18".into(),
                "price_mismatch".into(),
                false
            ),
        ]
    );
    assert_eq!(table["rows"][1]["agent"]["cost"], "0.0402");
    assert_eq!(table["rows"][3]["cost_ratio"], "0.8333333333");

    // The gauges cover the complete days: today's Sonnet calls are left out.
    let metrics = agent.self_metrics();
    let reconciliation: Vec<&str> = metrics
        .lines()
        .filter(|line| {
            line.starts_with("genai_cost_agent_reconciliation_")
                && !line.contains("polls_total")
                && !line.contains("last_success")
        })
        .collect();
    assert_eq!(
        reconciliation,
        [
            r#"genai_cost_agent_reconciliation_agent_tokens{provider="anthropic",model="claude-haiku-4-5-20251001"} 4500"#,
            r#"genai_cost_agent_reconciliation_agent_tokens{provider="anthropic",model="claude-sonnet-4-5-20250929"} 26100"#,
            r#"genai_cost_agent_reconciliation_agent_tokens{provider="openai",model="gpt-4o-mini-2024-07-18"} 4500"#,
            r#"genai_cost_agent_reconciliation_provider_tokens{provider="anthropic",model="claude-haiku-4-5-20251001"} 9000"#,
            r#"genai_cost_agent_reconciliation_provider_tokens{provider="anthropic",model="claude-sonnet-4-5-20250929"} 26100"#,
            r#"genai_cost_agent_reconciliation_provider_tokens{provider="openai",model="gpt-4o-mini-2024-07-18"} 4500"#,
            r#"genai_cost_agent_reconciliation_agent_cost{provider="anthropic",model="claude-haiku-4-5-20251001"} 0.0065"#,
            r#"genai_cost_agent_reconciliation_agent_cost{provider="anthropic",model="claude-sonnet-4-5-20250929"} 0.0402"#,
            r#"genai_cost_agent_reconciliation_agent_cost{provider="openai",model="gpt-4o-mini-2024-07-18"} 0.00075"#,
            r#"genai_cost_agent_reconciliation_provider_cost{provider="anthropic",model="claude-haiku-4-5-20251001"} 0.013"#,
            r#"genai_cost_agent_reconciliation_provider_cost{provider="anthropic",model="claude-sonnet-4-5-20250929"} 0.0402"#,
            r#"genai_cost_agent_reconciliation_provider_cost{provider="openai",model="gpt-4o-mini-2024-07-18"} 0.0009"#,
            r#"genai_cost_agent_reconciliation_token_ratio{provider="anthropic",model="claude-haiku-4-5-20251001"} 0.5"#,
            r#"genai_cost_agent_reconciliation_token_ratio{provider="anthropic",model="claude-sonnet-4-5-20250929"} 1"#,
            r#"genai_cost_agent_reconciliation_token_ratio{provider="openai",model="gpt-4o-mini-2024-07-18"} 1"#,
            r#"genai_cost_agent_reconciliation_cost_ratio{provider="anthropic",model="claude-haiku-4-5-20251001"} 0.5"#,
            r#"genai_cost_agent_reconciliation_cost_ratio{provider="anthropic",model="claude-sonnet-4-5-20250929"} 1"#,
            r#"genai_cost_agent_reconciliation_cost_ratio{provider="openai",model="gpt-4o-mini-2024-07-18"} 0.8333333333333334"#,
        ]
    );
    assert!(
        metrics.contains(
            r#"genai_cost_agent_reconciliation_polls_total{provider="anthropic",result="ok"}"#
        ),
        "{metrics}"
    );
    assert_no_key("/metrics", &metrics);

    // The live page shows the same comparison in a real browser.
    let url = format!("http://{}/", agent.telemetry);
    let screenshot = repository_file("target/reconciliation-panel.png");
    let panel = tokio::task::spawn_blocking(move || {
        run_browser_script(
            "reconciliation_panel.mjs",
            &["--url", &url, "--screenshot", &screenshot],
            "PANEL",
        )
    })
    .await
    .unwrap();
    let expected: Vec<Vec<String>> = expected_table()
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line
                .split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect();
            cells.iter().map(|cell| cell.to_string()).collect()
        })
        .collect();
    let shown: Vec<Vec<String>> = panel["rows"].as_array().unwrap()[1..]
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|cell| cell.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert_eq!(shown, expected, "the panel's rows are the table's");
    assert_eq!(panel["elsewhere"], serde_json::json!([]));
    assert!(
        panel["window"].as_str().unwrap().starts_with(&format!(
            "UTC days {} to {}",
            yesterday.to_iso(),
            today.to_iso()
        )),
        "{panel}"
    );
    assert_no_key("/api/reconciliation", &table.to_string());

    // Usage the provider reports late replaces what the earlier polls read.
    admin.late_data.store(true, Ordering::SeqCst);
    let updated = wait_until(Duration::from_secs(30), || {
        table = serde_json::from_str(&curl(&[&page_url])).unwrap_or_default();
        table["rows"][0]["reported"]["input"].as_u64() == Some(12_000)
    })
    .await;
    assert!(updated, "the late data replaced the earlier read: {table}");
    assert_eq!(
        table["rows"][0]["token_ratio"], "0.3461538462",
        "4,500 of 13,000"
    );
    assert_no_key("the agent's log", &agent.log().join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_asking_to_wait_does_not_hold_up_shutdown() {
    let app = Router::new().fallback(|| async {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "100")],
            "slow down",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let overrides = reconcile_overrides(api);
    let (code, elapsed) = tokio::task::spawn_blocking(move || {
        let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
        let mut agent = start_binary_with(&overrides, with_keys);
        std::thread::sleep(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let (code, _) = common::binary::terminate(&mut agent);
        (code, started.elapsed())
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(
        elapsed < Duration::from_secs(10),
        "shutdown waited {elapsed:?} for a Retry-After of 100 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_ledger_the_agent_compares_what_it_priced_since_it_started() {
    let (api, _) = start_admin_api().await;
    let overrides = reconcile_overrides(api);
    let agent = start_agent_with_traffic(overrides).await;
    // It started today: yesterday is not compared (it saw none of it but late spans), and
    // today is partial on its side too.
    let page_url = format!("http://{}/api/reconciliation", agent.telemetry);
    let mut table = serde_json::Value::Null;
    let seen = wait_until(Duration::from_secs(30), || {
        table = serde_json::from_str(&curl(&[&page_url])).unwrap_or_default();
        table["rows"][0]["agent"]["input"].as_u64() == Some(2_000)
    })
    .await;
    assert!(seen, "today's Sonnet calls: {table}");
    let (_, today) = days();
    assert_eq!(table["from"], today.to_iso());
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{table}");
    assert_eq!(
        (
            &rows[0]["day"],
            &rows[0]["reported"]["input"],
            &rows[0]["partial"]
        ),
        (
            &serde_json::json!(today.to_iso()),
            &serde_json::json!(1_000),
            &serde_json::json!(true)
        )
    );
    let metrics = agent.self_metrics();
    assert!(
        !metrics.contains("genai_cost_agent_reconciliation_agent_tokens{"),
        "no complete day to show yet:\n{metrics}"
    );
    assert!(
        metrics.contains(
            r#"genai_cost_agent_reconciliation_last_success_timestamp_seconds{provider="openai"}"#
        ),
        "{metrics}"
    );
}
