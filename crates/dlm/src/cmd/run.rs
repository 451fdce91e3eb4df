//! `dlm run`: one simulation from a configuration file, printed as a
//! readable summary or as one JSON object.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::Args;
use dlm_sim::{MODEL_VERSION, Progress, RunConfig, RunReport};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

/// Arguments of `dlm run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run configuration: a TOML file (.toml) or a JSON file (.json); keys
    /// left out take their defaults (see examples/run.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Run seed: selects the initial weights, the minibatch order and the
    /// noise. The train/test split depends on data.data_seed instead.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Print one JSON object on stdout (accuracy matrix R, summary metrics,
    /// steps_per_second) instead of the readable summary.
    #[arg(long)]
    pub json: bool,
}

/// Reads and validates a configuration file, choosing the format by extension.
pub fn read_config(path: &Path) -> anyhow::Result<RunConfig> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        anyhow!(
            "cannot read the configuration file {}: {error}",
            path.display()
        )
    })?;
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("");
    let parsed = match extension {
        "toml" => RunConfig::from_toml_str(&text),
        "json" => RunConfig::from_json_str(&text),
        other => {
            return Err(anyhow!(
                "unknown configuration format {other:?} of {}; use a .toml or .json file",
                path.display()
            ));
        }
    };
    parsed.map_err(|error| anyhow!("{}: {error}", path.display()))
}

/// Shows an indicatif bar on stderr once a run has taken more than a second.
struct ProgressReporter {
    started: Instant,
    bar: Option<ProgressBar>,
    enabled: bool,
}

impl ProgressReporter {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            bar: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for ProgressReporter {
    fn on_steps(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            let bar = ProgressBar::new(total);
            let style =
                ProgressStyle::with_template("{bar:40} {pos}/{len} steps, {per_sec}, eta {eta}")
                    .expect("the progress template is valid");
            bar.set_style(style);
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }
}

pub fn execute(args: RunArgs) -> anyhow::Result<()> {
    let config = read_config(&args.config)?;
    let hash = config.config_hash();
    let span = tracing::info_span!("run", config = %&hash[..12], seed = args.seed);
    let _entered = span.enter();
    tracing::info!(steps_per_task = config.tasks.steps_per_task, "run started");

    let mut progress = ProgressReporter::new();
    let started = Instant::now();
    let result = dlm_sim::simulate(&config, args.seed, &mut progress);
    progress.finish();
    let report = result.map_err(|error| anyhow!("{error}"))?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let executed_steps = report.summary.diverged_step.unwrap_or(report.summary.steps);
    let steps_per_second = executed_steps as f64 / wall_seconds.max(f64::MIN_POSITIVE);
    tracing::info!(
        diverged = report.summary.diverged,
        wall_seconds,
        "run finished"
    );

    if args.json {
        let object = json_summary(&report, &hash, args.seed, wall_seconds, steps_per_second);
        println!("{}", serde_json::to_string(&object)?);
    } else {
        print!(
            "{}",
            readable_summary(&report, wall_seconds, steps_per_second)
        );
    }
    Ok(())
}

fn json_summary(
    report: &RunReport,
    hash: &str,
    seed: u64,
    wall_seconds: f64,
    steps_per_second: f64,
) -> Value {
    let summary = &report.summary;
    let mut object = Map::new();
    object.insert("model_version".into(), json!(MODEL_VERSION));
    object.insert("config_hash".into(), json!(hash));
    object.insert("seed".into(), json!(seed));
    object.insert("R".into(), json!(report.accuracy));
    for (name, value) in summary.metrics() {
        object.insert(name.into(), json!(value));
    }
    object.insert("diverged".into(), json!(summary.diverged));
    object.insert("diverged_step".into(), json!(summary.diverged_step));
    object.insert("steps".into(), json!(summary.steps));
    object.insert("wall_seconds".into(), json!(wall_seconds));
    object.insert("steps_per_second".into(), json!(steps_per_second));
    Value::Object(object)
}

fn format_metric(value: Option<f64>) -> String {
    match value {
        Some(number) => format!("{number:.4}"),
        None => "null".into(),
    }
}

fn readable_summary(report: &RunReport, wall_seconds: f64, steps_per_second: f64) -> String {
    let summary = &report.summary;
    let mut text = String::new();
    let tasks = report.accuracy.first().map_or(0, Vec::len);

    text.push_str(
        "test accuracy R[k][j] (row k: after training task k, 0 = untrained; column j: task j)\n",
    );
    text.push_str("      ");
    for task in 1..=tasks {
        text.push_str(&format!("{:>8}", format!("task {task}")));
    }
    text.push('\n');
    for (row_index, row) in report.accuracy.iter().enumerate() {
        text.push_str(&format!("{row_index:>5} "));
        for value in row {
            text.push_str(&format!("{value:>8.3}"));
        }
        text.push('\n');
    }
    text.push('\n');

    if summary.diverged {
        let step = summary
            .diverged_step
            .map_or("?".to_string(), |step| step.to_string());
        text.push_str(&format!(
            "diverged at step {step} of {}: summary metrics are null\n",
            summary.steps
        ));
    }
    for (name, value) in summary.metrics() {
        text.push_str(&format!("{name:<16} {}\n", format_metric(value)));
    }
    text.push_str(&format!("{:<16} {}\n", "steps", summary.steps));
    text.push_str(&format!("{:<16} {wall_seconds:.2} s\n", "wall time"));
    text.push_str(&format!("{:<16} {steps_per_second:.0}\n", "steps/s"));
    text
}
