//! Continual-learning task sequences over one data set.
//!
//! A task is a set of training and test examples of the shared data, each
//! with a target index into the task's head (the logits it trains and is
//! scored on), and an optional permutation of the input features.

use ndarray::{Array2, ArrayViewMut2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::{ConfigError, RunConfig, Scenario, TaskKind, validate};
use crate::data::{Dataset, SplitData, teacher};

/// Stream of the data-seed generator for the permutation of task k is this plus k.
const PERMUTATION_STREAM_BASE: u64 = 1_000;

/// Examples of one split (train or test) that belong to a task.
#[derive(Clone, Debug)]
pub struct TaskExamples {
    /// Row indices into the shared data set.
    pub indices: Vec<usize>,
    /// Target of each example as an index into the task's head.
    pub targets: Vec<usize>,
}

impl TaskExamples {
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Task {
    pub train: TaskExamples,
    pub test: TaskExamples,
    /// Logit indices the task trains and is scored on, in target order.
    pub head: Vec<usize>,
    /// `permutation[f]` is the raw feature placed at input f, if permuted.
    pub permutation: Option<Vec<usize>>,
}

impl Task {
    /// Copies the examples at `positions` of `examples` into `batch`
    /// (shape: positions x features), applying the permutation.
    pub fn gather(
        &self,
        data: &Dataset,
        examples: &TaskExamples,
        positions: &[usize],
        mut batch: ArrayViewMut2<f32>,
    ) {
        for (row, &position) in positions.iter().enumerate() {
            let source = data.features.row(examples.indices[position]);
            let mut target = batch.row_mut(row);
            match &self.permutation {
                None => target.assign(&source),
                Some(permutation) => {
                    for (slot, &feature) in target.iter_mut().zip(permutation) {
                        *slot = source[feature];
                    }
                }
            }
        }
    }
}

/// Builds the task sequence of `config` over the loaded data and checks the
/// rules that depend on it (enough classes, batch not larger than a task).
pub fn build(config: &RunConfig, data: &SplitData) -> Result<Vec<Task>, ConfigError> {
    let spec = &config.tasks;
    let classes = data.train.num_classes;
    let all_classes: Vec<usize> = (0..classes).collect();

    let tasks: Vec<Task> = match spec.kind {
        TaskKind::Split => {
            validate::check_split_fits(spec, classes)?;
            (0..spec.num_tasks)
                .map(|index| {
                    let group: Vec<usize> = (index * spec.classes_per_task
                        ..(index + 1) * spec.classes_per_task)
                        .collect();
                    let head = match spec.scenario {
                        Scenario::Task => group.clone(),
                        Scenario::Class => all_classes.clone(),
                    };
                    Task {
                        train: select_classes(&data.train, &group, &head),
                        test: select_classes(&data.test, &group, &head),
                        head,
                        permutation: None,
                    }
                })
                .collect()
        }
        TaskKind::Permuted => (0..spec.num_tasks)
            .map(|index| Task {
                train: all_examples(&data.train.labels),
                test: all_examples(&data.test.labels),
                head: all_classes.clone(),
                permutation: (index > 0)
                    .then(|| permutation(data.train.num_features(), config.data.data_seed, index)),
            })
            .collect(),
        TaskKind::Teacher => (0..spec.num_tasks)
            .map(|index| {
                let seed = config.data.data_seed;
                let teacher_config = &config.data.teacher;
                let train_labels =
                    teacher::teacher_labels(teacher_config, seed, index, &data.train.features);
                let test_labels =
                    teacher::teacher_labels(teacher_config, seed, index, &data.test.features);
                Task {
                    train: all_examples(&train_labels),
                    test: all_examples(&test_labels),
                    head: all_classes.clone(),
                    permutation: None,
                }
            })
            .collect(),
    };

    let smallest = tasks.iter().map(|task| task.train.len()).min().unwrap_or(0);
    validate::check_batch_fits(spec.batch_size, smallest)?;
    if let Some(empty) = tasks.iter().position(|task| task.test.is_empty()) {
        return Err(ConfigError::new(
            "data.test_fraction",
            config.data.test_fraction,
            format!(
                "task {} has no test examples; raise the test fraction or use more data",
                empty + 1
            ),
        ));
    }
    Ok(tasks)
}

fn select_classes(data: &Dataset, group: &[usize], head: &[usize]) -> TaskExamples {
    let mut indices = Vec::new();
    let mut targets = Vec::new();
    for (index, label) in data.labels.iter().enumerate() {
        if !group.contains(label) {
            continue;
        }
        indices.push(index);
        targets.push(
            head.iter()
                .position(|class| class == label)
                .expect("the head contains the task's classes"),
        );
    }
    TaskExamples { indices, targets }
}

fn all_examples(labels: &[usize]) -> TaskExamples {
    TaskExamples {
        indices: (0..labels.len()).collect(),
        targets: labels.to_vec(),
    }
}

fn permutation(features: usize, data_seed: u64, task: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    rng.set_stream(PERMUTATION_STREAM_BASE + task as u64);
    let mut order: Vec<usize> = (0..features).collect();
    order.shuffle(&mut rng);
    order
}

/// Test accuracy of the network on a task's test set, scored by arg-max
/// over the task's head (first maximum wins ties).
pub fn accuracy(
    layout: &crate::net::Layout,
    params: &[Vec<f32>],
    data: &Dataset,
    task: &Task,
    chunk: usize,
) -> f64 {
    let examples = &task.test;
    let mut forward = crate::net::Forward::new(layout, chunk);
    let mut batch = Array2::<f32>::zeros((chunk, data.num_features()));
    let mut correct = 0usize;

    let positions: Vec<usize> = (0..examples.len()).collect();
    for block in positions.chunks(chunk) {
        let rows = block.len();
        if batch.nrows() != rows {
            batch = Array2::zeros((rows, data.num_features()));
        }
        task.gather(data, examples, block, batch.view_mut());
        forward.run(layout, params, batch.view());

        for (row, &position) in forward.logits().outer_iter().zip(block) {
            let mut best = 0;
            for slot in 1..task.head.len() {
                if row[task.head[slot]] > row[task.head[best]] {
                    best = slot;
                }
            }
            if best == examples.targets[position] {
                correct += 1;
            }
        }
    }
    correct as f64 / examples.len() as f64
}
