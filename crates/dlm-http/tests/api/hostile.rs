//! Hostile strings in every free-text input: sweep names, string
//! configuration values, filter values and sort keys. SQL metacharacters,
//! LIKE wildcards, quotes, control characters, right-to-left marks, emoji
//! and very long strings must be stored and returned byte for byte, or be
//! rejected with a 4xx that names the field. The schema and the row counts
//! must survive every query.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::{SMALL_SWEEP_JSON, TestServer, expect_problem};

const SQL_INJECTION: &str = "'; DROP TABLE runs; --";

/// Strings a configuration value or sweep name may carry; none has
/// leading or trailing whitespace, which filters trim.
fn hostile_strings() -> Vec<String> {
    [
        SQL_INJECTION,
        "Robert'); DELETE FROM sweeps WHERE ('1'='1",
        "%",
        "_",
        "50%_off",
        "\\",
        "C:\\runs\\%TEMP%\\x",
        "\"double\" and 'single' quotes",
        "\u{202E}fdp.exe",
        "\u{05E9}\u{05DC}\u{05D5}\u{05DD} \u{0645}\u{0631}\u{062D}\u{0628}\u{0627}",
        "\u{1F980} \u{1F469}\u{200D}\u{1F52C} e\u{301}",
        "line1\nline2,\"x\"\r\tend",
        "<=>!=&filter=role=dlm#",
        "NaN",
        "1e3",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect()
}

/// A sweep with one run per value of `data.label_column`. The digits data
/// set ignores that column, so any string is a valid configuration.
fn label_sweep(name: &str, labels: &[String], data_path: &str) -> String {
    json!({
        "name": name,
        "seeds": 1,
        "base": {
            "tasks": {"kind": "split", "num_tasks": 2, "steps_per_task": 10},
            "data": {"path": data_path},
        },
        "grid": {"data.label_column": labels},
    })
    .to_string()
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    let response = server.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Percent-encodes every byte of `text` that is not unreserved in a URL.
fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Returns the label column of every run on one page of the listing.
fn page_labels(page: &Value) -> Vec<String> {
    page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["overrides"]["data.label_column"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn hostile_names_stored_verbatim() {
    let server = TestServer::start().await;
    let max_length_name = "\u{1F980}".repeat(dlm_sweep::MAX_NAME_CHARS);
    let mut names = hostile_strings();
    names.push(max_length_name);

    for name in &names {
        let document = SMALL_SWEEP_JSON.replace("\"small json sweep\"", &json!(name).to_string());
        let sweep_id = server.submit("application/json", &document).await;
        let sweep = get_json(&server, &format!("/v1/sweeps/{sweep_id}")).await;
        assert_eq!(sweep["name"].as_str(), Some(name.as_str()), "name of sweep {sweep_id}");
    }

    let page = get_json(&server, "/v1/sweeps?limit=500").await;
    let listed: BTreeSet<String> = page["sweeps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sweep| sweep["name"].as_str().unwrap().to_string())
        .collect();
    let submitted: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(listed, submitted, "the listing returns every name unchanged");

    // TOML and YAML carry the same name through their own quoting.
    let toml = format!(
        "name = {}\n[base.tasks]\nkind = \"split\"\nnum_tasks = 2\nsteps_per_task = 10\n",
        json!(SQL_INJECTION)
    );
    let yaml = format!("name: {}\nbase: {{tasks: {{kind: split, num_tasks: 2, steps_per_task: 10}}}}\n", json!(SQL_INJECTION));
    for (content_type, document) in [("application/toml", toml), ("application/yaml", yaml)] {
        let sweep_id = server.submit(content_type, &document).await;
        let sweep = get_json(&server, &format!("/v1/sweeps/{sweep_id}")).await;
        assert_eq!(sweep["name"], SQL_INJECTION, "{content_type}");
    }
    assert_eq!(server.table_counts().await.sweeps, names.len() as i64 + 2);
}

#[tokio::test]
async fn invalid_names_rejected_with_field() {
    let server = TestServer::start().await;
    let too_long = "x".repeat(dlm_sweep::MAX_NAME_CHARS + 1);
    // (name, words the reason must contain)
    let cases = [
        ("a\u{0}b", "U+0000"),
        ("\u{0}", "U+0000"),
        (too_long.as_str(), "maximum of 200"),
        ("", "visible"),
        (" \t\n", "visible"),
    ];

    for (name, reason) in cases {
        let document = SMALL_SWEEP_JSON.replace("\"small json sweep\"", &json!(name).to_string());
        let response = server.post("/v1/sweeps", "application/json", &document).await;
        let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "name", "{name:?}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{name:?}: {detail}");
    }
    assert_eq!(server.sweep_count().await, 0);
}

#[tokio::test]
async fn raw_nul_in_documents_rejected() {
    let server = TestServer::start().await;
    // A raw U+0000 byte, not the JSON escape: in a string, in a comment and
    // after the document.
    let cases = [
        ("application/json", "{\"name\": \"a\u{0}b\", \"seeds\": 1}".to_string()),
        ("application/json", format!("{SMALL_SWEEP_JSON}\u{0}")),
        ("application/toml", "name = \"a\u{0}b\"\n".to_string()),
        ("application/toml", "name = \"ok\"\n# comment \u{0}\n".to_string()),
        ("application/yaml", "name: a\u{0}b\n".to_string()),
        ("application/yaml", "name: ok\n# comment \u{0}\n".to_string()),
        ("application/yaml", "name: \"ok\"\nseeds: 1 \u{0}\n".to_string()),
    ];

    for (content_type, document) in cases {
        let response = server.post("/v1/sweeps", content_type, &document).await;
        let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(!detail.is_empty(), "{content_type} {document:?}: {problem}");
    }
    assert_eq!(server.table_counts().await.sweeps, 0, "a document with U+0000 was stored");
}

#[tokio::test]
async fn hostile_config_strings_round_trip() {
    let server = TestServer::start().await;
    let mut labels = hostile_strings();
    labels.push("a\u{0}b".to_string());
    labels.push("\u{1F980}".repeat(1024));
    labels.push("\u{05D0}x'%_\\".repeat(64 * 1024));
    let data_path = format!("/tmp/{SQL_INJECTION}/\u{202E}\u{1F980}%_\\.csv");
    let sweep_id = server.submit("application/json", &label_sweep("hostile labels", &labels, &data_path)).await;
    let expected: BTreeSet<String> = labels.iter().cloned().collect();

    let page = get_json(&server, &format!("/v1/sweeps/{sweep_id}/runs?limit=500")).await;
    let listed: BTreeSet<String> = page_labels(&page).into_iter().collect();
    assert_eq!(listed, expected, "the run listing returns every label unchanged");

    for run in page["runs"].as_array().unwrap() {
        let run_id = run["run_id"].as_i64().unwrap();
        let detail = get_json(&server, &format!("/v1/runs/{run_id}")).await;
        assert_eq!(detail["config"]["data"]["label_column"], run["overrides"]["data.label_column"], "run {run_id}");
        assert_eq!(detail["config"]["data"]["path"].as_str(), Some(data_path.as_str()), "run {run_id}");
    }

    let csv = server.get(&format!("/v1/sweeps/{sweep_id}/runs?format=csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let body = csv.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap_or_else(|| panic!("no column {name}"));
    let (label_column, path_column) = (column("config.data.label_column"), column("config.data.path"));
    let mut exported = BTreeSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(&record[path_column], data_path, "data.path in the CSV");
        exported.insert(record[label_column].to_string());
    }
    assert_eq!(exported, expected, "the CSV export returns every label unchanged");
}

#[tokio::test]
async fn hostile_filter_values_match_exactly() {
    let server = TestServer::start().await;
    let labels = hostile_strings();
    let sweep_id = server.submit("application/json", &label_sweep("filters", &labels, "x.csv")).await;
    let before = server.table_counts().await;
    let runs_path = format!("/v1/sweeps/{sweep_id}/runs");

    for label in &labels {
        let filter = encode(&format!("config.data.label_column={label}"));
        let page = get_json(&server, &format!("{runs_path}?limit=500&filter={filter}")).await;
        assert_eq!(page_labels(&page), vec![label.clone()], "filter on {label:?}");

        let filter = encode(&format!("config.data.label_column!={label}"));
        let page = get_json(&server, &format!("{runs_path}?limit=500&filter={filter}")).await;
        assert_eq!(page_labels(&page).len(), labels.len() - 1, "filter != {label:?}");
    }

    // Values that match nothing, whatever a database would make of them.
    let long_value = "x".repeat(4096);
    let unmatched = ["' OR '1'='1", "%%", "*", "' OR 1=1 --", "\u{0}", long_value.as_str()];
    for value in unmatched {
        for key in ["config.data.label_column", "role", "state", "metric.F"] {
            let filter = encode(&format!("{key}={value}"));
            let page = get_json(&server, &format!("{runs_path}?filter={filter}")).await;
            assert_eq!(page_labels(&page).len(), 0, "{key}={value:?} matched runs");
        }
    }

    let page = get_json(&server, &format!("{runs_path}?limit=500&sort=config.data.label_column")).await;
    let mut sorted = labels.clone();
    sorted.sort();
    assert_eq!(page_labels(&page), sorted, "text sorts by its UTF-8 bytes");

    assert_eq!(server.table_counts().await, before, "a filter changed the database");
}

#[tokio::test]
async fn hostile_keys_rejected_with_allowed_fields() {
    let server = TestServer::start().await;
    let sweep_id = server.submit("application/json", &label_sweep("keys", &hostile_strings(), "x.csv")).await;
    let before = server.table_counts().await;
    let runs_path = format!("/v1/sweeps/{sweep_id}/runs");
    let keys = [
        SQL_INJECTION,
        "run_id; DROP TABLE runs",
        "metric.F' OR '1'='1",
        "config.data.label_column OR 1",
        "config.%",
        "metric._",
        "\u{202E}di_nur",
        "\u{1F980}",
        "-",
        "",
    ];

    for key in keys {
        for (parameter, query) in [("sort", encode(key)), ("filter", encode(&format!("{key}=1")))] {
            let path = format!("{runs_path}?{parameter}={query}");
            let problem = expect_problem(server.get(&path).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(problem["field"], parameter, "{parameter} {key:?}: {problem}");
            let detail = problem["detail"].as_str().unwrap();
            for allowed in ["run_id", "seed", "role", "state", "diverged", "metric.F", "config.data.label_column"] {
                assert!(detail.contains(allowed), "{parameter} {key:?} does not list {allowed}: {detail}");
            }
        }
    }

    let unknown = format!("{runs_path}?{}=1", encode(SQL_INJECTION));
    let problem = expect_problem(server.get(&unknown).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["field"], SQL_INJECTION, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("filter, sort, limit, cursor or format"), "{detail}");

    for path in [format!("/v1/sweeps?cursor={}", encode(SQL_INJECTION)), format!("{runs_path}?cursor={}", encode(SQL_INJECTION))] {
        let problem = expect_problem(server.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"], "cursor", "{path}: {problem}");
        assert_eq!(problem["value"], SQL_INJECTION, "{path}: {problem}");
    }

    assert_eq!(server.table_counts().await, before, "a query changed the database");
}

#[tokio::test]
async fn hostile_grid_paths_rejected_with_field() {
    let server = TestServer::start().await;
    let paths = [SQL_INJECTION, "dynamics.temperature'; --", "data.\u{0}", "\u{1F980}.\u{202E}", "%.%"];

    for path in paths {
        let document = json!({"name": "paths", "grid": {path: [1]}}).to_string();
        let response = server.post("/v1/sweeps", "application/json", &document).await;
        let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["field"].as_str(), Some(path), "{path:?}: {problem}");
    }
    assert_eq!(server.sweep_count().await, 0);
}
