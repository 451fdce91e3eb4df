//! The results of a finished local sweep: one line per configuration, the
//! fit of the bound over the DLM runs with its verdict, the forgetting
//! ratio against each baseline, and the files `runs.csv` and `fit.svg`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dlm_coordinator::export::{CsvLayout, EXPORT_PAGE_SIZE, write_sweep_csv};
use dlm_fit::{
    BaselineRatio, FitColumns, FitOptions, FitPoint, FitReport, PlotOptions, baseline_ratio,
    default_label_column, fit, render_svg,
};
use dlm_store::{ExportRow, Store, SweepStatus};
use serde::Serialize;
use serde_json::Value;

use crate::cmd::fit::{describe_report, format_number};

/// Metric fitted as sigma: the entropy production as the theory defines it,
/// sum over layers of J |g| / T, averaged over the tasks after the first.
const SIGMA_METRIC: &str = "sigma_flux_mean";

/// Metric fitted as the forgetting measure.
const FORGETTING_METRIC: &str = "F";

/// Role of the runs whose fit tests the bound.
const DLM_ROLE: &str = "dlm";

/// Everything `dlm sweep` prints about a finished sweep.
#[derive(Debug, Serialize)]
pub struct SweepSummary {
    pub sweep_id: i64,
    pub name: String,
    pub database: PathBuf,
    pub run_count: u64,
    pub reused_count: u64,
    pub done: u64,
    pub failed: u64,
    pub diverged: u64,
    pub configurations: Vec<ConfigurationSummary>,
    pub sigma_column: &'static str,
    pub forgetting_column: &'static str,
    /// Verdict of the fit (`supported`, `contradicted`, `inconclusive`);
    /// `None` when the runs allowed no fit.
    pub verdict: Option<&'static str>,
    pub fit: Option<FitReport>,
    /// The reason there is no fit.
    pub fit_error: Option<String>,
    pub baselines: Vec<BaselineSummary>,
    pub runs_csv: PathBuf,
    /// Written only when there is a fit.
    pub plot: Option<PathBuf>,
}

/// The runs of one configuration (all its seeds).
#[derive(Debug, Serialize)]
pub struct ConfigurationSummary {
    pub role: String,
    /// The overridden parameters whose values differ between
    /// configurations.
    pub overrides: BTreeMap<String, Value>,
    pub seeds: u64,
    /// Means over the runs that did not diverge and report the metric.
    pub mean_acc: Option<f64>,
    pub mean_forgetting: Option<f64>,
    pub mean_sigma: Option<f64>,
    pub diverged: u64,
}

/// Forgetting under one baseline compared with the DLM runs.
#[derive(Debug, Serialize)]
pub struct BaselineSummary {
    pub role: String,
    pub comparison: Option<BaselineRatio>,
    /// The reason there is no comparison.
    pub error: Option<String>,
}

/// Running sums of one configuration.
#[derive(Default)]
struct Accumulator {
    role: String,
    overrides: BTreeMap<String, Value>,
    seeds: u64,
    diverged: u64,
    acc: Mean,
    forgetting: Mean,
    sigma: Mean,
}

#[derive(Default)]
struct Mean {
    sum: f64,
    count: u64,
}

impl Mean {
    fn add(&mut self, value: Option<f64>) {
        if let Some(value) = value {
            self.sum += value;
            self.count += 1;
        }
    }

    fn value(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// Reads the sweep's results, fits the bound and writes `runs.csv` and,
/// when the fit succeeds, `fit.svg` in the directory of the database file.
pub async fn build(
    store: &Store,
    status: &SweepStatus,
    database: &Path,
    options: &FitOptions,
) -> Result<SweepSummary> {
    let sweep_id = status.id;
    let layout = CsvLayout::for_sweep(store, sweep_id)
        .await
        .context("failed to read the sweep's results")?;
    let label = default_label_column(|name| layout.header().iter().any(|column| column == name));
    let columns = FitColumns {
        sigma: SIGMA_METRIC.to_string(),
        forgetting: FORGETTING_METRIC.to_string(),
        group: None,
        label: label.map(str::to_string),
    };

    let mut configurations: BTreeMap<(String, String), Accumulator> = BTreeMap::new();
    let mut points_by_role: BTreeMap<String, Vec<FitPoint>> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store
            .export_page(sweep_id, after, EXPORT_PAGE_SIZE)
            .await
            .context("failed to read the sweep's results")?;
        for row in &page {
            add_to_configuration(&mut configurations, row)?;
            let point = layout.fit_point(row, &columns)?;
            points_by_role
                .entry(row.role.clone())
                .or_default()
                .push(point);
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE_SIZE as usize => after = Some(last.run_id),
            _ => break,
        }
    }

    let runs_csv = database.with_file_name("runs.csv");
    let file = std::fs::File::create(&runs_csv)
        .with_context(|| format!("failed to create {}", runs_csv.display()))?;
    write_sweep_csv(store, sweep_id, std::io::BufWriter::new(file))
        .await
        .with_context(|| format!("failed to write {}", runs_csv.display()))?;

    let dlm_points = points_by_role.remove(DLM_ROLE).unwrap_or_default();
    let (fit_report, fit_error) = match fit(&dlm_points, options) {
        Ok(report) => (Some(report), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let plot_path = database.with_file_name("fit.svg");
    let plot = match &fit_report {
        Some(report) => {
            let path = plot_path;
            let options = PlotOptions {
                color_field: label.unwrap_or("class").to_string(),
                ..PlotOptions::default()
            };
            let svg =
                render_svg(&dlm_points, report, &options).context("failed to draw the plot")?;
            std::fs::write(&path, svg)
                .with_context(|| format!("failed to write {}", path.display()))?;
            Some(path)
        }
        None => {
            // A plot of an earlier sweep would be mistaken for this one's.
            match std::fs::remove_file(&plot_path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(error)
                        .with_context(|| format!("failed to remove {}", plot_path.display()));
                }
                _ => None,
            }
        }
    };

    let baselines = points_by_role
        .iter()
        .map(|(role, points)| {
            match baseline_ratio(&dlm_points, points, options.bootstrap, options.seed) {
                Ok(comparison) => BaselineSummary {
                    role: role.clone(),
                    comparison: Some(comparison),
                    error: None,
                },
                Err(error) => BaselineSummary {
                    role: role.clone(),
                    comparison: None,
                    error: Some(error.to_string()),
                },
            }
        })
        .collect();

    Ok(SweepSummary {
        sweep_id,
        name: status.name.clone(),
        database: database.to_path_buf(),
        run_count: status.run_count,
        reused_count: status.reused_count,
        done: status.counts.done,
        failed: status.counts.failed,
        diverged: status.counts.diverged,
        configurations: summarize_configurations(configurations),
        sigma_column: SIGMA_METRIC,
        forgetting_column: FORGETTING_METRIC,
        verdict: fit_report.as_ref().map(|report| report.verdict.name()),
        fit: fit_report,
        fit_error,
        baselines,
        runs_csv,
        plot,
    })
}

fn add_to_configuration(
    configurations: &mut BTreeMap<(String, String), Accumulator>,
    row: &ExportRow,
) -> Result<()> {
    let key = (row.role.clone(), row.config_hash.clone());
    let entry = configurations.entry(key).or_default();
    if entry.seeds == 0 {
        entry.role = row.role.clone();
        entry.overrides = serde_json::from_str(&row.overrides)
            .with_context(|| format!("run {} has invalid stored overrides", row.run_id))?;
    }
    entry.seeds += 1;
    if row.diverged == Some(true) {
        entry.diverged += 1;
        return Ok(());
    }
    entry.acc.add(row.metric("ACC"));
    entry.forgetting.add(row.metric(FORGETTING_METRIC));
    entry.sigma.add(row.metric(SIGMA_METRIC));
    Ok(())
}

/// Keeps in each configuration only the overrides whose values differ
/// between configurations.
fn summarize_configurations(
    configurations: BTreeMap<(String, String), Accumulator>,
) -> Vec<ConfigurationSummary> {
    let all_keys: BTreeSet<&String> = configurations
        .values()
        .flat_map(|entry| entry.overrides.keys())
        .collect();
    let varying: BTreeSet<String> = all_keys
        .into_iter()
        .filter(|key| {
            let mut values = configurations
                .values()
                .map(|entry| entry.overrides.get(*key));
            let first = values.next().flatten();
            values.any(|value| value != first)
        })
        .cloned()
        .collect();

    let mut summaries: Vec<ConfigurationSummary> = configurations
        .into_values()
        .map(|entry| ConfigurationSummary {
            overrides: entry
                .overrides
                .into_iter()
                .filter(|(key, _)| varying.contains(key))
                .collect(),
            role: entry.role,
            seeds: entry.seeds,
            mean_acc: entry.acc.value(),
            mean_forgetting: entry.forgetting.value(),
            mean_sigma: entry.sigma.value(),
            diverged: entry.diverged,
        })
        .collect();
    summaries.sort_by(|left, right| {
        (
            left.role != DLM_ROLE,
            &left.role,
            overrides_text(&left.overrides),
        )
            .cmp(&(
                right.role != DLM_ROLE,
                &right.role,
                overrides_text(&right.overrides),
            ))
    });
    summaries
}

fn overrides_text(overrides: &BTreeMap<String, Value>) -> String {
    if overrides.is_empty() {
        return "(base)".to_string();
    }
    overrides
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) => format!("{key}={text}"),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Returns the summary as one pretty-printed JSON object.
pub fn json_output(summary: &SweepSummary) -> Result<String> {
    Ok(serde_json::to_string_pretty(summary).context("failed to serialise the summary")? + "\n")
}

/// Returns the summary as tables and sentences.
pub fn human_output(summary: &SweepSummary) -> String {
    let mut lines = vec![
        format!(
            "sweep {} ({}): {} runs, {} done, {} failed, {} diverged; {} of {} reused from earlier sweeps",
            summary.sweep_id,
            summary.name,
            summary.run_count,
            summary.done,
            summary.failed,
            summary.diverged,
            summary.reused_count,
            summary.run_count
        ),
        String::new(),
        format!(
            "{:<6} {:>5} {:>10} {:>10} {:>12} {:>8}   {}",
            "role", "seeds", "mean ACC", "mean F", "mean sigma", "diverged", "overrides"
        ),
    ];
    let optional = |value: Option<f64>| value.map_or("-".to_string(), format_number);
    for configuration in &summary.configurations {
        lines.push(format!(
            "{:<6} {:>5} {:>10} {:>10} {:>12} {:>8}   {}",
            configuration.role,
            configuration.seeds,
            optional(configuration.mean_acc),
            optional(configuration.mean_forgetting),
            optional(configuration.mean_sigma),
            configuration.diverged,
            overrides_text(&configuration.overrides)
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "fit over the {DLM_ROLE} runs, with sigma = {} and F = {}:",
        summary.sigma_column, summary.forgetting_column
    ));
    let mut text = lines.join("\n") + "\n";

    match (&summary.fit, &summary.fit_error) {
        (Some(report), _) => {
            text.push_str(&describe_report(
                report,
                summary.sigma_column,
                summary.forgetting_column,
            ));
        }
        (None, error) => {
            text.push_str(&format!(
                "no fit: {}\n",
                error.as_deref().unwrap_or("unknown reason")
            ));
        }
    }

    for baseline in &summary.baselines {
        text.push('\n');
        text.push_str(&describe_baseline(baseline));
    }

    text.push('\n');
    text.push_str(&format!("database  {}\n", summary.database.display()));
    text.push_str(&format!("runs      {}\n", summary.runs_csv.display()));
    match &summary.plot {
        Some(plot) => text.push_str(&format!("plot      {}\n", plot.display())),
        None => text.push_str("plot      none, since there is no fit\n"),
    }
    text
}

fn describe_baseline(baseline: &BaselineSummary) -> String {
    let Some(comparison) = &baseline.comparison else {
        return format!(
            "baseline {}: no comparison: {}\n",
            baseline.role,
            baseline.error.as_deref().unwrap_or("unknown reason")
        );
    };
    let interval = match comparison.ratio_ci {
        Some([low, high]) => format!("[{}, {}]", format_number(low), format_number(high)),
        None => "none".to_string(),
    };
    format!(
        "baseline {}: mean F {} over {} runs against {} over {} {DLM_ROLE} runs; \
         ratio {} (95% bootstrap interval {interval}; above 1 means DLM forgets less)\n",
        baseline.role,
        format_number(comparison.baseline.mean_forgetting),
        comparison.baseline.n_used,
        format_number(comparison.dlm.mean_forgetting),
        comparison.dlm.n_used,
        format_number(comparison.ratio),
    )
}
