//! Stopping a running simulation through a `StopSignal`.

use dlm_sim::{Progress, RunConfig, RunOutcome, StopSignal, simulate, simulate_with_stop};

/// Two tasks of 300 steps: 600 training steps in all.
fn short_config() -> RunConfig {
    let mut config = RunConfig::default();
    config.tasks.num_tasks = 2;
    config.tasks.steps_per_task = 300;
    config
}

/// Sets the stop signal from the progress callback once `step` steps are
/// done, as another thread would, and records the last step reported to it.
struct StopAtStep {
    step: u64,
    signal: StopSignal,
    last_reported: u64,
}

impl Progress for StopAtStep {
    fn on_steps(&mut self, done: u64, _total: u64) {
        self.last_reported = done;
        if done >= self.step {
            self.signal.stop();
        }
    }
}

#[test]
fn stop_ends_run_at_next_check() {
    // (step at which the stop is requested, steps the run reports when it
    // stops, or None when it ends before seeing the request). Progress
    // arrives every 64 steps, so a request lands on the next multiple of 64.
    let cases = [
        (64, Some(64)),
        (100, Some(128)),
        (576, Some(576)),
        (590, None),
    ];
    for (stop_at, expected) in cases {
        let signal = StopSignal::new();
        let mut progress = StopAtStep {
            step: stop_at,
            signal: signal.clone(),
            last_reported: 0,
        };

        let outcome = simulate_with_stop(&short_config(), 1, &mut progress, &signal).unwrap();

        match expected {
            Some(steps) => {
                assert_eq!(
                    outcome,
                    RunOutcome::Stopped {
                        steps,
                        total_steps: 600
                    },
                    "stop at {stop_at}"
                );
                assert_eq!(progress.last_reported, steps, "no step ran after the stop");
            }
            None => assert!(
                matches!(outcome, RunOutcome::Finished(_)),
                "stop at {stop_at}: {outcome:?}"
            ),
        }
    }
}

#[test]
fn signal_set_before_start_runs_no_step() {
    let signal = StopSignal::new();
    signal.stop();

    let outcome = simulate_with_stop(&short_config(), 1, &mut (), &signal).unwrap();

    assert_eq!(
        outcome,
        RunOutcome::Stopped {
            steps: 0,
            total_steps: 600
        }
    );
    assert!(signal.is_stopped(), "the signal stays set");
}

#[test]
fn unset_signal_changes_no_bit() {
    let config = short_config();
    let plain = simulate(&config, 7, &mut ()).unwrap();

    let outcome = simulate_with_stop(&config, 7, &mut (), &StopSignal::new()).unwrap();

    let RunOutcome::Finished(watched) = outcome else {
        panic!("a run whose signal is never set stopped: {outcome:?}");
    };
    // Debug output prints the shortest text that reads back to the same
    // float, so equal text is equal bits (PartialEq would take -0.0 for 0.0).
    assert_eq!(format!("{watched:?}"), format!("{plain:?}"));
}
