//! Reader of labelled examples from a CSV file.
//!
//! The first row is a header. The column named by `data.label_column` holds
//! integer class labels 0, 1, ... below [`MAX_CLASSES`]; every other column
//! is a numeric feature, and there must be at least one. Every row must have
//! as many fields as the header.

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::{Dataset, MAX_CLASSES};
use crate::error::SimError;

/// Rejection of a CSV data set, with a reason that names the header or the
/// line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CSV data: {reason}")]
pub struct CsvError {
    pub reason: String,
}

impl CsvError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// Loads the CSV file at `path`; see [`parse`].
pub fn load(path: &Path, label_column: &str) -> Result<Dataset, SimError> {
    let file = std::fs::File::open(path)
        .map_err(|error| SimError::data_load(path, format!("cannot read the file: {error}")))?;
    parse(file, label_column).map_err(|error| SimError::data_load(path, error.reason))
}

/// Parses CSV text from `reader` into a data set whose labels come from
/// the column named `label_column` and whose features are all other
/// columns, in file order.
pub fn parse(reader: impl Read, label_column: &str) -> Result<Dataset, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);

    let header = reader
        .headers()
        .map_err(|error| CsvError::new(format!("cannot read the header row: {error}")))?
        .clone();
    let width = header.len();
    let label_index = header
        .iter()
        .position(|name| name.trim() == label_column)
        .ok_or_else(|| {
            CsvError::new(format!(
                "no column named {label_column:?} in the header {:?}; set data.label_column",
                header.iter().collect::<Vec<_>>()
            ))
        })?;
    if width == 1 {
        return Err(CsvError::new(format!(
            "the header has only the label column {label_column:?}; add at least one feature column"
        )));
    }

    let mut values = Vec::new();
    let mut labels = Vec::new();
    for (row_index, record) in reader.records().enumerate() {
        let line = row_index + 2;
        let record = record.map_err(|error| CsvError::new(format!("line {line}: {error}")))?;
        if record.len() != width {
            return Err(CsvError::new(format!(
                "line {line} has {} fields but the header has {width}; every row needs one value per column",
                record.len()
            )));
        }

        for (column, field) in record.iter().enumerate() {
            let field = field.trim();
            if column == label_index {
                let label: usize = field.parse().map_err(|_| {
                    CsvError::new(format!(
                        "line {line}: label {field:?} is not a non-negative integer class"
                    ))
                })?;
                if label >= MAX_CLASSES {
                    return Err(CsvError::new(format!(
                        "line {line}: label {label} is too large; labels are classes 0 to {}",
                        MAX_CLASSES - 1
                    )));
                }
                labels.push(label);
                continue;
            }
            let value: f32 = field.parse().map_err(|_| {
                CsvError::new(format!(
                    "line {line}, column {:?}: {field:?} is not a number",
                    &header[column]
                ))
            })?;
            if !value.is_finite() {
                return Err(CsvError::new(format!(
                    "line {line}, column {:?}: {field:?} is not finite",
                    &header[column]
                )));
            }
            values.push(value);
        }
    }

    if labels.is_empty() {
        return Err(CsvError::new("the file has a header but no examples"));
    }
    let features = Array2::from_shape_vec((labels.len(), width - 1), values)
        .expect("every row has width - 1 features");
    let num_classes = labels.iter().max().map_or(0, |max| max + 1);
    Ok(Dataset {
        features,
        labels,
        num_classes,
    })
}
