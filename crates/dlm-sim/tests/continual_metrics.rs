//! Forgetting, transfer and accuracy metrics on hand-built accuracy matrices,
//! with every expected value worked out by hand in the comments.

use dlm_sim::measure::continual::{ContinualMetrics, continual_metrics};

const TOLERANCE: f64 = 1e-12;

struct Case {
    name: &'static str,
    accuracy: Vec<Vec<f64>>,
    steps: Vec<u64>,
    expected: ContinualMetrics,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "three tasks with forgetting",
            // rows: untrained, after task 1, 2, 3; columns: tasks 1..3
            accuracy: vec![
                vec![0.5, 0.4, 0.3],
                vec![0.9, 0.5, 0.2],
                vec![0.7, 0.8, 0.4],
                vec![0.6, 0.6, 0.9],
            ],
            steps: vec![100, 200, 500],
            expected: ContinualMetrics {
                // f_1 = max(0.9, 0.7) - 0.6 = 0.3; f_2 = 0.8 - 0.6 = 0.2; F = 0.25
                forgetting: Some(0.25),
                // (0.6 - 0.9 + 0.6 - 0.8) / 2 = -0.25
                backward_transfer: Some(-0.25),
                // (R[1][2] - R[0][2] + R[2][3] - R[0][3]) / 2 = (0.1 + 0.1) / 2
                forward_transfer: Some(0.1),
                // (0.6 + 0.6 + 0.9) / 3
                average_accuracy: Some(0.7),
                // (0.9 + 0.8 + 0.9) / 3
                learning_accuracy: Some(2.6 / 3.0),
                // ((0.9 - 0.7) / 0.2 + (0.8 - 0.6) / 0.5) / 2 = (1.0 + 0.4) / 2
                forgetting_rate: Some(0.7),
            },
        },
        Case {
            name: "old task improves after it was learned",
            accuracy: vec![vec![0.5, 0.5], vec![0.6, 0.5], vec![0.8, 0.9]],
            steps: vec![1000, 1000],
            expected: ContinualMetrics {
                // f_1 = max(R[1][1]) - R[2][1] = 0.6 - 0.8 = -0.2
                forgetting: Some(-0.2),
                backward_transfer: Some(0.2),
                forward_transfer: Some(0.0),
                average_accuracy: Some(0.85),
                learning_accuracy: Some(0.75),
                // (0.6 - 0.8) / (1000 / 1000)
                forgetting_rate: Some(-0.2),
            },
        },
        Case {
            name: "single task",
            accuracy: vec![vec![0.1], vec![0.95]],
            steps: vec![300],
            expected: ContinualMetrics {
                forgetting: None,
                backward_transfer: None,
                forward_transfer: None,
                average_accuracy: Some(0.95),
                learning_accuracy: Some(0.95),
                forgetting_rate: None,
            },
        },
        Case {
            name: "best accuracy before the last task",
            accuracy: vec![
                vec![0.0, 0.0, 0.0],
                vec![0.5, 0.0, 0.0],
                vec![1.0, 1.0, 0.0],
                vec![0.25, 0.5, 1.0],
            ],
            steps: vec![10, 10, 10],
            expected: ContinualMetrics {
                // f_1 = max(0.5, 1.0) - 0.25 = 0.75; f_2 = 1.0 - 0.5 = 0.5
                forgetting: Some(0.625),
                // (0.25 - 0.5 + 0.5 - 1.0) / 2
                backward_transfer: Some(-0.375),
                forward_transfer: Some(0.0),
                average_accuracy: Some(1.75 / 3.0),
                learning_accuracy: Some(2.5 / 3.0),
                // ((0.5 - 1.0) / 0.01 + (1.0 - 0.5) / 0.01) / 2 = (-50 + 50) / 2
                forgetting_rate: Some(0.0),
            },
        },
    ]
}

fn assert_metric(case: &str, name: &str, actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (None, None) => {}
        (Some(actual), Some(expected)) => assert!(
            (actual - expected).abs() < TOLERANCE,
            "{case}: {name} = {actual}, expected {expected}"
        ),
        _ => panic!("{case}: {name} = {actual:?}, expected {expected:?}"),
    }
}

#[test]
fn continual_metrics_match_hand_computation() {
    for case in cases() {
        let metrics = continual_metrics(&case.accuracy, &case.steps);
        let expected = &case.expected;
        assert_metric(case.name, "F", metrics.forgetting, expected.forgetting);
        assert_metric(
            case.name,
            "BWT",
            metrics.backward_transfer,
            expected.backward_transfer,
        );
        assert_metric(
            case.name,
            "FWT",
            metrics.forward_transfer,
            expected.forward_transfer,
        );
        assert_metric(
            case.name,
            "ACC",
            metrics.average_accuracy,
            expected.average_accuracy,
        );
        assert_metric(
            case.name,
            "LA",
            metrics.learning_accuracy,
            expected.learning_accuracy,
        );
        assert_metric(
            case.name,
            "forgetting_rate",
            metrics.forgetting_rate,
            expected.forgetting_rate,
        );
    }
}
