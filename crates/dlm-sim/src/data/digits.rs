//! The built-in handwritten digits: 1,797 images of 8x8 pixels with values
//! 0..16, ten classes (UCI "Optical Recognition of Handwritten Digits",
//! CC BY 4.0). The copy shipped inside the smartcore crate (feature
//! `datasets`) is used, so no download is needed.

use ndarray::Array2;

use super::Dataset;
use super::split;
use crate::config::{TaskConfig, TaskKind};

pub const NUM_CLASSES: usize = 10;
pub const NUM_FEATURES: usize = 64;

/// Images per class 0..9 in the data set; `load` checks them.
pub const CLASS_COUNTS: [usize; NUM_CLASSES] = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

/// Loads all 1,797 images with raw pixel values 0..16 (not yet scaled).
pub fn load() -> Dataset {
    let raw = smartcore::dataset::digits::load_dataset();
    let features = Array2::from_shape_vec((raw.num_samples, raw.num_features), raw.data)
        .expect("smartcore's digits data has num_samples x num_features values");
    let labels = raw.target.iter().map(|&label| label as usize).collect();
    Dataset {
        features,
        labels,
        num_classes: NUM_CLASSES,
    }
}

/// Training examples of the smallest task of a digits sequence, computed
/// from the class sizes without loading the images.
pub fn smallest_task_train_size(tasks: &TaskConfig, test_fraction: f64) -> usize {
    let train = split::train_counts(&CLASS_COUNTS, test_fraction);
    match tasks.kind {
        TaskKind::Split => train
            .chunks(tasks.classes_per_task.max(1))
            .take(tasks.num_tasks)
            .map(|group| group.iter().sum())
            .min()
            .unwrap_or(0),
        TaskKind::Permuted | TaskKind::Teacher => train.iter().sum(),
    }
}
