//! Assembling and running the agent: the components the configuration describes (built once,
//! [`Components`]), exporters and their queues first, then the derived metrics, the receivers
//! and the telemetry server; shutdown in the reverse order (stop intake, flush the derived
//! metrics, drain the queues, exit).

mod catalog_reload;
mod components;
mod receivers;

pub use components::Components;

use crate::config::{
    BatchConfig, Config, FsyncPolicy, LoadedConfig, RetryConfig, SendingQueueConfig,
};
use crate::enrich::hold::{HoldBuffer, Release};
use crate::exporter::{
    disk, Amount, DebugExporter, ExportQueue, ExportWorker, Exporter, QueueLimits, QueueReceiver,
    WorkerLimits,
};
use crate::ledger::days::RunningSpend;
use crate::ledger::Ledger;
use crate::live::LivePage;
use crate::metrics::{agent_identity, run_flusher, serve_prometheus, DerivedMetrics};
use crate::pipeline::{Intake, Route};
use crate::pricing::UnpricedReason;
use crate::receiver::{serve_telemetry, CloseReason};
use crate::reconcile;
use crate::reconcile::agent_side::AgentSide;
use crate::telemetry::{AgentCounters, ExporterCounters, Health};
use receivers::{admission, start_memory_limiter, start_receivers};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{key}: cannot listen on {address}: {source}")]
    Bind {
        key: &'static str,
        address: String,
        source: std::io::Error,
    },
    #[error("exporters.{0}: {1}")]
    Exporter(String, crate::exporter::ExportError),
    #[error("exporters.{0}.sending_queue.storage: {1}")]
    Storage(String, crate::exporter::disk::DiskError),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    MemoryLimiter(#[from] crate::receiver::LimiterError),
    #[error("{0}")]
    TokenFile(#[from] crate::receiver::TokenFileError),
    #[error("exporters.ledger.directory: {0}")]
    Ledger(std::io::Error),
}

/// A running agent. Dropping it without [`Agent::shutdown`] abandons queued data.
pub struct Agent {
    grpc_address: Option<SocketAddr>,
    http_address: Option<SocketAddr>,
    telemetry_address: SocketAddr,
    prometheus_address: Option<SocketAddr>,
    counters: Arc<AgentCounters>,
    metrics: Option<Arc<DerivedMetrics>>,
    ledger: Option<Arc<Ledger>>,
    health: Arc<Health>,
    stop_receivers: watch::Sender<bool>,
    stop_hold: watch::Sender<bool>,
    stop_metrics: watch::Sender<bool>,
    stop_exporters: watch::Sender<bool>,
    /// Every exporter's queue, to flush persistent ones at shutdown.
    queues: Vec<ExportQueue>,
    receivers: Vec<JoinHandle<()>>,
    flusher: Option<JoinHandle<()>>,
    releaser: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
    servers: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

async fn bind(key: &'static str, address: &str) -> Result<(TcpListener, SocketAddr), StartError> {
    let bind_error = |source| StartError::Bind {
        key,
        address: address.to_string(),
        source,
    };
    let listener = TcpListener::bind(address).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    Ok((listener, local))
}

async fn stopped(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

/// Runs a server task, logging how it ended if it failed.
fn spawn_server<E: std::fmt::Display>(
    name: impl std::fmt::Display + Send + 'static,
    serve: impl Future<Output = Result<(), E>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(err) = serve.await {
            tracing::error!("{name} stopped: {err}");
        }
    })
}

fn limits(queue: &SendingQueueConfig, batch: &BatchConfig, retry: &RetryConfig) -> WorkerLimits {
    WorkerLimits {
        send_batch_size: batch.send_batch_size,
        max_batch_bytes: batch.max_size_mib.0,
        batch_timeout: batch.timeout.0,
        num_consumers: queue.num_consumers,
        retry: retry.clone(),
    }
}

/// The exporter's queue, in memory or (with `storage`) in `<storage>/<exporter name>`.
fn open_queue(
    name: &str,
    config: &SendingQueueConfig,
    counters: Arc<ExporterCounters>,
) -> Result<(ExportQueue, QueueReceiver), StartError> {
    let limits = QueueLimits {
        capacity: Amount {
            items: config.queue_size as u64,
            bytes: config.queue_size_mib << 20,
        },
        retry_after: config.retry_after.0,
        enqueue_timeout: config.enqueue_timeout.0,
    };
    let Some(storage) = &config.storage else {
        return Ok(ExportQueue::in_memory(limits, counters));
    };
    let options = disk::DiskOptions {
        directory: storage.join(name.replace('/', "-")),
        sync: match config.fsync {
            FsyncPolicy::Always => disk::SyncPolicy::Always,
            FsyncPolicy::Interval => disk::SyncPolicy::Interval(config.fsync_interval.0),
            FsyncPolicy::Never => disk::SyncPolicy::Never,
        },
        // Small enough that delivered data leaves the disk soon, large enough to keep the
        // number of files low.
        segment_bytes: (limits.capacity.bytes / 16).clamp(1 << 20, 64 << 20),
    };
    ExportQueue::on_disk(limits, options, counters)
        .map_err(|error| StartError::Storage(name.to_string(), error))
}

/// One exporter to start: its name, the exporter, its queue and batching, the signals it gets.
struct PlannedExporter<'a> {
    name: String,
    exporter: Exporter,
    queue: &'a SendingQueueConfig,
    limits: WorkerLimits,
    signals: [bool; 3],
}

/// The configured exporters with their queue and batching settings.
fn exporters<'a>(
    loaded: &'a LoadedConfig,
    components: &Components,
) -> Result<Vec<PlannedExporter<'a>>, StartError> {
    let config = &loaded.config;
    let mut exporters = Vec::new();
    for (named, tls) in loaded.otlp.iter().zip(&components.exporter_tls) {
        let otlp = &config.exporters.otlp[&named.name];
        exporters.push(PlannedExporter {
            name: named.name.clone(),
            exporter: Exporter::otlp(&named.settings, tls)
                .map_err(|err| StartError::Exporter(named.name.clone(), err))?,
            queue: &otlp.sending_queue,
            limits: limits(&otlp.sending_queue, &otlp.batch, &otlp.retry_on_failure),
            signals: named.signals,
        });
    }
    if loaded.debug_exporter_enabled() {
        let debug = &config.exporters.debug;
        let reader = components.reader.clone();
        let no_retries = RetryConfig {
            enabled: false,
            ..RetryConfig::default()
        };
        exporters.push(PlannedExporter {
            name: "debug".into(),
            exporter: Exporter::Debug(DebugExporter::start(debug.summary_interval.0, reader)),
            queue: &debug.sending_queue,
            limits: limits(&debug.sending_queue, &debug.batch, &no_retries),
            signals: [true; 3],
        });
    }
    Ok(exporters)
}

impl Agent {
    /// Builds the components of `loaded` and starts every stage; returns once all listeners
    /// are bound and the agent is ready.
    pub async fn start(loaded: &LoadedConfig) -> Result<Agent, StartError> {
        let components = Components::build(loaded)?;
        Self::start_with(loaded, components).await
    }

    /// Starts every stage with components already built from `loaded`.
    pub async fn start_with(
        loaded: &LoadedConfig,
        components: Components,
    ) -> Result<Agent, StartError> {
        let config = &loaded.config;
        let counters = Arc::new(AgentCounters::default());
        counters.declare_unpriced_reasons::<UnpricedReason>();
        counters.declare_releases::<Release>();
        counters.receiver.declare_close_reasons::<CloseReason>();
        let health = Arc::new(Health::default());
        let (stop_receivers, _) = watch::channel(false);
        let (stop_hold, _) = watch::channel(false);
        let (stop_metrics, _) = watch::channel(false);
        let (stop_exporters, _) = watch::channel(false);

        let mut queues = Vec::new();
        let mut queue_handles = Vec::new();
        let mut workers = Vec::new();
        for planned in exporters(loaded, &components)? {
            let exporter_counters = ExporterCounters::register(&planned.name, &counters);
            let (queue, receiver) =
                open_queue(&planned.name, planned.queue, exporter_counters.clone())?;
            tracing::info!(exporter = %planned.name, persistent = planned.queue.storage.is_some(), "exporter ready");
            let worker = ExportWorker::new(
                planned.name.clone(),
                planned.exporter,
                planned.limits,
                exporter_counters.clone(),
            );
            workers.push(tokio::spawn(
                worker.run(receiver, stop_exporters.subscribe()),
            ));
            queue_handles.push(queue.clone());
            queues.push(Route {
                name: planned.name,
                queue,
                signals: planned.signals,
                counters: exporter_counters,
            });
        }

        let Components {
            enricher,
            receiver_tls,
            reconciler,
            ..
        } = components;
        let catalog_cell = enricher.catalog_cell().clone();
        let metrics = config.metrics.enabled.then(|| {
            Arc::new(DerivedMetrics::new(
                &config.metrics,
                enricher.catalog().currency(),
                agent_identity(),
                counters.clone(),
            ))
        });
        let ledger_files = config.exporters.ledger.as_ref().and_then(|ledger| {
            let directory = ledger.directory.as_ref()?;
            Some(Ledger::start(ledger, directory, counters.clone()).map(Arc::new))
        });
        let ledger = ledger_files.transpose().map_err(StartError::Ledger)?;
        let hold = hold_buffer(config);
        let holding = hold.is_some();
        let mut intake = Intake::new(enricher, queues, metrics.clone(), hold, counters.clone());
        if let Some(ledger) = &ledger {
            intake = intake.with_ledger(ledger.clone());
        }
        if config
            .exporters
            .ledger
            .as_ref()
            .is_some_and(|ledger| ledger.otlp_logs)
        {
            intake = intake.with_ledger_logs();
        }
        let page = &config.service.telemetry.page;
        let live = page.enabled.then(|| {
            Arc::new(LivePage::new(
                page,
                &config.metrics.attribution.keys,
                counters.clone(),
            ))
        });
        if let Some(live) = &live {
            intake = intake.with_live_page(live.clone());
        }
        let reconcile_side =
            reconciler
                .as_ref()
                .map(|reconciler| match config.ledger_directory() {
                    Some(directory) => AgentSide::Ledger(vec![directory.to_path_buf()]),
                    None => AgentSide::Running(Arc::new(RunningSpend::new(reconciler.days()))),
                });
        if let Some(AgentSide::Running(spend)) = &reconcile_side {
            intake = intake.with_running_spend(spend.clone());
        }
        let currency = intake.currency();
        let intake = Arc::new(intake);
        let releaser =
            holding.then(|| tokio::spawn(run_releaser(intake.clone(), stop_hold.subscribe())));
        let flusher = metrics.clone().map(|metrics| {
            tokio::spawn(run_flusher(
                metrics,
                intake.clone(),
                config.metrics.interval.0,
                stop_metrics.subscribe(),
            ))
        });

        let mut servers = Vec::new();
        if let (Some(reconciler), Some(side)) = (reconciler, reconcile_side) {
            servers.push(tokio::spawn(reconcile::poll::run(
                reconciler,
                side,
                currency,
                counters.clone(),
                stop_exporters.subscribe(),
            )));
        }
        servers.push(catalog_reload::spawn_catalog_reload(
            &config.pricing,
            catalog_cell,
            counters.clone(),
            stop_exporters.subscribe(),
        ));
        let prometheus_address = match (&metrics, config.metrics.prometheus.enabled) {
            (Some(metrics), true) => {
                let (listener, address) = bind(
                    "metrics.prometheus.endpoint",
                    &config.metrics.prometheus.endpoint.0,
                )
                .await?;
                servers.push(spawn_server(
                    "Prometheus endpoint",
                    serve_prometheus(
                        listener,
                        metrics.clone(),
                        stopped(stop_exporters.subscribe()),
                    ),
                ));
                tracing::info!(%address, "derived metrics for Prometheus at /metrics");
                Some(address)
            }
            _ => None,
        };
        let limiter = start_memory_limiter(config, &health, &counters, &stop_exporters)?;
        let admission = admission(config, limiter, &counters);
        let (receivers, grpc_address, http_address) = start_receivers(
            config,
            &receiver_tls,
            &intake,
            &admission,
            &counters,
            &stop_receivers,
        )
        .await?;
        drop(intake);

        let (listener, telemetry_address) = bind(
            "service.telemetry.endpoint",
            &config.service.telemetry.endpoint.0,
        )
        .await?;
        servers.push(spawn_server(
            "telemetry server",
            serve_telemetry(
                listener,
                health.clone(),
                counters.clone(),
                live,
                stopped(stop_exporters.subscribe()),
            ),
        ));
        // Ready before the address is logged: whoever waits for that line finds /readyz true.
        health.set_ready(true);
        tracing::info!(address = %telemetry_address, "health and metrics at /healthz, /readyz, /metrics");
        if page.enabled {
            tracing::info!("live cost page at http://{telemetry_address}/");
        }
        Ok(Agent {
            grpc_address,
            http_address,
            telemetry_address,
            prometheus_address,
            counters,
            metrics,
            ledger,
            health,
            stop_receivers,
            stop_hold,
            stop_metrics,
            stop_exporters,
            queues: queue_handles,
            receivers,
            flusher,
            releaser,
            workers,
            servers,
            shutdown_timeout: config.service.shutdown_timeout.0,
        })
    }

    pub fn grpc_address(&self) -> Option<SocketAddr> {
        self.grpc_address
    }
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http_address
    }
    pub fn telemetry_address(&self) -> SocketAddr {
        self.telemetry_address
    }
    pub fn prometheus_address(&self) -> Option<SocketAddr> {
        self.prometheus_address
    }
    pub fn counters(&self) -> &Arc<AgentCounters> {
        &self.counters
    }
    pub fn metrics(&self) -> Option<&Arc<DerivedMetrics>> {
        self.metrics.as_ref()
    }

    /// Stops intake, sends the derived metrics a last time, exports what is queued within the
    /// shutdown timeout, and stops. Returns whether everything queued was exported in time.
    pub async fn shutdown(self) -> bool {
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        self.health.set_ready(false);
        let _ = self.stop_receivers.send(true);
        for receiver in self.receivers {
            if tokio::time::timeout_at(deadline, receiver).await.is_err() {
                tracing::warn!(
                    "a receiver did not finish its requests before the shutdown timeout"
                );
            }
        }
        let _ = self.stop_hold.send(true);
        if let Some(releaser) = self.releaser {
            let _ = tokio::time::timeout_at(deadline, releaser).await;
        }
        let _ = self.stop_metrics.send(true);
        if let Some(flusher) = self.flusher {
            let _ = tokio::time::timeout_at(deadline, flusher).await;
        }
        // Every call is recorded once the receivers and the hold are done: write them (a disk
        // that hangs past the deadline abandons what is still to be written).
        if let Some(ledger) = self.ledger {
            let writing = tokio::task::spawn_blocking(move || ledger.shutdown());
            if tokio::time::timeout_at(deadline, writing).await.is_err() {
                tracing::error!("the ledger did not finish writing before the shutdown timeout");
            }
        }
        // Whatever was handed to a persistent queue is on disk before its worker may stop.
        for queue in &self.queues {
            let _ = tokio::time::timeout_at(deadline, queue.flush()).await;
        }
        let _ = self.stop_exporters.send(true);
        let mut drained = true;
        for worker in self.workers {
            let abort = worker.abort_handle();
            if tokio::time::timeout_at(deadline, worker).await.is_err() {
                abort.abort();
                drained = false;
            }
        }
        if !drained {
            tracing::error!("shutdown timeout reached with data still queued: exporters with a persistent queue send it after the next start, the others lost it");
        }
        for server in self.servers {
            let _ = server.await;
        }
        drained
    }
}

/// The attribution hold, when configured (it needs attribution keys, and the metrics, the
/// ledger or the live page to record the calls).
fn hold_buffer(config: &Config) -> Option<HoldBuffer> {
    let metrics = &config.metrics;
    let attribution = &metrics.attribution;
    let hold = &attribution.hold;
    (config.records_calls() && hold.enabled && !attribution.keys.is_empty()).then(|| {
        HoldBuffer::new(
            attribution.keys.clone(),
            attribution.copy_to_span,
            hold.max_wait.0,
            hold.max_spans,
            hold.max_bytes_mib.0,
        )
    })
}

/// Releases held spans whose wait is over, ten times a second; all of them when stopping. The
/// stop comes after the receivers stopped and before the last metrics flush.
async fn run_releaser(intake: Arc<Intake>, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = ticker.tick() => intake.release_due(false),
            _ = stop.changed() => break,
        }
    }
    intake.release_due(true);
}

#[cfg(test)]
mod tests;
