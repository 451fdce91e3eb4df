//! `dlm serve`: run a coordinator (gRPC services and lease reaper) and the
//! HTTP API over a PostgreSQL or SQLite database until SIGTERM or SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use dlm_coordinator::{Coordinator, CoordinatorConfig, Token};
use dlm_http::HttpSettings;
use dlm_store::{ConnectOptions, Store};

use super::signals::shutdown_signal;

/// Maximum lease duration accepted, in seconds (one day).
const MAX_LEASE_SECONDS: f64 = 86_400.0;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Database URL: postgres://USER@HOST:PORT/DATABASE or sqlite:PATH
    /// (the SQLite file is created when missing).
    #[arg(long, env = "DLM_DATABASE_URL")]
    database_url: String,

    /// Address the gRPC server listens on, as HOST:PORT; port 0 picks a
    /// free port, printed on standard output.
    #[arg(long = "grpc", env = "DLM_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    grpc_addr: SocketAddr,

    /// Address the HTTP API listens on, as HOST:PORT; port 0 picks a free
    /// port, printed on standard output.
    #[arg(long = "http", env = "DLM_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,

    /// Largest HTTP request body accepted, in bytes; larger requests get 413.
    #[arg(long, env = "DLM_HTTP_MAX_BODY_BYTES", default_value_t = dlm_http::DEFAULT_MAX_BODY_BYTES)]
    http_max_body_bytes: usize,

    /// Bearer token workers must send. Required for gRPC to listen on a
    /// non-loopback address unless --insecure is given.
    #[arg(long, env = "DLM_WORKER_TOKEN", hide_env_values = true)]
    worker_token: Option<String>,

    /// Bearer token callers of the gRPC Sweeps service (submit, get, list,
    /// cancel, watch) and of mutating HTTP requests (POST) must send; unset
    /// admits every caller. Required for HTTP to listen on a non-loopback
    /// address unless --insecure is given.
    #[arg(long, env = "DLM_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,

    /// Lease duration in seconds: a worker that sends no heartbeat for this
    /// long loses its runs to the queue.
    #[arg(long, env = "DLM_LEASE_SECONDS", default_value_t = 60.0)]
    lease_seconds: f64,

    /// Failed attempts (expired leases or reported failures) after which a
    /// run is marked failed.
    #[arg(long, env = "DLM_MAX_ATTEMPTS", default_value_t = 3)]
    max_attempts: u32,

    /// Largest sweep accepted, in runs; larger sweeps are rejected whole.
    #[arg(long, env = "DLM_MAX_RUNS_PER_SWEEP", default_value_t = dlm_sweep::DEFAULT_MAX_RUNS)]
    max_runs_per_sweep: u64,

    /// Listen on non-loopback addresses even without the worker token (gRPC)
    /// or the API token (HTTP).
    #[arg(long)]
    insecure: bool,
}

/// Runs the coordinator until a shutdown signal arrives.
pub fn execute(args: ServeArgs) -> anyhow::Result<()> {
    let config = coordinator_config(&args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, config))
}

async fn serve(args: ServeArgs, config: CoordinatorConfig) -> anyhow::Result<()> {
    let store = Store::open(&args.database_url, &ConnectOptions::default())
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&args.database_url)))?;

    let listener = tokio::net::TcpListener::bind(args.grpc_addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.grpc_addr))?;
    let address = listener.local_addr().context("cannot read the bound address")?;
    let http_listener = tokio::net::TcpListener::bind(args.http_addr)
        .await
        .with_context(|| format!("cannot listen on {} for HTTP", args.http_addr))?;
    let http_address = http_listener
        .local_addr()
        .context("cannot read the bound HTTP address")?;

    // Tests and scripts read these lines to find ports chosen by the system.
    // A reader may close the pipe after the line it needs, so write errors
    // are ignored rather than fatal.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "gRPC listening on {address}");
    let _ = writeln!(stdout, "HTTP listening on {http_address}");
    let _ = stdout.flush();
    tracing::info!(
        grpc = %address,
        http = %http_address,
        backend = store.backend_name(),
        lease_seconds = args.lease_seconds,
        max_attempts = args.max_attempts,
        "coordinator started"
    );

    let http_settings = HttpSettings {
        api_token: config.api_token.clone(),
        max_body_bytes: args.http_max_body_bytes,
        max_runs_per_sweep: config.max_runs_per_sweep,
        lease_duration: config.lease_duration,
    };
    let router = dlm_http::router(store.clone(), http_settings);

    // One signal stops both servers: the gRPC side learns it from the
    // watch channel the signal task sets.
    let (stop_sender, stop_receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_sender.send(true);
    });
    let grpc = Coordinator::new(store.clone(), config).serve(listener, stopped(stop_receiver.clone()));
    let http = dlm_http::serve(http_listener, router, stopped(stop_receiver));
    let (grpc_result, http_result) = tokio::join!(grpc, http);
    grpc_result.context("the gRPC server failed")?;
    http_result.context("the HTTP server failed")?;

    store.close().await;
    tracing::info!("coordinator stopped");
    Ok(())
}

fn coordinator_config(args: &ServeArgs) -> anyhow::Result<CoordinatorConfig> {
    if !(args.lease_seconds.is_finite()
        && args.lease_seconds > 0.0
        && args.lease_seconds <= MAX_LEASE_SECONDS)
    {
        bail!(
            "invalid --lease-seconds {}: expected seconds in (0, {MAX_LEASE_SECONDS}]",
            args.lease_seconds
        );
    }
    if args.max_attempts == 0 {
        bail!("invalid --max-attempts 0: allow at least one attempt");
    }
    if args.max_runs_per_sweep == 0 {
        bail!("invalid --max-runs-per-sweep 0: allow at least one run");
    }

    let worker_token = args.worker_token.as_deref().and_then(Token::new);
    if !args.grpc_addr.ip().is_loopback() && worker_token.is_none() && !args.insecure {
        bail!(
            "refusing to listen on the non-loopback address {} without a worker token: \
             set DLM_WORKER_TOKEN (or --worker-token), or pass --insecure",
            args.grpc_addr
        );
    }

    let api_token = args.api_token.as_deref().and_then(Token::new);
    if !args.http_addr.ip().is_loopback() && api_token.is_none() && !args.insecure {
        bail!(
            "refusing to serve HTTP on the non-loopback address {} without an API token: \
             set DLM_API_TOKEN (or --api-token), or pass --insecure",
            args.http_addr
        );
    }
    if args.http_max_body_bytes == 0 {
        bail!("invalid --http-max-body-bytes 0: allow at least one byte");
    }

    let mut config =
        CoordinatorConfig::with_lease_duration(Duration::from_secs_f64(args.lease_seconds));
    config.max_attempts = args.max_attempts;
    config.max_runs_per_sweep = args.max_runs_per_sweep;
    config.worker_token = worker_token;
    config.api_token = api_token;
    Ok(config)
}

/// Completes once `stop` becomes true.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Returns the URL without a password, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    let user = credentials.split(':').next().unwrap_or("");
    format!("{scheme}://{user}@{host}")
}
