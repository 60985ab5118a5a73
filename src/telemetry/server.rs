//! The health and self-metrics HTTP server: `/healthz` (alive), `/readyz` (receivers listening
//! and exporters set up), `/metrics` (Prometheus text).

use super::AgentCounters;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Readiness, flipped once start-up is complete and back when shutdown begins.
#[derive(Default)]
pub struct Health {
    ready: AtomicBool,
}

impl Health {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct TelemetryState {
    health: Arc<Health>,
    counters: Arc<AgentCounters>,
}

/// Serves the telemetry endpoints on `listener` until `shutdown` completes.
pub async fn serve_telemetry(
    listener: TcpListener,
    health: Arc<Health>,
    counters: Arc<AgentCounters>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(TelemetryState { health, counters });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn readyz(State(state): State<TelemetryState>) -> impl IntoResponse {
    if state.health.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics(State(state): State<TelemetryState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.counters.render_prometheus(),
    )
}
