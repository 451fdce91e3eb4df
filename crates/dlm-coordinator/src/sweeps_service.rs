//! The `Sweeps` gRPC service: submit, inspect, list, cancel and watch sweeps.

use std::sync::Arc;
use std::time::Duration;

use dlm_proto::v1 as proto;
use dlm_proto::v1::sweeps_server::Sweeps;
use dlm_store::{Store, SweepState, SweepStatus};
use dlm_sweep::{Limits, SpecFormat};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::convert;
use crate::{ApiError, CoordinatorConfig, submit_sweep};

/// Sweeps returned by `List` when the request sets no limit, and the most
/// it may ask for.
const DEFAULT_LIST_LIMIT: u32 = 100;
const MAX_LIST_LIMIT: u32 = 1_000;

/// Bounds on the poll interval a `Watch` request may set, in seconds.
const MIN_POLL_SECONDS: f64 = 0.05;
const MAX_POLL_SECONDS: f64 = 60.0;

pub(crate) struct SweepsService {
    pub(crate) store: Store,
    pub(crate) config: Arc<CoordinatorConfig>,
    /// Becomes true when the coordinator shuts down, which ends watches.
    pub(crate) shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl Sweeps for SweepsService {
    #[tracing::instrument(name = "submit", skip_all)]
    async fn submit(
        &self,
        request: Request<proto::SubmitRequest>,
    ) -> Result<Response<proto::SubmitResponse>, Status> {
        let request = request.into_inner();
        let format = spec_format(request.format())?;
        let limits = Limits {
            max_runs: self.config.max_runs_per_sweep,
        };

        let outcome = submit_sweep(&self.store, request.document, format, limits)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(
            sweep = outcome.sweep_id,
            runs = outcome.run_count,
            reused = outcome.reused_count,
            "sweep submitted"
        );
        Ok(Response::new(proto::SubmitResponse {
            sweep_id: outcome.sweep_id,
            run_count: outcome.run_count,
            reused_count: outcome.reused_count,
        }))
    }

    #[tracing::instrument(name = "get", skip_all, fields(sweep = request.get_ref().sweep_id))]
    async fn get(
        &self,
        request: Request<proto::GetSweepRequest>,
    ) -> Result<Response<proto::SweepStatus>, Status> {
        let sweep_id = request.into_inner().sweep_id;
        let status = self.store.sweep_status(sweep_id).await.map_err(ApiError::from)?;
        Ok(Response::new(convert::sweep_status(&status)))
    }

    async fn list(
        &self,
        request: Request<proto::ListSweepsRequest>,
    ) -> Result<Response<proto::ListSweepsResponse>, Status> {
        let limit = match request.into_inner().limit {
            0 => DEFAULT_LIST_LIMIT,
            limit => limit.min(MAX_LIST_LIMIT),
        };
        let statuses = self.store.list_sweeps(limit).await.map_err(ApiError::from)?;
        Ok(Response::new(proto::ListSweepsResponse {
            sweeps: statuses.iter().map(convert::sweep_status).collect(),
        }))
    }

    #[tracing::instrument(name = "cancel", skip_all, fields(sweep = request.get_ref().sweep_id))]
    async fn cancel(
        &self,
        request: Request<proto::CancelSweepRequest>,
    ) -> Result<Response<proto::SweepStatus>, Status> {
        let sweep_id = request.into_inner().sweep_id;
        let status = self.store.cancel_sweep(sweep_id).await.map_err(ApiError::from)?;
        tracing::info!(
            sweep = sweep_id,
            cancelled_runs = status.counts.cancelled,
            "sweep cancelled"
        );
        Ok(Response::new(convert::sweep_status(&status)))
    }

    type WatchStream = ReceiverStream<Result<proto::SweepStatus, Status>>;

    async fn watch(
        &self,
        request: Request<proto::WatchSweepRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let request = request.into_inner();
        let poll_interval = if request.poll_seconds > 0.0 {
            Duration::from_secs_f64(request.poll_seconds.clamp(MIN_POLL_SECONDS, MAX_POLL_SECONDS))
        } else {
            self.config.watch_poll_interval
        };

        // The first status is read here, so an unknown sweep fails the call
        // instead of the stream.
        let first = self
            .store
            .sweep_status(request.sweep_id)
            .await
            .map_err(ApiError::from)?;

        let (sender, receiver) = mpsc::channel(4);
        let store = self.store.clone();
        let shutdown = self.shutdown.clone();
        let span = tracing::info_span!("watch", sweep = request.sweep_id);
        tokio::spawn(
            stream_statuses(store, first, poll_interval, sender, shutdown).instrument(span),
        );
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// Sends `first`, then every changed status, polling the database, until
/// the sweep is no longer running, the client goes away or the coordinator
/// shuts down.
async fn stream_statuses(
    store: Store,
    first: SweepStatus,
    poll_interval: Duration,
    sender: mpsc::Sender<Result<proto::SweepStatus, Status>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let sweep_id = first.id;
    let mut last = first;
    if sender.send(Ok(convert::sweep_status(&last))).await.is_err() {
        return;
    }

    while last.state == SweepState::Running {
        tokio::select! {
            _ = tokio::time::sleep(poll_interval) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }

        let status = match store.sweep_status(sweep_id).await {
            Ok(status) => status,
            Err(error) => {
                let _ = sender.send(Err(ApiError::from(error).into())).await;
                return;
            }
        };
        if status.counts == last.counts && status.state == last.state {
            continue;
        }
        if sender.send(Ok(convert::sweep_status(&status))).await.is_err() {
            return;
        }
        last = status;
    }
}

fn spec_format(format: proto::SweepFormat) -> Result<SpecFormat, Status> {
    match format {
        proto::SweepFormat::Toml => Ok(SpecFormat::Toml),
        proto::SweepFormat::Yaml => Ok(SpecFormat::Yaml),
        proto::SweepFormat::Json => Ok(SpecFormat::Json),
        proto::SweepFormat::Unspecified => Err(Status::invalid_argument(
            "missing format: set SWEEP_FORMAT_TOML, SWEEP_FORMAT_YAML or SWEEP_FORMAT_JSON",
        )),
    }
}
