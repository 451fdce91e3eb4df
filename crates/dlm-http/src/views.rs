//! The JSON bodies of the sweep endpoints, with their OpenAPI schemas.
//! Times are RFC 3339 strings in UTC; rates and progress come from
//! `Store::sweep_status`, the same computation the gRPC `Get` serves.

use dlm_store::{SubmitOutcome, SweepState, SweepStatus};
use serde::Serialize;
use utoipa::ToSchema;

/// Response to a submitted sweep.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    pub sweep_id: i64,
    /// Distinct runs in the sweep.
    pub runs: u64,
    /// Runs whose result was already stored, by this or another sweep.
    pub reused: u64,
}

impl From<SubmitOutcome> for SubmitResponse {
    fn from(outcome: SubmitOutcome) -> Self {
        SubmitResponse {
            sweep_id: outcome.sweep_id,
            runs: outcome.run_count,
            reused: outcome.reused_count,
        }
    }
}

/// A sweep's state, run counts and progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepView {
    pub id: i64,
    pub name: String,
    /// `running` while any run is queued or leased, `done` when none is,
    /// `cancelled` once cancelled.
    #[schema(example = "running")]
    pub state: &'static str,
    pub run_count: u64,
    pub reused_count: u64,
    pub counts: RunCountsView,
    /// Share of runs in a final state, from 0 to 1.
    pub progress: f64,
    /// Runs of this sweep completed per second over the last minute.
    pub runs_per_second: f64,
    /// Estimated seconds until every run is finished; null when nothing
    /// completed in the last minute or nothing is pending.
    pub eta_seconds: Option<f64>,
    /// RFC 3339 time the sweep was stored.
    pub created_at: String,
    pub cancelled_at: Option<String>,
}

/// Number of a sweep's runs in each state.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunCountsView {
    pub queued: u64,
    pub leased: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Done runs whose dynamics diverged.
    pub diverged: u64,
}

impl From<&SweepStatus> for SweepView {
    fn from(status: &SweepStatus) -> Self {
        let state = match status.state {
            SweepState::Running => "running",
            SweepState::Done => "done",
            SweepState::Cancelled => "cancelled",
        };
        SweepView {
            id: status.id,
            name: status.name.clone(),
            state,
            run_count: status.run_count,
            reused_count: status.reused_count,
            counts: RunCountsView {
                queued: status.counts.queued,
                leased: status.counts.leased,
                done: status.counts.done,
                failed: status.counts.failed,
                cancelled: status.counts.cancelled,
                diverged: status.counts.diverged,
            },
            progress: status.progress,
            runs_per_second: status.runs_per_second,
            eta_seconds: status.eta_seconds,
            created_at: status.created_at.to_rfc3339(),
            cancelled_at: status.cancelled_at.map(|time| time.to_rfc3339()),
        }
    }
}

/// One page of sweeps, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepPage {
    pub sweeps: Vec<SweepView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}
