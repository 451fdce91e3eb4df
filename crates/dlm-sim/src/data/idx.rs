//! Reader of the IDX format used by MNIST and Fashion-MNIST.
//!
//! An IDX file starts with two zero bytes, a type byte (0x08 = unsigned
//! bytes, the only type these data sets use) and the number of dimensions,
//! followed by one big-endian u32 per dimension and the values in row-major
//! order. Image files have 3 dimensions (count, rows, columns), label files 1.

use std::fmt;
use std::path::Path;

use ndarray::Array2;

use super::Dataset;
use crate::error::SimError;

const UNSIGNED_BYTE: u8 = 0x08;

/// Length of the magic number that starts every IDX file, in bytes.
const MAGIC_BYTES: usize = 4;

/// One of the two files of an IDX pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxFile {
    Images,
    Labels,
}

impl fmt::Display for IdxFile {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Images => formatter.write_str("image file"),
            Self::Labels => formatter.write_str("label file"),
        }
    }
}

/// Rejection of an IDX pair: the file at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IDX {file}: {reason}")]
pub struct IdxError {
    pub file: IdxFile,
    pub reason: String,
}

/// A parsed IDX file: its dimensions and its byte values.
struct IdxArray<'a> {
    dims: Vec<usize>,
    values: &'a [u8],
}

fn parse_idx(bytes: &[u8]) -> Result<IdxArray<'_>, String> {
    if bytes.len() < MAGIC_BYTES {
        return Err(format!(
            "truncated IDX file: {} bytes, shorter than the 4-byte magic number",
            bytes.len()
        ));
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic[0] != 0 || magic[1] != 0 {
        return Err(format!(
            "wrong magic number {:#010x}: an IDX file starts with two zero bytes; \
             check that the file is an uncompressed IDX file (gunzip .gz files first)",
            u32::from_be_bytes(magic)
        ));
    }
    if magic[2] != UNSIGNED_BYTE {
        return Err(format!(
            "unsupported IDX value type {:#04x} in magic number {:#010x}; only unsigned bytes (0x08) are supported",
            magic[2],
            u32::from_be_bytes(magic)
        ));
    }

    let rank = magic[3] as usize;
    let header = MAGIC_BYTES + 4 * rank;
    if bytes.len() < header {
        return Err(format!(
            "truncated IDX file: {} bytes, shorter than its {header}-byte header",
            bytes.len()
        ));
    }
    let dims: Vec<usize> = bytes[MAGIC_BYTES..header]
        .chunks_exact(4)
        .map(|dim| u32::from_be_bytes([dim[0], dim[1], dim[2], dim[3]]) as usize)
        .collect();

    let available = bytes.len() - header;
    let Some(expected) = value_count(&dims) else {
        return Err(format!(
            "dimensions {dims:?} multiply to more than {} values but only {available} bytes \
             follow the header; the header is damaged",
            usize::MAX
        ));
    };
    if available < expected {
        return Err(format!(
            "truncated IDX file: dimensions {dims:?} need {expected} values but only {available} bytes follow the header"
        ));
    }
    if available > expected {
        return Err(format!(
            "IDX file has {} bytes after the {expected} values its dimensions {dims:?} describe; the file is damaged",
            available - expected
        ));
    }
    Ok(IdxArray {
        dims,
        values: &bytes[header..],
    })
}

/// Multiplies the dimensions, or returns `None` when the product overflows
/// `usize`, which up to 255 u32 dimensions easily do. A zero dimension
/// makes the product 0 whatever the others are.
fn value_count(dims: &[usize]) -> Option<usize> {
    if dims.contains(&0) {
        return Some(0);
    }
    dims.iter()
        .try_fold(1usize, |product, &dim| product.checked_mul(dim))
}

/// Parses an IDX image file and its IDX label file, given as bytes, into
/// one data set with raw byte features (0..255) and one row per image.
///
/// Every image is flattened in row-major order, so an image file of
/// dimensions (count, rows, columns) gives rows x columns features.
pub fn parse_pair(images: &[u8], labels: &[u8]) -> Result<Dataset, IdxError> {
    let images_error = |reason: String| IdxError {
        file: IdxFile::Images,
        reason,
    };
    let labels_error = |reason: String| IdxError {
        file: IdxFile::Labels,
        reason,
    };

    let images = parse_idx(images).map_err(images_error)?;
    let labels = parse_idx(labels).map_err(labels_error)?;

    if images.dims.len() < 2 {
        return Err(images_error(format!(
            "an image file needs at least 2 dimensions (count, features...), found {:?}",
            images.dims
        )));
    }
    if labels.dims.len() != 1 {
        return Err(labels_error(format!(
            "a label file has exactly 1 dimension, found {:?}",
            labels.dims
        )));
    }

    let count = images.dims[0];
    if labels.dims[0] != count {
        return Err(labels_error(format!(
            "label count {} does not match the {count} images of the image file; \
             use the label file of the same set",
            labels.dims[0]
        )));
    }
    if count == 0 {
        return Err(images_error("the file has no images".to_owned()));
    }

    if images.dims[1..].contains(&0) {
        return Err(images_error(format!(
            "dimensions {:?} give images of 0 pixels; every image needs at least one",
            images.dims
        )));
    }
    // No dimension is 0, so this product divides the value count, which
    // parse_idx checked to fit in usize.
    let features_per_image: usize = images.dims[1..].iter().product();

    let values = images.values.iter().map(|&value| value as f32).collect();
    let features = Array2::from_shape_vec((count, features_per_image), values)
        .expect("parse_idx checked the value count");
    let labels: Vec<usize> = labels.values.iter().map(|&label| label as usize).collect();
    let num_classes = labels.iter().max().map_or(0, |max| max + 1);
    Ok(Dataset {
        features,
        labels,
        num_classes,
    })
}

/// Loads an IDX image file and its IDX label file as one data set; see
/// [`parse_pair`]. An error names the file at fault.
pub fn load_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset, SimError> {
    let images = read_file(images_path)?;
    let labels = read_file(labels_path)?;

    parse_pair(&images, &labels).map_err(|error| {
        let path = match error.file {
            IdxFile::Images => images_path,
            IdxFile::Labels => labels_path,
        };
        SimError::data_load(path, error.reason)
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, SimError> {
    std::fs::read(path)
        .map_err(|error| SimError::data_load(path, format!("cannot read the file: {error}")))
}

/// Writes an IDX file of unsigned bytes; used by tests and by users who
/// convert their own data.
pub fn write_idx(path: &Path, dims: &[usize], values: &[u8]) -> std::io::Result<()> {
    let mut bytes = vec![0, 0, UNSIGNED_BYTE, dims.len() as u8];
    for &dim in dims {
        bytes.extend_from_slice(&(dim as u32).to_be_bytes());
    }
    bytes.extend_from_slice(values);
    std::fs::write(path, bytes)
}
