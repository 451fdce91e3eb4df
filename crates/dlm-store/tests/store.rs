//! The store's behaviour, run once against PostgreSQL and once against SQLite
//! (a fresh database per test), so both backends are held to the same
//! contract.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dlm_store::testing::TestDatabase;
use dlm_store::{
    CompleteOutcome, FailOutcome, Lease, LeaseRef, LeaseRequest, NewRun, NewSweep, RunResult,
    RunState, Store, StoreError, SweepState, SweepStatus,
};

const MODEL_VERSION: &str = "test-model-1";
const LONG_LEASE: Duration = Duration::from_secs(600);

fn new_sweep(name: &str) -> NewSweep {
    NewSweep {
        name: name.to_string(),
        document: format!("name = \"{name}\""),
        format: "toml".to_string(),
    }
}

/// Builds a run whose key is derived from `index`, so two sweeps built from
/// overlapping index ranges share runs.
fn new_run(index: u64) -> NewRun {
    NewRun {
        run_key: format!("key-{index:06}"),
        config_hash: format!("hash-{index:06}"),
        seed: index,
        model_version: MODEL_VERSION.to_string(),
        canonical_config: format!("{{\"point\":{index}}}"),
        role: "dlm".to_string(),
        point_index: index,
        overrides_json: format!("{{\"point\":{index}}}"),
    }
}

async fn submit(store: &Store, name: &str, indices: impl Iterator<Item = u64>) -> i64 {
    let runs: Vec<NewRun> = indices.map(new_run).collect();
    let mut writer = store.begin_sweep(&new_sweep(name)).await.unwrap();
    for batch in runs.chunks(500) {
        writer.add_runs(batch).await.unwrap();
    }
    writer.commit().await.unwrap().sweep_id
}

fn lease_request(worker_id: &str, max_runs: u32, duration: Duration) -> LeaseRequest {
    LeaseRequest {
        worker_id: worker_id.to_string(),
        max_runs,
        model_version: MODEL_VERSION.to_string(),
        duration,
    }
}

fn result_with_loss(loss: f64) -> RunResult {
    RunResult {
        metrics: vec![
            ("final_loss".to_string(), Some(loss)),
            ("sigma_flux".to_string(), None),
        ],
        diverged: false,
        diverged_step: None,
        accuracy_json: "[[0.5,0.5],[0.9,0.4]]".to_string(),
        series_json: "{\"loss\":[1.0,0.5]}".to_string(),
        duration_seconds: 0.25,
    }
}

/// Waits until the database clock has passed every lease granted with a
/// zero duration; SQLite's clock has millisecond resolution.
async fn let_zero_leases_expire() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn submit_reports_counts(store: &Store) {
    let outcome = {
        let mut writer = store.begin_sweep(&new_sweep("first")).await.unwrap();
        let runs: Vec<NewRun> = (0..10).map(new_run).collect();
        writer.add_runs(&runs[..6]).await.unwrap();
        writer.add_runs(&runs[4..]).await.unwrap();
        writer.commit().await.unwrap()
    };
    assert_eq!(outcome.run_count, 10, "a run listed twice counts once");
    assert_eq!(outcome.reused_count, 0);

    let status = store.sweep_status(outcome.sweep_id).await.unwrap();
    assert_eq!(status.name, "first");
    assert_eq!(status.state, SweepState::Running);
    assert_eq!(status.counts.queued, 10);
    assert_eq!(status.progress, 0.0);
    assert_eq!(status.eta_seconds, None);
    assert_eq!(store.sweep_run_ids(outcome.sweep_id).await.unwrap().len(), 10);
}

async fn dropped_writer_stores_nothing(store: &Store) {
    {
        let mut writer = store.begin_sweep(&new_sweep("abandoned")).await.unwrap();
        let runs: Vec<NewRun> = (0..50).map(new_run).collect();
        writer.add_runs(&runs).await.unwrap();
    }

    assert!(store.list_sweeps(10).await.unwrap().is_empty());
    let leases = store.lease(&lease_request("w", 100, LONG_LEASE)).await.unwrap();
    assert!(leases.is_empty(), "no run of the abandoned sweep may be queued");
}

async fn seeds_keep_all_64_bits(store: &Store) {
    let mut run = new_run(1);
    run.seed = u64::MAX - 1;
    let mut writer = store.begin_sweep(&new_sweep("big seed")).await.unwrap();
    writer.add_runs(&[run]).await.unwrap();
    writer.commit().await.unwrap();

    let leases = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    assert_eq!(leases[0].seed, u64::MAX - 1);
    assert_eq!(store.run(leases[0].run_id).await.unwrap().seed, u64::MAX - 1);
}

async fn done_runs_are_reused(store: &Store) {
    let first = submit(store, "first", 0..10).await;
    let leases = store.lease(&lease_request("w", 5, LONG_LEASE)).await.unwrap();
    for lease in &leases {
        let outcome = store
            .complete("w", lease.reference(), &result_with_loss(0.1))
            .await
            .unwrap();
        assert_eq!(outcome, CompleteOutcome::Stored);
    }

    // Runs 0..5 are done; the second sweep shares 3 and 4 of them.
    let mut writer = store.begin_sweep(&new_sweep("second")).await.unwrap();
    let runs: Vec<NewRun> = (3..13).map(new_run).collect();
    writer.add_runs(&runs).await.unwrap();
    let second = writer.commit().await.unwrap();
    assert_eq!(second.run_count, 10);
    assert_eq!(second.reused_count, 2);

    let status = store.sweep_status(second.sweep_id).await.unwrap();
    assert_eq!(status.counts.done, 2);
    assert_eq!(status.counts.queued, 8);
    assert_eq!(status.reused_count, 2);

    let first_status = store.sweep_status(first).await.unwrap();
    assert_eq!(first_status.counts.done, 5);
    assert_eq!(first_status.progress, 0.5);
}

async fn concurrent_leasers_never_share_runs(store: &Store) {
    submit(store, "big", 0..2000).await;

    let mut leasers = Vec::new();
    for worker in 0..8 {
        let store = store.clone();
        leasers.push(tokio::spawn(async move {
            let worker_id = format!("worker-{worker}");
            let mut leased = Vec::new();
            loop {
                let batch = store
                    .lease(&lease_request(&worker_id, 7, LONG_LEASE))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return leased;
                }
                leased.extend(batch.into_iter().map(|lease| lease.run_id));
            }
        }));
    }

    let mut all = Vec::new();
    for leaser in leasers {
        all.extend(leaser.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 2000, "every run leased once");
    assert_eq!(distinct.len(), 2000, "no run leased twice");
}

async fn lease_reports_attempt_and_sweep(store: &Store) {
    let sweep_id = submit(store, "one", 0..3).await;
    let leases = store.lease(&lease_request("w", 2, LONG_LEASE)).await.unwrap();

    assert_eq!(leases.len(), 2);
    for (lease, index) in leases.iter().zip(0u64..) {
        assert_eq!(lease.attempt, 1);
        assert_eq!(lease.sweep_id, sweep_id);
        assert_eq!(lease.run_key, new_run(index).run_key);
        assert_eq!(lease.canonical_config, new_run(index).canonical_config);
        let run = store.run(lease.run_id).await.unwrap();
        assert_eq!(run.state, RunState::Leased);
        assert_eq!(run.worker_id.as_deref(), Some("w"));
        assert_eq!(run.lease_expires_at, Some(lease.expires_at));
    }

    let other_version = LeaseRequest {
        model_version: "another-model".to_string(),
        ..lease_request("w", 10, LONG_LEASE)
    };
    assert!(store.lease(&other_version).await.unwrap().is_empty());
}

async fn expired_lease_is_requeued(store: &Store) {
    submit(store, "one", 0..1).await;
    let first = store.lease(&lease_request("slow", 1, Duration::ZERO)).await.unwrap();
    let_zero_leases_expire().await;

    let reaped = store.reap_expired_leases(3).await.unwrap();
    assert_eq!(reaped.requeued, 1);
    assert_eq!(reaped.failed, 0);
    let run = store.run(first[0].run_id).await.unwrap();
    assert_eq!(run.state, RunState::Queued);
    assert_eq!(run.failed_attempts, 1);
    assert!(run.last_error.unwrap().contains("lease expired: worker slow"));

    let second = store.lease(&lease_request("fast", 1, LONG_LEASE)).await.unwrap();
    assert_eq!(second[0].run_id, first[0].run_id);
    assert_eq!(second[0].attempt, 2);

    // The first worker finishes late; runs are deterministic, so its result
    // is as good as any and is stored once.
    let late = store
        .complete("slow", first[0].reference(), &result_with_loss(0.3))
        .await
        .unwrap();
    assert_eq!(late, CompleteOutcome::Stored);
    let current = store
        .complete("fast", second[0].reference(), &result_with_loss(0.3))
        .await
        .unwrap();
    assert_eq!(current, CompleteOutcome::Duplicate);

    let run = store.run(first[0].run_id).await.unwrap();
    assert_eq!(run.state, RunState::Done);
    assert_eq!(run.duplicate_completions, 1);
    let result = store.result(run.id).await.unwrap().unwrap();
    assert_eq!(result.attempt, 1);
    assert_eq!(result.worker_id, "slow");
    assert_eq!(
        result.metrics,
        vec![
            ("final_loss".to_string(), Some(0.3)),
            ("sigma_flux".to_string(), None)
        ]
    );
    assert_eq!(result.accuracy_json, "[[0.5,0.5],[0.9,0.4]]");

    let heartbeat = store
        .heartbeat("fast", &[second[0].reference()], LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(heartbeat.abort, vec![second[0].reference()], "done runs are aborted");
}

async fn max_attempts_marks_run_failed(store: &Store) {
    submit(store, "one", 0..2).await;
    let max_attempts = 2;

    // Run 1: one expired lease, then a reported failure.
    let first = store.lease(&lease_request("w", 1, Duration::ZERO)).await.unwrap();
    let_zero_leases_expire().await;
    store.reap_expired_leases(max_attempts).await.unwrap();
    let second = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    assert_eq!(second[0].run_id, first[0].run_id);
    let outcome = store
        .fail("w", second[0].reference(), "config rejected: dt must be > 0", max_attempts)
        .await
        .unwrap();
    assert_eq!(outcome, FailOutcome::Failed);
    let run = store.run(first[0].run_id).await.unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert_eq!(run.failed_attempts, 2);
    assert_eq!(run.last_error.as_deref(), Some("config rejected: dt must be > 0"));
    assert!(run.finished_at.is_some());

    // Run 2: two expired leases.
    for attempt in 1..=2 {
        let lease = store.lease(&lease_request("w", 1, Duration::ZERO)).await.unwrap();
        assert_eq!(lease[0].attempt, attempt);
        let_zero_leases_expire().await;
        let reaped = store.reap_expired_leases(max_attempts).await.unwrap();
        assert_eq!(reaped.failed, u64::from(attempt == 2));
    }
    let status = store.sweep_status(1).await.unwrap();
    assert_eq!(status.counts.failed, 2);
    assert_eq!(status.state, SweepState::Done);
    assert!(store.lease(&lease_request("w", 5, LONG_LEASE)).await.unwrap().is_empty());
}

async fn resubmitted_failed_run_is_requeued(store: &Store) {
    submit(store, "first", 0..1).await;
    let lease = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    store.fail("w", lease[0].reference(), "out of memory", 1).await.unwrap();
    assert_eq!(store.run(lease[0].run_id).await.unwrap().state, RunState::Failed);

    submit(store, "second", 0..1).await;
    let run = store.run(lease[0].run_id).await.unwrap();
    assert_eq!(run.state, RunState::Queued);
    assert_eq!(run.failed_attempts, 0);
    let again = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    assert_eq!(again[0].attempt, 2, "attempts keep counting up across sweeps");
}

async fn writes_are_fenced_on_the_lease(store: &Store) {
    submit(store, "one", 0..2).await;
    let leases = store.lease(&lease_request("w", 2, LONG_LEASE)).await.unwrap();
    let current = leases[0].reference();
    let never_granted = LeaseRef {
        run_id: current.run_id,
        attempt: 2,
    };

    fn is_stale<T>(result: Result<T, StoreError>) -> bool {
        matches!(result, Err(StoreError::StaleLease { .. }))
    }
    assert!(is_stale(store.fail("w", never_granted, "x", 3).await));
    assert!(is_stale(store.fail("other", current, "x", 3).await));
    assert!(is_stale(
        store.complete("w", never_granted, &result_with_loss(1.0)).await
    ));
    assert!(matches!(
        store
            .complete("w", LeaseRef { run_id: 999_999, attempt: 1 }, &result_with_loss(1.0))
            .await,
        Err(StoreError::RunNotFound(999_999))
    ));

    let heartbeat = store
        .heartbeat("w", &[current, never_granted, leases[1].reference()], LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(heartbeat.extended, vec![current, leases[1].reference()]);
    assert_eq!(heartbeat.abort, vec![never_granted]);

    assert_eq!(store.release("other", &[current]).await.unwrap(), 0);
    assert_eq!(store.release("w", &[current]).await.unwrap(), 1);
    let run = store.run(current.run_id).await.unwrap();
    assert_eq!(run.state, RunState::Queued);
    assert_eq!(run.failed_attempts, 0, "a release is not a failed attempt");
}

async fn heartbeat_extends_deadline(store: &Store) {
    submit(store, "one", 0..1).await;
    let lease = store.lease(&lease_request("w", 1, Duration::ZERO)).await.unwrap();
    let outcome = store
        .heartbeat("w", &[lease[0].reference()], LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(outcome.extended, vec![lease[0].reference()]);
    let_zero_leases_expire().await;

    let reaped = store.reap_expired_leases(3).await.unwrap();
    assert_eq!(reaped.requeued, 0, "the heartbeat moved the deadline");
    let run = store.run(lease[0].run_id).await.unwrap();
    assert!(run.lease_expires_at.unwrap() > lease[0].expires_at);
}

async fn outage_extension_spares_expired_leases(store: &Store) {
    submit(store, "two", 0..2).await;
    let expired = store.lease(&lease_request("cut-off", 1, Duration::ZERO)).await.unwrap();
    let long = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    let_zero_leases_expire().await;

    let extended = store.extend_all_leases(Duration::from_secs(60)).await.unwrap();
    assert_eq!(extended, 1, "only the lease ending within 60 s moves");
    let reaped = store.reap_expired_leases(3).await.unwrap();
    assert_eq!(reaped.requeued + reaped.failed, 0, "the extension saved the lease");

    let run = store.run(expired[0].run_id).await.unwrap();
    assert_eq!(run.state, RunState::Leased);
    assert_eq!(run.failed_attempts, 0);
    assert!(run.lease_expires_at.unwrap() > expired[0].expires_at);
    let untouched = store.run(long[0].run_id).await.unwrap();
    assert_eq!(untouched.lease_expires_at, Some(long[0].expires_at));
    let outcome = store
        .heartbeat("cut-off", &[expired[0].reference()], LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(outcome.extended, vec![expired[0].reference()]);
}

async fn invalid_results_are_rejected(store: &Store) {
    submit(store, "one", 0..1).await;
    let lease = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();

    let mut not_a_number = result_with_loss(f64::NAN);
    let mut repeated = result_with_loss(1.0);
    repeated.metrics.push(("final_loss".to_string(), Some(2.0)));
    let mut bad_json = result_with_loss(1.0);
    bad_json.series_json = "{\"loss\": [1.0,".to_string();
    let mut negative_duration = result_with_loss(1.0);
    negative_duration.duration_seconds = -1.0;
    not_a_number.diverged = true;

    for (case, result) in [
        ("NaN metric", not_a_number),
        ("repeated metric", repeated),
        ("truncated JSON", bad_json),
        ("negative duration", negative_duration),
    ] {
        let outcome = store.complete("w", lease[0].reference(), &result).await;
        assert!(
            matches!(outcome, Err(StoreError::InvalidResult { .. })),
            "{case}: {outcome:?}"
        );
    }
    assert_eq!(store.run(lease[0].run_id).await.unwrap().state, RunState::Leased);
    assert!(store.result(lease[0].run_id).await.unwrap().is_none());
}

async fn diverged_run_is_done(store: &Store) {
    let sweep_id = submit(store, "one", 0..1).await;
    let lease = store.lease(&lease_request("w", 1, LONG_LEASE)).await.unwrap();
    let mut result = result_with_loss(1.0);
    result.metrics = vec![("final_loss".to_string(), None)];
    result.diverged = true;
    result.diverged_step = Some(1234);

    store.complete("w", lease[0].reference(), &result).await.unwrap();

    let stored = store.result(lease[0].run_id).await.unwrap().unwrap();
    assert!(stored.diverged);
    assert_eq!(stored.diverged_step, Some(1234));
    let status = store.sweep_status(sweep_id).await.unwrap();
    assert_eq!(status.counts.done, 1);
    assert_eq!(status.counts.diverged, 1);
    assert_eq!(status.state, SweepState::Done);
    assert_eq!(status.progress, 1.0);
}

async fn cancel_spares_runs_other_sweeps_need(store: &Store) {
    let first = submit(store, "first", 0..4).await;
    let second = submit(store, "second", 2..6).await;
    let held: Vec<Lease> = store.lease(&lease_request("w", 3, LONG_LEASE)).await.unwrap();
    assert_eq!(held.len(), 3, "runs 0, 1 and 2");

    let status = store.cancel_sweep(first).await.unwrap();
    assert_eq!(status.state, SweepState::Cancelled);
    assert!(status.cancelled_at.is_some());
    assert_eq!(status.counts.cancelled, 2, "runs 0 and 1 only the first sweep needs");
    assert_eq!(status.counts.leased, 1, "run 2 is shared with the second sweep");
    assert_eq!(status.counts.queued, 1, "run 3 is shared with the second sweep");

    let heartbeat = store
        .heartbeat("w", &held.iter().map(Lease::reference).collect::<Vec<_>>(), LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(heartbeat.abort, vec![held[0].reference(), held[1].reference()]);
    assert_eq!(heartbeat.extended, vec![held[2].reference()]);

    let rest = store.lease(&lease_request("w", 10, LONG_LEASE)).await.unwrap();
    let keys: Vec<String> = rest.iter().map(|lease| lease.run_key.clone()).collect();
    let expected: Vec<String> = (3..6).map(|index| new_run(index).run_key).collect();
    assert_eq!(keys, expected, "only runs the second sweep needs are leased");
    assert!(rest.iter().all(|lease| lease.sweep_id == second));

    let second_status = store.cancel_sweep(second).await.unwrap();
    assert_eq!(second_status.counts.cancelled, 4);
    let again = store.cancel_sweep(second).await.unwrap();
    assert_eq!(again.cancelled_at, second_status.cancelled_at, "cancel is idempotent");
    assert!(matches!(
        store.cancel_sweep(12345).await,
        Err(StoreError::SweepNotFound(12345))
    ));
}

async fn status_reports_rate_and_eta(store: &Store) {
    let sweep_id = submit(store, "one", 0..4).await;
    let leases = store.lease(&lease_request("w", 2, LONG_LEASE)).await.unwrap();
    for lease in &leases {
        store
            .complete("w", lease.reference(), &result_with_loss(0.5))
            .await
            .unwrap();
    }

    let status = store.sweep_status(sweep_id).await.unwrap();
    assert_eq!(status.counts.done, 2);
    assert_eq!(status.progress, 0.5);
    assert!(status.runs_per_second > 0.0);
    let eta = status.eta_seconds.expect("an ETA while runs are pending");
    assert!((eta - 2.0 / status.runs_per_second).abs() < 1e-9);

    let listed = store.list_sweeps(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, sweep_id);
    assert!(matches!(
        store.sweep_status(sweep_id + 1).await,
        Err(StoreError::SweepNotFound(_))
    ));
}

async fn export_pages_cover_the_sweep(store: &Store) {
    let first = submit(store, "first", 0..5).await;
    let second = submit(store, "second", 3..8).await;
    let leases = store
        .lease(&lease_request("w", 3, LONG_LEASE))
        .await
        .unwrap();
    assert_eq!(leases.len(), 3, "runs 0, 1 and 2");
    for lease in &leases {
        // The seed of run i is i, so each result names its run.
        let mut result = result_with_loss(lease.seed as f64 + 0.5);
        if lease.seed == 1 {
            result.diverged = true;
            result.diverged_step = Some(42);
        }
        store
            .complete("w", lease.reference(), &result)
            .await
            .unwrap();
    }

    let mut rows = Vec::new();
    let mut after = None;
    let mut page_sizes = Vec::new();
    loop {
        let page = store.export_page(first, after, 2).await.unwrap();
        page_sizes.push(page.len());
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.run_id);
        rows.extend(page);
    }
    assert_eq!(page_sizes, vec![2, 2, 1, 0]);
    let ids: Vec<i64> = rows.iter().map(|row| row.run_id).collect();
    assert_eq!(ids, store.sweep_run_ids(first).await.unwrap());

    for (index, row) in rows.iter().enumerate() {
        let expected = new_run(index as u64);
        assert_eq!(row.run_key, expected.run_key);
        assert_eq!(row.config_hash, expected.config_hash);
        assert_eq!(row.seed, expected.seed);
        assert_eq!(row.role, "dlm");
        assert_eq!(row.point_index, expected.point_index);
        assert_eq!(row.canonical_config, expected.canonical_config);
        assert_eq!(row.overrides, expected.overrides_json);
    }

    let done = &rows[0];
    assert_eq!(done.state, RunState::Done);
    assert_eq!(done.diverged, Some(false));
    assert_eq!(done.diverged_step, None);
    assert_eq!(done.duration_seconds, Some(0.25));
    let expected_metrics = vec![
        ("final_loss".to_string(), Some(0.5)),
        ("sigma_flux".to_string(), None),
    ];
    assert_eq!(done.metrics, expected_metrics);
    assert_eq!(done.metric("final_loss"), Some(0.5));
    assert_eq!(done.metric("sigma_flux"), None);
    assert_eq!(
        rows[2].metric("final_loss"),
        Some(2.5),
        "metrics stay with their run"
    );

    let diverged = &rows[1];
    assert_eq!(diverged.diverged, Some(true));
    assert_eq!(diverged.diverged_step, Some(42));

    let queued = &rows[4];
    assert_eq!(queued.state, RunState::Queued);
    assert_eq!(queued.diverged, None);
    assert_eq!(queued.duration_seconds, None);
    assert!(queued.metrics.is_empty());

    let second_rows = store.export_page(second, None, 100).await.unwrap();
    let second_keys: Vec<&str> = second_rows.iter().map(|row| row.run_key.as_str()).collect();
    assert_eq!(
        second_keys,
        [
            "key-000003",
            "key-000004",
            "key-000005",
            "key-000006",
            "key-000007"
        ]
    );
    assert_eq!(
        second_rows[0].metrics,
        Vec::new(),
        "run 3 has no result yet"
    );
}

async fn export_of_nothing_is_empty(store: &Store) {
    let sweep_id = submit(store, "one", 0..3).await;
    assert!(
        store
            .export_page(sweep_id, None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .export_page(sweep_id + 1, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let all = store.export_page(sweep_id, None, 10).await.unwrap();
    let last = all.last().unwrap().run_id;
    assert!(
        store
            .export_page(sweep_id, Some(last), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Compares the fields of two statuses that do not depend on the moment
/// they were read (the rate and the ETA do).
fn assert_same_status(listed: &SweepStatus, single: &SweepStatus) {
    let sweep = single.id;
    assert_eq!(listed.id, single.id);
    assert_eq!(listed.name, single.name, "sweep {sweep}");
    assert_eq!(listed.state, single.state, "sweep {sweep}");
    assert_eq!(listed.run_count, single.run_count, "sweep {sweep}");
    assert_eq!(listed.reused_count, single.reused_count, "sweep {sweep}");
    assert_eq!(listed.counts, single.counts, "sweep {sweep}");
    assert_eq!(listed.progress, single.progress, "sweep {sweep}");
    assert_eq!(listed.created_at, single.created_at, "sweep {sweep}");
    assert_eq!(listed.cancelled_at, single.cancelled_at, "sweep {sweep}");
}

async fn list_matches_status_of_each_sweep(store: &Store) {
    // Runs 0..4 done (one diverged), 4..6 failed, the rest queued; the
    // third sweep is cancelled and the fourth shares only done runs.
    let sweep_ids = [
        submit(store, "running", 0..8).await,
        submit(store, "overlapping", 6..12).await,
        submit(store, "cancelled", 12..15).await,
    ];
    let leases = store.lease(&lease_request("w", 6, LONG_LEASE)).await.unwrap();
    for (index, lease) in leases.iter().enumerate() {
        match index {
            0..=3 => {
                let mut result = result_with_loss(0.2);
                result.diverged = index == 0;
                store.complete("w", lease.reference(), &result).await.unwrap();
            }
            _ => {
                store.fail("w", lease.reference(), "no memory", 1).await.unwrap();
            }
        }
    }
    store.cancel_sweep(sweep_ids[2]).await.unwrap();
    let done_only = submit(store, "done only", 0..4).await;

    let listed = store.list_sweeps(10).await.unwrap();

    let expected_ids = [done_only, sweep_ids[2], sweep_ids[1], sweep_ids[0]];
    let listed_ids: Vec<i64> = listed.iter().map(|status| status.id).collect();
    assert_eq!(listed_ids, expected_ids, "newest first");
    for status in &listed {
        let single = store.sweep_status(status.id).await.unwrap();
        assert_same_status(status, &single);
    }
    let by_id = |id: i64| listed.iter().find(|status| status.id == id).unwrap();
    assert_eq!(by_id(sweep_ids[0]).counts.done, 4);
    assert_eq!(by_id(sweep_ids[0]).counts.diverged, 1);
    assert_eq!(by_id(sweep_ids[0]).counts.failed, 2);
    assert_eq!(by_id(sweep_ids[2]).state, SweepState::Cancelled);
    assert_eq!(by_id(done_only).state, SweepState::Done);

    let newest_two = store.list_sweeps(2).await.unwrap();
    let newest_ids: Vec<i64> = newest_two.iter().map(|status| status.id).collect();
    assert_eq!(newest_ids, expected_ids[..2]);
}

dlm_store::backend_tests!(
    submit_reports_counts,
    dropped_writer_stores_nothing,
    seeds_keep_all_64_bits,
    done_runs_are_reused,
    concurrent_leasers_never_share_runs,
    lease_reports_attempt_and_sweep,
    expired_lease_is_requeued,
    max_attempts_marks_run_failed,
    resubmitted_failed_run_is_requeued,
    writes_are_fenced_on_the_lease,
    heartbeat_extends_deadline,
    outage_extension_spares_expired_leases,
    invalid_results_are_rejected,
    diverged_run_is_done,
    cancel_spares_runs_other_sweeps_need,
    status_reports_rate_and_eta,
    export_pages_cover_the_sweep,
    export_of_nothing_is_empty,
    list_matches_status_of_each_sweep,
);

/// Counts the statements sqlx runs while a future is polled, from the
/// `sqlx::query` events it logs for each of them.
#[derive(Clone, Default)]
struct StatementCounter {
    statements: Arc<AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _context: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.statements.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// PostgreSQL only: the SQLite driver runs statements on a thread of its own,
// outside the subscriber this test installs around the call.
#[tokio::test(flavor = "current_thread")]
async fn list_sweeps_runs_two_statements() {
    use tracing::instrument::WithSubscriber;
    use tracing_subscriber::layer::SubscriberExt;

    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    for index in 0..5 {
        submit(&store, &format!("sweep {index}"), index * 3..index * 3 + 4).await;
    }
    let counter = StatementCounter::default();
    let subscriber = tracing_subscriber::registry().with(counter.clone());

    let listed = store.list_sweeps(10).with_subscriber(subscriber).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(counter.statements.load(Ordering::Relaxed), 2, "one for sweeps, one for counts");

    // The next page after the third-newest sweep contains the two oldest, with
    // their counts, again in two statements.
    let cursor = listed[2].id;
    let next_page = store
        .list_sweeps_before(Some(cursor), 10)
        .with_subscriber(tracing_subscriber::registry().with(counter.clone()))
        .await
        .unwrap();
    let next_ids: Vec<i64> = next_page.iter().map(|sweep| sweep.id).collect();
    assert_eq!(next_ids, vec![listed[3].id, listed[4].id]);
    assert_eq!(next_page[0].counts, listed[3].counts);
    assert_eq!(next_page[0].run_count, 4);
    assert_eq!(counter.statements.load(Ordering::Relaxed), 4, "two more for the next page");
    store.close().await;
}

// Coordinators that start together migrate one database at once; sqlx's
// advisory lock must let exactly one of them apply each migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_apply_once() {
    let database = TestDatabase::postgres().await;
    let options = dlm_store::ConnectOptions::default();

    let mut openers = Vec::new();
    for _ in 0..4 {
        let url = database.url().to_string();
        let options = options.clone();
        openers.push(tokio::spawn(async move { Store::open(&url, &options).await }));
    }
    let mut stores = Vec::new();
    for opener in openers {
        stores.push(opener.await.unwrap().expect("every concurrent open succeeds"));
    }

    let Store::Postgres(pool) = &stores[0] else {
        panic!("a postgres URL opened another backend");
    };
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    let migration_files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied, migration_files as i64);
    for store in stores {
        store.close().await;
    }
}

// PostgreSQL only: SQLite has no server to be unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_is_unavailable() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = dlm_store::ConnectOptions {
        acquire_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let url = format!("postgres://postgres@127.0.0.1:{closed_port}/postgres");
    let refused = Store::connect(&url, &options).await.unwrap_err();
    assert!(refused.is_unavailable(), "connection refused: {refused}");

    let database = TestDatabase::postgres().await;
    let store = database.store().await;
    let Store::Postgres(pool) = &store else {
        panic!("a postgres URL opened another backend");
    };
    let syntax = sqlx::query("SELEC 1").execute(pool).await.unwrap_err();
    let syntax = StoreError::from(syntax);
    assert!(!syntax.is_unavailable(), "syntax error: {syntax}");
    assert!(!StoreError::RunNotFound(1).is_unavailable());

    // A session the server terminates gets SQLSTATE 57P01, as when the
    // server shuts down.
    let mut session = pool.acquire().await.unwrap();
    let session_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *session)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(session_pid)
        .execute(pool)
        .await
        .unwrap();
    let terminated = sqlx::query("SELECT 1").execute(&mut *session).await.unwrap_err();
    let terminated = StoreError::from(terminated);
    assert!(terminated.is_unavailable(), "terminated session: {terminated}");
    drop(session);
    store.close().await;
}
