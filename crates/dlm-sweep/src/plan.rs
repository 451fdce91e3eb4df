//! Planning: checking a parsed sweep against the engine's configuration and
//! counting its runs before any of them is stored or started.

use dlm_sim::RunConfig;
use serde_json::Value;

use crate::error::SweepError;
use crate::error::show_value;
use crate::path::{KnownPaths, value_at};
use crate::points::PointCounts;
use crate::runs::{PlannedRuns, deserialize_config};
use crate::spec::SweepSpec;

/// Default maximum number of runs in one sweep.
pub const DEFAULT_MAX_RUNS: u64 = 100_000;

/// Bounds a sweep must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of runs, baselines included; default 100,000.
    pub max_runs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_runs: DEFAULT_MAX_RUNS,
        }
    }
}

/// A checked sweep: every point's configuration is valid and the number of
/// distinct runs is known. [`SweepPlan::runs`] expands it again, lazily.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    pub(crate) spec: SweepSpec,
    pub(crate) counts: PointCounts,
    pub(crate) point_count: u64,
    run_count: u64,
    baseline_run_count: u64,
}

impl SweepSpec {
    /// Checks every config path and every point's configuration and counts
    /// the distinct runs, without keeping the runs in memory.
    ///
    /// The sweep is rejected before any configuration is built when its
    /// points times its seeds already exceed `limits.max_runs`. Otherwise
    /// each point is built once, so planning costs about as much as one
    /// pass of [`SweepPlan::runs`].
    pub fn plan(&self, limits: &Limits) -> Result<SweepPlan, SweepError> {
        let counts = PointCounts::of(self);
        let point_runs = counts.total().saturating_mul(self.seeds.len() as u128);
        if point_runs > limits.max_runs as u128 {
            return Err(SweepError::TooManyRuns {
                count: point_runs,
                limit: limits.max_runs,
            });
        }

        self.check_paths()?;

        let mut plan = SweepPlan {
            spec: self.clone(),
            counts,
            point_count: counts.total() as u64,
            run_count: 0,
            baseline_run_count: 0,
        };

        let (run_count, baseline_run_count) = plan.runs().count_runs()?;
        if run_count > limits.max_runs {
            return Err(SweepError::TooManyRuns {
                count: run_count as u128,
                limit: limits.max_runs,
            });
        }

        plan.run_count = run_count;
        plan.baseline_run_count = baseline_run_count;
        Ok(plan)
    }

    /// Checks that the base has the engine's shape and that every path in
    /// `grid`, `random.params` and `include` names a part of it.
    fn check_paths(&self) -> Result<(), SweepError> {
        let base_value = Value::Object(self.base.clone());
        let base = deserialize_config(base_value.clone()).map_err(|(field, message)| {
            let value =
                value_at(&base_value, &field).map_or_else(|| "(missing)".to_owned(), show_value);
            SweepError::InvalidField {
                field: format!("base.{field}"),
                value,
                reason: message,
            }
        })?;

        let mut known = KnownPaths::default();
        known.add_config(&RunConfig::default().canonical_json());
        known.add_config(&base.canonical_json());

        for axis in &self.grid {
            known.check("grid", &axis.path)?;
        }

        if let Some(random) = &self.random {
            for (path, _) in &random.params {
                known.check("random.params", path)?;
                if self.grid.iter().any(|axis| &axis.path == path) {
                    return Err(SweepError::InvalidField {
                        field: format!("random.params.{path}"),
                        value: format!("`{path}`"),
                        reason: "the path is also a grid axis; vary it in one place".to_owned(),
                    });
                }
            }
        }

        for (entry, overrides) in self.include.iter().enumerate() {
            for path in overrides.keys() {
                known.check(&format!("include[{entry}]"), path)?;
            }
        }
        Ok(())
    }
}

impl SweepPlan {
    /// Number of distinct runs, baselines included.
    pub fn run_count(&self) -> u64 {
        self.run_count
    }

    /// Number of distinct baseline runs among [`SweepPlan::run_count`].
    pub fn baseline_run_count(&self) -> u64 {
        self.baseline_run_count
    }

    /// Number of points (grid points times random samples, plus `include`
    /// entries), before seeds, baselines and duplicate removal.
    pub fn point_count(&self) -> u64 {
        self.point_count
    }

    /// The sweep this plan was made from.
    pub fn spec(&self) -> &SweepSpec {
        &self.spec
    }

    /// Expands the sweep into its runs, lazily and in a fixed order. Each
    /// point yields its runs for every seed, then those of its baselines.
    /// A run whose key was already yielded (a duplicate point, or a
    /// baseline shared by several points) is skipped. Memory grows only
    /// with the set of run keys yielded so far (32 bytes each).
    pub fn runs(&self) -> PlannedRuns<'_> {
        PlannedRuns::new(self)
    }
}
