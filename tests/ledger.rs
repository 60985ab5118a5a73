//! The cost ledger end to end: the Rust OpenTelemetry SDK sends an app's request span with a
//! priced model call and a refused call to a model no catalog knows; the agent forwards every
//! span and writes one JSON line per model call (and FOCUS rows for the priced one), with the
//! attribution keys the call inherits from the request span, which `report` then reads. A
//! ledger on a full disk loses its records (counted) and never holds up the traces.

mod common;

use common::*;
use genai_cost_agent::ledger::{focus, LedgerEntry};
use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::net::SocketAddr;
use std::time::Duration;

/// The app's spans: `POST /chat` (user u-42, team search) over a Sonnet 4.6 call (the worked
/// example: 23,000 input of which 8,000 cache reads and 10,000 writes, 1,500 output; 0.0774)
/// and a refused call to acme-llm-1. Returns the trace id and the two calls' span ids (hex).
fn send_calls(agent: SocketAddr) -> (String, String, String) {
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{agent}"))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("chat-app").build())
        .build();
    let tracer = provider.tracer("chat-app");
    let request = tracer
        .span_builder("POST /chat")
        .with_attributes([
            KeyValue::new("user.id", "u-42"),
            KeyValue::new("team", "search"),
        ])
        .start(&tracer);
    let context = Context::current_with_span(request);
    let mut priced = tracer
        .span_builder("chat claude-sonnet-4-6")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "anthropic"),
            KeyValue::new("gen_ai.request.model", "claude-sonnet-4-6"),
            KeyValue::new("gen_ai.usage.input_tokens", 23_000i64),
            KeyValue::new("gen_ai.usage.output_tokens", 1_500i64),
            KeyValue::new("gen_ai.usage.cache_read.input_tokens", 8_000i64),
            KeyValue::new("gen_ai.usage.cache_creation.input_tokens", 10_000i64),
        ])
        .start_with_context(&tracer, &context);
    let priced_id = priced.span_context().span_id().to_string();
    priced.end();
    let mut refused = tracer
        .span_builder("chat acme-llm-1")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", "acme-llm-1"),
            KeyValue::new("gen_ai.usage.input_tokens", 900i64),
            KeyValue::new("gen_ai.usage.output_tokens", 0i64),
            KeyValue::new("error.type", "429"),
        ])
        .start_with_context(&tracer, &context);
    refused.set_status(Status::error("rate limited"));
    let refused_id = refused.span_context().span_id().to_string();
    refused.end();
    let trace_id = context.span().span_context().trace_id().to_string();
    context.span().end();
    provider.shutdown().unwrap();
    (trace_id, priced_id, refused_id)
}

fn ledger_overrides(directory: &TempDir) -> Vec<String> {
    vec![
        format!("exporters.ledger.directory={}", directory.path()),
        "exporters.ledger.formats=[jsonl, focus_csv]".into(),
        "metrics.attribution.keys=[user.id, team]".into(),
    ]
}

fn file_of_today(directory: &TempDir, extension: &str) -> String {
    let today = genai_cost_agent::config::ConfigDate::today().to_iso();
    std::fs::read_to_string(directory.0.join(format!("ledger-{today}.{extension}")))
        .unwrap_or_else(|error| panic!("the {extension} ledger of today: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_call_is_one_ledger_record_with_its_inherited_attribution() {
    let directory = TempDir::new("ledger-end-to-end");
    let (backend, captured) = start_capture_backend().await;
    let overrides = ledger_overrides(&directory);
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let agent = start_agent(backend, &overrides).await;
    let address = agent.grpc_address().unwrap();
    let (trace_id, priced_id, refused_id) =
        tokio::task::spawn_blocking(move || send_calls(address))
            .await
            .unwrap();
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 3).await);
    let counters = agent.counters().clone();
    assert!(agent.shutdown().await);

    let jsonl = file_of_today(&directory, "jsonl");
    let entries: Vec<LedgerEntry> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a record"))
        .collect();
    assert_eq!(entries.len(), 2, "{jsonl}");
    let priced = entries
        .iter()
        .find(|entry| entry.span_id == priced_id)
        .unwrap();
    assert_eq!(priced.trace_id, trace_id);
    assert_eq!(priced.service.as_deref(), Some("chat-app"));
    assert_eq!(priced.provider.as_deref(), Some("anthropic"));
    assert_eq!(priced.request_model.as_deref(), Some("claude-sonnet-4-6"));
    assert_eq!(priced.status, "ok");
    assert_eq!(
        priced.price_id.as_deref(),
        Some("claude-sonnet-4-6@2026-03-13")
    );
    let cost = priced.cost.unwrap();
    assert_eq!(
        (
            cost.total,
            cost.input,
            cost.output,
            cost.cache_read,
            cost.cache_creation
        ),
        (
            dec!(0.0774),
            dec!(0.015),
            dec!(0.0225),
            dec!(0.0024),
            dec!(0.0375)
        )
    );
    assert_eq!(cost.cache_savings, dec!(0.0141));
    let tokens = priced.tokens.unwrap();
    assert_eq!(
        (
            tokens.input,
            tokens.output,
            tokens.cache_read,
            tokens.cache_creation
        ),
        (23_000, 1_500, 8_000, 10_000)
    );
    assert_eq!(
        priced.attributes.get("user.id").map(String::as_str),
        Some("u-42")
    );
    assert_eq!(
        priced.attributes.get("team").map(String::as_str),
        Some("search")
    );

    let refused = entries
        .iter()
        .find(|entry| entry.span_id == refused_id)
        .unwrap();
    assert_eq!(refused.status, "error");
    assert_eq!(refused.error_type.as_deref(), Some("429"));
    assert_eq!(refused.unpriced_reason.as_deref(), Some("unknown_model"));
    assert_eq!(refused.cost, None);
    assert_eq!(
        refused.attributes.get("user.id").map(String::as_str),
        Some("u-42")
    );

    let csv = file_of_today(&directory, "csv");
    assert!(csv.starts_with(focus::HEADER));
    let billed: Decimal = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(billed, dec!(0.0774), "{csv}");
    assert_eq!(csv.lines().count(), 5, "the header and four charges: {csv}");
    assert_eq!(counters.ledger.written_total(), 2);

    // The report reads the directory: both calls are the search team's.
    let output = std::process::Command::new(common::binary::BINARY)
        .args([
            "report",
            &directory.path(),
            "--by",
            "team",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "team,calls,input_tokens,output_tokens,cache_read_tokens,cache_creation_tokens,cost,cache_savings\n\
         search,2,23900,1500,8000,10000,0.0774,0.0141\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_on_a_full_disk_never_holds_up_the_traces() {
    let directory = TempDir::new("ledger-full-disk-end-to-end");
    let today = genai_cost_agent::config::ConfigDate::today().to_iso();
    // Every write to today's files fails with "no space left on device" (/dev/full); after a
    // failed write the ledger goes on in the next file, which is /dev/full too.
    for extension in ["jsonl", "csv"] {
        for number in 0..=40 {
            let name = match number {
                0 => format!("ledger-{today}.{extension}"),
                n => format!("ledger-{today}.{n}.{extension}"),
            };
            std::os::unix::fs::symlink("/dev/full", directory.0.join(name)).unwrap();
        }
    }
    let (backend, captured) = start_capture_backend().await;
    let overrides = ledger_overrides(&directory);
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let agent = start_agent(backend, &overrides).await;
    for round in 0..20u64 {
        let mut request = trace_request(round * 10 + 1, 1);
        let span = &mut request.resource_spans[0].scope_spans[0].spans[0];
        span.attributes = vec![
            text("gen_ai.request.model", "claude-sonnet-4-6"),
            int("gen_ai.usage.input_tokens", 1_000),
            int("gen_ai.usage.output_tokens", 100),
        ];
        send_traces(&agent, request).await;
    }
    assert!(wait_until(Duration::from_secs(10), || captured.span_count() >= 20).await);
    let counters = agent.counters().clone();
    assert!(agent.shutdown().await);
    assert_eq!(captured.span_count(), 20, "every span reached the backend");
    // The ledger starts in the day's last file (40); each record of the 20 requests either
    // failed to be written (counted) or went on into a file after it: none is unaccounted.
    let (failed, written) = (
        counters.ledger.write_failed_total(),
        counters.ledger.written_total(),
    );
    assert!(failed >= 1, "the full disk was met");
    assert_eq!(failed + written, 20);
}

/// Without a directory, the records go out as OTLP log records only, through the exporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_as_otlp_log_records_reaches_the_backend() {
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(
        backend,
        &[
            "exporters.ledger.otlp_logs=true",
            "metrics.attribution.keys=[user.id, team]",
        ],
    )
    .await;
    let address = agent.grpc_address().unwrap();
    let (trace_id, priced_id, _) = tokio::task::spawn_blocking(move || send_calls(address))
        .await
        .unwrap();
    let log_count = || -> usize {
        captured
            .logs
            .lock()
            .unwrap()
            .iter()
            .flat_map(|request| &request.resource_logs)
            .flat_map(|resource| &resource.scope_logs)
            .map(|scope| scope.log_records.len())
            .sum()
    };
    assert!(wait_until(Duration::from_secs(10), || log_count() >= 2).await);
    assert!(agent.shutdown().await);
    let requests = captured.logs.lock().unwrap().clone();
    let records: Vec<_> = requests
        .iter()
        .flat_map(|request| &request.resource_logs)
        .flat_map(|resource| &resource.scope_logs)
        .flat_map(|scope| &scope.log_records)
        .collect();
    assert_eq!(records.len(), 2);
    let hex = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    };
    let priced = records
        .iter()
        .find(|record| hex(&record.span_id) == priced_id)
        .expect("the priced call's record");
    assert_eq!(hex(&priced.trace_id), trace_id);
    assert_eq!(
        attribute(&priced.attributes, "gen_ai.usage.cost.amount"),
        Some(&opentelemetry_proto::tonic::common::v1::any_value::Value::DoubleValue(0.0774))
    );
    assert_eq!(
        attribute(&priced.attributes, "user.id"),
        Some(&opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue("u-42".into()))
    );
    let Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(body)) =
        priced.body.as_ref().and_then(|body| body.value.as_ref())
    else {
        panic!("the body is the ledger line");
    };
    let entry: LedgerEntry = serde_json::from_str(body).unwrap();
    assert_eq!(entry.cost.unwrap().total, dec!(0.0774));
    assert_eq!(
        requests[0].resource_logs[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes[0]
            .key,
        "service.name"
    );
}
