//! The points of a sweep, in expansion order: first every grid point (each
//! crossed with every random sample when the sweep samples), then the
//! `include` entries. A point is the set of config values it overrides in
//! the base. Each point is computed from its index alone, so the points are
//! never held in memory together.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::error::show_value;
use crate::spec::SweepSpec;

/// Origin of a point of the sweep. Indices count from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PointOrigin {
    /// A grid point without random sampling (with no grid axes, the single
    /// grid point is the base configuration itself).
    Grid { grid_point: u64 },
    /// Random sample `sample` combined with grid point `grid_point`.
    Random { grid_point: u64, sample: u64 },
    /// The entry at this position of `include`.
    Include { entry: u64 },
}

/// One point: its place in the expansion and the values it sets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub(crate) index: u64,
    pub(crate) origin: PointOrigin,
    /// Dotted config path to the value this point sets.
    pub(crate) overrides: BTreeMap<String, Value>,
}

/// Number of points, saturating at `u128::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PointCounts {
    pub(crate) grid_points: u128,
    /// 1 when the sweep does not sample.
    pub(crate) samples_per_grid_point: u128,
    pub(crate) include_points: u128,
}

impl PointCounts {
    pub(crate) fn of(spec: &SweepSpec) -> Self {
        let grid_points = spec.grid.iter().fold(1u128, |product, axis| {
            product.saturating_mul(axis.values.len() as u128)
        });
        let samples_per_grid_point = spec
            .random
            .as_ref()
            .map_or(1, |random| random.samples as u128);
        Self {
            grid_points,
            samples_per_grid_point,
            include_points: spec.include.len() as u128,
        }
    }

    pub(crate) fn total(&self) -> u128 {
        self.grid_points
            .saturating_mul(self.samples_per_grid_point)
            .saturating_add(self.include_points)
    }
}

/// Computes the point at `index` (which must be below the total count).
pub(crate) fn point_at(spec: &SweepSpec, counts: &PointCounts, index: u64) -> Point {
    let sampled_points = counts.grid_points * counts.samples_per_grid_point;
    let position = index as u128;

    if position >= sampled_points {
        let entry = (position - sampled_points) as u64;
        return Point {
            index,
            origin: PointOrigin::Include { entry },
            overrides: spec.include[entry as usize].clone(),
        };
    }

    let grid_point = (position / counts.samples_per_grid_point) as u64;
    let mut overrides = grid_overrides(spec, grid_point);

    let Some(random) = &spec.random else {
        return Point {
            index,
            origin: PointOrigin::Grid { grid_point },
            overrides,
        };
    };

    let sample = (position % counts.samples_per_grid_point) as u64;
    overrides.extend(random.sample(sample));
    Point {
        index,
        origin: PointOrigin::Random { grid_point, sample },
        overrides,
    }
}

/// Computes the values of grid point `grid_point`. The axes are sorted by
/// path and the last one varies fastest, like nested loops.
fn grid_overrides(spec: &SweepSpec, grid_point: u64) -> BTreeMap<String, Value> {
    let mut remainder = grid_point as u128;
    let mut overrides = BTreeMap::new();
    for axis in spec.grid.iter().rev() {
        let length = axis.values.len() as u128;
        let position = (remainder % length) as usize;
        remainder /= length;
        overrides.insert(axis.path.clone(), axis.values[position].clone());
    }
    overrides
}

impl Point {
    /// Names the point and the values it sets, for error messages.
    pub(crate) fn label(&self) -> String {
        let place = self.origin.to_string();
        if self.overrides.is_empty() {
            return format!("{place} (the base configuration)");
        }
        let values: Vec<String> = self
            .overrides
            .iter()
            .map(|(path, value)| format!("{path} = {}", show_value(value)))
            .collect();
        format!("{place} ({})", values.join(", "))
    }
}

impl fmt::Display for PointOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Grid { grid_point } => write!(formatter, "grid point {grid_point}"),
            Self::Random { grid_point, sample } => {
                write!(
                    formatter,
                    "random sample {sample} of grid point {grid_point}"
                )
            }
            Self::Include { entry } => write!(formatter, "include entry {entry}"),
        }
    }
}
