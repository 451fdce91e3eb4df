//! Property tests: arbitrary sweep documents and texts either parse and
//! plan or return an error, and never panic. A plan yields exactly the
//! runs it counted.

use dlm_sweep::{Limits, SpecFormat, SweepSpec, parse_sweep};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys that reach deep into the parser and the engine's configuration,
/// mixed with arbitrary ones.
fn key() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "name",
        "base",
        "grid",
        "random",
        "include",
        "seeds",
        "baselines",
        "n",
        "seed",
        "params",
        "uniform",
        "log_uniform",
        "choice",
        "dynamics",
        "model",
        "tasks",
        "dynamics.temperature",
        "dynamics.gamma",
        "dynamics.alpha",
        "dynamics.dt",
        "dynamics.schedule",
        "dynamics.schedule.tau",
        "dynamics.coupling",
        "dynamics.method",
        "kind",
        "tau",
        "temperature",
        "gamma",
        "hidden",
        "model.hidden",
        "tasks.num_tasks",
        "ewc.lambda",
        "ewc.enabled",
        "dynamics..gamma",
        ".",
        "",
    ])
    .prop_map(str::to_owned);
    prop_oneof![3 => known, 1 => "[a-z._]{0,12}"]
}

fn leaf() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "sgd",
        "sgld",
        "ewc",
        "dlm",
        "tanh",
        "linear",
        "quadratic",
        "hyperbolic",
        "constant",
        "relu",
    ]);
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..12).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e3f64..1e3).prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        words.prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5).prop_map(|entries| Value::Object(
                entries.into_iter().collect::<Map<String, Value>>()
            )),
        ]
    })
}

/// Generates a top-level document: a name most of the time, then arbitrary sections.
fn document() -> impl Strategy<Value = Value> {
    (
        prop::option::weighted(0.9, ".{1,20}"),
        prop::collection::vec((key(), value()), 0..6),
    )
        .prop_map(|(name, entries)| {
            let mut object: Map<String, Value> = entries.into_iter().collect();
            if let Some(name) = name {
                object.insert("name".to_owned(), Value::from(name));
            }
            Value::Object(object)
        })
}

/// Grid values that are often valid for the engine.
fn grid_values() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        prop_oneof![
            4 => (0.0f64..2.0).prop_map(Value::from),
            4 => (1u64..4).prop_map(Value::from),
            2 => prop::collection::vec(0.0f64..2.0, 1..4).prop_map(Value::from),
            1 => leaf(),
        ],
        0..4,
    )
    .prop_map(Value::Array)
}

/// Generates a sweep shaped like a real one, with values that may still be wrong.
fn sweep_like() -> impl Strategy<Value = Value> {
    let paths = prop::sample::select(vec![
        "dynamics.temperature",
        "dynamics.gamma",
        "dynamics.alpha",
        "dynamics.dt",
        "dynamics.coupling",
        "dynamics.schedule.tau",
        "tasks.num_tasks",
        "ewc.lambda",
    ]);
    let grid = prop::collection::btree_map(paths, grid_values(), 0..4);
    let seeds = prop_oneof![
        (0u64..4).prop_map(Value::from),
        prop::collection::vec(0u64..20, 0..4).prop_map(Value::from)
    ];
    let baseline =
        prop_oneof![8 => prop::sample::select(vec!["sgd", "sgld", "ewc"]), 1 => Just("adam")];
    let baselines = prop::collection::vec(baseline, 0..3);
    (grid, seeds, baselines, prop::option::of(value())).prop_map(|(grid, seeds, baselines, include)| {
        let mut object = Map::new();
        object.insert("name".to_owned(), Value::from("property"));
        object.insert(
            "base".to_owned(),
            serde_json::json!({ "model": { "hidden": [4] }, "tasks": { "num_tasks": 2, "steps_per_task": 5 } }),
        );
        object.insert("grid".to_owned(), Value::Object(grid.into_iter().map(|(path, values)| (path.to_owned(), values)).collect()));
        object.insert("seeds".to_owned(), seeds);
        object.insert("baselines".to_owned(), Value::from(baselines));
        if let Some(include) = include {
            object.insert("include".to_owned(), Value::Array(vec![include]));
        }
        Value::Object(object)
    })
}

/// Plans a document and, when it plans, checks the expansion against the
/// count; any error is an acceptable outcome.
fn check_document(document: Value) -> Result<(), TestCaseError> {
    let Ok(spec) = SweepSpec::from_document(document) else {
        return Ok(());
    };
    let Ok(plan) = spec.plan(&Limits { max_runs: 300 }) else {
        return Ok(());
    };

    let mut count = 0u64;
    for run in plan.runs() {
        let run = run.map_err(|error| {
            TestCaseError::fail(format!("planned sweep failed to expand: {error}"))
        })?;
        prop_assert!(run.config.validate().is_ok());
        count += 1;
    }
    prop_assert_eq!(count, plan.run_count());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_documents_never_panic(document in document()) {
        check_document(document)?;
    }

    #[test]
    fn sweep_like_documents_never_panic(document in sweep_like()) {
        check_document(document)?;
    }

    #[test]
    fn documents_in_every_format_never_panic(document in document()) {
        let texts = [
            (toml::to_string(&document).ok(), SpecFormat::Toml),
            (serde_norway::to_string(&document).ok(), SpecFormat::Yaml),
            (serde_json::to_string(&document).ok(), SpecFormat::Json),
        ];
        for (text, format) in texts {
            let Some(text) = text else { continue };
            if let Ok(spec) = parse_sweep(&text, format) {
                let _ = spec.plan(&Limits { max_runs: 300 });
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        for format in [SpecFormat::Toml, SpecFormat::Yaml, SpecFormat::Json] {
            if let Ok(spec) = parse_sweep(&text, format) {
                let _ = spec.plan(&Limits { max_runs: 300 });
            }
        }
    }
}

#[test]
fn deeply_nested_documents_never_overflow() {
    // Each parser limits its recursion; a document nested 100,000 deep must
    // come back as an error, not overflow the stack.
    let depth = 100_000;
    let open = "[".repeat(depth);
    let close = "]".repeat(depth);
    let texts = [
        (
            format!("name = \"deep\"\nseeds = {open}{close}"),
            SpecFormat::Toml,
        ),
        (
            format!("name: deep\nseeds: {open}{close}"),
            SpecFormat::Yaml,
        ),
        (
            format!("{{\"name\": \"deep\", \"seeds\": {open}{close}}}"),
            SpecFormat::Json,
        ),
    ];

    for (text, format) in texts {
        let outcome = parse_sweep(&text, format);

        assert!(
            outcome.is_err(),
            "{format} nested {depth} deep was accepted"
        );
    }
}
