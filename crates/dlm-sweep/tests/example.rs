//! The tiny example sweep that end-to-end tests run stays valid and small.

mod common;

use common::collect_runs;
use dlm_sim::{DatasetKind, Method, TaskKind};
use dlm_sweep::{Limits, RunRole, SpecFormat, parse_sweep};

const EXAMPLE: &str = include_str!("../../../examples/sweep-tiny.toml");

#[test]
fn example_tiny_sweep_plans() {
    let plan = parse_sweep(EXAMPLE, SpecFormat::Toml)
        .unwrap()
        .plan(&Limits::default())
        .unwrap();

    let runs = collect_runs(&plan);

    assert_eq!(plan.run_count(), 10);
    assert_eq!(plan.baseline_run_count(), 2);
    assert_eq!(runs.len(), 10);
    for run in &runs {
        assert_eq!(run.config.data.dataset, DatasetKind::Digits);
        assert_eq!(run.config.tasks.kind, TaskKind::Split);
        let steps = run.config.tasks.steps_per_task * run.config.tasks.num_tasks as u64;
        assert!(steps <= 300, "{steps} steps is not a short run");
    }
    let baselines: Vec<&_> = runs.iter().filter(|run| run.role.is_baseline()).collect();
    assert!(
        baselines
            .iter()
            .all(|run| run.config.dynamics.method == Method::Sgd)
    );
    assert!(
        runs.iter()
            .filter(|run| run.role == RunRole::Dlm)
            .all(|run| run.config.dynamics.method == Method::Dlm)
    );
}

#[test]
fn docs_example_sweep_plans() {
    let docs = include_str!("../../../docs/sweeps.md");
    let start = docs.find("```toml\n").expect("the docs show a TOML sweep") + "```toml\n".len();
    let length = docs[start..].find("```").expect("the TOML block is closed");
    let text = &docs[start..start + length];

    let plan = parse_sweep(text, SpecFormat::Toml)
        .unwrap()
        .plan(&Limits::default())
        .unwrap();

    // 3 x 3 x 2 x 2 grid points x 4 samples + 1 include entry, 3 seeds.
    assert_eq!(plan.point_count(), 145);
    assert_eq!(plan.run_count() - plan.baseline_run_count(), 145 * 3);
}
