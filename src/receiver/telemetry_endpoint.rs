//! The agent's own HTTP endpoint, served with the receivers' connection handling: `/healthz`
//! (alive), `/readyz` (receivers listening and exporters set up, and memory below the limiter's
//! soft limit), `/metrics` (the self-telemetry counters as Prometheus text), and when enabled the
//! live cost page at `/` with its data at `/api/live?window=15m|1h|24h`. It has its own small
//! connection limit and timeouts, so it answers when the receivers are flooded.

use super::{
    serve, Connection, ConnectionTimeouts, Handler, Responding, ServeLimits, TELEMETRY_CONNECTIONS,
};
use crate::live::{page, LivePage, Window};
use crate::telemetry::{AgentCounters, Health, Listener};
use axum::extract::{RawQuery, State};
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
    live: Option<Arc<LivePage>>,
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
    live: Option<Arc<LivePage>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/", get(live_page))
        .route("/api/live", get(live_summary))
        .route("/api/reconciliation", get(reconciliation))
        .with_state(TelemetryState {
            health,
            counters: counters.clone(),
            live,
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

async fn live_page(State(state): State<TelemetryState>) -> axum::response::Response {
    match state.live {
        Some(_) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            page::HTML,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "the live page is off: set service.telemetry.page.enabled: true\n",
        )
            .into_response(),
    }
}

/// The latest comparison with the providers' reports, as JSON; 404 before the first one (or
/// with reconciliation off).
async fn reconciliation(State(state): State<TelemetryState>) -> axum::response::Response {
    match state.counters.reconciliation.table() {
        Some(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            json.to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no reconciliation yet\n").into_response(),
    }
}

async fn live_summary(
    State(state): State<TelemetryState>,
    RawQuery(query): RawQuery,
) -> axum::response::Response {
    let Some(live) = state.live else {
        return (StatusCode::NOT_FOUND, "the live page is off\n").into_response();
    };
    let asked = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("window="))
        .unwrap_or("15m");
    let Some(window) = Window::parse(asked) else {
        return (StatusCode::BAD_REQUEST, "window must be 15m, 1h or 24h\n").into_response();
    };
    let summary = live.summary(window);
    match serde_json::to_string(&summary) {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            json,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
