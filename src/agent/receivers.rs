//! Assembling the receivers: the memory limiter and the admission budget they share, each
//! protocol's connection limits, TLS and bearer tokens, and binding and serving them.

use super::{bind, spawn_server, stopped, StartError};
use crate::config::{AuthConfig, Config, GrpcReceiverConfig, HttpReceiverConfig};
use crate::pipeline::Intake;
use crate::receiver::{
    descriptor_plan, raise_descriptor_limit, serve_grpc, serve_http, Admission, AdmissionLimits,
    BearerAuth, ConnectionTimeouts, DescriptorPlan, GrpcReceiver, Http2Limits, HttpReceiver,
    MemoryLimiter, PingPolicy, ReceiverCommon, ReceiverTls, ServeLimits, ServerTls,
};
use crate::telemetry::{AgentCounters, Health, Listener};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
pub(super) type ReceiverTasks = (Vec<JoinHandle<()>>, Option<SocketAddr>, Option<SocketAddr>);

/// Binds a receiver's endpoint (`key`, address) and serves it with `serve`; logs where it
/// listens (`protocol`: `gRPC`, `HTTP`).
async fn start_receiver<Serving>(
    protocol: &'static str,
    (key, endpoint): (&'static str, &str),
    limits: ServeLimits,
    serve: impl FnOnce(TcpListener, ServeLimits) -> Serving,
) -> Result<(JoinHandle<()>, SocketAddr), StartError>
where
    Serving: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let (listener, address) = bind(key, endpoint).await?;
    let max_connections = limits.max_connections;
    let task = spawn_server(format!("{protocol} receiver"), serve(listener, limits));
    tracing::info!(%address, max_connections, "OTLP/{protocol} receiver listening");
    Ok((task, address))
}

/// The memory limiter and its sampling task, when a limit is configured.
pub(super) fn start_memory_limiter(
    config: &Config,
    health: &Arc<Health>,
    counters: &Arc<AgentCounters>,
    stop: &watch::Sender<bool>,
) -> Result<Option<Arc<MemoryLimiter>>, StartError> {
    let limiter = MemoryLimiter::from_config(&config.memory_limiter)?;
    if let Some(limiter) = &limiter {
        tokio::spawn(
            limiter
                .clone()
                .run(health.clone(), counters.clone(), stop.subscribe()),
        );
    }
    Ok(limiter)
}

/// The admission budget both receivers share.
pub(super) fn admission(
    config: &Config,
    limiter: Option<Arc<MemoryLimiter>>,
    counters: &Arc<AgentCounters>,
) -> Arc<Admission> {
    let admission = &config.receivers.otlp.admission;
    Admission::new(
        AdmissionLimits {
            request_limit: admission.request_limit_mib.0,
            small_reserve: admission.small_request_reserve_mib.0,
            waiting_limit: admission.waiting_limit_mib.0,
            wait_timeout: admission.wait_timeout.0,
        },
        limiter,
        counters.clone(),
    )
}

fn off_when_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

fn grpc_limits(
    config: &GrpcReceiverConfig,
    plan: &DescriptorPlan,
    share: usize,
    tls: Option<Arc<ServerTls>>,
) -> ServeLimits {
    let server = &config.keepalive.server_parameters;
    let policy = &config.keepalive.enforcement_policy;
    ServeLimits {
        listener: Listener::Grpc,
        max_connections: plan.max_connections(
            "receivers.otlp.protocols.grpc.max_connections",
            config.max_connections,
        ),
        timeouts: ConnectionTimeouts {
            idle: off_when_zero(server.max_connection_idle.0),
            header: None,
            max_age: off_when_zero(server.max_connection_age.0),
            age_grace: off_when_zero(server.max_connection_age_grace.0),
        },
        http2_only: Some(Http2Limits {
            max_concurrent_streams: config.max_concurrent_streams,
            keepalive_interval: off_when_zero(server.time.0),
            keepalive_timeout: server.timeout.0,
            pings: Some(PingPolicy {
                min_time: policy.min_time.0,
                permit_without_stream: policy.permit_without_stream,
            }),
        }),
        connection_budget: share,
        tls,
    }
}

fn http_limits(
    config: &HttpReceiverConfig,
    plan: &DescriptorPlan,
    share: usize,
    tls: Option<Arc<ServerTls>>,
) -> ServeLimits {
    ServeLimits {
        listener: Listener::Http,
        max_connections: plan.max_connections(
            "receivers.otlp.protocols.http.max_connections",
            config.max_connections,
        ),
        timeouts: ConnectionTimeouts {
            idle: Some(config.idle_timeout.0),
            header: Some(config.read_header_timeout.0),
            max_age: None,
            age_grace: None,
        },
        http2_only: None,
        connection_budget: share,
        tls,
    }
}

/// The bearer-token checks of the receivers: one for each protocol's own `auth`, and one shared
/// by those without (so a shared token file is watched once).
struct ReceiverAuth<'a> {
    shared: Option<Option<Arc<BearerAuth>>>,
    config: &'a AuthConfig,
    counters: &'a Arc<AgentCounters>,
}

impl ReceiverAuth<'_> {
    /// The check of a receiver with `own` settings, else the shared one.
    fn of(&mut self, own: &Option<AuthConfig>) -> Result<Option<Arc<BearerAuth>>, StartError> {
        match own {
            Some(own) => watched_auth(own, self.counters),
            None => match &self.shared {
                Some(shared) => Ok(shared.clone()),
                None => {
                    let shared = watched_auth(self.config, self.counters)?;
                    self.shared = Some(shared.clone());
                    Ok(shared)
                }
            },
        }
    }
}

/// The bearer-token check of `config`, its token file watched for changes.
fn watched_auth(
    config: &AuthConfig,
    counters: &Arc<AgentCounters>,
) -> Result<Option<Arc<BearerAuth>>, StartError> {
    let auth = BearerAuth::from_config(config, counters.clone())?;
    if let Some(auth) = &auth {
        auth.spawn_reloader();
    }
    Ok(auth)
}

/// Watches a receiver's certificate files for a rotation.
fn watched(tls: &Option<Arc<ServerTls>>) -> Option<Arc<ServerTls>> {
    let tls = tls.clone()?;
    tls.spawn_reloader();
    Some(tls)
}

pub(super) async fn start_receivers(
    config: &Config,
    tls: &ReceiverTls,
    intake: &Arc<Intake>,
    admission: &Arc<Admission>,
    counters: &Arc<AgentCounters>,
    stop: &watch::Sender<bool>,
) -> Result<ReceiverTasks, StartError> {
    let protocols = &config.receivers.otlp.protocols;
    let descriptors = raise_descriptor_limit().unwrap_or(1024);
    let plan = descriptor_plan(descriptors, config);
    let share = config.receivers.otlp.admission.per_connection_limit_mib.0;
    let common = |limits, auth, read_timeout| ReceiverCommon {
        intake: intake.clone(),
        counters: counters.clone(),
        admission: admission.clone(),
        read_timeout,
        limits,
        auth,
    };
    let mut auths = ReceiverAuth {
        shared: None,
        config: &config.receivers.otlp.auth,
        counters,
    };
    let mut tasks = Vec::new();
    let mut grpc_address = None;
    if protocols.grpc.enabled {
        let grpc = &protocols.grpc;
        let auth = auths.of(&grpc.auth)?;
        let limits = grpc_limits(grpc, &plan, share, watched(&tls.grpc));
        let serve = |listener, limits| {
            let receiver = GrpcReceiver {
                common: common(limits, auth, grpc.read_timeout.0),
                max_message_bytes: grpc.max_recv_msg_size_mib.0,
                refuse_with: grpc.refuse_with,
            };
            serve_grpc(listener, receiver, stopped(stop.subscribe()))
        };
        let endpoint = (
            "receivers.otlp.protocols.grpc.endpoint",
            grpc.endpoint.0.as_str(),
        );
        let (task, address) = start_receiver("gRPC", endpoint, limits, serve).await?;
        tasks.push(task);
        grpc_address = Some(address);
    }
    let mut http_address = None;
    if protocols.http.enabled {
        let http = &protocols.http;
        let auth = auths.of(&http.auth)?;
        let limits = http_limits(http, &plan, share, watched(&tls.http));
        let serve = |listener, limits| {
            let receiver = HttpReceiver {
                common: common(limits, auth, http.read_timeout.0),
                max_body_bytes: http.max_request_body_size_mib.0,
                refuse_with: http.refuse_with,
            };
            serve_http(listener, receiver, stopped(stop.subscribe()))
        };
        let endpoint = (
            "receivers.otlp.protocols.http.endpoint",
            http.endpoint.0.as_str(),
        );
        let (task, address) = start_receiver("HTTP", endpoint, limits, serve).await?;
        tasks.push(task);
        http_address = Some(address);
    }
    Ok((tasks, grpc_address, http_address))
}
