//! Grid expansion: counts, contents, value shapes, include points, seeds,
//! baselines and duplicate removal.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{collect_runs, plan_toml, sweep_toml};
use dlm_sim::{Baseline, PerLayer, RunConfig, ScheduleKind};
use dlm_sweep::{PointOrigin, RunRole, SweepPlan, run_key};
use serde_json::json;

#[test]
fn grid_run_counts() {
    // (sections of the sweep file, expected runs, expected baseline runs)
    let cases = [
        ("", 1, 0),
        ("seeds = 4", 4, 0),
        ("grid.\"dynamics.temperature\" = [0, 0.01, 0.1]", 3, 0),
        (
            "grid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]",
            6,
            0,
        ),
        (
            "seeds = 2\ngrid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]",
            12,
            0,
        ),
        // Every point maps to the one sgd configuration (temperature and
        // coupling set to 0), so the baseline adds one run per seed.
        (
            "seeds = 2\nbaselines = [\"sgd\"]\ngrid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]",
            14,
            2,
        ),
        // sgld keeps the temperature: one configuration per temperature.
        (
            "seeds = 2\nbaselines = [\"sgd\", \"sgld\"]\ngrid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]",
            20,
            8,
        ),
        (
            "seeds = 2\nbaselines = [\"sgd\", \"sgld\", \"ewc\"]\ngrid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]",
            22,
            10,
        ),
        (
            "grid.\"dynamics.coupling\" = [\"linear\", \"tanh\", \"quadratic\"]\ngrid.\"dynamics.direction\" = [\"velocity\", \"current_gradient\"]\ngrid.\"model.activation\" = [\"relu\", \"tanh\"]",
            12,
            0,
        ),
    ];

    for (sections, expected_runs, expected_baselines) in cases {
        let plan = plan_toml(&sweep_toml(sections)).unwrap();
        let runs = collect_runs(&plan);

        assert_eq!(
            plan.run_count(),
            expected_runs,
            "run_count for:\n{sections}"
        );
        assert_eq!(
            runs.len() as u64,
            expected_runs,
            "runs yielded for:\n{sections}"
        );
        assert_eq!(
            plan.baseline_run_count(),
            expected_baselines,
            "baselines for:\n{sections}"
        );
        let keys: HashSet<&str> = runs.iter().map(|run| run.run_key.as_str()).collect();
        assert_eq!(keys.len(), runs.len(), "run keys repeat for:\n{sections}");
    }
}

#[test]
fn grid_points_cover_the_product_in_order() {
    let sections =
        "grid.\"dynamics.temperature\" = [0, 0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]";
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    // Axes are sorted by path (alpha before temperature) and the last axis
    // varies fastest.
    let expected = [
        (0.0, 0.0),
        (0.0, 0.01),
        (0.0, 0.1),
        (0.5, 0.0),
        (0.5, 0.01),
        (0.5, 0.1),
    ];
    assert_eq!(runs.len(), expected.len());
    for (index, (run, (alpha, temperature))) in runs.iter().zip(expected).enumerate() {
        assert_eq!(run.point_index, index as u64);
        assert_eq!(run.role, RunRole::Dlm);
        assert_eq!(run.config.dynamics.alpha, PerLayer::Scalar(alpha));
        assert_eq!(
            run.config.dynamics.temperature,
            PerLayer::Scalar(temperature)
        );
        assert_eq!(run.overrides["dynamics.alpha"].as_f64(), Some(alpha));
        assert_eq!(
            run.overrides["dynamics.temperature"].as_f64(),
            Some(temperature)
        );
        assert_eq!(run.config.model.hidden, vec![16, 16], "base kept");
    }
}

#[test]
fn grid_run_fields_are_consistent() {
    let plan = plan_toml(&sweep_toml(
        "seeds = [7, 42]\ngrid.\"dynamics.gamma\" = [0.5, 2]",
    ))
    .unwrap();

    for run in collect_runs(&plan) {
        assert_eq!(run.config.config_hash(), run.config_hash);
        assert_eq!(run.config.canonical_json(), run.canonical_config);
        assert_eq!(run_key(&run.config_hash, run.seed), run.run_key);
        assert!(run.config.validate().is_ok());
    }
}

#[test]
fn grid_nested_tables_equal_dotted_paths() {
    let dotted = plan_toml(&sweep_toml("grid.\"dynamics.temperature\" = [0, 0.1]")).unwrap();
    let nested = plan_toml(&sweep_toml("[grid.dynamics]\ntemperature = [0, 0.1]")).unwrap();

    let dotted_keys: Vec<String> = collect_runs(&dotted)
        .into_iter()
        .map(|run| run.run_key)
        .collect();
    let nested_keys: Vec<String> = collect_runs(&nested)
        .into_iter()
        .map(|run| run.run_key)
        .collect();
    assert_eq!(dotted_keys, nested_keys);
}

#[test]
fn grid_per_layer_list_values() {
    let sections = "grid.\"dynamics.gamma\" = [[1.0, 0.5, 0.5], 1.0]";
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    let gammas: Vec<PerLayer> = runs
        .iter()
        .map(|run| run.config.dynamics.gamma.clone())
        .collect();
    assert_eq!(
        gammas,
        vec![PerLayer::Layers(vec![1.0, 0.5, 0.5]), PerLayer::Scalar(1.0)]
    );
    assert_eq!(runs[0].overrides["dynamics.gamma"], json!([1.0, 0.5, 0.5]));
}

/// The schedule kind and tau of every run of a plan.
fn schedules(plan: &SweepPlan) -> Vec<(ScheduleKind, f64)> {
    collect_runs(plan)
        .iter()
        .map(|run| {
            (
                run.config.dynamics.schedule.kind,
                run.config.dynamics.schedule.tau,
            )
        })
        .collect()
}

#[test]
fn grid_table_values_merge_into_the_table() {
    let sections = r#"
[base.dynamics.schedule]
kind = "exponential"
tau = 77

[grid]
"dynamics.schedule" = [{ kind = "constant" }, { kind = "hyperbolic", tau = 500 }]
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let schedules = schedules(&plan);

    // A table value sets the keys it lists; the first point keeps the
    // base's tau.
    assert_eq!(
        schedules,
        vec![
            (ScheduleKind::Constant, 77.0),
            (ScheduleKind::Hyperbolic, 500.0)
        ]
    );
}

#[test]
fn include_nested_tables_equal_dotted_paths() {
    let base = "[base.dynamics]\nalpha = 0.25\ncoupling = \"tanh\"\n";
    let dotted = plan_toml(&sweep_toml(&format!(
        "{base}[[include]]\n\"dynamics.temperature\" = 0.5"
    )))
    .unwrap();
    let nested = plan_toml(&sweep_toml(&format!(
        "{base}[[include]]\ndynamics.temperature = 0.5"
    )))
    .unwrap();

    let dotted_runs = collect_runs(&dotted);
    let nested_runs = collect_runs(&nested);

    let include_run = &nested_runs[1];
    assert_eq!(
        include_run.config.dynamics.temperature,
        PerLayer::Scalar(0.5)
    );
    assert_eq!(
        include_run.config.dynamics.alpha,
        PerLayer::Scalar(0.25),
        "base alpha kept"
    );
    assert_eq!(
        include_run.config.dynamics.coupling,
        dlm_sim::Coupling::Tanh,
        "base coupling kept"
    );
    assert_eq!(dotted_runs[1].run_key, include_run.run_key);
}

#[test]
fn grid_path_inside_table_axis_applies_after_it() {
    let sections = r#"
[grid]
"dynamics.schedule" = [{ kind = "hyperbolic" }, { kind = "exponential" }]
"dynamics.schedule.tau" = [10, 20]
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let schedules = schedules(&plan);

    assert_eq!(
        schedules,
        vec![
            (ScheduleKind::Hyperbolic, 10.0),
            (ScheduleKind::Hyperbolic, 20.0),
            (ScheduleKind::Exponential, 10.0),
            (ScheduleKind::Exponential, 20.0),
        ]
    );
}

#[test]
fn include_points_follow_the_grid() {
    let sections = r#"
grid."dynamics.temperature" = [0, 0.01]

[[include]]
"dynamics.temperature" = 0.5
"dynamics.coupling" = "tanh"

[[include]]
"model.hidden" = [8]
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    assert_eq!(plan.point_count(), 4);
    assert_eq!(runs.len(), 4);
    let include_first = &runs[2];
    assert_eq!(include_first.point_index, 2);
    assert_eq!(
        include_first.config.dynamics.temperature,
        PerLayer::Scalar(0.5)
    );
    assert_eq!(
        include_first.config.dynamics.coupling,
        dlm_sim::Coupling::Tanh
    );
    assert_eq!(include_first.overrides.len(), 2);
    let include_second = &runs[3];
    assert_eq!(include_second.config.model.hidden, vec![8]);
    assert_eq!(
        include_second.config.dynamics.temperature,
        RunConfig::default().dynamics.temperature,
        "an include entry starts from the base, not from a grid point"
    );
}

#[test]
fn include_duplicate_of_grid_point_is_yielded_once() {
    let sections = r#"
grid."dynamics.temperature" = [0, 0.01]

[[include]]
"dynamics.temperature" = 0.01
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    assert_eq!(plan.point_count(), 3);
    assert_eq!(plan.run_count(), 2);
    assert_eq!(collect_runs(&plan).len(), 2);
}

#[test]
fn duplicate_grid_values_are_yielded_once() {
    // 0.1 and 1e-1 are the same number, 0 and 0.0 the same temperature.
    let sections = "seeds = 2\ngrid.\"dynamics.temperature\" = [0.1, 1e-1, 0, 0.0]";
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    assert_eq!(plan.point_count(), 4);
    assert_eq!(plan.run_count(), 4);
    let points: Vec<(u64, u64)> = runs.iter().map(|run| (run.point_index, run.seed)).collect();
    assert_eq!(points, vec![(0, 0), (0, 1), (2, 0), (2, 1)]);
}

#[test]
fn seeds_as_count_and_list() {
    let cases: [(&str, Vec<u64>); 4] = [
        ("", vec![0]),
        ("seeds = 3", vec![0, 1, 2]),
        ("seeds = [42, 7]", vec![42, 7]),
        ("seeds = [18446744073709551615]", vec![u64::MAX]),
    ];

    for (sections, expected) in cases {
        // TOML integers stop at i64::MAX, so the largest seed goes through JSON.
        let plan = if sections.contains("18446744073709551615") {
            let text = r#"{ "name": "test", "seeds": [18446744073709551615] }"#;
            common::plan_with(text, dlm_sweep::SpecFormat::Json, &Default::default()).unwrap()
        } else {
            plan_toml(&sweep_toml(sections)).unwrap()
        };

        let seeds: Vec<u64> = collect_runs(&plan).iter().map(|run| run.seed).collect();

        assert_eq!(seeds, expected, "seeds for `{sections}`");
    }
}

#[test]
fn baselines_match_their_points() {
    let sections = "seeds = 2\nbaselines = [\"sgd\", \"sgld\"]\ngrid.\"dynamics.temperature\" = [0.01, 0.1]\ngrid.\"dynamics.alpha\" = [0, 0.5]";
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    let dlm_hashes: BTreeSet<&str> = runs
        .iter()
        .filter(|run| run.role == RunRole::Dlm)
        .map(|run| run.config_hash.as_str())
        .collect();
    assert_eq!(dlm_hashes.len(), 4);

    for run in runs.iter().filter(|run| run.role.is_baseline()) {
        let RunRole::Baseline(kind) = run.role else {
            unreachable!()
        };
        let source = runs
            .iter()
            .find(|candidate| {
                candidate.role == RunRole::Dlm && candidate.point_index == run.point_index
            })
            .expect("a baseline follows the point it matches");
        assert_eq!(run.config, source.config.to_baseline(kind));
        assert!(
            !run.overrides.contains_key("dynamics.alpha")
                || run.config.dynamics.alpha == source.config.dynamics.alpha,
            "a baseline shows only overrides its configuration keeps"
        );
    }

    let sgd: Vec<(u64, u64)> = runs
        .iter()
        .filter(|run| run.role == RunRole::Baseline(Baseline::Sgd))
        .map(|run| (run.point_index, run.seed))
        .collect();
    assert_eq!(
        sgd,
        vec![(0, 0), (0, 1)],
        "one sgd configuration, first met at point 0"
    );

    let sgld_temperatures: BTreeSet<String> = runs
        .iter()
        .filter(|run| run.role == RunRole::Baseline(Baseline::Sgld))
        .map(|run| run.config.dynamics.temperature.to_string())
        .collect();
    assert_eq!(
        sgld_temperatures,
        BTreeSet::from(["0.01".to_owned(), "0.1".to_owned()])
    );
}

#[test]
fn baseline_equal_to_a_point_is_yielded_once() {
    // The explicit sgd point is the sgd baseline of the dlm point.
    let sections = r#"
baselines = ["sgd"]
grid."dynamics.method" = ["dlm", "sgd"]
grid."dynamics.temperature" = [0]
grid."dynamics.alpha" = [0]
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let roles: Vec<RunRole> = collect_runs(&plan).iter().map(|run| run.role).collect();

    assert_eq!(roles, vec![RunRole::Dlm, RunRole::Baseline(Baseline::Sgd)]);
}

#[test]
fn baseline_overrides_drop_replaced_values() {
    let sections = "baselines = [\"sgd\"]\ngrid.\"dynamics.temperature\" = [0.05]\ngrid.\"model.activation\" = [\"tanh\"]";
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let runs = collect_runs(&plan);

    let baseline = runs.iter().find(|run| run.role.is_baseline()).unwrap();
    assert_eq!(baseline.overrides.len(), 1);
    assert_eq!(baseline.overrides["model.activation"], json!("tanh"));
}

#[test]
fn hundred_thousand_runs_expand_lazily() {
    // 1,000 temperatures x 10 alphas x 10 seeds: the limit exactly.
    let temperatures: Vec<String> = (0..1000)
        .map(|index| format!("{}", index as f64 * 1e-4))
        .collect();
    let alphas: Vec<String> = (0..10)
        .map(|index| format!("{}", index as f64 * 0.1))
        .collect();
    let sections = format!(
        "seeds = 10\ngrid.\"dynamics.temperature\" = [{}]\ngrid.\"dynamics.alpha\" = [{}]",
        temperatures.join(", "),
        alphas.join(", ")
    );
    let plan = plan_toml(&sweep_toml(&sections)).unwrap();

    let mut count = 0u64;
    let mut last_point = 0;
    for run in plan.runs() {
        let run = run.unwrap();
        assert!(run.point_index >= last_point, "points come in order");
        last_point = run.point_index;
        count += 1;
    }

    assert_eq!(plan.run_count(), 100_000);
    assert_eq!(count, 100_000);
}

#[test]
fn run_roles_round_trip_names() {
    let roles = [
        RunRole::Dlm,
        RunRole::Baseline(Baseline::Sgd),
        RunRole::Baseline(Baseline::Sgld),
        RunRole::Baseline(Baseline::Ewc),
    ];

    for role in roles {
        assert_eq!(role.to_string().parse::<RunRole>().unwrap(), role);
        assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
    }
    assert!("adam".parse::<RunRole>().is_err());
}

#[test]
fn runs_carry_their_origin() {
    let sections = r#"
grid."dynamics.temperature" = [0, 0.01]

[random]
n = 2
seed = 1
params."dynamics.alpha" = { uniform = [0, 1] }

[[include]]
"dynamics.alpha" = 2.0
"#;
    let plan = plan_toml(&sweep_toml(sections)).unwrap();

    let origins: Vec<PointOrigin> = collect_runs(&plan).iter().map(|run| run.origin).collect();

    let expected = vec![
        PointOrigin::Random {
            grid_point: 0,
            sample: 0,
        },
        PointOrigin::Random {
            grid_point: 0,
            sample: 1,
        },
        PointOrigin::Random {
            grid_point: 1,
            sample: 0,
        },
        PointOrigin::Random {
            grid_point: 1,
            sample: 1,
        },
        PointOrigin::Include { entry: 0 },
    ];
    assert_eq!(origins, expected);
}

#[test]
fn planned_run_serializes_to_json() {
    let plan = plan_toml(&sweep_toml("baselines = [\"sgd\"]")).unwrap();
    let runs = collect_runs(&plan);

    let value = serde_json::to_value(&runs[1]).unwrap();

    assert_eq!(value["role"], json!("sgd"));
    assert_eq!(value["origin"], json!({ "kind": "grid", "grid_point": 0 }));
    assert_eq!(value["run_key"], json!(runs[1].run_key));
    assert_eq!(value["config"], runs[1].canonical_config);
}
