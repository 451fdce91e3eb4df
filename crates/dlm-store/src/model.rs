//! The values stored and returned: sweeps, runs, leases and results.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A time from the database clock, in UTC.
pub type Timestamp = DateTime<Utc>;

/// A sweep about to be stored.
#[derive(Debug, Clone)]
pub struct NewSweep {
    pub name: String,
    /// The sweep document as the user wrote it.
    pub document: String,
    /// `toml`, `yaml` or `json`.
    pub format: String,
}

/// One run of a sweep about to be stored, already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Hash of the canonical configuration, the seed and the model version.
    pub run_key: String,
    pub config_hash: String,
    pub seed: u64,
    pub model_version: String,
    /// The canonical JSON the configuration hash was computed from.
    pub canonical_config: String,
    /// `dlm` for a point the sweep lists, or the baseline's name (`sgd`, `sgld`, `ewc`).
    pub role: String,
    pub point_index: u64,
    /// The parameters this point sets on top of the base, as a JSON object.
    pub overrides_json: String,
}

/// What storing a sweep produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SubmitOutcome {
    pub sweep_id: i64,
    /// Distinct runs in the sweep.
    pub run_count: u64,
    /// Runs whose result was already stored, by this or another sweep.
    pub reused_count: u64,
}

/// The state of a run in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Queued,
    Leased,
    Done,
    Failed,
    Cancelled,
}

impl RunState {
    /// Returns the name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Leased => "leased",
            RunState::Done => "done",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    /// Parses a `state` column value.
    pub fn parse(text: &str) -> Option<RunState> {
        let state = match text {
            "queued" => RunState::Queued,
            "leased" => RunState::Leased,
            "done" => RunState::Done,
            "failed" => RunState::Failed,
            "cancelled" => RunState::Cancelled,
            _ => return None,
        };
        Some(state)
    }
}

/// The state of a sweep, derived from its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SweepState {
    /// Some runs are queued or leased.
    Running,
    /// Every run is done or failed.
    Done,
    Cancelled,
}

/// Number of a sweep's runs in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub queued: u64,
    pub leased: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Done runs whose dynamics diverged.
    pub diverged: u64,
}

impl RunCounts {
    /// Returns the number of runs in a final state.
    pub fn finished(&self) -> u64 {
        self.done + self.failed + self.cancelled
    }

    /// Returns the number of runs still waiting for a worker or being run.
    pub fn pending(&self) -> u64 {
        self.queued + self.leased
    }
}

/// A sweep with its progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepStatus {
    pub id: i64,
    pub name: String,
    pub state: SweepState,
    pub run_count: u64,
    pub reused_count: u64,
    pub counts: RunCounts,
    /// Share of runs in a final state, from 0 to 1.
    pub progress: f64,
    /// Runs of this sweep completed per second over the last minute.
    pub runs_per_second: f64,
    /// Estimated seconds until every run is finished, when anything
    /// completed in the last minute and runs are still pending.
    pub eta_seconds: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A worker's request for runs.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    pub worker_id: String,
    pub max_runs: u32,
    /// Only runs keyed on this engine model version are leased.
    pub model_version: String,
    pub duration: Duration,
}

/// A run leased to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub run_id: i64,
    /// The lease's fencing token: later writes must name it.
    pub attempt: i32,
    /// The oldest active sweep that needs the run, for logs.
    pub sweep_id: i64,
    pub run_key: String,
    pub seed: u64,
    pub canonical_config: String,
    pub expires_at: DateTime<Utc>,
}

impl Lease {
    /// Returns the reference later calls name this lease by.
    pub fn reference(&self) -> LeaseRef {
        LeaseRef {
            run_id: self.run_id,
            attempt: self.attempt,
        }
    }
}

/// A lease named by its run and attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseRef {
    pub run_id: i64,
    pub attempt: i32,
}

/// Response to a heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatOutcome {
    /// Leases that were current and got a new deadline.
    pub extended: Vec<LeaseRef>,
    /// Leases the worker must stop working on.
    pub abort: Vec<LeaseRef>,
}

/// A finished simulation as a worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Summary metrics by name; `None` where a metric is undefined.
    pub metrics: Vec<(String, Option<f64>)>,
    pub diverged: bool,
    pub diverged_step: Option<u64>,
    /// Accuracy matrix R[k][j] as JSON.
    pub accuracy_json: String,
    /// Down-sampled series as JSON.
    pub series_json: String,
    pub duration_seconds: f64,
}

/// Whether a reported result was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompleteOutcome {
    Stored,
    /// A result was already stored; this one was counted and dropped.
    Duplicate,
}

/// What a reported failure did to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    Requeued,
    /// The run reached the maximum number of attempts.
    Failed,
}

/// What one pass of the reaper did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReapOutcome {
    pub requeued: u64,
    pub failed: u64,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub run_key: String,
    pub config_hash: String,
    pub seed: u64,
    pub model_version: String,
    pub canonical_config: String,
    pub state: RunState,
    pub attempt: i32,
    pub failed_attempts: i32,
    pub worker_id: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub duplicate_completions: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A stored result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredResult {
    pub run_id: i64,
    /// Metrics sorted by name.
    pub metrics: Vec<(String, Option<f64>)>,
    pub diverged: bool,
    pub diverged_step: Option<u64>,
    pub accuracy_json: String,
    pub series_json: String,
    pub worker_id: String,
    pub attempt: i32,
    pub duration_seconds: f64,
    pub completed_at: DateTime<Utc>,
}
