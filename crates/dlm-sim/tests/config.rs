//! Configuration parsing, validation, canonical form, hashing and baselines.

use dlm_sim::{Baseline, ConfigError, Method, PerLayer, RunConfig};

struct InvalidCase {
    json: &'static str,
    field: &'static str,
    message_part: &'static str,
}

fn invalid_cases() -> Vec<InvalidCase> {
    vec![
        InvalidCase {
            json: r#"{"dynamics": {"gamma": 12}}"#,
            field: "dynamics.gamma",
            message_part: "gamma*dt must be below 1 (got 1.2000000000000002); lower gamma or dt",
        },
        InvalidCase {
            json: r#"{"dynamics": {"gamma": [1, 1, 10]}}"#,
            field: "dynamics.gamma[2]",
            message_part: "gamma*dt must be below 1",
        },
        InvalidCase {
            json: r#"{"dynamics": {"temperature": -0.1}}"#,
            field: "dynamics.temperature",
            message_part: "finite number >= 0",
        },
        InvalidCase {
            json: r#"{"dynamics": {"alpha": [0.1, 0.2]}}"#,
            field: "dynamics.alpha",
            message_part: "one value per weight layer (3 for this model)",
        },
        InvalidCase {
            json: r#"{"dynamics": {"dt": 0}}"#,
            field: "dynamics.dt",
            message_part: "finite number > 0",
        },
        InvalidCase {
            json: r#"{"dynamics": {"coupling": "cubic"}}"#,
            field: "dynamics.coupling",
            message_part: "unknown variant `cubic`, expected one of `linear`, `tanh`, `quadratic`",
        },
        InvalidCase {
            json: r#"{"dynamics": {"schedule": {"kind": "hyperbolic", "tau": 0}}}"#,
            field: "dynamics.schedule.tau",
            message_part: "finite number > 0",
        },
        InvalidCase {
            json: r#"{"dynamics": {"weight_decay": -1}}"#,
            field: "dynamics.weight_decay",
            message_part: ">= 0",
        },
        InvalidCase {
            json: r#"{"dynamics": {"sgld_eta": 0}}"#,
            field: "dynamics.sgld_eta",
            message_part: "> 0",
        },
        InvalidCase {
            json: r#"{"model": {"hidden": [128, 0]}}"#,
            field: "model.hidden[1]",
            message_part: "at least 1 unit",
        },
        InvalidCase {
            json: r#"{"model": {"hidden": []}}"#,
            field: "model.hidden",
            message_part: "at least one hidden layer",
        },
        InvalidCase {
            json: r#"{"tasks": {"num_tasks": 6}}"#,
            field: "tasks.num_tasks",
            message_part: "need 12 classes but the data set has 10; use at most 5 tasks",
        },
        InvalidCase {
            json: r#"{"tasks": {"num_tasks": 4611686018427387904, "classes_per_task": 4}}"#,
            field: "tasks.num_tasks",
            message_part: "need more classes but the data set has 10",
        },
        InvalidCase {
            json: r#"{"tasks": {"batch_size": 400}}"#,
            field: "tasks.batch_size",
            message_part: "larger than the smallest task's training set (283 examples)",
        },
        InvalidCase {
            json: r#"{"tasks": {"kind": "permuted", "batch_size": 2000}}"#,
            field: "tasks.batch_size",
            message_part: "(1437 examples)",
        },
        InvalidCase {
            json: r#"{"tasks": {"num_tasks": 0}}"#,
            field: "tasks.num_tasks",
            message_part: "at least 1",
        },
        InvalidCase {
            json: r#"{"tasks": {"record_every": 0}}"#,
            field: "tasks.record_every",
            message_part: "at least 1",
        },
        InvalidCase {
            json: r#"{"tasks": {"kind": "teacher"}}"#,
            field: "tasks.kind",
            message_part: "set data.dataset = \"teacher\"",
        },
        InvalidCase {
            json: r#"{"data": {"dataset": "idx"}}"#,
            field: "data.path",
            message_part: "set data.path",
        },
        InvalidCase {
            json: r#"{"data": {"dataset": "idx", "path": "a"}}"#,
            field: "data.labels_path",
            message_part: "set data.labels_path",
        },
        InvalidCase {
            json: r#"{"data": {"test_fraction": 1.0}}"#,
            field: "data.test_fraction",
            message_part: "strictly between 0 and 1",
        },
        InvalidCase {
            json: r#"{"data": {"dataset": "teacher", "teacher": {"classes": 1}}}"#,
            field: "data.teacher.classes",
            message_part: "at least 2",
        },
        InvalidCase {
            json: r#"{"ewc": {"decay": 1.5}}"#,
            field: "ewc.decay",
            message_part: "[0, 1]",
        },
        InvalidCase {
            json: r#"{"ewc": {"lambda": -1}}"#,
            field: "ewc.lambda",
            message_part: ">= 0",
        },
        InvalidCase {
            json: r#"{"psd": {"nperseg": 4}}"#,
            field: "psd.nperseg",
            message_part: "at least 8",
        },
        InvalidCase {
            json: r#"{"psd": {"band_low": 0.3}}"#,
            field: "psd.band_low",
            message_part: "below psd.band_high (0.25)",
        },
        InvalidCase {
            json: r#"{"psd": {"band_high": 0.7}}"#,
            field: "psd.band_high",
            message_part: "Nyquist",
        },
        InvalidCase {
            json: r#"{"dynamics": {"gama": 1}}"#,
            field: "dynamics.gama",
            message_part: "unknown field `gama`",
        },
    ]
}

#[test]
fn invalid_values_are_rejected_with_field_and_reason() {
    for case in invalid_cases() {
        let error: ConfigError = RunConfig::from_json_str(case.json).expect_err(case.json);
        assert_eq!(error.field, case.field, "{}: {error}", case.json);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("invalid {} = ", case.field)),
            "{}: {message}",
            case.json
        );
        assert!(
            message.contains(case.message_part),
            "{}: {message}",
            case.json
        );
    }
}

#[test]
fn error_message_has_the_documented_form() {
    let error = RunConfig::from_json_str(r#"{"dynamics": {"gamma": 12}}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid dynamics.gamma = 12: gamma*dt must be below 1 (got 1.2000000000000002); lower gamma or dt"
    );
}

#[test]
fn empty_object_is_the_default_run() {
    let config = RunConfig::from_json_str("{}").unwrap();
    assert_eq!(config, RunConfig::default());
    assert_eq!(RunConfig::from_toml_str("").unwrap(), RunConfig::default());
    assert!(RunConfig::default().validate().is_ok());
}

#[test]
fn per_layer_values_parse_as_scalar_or_list() {
    let config =
        RunConfig::from_toml_str("[dynamics]\ngamma = [0.5, 1, 2]\ntemperature = 0\n").unwrap();
    assert_eq!(config.dynamics.gamma, PerLayer::Layers(vec![0.5, 1.0, 2.0]));
    assert_eq!(config.dynamics.temperature, PerLayer::Scalar(0.0));
    assert_eq!(config.dynamics.gamma.resolve(3), vec![0.5, 1.0, 2.0]);
    assert_eq!(config.dynamics.temperature.resolve(3), vec![0.0; 3]);
}

#[test]
fn toml_errors_name_the_field() {
    let error = RunConfig::from_toml_str("[dynamics]\nintegrator = \"rk4\"\n").unwrap_err();
    assert_eq!(error.field, "dynamics.integrator");
    assert!(error.reason.contains("unknown variant `rk4`"), "{error}");
}

#[test]
fn canonical_json_sorts_keys_and_fills_defaults() {
    let config = RunConfig::from_json_str(r#"{"tasks": {"num_tasks": 3}}"#).unwrap();
    let canonical = config.canonical_json();
    let text = serde_json::to_string(&canonical).unwrap();
    assert!(
        text.starts_with(r#"{"data":{"data_seed":0,"dataset":"digits""#),
        "{text}"
    );

    let top_keys: Vec<&String> = canonical.as_object().unwrap().keys().collect();
    assert_eq!(
        top_keys,
        ["data", "dynamics", "ewc", "model", "psd", "tasks"]
    );
    assert_eq!(canonical["tasks"]["num_tasks"], 3);
    assert_eq!(canonical["dynamics"]["gamma"], 1.0);

    let reparsed: RunConfig = serde_json::from_value(canonical).unwrap();
    assert_eq!(reparsed, config);
}

#[test]
fn config_hash_is_stable_and_sensitive() {
    let default_hash = RunConfig::default().config_hash();
    assert_eq!(default_hash.len(), 64);
    assert!(
        default_hash
            .chars()
            .all(|character| character.is_ascii_hexdigit())
    );

    // Writing a default explicitly does not change the hash.
    let explicit = RunConfig::from_json_str(r#"{"dynamics": {"dt": 0.1}}"#).unwrap();
    assert_eq!(explicit.config_hash(), default_hash);

    let changed = RunConfig::from_json_str(r#"{"dynamics": {"dt": 0.05}}"#).unwrap();
    assert_ne!(changed.config_hash(), default_hash);
}

#[test]
fn baselines_replace_only_the_dynamics() {
    let mut config = RunConfig::default();
    config.dynamics.gamma = PerLayer::Layers(vec![0.5, 1.0, 2.0]);
    config.dynamics.dt = 0.2;
    config.dynamics.weight_decay = 1e-4;
    config.tasks.num_tasks = 3;

    let sgd = config.to_baseline(Baseline::Sgd);
    assert_eq!(sgd.dynamics.method, Method::Sgd);
    assert_eq!(sgd.dynamics.dt, 0.2);
    assert_eq!(sgd.dynamics.gamma, config.dynamics.gamma);
    assert_eq!(sgd.dynamics.weight_decay, 1e-4);
    assert!(sgd.dynamics.temperature.is_zero());
    assert!(sgd.dynamics.alpha.is_zero());
    assert_eq!(
        (&sgd.data, &sgd.tasks, &sgd.model, &sgd.ewc),
        (&config.data, &config.tasks, &config.model, &config.ewc)
    );

    let sgld = config.to_baseline(Baseline::Sgld);
    assert_eq!(sgld.dynamics.method, Method::Sgld);
    assert_eq!(sgld.dynamics.temperature, config.dynamics.temperature);
    assert!(sgld.dynamics.alpha.is_zero());

    let ewc = config.to_baseline(Baseline::Ewc);
    assert_eq!(ewc.dynamics, sgd.dynamics);
    assert!(ewc.ewc.enabled);
    assert_eq!(ewc.ewc.lambda, config.ewc.lambda);
    assert!(ewc.validate().is_ok());
}

#[test]
fn baseline_names_round_trip() {
    for baseline in Baseline::ALL {
        assert_eq!(baseline.to_string().parse::<Baseline>().unwrap(), baseline);
    }
    let error = "adam".parse::<Baseline>().unwrap_err();
    assert_eq!(error.field, "baseline");
    assert!(error.to_string().contains("use sgd, sgld or ewc"));
}

#[test]
fn example_files_are_valid_and_matched() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/");
    let run =
        RunConfig::from_toml_str(&std::fs::read_to_string(format!("{root}run.toml")).unwrap())
            .unwrap();
    let sgd =
        RunConfig::from_toml_str(&std::fs::read_to_string(format!("{root}run-sgd.toml")).unwrap())
            .unwrap();
    assert_eq!(
        run,
        RunConfig::default(),
        "examples/run.toml lists the defaults"
    );
    assert_eq!(
        sgd,
        run.to_baseline(Baseline::Sgd),
        "examples/run-sgd.toml is the matched baseline"
    );
}
