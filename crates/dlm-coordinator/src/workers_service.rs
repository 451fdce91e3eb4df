//! The `Workers` gRPC service: leases, heartbeats, results and failures.

use std::sync::Arc;

use dlm_proto::v1 as proto;
use dlm_proto::v1::workers_server::Workers;
use dlm_store::{CompleteOutcome, FailOutcome, LeaseRequest, Store};
use tonic::{Request, Response, Status};

use crate::convert;
use crate::metrics;
use crate::{ApiError, CoordinatorConfig};

/// Most runs one `Lease` call may claim.
const MAX_LEASE_BATCH: u32 = 256;

pub(crate) struct WorkersService {
    pub(crate) store: Store,
    pub(crate) config: Arc<CoordinatorConfig>,
}

#[tonic::async_trait]
impl Workers for WorkersService {
    #[tracing::instrument(name = "lease", skip_all, fields(worker = %request.get_ref().worker_id))]
    async fn lease(
        &self,
        request: Request<proto::LeaseRequest>,
    ) -> Result<Response<proto::LeaseResponse>, Status> {
        let request = request.into_inner();
        let worker_id = worker_id(&request.worker_id)?;
        metrics::note_worker_call(worker_id, self.config.lease_duration);
        if request.model_version.is_empty() {
            return Err(ApiError::InvalidArgument {
                field: "model_version",
                reason: "missing; send the worker engine's model version".to_string(),
            }
            .into());
        }

        let leases = self
            .store
            .lease(&LeaseRequest {
                worker_id: worker_id.to_string(),
                max_runs: request.max_runs.min(MAX_LEASE_BATCH),
                model_version: request.model_version,
                duration: self.config.lease_duration,
            })
            .await
            .map_err(ApiError::from)?;
        metrics::record_leases(leases.len());
        if !leases.is_empty() {
            tracing::debug!(worker = worker_id, runs = leases.len(), "runs leased");
        }

        Ok(Response::new(proto::LeaseResponse {
            runs: leases.into_iter().map(convert::leased_run).collect(),
            lease_seconds: self.config.lease_duration.as_secs_f64(),
        }))
    }

    #[tracing::instrument(name = "heartbeat", skip_all, fields(worker = %request.get_ref().worker_id))]
    async fn heartbeat(
        &self,
        request: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatResponse>, Status> {
        let request = request.into_inner();
        let worker_id = worker_id(&request.worker_id)?;
        metrics::note_worker_call(worker_id, self.config.lease_duration);
        let leases: Vec<_> = request.leases.iter().map(convert::lease_ref).collect();

        let outcome = self
            .store
            .heartbeat(worker_id, &leases, self.config.lease_duration)
            .await
            .map_err(ApiError::from)?;
        for lease in &outcome.abort {
            tracing::info!(
                worker = worker_id,
                run = lease.run_id,
                attempt = lease.attempt,
                "lease no longer current; worker must abort the run"
            );
        }

        Ok(Response::new(proto::HeartbeatResponse {
            extended: outcome.extended.into_iter().map(convert::proto_lease_ref).collect(),
            abort: outcome.abort.into_iter().map(convert::proto_lease_ref).collect(),
        }))
    }

    #[tracing::instrument(
        name = "complete",
        skip_all,
        fields(
            worker = %request.get_ref().worker_id,
            run = request.get_ref().lease.as_ref().map(|lease| lease.run_id),
            attempt = request.get_ref().lease.as_ref().map(|lease| lease.attempt),
        )
    )]
    async fn complete(
        &self,
        request: Request<proto::CompleteRequest>,
    ) -> Result<Response<proto::CompleteResponse>, Status> {
        let request = request.into_inner();
        let worker_id = worker_id(&request.worker_id)?;
        metrics::note_worker_call(worker_id, self.config.lease_duration);
        let lease = convert::lease_ref(&convert::required(request.lease, "lease")?);
        let result = convert::run_result(convert::required(request.result, "result")?);

        let outcome = self
            .store
            .complete(worker_id, lease, &result)
            .await
            .map_err(ApiError::from)?;
        let stored = outcome == CompleteOutcome::Stored;
        metrics::record_completion(stored, result.duration_seconds);
        if !stored {
            tracing::info!(
                worker = worker_id,
                run = lease.run_id,
                attempt = lease.attempt,
                "duplicate result counted and dropped"
            );
        }
        Ok(Response::new(proto::CompleteResponse { stored }))
    }

    #[tracing::instrument(
        name = "fail",
        skip_all,
        fields(
            worker = %request.get_ref().worker_id,
            run = request.get_ref().lease.as_ref().map(|lease| lease.run_id),
            attempt = request.get_ref().lease.as_ref().map(|lease| lease.attempt),
        )
    )]
    async fn fail(
        &self,
        request: Request<proto::FailRequest>,
    ) -> Result<Response<proto::FailResponse>, Status> {
        let request = request.into_inner();
        let worker_id = worker_id(&request.worker_id)?;
        metrics::note_worker_call(worker_id, self.config.lease_duration);
        let lease = convert::lease_ref(&convert::required(request.lease, "lease")?);

        let outcome = self
            .store
            .fail(worker_id, lease, &request.error, self.config.max_attempts)
            .await
            .map_err(ApiError::from)?;
        let run_failed = outcome == FailOutcome::Failed;
        metrics::record_failures("reported", 1, u64::from(run_failed));
        tracing::warn!(
            worker = worker_id,
            run = lease.run_id,
            attempt = lease.attempt,
            error = %request.error,
            run_failed,
            "worker reported a failed attempt"
        );
        Ok(Response::new(proto::FailResponse { run_failed }))
    }

    #[tracing::instrument(name = "release", skip_all, fields(worker = %request.get_ref().worker_id))]
    async fn release(
        &self,
        request: Request<proto::ReleaseRequest>,
    ) -> Result<Response<proto::ReleaseResponse>, Status> {
        let request = request.into_inner();
        let worker_id = worker_id(&request.worker_id)?;
        metrics::note_worker_call(worker_id, self.config.lease_duration);
        let leases: Vec<_> = request.leases.iter().map(convert::lease_ref).collect();

        let released = self
            .store
            .release(worker_id, &leases)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(worker = worker_id, released, "worker released leases");
        Ok(Response::new(proto::ReleaseResponse { released }))
    }
}

fn worker_id(worker_id: &str) -> Result<&str, ApiError> {
    if worker_id.trim().is_empty() {
        return Err(ApiError::InvalidArgument {
            field: "worker_id",
            reason: "missing; send a non-empty id that names the worker in logs".to_string(),
        });
    }
    Ok(worker_id)
}
