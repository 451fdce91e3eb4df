//! Data loaders on small files written by the tests, the built-in digits
//! and the fixed split.

use std::path::Path;

use dlm_sim::data::{self, csv_file, digits, idx, split};
use dlm_sim::{DataConfig, DatasetKind, RunConfig, SimError, TaskKind, simulate};

fn load_error_reason(result: Result<impl std::fmt::Debug, SimError>) -> String {
    match result {
        Err(SimError::DataLoad { reason, .. }) => reason,
        other => panic!("expected a data load error, got {other:?}"),
    }
}

/// Four 2x3 images with labels 0, 1, 2, 1.
fn write_idx_pair(directory: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let images = directory.join("images.idx");
    let labels = directory.join("labels.idx");
    let pixels: Vec<u8> = (0..24).map(|value| (value * 10) as u8).collect();
    idx::write_idx(&images, &[4, 2, 3], &pixels).unwrap();
    idx::write_idx(&labels, &[4], &[0, 1, 2, 1]).unwrap();
    (images, labels)
}

#[test]
fn idx_pair_loads_images_and_labels() {
    let directory = tempfile::tempdir().unwrap();
    let (images, labels) = write_idx_pair(directory.path());
    let dataset = idx::load_pair(&images, &labels).unwrap();

    assert_eq!(dataset.features.dim(), (4, 6));
    assert_eq!(dataset.labels, vec![0, 1, 2, 1]);
    assert_eq!(dataset.num_classes, 3);
    assert_eq!(dataset.features[[1, 0]], 60.0);
    assert_eq!(dataset.features[[3, 5]], 230.0);
}

#[test]
fn idx_truncated_file_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let (images, labels) = write_idx_pair(directory.path());
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 5]).unwrap();

    let reason = load_error_reason(idx::load_pair(&images, &labels));
    assert!(reason.contains("truncated"), "{reason}");
    assert!(reason.contains("24 values"), "{reason}");

    std::fs::write(&images, &bytes[..6]).unwrap();
    let reason = load_error_reason(idx::load_pair(&images, &labels));
    assert!(reason.contains("header"), "{reason}");
}

#[test]
fn idx_wrong_magic_number_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let (images, labels) = write_idx_pair(directory.path());
    let mut bytes = std::fs::read(&images).unwrap();
    bytes[0] = 0x1f;
    bytes[1] = 0x8b;
    std::fs::write(&images, &bytes).unwrap();

    let reason = load_error_reason(idx::load_pair(&images, &labels));
    assert!(reason.contains("wrong magic number 0x1f8b0803"), "{reason}");
}

#[test]
fn idx_label_count_mismatch_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let (images, labels) = write_idx_pair(directory.path());
    idx::write_idx(&labels, &[3], &[0, 1, 2]).unwrap();

    let error = idx::load_pair(&images, &labels).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("label count 3 does not match the 4 images"),
        "{message}"
    );
    assert!(message.contains("labels.idx"), "{message}");
}

#[test]
fn idx_run_trains_end_to_end() {
    // 40 images of 4 pixels: class 0 bright on the left, class 1 on the right.
    let directory = tempfile::tempdir().unwrap();
    let images = directory.path().join("images.idx");
    let labels = directory.path().join("labels.idx");
    let mut pixels = Vec::new();
    let mut classes = Vec::new();
    for index in 0..40u8 {
        let class = index % 2;
        let row = if class == 0 {
            [200, 180 + index, 10, 5]
        } else {
            [5, 10, 180 + index, 200]
        };
        pixels.extend_from_slice(&row);
        classes.push(class);
    }
    idx::write_idx(&images, &[40, 2, 2], &pixels).unwrap();
    idx::write_idx(&labels, &[40], &classes).unwrap();

    let mut config = RunConfig::default();
    config.data = DataConfig {
        dataset: DatasetKind::Idx,
        path: Some(images),
        labels_path: Some(labels),
        ..DataConfig::default()
    };
    config.tasks.num_tasks = 1;
    config.tasks.batch_size = 8;
    config.tasks.steps_per_task = 200;
    config.model.hidden = vec![8];
    let report = simulate(&config.to_baseline(dlm_sim::Baseline::Sgd), 3, &mut ()).unwrap();
    assert_eq!(report.accuracy.len(), 2);
    assert_eq!(report.accuracy[1], vec![1.0]);
}

fn write_text(directory: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn csv_loads_features_and_labels() {
    let directory = tempfile::tempdir().unwrap();
    let path = write_text(
        directory.path(),
        "data.csv",
        "x1,label,x2\n0.5,1,2\n1.5,0,-3\n2.5,2,4e-1\n",
    );
    let dataset = csv_file::load(&path, "label").unwrap();

    assert_eq!(dataset.features.dim(), (3, 2));
    assert_eq!(dataset.labels, vec![1, 0, 2]);
    assert_eq!(dataset.num_classes, 3);
    assert_eq!(dataset.features.row(1).to_vec(), vec![1.5, -3.0]);
    assert_eq!(dataset.features[[2, 1]], 0.4);
}

#[test]
fn csv_ragged_row_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = write_text(directory.path(), "ragged.csv", "x1,x2,label\n1,2,0\n3,1\n");
    let reason = load_error_reason(csv_file::load(&path, "label"));
    assert!(
        reason.contains("line 3 has 2 fields but the header has 3"),
        "{reason}"
    );
}

#[test]
fn csv_missing_label_column_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = write_text(directory.path(), "nolabel.csv", "x1,x2,class\n1,2,0\n");
    let reason = load_error_reason(csv_file::load(&path, "label"));
    assert!(reason.contains("no column named \"label\""), "{reason}");
}

#[test]
fn csv_non_numeric_value_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let path = write_text(directory.path(), "text.csv", "x1,label\nabc,0\n");
    let reason = load_error_reason(csv_file::load(&path, "label"));
    assert!(
        reason.contains("line 2, column \"x1\": \"abc\" is not a number"),
        "{reason}"
    );

    let path = write_text(directory.path(), "badlabel.csv", "x1,label\n1,-1\n");
    let reason = load_error_reason(csv_file::load(&path, "label"));
    assert!(
        reason.contains("not a non-negative integer class"),
        "{reason}"
    );
}

#[test]
fn missing_file_names_the_path() {
    let error = csv_file::load(Path::new("/nonexistent/data.csv"), "label").unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/data.csv"),
        "{error}"
    );
}

#[test]
fn digits_is_the_full_optdigits_set() {
    let dataset = digits::load();
    assert_eq!(dataset.features.dim(), (1797, 64));
    assert_eq!(dataset.num_classes, 10);

    let mut counts = [0usize; 10];
    for &label in &dataset.labels {
        counts[label] += 1;
    }
    assert_eq!(counts, digits::CLASS_COUNTS);
    assert!(
        dataset
            .features
            .iter()
            .all(|&value| (0.0..=16.0).contains(&value) && value.fract() == 0.0)
    );
    assert_eq!(
        dataset.features.iter().cloned().fold(0.0f32, f32::max),
        16.0
    );
}

#[test]
fn digits_split_is_1437_train_360_test() {
    let config = DataConfig::default();
    let split_data = data::load(&config).unwrap();
    assert_eq!(split_data.train.len(), 1437);
    assert_eq!(split_data.test.len(), 360);
    assert!(
        split_data
            .train
            .features
            .iter()
            .all(|&value| (0.0..=1.0).contains(&value))
    );

    // Stratified: every class keeps about 20 % of its images for testing.
    let test_counts = split::test_counts(&digits::CLASS_COUNTS, 0.2);
    for (class, &count) in test_counts.iter().enumerate() {
        let found = split_data
            .test
            .labels
            .iter()
            .filter(|&&label| label == class)
            .count();
        assert_eq!(found, count, "class {class}");
        assert!(
            count == 35 || count == 36 || count == 37,
            "class {class}: {count} test images"
        );
    }

    // The same data seed gives the same split.
    let again = data::load(&config).unwrap();
    assert_eq!(split_data.test.labels, again.test.labels);
    assert_eq!(split_data.test.features, again.test.features);
}

#[test]
fn teacher_sequence_relabels_inputs() {
    let mut config = RunConfig::default();
    config.data.dataset = DatasetKind::Teacher;
    config.tasks.kind = TaskKind::Teacher;
    config.tasks.num_tasks = 2;
    let split_data = data::load(&config.data).unwrap();
    let task_list = dlm_sim::tasks::build(&config, &split_data).unwrap();
    assert_eq!(task_list.len(), 2);
    assert_eq!(task_list[0].train.indices, task_list[1].train.indices);
    let differing = task_list[0]
        .train
        .targets
        .iter()
        .zip(&task_list[1].train.targets)
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        differing > task_list[0].train.len() / 2,
        "only {differing} labels differ between teachers"
    );
}

/// Encodes an IDX file of unsigned bytes.
fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for dim in dims {
        bytes.extend_from_slice(&dim.to_be_bytes());
    }
    bytes.extend_from_slice(values);
    bytes
}

#[test]
fn idx_bytes_rejections_name_the_file() {
    let labels = idx_bytes(&[1], &[0]);
    let cases = [
        (
            idx_bytes(&[3, 0x0100_0000, 0x0100_0000, 0x0100_0000], &[1, 2]),
            idx::IdxFile::Images,
            "multiply to more than",
        ),
        (
            idx_bytes(&[1, u32::MAX, u32::MAX, u32::MAX, 0], &[]),
            idx::IdxFile::Images,
            "images of 0 pixels",
        ),
        (
            idx_bytes(&[1, 0], &[]),
            idx::IdxFile::Images,
            "images of 0 pixels",
        ),
        (
            idx_bytes(&[1], &[5]),
            idx::IdxFile::Images,
            "at least 2 dimensions",
        ),
    ];

    for (images, file, words) in cases {
        let error = idx::parse_pair(&images, &labels).unwrap_err();

        assert_eq!(error.file, file, "{error}");
        assert!(error.reason.contains(words), "{error}");
    }
}

#[test]
fn idx_bytes_parse_like_the_files() {
    let pixels: Vec<u8> = (0..24).map(|value| (value * 10) as u8).collect();
    let dataset = idx::parse_pair(
        &idx_bytes(&[4, 2, 3], &pixels),
        &idx_bytes(&[4], &[0, 1, 2, 1]),
    )
    .unwrap();

    assert_eq!(dataset.features.dim(), (4, 6));
    assert_eq!(dataset.labels, vec![0, 1, 2, 1]);
    assert_eq!(dataset.features[[3, 5]], 230.0);
}

#[test]
fn csv_rejections_name_the_problem() {
    let cases = [
        (
            "x,label\n1,18446744073709551615\n",
            "line 2: label 18446744073709551615 is too large",
        ),
        ("x,label\n1,65536\n", "labels are classes 0 to 65535"),
        ("label\n0\n1\n", "only the label column \"label\""),
        ("x,label\n1,0\n\"2,1\n", "line 3"),
    ];

    for (text, words) in cases {
        let error = csv_file::parse(text.as_bytes(), "label").unwrap_err();

        assert!(error.reason.contains(words), "for {text:?}: {error}");
    }
}

#[test]
fn csv_largest_label_is_accepted() {
    let dataset = csv_file::parse("x,label\n1,65535\n".as_bytes(), "label").unwrap();

    assert_eq!(dataset.num_classes, data::MAX_CLASSES);
}
