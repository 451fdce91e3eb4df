//! Submitting a sweep: parse and plan the document, expand it into runs and
//! store them in one transaction, in batches, so memory stays bounded and an
//! invalid run anywhere leaves nothing stored.

use dlm_store::{NewRun, NewSweep, Store, StoreError, SubmitOutcome};
use dlm_sweep::{Limits, PlannedRun, SpecFormat, SweepError, parse_sweep};
use tokio::sync::{mpsc, oneshot};

/// Runs sent to the store per statement.
const BATCH_RUNS: usize = 500;

/// Errors that keep a sweep from being stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The document is invalid, a run in it is invalid, or it has too many
    /// runs.
    #[error(transparent)]
    Sweep(#[from] SweepError),

    #[error(transparent)]
    Store(#[from] StoreError),

    /// The expansion thread stopped without sending its output.
    #[error("sweep expansion stopped unexpectedly: {0}")]
    Expansion(String),
}

/// Stores the sweep written in `document`, or nothing if any of its runs is
/// invalid or it has more than `limits.max_runs` runs.
///
/// Expansion is CPU work, so it runs on a blocking thread and hands batches
/// of runs to the store through a channel of two batches.
pub async fn submit_sweep(
    store: &Store,
    document: String,
    format: SpecFormat,
    limits: Limits,
) -> Result<SubmitOutcome, SubmitError> {
    let (name_sender, name_receiver) = oneshot::channel::<Result<String, SweepError>>();
    let (batch_sender, mut batch_receiver) = mpsc::channel::<Result<Vec<NewRun>, SweepError>>(2);
    let stored_document = document.clone();

    let expansion = tokio::task::spawn_blocking(move || {
        let planned = parse_sweep(&document, format).and_then(|spec| {
            let plan = spec.plan(&limits)?;
            Ok((spec.name().to_string(), plan))
        });
        let plan = match planned {
            Ok((name, plan)) => {
                let _ = name_sender.send(Ok(name));
                plan
            }
            Err(error) => {
                let _ = name_sender.send(Err(error));
                return;
            }
        };

        let mut batch = Vec::with_capacity(BATCH_RUNS);
        for run in plan.runs() {
            match run {
                Ok(run) => batch.push(new_run(run)),
                Err(error) => {
                    let _ = batch_sender.blocking_send(Err(error));
                    return;
                }
            }
            if batch.len() == BATCH_RUNS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RUNS));
                if batch_sender.blocking_send(Ok(full)).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = batch_sender.blocking_send(Ok(batch));
        }
    });

    let name = match name_receiver.await {
        Ok(result) => result?,
        Err(_) => return Err(expansion_failure(expansion).await),
    };
    let sweep = NewSweep {
        name,
        document: stored_document,
        format: format_name(format).to_string(),
    };

    // Dropping the writer on an early return rolls the sweep back.
    let mut writer = store.begin_sweep(&sweep).await?;
    while let Some(batch) = batch_receiver.recv().await {
        writer.add_runs(&batch?).await?;
    }
    if let Err(error) = expansion.await {
        return Err(SubmitError::Expansion(error.to_string()));
    }
    Ok(writer.commit().await?)
}

async fn expansion_failure(expansion: tokio::task::JoinHandle<()>) -> SubmitError {
    match expansion.await {
        Ok(()) => SubmitError::Expansion("no plan was produced".to_string()),
        Err(error) => SubmitError::Expansion(error.to_string()),
    }
}

fn new_run(run: PlannedRun) -> NewRun {
    NewRun {
        run_key: run.run_key,
        config_hash: run.config_hash,
        seed: run.seed,
        model_version: dlm_sim::MODEL_VERSION.to_string(),
        // The same serialisation the configuration hash was computed from.
        canonical_config: run.canonical_config.to_string(),
        role: run.role.as_str().to_string(),
        point_index: run.point_index,
        overrides_json: serde_json::Value::from(serde_json::Map::from_iter(run.overrides))
            .to_string(),
    }
}

fn format_name(format: SpecFormat) -> &'static str {
    match format {
        SpecFormat::Toml => "toml",
        SpecFormat::Yaml => "yaml",
        SpecFormat::Json => "json",
    }
}
