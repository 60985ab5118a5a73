//! The persistent queue end to end, with the agent's binary: killed with SIGKILL in the middle
//! of a load and restarted, every span the client got an OK for arrives, duplicates stay within
//! the documented bound; a damaged queue file on start is skipped, reported, and the rest sent.

mod common;

use common::binary::*;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many times each span number arrived.
fn arrivals(captured: &Captured) -> HashMap<u64, u64> {
    let mut counts = HashMap::new();
    for span in captured.spans() {
        *counts.entry(span_number(&span)).or_default() += 1;
    }
    counts
}

const REQUEST_SPANS: u64 = 50;
const BATCH: u64 = 500;
const CONSUMERS: u64 = 2;

fn queue_overrides(storage: &str, backend: &str) -> Vec<String> {
    vec![
        format!("exporters.otlp.endpoint=http://{backend}"),
        format!("exporters.otlp.sending_queue.storage={storage}"),
        "exporters.otlp.sending_queue.queue_size=20000".into(),
        format!("exporters.otlp.sending_queue.num_consumers={CONSUMERS}"),
        format!("exporters.otlp.batch.send_batch_size={BATCH}"),
        "exporters.otlp.batch.timeout=50ms".into(),
        "metrics.enabled=false".into(),
    ]
}

fn start(overrides: &[String]) -> RunningBinary {
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    start_binary(&overrides)
}

/// Sends numbered requests from `clients` connections until `stop`; returns the span numbers
/// the agent acknowledged.
async fn load(address: String, clients: usize, stop: Arc<AtomicBool>) -> BTreeSet<u64> {
    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, acknowledged, stop) = (next.clone(), acknowledged.clone(), stop.clone());
        let mut client = TraceServiceClient::connect(format!("http://{address}"))
            .await
            .unwrap();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let first = next.fetch_add(REQUEST_SPANS, Ordering::Relaxed);
                match client.export(trace_request(first, REQUEST_SPANS)).await {
                    Ok(_) => acknowledged
                        .lock()
                        .unwrap()
                        .extend(first..first + REQUEST_SPANS),
                    // Refused while the queue is full: try the next request a little later.
                    Err(status) if status.code() == tonic::Code::Unavailable => {
                        tokio::time::sleep(Duration::from_millis(20)).await
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_load_loses_no_acknowledged_span() {
    sigkill_mid_load("always").await;
}

/// With `fsync: interval` the data is with the operating system before the OK, which a killed
/// process cannot take back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_load_loses_nothing_with_interval_fsync() {
    sigkill_mid_load("interval").await;
}

async fn sigkill_mid_load(fsync: &str) {
    let storage = TempDir::new("kill-queue");
    // A slow backend: the queue on disk holds a backlog when the agent is killed.
    let (backend, captured) = start_slow_capture_backend(Duration::from_millis(100)).await;
    let mut overrides = queue_overrides(&storage.path(), &backend.to_string());
    overrides.push(format!("exporters.otlp.sending_queue.fsync={fsync}"));
    let mut agent = start(&overrides);

    let stop = Arc::new(AtomicBool::new(false));
    let loader = tokio::spawn(load(agent.grpc.clone(), 4, stop.clone()));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    agent.kill_now();
    let delivered_before_kill = captured.span_count();
    // Requests to the dead agent fail and are not acknowledged; then stop the clients.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let acknowledged = loader.await.unwrap();
    assert!(
        acknowledged.len() > 5_000,
        "load too small: {}",
        acknowledged.len()
    );

    let mut restarted = start(&overrides);
    let complete = wait_until(Duration::from_secs(60), || {
        let arrived = arrivals(&captured);
        acknowledged
            .iter()
            .all(|number| arrived.contains_key(number))
    })
    .await;
    let arrived = arrivals(&captured);
    let missing: Vec<u64> = acknowledged
        .iter()
        .filter(|number| !arrived.contains_key(number))
        .copied()
        .collect();
    assert!(
        complete,
        "{} acknowledged spans never arrived, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );

    let duplicated: u64 = arrived.values().map(|count| count - 1).sum();
    let replayed = restarted
        .self_metric("genai_cost_agent_exporter_replayed_items_total{exporter=\"otlp\"}")
        .unwrap();
    eprintln!(
        "SIGKILL mid-load (fsync {fsync}): {} spans acknowledged, {} delivered before the kill, {} replayed from disk after restart, {} distinct delivered in all ({} acknowledged among them), {} duplicated",
        acknowledged.len(),
        delivered_before_kill,
        replayed,
        arrived.len(),
        acknowledged.len() - missing.len(),
        duplicated
    );
    assert!(replayed > 0.0, "a backlog was on disk at the kill");
    // The documented bound: what was being sent when the agent died — at most `num_consumers`
    // batches, each up to send_batch_size plus one request.
    let bound = CONSUMERS * (BATCH + REQUEST_SPANS);
    assert!(
        duplicated <= bound,
        "{duplicated} duplicates, bound {bound}"
    );
    let (code, _) = terminate(&mut restarted);
    assert_eq!(code, 0);
}

/// The records of a segment file: (offset, length, signal byte, body).
fn records(file: &[u8]) -> Vec<(usize, usize, u8, &[u8])> {
    let mut records = Vec::new();
    let mut at = 0;
    while at + 28 <= file.len() {
        let body_len = u32::from_le_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
        records.push((
            at,
            28 + body_len,
            file[at + 20],
            &file[at + 28..at + 28 + body_len],
        ));
        at += 28 + body_len;
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_queue_file_is_skipped_reported_and_the_rest_delivered() {
    let storage = TempDir::new("damaged-queue");
    // No backend yet: what is accepted stays on disk through shutdown.
    let (port, down) = reserve_down_port();
    let mut overrides = queue_overrides(&storage.path(), &port.to_string());
    overrides.push("service.shutdown_timeout=1s".into());
    let mut agent = start(&overrides);
    let mut client = TraceServiceClient::connect(format!("http://{}", agent.grpc))
        .await
        .unwrap();
    for request in 0..8 {
        client
            .export(trace_request(request * 10, 10))
            .await
            .unwrap();
    }
    let (code, _) = terminate(&mut agent);
    assert_eq!(
        code, 1,
        "not everything could be delivered before the deadline"
    );

    let queue_directory = storage.0.join("otlp");
    let segments: Vec<_> = std::fs::read_dir(&queue_directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let mut file = std::fs::read(&segments[0]).unwrap();
    let found = records(&file);
    assert_eq!(found.len(), 8, "one record per accepted request");
    // Damage the third record's body, and leave a torn record at the end.
    let (offset, length, signal, body) = found[2];
    assert_eq!(signal, 0, "a trace request");
    let lost: BTreeSet<u64> = ExportTraceServiceRequest::decode(body)
        .unwrap()
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| &scope.spans)
        .map(span_number)
        .collect();
    assert_eq!(lost, (20..30).collect());
    file[offset + length / 2] ^= 0x5a;
    file.extend_from_within(..40);
    std::fs::write(&segments[0], &file).unwrap();

    let listener = down.listen(1024).unwrap();
    let (_, captured) = start_capture_backend_on(listener, Duration::ZERO);
    let mut restarted = start(&overrides);
    assert!(wait_until(Duration::from_secs(20), || captured.span_count() >= 70).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let arrived = arrivals(&captured);
    let expected: BTreeSet<u64> = (0..80).filter(|n| !lost.contains(n)).collect();
    assert_eq!(arrived.keys().copied().collect::<BTreeSet<u64>>(), expected);
    assert!(arrived.values().all(|&count| count == 1), "each once");

    let damaged = restarted
        .self_metric("genai_cost_agent_exporter_storage_damaged_total{exporter=\"otlp\"}")
        .unwrap();
    let skipped = restarted
        .self_metric("genai_cost_agent_exporter_storage_skipped_bytes_total{exporter=\"otlp\"}")
        .unwrap();
    assert_eq!(damaged, 2.0, "the damaged record and the torn tail");
    assert_eq!(skipped, (length + 40) as f64);
    let log = restarted.log().join("\n");
    assert!(log.contains("skipped damaged stretches"), "{log}");
    assert!(log.contains("damaged=2"), "{log}");
    let (code, _) = terminate(&mut restarted);
    assert_eq!(code, 0);
}
