//! A sweep export written as CSV and fitted by the `dlm fit` binary gives
//! the same fit as the export's rows fitted directly.

use std::process::Command;

use dlm_coordinator::export::CsvLayout;
use dlm_fit::{FitColumns, FitOptions, fit};
use dlm_store::{ExportRow, RunState};

/// Twenty-one runs in seven configurations of three seeds, with sigma and F
/// scattered around a falling line, one diverged run, one run without a
/// result and one with an undefined sigma.
fn export_rows() -> Vec<ExportRow> {
    let mut rows = Vec::new();
    for index in 0..21_u64 {
        let configuration = index / 3;
        let coupling = if configuration % 2 == 0 {
            "tanh"
        } else {
            "linear"
        };
        let canonical_config = format!(
            r#"{{"dynamics":{{"alpha":{},"coupling":"{coupling}","temperature":1e-5}},"model":{{"hidden":[16]}}}}"#,
            configuration as f64 * 0.01
        );
        // A fixed scatter: sigma grows with the index, F falls with sigma
        // and wobbles by the seed.
        let sigma = 37.5 * index as f64 + (index % 3) as f64 * 11.0;
        let forgetting = 0.4 * (-sigma / 300.0).exp() * (1.0 + 0.15 * ((index * 7) % 5) as f64);
        let has_result = index != 19;
        let metrics = if has_result {
            dlm_sim::Summary::METRIC_NAMES
                .iter()
                .map(|name| {
                    let value = match *name {
                        "sigma_flux_mean" => (index != 20).then_some(sigma),
                        "F" => Some(forgetting),
                        "LA" => Some(0.8 + 0.01 * configuration as f64),
                        _ => Some(0.25),
                    };
                    (name.to_string(), value)
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(ExportRow {
            run_id: 100 + index as i64,
            run_key: format!("key-{index}"),
            config_hash: format!("config-{configuration}"),
            seed: index % 3,
            role: "dlm".to_string(),
            point_index: configuration,
            state: if has_result {
                RunState::Done
            } else {
                RunState::Queued
            },
            canonical_config,
            overrides: "{}".to_string(),
            diverged: has_result.then_some(index == 5),
            diverged_step: (index == 5).then_some(300),
            metrics,
            duration_seconds: has_result.then_some(1.25),
        });
    }
    rows
}

/// Asserts that two JSON values are equal, numbers up to a relative
/// difference of 1e-12: the `dlm` binary and this test are separate
/// builds of the fit code, and their last digits of a floating-point
/// result were seen to differ.
fn assert_same_json(left: &serde_json::Value, right: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let scale = a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
            assert!(
                (a - b).abs() / scale <= 1e-12,
                "{path}: {a} differs from {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: lengths differ");
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same_json(x, y, &format!("{path}[{index}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let a_keys: Vec<&String> = a.keys().collect();
            let b_keys: Vec<&String> = b.keys().collect();
            assert_eq!(a_keys, b_keys, "{path}: keys differ");
            for (key, x) in a {
                assert_same_json(x, &b[key], &format!("{path}.{key}"));
            }
        }
        _ => assert_eq!(left, right, "{path}"),
    }
}

#[test]
fn csv_fit_matches_direct_fit() {
    let rows = export_rows();
    let layout = CsvLayout::from_rows(&rows).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("runs.csv");
    let mut writer = csv::Writer::from_path(&path).unwrap();
    layout.write_header(&mut writer).unwrap();
    for row in &rows {
        layout.write_row(&mut writer, row).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);

    let output = Command::new(env!("CARGO_BIN_EXE_dlm"))
        .args(["fit", "--input", path.to_str().unwrap()])
        .args(["--sigma-column", "sigma_flux_mean", "--json"])
        .args(["--bootstrap", "200", "--permutations", "99", "--seed", "3"])
        .output()
        .expect("the dlm binary starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "dlm fit failed: {stderr}");
    let from_csv: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let columns = FitColumns {
        sigma: "sigma_flux_mean".to_string(),
        forgetting: "F".to_string(),
        group: None,
        label: Some("config.dynamics.coupling".to_string()),
    };
    let points: Vec<_> = rows
        .iter()
        .map(|row| layout.fit_point(row, &columns).unwrap())
        .collect();
    let options = FitOptions {
        bootstrap: 200,
        permutations: 99,
        seed: 3,
        ..FitOptions::default()
    };
    let direct = serde_json::to_value(fit(&points, &options).unwrap()).unwrap();

    assert_same_json(&from_csv, &direct, "report");
    assert_eq!(
        direct["n_used"], 18,
        "21 runs less diverged, unfinished and undefined"
    );
    assert_eq!(direct["n_excluded"]["diverged"], 1);
}
