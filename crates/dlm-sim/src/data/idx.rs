//! Reader of the IDX format used by MNIST and Fashion-MNIST.
//!
//! An IDX file starts with two zero bytes, a type byte (0x08 = unsigned
//! bytes, the only type these data sets use) and the number of dimensions,
//! followed by one big-endian u32 per dimension and the values in row-major
//! order. Image files have 3 dimensions (count, rows, columns), label files 1.

use std::path::Path;

use ndarray::Array2;

use super::Dataset;
use crate::error::SimError;

const UNSIGNED_BYTE: u8 = 0x08;

/// A parsed IDX file: its dimensions and its byte values.
struct IdxArray {
    dims: Vec<usize>,
    values: Vec<u8>,
}

fn read_idx(path: &Path) -> Result<IdxArray, SimError> {
    let bytes = std::fs::read(path)
        .map_err(|error| SimError::data_load(path, format!("cannot read the file: {error}")))?;
    parse_idx(&bytes).map_err(|reason| SimError::data_load(path, reason))
}

fn parse_idx(bytes: &[u8]) -> Result<IdxArray, String> {
    if bytes.len() < 4 {
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
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(format!(
            "truncated IDX file: {} bytes, shorter than its {header}-byte header",
            bytes.len()
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|axis| {
            let start = 4 + 4 * axis;
            u32::from_be_bytes([
                bytes[start],
                bytes[start + 1],
                bytes[start + 2],
                bytes[start + 3],
            ]) as usize
        })
        .collect();

    let expected: usize = dims.iter().product();
    let available = bytes.len() - header;
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
        values: bytes[header..].to_vec(),
    })
}

/// Loads an IDX image file and its IDX label file as one data set with
/// raw byte features (0..255) and one row per image.
pub fn load_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset, SimError> {
    let images = read_idx(images_path)?;
    let labels = read_idx(labels_path)?;

    if images.dims.len() < 2 {
        return Err(SimError::data_load(
            images_path,
            format!(
                "an image file needs at least 2 dimensions (count, features...), found {:?}",
                images.dims
            ),
        ));
    }
    if labels.dims.len() != 1 {
        return Err(SimError::data_load(
            labels_path,
            format!(
                "a label file has exactly 1 dimension, found {:?}",
                labels.dims
            ),
        ));
    }

    let count = images.dims[0];
    if labels.dims[0] != count {
        return Err(SimError::data_load(
            labels_path,
            format!(
                "label count {} does not match the {count} images of {}; use the label file of the same set",
                labels.dims[0],
                images_path.display()
            ),
        ));
    }
    if count == 0 {
        return Err(SimError::data_load(images_path, "the file has no images"));
    }

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
