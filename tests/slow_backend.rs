//! A backend slower than the senders: the agent's queue fills up to its byte limit, senders are
//! told to back off (UNAVAILABLE with RetryInfo), the agent's memory stays bounded, and every
//! span it acknowledged is delivered.

mod common;

use common::binary::*;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REQUEST_SPANS: u64 = 200;
const QUEUE_MIB: u64 = 4;

/// Spans numbered `first..first + count`, each carrying 1 KiB of attribute text.
fn heavy_spans(first: u64, count: u64) -> ExportTraceServiceRequest {
    let payload = "x".repeat(1024);
    let spans = (first..first + count)
        .map(|number| Span {
            attributes: vec![text("db.statement", &payload)],
            ..numbered_span(number)
        })
        .collect();
    traces_request(spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_backend_fills_the_queue_and_senders_back_off_within_bounded_memory() {
    let (backend, captured) = start_slow_capture_backend(Duration::from_millis(200)).await;
    let mut agent = start_binary(&[
        &format!("exporters.otlp.endpoint=http://{backend}"),
        "exporters.otlp.compression=none",
        "exporters.otlp.sending_queue.queue_size=100000",
        &format!("exporters.otlp.sending_queue.queue_size_mib={QUEUE_MIB}"),
        "exporters.otlp.sending_queue.num_consumers=2",
        "exporters.otlp.batch.send_batch_size=1000",
        "exporters.otlp.batch.timeout=50ms",
        "metrics.enabled=false",
    ]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_kib = agent.resident_kib();

    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let refused = Arc::new(AtomicU64::new(0));
    // Bounded in time and in count: 8 s, or 256 MiB sent.
    let until = Instant::now() + Duration::from_secs(8);
    let enough = 256 * 1024 * 1024 / (REQUEST_SPANS * 1100) * REQUEST_SPANS;
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (next, acknowledged, refused) = (next.clone(), acknowledged.clone(), refused.clone());
        let mut client = TraceServiceClient::connect(format!("http://{}", agent.grpc))
            .await
            .unwrap();
        clients.push(tokio::spawn(async move {
            while Instant::now() < until {
                let first = next.fetch_add(REQUEST_SPANS, Ordering::Relaxed);
                if first >= enough {
                    break;
                }
                match client.export(heavy_spans(first, REQUEST_SPANS)).await {
                    Ok(_) => acknowledged
                        .lock()
                        .unwrap()
                        .extend(first..first + REQUEST_SPANS),
                    Err(status) => {
                        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
                        refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    let (mut peak_kib, mut peak_queue_bytes) = (0, 0.0f64);
    while Instant::now() < until && next.load(Ordering::Relaxed) < enough {
        peak_kib = peak_kib.max(agent.resident_kib());
        let queued = agent
            .self_metric("genai_cost_agent_exporter_queue_size_bytes{exporter=\"otlp\"}")
            .unwrap_or(0.0);
        peak_queue_bytes = peak_queue_bytes.max(queued);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent_requests = next.load(Ordering::Relaxed).min(enough) / REQUEST_SPANS;
    eprintln!(
        "slow backend: {sent_requests} requests sent, {} refused, {} spans acknowledged; peak queue {:.1} MiB (limit {QUEUE_MIB} MiB); resident memory idle {} MiB, peak {} MiB",
        refused.load(Ordering::Relaxed),
        acknowledged.len(),
        peak_queue_bytes / 1048576.0,
        idle_kib / 1024,
        peak_kib / 1024,
    );
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "senders were told to back off"
    );
    // The queue never holds more than its limit plus the one request that may enter an
    // almost full queue.
    let request_bytes = 200.0 * 1100.0;
    assert!(peak_queue_bytes > 0.0);
    assert!(
        peak_queue_bytes <= (QUEUE_MIB << 20) as f64 + request_bytes,
        "{peak_queue_bytes}"
    );
    // Memory: the queue, the batches being sent and decoding buffers, far below what was sent.
    let sent_mib = sent_requests * REQUEST_SPANS * 1100 / (1 << 20);
    assert!(
        sent_mib > 3 * 64,
        "the load is larger than the bound: {sent_mib} MiB"
    );
    assert!(
        peak_kib < idle_kib + 64 * 1024,
        "peak {peak_kib} KiB, idle {idle_kib} KiB"
    );

    assert!(
        wait_until(Duration::from_secs(30), || captured.span_count()
            >= acknowledged.len())
        .await
    );
    let delivered: BTreeSet<u64> = captured.spans().iter().map(span_number).collect();
    assert_eq!(delivered, acknowledged, "exactly the acknowledged spans");
    let (code, _) = terminate(&mut agent);
    assert_eq!(code, 0);
}
