//! Sweep files and their expansion into runs.
//!
//! A sweep is what a researcher submits: a base run configuration and the
//! ways to vary it (a grid, random samples, explicit extra points, seeds
//! and matched baselines). This crate parses a sweep file (TOML, YAML or
//! JSON, one schema), checks it against the engine's configuration and
//! expands it lazily into validated runs. It has no I/O beyond the text it
//! is given, so the local mode, the coordinator and the HTTP API share it.
//!
//! ```no_run
//! use dlm_sweep::{Limits, SpecFormat, parse_sweep};
//!
//! # fn main() -> Result<(), dlm_sweep::SweepError> {
//! let text = std::fs::read_to_string("examples/sweep-tiny.toml").unwrap();
//! let plan = parse_sweep(&text, SpecFormat::Toml)?.plan(&Limits::default())?;
//! println!("{} runs", plan.run_count());
//! for run in plan.runs() {
//!     let run = run?;
//!     println!("{} seed {} {}", run.run_key, run.seed, run.role.as_str());
//! }
//! # Ok(())
//! # }
//! ```

mod error;
mod flatten;
mod format;
#[doc(hidden)]
pub mod fuzz_check;
mod path;
mod plan;
mod points;
mod random;
mod read;
mod role;
mod run_key;
mod runs;
mod spec;
mod strict_json;

pub use error::SweepError;
pub use flatten::flatten_config;
pub use format::SpecFormat;
pub use plan::{DEFAULT_MAX_RUNS, Limits, SweepPlan};
pub use points::PointOrigin;
pub use random::{ParamDistribution, RandomSpec};
pub use role::RunRole;
pub use run_key::run_key;
pub use runs::{PlannedRun, PlannedRuns};
pub use spec::{GridAxis, MAX_NAME_CHARS, Seeds, SweepSpec, parse_sweep};
