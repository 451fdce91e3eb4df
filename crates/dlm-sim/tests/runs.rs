//! Whole runs on split digits: learning, forgetting, determinism and divergence.

use dlm_sim::{Baseline, PerLayer, RunConfig, Scenario, simulate, simulate_many};

#[test]
fn sgd_learns_task_incremental_split_digits() {
    let config = RunConfig::default().to_baseline(Baseline::Sgd);
    let report = simulate(&config, 1, &mut ()).unwrap();
    let summary = &report.summary;
    assert!(!summary.diverged);
    let learning_accuracy = summary.learning_accuracy.unwrap();
    assert!(learning_accuracy >= 0.95, "LA = {learning_accuracy}");
    assert_eq!(report.accuracy.len(), 6);
    assert!(report.accuracy.iter().all(|row| row.len() == 5));
}

#[test]
fn class_incremental_split_digits_forgets() {
    let mut config = RunConfig::default().to_baseline(Baseline::Sgd);
    config.tasks.scenario = Scenario::Class;
    let report = simulate(&config, 1, &mut ()).unwrap();
    let summary = &report.summary;
    let learning_accuracy = summary.learning_accuracy.unwrap();
    let forgetting = summary.forgetting.unwrap();
    assert!(learning_accuracy >= 0.95, "LA = {learning_accuracy}");
    // A shared head trained on the newest pair only predicts that pair, so
    // old tasks drop towards 0: forgetting close to the learning accuracy.
    assert!(forgetting >= 0.7, "class-incremental F = {forgetting}");

    let task_incremental =
        simulate(&RunConfig::default().to_baseline(Baseline::Sgd), 1, &mut ()).unwrap();
    assert!(forgetting > task_incremental.summary.forgetting.unwrap() + 0.5);
}

fn short_config() -> RunConfig {
    let mut config = RunConfig::default();
    config.tasks.num_tasks = 2;
    config.tasks.steps_per_task = 300;
    config
}

#[test]
fn runs_are_bit_identical_across_thread_counts() {
    let mut current_gradient = short_config();
    current_gradient.dynamics.direction = dlm_sim::Direction::CurrentGradient;
    current_gradient.dynamics.integrator = dlm_sim::Integrator::OuExact;
    let jobs = vec![
        (short_config(), 1),
        (short_config(), 2),
        (current_gradient, 3),
        (short_config().to_baseline(Baseline::Sgld), 4),
        (short_config().to_baseline(Baseline::Ewc), 5),
    ];
    let single = simulate_many(&jobs, 1);
    let parallel = simulate_many(&jobs, 2);
    for (index, (one, two)) in single.iter().zip(&parallel).enumerate() {
        let one = one.as_ref().unwrap();
        let two = two.as_ref().unwrap();
        assert_eq!(one, two, "job {index} differs between 1 and 2 threads");
    }

    let repeated = simulate(&jobs[0].0, jobs[0].1, &mut ()).unwrap();
    assert_eq!(&repeated, single[0].as_ref().unwrap());
    assert_ne!(
        single[0].as_ref().unwrap().summary,
        single[1].as_ref().unwrap().summary,
        "seeds 1 and 2 gave the same run"
    );
}

#[test]
fn absurd_temperature_diverges_without_panic() {
    let mut config = short_config();
    config.dynamics.temperature = PerLayer::Scalar(1e30);
    let report = simulate(&config, 1, &mut ()).unwrap();
    let summary = &report.summary;
    assert!(summary.diverged);
    let step = summary.diverged_step.unwrap();
    assert!(
        step >= 1 && step <= summary.steps,
        "diverged at step {step}"
    );
    assert!(
        summary.metrics().iter().all(|(_, value)| value.is_none()),
        "{:?}",
        summary.metrics()
    );
    assert_eq!(report.accuracy.len(), 1, "only the untrained row exists");

    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("NaN"), "{json}");
    assert!(!json.contains("inf"), "{json}");
}

#[test]
fn zero_temperature_leaves_sigma_null() {
    let report = simulate(&short_config().to_baseline(Baseline::Sgd), 1, &mut ()).unwrap();
    assert_eq!(report.summary.sigma_flux_mean, None);
    assert_eq!(report.summary.sigma_heat_mean, None);
    assert!(report.series.sigma_flux.iter().all(Option::is_none));
}

#[test]
fn series_and_summaries_are_consistent() {
    let config = short_config();
    let report = simulate(&config, 9, &mut ()).unwrap();
    let series = &report.series;
    assert_eq!(series.step.len(), 60, "600 steps recorded every 10");
    assert_eq!(series.current[0].len(), 3);
    assert_eq!(series.fisher_trace.len(), 2);
    assert!(
        series
            .fisher_trace
            .iter()
            .flatten()
            .all(|trace| *trace >= 0.0)
    );
    assert_eq!(
        series.old_task_accuracy.len(),
        5,
        "task 2 evaluates task 1 at steps 50..250"
    );
    assert_eq!(series.sigma_flux_task_mean.len(), 2);
    let psd = series.psd.as_ref().unwrap();
    assert_eq!(psd.frequency.len(), 129);
    assert!(report.summary.beta.is_some());
    assert!(report.summary.sigma_flux_mean.is_some());
    assert_eq!(
        report.summary.metrics().len(),
        dlm_sim::Summary::METRIC_NAMES.len()
    );
}
