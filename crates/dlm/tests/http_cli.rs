//! `dlm serve` as a real process serving the HTTP API beside gRPC on
//! loopback, over a fresh PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use dlm_store::testing::{TestDatabase, complete_queued_runs};
use dlm_store::{Lease, RunResult};
use serde_json::Value;

const TINY_SWEEP: &str = include_str!("../../../examples/sweep-tiny.toml");
const API_TOKEN: &str = "http-cli-test-token";

/// Kills the child when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dlm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dlm"));
    command
        .env("RUST_LOG", "warn")
        .env_remove("DLM_WORKER_TOKEN")
        .env_remove("DLM_API_TOKEN")
        .env_remove("DLM_HTTP_ADDR");
    command
}

/// Starts `dlm serve` with both servers on free ports and returns it with
/// the HTTP base URL.
fn start_serve(database_url: &str) -> (KillOnDrop, String) {
    let mut child = dlm()
        .args(["serve", "--database-url", database_url])
        .args(["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(["--api-token", API_TOKEN])
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start dlm serve");

    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("cannot read dlm serve's output");
        lines.push(line.trim().to_string());
    }
    assert!(lines[0].starts_with("gRPC listening on 127.0.0.1:"), "{lines:?}");
    let address = lines[1]
        .strip_prefix("HTTP listening on ")
        .unwrap_or_else(|| panic!("unexpected second line from dlm serve: {lines:?}"))
        .to_string();
    (KillOnDrop(child), format!("http://{address}"))
}

#[tokio::test]
async fn serve_answers_http() {
    let database = TestDatabase::postgres().await;
    let (mut serve, base_url) = start_serve(database.url());
    let client = reqwest::Client::new();

    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = client.get(format!("{base_url}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status, "{path}");
    }

    let submit = |token: Option<&str>| {
        let mut request = client
            .post(format!("{base_url}/v1/sweeps"))
            .header("content-type", "application/toml")
            .body(TINY_SWEEP);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let rejected = submit(None).await.unwrap();
    assert_eq!(rejected.status(), 401);
    let accepted = submit(Some(API_TOKEN)).await.unwrap();
    assert_eq!(accepted.status(), 201);
    let body: Value = accepted.json().await.unwrap();
    assert_eq!(body["runs"], 10, "{body}");

    let sweep_id = body["sweep_id"].as_i64().unwrap();
    let sweep: Value = client
        .get(format!("{base_url}/v1/sweeps/{sweep_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sweep["counts"]["queued"], 10, "{sweep}");

    let terminated = Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status()
        .expect("cannot run kill");
    assert!(terminated.success());
    let exit = serve.0.wait().expect("cannot wait for dlm serve");
    assert!(exit.success(), "dlm serve exited with {exit}");
}

#[test]
fn non_loopback_http_needs_token() {
    let output = dlm()
        .args(["serve", "--database-url", "sqlite::memory:"])
        .args(["--grpc", "127.0.0.1:0", "--http", "0.0.0.0:0"])
        .output()
        .expect("cannot run dlm serve");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("0.0.0.0:0"), "{stderr}");
    assert!(stderr.contains("DLM_API_TOKEN"), "{stderr}");
}

/// A sweep of 6 temperatures, 3 seeds and the matched SGD baseline, on a
/// short split task; its results are made up, never simulated.
const FIT_SWEEP: &str = r#"
name = "fit agreement"
seeds = 3
baselines = ["sgd"]
[base.tasks]
kind = "split"
num_tasks = 2
steps_per_task = 10
[grid]
"dynamics.temperature" = [1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4]
"#;

/// Builds a made-up result in which forgetting falls with sigma.
fn synthetic_result(lease: &Lease) -> RunResult {
    let config: Value = serde_json::from_str(&lease.canonical_config).unwrap();
    let temperature = config["dynamics"]["temperature"].as_f64().unwrap_or(0.0);
    let sigma = 0.05 + temperature * 1e3 + (lease.seed % 3) as f64 * 0.02;
    let forgetting = 0.5 * (-sigma / 0.6).exp() * (1.0 + (lease.run_id % 4) as f64 * 0.03);
    RunResult {
        metrics: vec![
            ("F".to_string(), Some(forgetting)),
            ("LA".to_string(), Some(0.85)),
            ("sigma_flux_mean".to_string(), Some(sigma)),
        ],
        diverged: false,
        diverged_step: None,
        accuracy_json: "[[0.9]]".to_string(),
        series_json: "{}".to_string(),
        duration_seconds: 1.0,
    }
}

#[tokio::test]
async fn http_fit_matches_dlm_fit() {
    let database = TestDatabase::postgres().await;
    let (_serve, base_url) = start_serve(database.url());
    let client = reqwest::Client::new();
    let submitted: Value = client
        .post(format!("{base_url}/v1/sweeps"))
        .header("content-type", "application/toml")
        .bearer_auth(API_TOKEN)
        .body(FIT_SWEEP)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sweep_id = submitted["sweep_id"].as_i64().unwrap();
    let store = database.store().await;
    let completed = complete_queued_runs(&store, "synthetic", dlm_sim::MODEL_VERSION, synthetic_result).await;
    assert_eq!(completed, 21, "18 DLM runs and 3 baseline runs");

    let get = |path: String| client.get(format!("{base_url}{path}")).send();
    let served: Value = get(format!("/v1/sweeps/{sweep_id}/fit?bootstrap=200&seed=7"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csv = get(format!("/v1/sweeps/{sweep_id}/runs?format=csv&filter=role=dlm"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let csv_path = directory.path().join("runs.csv");
    std::fs::write(&csv_path, csv).unwrap();

    let output = dlm()
        .args(["fit", "--input", csv_path.to_str().unwrap(), "--json"])
        .args(["--sigma-column", "sigma_flux_mean", "--bootstrap", "200", "--seed", "7"])
        .output()
        .expect("cannot run dlm fit");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();

    let printed = printed.as_object().unwrap();
    assert!(printed.contains_key("k"), "{printed:?}");
    for (key, value) in printed {
        assert_eq!(&served[key], value, "field {key}");
    }
    assert_eq!(served["n_used"], 18);
    assert_eq!(served["baselines"][0]["role"], "sgd", "{served}");
    assert!(served["baselines"][0]["comparison"]["ratio"].is_number(), "{served}");
}
