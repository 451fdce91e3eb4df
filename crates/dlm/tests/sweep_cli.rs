//! `dlm sweep` end to end: the built binary runs a small sweep file on a
//! fresh SQLite database in a temporary directory, and a second run of the
//! same file reuses every stored result.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use dlm_store::{ConnectOptions, Store, SweepStatus};

/// Runs of examples/sweep-tiny.toml: 4 DLM configurations times 2 seeds,
/// plus 2 runs of the SGD baseline.
const TINY_RUNS: u64 = 10;

fn tiny_sweep() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sweep-tiny.toml")
}

fn run_sweep(file: &Path, database: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlm"))
        .arg("sweep")
        .arg(file)
        .args(["--database", database, "--workers", "2"])
        .args(extra)
        .output()
        .expect("the dlm binary starts")
}

async fn open_store(database: &str) -> Store {
    Store::open(database, &ConnectOptions::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_runs_then_reuses() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());

    let first = run_sweep(&tiny_sweep(), &database, &[]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "first run failed: {stderr}");
    assert!(
        stdout.contains(&format!("0 of {TINY_RUNS} reused")),
        "{stdout}"
    );
    assert!(stdout.contains("verdict: "), "{stdout}");
    assert!(stdout.contains("baseline sgd: "), "{stdout}");

    let csv_path = directory.path().join("runs.csv");
    let plot_path = directory.path().join("fit.svg");
    assert!(stdout.contains(&csv_path.display().to_string()), "{stdout}");
    assert!(
        stdout.contains(&plot_path.display().to_string()),
        "{stdout}"
    );

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "run_id");
    assert!(header.iter().any(|name| name == "config.dynamics.alpha"));
    let state_column = header.iter().position(|name| name == "state").unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as u64, TINY_RUNS);
    assert!(records.iter().all(|record| &record[state_column] == "done"));

    let svg = std::fs::read_to_string(&plot_path).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("fit.svg is well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");

    let store = open_store(&database).await;
    let sweeps = store.list_sweeps(10).await.unwrap();
    assert_eq!(sweeps.len(), 1);
    assert_eq!(sweeps[0].counts.done, TINY_RUNS);
    let run_ids = store.sweep_run_ids(sweeps[0].id).await.unwrap();
    let mut completed = Vec::new();
    for run_id in &run_ids {
        let result = store
            .result(*run_id)
            .await
            .unwrap()
            .expect("every run has a result");
        completed.push(result.completed_at);
    }
    store.close().await;

    let second = run_sweep(&tiny_sweep(), &database, &[]);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "second run failed: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        stdout.contains(&format!("{TINY_RUNS} of {TINY_RUNS} reused")),
        "{stdout}"
    );

    let store = open_store(&database).await;
    let sweeps = store.list_sweeps(10).await.unwrap();
    assert_eq!(sweeps.len(), 2, "each run of the file is a sweep");
    let newest = &sweeps[0];
    assert_eq!(newest.reused_count, TINY_RUNS);
    assert_eq!(newest.counts.done, TINY_RUNS);
    assert_eq!(store.sweep_run_ids(newest.id).await.unwrap(), run_ids);
    for (run_id, first_completed) in run_ids.iter().zip(&completed) {
        let result = store.result(*run_id).await.unwrap().unwrap();
        assert_eq!(
            &result.completed_at, first_completed,
            "run {run_id} was simulated again"
        );
    }
    store.close().await;
}

#[test]
fn sweep_json_follows_fit_flags() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());
    let fit_flags = ["--method", "quantile", "--x-scale", "log", "--bootstrap", "200"];

    let output = run_sweep(&tiny_sweep(), &database, &[&["--json"][..], &fit_flags].concat());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");

    let verdict = summary["verdict"].as_str().expect("a verdict");
    assert!(
        ["supported", "contradicted", "inconclusive"].contains(&verdict),
        "{verdict}"
    );
    assert_eq!(summary["fit"]["verdict"], verdict);
    assert_eq!(summary["fit"]["method"], "quantile");
    assert_eq!(summary["fit"]["x_scale"], "log");
    assert_eq!(summary["run_count"], TINY_RUNS);
    assert_eq!(summary["done"], TINY_RUNS);
    assert_eq!(summary["reused_count"], 0);
    assert_eq!(summary["configurations"].as_array().unwrap().len(), 5);
    assert_eq!(summary["baselines"][0]["role"], "sgd");
    assert!(summary["baselines"][0]["comparison"]["ratio"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_sweep_stores_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\nseeds = 2\n\n[base.dynamics]\nalpha = \"lots\"\n",
    )
    .unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());

    let output = run_sweep(&file, &database, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("invalid sweep file"), "{stderr}");
    assert!(stderr.contains("base.dynamics.alpha"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!directory.path().join("runs.csv").exists());

    let store = open_store(&database).await;
    assert!(store.list_sweeps(10).await.unwrap().is_empty());
    store.close().await;
}

#[test]
fn invalid_fit_flag_runs_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let database_path = directory.path().join("dlm.sqlite");
    let database = format!("sqlite://{}", database_path.display());

    let cases: [(&[&str], &str); 2] = [
        (&["--min-la", "60"], "invalid --min-la 60"),
        (&["--method", "quantile", "--q", "1.5"], "invalid q = 1.5"),
    ];

    for (flags, message) in cases {
        let output = run_sweep(&tiny_sweep(), &database, flags);

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?} was accepted");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!database_path.exists(), "{flags:?} created the database");
    }
}

/// Returns the number of done runs in the SQLite database at `url`, or 0
/// while the file, its tables or its first rows do not exist yet.
async fn done_runs(url: &str) -> i64 {
    let options = match url.parse::<sqlx::sqlite::SqliteConnectOptions>() {
        Ok(options) => options.read_only(true),
        Err(_) => return 0,
    };
    let Ok(mut connection) = sqlx::ConnectOptions::connect(&options).await else {
        return 0;
    };
    let count = sqlx::query_scalar("SELECT count(*) FROM runs WHERE state = 'done'")
        .fetch_one(&mut connection)
        .await
        .unwrap_or(0);
    let _ = sqlx::Connection::close(connection).await;
    count
}

/// Returns the only sweep stored, once it exists.
async fn only_sweep(store: &Store) -> Option<SweepStatus> {
    let mut sweeps = store.list_sweeps(10).await.unwrap();
    assert!(sweeps.len() <= 1, "one sweep expected");
    sweeps.pop()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_sweep_continues() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());
    // The tiny sweep with 30 seeds: 4 x 30 DLM runs and 30 baseline runs,
    // long enough to be stopped after its first result.
    let tiny = std::fs::read_to_string(tiny_sweep()).unwrap();
    let file = directory.path().join("longer.toml");
    std::fs::write(&file, tiny.replace("seeds = 2", "seeds = 30")).unwrap();
    let run_count = 150;

    let mut child = Command::new(env!("CARGO_BIN_EXE_dlm"))
        .arg("sweep")
        .arg(&file)
        .args(["--database", &database, "--workers", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dlm binary starts");

    // Polls the database the running process writes until a run is done.
    // The poll reads with plain SQL, because opening a Store migrates, and
    // two processes migrating one new SQLite file at once race.
    loop {
        if done_runs(&database).await > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before any run was done"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = open_store(&database).await;
    let signal = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the sweep finished before SIGTERM: {stderr}"
    );
    assert!(
        stderr.contains("run the same command again to continue"),
        "{stderr}"
    );

    let stopped = only_sweep(&store).await.unwrap();
    assert_eq!(stopped.run_count, run_count);
    assert_eq!(
        stopped.counts.leased, 0,
        "every lease was finished or released"
    );
    assert!(stopped.counts.done < run_count, "{:?}", stopped.counts);
    store.close().await;

    let rerun = run_sweep(&file, &database, &["--json"]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
    assert_eq!(summary["done"], run_count);
    assert_eq!(summary["reused_count"], stopped.counts.done);
}

#[test]
fn sweep_without_fit_has_no_plot() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());
    // One DLM configuration with one seed: too few runs for a fit.
    let tiny = std::fs::read_to_string(tiny_sweep()).unwrap();
    let single = tiny
        .replace("seeds = 2", "seeds = 1")
        .replace("[1e-4, 1e-3]", "[1e-4]")
        .replace("[0.0, 0.5]", "[0.5]");
    let file = directory.path().join("single.toml");
    std::fs::write(&file, single).unwrap();
    let stale_plot = directory.path().join("fit.svg");
    std::fs::write(&stale_plot, "<svg/>").unwrap();

    let output = run_sweep(&file, &database, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("no fit: too few usable points"), "{stdout}");
    assert!(stdout.contains("plot      none"), "{stdout}");
    assert!(
        !stale_plot.exists(),
        "the plot of an earlier sweep was left"
    );
    assert!(directory.path().join("runs.csv").exists());

    let output = run_sweep(&file, &database, &["--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(summary["verdict"].is_null());
    assert!(summary["fit"].is_null());
    assert!(
        summary["fit_error"]
            .as_str()
            .unwrap()
            .contains("too few usable points")
    );
}

/// Sends one HTTP/1.1 request that closes the connection and returns the
/// whole response.
fn http_request(address: &str, head: &str, content_type: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    let request = format!(
        "{head} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_posted_sweeps() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("dlm.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dlm"))
        .arg("sweep")
        .arg(tiny_sweep())
        .args(["--database", &database, "--workers", "2"])
        .args(["--serve", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dlm binary starts");

    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let address = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr ended without an HTTP address"
        );
        if let Some(rest) = line.strip_prefix("HTTP API listening on http://") {
            break rest.split(';').next().unwrap().to_string();
        }
    };

    // One more seed than the file: 5 new runs, 10 reused.
    let document = std::fs::read_to_string(tiny_sweep())
        .unwrap()
        .replace("seeds = 2", "seeds = 3");
    let response = http_request(&address, "POST /v1/sweeps", "application/toml", &document);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let store = open_store(&database).await;
    let mut polls = 0;
    let posted = loop {
        let sweeps = store.list_sweeps(10).await.unwrap();
        assert_eq!(sweeps.len(), 2, "the file's sweep and the posted one");
        if sweeps[0].counts.done == 15 {
            break sweeps[0].clone();
        }
        polls += 1;
        assert!(
            polls < 6_000,
            "the posted sweep was not run: {:?}",
            sweeps[0].counts
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(posted.reused_count, 10);
    store.close().await;

    let signal = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(output.status.success(), "{rest}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 of 10 reused"), "{stdout}");
}
