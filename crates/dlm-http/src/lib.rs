//! The HTTP API of dlm-sweep: researchers submit, watch, query and fit
//! sweeps over JSON, with the same validation and storage as the gRPC
//! `Sweeps` service, because both go through `dlm_coordinator::submit_sweep`
//! and one `Store`.
//!
//! [`router`] builds the axum `Router`; [`serve`] runs it on a listener
//! until a shutdown future completes. Every error is an RFC 9457
//! `application/problem+json` body built in the `problem` module.

mod auth;
mod filter;
mod fit;
mod openapi;
mod ops;
mod problem;
mod routes;
mod run_detail;
mod runs;
mod sweeps;
mod telemetry;
mod views;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dlm_coordinator::Token;
use dlm_store::Store;
use tokio::net::TcpListener;

pub use openapi::openapi_document;
pub use problem::HttpError;
pub use routes::router;
pub use sweeps::MAX_PAGE_SIZE;

/// Default largest request body, in bytes (16 MiB). Sweep documents are a
/// few kilobytes, so the limit only stops accidents and abuse.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Settings of the HTTP API.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Bearer token that mutating requests (POST) must send; `None` admits
    /// every caller.
    pub api_token: Option<Token>,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Largest sweep accepted, in runs.
    pub max_runs_per_sweep: u64,
    /// The coordinators' lease duration: a worker counts as active while it
    /// holds a lease or called within this time.
    pub lease_duration: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            api_token: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_runs_per_sweep: dlm_sweep::DEFAULT_MAX_RUNS,
            lease_duration: Duration::from_secs(60),
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Store,
    pub(crate) settings: Arc<HttpSettings>,
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
