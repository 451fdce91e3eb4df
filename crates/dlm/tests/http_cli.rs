//! `dlm serve` as a real process serving the HTTP API beside gRPC on
//! loopback, over a fresh PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use dlm_store::testing::TestDatabase;
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
