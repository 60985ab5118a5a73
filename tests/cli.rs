//! The binary as a user runs it: `--version`, `validate`, the default config with the debug
//! exporter, and SIGTERM flushing queued data before a clean exit.

mod common;

use common::binary::*;
use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use std::process::Command;
use std::time::Duration;

#[test]
fn version_prints_the_package_version() {
    let output = Command::new(BINARY).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("genai-cost-agent {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn validate_accepts_the_default_config() {
    let output = Command::new(BINARY)
        .args(["validate", "--config", &repository_file("config.yaml")])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("config.yaml: valid\n"));
}

#[test]
fn validate_refuses_a_bad_file_with_key_and_line() {
    let path =
        std::env::temp_dir().join(format!("genai-cost-agent-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: localhost:notaport\n",
    )
    .unwrap();
    let output = Command::new(BINARY)
        .args(["validate", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("receivers.otlp.protocols.grpc.endpoint: the value given (18 characters) has no port number after its `:` at line 5"), "{stderr}");
}

#[test]
fn validate_applies_set_overrides() {
    let output = Command::new(BINARY)
        .args([
            "validate",
            "--config",
            &repository_file("config.yaml"),
            "--set",
            "exporters.otlp.compression=brotli",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exporters.otlp.compression: unknown variant (6 characters), expected one of `gzip`, `zstd`, `none`"),
        "{stderr}"
    );
}

#[test]
fn validate_reads_the_tls_files() {
    let output = Command::new(BINARY)
        .args([
            "validate",
            "--config",
            &repository_file("config.yaml"),
            "--set",
            "exporters.otlp.endpoint=https://127.0.0.1:4317",
            "--set",
            "exporters.otlp.tls.ca_file=/nonexistent/ca.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exporters.otlp.tls.ca_file: cannot read the file it names (19 characters): No such file or directory"),
        "{stderr}"
    );
}

/// The agent process, with its standard output collected and its listen addresses read off its log.
fn curl_json(url: &str, body: &str) -> String {
    let output = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            url,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn default_config_prints_priced_spans_with_the_debug_exporter() {
    let mut binary = start_binary(&["exporters.debug.batch.timeout=10ms"]);
    let span = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chat-app"}}]},"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"chat",
         "attributes":[{"key":"gen_ai.response.model","value":{"stringValue":"claude-sonnet-4-6-20260101"}},
           {"key":"gen_ai.usage.input_tokens","value":{"intValue":"23000"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"1500"}},
           {"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"8000"}},{"key":"gen_ai.usage.cache_creation.input_tokens","value":{"intValue":"10000"}}]}]}]}]}"#;
    assert_eq!(
        curl_json(&format!("http://{}/v1/traces", binary.http), span),
        "{}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, stdout) = terminate(&mut binary);
    assert_eq!(code, 0);
    let expected = "priced span service=chat-app model=claude-sonnet-4-6-20260101 \
        tokens[input=23000 output=1500 cache_read=8000 cache_creation=10000] \
        cost[total=0.077400 input=0.015000 output=0.022500 cache_read=0.002400 cache_creation=0.037500 tools=0.000000] USD \
        cache_hit_ratio=0.348 savings=0.014100 price=claude-sonnet-4-6@2026-03-13 \
        trace=5b8efff798038103d269b633813fc60c";
    assert!(
        stdout.lines().any(|line| line == expected),
        "no line\n{expected}\nin\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_queued_data_and_exits_zero() {
    let (backend, captured) = start_capture_backend().await;
    let endpoint = format!("exporters.otlp.endpoint=http://{backend}");
    let mut binary = start_binary(&[&endpoint, "exporters.otlp.batch.timeout=60s"]);
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    severity_text: "INFO".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut client = LogsServiceClient::connect(format!("http://{}", binary.grpc))
        .await
        .unwrap();
    client.export(request.clone()).await.unwrap();
    drop(client);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        captured.logs.lock().unwrap().is_empty(),
        "held by the 60 s batch timeout"
    );
    let (code, _) = tokio::task::spawn_blocking(move || terminate(&mut binary))
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert_eq!(*captured.logs.lock().unwrap(), vec![request]);
}

/// `genai-cost-agent price` with the repository's config and `args`.
fn price(args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(["price", "--config", &repository_file("config.yaml")])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn price_explains_the_worked_example() {
    let output = price(&[
        "--model",
        "claude-sonnet-4-6-20260101",
        "--input",
        "5000",
        "--output",
        "1500",
        "--cache-write",
        "10000",
        "--cache-read",
        "8000",
        "--web-searches",
        "2",
        "--at",
        "2026-06-01",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    for line in [
        "matched by     exact name `claude-sonnet-4-6`",
        "version        effective from 2026-03-13 (prices in force on 2026-06-01)",
        "price id       claude-sonnet-4-6@2026-03-13",
        "total                                                 0.0974",
        "cache savings   0.0141 USD (all input at the input price minus input, cache reads and writes)",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
}

#[test]
fn price_names_the_tier_and_multipliers_it_applied() {
    let output = price(&[
        "--model",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "--input",
        "250000",
        "--output",
        "100",
        "--batch",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("multipliers    batch ×0.5, Bedrock in-region ×1.1"),
        "{text}"
    );
    // 250,000 × 6 × 0.5 × 1.1 / 1M + 100 × 22.50 × 0.5 × 1.1 / 1M = 0.825 + 0.0012375
    assert!(
        text.lines()
            .any(|l| l == "total                                              0.8262375"),
        "{text}"
    );
}

#[test]
fn price_of_an_unknown_model_fails_with_the_reason() {
    let output = price(&["--model", "llama-99"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no price entry matches `llama-99`"));
}

#[test]
fn price_finds_the_provider_first_and_says_where_the_price_comes_from() {
    let output = price(&[
        "--provider",
        "azure.ai.openai",
        "--model",
        "gpt-5.2",
        "--input",
        "1000000",
        "--at",
        "2026-11-01",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("entry          openai/gpt-5.2 (genai-prices data, embedded snapshot, provider openai, source genai-prices 0.2.3 (PyPI))"),
        "{text}"
    );
    assert!(
        text.contains("matched by     genai-prices: provider azure (by the span's provider name), then the first matching model rule of its fallback provider openai: "),
        "{text}"
    );
    // 1,000,000 × 1.75 / 1M
    assert!(
        text.lines()
            .any(|l| l.starts_with("total") && l.ends_with(" 1.75")),
        "{text}"
    );
}

#[test]
fn price_says_which_of_the_entrys_prices_it_does_not_apply() {
    let output = price(&[
        "--provider",
        "openai",
        "--model",
        "gpt-realtime",
        "--input",
        "1000",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("not applied    cache_audio_read_mtok, cache_image_read_mtok, input_audio_mtok, input_image_mtok, output_audio_mtok"),
        "{text}"
    );
}

#[test]
fn price_list_narrows_to_a_provider_and_a_search() {
    let output = price(&["--list", "--provider", "deepseek", "--search", "chat"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("deepseek/deepseek-chat "), "{text}");
    assert!(
        lines[0].ends_with("always: in 0.135 out 0.55; 00:30-16:30Z: in 0.27 out 1.1"),
        "{text}"
    );
    let all = price(&["--list"]);
    let count = String::from_utf8_lossy(&all.stdout).lines().count();
    // The agent's own 23 entries and genai-prices' 2,330.
    assert_eq!(count, 23 + 2330);
}

#[test]
fn price_at_a_time_of_day_uses_the_prices_by_the_hour() {
    let at = |time: &str| {
        let output = price(&[
            "--provider",
            "deepseek",
            "--model",
            "deepseek-chat",
            "--input",
            "1000000",
            "--at",
            time,
        ]);
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    // DeepSeek's list: 0.27 per million input from 00:30 to 16:30 UTC, 0.135 otherwise.
    let peak = at("2026-11-01T03:00Z");
    assert!(
        peak.contains(
            "version        in force daily 00:30-16:30Z (prices in force on 2026-11-01T03:00:00Z)"
        ),
        "{peak}"
    );
    assert!(
        peak.lines()
            .any(|l| l.starts_with("total") && l.ends_with(" 0.27")),
        "{peak}"
    );
    let off_peak = at("2026-11-01T17:00:00Z");
    assert!(
        off_peak
            .lines()
            .any(|l| l.starts_with("total") && l.ends_with(" 0.135")),
        "{off_peak}"
    );
    let wrong = price(&["--model", "deepseek-chat", "--at", "2026-11-01T25:00Z"]);
    assert!(!wrong.status.success());
}

#[test]
fn the_debug_exporter_names_unpriced_spans_with_their_model_and_reason() {
    let mut binary = start_binary(&["exporters.debug.batch.timeout=10ms"]);
    let span = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chat-app"}}]},"scopeSpans":[{"spans":[
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"chat acme",
         "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"acme-llm-1"}},
           {"key":"gen_ai.usage.input_tokens","value":{"intValue":"100"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"10"}}]}]}]}]}"#;
    assert_eq!(
        curl_json(&format!("http://{}/v1/traces", binary.http), span),
        "{}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, stdout) = terminate(&mut binary);
    assert_eq!(code, 0);
    let expected = "unpriced span service=chat-app model=acme-llm-1 reason=unknown_model \
        span=\"chat acme\" trace=0af7651916cd43dd8448eb211c80319c";
    assert!(
        stdout.lines().any(|line| line == expected),
        "no line\n{expected}\nin\n{stdout}"
    );
}
