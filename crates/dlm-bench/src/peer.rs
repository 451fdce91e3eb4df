//! The peer of the queue benchmark: pgbench running a plain loop of
//! SKIP LOCKED claims and completions in SQL on the same schema and the
//! same queued runs, with no gRPC and no service in between. It bounds
//! what any service on this database and machine could reach.

use std::io::Write;
use std::process::Command;

use anyhow::{Context, bail};
use dlm_store::testing::TestDatabase;

use crate::sweep::queue_runs;

/// Figures of one pgbench run.
pub struct PeerFigures {
    pub runs_per_second: f64,
}

/// Queues `runs` runs in a fresh database and has `clients` pgbench
/// clients claim and complete them, one run per script execution.
pub async fn measure(runs: u64, clients: usize) -> anyhow::Result<PeerFigures> {
    let per_client = runs / clients as u64;
    if per_client == 0 {
        bail!("{runs} runs cannot be shared by {clients} pgbench clients");
    }

    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    queue_runs(&store, runs).await?;
    store.close().await;

    let mut script = tempfile::NamedTempFile::new()?;
    script.write_all(script_text().as_bytes())?;
    let threads = clients.min(std::thread::available_parallelism().map_or(1, usize::from));
    let output = Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared"])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={threads}"))
        .arg(format!("--transactions={per_client}"))
        .arg(format!("--file={}", script.path().display()))
        .arg(database.url())
        .output()
        .context("cannot start pgbench; install the PostgreSQL client tools")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let runs_per_second = parse_tps(&stdout)
        .with_context(|| format!("cannot read the rate from pgbench output:\n{stdout}"))?;
    Ok(PeerFigures { runs_per_second })
}

/// Returns the pgbench script: one run claimed in one transaction, its result and
/// metrics stored and the run marked done in a second, as the service does.
fn script_text() -> String {
    let names: Vec<String> = dlm_sim::Summary::METRIC_NAMES
        .iter()
        .map(|name| format!("'{name}'"))
        .collect();
    format!(
        "BEGIN;\n\
         WITH picked AS (SELECT id FROM runs WHERE state = 'queued' AND model_version = '{version}' \
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
         UPDATE runs SET state = 'leased', attempt = runs.attempt + 1, worker_id = 'peer', \
         lease_expires_at = now() + interval '60 seconds' FROM picked WHERE runs.id = picked.id \
         RETURNING runs.id AS run_id, runs.attempt AS attempt \\gset\n\
         COMMIT;\n\
         BEGIN;\n\
         INSERT INTO results (run_id, diverged, accuracy, series, worker_id, attempt, duration_seconds) \
         VALUES (:run_id, false, '[[0.5,0.5],[0.9,0.5],[0.7,0.9]]', '{{}}', 'peer', :attempt, 0);\n\
         INSERT INTO run_metrics (run_id, name, value) SELECT :run_id, name, 0.5 \
         FROM unnest(ARRAY[{names}]) AS name;\n\
         UPDATE runs SET state = 'done', worker_id = NULL, lease_expires_at = NULL, \
         finished_at = now() WHERE id = :run_id;\n\
         COMMIT;\n",
        version = dlm_sim::MODEL_VERSION,
        names = names.join(", "),
    )
}

/// Reads `tps = N (without initial connection time)` from pgbench's report.
fn parse_tps(report: &str) -> Option<f64> {
    report
        .lines()
        .find(|line| line.starts_with("tps = ") && line.contains("without initial connection"))
        .and_then(|line| line.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|value| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::parse_tps;

    #[test]
    fn reads_the_rate_without_connection_time() {
        let report = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 1.234 ms\n\
                      initial connection time = 3.1 ms\n\
                      tps = 812.345678 (without initial connection time)\n";
        assert_eq!(parse_tps(report), Some(812.345678));
        assert_eq!(parse_tps("latency average = 1 ms\n"), None);
    }
}
