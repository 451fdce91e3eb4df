//! `dlm sweep FILE`: the local mode. One process stores the sweep in SQLite
//! and runs the same coordinator and worker as the distributed mode, over a
//! loopback port, so every simulation takes the distributed code path. When
//! the sweep is finished it prints the results and the fit of the bound,
//! and writes `runs.csv` and `fit.svg` next to the database file.

mod progress;
mod report;
mod session;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dlm_coordinator::{SubmitError, submit_sweep};
use dlm_fit::FitOptions;
use dlm_http::HttpSettings;
use dlm_store::{ConnectOptions, Store, SweepStatus};
use dlm_sweep::{Limits, SpecFormat};
use tokio::net::TcpListener;

use self::progress::Followed;
use self::session::LocalSession;
use super::fit_flags::FitFlags;
use super::signals::shutdown_signal;

/// Arguments of `dlm sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Sweep file in TOML, YAML or JSON, chosen by its extension (.toml,
    /// .yaml, .yml, .json).
    file: PathBuf,

    /// Simulations run at once [default: the number of CPU cores].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,

    /// SQLite database that stores the sweep and every result, as
    /// sqlite://PATH (created when missing). Stored results are reused by
    /// later sweeps; runs.csv and fit.svg are written in the same directory.
    #[arg(long, value_name = "URL", default_value = "sqlite://dlm.sqlite")]
    database: String,

    /// After the sweep, serve the HTTP API on this loopback address
    /// (HOST:PORT; port 0 picks one) until Ctrl-C. The local worker keeps
    /// running sweeps submitted there.
    #[arg(long, value_name = "ADDR")]
    serve: Option<SocketAddr>,

    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,

    #[command(flatten, next_help_heading = "Fit of the bound over the DLM runs")]
    fit: FitFlags,
}

/// Runs `dlm sweep`.
pub fn execute(args: SweepArgs) -> Result<()> {
    // Checked before any simulation, so a bad fit flag costs nothing.
    let fit_options = args.fit.to_options()?;
    let workers = match args.workers {
        Some(0) => bail!("invalid --workers 0: run at least one simulation at a time"),
        Some(workers) => workers,
        None => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
    };
    let database_path = sqlite_path(&args.database)?;
    if let Some(address) = args.serve
        && !address.ip().is_loopback()
    {
        bail!(
            "invalid --serve {address}: the local mode serves the HTTP API without a token, \
             so only on a loopback address such as 127.0.0.1:8080; use dlm serve with an API \
             token to serve other machines"
        );
    }
    let format = SpecFormat::from_path(&args.file)
        .with_context(|| format!("invalid sweep file {}", args.file.display()))?;
    let document = std::fs::read_to_string(&args.file)
        .with_context(|| format!("failed to read the sweep file {}", args.file.display()))?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_sweep(&args, workers, &database_path, document, format, &fit_options))
}

async fn run_sweep(
    args: &SweepArgs,
    workers: usize,
    database_path: &Path,
    document: String,
    format: SpecFormat,
    fit_options: &FitOptions,
) -> Result<()> {
    let http_listener = match args.serve {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for HTTP"))?,
        ),
        None => None,
    };
    let store = Store::open(&args.database, &ConnectOptions::default())
        .await
        .with_context(|| format!("cannot open the database {}", args.database))?;
    let config = session::coordinator_config();
    let limits = Limits {
        max_runs: config.max_runs_per_sweep,
    };

    // The same submission as the Sweeps service's Submit: the whole sweep is
    // stored in one transaction, or nothing when any run is invalid.
    let submitted = match submit_sweep(&store, document, format, limits).await {
        Ok(outcome) => outcome,
        Err(SubmitError::Sweep(error)) => {
            store.close().await;
            bail!("invalid sweep file {}: {error}", args.file.display());
        }
        Err(error) => {
            store.close().await;
            return Err(error).context("failed to store the sweep");
        }
    };
    tracing::info!(
        sweep = submitted.sweep_id,
        runs = submitted.run_count,
        reused = submitted.reused_count,
        "sweep submitted"
    );

    let max_runs_per_sweep = limits.max_runs;
    let mut session = LocalSession::start(store.clone(), config, workers).await?;
    let followed = progress::follow(&store, &submitted, &mut session, shutdown_signal()).await;
    let status = match followed {
        Ok(Followed::Finished(status)) => status,
        Ok(Followed::Interrupted(status)) => {
            session.stop().await?;
            // The draining worker may have finished more runs since.
            let status = store
                .sweep_status(submitted.sweep_id)
                .await
                .unwrap_or(status);
            store.close().await;
            bail!(
                "interrupted with {} of {} runs finished; run the same command again to continue",
                status.counts.finished(),
                status.run_count
            );
        }
        Err(error) => {
            let _ = session.stop().await;
            store.close().await;
            return Err(error);
        }
    };

    let reported = report_and_serve(
        args,
        &store,
        &status,
        database_path,
        http_listener,
        max_runs_per_sweep,
        fit_options,
    )
    .await;
    let stopped = session.stop().await;
    store.close().await;
    reported?;
    stopped
}

/// Prints the results of the finished sweep, then serves the HTTP API on
/// `http_listener`, when given, until a shutdown signal.
async fn report_and_serve(
    args: &SweepArgs,
    store: &Store,
    status: &SweepStatus,
    database_path: &Path,
    http_listener: Option<TcpListener>,
    max_runs_per_sweep: u64,
    fit_options: &FitOptions,
) -> Result<()> {
    let summary = report::build(store, status, database_path, fit_options).await?;
    let text = if args.json {
        report::json_output(&summary)?
    } else {
        report::human_output(&summary)
    };
    super::fit::write_stdout(&text)?;

    let Some(listener) = http_listener else {
        return Ok(());
    };
    let address = listener
        .local_addr()
        .context("cannot read the HTTP address")?;
    // On stderr, so that stdout stays one JSON object under --json.
    eprintln!("HTTP API listening on http://{address}; press Ctrl-C to stop");
    tracing::info!(http = %address, "HTTP API started");
    let settings = HttpSettings {
        max_runs_per_sweep,
        lease_duration: session::LEASE_DURATION,
        ..HttpSettings::default()
    };
    let router = dlm_http::router(store.clone(), settings);
    dlm_http::serve(listener, router, shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("HTTP API stopped");
    Ok(())
}

/// Returns the file path of a `sqlite://PATH` or `sqlite:PATH` URL.
fn sqlite_path(url: &str) -> Result<PathBuf> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        bail!(
            "invalid --database {url:?}: the local mode stores results in SQLite; \
             use sqlite://PATH such as sqlite://dlm.sqlite"
        );
    };
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        bail!(
            "invalid --database {url:?}: name a database file, such as sqlite://dlm.sqlite, \
             so results are kept between runs"
        );
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_urls_name_files() {
        let cases = [
            ("sqlite://dlm.sqlite", "dlm.sqlite"),
            ("sqlite:results/dlm.sqlite", "results/dlm.sqlite"),
            ("sqlite:///tmp/dlm.sqlite?mode=rwc", "/tmp/dlm.sqlite"),
        ];
        for (url, expected) in cases {
            assert_eq!(
                sqlite_path(url).unwrap().to_str(),
                Some(expected),
                "url {url}"
            );
        }
    }

    #[test]
    fn other_urls_are_rejected() {
        for url in [
            "postgres://postgres@127.0.0.1/dlm",
            "sqlite::memory:",
            "sqlite://",
            "dlm.sqlite",
        ] {
            let error = sqlite_path(url).unwrap_err().to_string();
            assert!(error.contains("invalid --database"), "url {url}: {error}");
        }
    }
}
