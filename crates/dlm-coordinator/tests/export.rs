//! The CSV export of stored sweeps, on PostgreSQL and on SQLite: the fixed
//! columns, the union of configuration keys, paging past one page, and fit
//! points that match what `dlm fit` reads from the written file.

use std::collections::HashMap;
use std::time::Duration;

use dlm_coordinator::export::{CsvLayout, EXPORT_PAGE_SIZE, write_sweep_csv};
use dlm_fit::{FitColumns, fit_point_from_cells};
use dlm_store::{LeaseRequest, NewRun, NewSweep, RunResult, Store};

const MODEL_VERSION: &str = "export-test-1";

/// Run i is one of three configurations; every third run sets an extra key
/// (`dynamics.sgld_eta`) that the others lack.
fn new_run(index: u64) -> NewRun {
    let configuration = index % 3;
    let canonical_config = if configuration == 2 {
        r#"{"dynamics":{"alpha":0.0,"coupling":"tanh","sgld_eta":0.5},"model":{"hidden":[8,8]}}"#
            .to_string()
    } else {
        format!(
            r#"{{"dynamics":{{"alpha":0.0{configuration},"coupling":"linear"}},"model":{{"hidden":[8,8]}}}}"#
        )
    };
    NewRun {
        run_key: format!("key-{index:06}"),
        config_hash: format!("config-{configuration}"),
        seed: index,
        model_version: MODEL_VERSION.to_string(),
        canonical_config,
        role: if configuration == 2 { "sgd" } else { "dlm" }.to_string(),
        point_index: configuration,
        overrides_json: "{}".to_string(),
    }
}

/// Builds a result whose sigma and F are derived from the seed, with the metric
/// `beta` undefined.
fn result_for(seed: u64) -> RunResult {
    let metrics = dlm_sim::Summary::METRIC_NAMES
        .iter()
        .map(|name| {
            let value = match *name {
                "sigma_flux_mean" => Some(seed as f64 * 0.1 + 0.05),
                "F" => Some(1.0 / (seed as f64 + 2.0)),
                "LA" => Some(0.9),
                "beta" => None,
                _ => Some(1.5),
            };
            (name.to_string(), value)
        })
        .collect();
    RunResult {
        metrics,
        diverged: seed == 4,
        diverged_step: (seed == 4).then_some(17),
        accuracy_json: "[[0.5]]".to_string(),
        series_json: "{}".to_string(),
        duration_seconds: 0.5,
    }
}

/// Stores a sweep of `count` runs and completes all but the last.
async fn stored_sweep(store: &Store, count: u64) -> i64 {
    let sweep = NewSweep {
        name: "export".to_string(),
        document: String::new(),
        format: "toml".to_string(),
    };
    let runs: Vec<NewRun> = (0..count).map(new_run).collect();
    let mut writer = store.begin_sweep(&sweep).await.unwrap();
    for batch in runs.chunks(500) {
        writer.add_runs(batch).await.unwrap();
    }
    let sweep_id = writer.commit().await.unwrap().sweep_id;

    let request = LeaseRequest {
        worker_id: "w".to_string(),
        max_runs: (count - 1) as u32,
        model_version: MODEL_VERSION.to_string(),
        duration: Duration::from_secs(600),
    };
    for lease in store.lease(&request).await.unwrap() {
        let result = result_for(lease.seed);
        store
            .complete("w", lease.reference(), &result)
            .await
            .unwrap();
    }
    sweep_id
}

fn fit_columns() -> FitColumns {
    FitColumns {
        sigma: "sigma_flux_mean".to_string(),
        forgetting: "F".to_string(),
        group: Some("config.dynamics.coupling".to_string()),
        label: Some("config.dynamics.coupling".to_string()),
    }
}

async fn csv_has_fixed_and_config_columns(store: &Store) {
    let sweep_id = stored_sweep(store, 7).await;
    let mut output = Vec::new();
    let written = write_sweep_csv(store, sweep_id, &mut output).await.unwrap();
    assert_eq!(written, 7);

    let mut reader = csv::Reader::from_reader(output.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let mut expected_header: Vec<String> =
        ["run_id", "seed", "role", "config_hash", "state", "diverged"]
            .iter()
            .chain(dlm_sim::Summary::METRIC_NAMES)
            .map(|name| name.to_string())
            .collect();
    expected_header.extend([
        "config.dynamics.alpha".to_string(),
        "config.dynamics.coupling".to_string(),
        "config.dynamics.sgld_eta".to_string(),
        "config.model.hidden".to_string(),
    ]);
    assert_eq!(header, expected_header);

    let rows: Vec<HashMap<String, String>> = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 7);

    let first = &rows[0];
    assert_eq!(first["seed"], "0");
    assert_eq!(first["role"], "dlm");
    assert_eq!(first["config_hash"], "config-0");
    assert_eq!(first["state"], "done");
    assert_eq!(first["diverged"], "false");
    assert_eq!(first["sigma_flux_mean"], "0.05");
    assert_eq!(first["F"], "0.5");
    assert_eq!(first["beta"], "", "an undefined metric is an empty cell");
    assert_eq!(first["config.dynamics.alpha"], "0.0");
    assert_eq!(first["config.dynamics.coupling"], "linear");
    assert_eq!(
        first["config.dynamics.sgld_eta"], "",
        "a key the run lacks is empty"
    );
    assert_eq!(first["config.model.hidden"], "[8,8]");

    let baseline = &rows[2];
    assert_eq!(baseline["role"], "sgd");
    assert_eq!(baseline["config.dynamics.sgld_eta"], "0.5");

    assert_eq!(rows[4]["diverged"], "true");

    let unfinished = &rows[6];
    assert_eq!(unfinished["state"], "queued");
    assert_eq!(unfinished["diverged"], "");
    assert_eq!(unfinished["F"], "");
}

async fn csv_rows_give_the_direct_fit_points(store: &Store) {
    let sweep_id = stored_sweep(store, 9).await;
    let layout = CsvLayout::for_sweep(store, sweep_id).await.unwrap();
    let rows = store.export_page(sweep_id, None, 100).await.unwrap();
    assert_eq!(layout, CsvLayout::from_rows(&rows).unwrap());
    let columns = fit_columns();
    let direct: Vec<_> = rows
        .iter()
        .map(|row| layout.fit_point(row, &columns).unwrap())
        .collect();

    let mut output = Vec::new();
    write_sweep_csv(store, sweep_id, &mut output).await.unwrap();
    let mut reader = csv::Reader::from_reader(output.as_slice());
    let header = reader.headers().unwrap().clone();
    let from_csv: Vec<_> = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let cell = |name: &str| {
                header
                    .iter()
                    .position(|column| column == name)
                    .and_then(|index| record.get(index))
            };
            fit_point_from_cells(cell, &columns, "unused").unwrap()
        })
        .collect();
    assert_eq!(from_csv, direct);

    let first = &direct[0];
    assert_eq!(first.sigma, Some(0.05));
    assert_eq!(first.forgetting, Some(0.5));
    assert_eq!(first.cluster, "config-0");
    assert_eq!(first.label.as_deref(), Some("linear"));
    assert_eq!(first.id, rows[0].run_id.to_string());
    assert!(direct[4].diverged);
}

async fn csv_spans_several_pages(store: &Store) {
    let count = u64::from(EXPORT_PAGE_SIZE) * 2 + 1;
    let sweep_id = stored_sweep(store, count).await;
    let mut output = Vec::new();
    let written = write_sweep_csv(store, sweep_id, &mut output).await.unwrap();
    assert_eq!(written, count);

    let mut reader = csv::Reader::from_reader(output.as_slice());
    let ids: Vec<i64> = reader
        .records()
        .map(|record| record.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(ids, store.sweep_run_ids(sweep_id).await.unwrap());
}

dlm_store::backend_tests!(
    csv_has_fixed_and_config_columns,
    csv_rows_give_the_direct_fit_points,
    csv_spans_several_pages,
);
