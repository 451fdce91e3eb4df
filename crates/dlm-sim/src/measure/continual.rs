//! Continual-learning metrics of an accuracy matrix.
//!
//! `R[k][j]` is the test accuracy on task j after training task k, with
//! tasks numbered 1..K and row 0 the untrained network (in code, column j-1).
//! Metrics that need an old task (F, BWT, the forgetting rate) or a second
//! task (FWT) are `None` when K = 1.

/// Forgetting, transfer and accuracy of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContinualMetrics {
    pub forgetting: Option<f64>,
    pub forgetting_rate: Option<f64>,
    pub backward_transfer: Option<f64>,
    pub forward_transfer: Option<f64>,
    pub average_accuracy: Option<f64>,
    pub learning_accuracy: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut total = 0.0;
    let mut count = 0usize;
    for value in values {
        total += value;
        count += 1;
    }
    (count > 0).then(|| total / count as f64)
}

/// Computes every metric from `accuracy` (shape: (K+1) x K) and the steps of
/// each task (length K).
///
/// - F = mean over j < K of max_{k in [j, K-1]} R[k][j] - R[K][j] (Chaudhry et al. 2018)
/// - BWT = mean over j < K of R[K][j] - R[j][j] (Lopez-Paz and Ranzato 2017)
/// - FWT = mean over j >= 2 of R[j-1][j] - R[0][j]
/// - ACC = mean over j of R[K][j]; LA = mean over j of R[j][j]
/// - forgetting rate = mean over j < K of (R[j][j] - R[j+1][j]) / (S_{j+1} / 1000)
pub fn continual_metrics(accuracy: &[Vec<f64>], task_steps: &[u64]) -> ContinualMetrics {
    let tasks = task_steps.len();
    if tasks == 0 || accuracy.len() != tasks + 1 {
        return ContinualMetrics::default();
    }
    let r = |row: usize, task: usize| accuracy[row][task - 1];
    let last = tasks;

    let forgetting = mean((1..last).map(|j| {
        let best = (j..last).map(|k| r(k, j)).fold(f64::NEG_INFINITY, f64::max);
        best - r(last, j)
    }));
    let backward_transfer = mean((1..last).map(|j| r(last, j) - r(j, j)));
    let forward_transfer = mean((2..=last).map(|j| r(j - 1, j) - r(0, j)));
    let average_accuracy = mean((1..=last).map(|j| r(last, j)));
    let learning_accuracy = mean((1..=last).map(|j| r(j, j)));
    let forgetting_rate = mean((1..last).map(|j| {
        let following_steps = task_steps[j] as f64;
        (r(j, j) - r(j + 1, j)) / (following_steps / 1000.0)
    }));

    ContinualMetrics {
        forgetting,
        forgetting_rate,
        backward_transfer,
        forward_transfer,
        average_accuracy,
        learning_accuracy,
    }
}
