//! A request from another thread to end a running simulation early, so a
//! caller that no longer needs a run (its sweep was cancelled, its lease was
//! lost, its process is shutting down) gets the thread back at once.
//!
//! The engine reads the flag every few steps with one relaxed atomic load.
//! Reading it changes nothing else, so a run that is never stopped is bit
//! for bit the run [`crate::simulate`] produces.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::RunReport;

/// A shared flag that requests a simulation to stop. Clones share the flag; once
/// set it stays set.
#[derive(Debug, Clone, Default)]
pub struct StopSignal {
    requested: Arc<AtomicBool>,
}

impl StopSignal {
    /// Creates a signal that is not set.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Requests every simulation that watches this signal to stop.
    pub fn stop(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    /// Returns whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }
}

/// The end of a simulation that watched a [`StopSignal`].
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The run reached its end or diverged, as `summary.diverged` in the
    /// report records.
    Finished(RunReport),
    /// The run was stopped on request after `steps` of its `total_steps`
    /// training steps. A stopped run has no report.
    Stopped { steps: u64, total_steps: u64 },
}
