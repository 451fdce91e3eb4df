//! Each limit of the API at its value and one past it: the request body
//! size, the runs in one sweep and the page size of the listings. A
//! rejection must name the limit and leave nothing stored.

use dlm_http::{HttpSettings, MAX_PAGE_SIZE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::server::{SMALL_SWEEP_JSON, TableCounts, TestServer, expect_problem};

/// A JSON sweep of `temperatures` grid values times `seeds` seeds, plus the
/// given baselines, with tasks short enough that expansion is cheap.
fn grid_sweep_json(temperatures: usize, seeds: u64, baselines: &[&str]) -> String {
    let values: Vec<String> = (1..=temperatures).map(|index| format!("{}", index as f64 * 1e-5)).collect();
    let baselines: Vec<String> = baselines.iter().map(|name| format!("\"{name}\"")).collect();
    format!(
        r#"{{"name": "limit sweep", "seeds": {seeds}, "baselines": [{}],
  "base": {{"tasks": {{"kind": "split", "num_tasks": 2, "steps_per_task": 10}}}},
  "grid": {{"dynamics.temperature": [{}]}}}}"#,
        baselines.join(", "),
        values.join(", ")
    )
}

/// Pads `document` with trailing spaces, which every format ignores, to
/// exactly `length` bytes.
fn padded_to(document: &str, length: usize) -> String {
    assert!(document.len() <= length, "the document alone is over {length} bytes");
    format!("{document}{}", " ".repeat(length - document.len()))
}

/// Posts `body` as a stream, so the request has no Content-Length and the
/// limit applies while the body is read.
async fn post_streamed(server: &TestServer, body: String) -> reqwest::Response {
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(body)];
    server
        .client
        .post(server.url("/v1/sweeps"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("streamed POST failed")
}

#[tokio::test]
async fn body_limit_at_and_over() {
    let limit = 2048;
    let settings = HttpSettings {
        max_body_bytes: limit,
        ..HttpSettings::default()
    };
    let server = TestServer::with_settings(settings).await;
    let at_limit = padded_to(SMALL_SWEEP_JSON, limit);
    let over_limit = padded_to(SMALL_SWEEP_JSON, limit + 1);

    let response = server.post("/v1/sweeps", "application/json", &at_limit).await;
    assert_eq!(response.status(), StatusCode::CREATED, "a body of exactly the limit with Content-Length");
    let response = post_streamed(&server, at_limit.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED, "a streamed body of exactly the limit");

    let with_length = server.post("/v1/sweeps", "application/json", &over_limit).await;
    let streamed = post_streamed(&server, over_limit.clone()).await;
    for (how, response) in [("with Content-Length", with_length), ("streamed", streamed)] {
        let problem = expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(problem["type"], "urn:dlm:problem:payload-too-large", "{how}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("limit of 2048 bytes"), "{how}: {detail}");
    }

    let counts = server.table_counts().await;
    assert_eq!(counts.sweeps, 2, "only the two sweeps at the limit are stored");
    assert_eq!(counts.sweep_runs, 4, "2 runs in each stored sweep");
}

#[tokio::test]
async fn default_body_limit_is_sixteen_mebibytes() {
    assert_eq!(dlm_http::DEFAULT_MAX_BODY_BYTES, 16 * 1024 * 1024);
    assert_eq!(HttpSettings::default().max_body_bytes, dlm_http::DEFAULT_MAX_BODY_BYTES);

    let server = TestServer::start().await;
    let over_limit = padded_to(SMALL_SWEEP_JSON, dlm_http::DEFAULT_MAX_BODY_BYTES + 1);
    let response = server.post("/v1/sweeps", "application/json", &over_limit).await;
    let problem = expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(problem["detail"].as_str().unwrap().contains("16777216"), "{problem}");
    assert_eq!(server.sweep_count().await, 0);
}

#[tokio::test]
async fn grid_limit_at_and_over() {
    let max_runs = 120;
    let settings = HttpSettings {
        max_runs_per_sweep: max_runs,
        ..HttpSettings::default()
    };
    let server = TestServer::with_settings(settings).await;

    let at_limit = grid_sweep_json(40, 3, &[]);
    let response = server.post("/v1/sweeps", "application/json", &at_limit).await;
    assert_eq!(response.status(), StatusCode::CREATED, "40 points x 3 seeds = 120 runs");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["runs"], 120, "{body}");
    let stored = server.table_counts().await;

    // (document, runs it expands to): one more point, and the same points
    // with a baseline that adds one run per seed after expansion.
    let cases = [
        (grid_sweep_json(41, 3, &[]), 123_u64),
        (grid_sweep_json(40, 3, &["sgd"]), 123),
        (grid_sweep_json(1, 121, &[]), 121),
    ];
    for (document, runs) in cases {
        let response = server.post("/v1/sweeps", "application/json", &document).await;
        let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "runs", "{runs} runs: {problem}");
        assert_eq!(problem["value"], runs.to_string(), "{runs} runs: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("limit of {max_runs}")), "{runs} runs: {detail}");
    }

    assert_eq!(server.table_counts().await, stored, "a rejected sweep left rows behind");
    assert_eq!(
        stored,
        TableCounts { sweeps: 1, runs: 120, sweep_runs: 120, results: 0, run_metrics: 0 }
    );
}

#[tokio::test]
async fn default_grid_limit_rejects_one_more() {
    let max_runs = dlm_sweep::DEFAULT_MAX_RUNS;
    assert_eq!(HttpSettings::default().max_runs_per_sweep, max_runs);
    let server = TestServer::start().await;

    // One point past the limit, and a grid whose run count overflows u64:
    // both are rejected from their point counts, before any run is built.
    let axis: Vec<String> = (1..=1000).map(|index| format!("{index}")).collect();
    let axis = axis.join(", ");
    let huge = format!(
        r#"{{"name": "huge", "seeds": 18446744073709551615,
  "grid": {{"dynamics.temperature": [{axis}], "dynamics.alpha": [{axis}], "dynamics.dt": [{axis}]}}}}"#
    );
    let cases = [(grid_sweep_json(1, max_runs + 1, &[]), (max_runs + 1).to_string()), (huge, String::new())];
    for (document, value) in cases {
        let response = server.post("/v1/sweeps", "application/json", &document).await;
        let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "runs", "{problem}");
        if !value.is_empty() {
            assert_eq!(problem["value"], value, "{problem}");
        }
        assert!(problem["detail"].as_str().unwrap().contains("limit of 100000"), "{problem}");
    }

    assert_eq!(server.table_counts().await, TableCounts { sweeps: 0, runs: 0, sweep_runs: 0, results: 0, run_metrics: 0 });
    let health = server.get("/readyz").await;
    assert_eq!(health.status(), StatusCode::OK, "the server still answers");
}

#[tokio::test]
async fn page_size_limits_of_listings() {
    assert_eq!(MAX_PAGE_SIZE, 500);
    let server = TestServer::start().await;
    // 167 points x 3 seeds = 501 runs: one more than a full page.
    let sweep_id = server.submit("application/json", &grid_sweep_json(167, 3, &[])).await;
    server.submit("application/json", SMALL_SWEEP_JSON).await;

    let runs_path = format!("/v1/sweeps/{sweep_id}/runs");
    let full: Value = server.get(&format!("{runs_path}?limit={MAX_PAGE_SIZE}")).await.json().await.unwrap();
    assert_eq!(full["runs"].as_array().unwrap().len(), 500, "a page of the maximum size");
    let cursor = full["next_cursor"].as_str().expect("a 501-run sweep has a second page");
    let rest: Value = server.get(&format!("{runs_path}?limit={MAX_PAGE_SIZE}&cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(rest["runs"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null(), "{}", rest["next_cursor"]);

    let sweeps = server.get(&format!("/v1/sweeps?limit={MAX_PAGE_SIZE}")).await;
    assert_eq!(sweeps.status(), StatusCode::OK);
    let sweeps: Value = sweeps.json().await.unwrap();
    assert_eq!(sweeps["sweeps"].as_array().unwrap().len(), 2);

    for base in ["/v1/sweeps", runs_path.as_str()] {
        for value in ["501", "0", "-1", "4294967296", "1e3", ""] {
            let path = format!("{base}?limit={value}");
            let problem = expect_problem(server.get(&path).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(problem["field"], "limit", "{path}: {problem}");
            assert_eq!(problem["value"], value, "{path}: {problem}");
            assert!(problem["detail"].as_str().unwrap().contains("1 to 500"), "{path}: {problem}");
        }
    }
}
