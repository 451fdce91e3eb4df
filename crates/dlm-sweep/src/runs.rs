//! Expansion of a plan into runs: one configuration per point and baseline,
//! each paired with every seed, with duplicates removed by run key.

use std::collections::{BTreeMap, HashSet};

use dlm_sim::RunConfig;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::SweepError;
use crate::path::{set_path, value_at};
use crate::plan::SweepPlan;
use crate::points::{Point, PointOrigin, point_at};
use crate::role::RunRole;
use crate::run_key::run_key_digest;

/// One run of the sweep: a checked configuration and a seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRun {
    pub config: RunConfig,
    /// `config` with defaults filled in and keys sorted.
    pub canonical_config: Value,
    /// Hex SHA-256 naming the configuration (see `RunConfig::config_hash`).
    pub config_hash: String,
    pub seed: u64,
    /// Hex SHA-256 naming the run across sweeps; see [`run_key`](crate::run_key).
    pub run_key: String,
    pub role: RunRole,
    /// Index of the point the run comes from, counted from 0 in expansion
    /// order; a baseline carries the index of the point it matches.
    pub point_index: u64,
    /// Origin of the point: grid, random sample or `include` entry.
    pub origin: PointOrigin,
    /// The config values the point sets, by dotted path. A baseline keeps
    /// only those its own configuration still has.
    pub overrides: BTreeMap<String, Value>,
}

/// Deserialises a configuration from JSON. The error is the dotted path of
/// the offending value and a message naming it.
pub(crate) fn deserialize_config(value: Value) -> Result<RunConfig, (String, String)> {
    serde_path_to_error::deserialize::<_, RunConfig>(value).map_err(|error| {
        let path = error.path().to_string();
        (path, error.inner().to_string())
    })
}

/// One configuration of a point (the point itself or one of its
/// baselines), to be paired with every seed.
#[derive(Debug)]
struct Variant {
    role: RunRole,
    config: RunConfig,
    canonical: Value,
    hash: String,
    overrides: BTreeMap<String, Value>,
}

/// The runs of the point being expanded and the position in them.
#[derive(Debug)]
struct PointRuns {
    point_index: u64,
    origin: PointOrigin,
    variants: Vec<Variant>,
    variant: usize,
    seed_position: u64,
}

/// The next new run: which configuration of the current point (0 is the
/// point itself, baselines follow), its seed and its run key.
struct NewRun {
    variant: usize,
    seed: u64,
    digest: [u8; 32],
}

/// Lazy iterator over the runs of a plan; see [`SweepPlan::runs`].
#[derive(Debug)]
pub struct PlannedRuns<'a> {
    plan: &'a SweepPlan,
    next_point: u64,
    current: Option<PointRuns>,
    seen: HashSet<[u8; 32]>,
    failed: bool,
}

impl<'a> PlannedRuns<'a> {
    pub(crate) fn new(plan: &'a SweepPlan) -> Self {
        Self {
            plan,
            next_point: 0,
            current: None,
            seen: HashSet::new(),
            failed: false,
        }
    }

    /// Finds the next run not seen before, expanding points as needed.
    fn advance(&mut self) -> Option<Result<NewRun, SweepError>> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(run) = self.next_of_current() {
                return Some(Ok(run));
            }
            if self.next_point >= self.plan.point_count {
                return None;
            }

            let index = self.next_point;
            self.next_point += 1;
            match self.expand_point(index) {
                Ok(point_runs) => self.current = Some(point_runs),
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
    }

    /// Finds the next run of the current point not seen before, if any.
    fn next_of_current(&mut self) -> Option<NewRun> {
        let seeds = &self.plan.spec.seeds;
        let current = self.current.as_mut()?;

        while current.variant < current.variants.len() {
            let variant = &current.variants[current.variant];
            while current.seed_position < seeds.len() {
                let seed = seeds.get(current.seed_position);
                current.seed_position += 1;

                let digest = run_key_digest(&variant.hash, seed);
                if self.seen.insert(digest) {
                    return Some(NewRun {
                        variant: current.variant,
                        seed,
                        digest,
                    });
                }
            }
            current.variant += 1;
            current.seed_position = 0;
        }

        self.current = None;
        None
    }

    /// Counts the remaining runs and the baselines among them without
    /// building them.
    pub(crate) fn count_runs(mut self) -> Result<(u64, u64), SweepError> {
        let mut runs = 0u64;
        let mut baselines = 0u64;
        while let Some(run) = self.advance() {
            let run = run?;
            runs += 1;
            if run.variant > 0 {
                baselines += 1;
            }
        }
        Ok((runs, baselines))
    }

    /// Builds the configurations of the point at `index`.
    fn expand_point(&self, index: u64) -> Result<PointRuns, SweepError> {
        let spec = &self.plan.spec;
        let point = point_at(spec, &self.plan.counts, index);

        let config = build_config(&spec.base, &point)?;
        let canonical = config.canonical_json();
        let hash = config.config_hash();

        let mut variants = Vec::with_capacity(1 + spec.baselines.len());
        for &baseline in &spec.baselines {
            let baseline_config = config.to_baseline(baseline);
            baseline_config
                .validate()
                .map_err(|error| SweepError::InvalidPoint {
                    point_index: index,
                    point: format!("baseline {baseline} of {}", point.label()),
                    field: error.field.clone(),
                    reason: error.to_string(),
                })?;
            let baseline_canonical = baseline_config.canonical_json();
            variants.push(Variant {
                role: RunRole::Baseline(baseline),
                hash: baseline_config.config_hash(),
                overrides: kept_overrides(&point.overrides, &canonical, &baseline_canonical),
                config: baseline_config,
                canonical: baseline_canonical,
            });
        }
        variants.insert(
            0,
            Variant {
                role: RunRole::Dlm,
                config,
                canonical,
                hash,
                overrides: point.overrides,
            },
        );

        Ok(PointRuns {
            point_index: index,
            origin: point.origin,
            variants,
            variant: 0,
            seed_position: 0,
        })
    }
}

impl Iterator for PlannedRuns<'_> {
    type Item = Result<PlannedRun, SweepError>;

    fn next(&mut self) -> Option<Self::Item> {
        let run = match self.advance()? {
            Ok(run) => run,
            Err(error) => return Some(Err(error)),
        };

        let current = self.current.as_ref()?;
        let variant = &current.variants[run.variant];
        Some(Ok(PlannedRun {
            config: variant.config.clone(),
            canonical_config: variant.canonical.clone(),
            config_hash: variant.hash.clone(),
            seed: run.seed,
            run_key: hex::encode(run.digest),
            role: variant.role,
            point_index: current.point_index,
            origin: current.origin,
            overrides: variant.overrides.clone(),
        }))
    }
}

/// Applies a point's overrides to the base and checks the result. The
/// overrides are applied in path order, so a path inside a table that
/// another override sets is applied after that table.
fn build_config(base: &Map<String, Value>, point: &Point) -> Result<RunConfig, SweepError> {
    let invalid = |field: &str, reason: String| SweepError::InvalidPoint {
        point_index: point.index,
        point: point.label(),
        field: field.to_owned(),
        reason,
    };

    let mut merged = base.clone();
    for (path, value) in &point.overrides {
        set_path(&mut merged, path, value.clone()).map_err(|reason| invalid(path, reason))?;
    }

    let config = deserialize_config(Value::Object(merged))
        .map_err(|(field, message)| invalid(&field, format!("invalid {field}: {message}")))?;
    config
        .validate()
        .map_err(|error| invalid(&error.field, error.to_string()))?;
    Ok(config)
}

/// Keeps the overrides whose value a baseline's configuration still has,
/// that is, those at paths the baseline left as the point set them.
fn kept_overrides(
    overrides: &BTreeMap<String, Value>,
    canonical: &Value,
    baseline_canonical: &Value,
) -> BTreeMap<String, Value> {
    overrides
        .iter()
        .filter(|(path, _)| value_at(canonical, path) == value_at(baseline_canonical, path))
        .map(|(path, value)| (path.clone(), value.clone()))
        .collect()
}
