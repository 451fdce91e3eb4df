//! `dlm run` end to end: the built binary on configuration files the tests write.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run_dlm(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlm"))
        .args(arguments)
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("the dlm binary starts")
}

fn write_file(directory: &Path, name: &str, text: &str) -> String {
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const SHORT_RUN: &str =
    "[tasks]\nnum_tasks = 2\nsteps_per_task = 200\n[dynamics]\ntemperature = 1e-5\n";

#[test]
fn json_output_has_every_key() {
    let directory = tempfile::tempdir().unwrap();
    let config = write_file(directory.path(), "run.toml", SHORT_RUN);
    let output = run_dlm(&["run", "--config", &config, "--seed", "3", "--json"]);
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON object on one line: {stdout}"
    );
    let object: Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "R",
        "F",
        "forgetting_rate",
        "BWT",
        "FWT",
        "ACC",
        "LA",
        "sigma_flux_mean",
        "sigma_heat_mean",
        "beta",
        "diverged",
        "steps",
        "steps_per_second",
    ] {
        assert!(object.get(key).is_some(), "missing key {key} in {stdout}");
    }
    assert_eq!(object["steps"], 400);
    assert_eq!(object["diverged"], false);
    assert_eq!(object["R"].as_array().unwrap().len(), 3);
    assert!(object["steps_per_second"].as_f64().unwrap() > 0.0);
    assert!(object["sigma_flux_mean"].is_number());
}

#[test]
fn json_configuration_gives_the_same_run() {
    let directory = tempfile::tempdir().unwrap();
    let toml_path = write_file(directory.path(), "run.toml", SHORT_RUN);
    let json_path = write_file(
        directory.path(),
        "run.json",
        r#"{"tasks": {"num_tasks": 2, "steps_per_task": 200}, "dynamics": {"temperature": 1e-5}}"#,
    );
    let from_toml: Value =
        serde_json::from_slice(&run_dlm(&["run", "--config", &toml_path, "--json"]).stdout)
            .unwrap();
    let from_json: Value =
        serde_json::from_slice(&run_dlm(&["run", "--config", &json_path, "--json"]).stdout)
            .unwrap();
    assert_eq!(from_toml["R"], from_json["R"]);
    assert_eq!(from_toml["F"], from_json["F"]);
    assert_eq!(from_toml["config_hash"], from_json["config_hash"]);
}

#[test]
fn readable_summary_shows_the_matrix_and_metrics() {
    let directory = tempfile::tempdir().unwrap();
    let config = write_file(directory.path(), "run.toml", SHORT_RUN);
    let output = run_dlm(&["run", "--config", &config]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for part in [
        "task 1",
        "task 2",
        "F ",
        "BWT",
        "ACC",
        "LA",
        "sigma_flux_mean",
        "beta",
        "wall time",
        "steps/s",
    ] {
        assert!(stdout.contains(part), "missing {part:?} in\n{stdout}");
    }
}

struct InvalidCase {
    name: &'static str,
    text: &'static str,
    message_part: &'static str,
}

#[test]
fn invalid_input_fails_with_one_line() {
    let cases = [
        InvalidCase {
            name: "gamma.toml",
            text: "[dynamics]\ngamma = 12\n",
            message_part: "invalid dynamics.gamma = 12: gamma*dt must be below 1",
        },
        InvalidCase {
            name: "coupling.toml",
            text: "[dynamics]\ncoupling = \"cubic\"\n",
            message_part: "invalid dynamics.coupling",
        },
        InvalidCase {
            name: "broken.toml",
            text: "[dynamics\n",
            message_part: "not valid TOML",
        },
        InvalidCase {
            name: "run.yaml",
            text: "dynamics: {}\n",
            message_part: "use a .toml or .json file",
        },
        InvalidCase {
            name: "missing-data.toml",
            text: "[data]\ndataset = \"csv\"\npath = \"/nonexistent/runs.csv\"\n",
            message_part: "failed to load data from /nonexistent/runs.csv",
        },
    ];
    let directory = tempfile::tempdir().unwrap();
    for case in cases {
        let config = write_file(directory.path(), case.name, case.text);
        let output = run_dlm(&["run", "--config", &config]);
        assert!(!output.status.success(), "{}: exit code 0", case.name);
        let stderr = String::from_utf8(output.stderr).unwrap();
        let error_lines: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        assert_eq!(
            error_lines.len(),
            1,
            "{}: expected one line, got\n{stderr}",
            case.name
        );
        assert!(
            error_lines[0].contains(case.message_part),
            "{}: {stderr}",
            case.name
        );
    }

    let output = run_dlm(&["run", "--config", "/nonexistent/run.toml"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/run.toml"));
}
