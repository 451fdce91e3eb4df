//! Data sets and their fixed train/test split.
//!
//! Every loader returns raw features and integer labels; scaling and the
//! split happen here, the same way for every source, so a sweep's runs are
//! all scored on the same test set.

pub mod csv_file;
pub mod digits;
pub mod idx;
pub mod split;
pub mod teacher;

use ndarray::{Array2, Axis};

use crate::config::{DataConfig, DatasetKind};
use crate::error::SimError;

/// Maximum number of classes a data set may have, so labels go up to
/// 65,535. The output layer has one unit per class, and the tasks list
/// every class, so a stray huge label in a file would otherwise claim
/// memory for that many classes.
pub const MAX_CLASSES: usize = 1 << 16;

/// Examples as rows of `features` (shape: examples x features) with a class
/// label in `0..num_classes` each.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub features: Array2<f32>,
    pub labels: Vec<usize>,
    pub num_classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn num_features(&self) -> usize {
        self.features.ncols()
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select(Axis(0), indices),
            labels: indices.iter().map(|&index| self.labels[index]).collect(),
            num_classes: self.num_classes,
        }
    }
}

/// The training and test examples of one data set.
#[derive(Clone, Debug)]
pub struct SplitData {
    pub train: Dataset,
    pub test: Dataset,
}

/// Loads the configured data set, divides features by the input scale and
/// splits it into train and test (or reads the separate test file).
pub fn load(config: &DataConfig) -> Result<SplitData, SimError> {
    let (mut train_pool, mut test) = match config.dataset {
        DatasetKind::Digits => (digits::load(), None),
        DatasetKind::Teacher => (teacher::generate(&config.teacher, config.data_seed), None),
        DatasetKind::Idx => {
            let path = required(&config.path);
            let labels = required(&config.labels_path);
            let train = idx::load_pair(path, labels)?;
            let test = match (&config.test_path, &config.test_labels_path) {
                (Some(images), Some(labels)) => Some(idx::load_pair(images, labels)?),
                _ => None,
            };
            (train, test)
        }
        DatasetKind::Csv => {
            let path = required(&config.path);
            let train = csv_file::load(path, &config.label_column)?;
            let test = match &config.test_path {
                Some(test_path) => Some(csv_file::load(test_path, &config.label_column)?),
                None => None,
            };
            (train, test)
        }
    };

    if let Some(test_set) = &mut test {
        align_test_set(config, &mut train_pool, test_set)?;
    }

    let scale = config.effective_input_scale() as f32;
    train_pool.features.mapv_inplace(|value| value / scale);

    let split = match test {
        Some(mut test_set) => {
            test_set.features.mapv_inplace(|value| value / scale);
            SplitData {
                train: train_pool,
                test: test_set,
            }
        }
        None => split::stratified(&train_pool, config.test_fraction, config.data_seed),
    };
    Ok(split)
}

fn required(path: &Option<std::path::PathBuf>) -> &std::path::Path {
    // Validation guarantees the path for this data set.
    path.as_deref()
        .expect("validated configuration has this data path")
}

/// Checks that a separate test file matches the training file's features and
/// shares its class count.
fn align_test_set(
    config: &DataConfig,
    train: &mut Dataset,
    test: &mut Dataset,
) -> Result<(), SimError> {
    let test_path = config
        .test_path
        .as_deref()
        .expect("test set comes from test_path");
    if test.num_features() != train.num_features() {
        return Err(SimError::data_load(
            test_path,
            format!(
                "the test file has {} features per example but the training file has {}; \
                 use files of the same data set",
                test.num_features(),
                train.num_features()
            ),
        ));
    }
    let classes = train.num_classes.max(test.num_classes);
    train.num_classes = classes;
    test.num_classes = classes;
    Ok(())
}
