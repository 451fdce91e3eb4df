//! Checks behind the `idx_loader` and `csv_loader` fuzz targets in `fuzz/`
//! and the tests that replay their committed corpora, kept here so both
//! run the same code. A loader must never panic on any input, an accepted
//! data set must keep the loader's invariants, and a rejection must state
//! what is wrong. Each check panics when the loader breaks this contract,
//! so the fuzzer and the tests report it.

use std::path::{Path, PathBuf};

use crate::data::{Dataset, MAX_CLASSES, csv_file, idx};

/// Name of the label column in the CSV inputs.
pub const CSV_LABEL_COLUMN: &str = "label";

/// Splits one fuzz input into an IDX image file and an IDX label file: a
/// big-endian u16 gives the length of the image file, which follows it,
/// and the rest is the label file. A length past the end takes all bytes.
pub fn split_idx_input(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((length, rest)) = data.split_first_chunk::<2>() else {
        return (data, &[]);
    };
    let images_length = usize::from(u16::from_be_bytes(*length)).min(rest.len());
    rest.split_at(images_length)
}

/// Parses `data` as an IDX pair (see [`split_idx_input`]) and checks the
/// outcome.
pub fn check_idx_input(data: &[u8]) {
    let (images, labels) = split_idx_input(data);

    match idx::parse_pair(images, labels) {
        Ok(dataset) => {
            check_dataset(&dataset);
            assert!(
                dataset.labels.iter().all(|&label| label <= 255),
                "an IDX label is one byte, got {:?}",
                dataset.labels
            );
            assert!(
                dataset
                    .features
                    .iter()
                    .all(|&value| (0.0..=255.0).contains(&value) && value.fract() == 0.0),
                "an IDX pixel is one byte"
            );
        }
        Err(error) => assert!(
            !error.reason.is_empty(),
            "the IDX {} was rejected without a reason",
            error.file
        ),
    }
}

/// Parses `data` as CSV with a [`CSV_LABEL_COLUMN`] column and checks the
/// outcome.
pub fn check_csv_input(data: &[u8]) {
    match csv_file::parse(data, CSV_LABEL_COLUMN) {
        Ok(dataset) => check_dataset(&dataset),
        Err(error) => {
            // Every rejection is about the header row or names a line.
            let reason = &error.reason;
            assert!(
                reason.contains("header") || reason.contains("line "),
                "the CSV rejection {reason:?} names neither the header nor a line"
            );
        }
    }
}

/// Checks the invariants every loader promises for a data set it accepts.
fn check_dataset(dataset: &Dataset) {
    assert!(!dataset.is_empty(), "an accepted data set has no examples");
    assert_eq!(
        dataset.features.nrows(),
        dataset.labels.len(),
        "feature rows and labels differ in count"
    );
    assert!(
        dataset.num_features() > 0,
        "an accepted data set has examples of 0 features"
    );
    assert!(
        dataset.features.iter().all(|value| value.is_finite()),
        "an accepted data set has a non-finite feature"
    );

    let max_label = dataset.labels.iter().max().copied();
    assert_eq!(
        Some(dataset.num_classes),
        max_label.map(|label| label + 1),
        "the class count is not the largest label plus one"
    );
    assert!(
        dataset.num_classes <= MAX_CLASSES,
        "{} classes exceed the limit of {MAX_CLASSES}",
        dataset.num_classes
    );
}

/// Lists the committed corpus of the fuzz target `target` (the files in
/// `fuzz/corpus/<target>/` of this repository), sorted by name.
///
/// # Panics
///
/// When the folder cannot be read, so a replay test cannot pass by reading
/// nothing.
pub fn corpus_files(target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot read the corpus {}: {error}", folder.display()));

    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("corpus entry is readable").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}
