//! The command line: `run` (the default), `validate`, `price`, `report`, `reconcile`; `--config`, `--set`,
//! `--version`. Every command but `report` (which reads ledger files only) loads the
//! configuration and builds the agent's components the same way ([`Components::build`]), so
//! `validate` refuses exactly what `run` would.

use clap::{Parser, Subcommand};
use genai_cost_agent::agent::Components;
use genai_cost_agent::config::{self, ConfigDate, LoadedConfig, LogFormat, LogLevel};
use genai_cost_agent::pricing::explain::{self, PriceQuestion};
use genai_cost_agent::pricing::PriceTime;
use genai_cost_agent::reconcile::{self, poll};
use genai_cost_agent::report;
use genai_cost_agent::telemetry::AgentCounters;
use genai_cost_agent::Agent;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: the hot path allocates per decoded span, and glibc's allocator showed up as ~40%
/// of the agent's CPU under load (see README, "Load benchmark").
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "genai-cost-agent",
    version,
    about = "Prices generative-AI spans in OTLP traffic and forwards everything"
)]
struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = "config.yaml")]
    config: PathBuf,
    /// Override one setting, e.g. `--set exporters.otlp.endpoint=http://collector:4317`.
    #[arg(long = "set", global = true, value_name = "PATH=VALUE")]
    set: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (the default).
    Run,
    /// Check the configuration and exit: 0 when valid, 1 with the reason otherwise.
    Validate,
    /// Price one call with the configured catalog and explain the result.
    Price(PriceArgs),
    /// Sum up cost ledger files: the figures, rollups, the Pareto line and the top calls.
    Report(ReportArgs),
    /// Compare the ledger with the providers' usage and cost reports (the `reconcile` section),
    /// per provider, model and UTC day.
    Reconcile(ReconcileArgs),
}

#[derive(clap::Args)]
struct ReconcileArgs {
    /// The first UTC day compared (`YYYY-MM-DD`); by default `reconcile.days` before `--to`.
    #[arg(long, value_parser = ConfigDate::parse)]
    from: Option<ConfigDate>,
    /// The last UTC day compared; by default today.
    #[arg(long, value_parser = ConfigDate::parse)]
    to: Option<ConfigDate>,
    /// Ledger files or directories; by default the configured ledger's directory.
    #[arg(long = "ledger", value_name = "LEDGER")]
    ledgers: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: ReconcileFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReconcileFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Ledger files (JSON lines), or directories of them.
    #[arg(required = true, value_name = "LEDGER")]
    ledgers: Vec<PathBuf>,
    /// Calls that ended at or after this UTC date (`YYYY-MM-DD`) or time (`YYYY-MM-DDTHH:MM[:SS]Z`).
    #[arg(long, value_parser = report::Selection::from_bound)]
    from: Option<String>,
    /// Calls that ended before this time, or on or before this date.
    #[arg(long, value_parser = report::Selection::to_bound)]
    to: Option<String>,
    /// Rollup keys: day, model, provider, service, operation, status, price_id, or an
    /// attribution key such as user.id, team, feature.
    #[arg(long, value_delimiter = ',', default_value = "day,model")]
    by: Vec<String>,
    /// How many of the most expensive calls to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    #[arg(long, value_enum, default_value = "text")]
    format: report::Format,
}

#[derive(clap::Args)]
struct PriceArgs {
    /// The model id as the provider or instrumentation reports it.
    #[arg(long, required_unless_present = "list")]
    model: Option<String>,
    /// The provider as spans name it (`gen_ai.provider.name`: anthropic, openai, aws.bedrock,
    /// azure.ai.openai, gcp.vertex_ai…); genai-prices' data is searched by provider first.
    /// With `--list`: entries of this provider only.
    #[arg(long)]
    provider: Option<String>,
    /// Input tokens neither read from nor written to the cache.
    #[arg(long, default_value_t = 0)]
    input: u64,
    #[arg(long, default_value_t = 0)]
    output: u64,
    #[arg(long, default_value_t = 0)]
    cache_read: u64,
    /// Cache writes with the 5-minute lifetime.
    #[arg(long, default_value_t = 0)]
    cache_write: u64,
    #[arg(long = "cache-write-1h", default_value_t = 0)]
    cache_write_1h: u64,
    #[arg(long, default_value_t = 0)]
    web_searches: u64,
    /// Price as a batch request.
    #[arg(long)]
    batch: bool,
    /// When the call was made, UTC: `YYYY-MM-DD` (its start) or `YYYY-MM-DDTHH:MM[:SS]Z`
    /// (prices by the hour); now by default.
    #[arg(long, value_parser = PriceTime::parse)]
    at: Option<PriceTime>,
    /// List the catalog's entries instead (with `--provider` and `--search` to narrow it).
    #[arg(long)]
    list: bool,
    /// With `--list`: entries whose id contains this text.
    #[arg(long, requires = "list")]
    search: Option<String>,
}

/// Transparent huge pages off for this process (`MIMALLOC_ALLOW_THP=1` does not bring them
/// back): mimalloc asks for them where the kernel allows it, and 2 MiB pages kept resident for a
/// few live objects made the agent's peak RSS under load ~40% larger, while zeroing them cost a
/// few percent of its CPU (README, "Load benchmark"). New and existing mappings keep 4 KiB pages.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// How long mimalloc keeps freed memory before giving it back to the system, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. Its own default, a second, holds a second's worth of
/// freed request and batch buffers under load; 10 ms gave the peak RSS ~20% lower at the same
/// CPU (README, "Load benchmark"), while 0 (purge at once) costs far more CPU.
const PURGE_DELAY_MS: std::os::raw::c_long = 10;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (include/mimalloc.h), which the
/// bindings do not name.
#[cfg(not(feature = "system-allocator"))]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc reads its options from the environment when the process loads, so the default
/// is replaced only when the variable is not set.
fn with_short_purge_delay() {
    #[cfg(not(feature = "system-allocator"))]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option of the allocator, which it reads on every purge.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

fn main() -> ExitCode {
    with_short_purge_delay();
    // Before anything is allocated: building the price catalog reads a large file.
    without_transparent_huge_pages();
    let cli = Cli::parse();
    if let Some(Command::Report(args)) = cli.command {
        return report(args);
    }
    let built = config::load_file(&cli.config, &cli.set)
        .and_then(|loaded| Components::build(&loaded).map(|components| (loaded, components)));
    let (loaded, components) = match built {
        Ok(built) => built,
        Err(err) => {
            eprintln!(
                "genai-cost-agent: invalid configuration {}: {err}",
                cli.config.display()
            );
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Validate => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            println!("{}: valid", cli.config.display());
            ExitCode::SUCCESS
        }
        Command::Run => run(loaded, components),
        Command::Price(args) => price(&components, args),
        Command::Report(args) => report(args),
        Command::Reconcile(args) => reconcile_ledger(&loaded, components, args),
    }
}

fn reconcile_ledger(
    loaded: &LoadedConfig,
    components: Components,
    args: ReconcileArgs,
) -> ExitCode {
    let fail = |message: &str| {
        eprintln!("genai-cost-agent: reconcile: {message}");
        ExitCode::FAILURE
    };
    let Some(reconciler) = components.reconciler else {
        return fail("the configuration has no `reconcile` section");
    };
    let ledgers = match (args.ledgers.is_empty(), loaded.config.ledger_directory()) {
        (false, _) => args.ledgers,
        (true, Some(directory)) => vec![directory.to_path_buf()],
        (true, None) => {
            return fail("no ledger: set exporters.ledger.directory or give --ledger");
        }
    };
    let today = ConfigDate::today();
    let to = args.to.unwrap_or(today);
    let from = args.from.unwrap_or(reconciler.window(to).0);
    if from > to {
        return fail("--from is after --to");
    }
    let currency = components.enricher.catalog().currency().to_string();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the runtime: {err}")),
    };
    let compared = runtime.block_on(poll::reconcile(
        &reconciler,
        &reconcile::agent_side::AgentSide::Ledger(ledgers),
        (from, to),
        today,
        &currency,
        &AgentCounters::default(),
        &mut poll::Reported::new(),
    ));
    let comparison = match compared {
        Ok(comparison) => comparison,
        Err(err) => return fail(&err.to_string()),
    };
    match args.format {
        ReconcileFormat::Text => print!("{}", reconcile::table(&comparison.rows, &currency)),
        ReconcileFormat::Json => match serde_json::to_string_pretty(&comparison) {
            Ok(json) => println!("{json}"),
            Err(err) => return fail(&err.to_string()),
        },
    }
    for failure in &comparison.failures {
        eprintln!(
            "genai-cost-agent: reconcile: {}: {}",
            failure.provider, failure.error
        );
    }
    if comparison.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn report(args: ReportArgs) -> ExitCode {
    let selection = report::Selection {
        from: args.from,
        to: args.to,
        by: args.by,
        top: args.top,
    };
    let made = report::ledger_files(&args.ledgers).and_then(|files| {
        let mut entries = Vec::new();
        for file in &files {
            entries.extend(report::read_entries(file)?);
        }
        report::report(entries, &selection)
    });
    match made {
        Ok(made) => {
            print!("{}", report::render(&made, args.format));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("genai-cost-agent: {err}");
            ExitCode::FAILURE
        }
    }
}

fn price(components: &Components, args: PriceArgs) -> ExitCode {
    let catalog = components.enricher.catalog();
    if args.list {
        let filter = explain::ListFilter {
            provider: args.provider,
            search: args.search,
        };
        print!("{}", explain::list(&catalog, &filter));
        return ExitCode::SUCCESS;
    }
    let question = PriceQuestion {
        model: args.model.unwrap_or_default(),
        provider: args.provider,
        uncached_input: args.input,
        output: args.output,
        cache_read: args.cache_read,
        cache_write_5m: args.cache_write,
        cache_write_1h: args.cache_write_1h,
        web_searches: args.web_searches,
        batch: args.batch,
        at: args.at.unwrap_or_else(PriceTime::now),
    };
    match explain::explain(&catalog, &question) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("genai-cost-agent: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(loaded: &LoadedConfig) {
    let logs = &loaded.config.service.telemetry.logs;
    let level = match logs.level {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GENAI_COST_AGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match logs.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(loaded: LoadedConfig, components: Components) -> ExitCode {
    init_logging(&loaded);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(loaded.config.service.worker_threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let agent = match Agent::start_with(&loaded, components).await {
            Ok(agent) => agent,
            Err(err) => {
                tracing::error!("cannot start: {err}");
                return ExitCode::FAILURE;
            }
        };
        wait_for_signal().await;
        tracing::info!("stopping: no new data accepted; flushing queues");
        if agent.shutdown().await {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
