//! Sending derived metrics every interval to a [`MetricsSink`] (the exporters' queues, wired
//! where the agent is assembled), and once more when the agent stops; and the identity that
//! keeps two agents' series apart.

use super::DerivedMetrics;
use crate::otlp::EncodedRequest;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Resource attributes of the derived metrics: the agent's service, a per-process instance id,
/// and the node and host it runs on, so series of two agents never collide.
pub fn agent_identity() -> Vec<(String, String)> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
    };
    let instance = read("/proc/sys/kernel/random/uuid")
        .unwrap_or_else(|| format!("{}-{}", std::process::id(), super::unix_nanos_now()));
    let mut identity = vec![
        ("service.name".to_string(), "genai-cost-agent".to_string()),
        ("service.instance.id".to_string(), instance),
        (
            "service.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    if let Some(node) = std::env::var("K8S_NODE_NAME")
        .ok()
        .or_else(|| std::env::var("NODE_NAME").ok())
        .filter(|node| !node.is_empty())
    {
        identity.push(("k8s.node.name".to_string(), node));
    }
    if let Some(host) = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.is_empty())
        .or_else(|| read("/proc/sys/kernel/hostname"))
    {
        identity.push(("host.name".to_string(), host));
    }
    identity
}

/// Where the flusher hands the derived metrics.
pub trait MetricsSink: Send + Sync + 'static {
    /// Queues one encoded request of derived metrics; false when there is no room for it.
    fn send(&self, request: EncodedRequest) -> bool;
}

/// Sends the derived metrics once; with delta temporality the baseline moves only when queued.
pub fn flush_once(metrics: &DerivedMetrics, sink: &impl MetricsSink) {
    let Some(request) = metrics.collect() else {
        return;
    };
    if sink.send(request) {
        metrics.committed();
    } else {
        tracing::warn!("derived metrics not sent this interval: the export queue is full; they are kept for the next");
    }
}

/// Flushes every `interval` until `stop` turns true, then once more.
pub async fn run_flusher(
    metrics: Arc<DerivedMetrics>,
    sink: Arc<impl MetricsSink>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => flush_once(&metrics, &*sink),
            _ = stop.changed() => break,
        }
    }
    flush_once(&metrics, &*sink);
}
