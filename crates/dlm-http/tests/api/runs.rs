//! The run listing (filters, sorts, pages, CSV), one run's detail and the
//! fit, over results stored through the lease and complete calls.

use std::collections::BTreeMap;

use dlm_store::testing::complete_queued_runs;
use dlm_store::{Lease, RunResult};
use reqwest::StatusCode;
use serde_json::Value;

use crate::server::{TestServer, expect_problem};

/// Builds a sweep of `temperatures` grid values times `seeds` seeds, with
/// short tasks so that expansion is cheap.
fn grid_sweep(temperatures: usize, seeds: usize) -> String {
    let values: Vec<String> = (1..=temperatures).map(|index| format!("{}", index as f64 * 1e-4)).collect();
    format!(
        "name = \"synthetic\"\nseeds = {seeds}\n\
         [base.tasks]\nkind = \"split\"\nnum_tasks = 2\nsteps_per_task = 10\n\
         [grid]\n\"dynamics.temperature\" = [{}]\n",
        values.join(", ")
    )
}

/// A result whose metrics are a function of the run: forgetting falls with
/// sigma, which grows with the configuration's temperature.
fn synthetic_result(lease: &Lease) -> RunResult {
    let config: Value = serde_json::from_str(&lease.canonical_config).unwrap();
    let temperature = config["dynamics"]["temperature"].as_f64().unwrap();
    let sigma = temperature * 1e3 + (lease.seed % 7) as f64 * 0.01;
    let forgetting = 0.6 * (-sigma / 0.8).exp() * (1.0 + (lease.run_id % 5) as f64 * 0.02);
    RunResult {
        metrics: vec![
            ("F".to_string(), Some(forgetting)),
            ("LA".to_string(), Some(0.9)),
            ("sigma_flux_mean".to_string(), Some(sigma)),
            ("sigma_heat_mean".to_string(), Some(sigma * 2.0)),
            ("beta".to_string(), None),
        ],
        diverged: false,
        diverged_step: None,
        accuracy_json: "[[0.9, 0.1], [0.5, 0.95]]".to_string(),
        series_json: "{\"step\": [0, 10]}".to_string(),
        duration_seconds: 0.5,
    }
}

/// Submits a grid sweep and completes every run; returns the sweep id and
/// the stored forgetting value of each run.
async fn completed_sweep(server: &TestServer, temperatures: usize, seeds: usize) -> (i64, BTreeMap<i64, f64>) {
    let sweep_id = server.submit("application/toml", &grid_sweep(temperatures, seeds)).await;
    let mut forgetting = BTreeMap::new();
    let completed = complete_queued_runs(&server.store, "synthetic-worker", dlm_sim::MODEL_VERSION, |lease| {
        let result = synthetic_result(lease);
        forgetting.insert(lease.run_id, result.metrics[0].1.unwrap());
        result
    })
    .await;
    assert_eq!(completed, temperatures * seeds);
    (sweep_id, forgetting)
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    let response = server.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn run_ids(page: &Value) -> Vec<i64> {
    page["runs"].as_array().unwrap().iter().map(|run| run["run_id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn filters_select_matching_runs() {
    let server = TestServer::start().await;
    let (sweep_id, forgetting) = completed_sweep(&server, 5, 4).await;
    let below: Vec<i64> = forgetting.iter().filter(|(_, f)| **f < 0.45).map(|(id, _)| *id).collect();
    assert!(!below.is_empty(), "some runs fall below the threshold");
    assert!(below.len() < forgetting.len(), "some runs stay above the threshold");

    let cases: [(&str, usize); 5] = [
        ("filter=metric.F<0.45", below.len()),
        ("filter=config.dynamics.temperature=0.0002", 4),
        ("filter=config.dynamics.temperature>=0.0002&filter=seed=1", 4),
        ("filter=role=dlm&filter=state!=done", 0),
        ("filter=metric.beta=1", 0),
    ];
    for (query, expected) in cases {
        let page = get_json(&server, &format!("/v1/sweeps/{sweep_id}/runs?limit=500&{query}")).await;
        assert_eq!(run_ids(&page).len(), expected, "{query}");
    }

    let page = get_json(&server, &format!("/v1/sweeps/{sweep_id}/runs?limit=500&filter=metric.F%3C0.45")).await;
    assert_eq!(run_ids(&page), below);
    let first = &page["runs"][0];
    assert_eq!(first["metrics"]["LA"], 0.9, "{first}");
    assert!(first["metrics"]["beta"].is_null(), "{first}");
}

#[tokio::test]
async fn sort_and_cursor_walk_every_run() {
    let server = TestServer::start().await;
    let (sweep_id, forgetting) = completed_sweep(&server, 6, 3).await;
    let mut expected: Vec<(f64, i64)> = forgetting.iter().map(|(id, f)| (*f, *id)).collect();
    expected.sort_by(|left, right| right.0.total_cmp(&left.0).then(right.1.cmp(&left.1)));
    let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();

    let mut seen = Vec::new();
    let mut path = format!("/v1/sweeps/{sweep_id}/runs?sort=-metric.F&limit=4");
    loop {
        let page = get_json(&server, &path).await;
        seen.extend(run_ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/sweeps/{sweep_id}/runs?sort=-metric.F&limit=4&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "descending forgetting, each run once");
}

#[tokio::test]
async fn invalid_run_queries_rejected() {
    let server = TestServer::start().await;
    let (sweep_id, _) = completed_sweep(&server, 2, 1).await;
    let cases = [
        ("filter=metric.colour<1", "filter", "metric.colour"),
        ("filter=config.dynamics.nothing=1", "filter", "config.dynamics.nothing"),
        ("filter=metric.F", "filter", "metric.F"),
        ("filter=metric.F<", "filter", "metric.F<"),
        ("sort=-weight", "sort", "weight"),
        ("limit=0", "limit", "0"),
        ("cursor=zz", "cursor", "zz"),
        ("format=xml", "format", "xml"),
        ("format=csv&sort=seed", "format", "csv"),
        ("page=2", "page", "2"),
    ];
    for (query, field, value) in cases {
        let path = format!("/v1/sweeps/{sweep_id}/runs?{}", query.replace('<', "%3C"));
        let problem = expect_problem(server.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], field, "{query}: {problem}");
        assert_eq!(problem["value"], value, "{query}: {problem}");
    }
    expect_problem(server.get("/v1/sweeps/999/runs").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn csv_streams_ten_thousand_runs() {
    let server = TestServer::start().await;
    let (sweep_id, forgetting) = completed_sweep(&server, 100, 100).await;

    let response = server.get(&format!("/v1/sweeps/{sweep_id}/runs?format=csv")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers().get("content-length").is_none(), "the body is streamed");
    let body = response.bytes().await.unwrap();

    let mut reader = csv::Reader::from_reader(body.as_ref());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap_or_else(|| panic!("no column {name}"));
    let (run_id, f, state, temperature) = (column("run_id"), column("F"), column("state"), column("config.dynamics.temperature"));
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let id: i64 = record[run_id].parse().unwrap();
        let value: f64 = record[f].parse().unwrap();
        assert_eq!(value, forgetting[&id], "F of run {id}");
        assert_eq!(&record[state], "done", "run {id}");
        assert!(record[temperature].parse::<f64>().unwrap() > 0.0, "run {id}");
        rows += 1;
    }
    assert_eq!(rows, 10_000);

    let accept = server
        .client
        .get(server.url(&format!("/v1/sweeps/{sweep_id}/runs?filter=seed=0")))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let text = accept.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 100, "header and one run per temperature");
}

#[tokio::test]
async fn run_detail_and_missing_run() {
    let server = TestServer::start().await;
    let (sweep_id, _) = completed_sweep(&server, 1, 1).await;
    let run_id = server.store.sweep_run_ids(sweep_id).await.unwrap()[0];

    let run = get_json(&server, &format!("/v1/runs/{run_id}")).await;
    assert_eq!(run["id"], run_id);
    assert_eq!(run["state"], "done");
    assert_eq!(run["config"]["dynamics"]["temperature"], 0.0001);
    assert_eq!(run["result"]["summary"]["LA"], 0.9);
    assert_eq!(run["result"]["accuracy"][1][1], 0.95);
    assert_eq!(run["result"]["series"]["step"][1], 10);
    assert_eq!(run["result"]["worker_id"], "synthetic-worker");

    let problem = expect_problem(server.get("/v1/runs/424242").await, StatusCode::NOT_FOUND).await;
    assert_eq!(problem["field"], "run_id");
}

#[tokio::test]
async fn fit_reports_and_plots() {
    let server = TestServer::start().await;
    let (sweep_id, _) = completed_sweep(&server, 8, 3).await;

    let report = get_json(&server, &format!("/v1/sweeps/{sweep_id}/fit?bootstrap=100&seed=5")).await;
    assert_eq!(report["n_used"], 24, "{report}");
    assert_eq!(report["method"], "envelope", "{report}");
    assert!(report["k"].as_f64().unwrap() > 0.0, "forgetting falls with sigma: {report}");
    assert_eq!(report["sigma_column"], "sigma_flux_mean");
    assert_eq!(report["baselines"], Value::Array(Vec::new()));

    let heat = get_json(&server, &format!("/v1/sweeps/{sweep_id}/fit?bootstrap=0&sigma=heat&method=ols")).await;
    assert_eq!(heat["sigma_column"], "sigma_heat_mean");
    assert_eq!(heat["method"], "ols");

    let svg = server.get(&format!("/v1/sweeps/{sweep_id}/fit.svg?bootstrap=0")).await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<svg"));

    let cases = [("method=median", "method"), ("q=high", "q"), ("sigma=work", "sigma"), ("min_la=60", "min_la")];
    for (query, field) in cases {
        let path = format!("/v1/sweeps/{sweep_id}/fit?{query}");
        let problem = expect_problem(server.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let empty = server.submit("application/toml", &grid_sweep(2, 1)).await;
    expect_problem(server.get(&format!("/v1/sweeps/{empty}/fit")).await, StatusCode::UNPROCESSABLE_ENTITY).await;
}
