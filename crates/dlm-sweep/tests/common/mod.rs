//! Helpers shared by the integration tests.

#![allow(dead_code)]

use dlm_sweep::{Limits, PlannedRun, SpecFormat, SweepError, SweepPlan, parse_sweep};

/// A base configuration small enough that every test point validates fast:
/// a split-digits sequence with a 3-weight-layer network.
pub const SMALL_BASE: &str = r#"
[base.model]
hidden = [16, 16]

[base.tasks]
num_tasks = 2
steps_per_task = 20
"#;

/// Parses and plans a TOML sweep with the default limits.
pub fn plan_toml(text: &str) -> Result<SweepPlan, SweepError> {
    plan_with(text, SpecFormat::Toml, &Limits::default())
}

pub fn plan_with(text: &str, format: SpecFormat, limits: &Limits) -> Result<SweepPlan, SweepError> {
    parse_sweep(text, format)?.plan(limits)
}

/// Every run of a plan; panics on the first invalid one.
pub fn collect_runs(plan: &SweepPlan) -> Vec<PlannedRun> {
    plan.runs()
        .map(|run| run.expect("planned sweeps expand without errors"))
        .collect()
}

/// A TOML sweep named `test` with [`SMALL_BASE`] and the given sections.
pub fn sweep_toml(sections: &str) -> String {
    format!("name = \"test\"\n{sections}\n{SMALL_BASE}")
}
