//! `dlm fit`: fits the forgetting bound to runs in a CSV file, the same fit
//! the HTTP API serves, for results exported from a sweep or made
//! elsewhere.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use dlm_fit::{
    FitColumns, FitPoint, FitReport, GroupFit, LEARNING_ACCURACY_COLUMN, PlotOptions, XScale,
    default_label_column, fit, fit_groups, fit_point_from_cells, render_svg,
};
use serde::Serialize;

use crate::cmd::fit_flags::FitFlags;

/// Arguments of `dlm fit`.
#[derive(Debug, Args)]
#[command(
    after_help = "The CSV file needs a header row. Empty cells and \"null\" mean missing. \
The columns diverged, LA (learning accuracy) and config_hash (the configuration, whose runs \
the bootstrap resamples together) are used when present. docs/fit.md explains the methods, \
the exclusions and the verdict."
)]
pub struct FitArgs {
    /// CSV file with one run per row.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,

    /// Column containing the entropy production sigma.
    #[arg(long, default_value = "sigma")]
    sigma_column: String,

    /// Column containing the forgetting measure (F or a forgetting rate).
    #[arg(long, default_value = "F")]
    forgetting_column: String,

    /// Fit each value of this column separately, beside the pooled fit.
    #[arg(long)]
    group_by: Option<String>,

    #[command(flatten)]
    fit: FitFlags,

    /// Column that colours the points of the plot [default: coupling or
    /// dynamics.coupling, when present].
    #[arg(long)]
    color_by: Option<String>,

    /// Write an SVG plot of the fit to this file.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,

    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs `dlm fit`.
pub fn run(args: &FitArgs) -> Result<()> {
    let options = args.fit.to_options()?;
    let table = read_runs(&args.input, args)
        .with_context(|| format!("failed to read runs from {}", args.input.display()))?;

    let (report, groups) = if args.group_by.is_some() {
        let grouped = fit_groups(&table.points, &options).context("fit failed")?;
        (grouped.pooled, Some(grouped.groups))
    } else {
        (fit(&table.points, &options).context("fit failed")?, None)
    };

    if let Some(path) = &args.plot {
        let plot = PlotOptions {
            color_field: table
                .color_column
                .clone()
                .unwrap_or_else(|| "class".to_string()),
            ..PlotOptions::default()
        };
        let svg = render_svg(&table.points, &report, &plot).context("failed to draw the plot")?;
        std::fs::write(path, svg)
            .with_context(|| format!("failed to write the plot to {}", path.display()))?;
    }

    let output = if args.json {
        json_output(&report, args.group_by.as_deref(), groups.as_deref())?
    } else {
        human_output(&report, groups.as_deref(), args)
    };
    write_stdout(&output)
}

/// Report as JSON, with the group fits beside the pooled keys when grouped.
fn json_output(
    report: &FitReport,
    group_by: Option<&str>,
    groups: Option<&[GroupFit]>,
) -> Result<String> {
    #[derive(Serialize)]
    struct Grouped<'a> {
        #[serde(flatten)]
        pooled: &'a FitReport,
        group_by: Option<&'a str>,
        groups: &'a [GroupFit],
    }

    let text = match groups {
        Some(groups) => serde_json::to_string_pretty(&Grouped {
            pooled: report,
            group_by,
            groups,
        }),
        None => serde_json::to_string_pretty(report),
    };
    Ok(text.context("failed to serialise the report")? + "\n")
}

fn human_output(report: &FitReport, groups: Option<&[GroupFit]>, args: &FitArgs) -> String {
    let mut text = describe_report(report, &args.sigma_column, &args.forgetting_column);
    if let Some(log) = &report.log_scale {
        text.push('\n');
        text.push_str(&describe_report(
            log,
            &args.sigma_column,
            &args.forgetting_column,
        ));
    }
    if let (Some(groups), Some(column)) = (groups, &args.group_by) {
        text.push('\n');
        text.push_str(&describe_groups(groups, column));
    }
    text
}

/// Writes to stdout; a reader that closed the pipe early (such as `head`)
/// is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("failed to write to stdout"),
    }
}

/// Runs read from the CSV file.
struct RunTable {
    points: Vec<FitPoint>,
    color_column: Option<String>,
}

fn read_runs(path: &Path, args: &FitArgs) -> Result<RunTable> {
    let bytes = std::fs::read(path).context("failed to open the file")?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader
        .headers()
        .context("failed to read the header row")?
        .clone();
    if headers.is_empty() {
        bail!("the file is empty; it needs a header row such as \"sigma,F\" and one row per run");
    }
    let positions: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(index, name)| (name, index))
        .collect();

    let require = |name: &str, option: &str| -> Result<()> {
        if positions.contains_key(name) {
            return Ok(());
        }
        bail!(
            "column {name:?} not found; the header has {:?}; name the column with {option}",
            headers.iter().collect::<Vec<_>>()
        )
    };

    let color_column = match &args.color_by {
        Some(name) => {
            require(name, "--color-by")?;
            Some(name.clone())
        }
        None => default_label_column(|name| positions.contains_key(name)).map(str::to_string),
    };
    require(&args.sigma_column, "--sigma-column")?;
    require(&args.forgetting_column, "--forgetting-column")?;
    if let Some(name) = &args.group_by {
        require(name, "--group-by")?;
    }
    if args.fit.min_la.is_some() && !positions.contains_key(LEARNING_ACCURACY_COLUMN) {
        bail!(
            "--min-la needs a learning-accuracy column named {LEARNING_ACCURACY_COLUMN:?}, \
             and the file has none"
        );
    }

    let columns = FitColumns {
        sigma: args.sigma_column.clone(),
        forgetting: args.forgetting_column.clone(),
        group: args.group_by.clone(),
        label: color_column.clone(),
    };
    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.context("failed to read a row")?;
        let line = record
            .position()
            .map_or(0, |position| start_line(&bytes, position.byte()));
        let cell = |name: &str| positions.get(name).and_then(|&index| record.get(index));
        let point = fit_point_from_cells(cell, &columns, &format!("line {line}"))
            .with_context(|| format!("line {line}"))?;
        points.push(point);
    }
    Ok(RunTable {
        points,
        color_column,
    })
}

/// Returns the 1-based line on which the record at byte `offset` starts.
///
/// The csv crate's own line count (csv 1.4) is one too low after a CRLF
/// line end: it ends the record at the `\r` and counts the `\n` only while
/// reading the next record, after that record's position was taken. The
/// offset can therefore point at line-end bytes that belong to the previous
/// line; they are skipped before the line ends up to the record are counted.
fn start_line(bytes: &[u8], offset: u64) -> u64 {
    let mut start = usize::try_from(offset)
        .unwrap_or(bytes.len())
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    let line_ends = bytes[..start].iter().filter(|&&byte| byte == b'\n').count();
    line_ends as u64 + 1
}

/// Formats an optional interval as "[low, high]" or "none".
fn format_interval(interval: Option<[f64; 2]>) -> String {
    match interval {
        Some([low, high]) => format!("[{}, {}]", format_number(low), format_number(high)),
        None => "none".to_string(),
    }
}

/// Formats a number with four significant digits, in scientific notation
/// when it is very small or very large.
pub(crate) fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e5).contains(&magnitude) {
        return format!("{value:.3e}");
    }
    format!("{value:.4}")
}

pub(crate) fn describe_report(report: &FitReport, sigma_name: &str, forgetting_name: &str) -> String {
    let x_name = match report.x_scale {
        XScale::Log => format!("log10 {sigma_name}"),
        _ => sigma_name.to_string(),
    };
    let method = match report.q {
        Some(q) => format!("{} at q = {q}", report.method.name()),
        None => report.method.name().to_string(),
    };

    let mut lines = vec![
        format!("fit of ln {forgetting_name} against {x_name} ({method})"),
        format!(
            "runs used {}, excluded {}",
            report.n_used,
            report.n_excluded.total()
        ),
        String::new(),
        format!(
            "{:<22}{:>14}   {}",
            "quantity", "estimate", "95% bootstrap interval"
        ),
        format!(
            "{:<22}{:>14}   {}",
            "F0",
            format_number(report.f0),
            format_interval(report.f0_ci)
        ),
        format!(
            "{:<22}{:>14}   {}",
            "k (decay rate)",
            format_number(report.k),
            format_interval(report.k_ci)
        ),
        format!(
            "{:<22}{:>14}{}",
            "sigma0 = 1/k",
            report
                .sigma0
                .map_or("none (k <= 0)".to_string(), format_number),
            sigma0_unit(report, sigma_name)
        ),
    ];
    if let Some(exponent) = report.power_law_exponent {
        lines.push(format!(
            "{:<22}{:>14}",
            "power-law exponent",
            format_number(exponent)
        ));
    }
    lines.push(format!(
        "{:<22}{:>14}",
        "share above bound",
        format_number(report.share_above)
    ));
    lines.push(format!(
        "{:<22}{:>14}   p = {}",
        "Spearman rho",
        report
            .spearman_rho
            .map_or("none".to_string(), format_number),
        report.spearman_p.map_or("none".to_string(), format_number)
    ));

    lines.push(String::new());
    lines.push(format!("excluded by reason: {}", report.n_excluded));
    if report.bootstrap.failed > 0 {
        lines.push(format!(
            "bootstrap: {} of {} resamples had no line (all runs at one sigma)",
            report.bootstrap.failed, report.bootstrap.resamples
        ));
    }
    lines.push(format!("largest leverage on the slope ({x_name}):"));
    for point in &report.leverage {
        lines.push(format!(
            "  {:<24} {sigma_name} = {:<12} {forgetting_name} = {:<12} leverage {}",
            point.id,
            format_number(point.sigma),
            format_number(point.forgetting),
            format_number(point.leverage)
        ));
    }

    lines.push(String::new());
    lines.push(format!("verdict: {}", report.verdict.explanation()));
    for warning in &report.warnings {
        lines.push(format!("  warning: {}", warning.message));
    }
    lines.join("\n") + "\n"
}

/// Unit of sigma0 after its value: under the log scale x is log10 sigma,
/// so sigma0 counts decades of sigma.
fn sigma0_unit(report: &FitReport, sigma_name: &str) -> String {
    match (report.x_scale, report.sigma0) {
        (XScale::Log, Some(_)) => format!("   decades of {sigma_name}"),
        _ => String::new(),
    }
}

fn describe_groups(groups: &[GroupFit], column: &str) -> String {
    let mut lines = vec![
        format!("fits per {column}"),
        format!(
            "{:<20}{:>8}{:>14}   {:<32}{}",
            column, "used", "k", "95% interval of k", "verdict"
        ),
    ];
    for group in groups {
        let name = group
            .group
            .clone()
            .unwrap_or_else(|| "(missing)".to_string());
        match (&group.fit, &group.error) {
            (Some(report), _) => lines.push(format!(
                "{:<20}{:>8}{:>14}   {:<32}{}",
                name,
                report.n_used,
                format_number(report.k),
                format_interval(report.k_ci),
                report.verdict.name()
            )),
            (None, error) => lines.push(format!(
                "{:<20}{:>8}   not fitted: {}",
                name,
                group.n_runs,
                error.as_deref().unwrap_or("unknown reason")
            )),
        }
    }
    lines.join("\n") + "\n"
}
