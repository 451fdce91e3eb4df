//! Submitting, listing, inspecting and cancelling sweeps, and the failures
//! of each.

use dlm_coordinator::Token;
use dlm_http::HttpSettings;
use reqwest::StatusCode;
use serde_json::Value;

use crate::server::{SMALL_SWEEP_JSON, TINY_SWEEP_TOML, TestServer, expect_problem};

#[tokio::test]
async fn submit_in_each_format() {
    let server = TestServer::start().await;
    let yaml = "name: yaml sweep\nseeds: 3\nbase:\n  tasks: {kind: split, num_tasks: 2, steps_per_task: 20}\n";
    let cases = [
        ("application/toml", TINY_SWEEP_TOML, 10),
        ("application/json", SMALL_SWEEP_JSON, 2),
        ("application/yaml; charset=utf-8", yaml, 3),
    ];

    for (content_type, document, runs) in cases {
        let response = server.post("/v1/sweeps", content_type, document).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{content_type}");
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["runs"], runs, "{content_type}: {body}");
        assert_eq!(body["reused"], 0, "{content_type}: {body}");
        let sweep_id = body["sweep_id"].as_i64().unwrap();
        assert_eq!(location, format!("/v1/sweeps/{sweep_id}"));
    }
    assert_eq!(server.sweep_count().await, 3);
}

#[tokio::test]
async fn submit_rejections_store_nothing() {
    let server = TestServer::start().await;
    let unknown_field = SMALL_SWEEP_JSON.replace("\"seeds\": 1", "\"seeds\": 1, \"colour\": 3");
    let invalid_value = SMALL_SWEEP_JSON.replace("\"seeds\": 1", "\"seeds\": -2");
    let invalid_point = SMALL_SWEEP_JSON.replace("[0.0001, 0.001]", "[0.0001, -5.0]");
    // (content type, body, status, expected field, expected value)
    let cases: [(&str, &str, StatusCode, Option<&str>, Option<&str>); 6] = [
        ("application/json", "{\"name\": ", StatusCode::BAD_REQUEST, None, None),
        ("application/json", &unknown_field, StatusCode::BAD_REQUEST, Some("colour"), Some("colour")),
        ("application/json", &invalid_value, StatusCode::BAD_REQUEST, Some("seeds"), Some("-2")),
        ("application/json", &invalid_point, StatusCode::BAD_REQUEST, Some("dynamics.temperature"), None),
        ("application/toml", "name = [", StatusCode::BAD_REQUEST, None, None),
        ("text/plain", SMALL_SWEEP_JSON, StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("content-type"), Some("text/plain")),
    ];

    for (content_type, body, status, field, value) in cases {
        let response = server.post("/v1/sweeps", content_type, body).await;
        let problem = expect_problem(response, status).await;
        if let Some(field) = field {
            assert_eq!(problem["field"].as_str(), Some(field), "field of {problem}");
        }
        if let Some(value) = value {
            assert_eq!(problem["value"].as_str(), Some(value), "value of {problem}");
        }
    }
    assert_eq!(server.sweep_count().await, 0, "a rejected sweep was stored");
}

#[tokio::test]
async fn oversized_body_rejected() {
    let settings = HttpSettings {
        max_body_bytes: 1024,
        ..HttpSettings::default()
    };
    let server = TestServer::with_settings(settings).await;
    let padding = " ".repeat(2048);
    let body = format!("{SMALL_SWEEP_JSON}{padding}");

    let response = server.post("/v1/sweeps", "application/json", &body).await;
    let problem = expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(problem["detail"].as_str().unwrap().contains("limit"), "{problem}");

    // Without a Content-Length the limit applies while the body is read.
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(body.clone())];
    let response = server
        .client
        .post(server.url("/v1/sweeps"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(server.sweep_count().await, 0);
}

#[tokio::test]
async fn token_required_for_posts() {
    let settings = HttpSettings {
        api_token: Token::new("s3cret-token"),
        ..HttpSettings::default()
    };
    let server = TestServer::with_settings(settings).await;
    let cases = [(None, "missing"), (Some("Bearer wrong"), "wrong"), (Some("s3cret-token"), "missing")];

    for (authorization, reason) in cases {
        let mut request = server
            .client
            .post(server.url("/v1/sweeps"))
            .header("content-type", "application/json")
            .body(SMALL_SWEEP_JSON);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let problem = expect_problem(request.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.starts_with(reason), "{authorization:?}: {detail}");
        assert!(!detail.contains("s3cret"), "the token leaked: {detail}");
    }
    let cancel = server.client.post(server.url("/v1/sweeps/1/cancel")).send().await.unwrap();
    expect_problem(cancel, StatusCode::UNAUTHORIZED).await;
    assert_eq!(server.sweep_count().await, 0);

    let accepted = server
        .client
        .post(server.url("/v1/sweeps"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer s3cret-token")
        .body(SMALL_SWEEP_JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let list = server.get("/v1/sweeps").await;
    assert_eq!(list.status(), StatusCode::OK, "reads need no token");
}

#[tokio::test]
async fn get_reports_counts_and_progress() {
    let server = TestServer::start().await;
    let sweep_id = server.submit("application/toml", TINY_SWEEP_TOML).await;

    let response = server.get(&format!("/v1/sweeps/{sweep_id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let sweep: Value = response.json().await.unwrap();
    assert_eq!(sweep["id"], sweep_id);
    assert_eq!(sweep["name"], "tiny split-digits sweep");
    assert_eq!(sweep["state"], "running");
    assert_eq!(sweep["run_count"], 10);
    assert_eq!(sweep["counts"]["queued"], 10);
    assert_eq!(sweep["counts"]["done"], 0);
    assert_eq!(sweep["progress"], 0.0);
    assert!(sweep["eta_seconds"].is_null(), "{sweep}");
    assert!(sweep["created_at"].is_string(), "{sweep}");
}

#[tokio::test]
async fn unknown_and_invalid_ids() {
    let server = TestServer::start().await;
    let cases = [
        ("GET", "/v1/sweeps/999", StatusCode::NOT_FOUND),
        ("POST", "/v1/sweeps/999/cancel", StatusCode::NOT_FOUND),
        ("GET", "/v1/sweeps/abc", StatusCode::BAD_REQUEST),
        ("GET", "/v1/nothing-here", StatusCode::NOT_FOUND),
        ("DELETE", "/v1/sweeps/1", StatusCode::METHOD_NOT_ALLOWED),
    ];

    for (method, path, status) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = server.client.request(method, server.url(path)).send().await.unwrap();
        let problem = expect_problem(response, status).await;
        if status == StatusCode::NOT_FOUND && path.starts_with("/v1/sweeps") {
            assert_eq!(problem["field"], "sweep_id", "{problem}");
            assert_eq!(problem["value"], "999", "{problem}");
        }
    }
}

#[tokio::test]
async fn list_pages_with_cursor() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(server.submit("application/json", SMALL_SWEEP_JSON).await);
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut path = "/v1/sweeps?limit=2".to_string();
    loop {
        let page: Value = server.get(&path).await.json().await.unwrap();
        for sweep in page["sweeps"].as_array().unwrap() {
            seen.push(sweep["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/sweeps?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "newest first, each sweep once");

    let cases = [
        ("/v1/sweeps?limit=0", "limit", "0"),
        ("/v1/sweeps?limit=many", "limit", "many"),
        ("/v1/sweeps?cursor=xyz", "cursor", "xyz"),
    ];
    for (path, field, value) in cases {
        let problem = expect_problem(server.get(path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], field, "{path}: {problem}");
        assert_eq!(problem["value"], value, "{path}: {problem}");
    }
    let unknown = expect_problem(server.get("/v1/sweeps?page=2").await, StatusCode::BAD_REQUEST).await;
    assert!(unknown["detail"].as_str().unwrap().contains("page"), "{unknown}");
}

#[tokio::test]
async fn cancel_is_idempotent() {
    let server = TestServer::start().await;
    let sweep_id = server.submit("application/json", SMALL_SWEEP_JSON).await;

    for _ in 0..2 {
        let response = server
            .client
            .post(server.url(&format!("/v1/sweeps/{sweep_id}/cancel")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let sweep: Value = response.json().await.unwrap();
        assert_eq!(sweep["state"], "cancelled");
        assert_eq!(sweep["counts"]["cancelled"], 2);
        assert!(sweep["cancelled_at"].is_string(), "{sweep}");
    }
}
