//! `dlm fit` end to end: the built binary on CSV files the tests write.

use std::path::Path;
use std::process::{Command, Output};

fn run_dlm(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlm"))
        .args(arguments)
        .output()
        .expect("the dlm binary starts")
}

fn write_csv(directory: &Path, name: &str, text: &str) -> String {
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Twelve runs on F = 0.5 exp(-sigma / 2000) in four configurations, plus
/// one diverged run, one with empty sigma, one with "null" F, one with
/// F = 0 and one below the accuracy threshold.
fn sweep_csv() -> String {
    let mut text = String::from("config_hash,seed,coupling,T,sigma,F,LA,diverged\n");
    for row in 0..12 {
        let sigma = 250.0 * row as f64;
        let forgetting = 0.5 * (-sigma / 2000.0_f64).exp();
        let temperature = if row < 6 { "0.01" } else { "0.1" };
        let coupling = if row % 2 == 0 { "tanh" } else { "linear" };
        text.push_str(&format!(
            "c{},{},{coupling},{temperature},{sigma:e},{forgetting:e},0.9,false\n",
            row / 3,
            row % 3
        ));
    }
    text.push_str("c9,0,tanh,0.1,100,0.2,0.9,true\n");
    text.push_str("c9,1,tanh,0.1,,0.2,0.9,false\n");
    text.push_str("c9,2,tanh,0.1,100,null,0.9,false\n");
    text.push_str("c9,3,tanh,0.1,100,0,0.9,false\n");
    text.push_str("c9,4,tanh,0.1,100,0.2,0.1,false\n");
    text
}

/// Writes the sweep CSV into a new temporary directory and returns both.
fn sweep_input() -> (tempfile::TempDir, String) {
    let directory = tempfile::tempdir().unwrap();
    let input = write_csv(directory.path(), "runs.csv", &sweep_csv());
    (directory, input)
}

#[test]
fn fit_json_reports_exact_bound() {
    let (directory, input) = sweep_input();
    let plot = directory.path().join("fit.svg");

    for method in ["envelope", "quantile", "ols"] {
        let output = run_dlm(&[
            "fit",
            "--input",
            &input,
            "--method",
            method,
            "--min-la",
            "0.5",
            "--bootstrap",
            "200",
            "--seed",
            "4",
            "--plot",
            plot.to_str().unwrap(),
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{method}: {stderr}");

        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        for key in [
            "method",
            "F0",
            "k",
            "sigma0",
            "F0_ci",
            "k_ci",
            "n_used",
            "n_excluded",
            "share_above",
            "spearman_rho",
            "spearman_p",
            "verdict",
        ] {
            assert!(
                report.get(key).is_some(),
                "{method}: key {key} missing from {report}"
            );
        }

        assert_eq!(report["method"], method);
        assert!(
            (report["F0"].as_f64().unwrap() - 0.5).abs() < 1e-9,
            "{method}: {}",
            report["F0"]
        );
        assert!(
            (report["sigma0"].as_f64().unwrap() - 2000.0).abs() < 1e-6,
            "{method}: {}",
            report["sigma0"]
        );
        assert_eq!(report["n_used"], 12);
        assert_eq!(report["n_excluded"]["diverged"], 1);
        assert_eq!(report["n_excluded"]["sigma_undefined"], 1);
        assert_eq!(report["n_excluded"]["forgetting_missing"], 1);
        assert_eq!(report["n_excluded"]["forgetting_not_positive"], 1);
        assert_eq!(report["n_excluded"]["learning_accuracy_below_threshold"], 1);
        assert_eq!(report["verdict"], "supported");
        assert_eq!(report["spearman_rho"], -1.0);

        let svg = std::fs::read_to_string(&plot).unwrap();
        assert_eq!(
            svg.matches("<circle").count(),
            14,
            "{method}: 12 used runs, F = 0 and no-sigma runs not drawn"
        );
    }
}

#[test]
fn fit_groups_and_both_scales() {
    let (_directory, input) = sweep_input();

    let output = run_dlm(&[
        "fit",
        "--input",
        &input,
        "--group-by",
        "T",
        "--x-scale",
        "both",
        "--bootstrap",
        "50",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(report["x_scale"], "linear");
    assert_eq!(report["log_scale"]["x_scale"], "log");
    assert_eq!(
        report["log_scale"]["n_excluded"]["sigma_not_positive"], 1,
        "the run at sigma = 0"
    );
    assert_eq!(report["group_by"], "T");

    let groups = report["groups"].as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .map(|group| group["group"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["0.01", "0.1"]);
    for group in groups {
        let k = group["fit"]["k"].as_f64().unwrap();
        assert!(
            (k - 1.0 / 2000.0).abs() < 1e-12,
            "group {}: k = {k}",
            group["group"]
        );
    }
}

#[test]
fn fit_human_output_states_verdict() {
    let (_directory, input) = sweep_input();

    let output = run_dlm(&[
        "fit",
        "--input",
        &input,
        "--method",
        "quantile",
        "--min-la",
        "0.5",
        "--bootstrap",
        "100",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("verdict: supported"), "{stdout}");
    assert!(stdout.contains("k (decay rate)"), "{stdout}");
    assert!(stdout.contains("diverged 1"), "{stdout}");
}

#[test]
fn fit_invalid_input_fails_clearly() {
    let directory = tempfile::tempdir().unwrap();
    let good = write_csv(directory.path(), "runs.csv", &sweep_csv());
    let bad_number = write_csv(
        directory.path(),
        "bad.csv",
        "sigma,F\n1,0.1\n2,abc\n3,0.05\n",
    );
    let nan = write_csv(
        directory.path(),
        "nan.csv",
        "sigma,F\n1,0.1\nNaN,0.2\n3,0.05\n",
    );
    let few = write_csv(directory.path(), "few.csv", "sigma,F\n1,0.1\n2,0.05\n");
    let flat = write_csv(
        directory.path(),
        "flat.csv",
        "sigma,F\n7,0.1\n7,0.05\n7,0.2\n",
    );

    let cases: [(&[&str], &str); 7] = [
        (
            &["fit", "--input", &good, "--sigma-column", "sigma_heat"],
            "column \"sigma_heat\" not found",
        ),
        (
            &["fit", "--input", &bad_number],
            "line 3: invalid number \"abc\" in column \"F\"",
        ),
        (
            &["fit", "--input", &nan],
            "invalid sigma = NaN in row line 3",
        ),
        (&["fit", "--input", &few], "too few usable points"),
        (&["fit", "--input", &flat], "same sigma = 7"),
        (
            &[
                "fit", "--input", &good, "--method", "quantile", "--q", "1.5",
            ],
            "invalid q = 1.5",
        ),
        (
            &["fit", "--input", &bad_number, "--min-la", "0.5"],
            "needs a learning-accuracy column",
        ),
    ];

    for (arguments, expected) in cases {
        let output = run_dlm(arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert!(!output.status.success(), "{arguments:?} succeeded");
        assert!(
            stderr.contains(expected),
            "{arguments:?}: expected {expected:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{arguments:?}: {stderr}");
    }
}

#[test]
fn fit_line_numbers_for_crlf_and_lf() {
    let directory = tempfile::tempdir().unwrap();
    for (name, end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let text = ["sigma,F,diverged", "1,0.1,false", "2,0.2,maybe", ""].join(end);
        let input = write_csv(directory.path(), name, &text);

        let output = run_dlm(&["fit", "--input", &input]);
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert!(
            stderr.contains("line 3: invalid diverged value \"maybe\""),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn fit_ids_name_data_lines() {
    let directory = tempfile::tempdir().unwrap();
    for (name, end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let text = ["sigma,F", "1e6,0.1", "1,0.3", "2,0.2", "3,0.25", ""].join(end);
        let input = write_csv(directory.path(), name, &text);

        let output = run_dlm(&["fit", "--input", &input, "--json", "--bootstrap", "0"]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

        assert_eq!(report["leverage"][0]["id"], "line 2", "{name}");
    }
}

#[test]
fn fit_warnings_in_json_and_text() {
    let directory = tempfile::tempdir().unwrap();
    let mut text = String::from("sigma,F\n");
    for row in 0..12 {
        text.push_str(&format!("{},{}\n", 1 + row, 0.1 + 0.01 * (row % 5) as f64));
    }
    text.push_str("5.5e30,0.02\n");
    let input = write_csv(directory.path(), "runaway.csv", &text);

    let json = run_dlm(&["fit", "--input", &input, "--json", "--bootstrap", "100"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let human = run_dlm(&["fit", "--input", &input, "--bootstrap", "100"]);
    let stdout = String::from_utf8_lossy(&human.stdout);

    let kinds: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|warning| warning["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"high_leverage"), "{kinds:?}");
    assert!(
        stdout.contains("warning: the fit rests on run line 14 (leverage 1.00)"),
        "{stdout}"
    );
}

#[test]
fn fit_log_scale_names_sigma0_unit() {
    let (_directory, input) = sweep_input();

    let output = run_dlm(&[
        "fit",
        "--input",
        &input,
        "--x-scale",
        "log",
        "--bootstrap",
        "0",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("decades of sigma"), "{stdout}");
}

#[test]
fn fit_options_validated_by_use() {
    let (_directory, input) = sweep_input();
    let directory = tempfile::tempdir().unwrap();
    let empty = write_csv(directory.path(), "empty.csv", "");

    let unused_q = run_dlm(&[
        "fit", "--input", &input, "--method", "envelope", "--q", "1.5",
    ]);
    let percent = run_dlm(&["fit", "--input", &input, "--min-la", "80"]);
    let empty_file = run_dlm(&["fit", "--input", &empty]);
    let percent_error = String::from_utf8_lossy(&percent.stderr);
    let empty_error = String::from_utf8_lossy(&empty_file.stderr);

    assert!(
        unused_q.status.success(),
        "{}",
        String::from_utf8_lossy(&unused_q.stderr)
    );
    assert!(!percent.status.success());
    assert!(
        percent_error.contains("invalid --min-la 80: learning accuracy is a fraction from 0 to 1"),
        "{percent_error}"
    );
    assert!(!empty_file.status.success());
    assert!(empty_error.contains("the file is empty"), "{empty_error}");
}

#[test]
fn fit_help_names_values() {
    let output = run_dlm(&["fit", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);

    assert!(help.contains("--input <FILE>"), "{help}");
    assert!(help.contains("--plot <PATH>"), "{help}");
    assert!(help.contains("--min-la <FRACTION>"), "{help}");
}
