//! The agent's own HTTP endpoint, served with the receivers' connection handling: `/healthz`
//! (alive), `/readyz` (receivers listening and exporters set up, and memory below the limiter's
//! soft limit), `/metrics` (the self-telemetry counters as Prometheus text). It has its own small
//! connection limit and timeouts, so it answers when the receivers are flooded.

use super::{
    serve, Connection, ConnectionTimeouts, Handler, Responding, ServeLimits, TELEMETRY_CONNECTIONS,
};
use crate::telemetry::{AgentCounters, Health, Listener};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

#[derive(Clone)]
struct TelemetryState {
    health: Arc<Health>,
    counters: Arc<AgentCounters>,
}

/// The routes as a connection handler.
#[derive(Clone)]
struct Routes(Router);

impl Handler for Routes {
    type Body = axum::body::Body;
    fn handle(
        &self,
        request: http::Request<hyper::body::Incoming>,
        _connection: Arc<Connection>,
    ) -> Responding<axum::body::Body> {
        let router = self.0.clone();
        Box::pin(async move {
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }
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
        .with_state(TelemetryState {
            health,
            counters: counters.clone(),
        });
    let limits = ServeLimits {
        tls: None,
        listener: Listener::Telemetry,
        max_connections: TELEMETRY_CONNECTIONS,
        timeouts: ConnectionTimeouts {
            idle: Some(Duration::from_secs(60)),
            header: Some(Duration::from_secs(10)),
            max_age: None,
            age_grace: None,
        },
        http2_only: None,
        connection_budget: 0,
    };
    serve(listener, limits, Routes(router), counters, shutdown).await
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
