//! Health, readiness, metrics and the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::server::{TestServer, expect_problem};

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::start().await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");

    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");

    // A closed pool behaves like an unreachable database.
    server.store.close().await;
    let problem = expect_problem(server.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("database"), "{problem}");
}

#[tokio::test]
async fn metrics_list_runs_by_state() {
    let server = TestServer::start().await;
    server.submit("application/json", crate::server::SMALL_SWEEP_JSON).await;

    let response = server.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let expected_lines = [
        "dlm_runs{state=\"queued\"} 2",
        "dlm_runs{state=\"done\"} 0",
        "dlm_active_workers 0",
        "# TYPE dlm_runs gauge",
    ];
    for line in expected_lines {
        assert!(text.lines().any(|actual| actual == line), "missing {line:?} in:\n{text}");
    }
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let server = TestServer::start().await;
    let response = server.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();

    // oas3 parses OpenAPI 3.1 documents into typed structures and fails on
    // members of the wrong type or a missing required member.
    let spec = oas3::from_json(&text).expect("the document is valid OpenAPI 3.1");
    assert!(spec.openapi.starts_with("3.1"), "version {}", spec.openapi);

    let document: Value = serde_json::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
        "POST /v1/sweeps",
        "GET /v1/sweeps",
        "GET /v1/sweeps/{id}",
        "POST /v1/sweeps/{id}/cancel",
        "GET /v1/sweeps/{id}/runs",
        "GET /v1/sweeps/{id}/fit",
        "GET /v1/sweeps/{id}/fit.svg",
        "GET /v1/runs/{id}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(routes, expected);
}
