//! A server started by a test, and helpers to check problem bodies.

use dlm_http::HttpSettings;
use dlm_store::Store;
use dlm_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

/// The tiny digits sweep of the examples: 10 runs.
pub const TINY_SWEEP_TOML: &str = include_str!("../../../../examples/sweep-tiny.toml");

/// A sweep in JSON with 2 grid points and 1 seed: 2 runs.
pub const SMALL_SWEEP_JSON: &str = r#"{
  "name": "small json sweep",
  "seeds": 1,
  "base": {"tasks": {"kind": "split", "num_tasks": 2, "steps_per_task": 20}},
  "grid": {"dynamics.temperature": [0.0001, 0.001]}
}"#;

/// An HTTP API server on 127.0.0.1 over its own database, stopped on drop.
pub struct TestServer {
    pub base_url: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// URL of the server's database, for checks the API cannot make.
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
    _database: TestDatabase,
}

impl TestServer {
    /// Starts a server with default settings.
    pub async fn start() -> TestServer {
        TestServer::with_settings(HttpSettings::default()).await
    }

    /// Starts a server with `settings` on a free loopback port.
    pub async fn with_settings(settings: HttpSettings) -> TestServer {
        let database = TestDatabase::postgres().await;
        let store = database.store().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("cannot bind a loopback port");
        let address = listener.local_addr().expect("bound address");

        let (stop, stopped) = oneshot::channel::<()>();
        let router = dlm_http::router(store.clone(), settings);
        tokio::spawn(dlm_http::serve(listener, router, async {
            let _ = stopped.await;
        }));

        TestServer {
            base_url: format!("http://{address}"),
            client: reqwest::Client::new(),
            store,
            database_url: database.url().to_string(),
            stop: Some(stop),
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET failed")
    }

    /// Posts `body` with the content type `content_type`.
    pub async fn post(&self, path: &str, content_type: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("POST failed")
    }

    /// Submits `document` and returns the new sweep's id.
    pub async fn submit(&self, content_type: &str, document: &str) -> i64 {
        let response = self.post("/v1/sweeps", content_type, document).await;
        assert_eq!(response.status(), StatusCode::CREATED, "submit failed");
        let body: Value = response.json().await.expect("submit response is JSON");
        body["sweep_id"].as_i64().expect("sweep_id is an integer")
    }

    /// Returns the number of sweeps stored.
    pub async fn sweep_count(&self) -> usize {
        self.store
            .list_sweeps(1_000)
            .await
            .expect("cannot list sweeps")
            .len()
    }
}

/// Row counts of the store's tables, read over a separate connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCounts {
    pub sweeps: i64,
    pub runs: i64,
    pub sweep_runs: i64,
    pub results: i64,
    pub run_metrics: i64,
}

impl TestServer {
    /// Counts the rows of each table. Fails the test when a table is
    /// missing, so it also checks that the schema is intact.
    pub async fn table_counts(&self) -> TableCounts {
        use sqlx::Connection;

        let mut connection = sqlx::PgConnection::connect(&self.database_url)
            .await
            .expect("cannot connect to the test database");
        let mut counts = [0_i64; 5];
        let tables = ["sweeps", "runs", "sweep_runs", "results", "run_metrics"];
        for (count, table) in counts.iter_mut().zip(tables) {
            let query = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
            *count = sqlx::query_scalar(query)
                .fetch_one(&mut connection)
                .await
                .unwrap_or_else(|error| panic!("cannot count the rows of table {table}: {error}"));
        }
        connection.close().await.ok();
        let [sweeps, runs, sweep_runs, results, run_metrics] = counts;
        TableCounts { sweeps, runs, sweep_runs, results, run_metrics }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Checks that `response` has `status` and a problem body, and returns the
/// body.
pub async fn expect_problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(content_type, "application/problem+json", "content type");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"].as_u64(), Some(u64::from(status.as_u16())), "status member");
    assert!(body["type"].is_string(), "type member: {body}");
    assert!(body["title"].is_string(), "title member: {body}");
    assert!(body["detail"].is_string(), "detail member: {body}");
    body
}
