//! Conversions between store values and protobuf messages.

use dlm_proto::v1 as proto;
use dlm_store::{Lease, LeaseRef, RunResult, SweepState, SweepStatus, Timestamp};

use crate::ApiError;

pub(crate) fn sweep_status(status: &SweepStatus) -> proto::SweepStatus {
    let state = match status.state {
        SweepState::Running => proto::SweepState::Running,
        SweepState::Done => proto::SweepState::Done,
        SweepState::Cancelled => proto::SweepState::Cancelled,
    };
    proto::SweepStatus {
        sweep_id: status.id,
        name: status.name.clone(),
        state: state.into(),
        run_count: status.run_count,
        reused_count: status.reused_count,
        counts: Some(proto::RunCounts {
            queued: status.counts.queued,
            leased: status.counts.leased,
            done: status.counts.done,
            failed: status.counts.failed,
            cancelled: status.counts.cancelled,
            diverged: status.counts.diverged,
        }),
        progress: status.progress,
        runs_per_second: status.runs_per_second,
        eta_seconds: status.eta_seconds,
        created_at: unix_seconds(status.created_at),
        cancelled_at: status.cancelled_at.map(unix_seconds),
    }
}

pub(crate) fn leased_run(lease: Lease) -> proto::LeasedRun {
    proto::LeasedRun {
        run_id: lease.run_id,
        attempt: lease.attempt,
        sweep_id: lease.sweep_id,
        run_key: lease.run_key,
        seed: lease.seed,
        config_json: lease.canonical_config,
        lease_expires_at: unix_seconds(lease.expires_at),
    }
}

pub(crate) fn lease_ref(lease: &proto::LeaseRef) -> LeaseRef {
    LeaseRef {
        run_id: lease.run_id,
        attempt: lease.attempt,
    }
}

pub(crate) fn proto_lease_ref(lease: LeaseRef) -> proto::LeaseRef {
    proto::LeaseRef {
        run_id: lease.run_id,
        attempt: lease.attempt,
    }
}

pub(crate) fn run_result(result: proto::RunResult) -> RunResult {
    RunResult {
        metrics: result
            .metrics
            .into_iter()
            .map(|metric| (metric.name, metric.value))
            .collect(),
        diverged: result.diverged,
        diverged_step: result.diverged_step,
        accuracy_json: result.accuracy_json,
        series_json: result.series_json,
        duration_seconds: result.duration_seconds,
    }
}

/// Returns the field of a request message that proto3 leaves optional but
/// the call needs.
pub(crate) fn required<T>(value: Option<T>, field: &'static str) -> Result<T, ApiError> {
    value.ok_or(ApiError::InvalidArgument {
        field,
        reason: "missing; set it in the request".to_string(),
    })
}

/// Converts a timestamp to Unix seconds with millisecond precision.
pub(crate) fn unix_seconds(time: Timestamp) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}
