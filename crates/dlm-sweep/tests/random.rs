//! Random sampling: reproducible with the seed, within bounds, the right
//! distributions, and crossed with the grid.

mod common;

use common::{collect_runs, plan_toml, sweep_toml};
use dlm_sweep::{SpecFormat, SweepSpec, parse_sweep};
use serde_json::Value;

fn random_spec(params: &str, samples: u64, seed: u64) -> SweepSpec {
    let text = format!(
        "name = \"random\"\n[random]\nn = {samples}\nseed = {seed}\n[random.params]\n{params}"
    );
    parse_sweep(&text, SpecFormat::Toml).unwrap()
}

fn draws(spec: &SweepSpec, path: &str) -> Vec<Value> {
    let random = spec.random().unwrap();
    (0..random.samples())
        .map(|index| {
            let sample = random.sample(index);
            let (_, value) = sample.into_iter().find(|(name, _)| name == path).unwrap();
            value
        })
        .collect()
}

#[test]
fn random_samples_repeat_with_the_seed() {
    let params = "\"dynamics.temperature\" = { log_uniform = [1e-4, 1e-1] }\n\"dynamics.alpha\" = { uniform = [-1, 1] }";
    let first = random_spec(params, 50, 9);
    let again = random_spec(params, 50, 9);
    let other = random_spec(params, 50, 10);

    assert_eq!(
        draws(&first, "dynamics.alpha"),
        draws(&again, "dynamics.alpha")
    );
    assert_eq!(
        draws(&first, "dynamics.temperature"),
        draws(&again, "dynamics.temperature")
    );
    assert_ne!(
        draws(&first, "dynamics.alpha"),
        draws(&other, "dynamics.alpha")
    );
}

#[test]
fn random_sample_does_not_depend_on_n() {
    // Sample i is drawn from its own stream, so a larger n extends the
    // sweep without changing the samples it already had.
    let params = "\"dynamics.alpha\" = { uniform = [0, 1] }";
    let short = draws(&random_spec(params, 10, 3), "dynamics.alpha");
    let long = draws(&random_spec(params, 40, 3), "dynamics.alpha");

    assert_eq!(short[..], long[..10]);
}

#[test]
fn random_uniform_within_bounds_and_flat() {
    let spec = random_spec("\"dynamics.alpha\" = { uniform = [-2, 3] }", 4000, 1);

    let values: Vec<f64> = draws(&spec, "dynamics.alpha")
        .iter()
        .map(|value| value.as_f64().unwrap())
        .collect();

    assert!(values.iter().all(|value| (-2.0..3.0).contains(value)));
    // Each of 5 unit bins holds 1/5 of the samples. With n = 4000 a bin's
    // share has standard deviation sqrt(0.2 * 0.8 / 4000) = 0.0063; the
    // tolerance is 5 of those.
    for bin in -2..3 {
        let low = bin as f64;
        let share = values
            .iter()
            .filter(|value| (low..low + 1.0).contains(value))
            .count() as f64
            / 4000.0;
        assert!(
            (share - 0.2).abs() < 0.032,
            "bin [{low}, {}) has share {share}",
            low + 1.0
        );
    }
    let mean = values.iter().sum::<f64>() / 4000.0;
    // Mean 0.5, standard error 5 / sqrt(12 * 4000) = 0.023; 5 of those.
    assert!((mean - 0.5).abs() < 0.115, "mean {mean}");
}

#[test]
fn random_log_uniform_is_flat_in_log_space() {
    let spec = random_spec(
        "\"dynamics.temperature\" = { log_uniform = [1e-4, 1] }",
        4000,
        2,
    );

    let values: Vec<f64> = draws(&spec, "dynamics.temperature")
        .iter()
        .map(|value| value.as_f64().unwrap())
        .collect();

    assert!(values.iter().all(|value| (1e-4..=1.0).contains(value)));
    // log10 of the samples is uniform on [-4, 0]: each decade holds 1/4 of
    // the samples (standard deviation of a share sqrt(0.25 * 0.75 / 4000)
    // = 0.0068; tolerance 5 of those). A plain uniform draw would put about
    // 99.99 % of the samples in the top decade.
    for decade in -4..0 {
        let low = 10f64.powi(decade);
        let high = 10f64.powi(decade + 1);
        let share = values
            .iter()
            .filter(|value| **value >= low && **value < high)
            .count() as f64
            / 4000.0;
        assert!(
            (share - 0.25).abs() < 0.034,
            "decade [{low}, {high}) has share {share}"
        );
    }
}

#[test]
fn random_choice_picks_listed_values_evenly() {
    let spec = random_spec(
        "\"dynamics.coupling\" = { choice = [\"linear\", \"tanh\", \"quadratic\"] }",
        3000,
        5,
    );

    let values = draws(&spec, "dynamics.coupling");

    for name in ["linear", "tanh", "quadratic"] {
        let share = values
            .iter()
            .filter(|value| value.as_str() == Some(name))
            .count() as f64
            / 3000.0;
        // Share 1/3 with standard deviation sqrt(2/9 / 3000) = 0.0086; 5 of those.
        assert!(
            (share - 1.0 / 3.0).abs() < 0.043,
            "{name} has share {share}"
        );
    }
    assert!(
        values
            .iter()
            .all(|value| ["linear", "tanh", "quadratic"].contains(&value.as_str().unwrap()))
    );
}

#[test]
fn random_samples_cross_every_grid_point() {
    let sections = r#"
grid."dynamics.temperature" = [0, 0.01]

[random]
n = 3
seed = 11
params."dynamics.alpha" = { uniform = [0, 1] }
params."dynamics.coupling" = { choice = ["linear", "tanh"] }
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    assert_eq!(plan.point_count(), 6);
    assert_eq!(runs.len(), 6);
    // Points run grid point by grid point, every sample within each, and
    // sample s sets the same values at every grid point.
    for sample in 0..3 {
        let at_first = &runs[sample].overrides;
        let at_second = &runs[3 + sample].overrides;
        assert_eq!(at_first["dynamics.alpha"], at_second["dynamics.alpha"]);
        assert_eq!(
            at_first["dynamics.coupling"],
            at_second["dynamics.coupling"]
        );
        assert_eq!(at_first["dynamics.temperature"].as_f64(), Some(0.0));
        assert_eq!(at_second["dynamics.temperature"].as_f64(), Some(0.01));
    }
    let alphas: Vec<f64> = runs[..3]
        .iter()
        .map(|run| run.overrides["dynamics.alpha"].as_f64().unwrap())
        .collect();
    assert!(
        alphas[0] != alphas[1] && alphas[1] != alphas[2],
        "samples differ: {alphas:?}"
    );
}

#[test]
fn random_runs_repeat_across_plans() {
    let sections = "[random]\nn = 5\nseed = 4\nparams.\"dynamics.alpha\" = { uniform = [0, 1] }";
    let first: Vec<String> = collect_runs(&plan_toml(&sweep_toml(sections)).unwrap())
        .into_iter()
        .map(|run| run.run_key)
        .collect();
    let second: Vec<String> = collect_runs(&plan_toml(&sweep_toml(sections)).unwrap())
        .into_iter()
        .map(|run| run.run_key)
        .collect();

    assert_eq!(first.len(), 5);
    assert_eq!(first, second);
}

#[test]
fn random_nested_params_equal_dotted_paths() {
    let dotted = random_spec("\"dynamics.alpha\" = { uniform = [0, 1] }", 5, 2);
    let nested = random_spec("dynamics.alpha = { uniform = [0, 1] }", 5, 2);

    assert_eq!(nested.random().unwrap().params()[0].0, "dynamics.alpha");
    assert_eq!(
        draws(&dotted, "dynamics.alpha"),
        draws(&nested, "dynamics.alpha")
    );
}
