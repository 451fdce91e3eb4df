//! The check behind the `sweep_parser` fuzz target in `fuzz/` and the test
//! that replays its committed corpus, kept here so both run the same code.
//! It drives the path of `dlm sweep` and of a submission over HTTP or gRPC:
//! parse, plan with a run limit, expand. Any input must end in a plan that
//! expands to exactly the runs it counted, each valid, or in an error that
//! names what is wrong. A panic, or a check here failing, is a bug.

use std::collections::HashSet;

use crate::{Limits, RunRole, SpecFormat, SweepError, SweepPlan, SweepSpec, parse_sweep, run_key};

/// Run limit of a fuzzed sweep: low, so that planning an input stays fast,
/// yet small grids reach it.
pub const FUZZ_LIMITS: Limits = Limits { max_runs: 256 };

/// Reads `data` as text (invalid UTF-8 replaced, so every input reaches
/// the parsers) and checks it as a TOML, a YAML and a JSON sweep file.
pub fn check_sweep_input(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for format in [SpecFormat::Toml, SpecFormat::Yaml, SpecFormat::Json] {
        check_sweep_text(&text, format);
    }
}

/// Parses, plans and expands `text` in `format`, checking each outcome.
pub fn check_sweep_text(text: &str, format: SpecFormat) {
    let spec = match parse_sweep(text, format) {
        Ok(spec) => spec,
        Err(error) => return check_error(&error),
    };
    let plan = match spec.plan(&FUZZ_LIMITS) {
        Ok(plan) => plan,
        Err(error) => return check_error(&error),
    };
    check_plan(&spec, &plan);
}

/// Checks that an error names the field or the problem it is about.
fn check_error(error: &SweepError) {
    let message = error.to_string();
    assert!(!message.trim().is_empty(), "empty message for {error:?}");

    let named = match error {
        SweepError::UnknownFormat { given, .. } => given.as_str(),
        SweepError::Syntax { message, .. } => message.as_str(),
        SweepError::NotATable { found } => found.as_str(),
        SweepError::UnknownKey { section, .. } => section.as_str(),
        SweepError::MissingField { field, .. } => field.as_str(),
        SweepError::InvalidField { field, .. } => field.as_str(),
        SweepError::UnknownPath { path, .. } => path.as_str(),
        SweepError::PathBelowValue { path, .. } => path.as_str(),
        SweepError::TooManyRuns { .. } => "the run count",
        SweepError::InvalidPoint { point, .. } => point.as_str(),
    };
    assert!(
        !named.trim().is_empty(),
        "the error {message:?} names no field: {error:?}"
    );
}

/// Checks a plan against its sweep and expands it, checking every run.
fn check_plan(spec: &SweepSpec, plan: &SweepPlan) {
    let grid_points = spec
        .grid()
        .iter()
        .map(|axis| axis.values.len() as u64)
        .product::<u64>();
    let samples = spec.random().map_or(1, |random| random.samples());
    let expected_points = grid_points * samples + spec.include().len() as u64;
    assert_eq!(
        plan.point_count(),
        expected_points,
        "point count against grid {grid_points} x samples {samples} + include {}",
        spec.include().len()
    );

    let seeds = spec.seeds().len();
    let variants = 1 + spec.baselines().len() as u64;
    assert!(
        plan.run_count() <= FUZZ_LIMITS.max_runs,
        "plan over the limit"
    );
    assert!(
        plan.run_count() >= seeds,
        "{} runs, fewer than the {seeds} seeds of the first point",
        plan.run_count()
    );
    assert!(
        plan.run_count() <= expected_points * seeds * variants,
        "{} runs, more than points x seeds x variants",
        plan.run_count()
    );

    let sweep_seeds: HashSet<u64> = spec.seeds().iter().collect();
    let mut run_keys = HashSet::new();
    let mut runs = 0u64;
    let mut baseline_runs = 0u64;
    for run in plan.runs() {
        let run = run.unwrap_or_else(|error| panic!("a planned sweep failed to expand: {error}"));
        runs += 1;

        if let Err(error) = run.config.validate() {
            panic!("run {} has an invalid configuration: {error}", run.run_key);
        }
        assert_eq!(run.config_hash, run.config.config_hash(), "config hash");
        assert_eq!(
            run.canonical_config,
            run.config.canonical_json(),
            "canonical configuration"
        );
        assert_eq!(run.run_key, run_key(&run.config_hash, run.seed), "run key");
        assert!(run_keys.insert(run.run_key.clone()), "run key repeated");
        assert!(
            sweep_seeds.contains(&run.seed),
            "seed {} not in the sweep",
            run.seed
        );
        assert!(run.point_index < plan.point_count(), "point index");

        if let RunRole::Baseline(baseline) = run.role {
            baseline_runs += 1;
            assert!(
                spec.baselines().contains(&baseline),
                "baseline {baseline} not asked for"
            );
        }
    }

    assert_eq!(runs, plan.run_count(), "runs expanded against runs counted");
    assert_eq!(
        baseline_runs,
        plan.baseline_run_count(),
        "baseline runs expanded against baseline runs counted"
    );
}
