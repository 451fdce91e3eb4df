//! A sweep's runs as a CSV table, and the same rows as points of the
//! forgetting-bound fit.
//!
//! The columns are fixed before the first row is written: the run fields,
//! every summary metric the engine reports, then the union of the flattened
//! configuration keys over the sweep, found in a first pass over the store.
//! Both passes read one page of runs at a time, so an export keeps one page
//! in memory whatever the size of the sweep. The fit reads the rows through
//! the cell rules of `dlm fit` ([`dlm_fit::fit_point_from_cells`]), so a CSV
//! written here and read back by `dlm fit` gives the same points.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use dlm_fit::{CellError, FitColumns, FitPoint, fit_point_from_cells};
use dlm_store::{ExportRow, Store, StoreError};
use dlm_sweep::flatten_config;
use serde_json::Value;

/// Columns before the metrics, in order. `config_hash` lets `dlm fit`
/// resample all seeds of one configuration together.
pub const RUN_COLUMNS: [&str; 6] = ["run_id", "seed", "role", "config_hash", "state", "diverged"];

/// Prefix of the configuration columns, such as `config.dynamics.alpha`.
pub const CONFIG_PREFIX: &str = "config.";

/// Runs read from the store per query.
pub const EXPORT_PAGE_SIZE: u32 = 500;

/// Failure of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("run {run_id} has an invalid stored configuration: {source}")]
    InvalidConfig {
        run_id: i64,
        source: serde_json::Error,
    },

    #[error("failed to write the CSV output: {0}")]
    Csv(#[from] csv::Error),

    #[error("run {run_id}: {source}")]
    InvalidCell { run_id: i64, source: CellError },
}

/// The columns of one sweep's CSV table.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvLayout {
    header: Vec<String>,
    config_keys: Vec<String>,
    positions: HashMap<String, usize>,
}

impl CsvLayout {
    /// Builds the layout whose configuration columns are the union of the
    /// flattened configuration keys of `rows`, sorted.
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = &'a ExportRow>,
    ) -> Result<CsvLayout, ExportError> {
        let mut keys = BTreeSet::new();
        for row in rows {
            keys.extend(flat_config(row)?.into_keys());
        }
        Ok(CsvLayout::with_config_keys(keys.into_iter().collect()))
    }

    /// Builds the layout of a stored sweep in one pass over its runs.
    pub async fn for_sweep(store: &Store, sweep_id: i64) -> Result<CsvLayout, ExportError> {
        let mut keys = BTreeSet::new();
        let mut after = None;
        loop {
            let page = store.export_page(sweep_id, after, EXPORT_PAGE_SIZE).await?;
            for row in &page {
                keys.extend(flat_config(row)?.into_keys());
            }
            match page.last() {
                Some(last) if page.len() == EXPORT_PAGE_SIZE as usize => after = Some(last.run_id),
                _ => break,
            }
        }
        Ok(CsvLayout::with_config_keys(keys.into_iter().collect()))
    }

    fn with_config_keys(config_keys: Vec<String>) -> CsvLayout {
        let mut header: Vec<String> = RUN_COLUMNS.iter().map(|name| name.to_string()).collect();
        header.extend(
            dlm_sim::Summary::METRIC_NAMES
                .iter()
                .map(|name| name.to_string()),
        );
        header.extend(
            config_keys
                .iter()
                .map(|key| format!("{CONFIG_PREFIX}{key}")),
        );
        let positions = header
            .iter()
            .enumerate()
            .map(|(index, name)| (name.clone(), index))
            .collect();
        CsvLayout {
            header,
            config_keys,
            positions,
        }
    }

    /// Returns the column names in order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Returns one row's cells in header order. Missing values (a metric
    /// that is undefined, a run without a result, a configuration key the
    /// run lacks) are empty cells.
    pub fn record(&self, row: &ExportRow) -> Result<Vec<String>, ExportError> {
        let mut cells = vec![
            row.run_id.to_string(),
            row.seed.to_string(),
            row.role.clone(),
            row.config_hash.clone(),
            row.state.as_str().to_string(),
            row.diverged
                .map_or(String::new(), |diverged| diverged.to_string()),
        ];
        for name in dlm_sim::Summary::METRIC_NAMES {
            // Display of an f64 prints the shortest text that parses back
            // to the same number.
            cells.push(
                row.metric(name)
                    .map_or(String::new(), |value| value.to_string()),
            );
        }
        let mut config = flat_config(row)?;
        for key in &self.config_keys {
            cells.push(config.remove(key).map_or(String::new(), config_cell));
        }
        Ok(cells)
    }

    /// Writes the header row.
    pub fn write_header<W: Write>(&self, writer: &mut csv::Writer<W>) -> Result<(), ExportError> {
        writer.write_record(&self.header)?;
        Ok(())
    }

    /// Writes one row.
    pub fn write_row<W: Write>(
        &self,
        writer: &mut csv::Writer<W>,
        row: &ExportRow,
    ) -> Result<(), ExportError> {
        writer.write_record(self.record(row)?)?;
        Ok(())
    }

    /// Returns the run's point in a fit that reads `columns`, read from the
    /// row's cells exactly as `dlm fit` reads them from a CSV row.
    pub fn fit_point(
        &self,
        row: &ExportRow,
        columns: &FitColumns,
    ) -> Result<FitPoint, ExportError> {
        let cells = self.record(row)?;
        let cell = |name: &str| self.positions.get(name).map(|&index| cells[index].as_str());
        fit_point_from_cells(cell, columns, &format!("run {}", row.run_id)).map_err(|source| {
            ExportError::InvalidCell {
                run_id: row.run_id,
                source,
            }
        })
    }
}

/// Writes a stored sweep as CSV, one row per run in ascending run id, and
/// returns the number of rows written.
pub async fn write_sweep_csv<W: Write>(
    store: &Store,
    sweep_id: i64,
    output: W,
) -> Result<u64, ExportError> {
    let layout = CsvLayout::for_sweep(store, sweep_id).await?;
    let mut writer = csv::Writer::from_writer(output);
    layout.write_header(&mut writer)?;

    let mut written = 0;
    let mut after = None;
    loop {
        let page = store.export_page(sweep_id, after, EXPORT_PAGE_SIZE).await?;
        for row in &page {
            layout.write_row(&mut writer, row)?;
            written += 1;
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE_SIZE as usize => after = Some(last.run_id),
            _ => break,
        }
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(written)
}

fn flat_config(row: &ExportRow) -> Result<std::collections::BTreeMap<String, Value>, ExportError> {
    let config: Value = serde_json::from_str(&row.canonical_config).map_err(|source| {
        ExportError::InvalidConfig {
            run_id: row.run_id,
            source,
        }
    })?;
    Ok(flatten_config(&config))
}

/// Formats a configuration value as a cell: strings without quotes, null as
/// an empty cell, lists and empty tables as JSON.
fn config_cell(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text,
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => other.to_string(),
    }
}
