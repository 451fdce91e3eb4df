-- Times are UTC text in RFC 3339 form with milliseconds, written only by
-- the database clock, so they compare correctly as strings.
--
-- Sweeps, the runs they need, and the results of finished runs.
--
-- A run is shared by every sweep that contains its run_key (a hash of the
-- canonical configuration, the seed and the engine's model version), so
-- sweeps and runs are linked many-to-many through sweep_runs.

CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- The sweep document as submitted, and its format (toml, yaml, json).
    document TEXT NOT NULL,
    format TEXT NOT NULL,
    run_count INTEGER NOT NULL DEFAULT 0,
    -- Runs whose result already existed when the sweep was submitted.
    reused_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    cancelled_at TEXT
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key TEXT NOT NULL UNIQUE,
    config_hash TEXT NOT NULL,
    -- The u64 seed stored bit for bit in a signed 64-bit column.
    seed INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    -- The exact canonical JSON that config_hash was computed from.
    canonical_config TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'leased', 'done', 'failed', 'cancelled')),
    -- Number of leases ever granted; the current lease's fencing token.
    attempt INTEGER NOT NULL DEFAULT 0,
    -- Attempts that ended in an expired lease or a reported failure.
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT,
    lease_expires_at TEXT,
    last_error TEXT,
    -- Results reported after the first one was stored.
    duplicate_completions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
);

CREATE INDEX runs_queued_idx ON runs (model_version, id) WHERE state = 'queued';
CREATE INDEX runs_lease_expiry_idx ON runs (lease_expires_at) WHERE state = 'leased';

CREATE TABLE sweep_runs (
    sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    -- 'dlm' for a point the sweep lists, or the baseline's name (sgd, sgld, ewc).
    role TEXT NOT NULL,
    point_index INTEGER NOT NULL,
    -- The parameters this point sets on top of the base, as a JSON object.
    overrides TEXT NOT NULL,
    PRIMARY KEY (sweep_id, run_id)
);

CREATE INDEX sweep_runs_run_idx ON sweep_runs (run_id);

CREATE TABLE results (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id),
    diverged BOOLEAN NOT NULL,
    diverged_step INTEGER,
    -- Accuracy matrix R[k][j] and the down-sampled series, as JSON.
    accuracy TEXT NOT NULL,
    series TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    duration_seconds REAL NOT NULL,
    completed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX results_completed_at_idx ON results (completed_at);

-- Summary metrics in long form, one row per run and metric (NULL where the
-- metric is undefined for the run). The engine can add metrics without a
-- schema change; (name, value) serves filters and sorts on one metric.
CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES results (run_id),
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, name)
);

CREATE INDEX run_metrics_name_value_idx ON run_metrics (name, value);
