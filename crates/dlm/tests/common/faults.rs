//! The fault harness's shared parts: its scale (short in CI, long for the
//! figures in docs/reliability.md), cheap sweeps, direct queries on the
//! test database and the audit that counts stored, lost and duplicated runs.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

/// How large each scenario is, from `DLM_FAULTS_SCALE`: unset or `short`
/// for CI, `long` for the recorded figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Short,
    Long,
}

impl Scale {
    pub fn from_env() -> Scale {
        let value = std::env::var("DLM_FAULTS_SCALE").unwrap_or_default();
        match value.as_str() {
            "" | "short" => Scale::Short,
            "long" => Scale::Long,
            other => panic!("invalid DLM_FAULTS_SCALE {other:?}: expected short or long"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scale::Short => "short",
            Scale::Long => "long",
        }
    }

    /// Returns `short` or `long` for this scale.
    pub fn pick<T>(self, short: T, long: T) -> T {
        match self {
            Scale::Short => short,
            Scale::Long => long,
        }
    }
}

/// Returns a sweep of `runs` runs of one tiny split-digits configuration, varied
/// only by seed, so each run takes a fraction of a second.
pub fn cheap_sweep(name: &str, runs: u64) -> String {
    digits_sweep(
        name,
        runs,
        "steps_per_task = 5\nrecord_every = 5\neval_every = 5",
    )
}

/// Returns a sweep of `runs` runs of `steps_per_task` plain SGD steps on each of
/// two tasks: about 9 s for 200,000 steps on a 2-core machine. SGD,
/// because the default Langevin dynamics of this tiny model diverges and
/// ends a long run early.
pub fn slow_sweep(name: &str, runs: u64, steps_per_task: u64) -> String {
    let schedule = format!(
        "steps_per_task = {steps_per_task}\nrecord_every = 100\neval_every = 1000\n\n\
         [base.dynamics]\nmethod = \"sgd\"\ndt = 0.05"
    );
    digits_sweep(name, runs, &schedule)
}

fn digits_sweep(name: &str, runs: u64, schedule: &str) -> String {
    format!(
        "name = \"{name}\"\nseeds = {runs}\n\n\
         [base.data]\ndataset = \"digits\"\n\n\
         [base.tasks]\nkind = \"split\"\nnum_tasks = 2\nbatch_size = 16\n{schedule}\n\n\
         [base.model]\nhidden = [8]\n"
    )
}

pub async fn connect(database_url: &str) -> PgConnection {
    PgConnection::connect(database_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {database_url}: {error}"))
}

/// Returns the runs `worker_id` holds a lease on, with their expiry as
/// seconds since the epoch.
pub async fn leases_of(database: &mut PgConnection, worker_id: &str) -> Vec<(i64, f64)> {
    sqlx::query_as(
        "SELECT id, extract(epoch FROM lease_expires_at)::float8 FROM runs \
         WHERE state = 'leased' AND worker_id = $1 ORDER BY id",
    )
    .bind(worker_id)
    .fetch_all(database)
    .await
    .unwrap()
}

/// Polls until `worker_id` holds a lease and returns the first one.
pub async fn wait_for_lease_of(database: &mut PgConnection, worker_id: &str) -> (i64, f64) {
    let started = std::time::Instant::now();
    loop {
        if let Some(&lease) = leases_of(database, worker_id).await.first() {
            return lease;
        }
        assert!(
            started.elapsed() < super::SWEEP_TIMEOUT,
            "worker {worker_id} never leased a run"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Returns the number of the sweep's runs that are done.
pub async fn done_count(database: &mut PgConnection, sweep_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM sweep_runs s JOIN runs r ON r.id = s.run_id \
         WHERE s.sweep_id = $1 AND r.state = 'done'",
    )
    .bind(sweep_id)
    .fetch_one(database)
    .await
    .unwrap()
}

/// Polls until at least `count` of the sweep's runs are done.
pub async fn wait_for_done(database: &mut PgConnection, sweep_id: i64, count: i64) {
    let started = std::time::Instant::now();
    while done_count(database, sweep_id).await < count {
        assert!(
            started.elapsed() < super::SWEEP_TIMEOUT,
            "sweep {sweep_id} never reached {count} done runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What became of a sweep's runs, counted in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    pub expected: i64,
    /// Result rows of the sweep's runs; the schema keeps one per run.
    pub stored: i64,
    pub done_without_result: i64,
    pub failed: i64,
    /// Completions acknowledged but not stored because the run already had
    /// a result or a newer attempt.
    pub duplicates: i64,
    /// Runs leased more than once.
    pub retried: i64,
}

impl Audit {
    /// Runs that neither have a result nor ended failed.
    pub fn lost(&self) -> i64 {
        self.expected - self.stored - self.failed
    }
}

pub async fn audit_sweep(database: &mut PgConnection, sweep_id: i64) -> Audit {
    let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(res.run_id), \
         count(*) FILTER (WHERE r.state = 'done' AND res.run_id IS NULL), \
         count(*) FILTER (WHERE r.state = 'failed'), \
         coalesce(sum(r.duplicate_completions), 0)::int8, \
         count(*) FILTER (WHERE r.attempt > 1) \
         FROM sweep_runs s JOIN runs r ON r.id = s.run_id \
         LEFT JOIN results res ON res.run_id = r.id WHERE s.sweep_id = $1",
    )
    .bind(sweep_id)
    .fetch_one(database)
    .await
    .unwrap();
    Audit {
        expected: row.0,
        stored: row.1,
        done_without_result: row.2,
        failed: row.3,
        duplicates: row.4,
        retried: row.5,
    }
}

/// One line of the figures table in docs/reliability.md.
pub struct Figures<'a> {
    pub scenario: &'a str,
    pub scale: Scale,
    pub faults: String,
    pub audit: Audit,
    pub recovery: Duration,
}

/// Prints the figures as a Markdown table row on standard error, shown
/// with `--nocapture`, and appends it to the file `DLM_FAULTS_REPORT`
/// names, if set.
pub fn record(figures: &Figures) {
    let audit = figures.audit;
    let row = format!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
        figures.scenario,
        figures.scale.name(),
        figures.faults,
        audit.expected,
        audit.stored,
        audit.duplicates,
        audit.lost(),
        figures.recovery.as_secs_f64(),
    );
    eprintln!("{row}");
    let Ok(path) = std::env::var("DLM_FAULTS_REPORT") else {
        return;
    };
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|error| panic!("cannot open {path}: {error}"));
    writeln!(file, "{row}").unwrap();
}
