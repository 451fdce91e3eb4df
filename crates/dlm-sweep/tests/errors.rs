//! Rejected sweeps: each error names the field or point at fault.

mod common;

use common::{SMALL_BASE, plan_toml, plan_with, sweep_toml};
use dlm_sweep::{Limits, SpecFormat, SweepError, parse_sweep};

fn plan_error(sections: &str) -> SweepError {
    plan_toml(&sweep_toml(sections)).expect_err("the sweep should be rejected")
}

#[test]
fn invalid_point_in_thousand_point_grid() {
    // 100 gammas x 10 temperatures; gamma 12 (gamma * dt = 1.2 with the
    // default dt = 0.1) is value 61, so grid point 61 * 10 = 610 is the
    // first invalid one.
    let mut gammas: Vec<String> = (0..100)
        .map(|index| format!("{}", index as f64 * 0.05))
        .collect();
    gammas[61] = "12".to_owned();
    let temperatures: Vec<String> = (0..10)
        .map(|index| format!("{}", index as f64 * 0.01))
        .collect();
    let sections = format!(
        "grid.\"dynamics.gamma\" = [{}]\ngrid.\"dynamics.temperature\" = [{}]",
        gammas.join(", "),
        temperatures.join(", ")
    );

    let error = plan_error(&sections);

    let SweepError::InvalidPoint {
        point_index, field, ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(*point_index, 610);
    assert_eq!(field, "dynamics.gamma");
    let message = error.to_string();
    assert!(
        message.starts_with("grid point 610 (dynamics.gamma = 12, dynamics.temperature = 0): invalid dynamics.gamma = 12"),
        "{message}"
    );
    assert!(message.contains("gamma*dt must be below 1"), "{message}");
}

#[test]
fn invalid_point_wrong_value_types() {
    // (sections, the config path the error must name)
    let cases = [
        (
            "grid.\"dynamics.temperature\" = [0.1, \"hot\"]",
            "dynamics.temperature",
        ),
        (
            "grid.\"dynamics.coupling\" = [\"cubic\"]",
            "dynamics.coupling",
        ),
        ("grid.\"tasks.num_tasks\" = [2, -1]", "tasks.num_tasks"),
        ("grid.\"dynamics.gamma\" = [[1.0, 0.5]]", "dynamics.gamma"),
        ("[[include]]\n\"dynamics.dt\" = 0", "dynamics.dt"),
        ("[[include]]\n\"model.hidden\" = \"wide\"", "model.hidden"),
    ];

    for (sections, expected_field) in cases {
        let error = plan_error(sections);

        let SweepError::InvalidPoint { field, .. } = &error else {
            panic!("unexpected error for `{sections}`: {error}");
        };
        assert_eq!(field, expected_field, "for `{sections}`: {error}");
        assert!(error.to_string().contains(expected_field), "{error}");
    }
}

#[test]
fn invalid_point_labels_name_the_origin() {
    // (sections, start of the message)
    let cases = [
        (
            "[[include]]\n\"dynamics.alpha\" = 0.0\n[[include]]\n\"dynamics.gamma\" = 20",
            "include entry 1 (dynamics.gamma = 20): invalid dynamics.gamma = 20",
        ),
        (
            "grid.\"dynamics.dt\" = [0.1, 0.5]\n[random]\nn = 4\nseed = 3\nparams.\"dynamics.gamma\" = { choice = [3] }",
            "random sample 0 of grid point 1 (dynamics.dt = 0.5, dynamics.gamma = 3): invalid dynamics.gamma = 3",
        ),
    ];

    for (sections, start) in cases {
        let message = plan_error(sections).to_string();

        assert!(message.starts_with(start), "{message}");
    }
}

#[test]
fn too_many_runs_before_building() {
    let limits = Limits { max_runs: 1000 };
    let values: Vec<String> = (0..10)
        .map(|index| format!("{}", index as f64 * 0.01))
        .collect();
    let sections = format!(
        "seeds = 11\ngrid.\"dynamics.temperature\" = [{0}]\ngrid.\"dynamics.alpha\" = [{0}]",
        values.join(", ")
    );

    let error = plan_with(&sweep_toml(&sections), SpecFormat::Toml, &limits).unwrap_err();

    let SweepError::TooManyRuns { count, limit } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!((*count, *limit), (1100, 1000));
    let message = error.to_string();
    assert!(
        message.contains("1100 runs") && message.contains("limit of 1000"),
        "{message}"
    );
}

#[test]
fn too_many_runs_counting_baselines() {
    // 10 x 10 points x 9 seeds = 900 runs, plus sgld (10 temperatures x 9
    // seeds), sgd (9) and ewc (9) baselines = 1008.
    let limits = Limits { max_runs: 1000 };
    let values: Vec<String> = (0..10)
        .map(|index| format!("{}", index as f64 * 0.01))
        .collect();
    let sections = format!(
        "seeds = 9\nbaselines = [\"sgd\", \"sgld\", \"ewc\"]\ngrid.\"dynamics.temperature\" = [{0}]\ngrid.\"dynamics.alpha\" = [{0}]",
        values.join(", ")
    );
    let text = sweep_toml(&sections);

    let error = plan_with(&text, SpecFormat::Toml, &limits).unwrap_err();
    let within = plan_with(&text, SpecFormat::Toml, &Limits { max_runs: 1008 }).unwrap();

    assert!(
        matches!(
            error,
            SweepError::TooManyRuns {
                count: 1008,
                limit: 1000
            }
        ),
        "{error}"
    );
    assert_eq!(within.run_count(), 1008);
}

#[test]
fn too_many_runs_astronomical_grid() {
    // 30 axes of 10 values: 10^30 points. The count is checked before the
    // paths, so the made-up paths are never looked at.
    let axes: Vec<String> = (0..30)
        .map(|axis| format!("grid.\"dynamics.alpha{axis}\" = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"))
        .collect();

    let error = plan_error(&axes.join("\n"));

    let SweepError::TooManyRuns { count, .. } = error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(count, 10u128.pow(30));
}

#[test]
fn unknown_paths_suggest_nearest() {
    // (sections, section named, unknown path, first suggestion)
    let cases = [
        (
            "grid.\"dynamics.temprature\" = [0]",
            "grid",
            "dynamics.temprature",
            "dynamics.temperature",
        ),
        (
            "grid.\"dynamcs.gamma\" = [1]",
            "grid",
            "dynamcs.gamma",
            "dynamics.gamma",
        ),
        (
            "[random]\nn = 2\nseed = 1\nparams.\"dynamics.alfa\" = { uniform = [0, 1] }",
            "random.params",
            "dynamics.alfa",
            "dynamics.alpha",
        ),
        (
            "[[include]]\n\"model.hiden\" = [4]",
            "include[0]",
            "model.hiden",
            "model.hidden",
        ),
    ];

    for (sections, expected_section, expected_path, suggestion) in cases {
        let error = plan_error(sections);

        let SweepError::UnknownPath {
            section,
            path,
            nearest,
        } = &error
        else {
            panic!("unexpected error for `{sections}`: {error}");
        };
        assert_eq!(section, expected_section);
        assert_eq!(path, expected_path);
        assert_eq!(
            nearest.first().map(String::as_str),
            Some(suggestion),
            "{error}"
        );
        assert!(error.to_string().contains(expected_path), "{error}");
    }
}

#[test]
fn path_below_single_value() {
    let error = plan_error("grid.\"dynamics.dt.value\" = [0.1]");

    let SweepError::PathBelowValue { path, parent, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(path, "dynamics.dt.value");
    assert_eq!(parent, "dynamics.dt");
}

#[test]
fn unknown_keys_are_named() {
    // (sweep file, section, unknown key)
    let cases = [
        ("name = \"x\"\ngrids = {}", "the sweep file", "grids"),
        (
            "name = \"x\"\n[random]\nn = 1\nseed = 1\nparams = {}\nsamples = 3",
            "`random`",
            "samples",
        ),
        (
            "name = \"x\"\n[random]\nn = 1\nseed = 1\nparams.\"dynamics.alpha\" = { normal = [0, 1] }",
            "`random.params.dynamics.alpha`",
            "normal",
        ),
    ];

    for (text, expected_section, expected_key) in cases {
        let error = parse_sweep(text, SpecFormat::Toml).unwrap_err();

        let SweepError::UnknownKey { section, key, .. } = &error else {
            panic!("unexpected error for `{text}`: {error}");
        };
        assert_eq!(section, expected_section, "{error}");
        assert_eq!(key, expected_key, "{error}");
    }
}

#[test]
fn invalid_base_values_are_named() {
    // (base section, field, value shown, words of the reason)
    let cases = [
        (
            "[base.dynamics]\ntemprature = 0.1",
            "base.dynamics.temprature",
            "0.1",
            "unknown field `temprature`",
        ),
        (
            "[base.model]\nhidden = [16, \"wide\"]",
            "base.model.hidden[1]",
            "\"wide\"",
            "invalid type: string",
        ),
        (
            "[base.dynamics]\ncoupling = \"cubic\"",
            "base.dynamics.coupling",
            "\"cubic\"",
            "unknown variant `cubic`",
        ),
    ];

    for (base, expected_field, expected_value, words) in cases {
        let text = format!("name = \"test\"\n{base}");

        let error = plan_toml(&text).unwrap_err();

        let SweepError::InvalidField {
            field,
            value,
            reason,
        } = &error
        else {
            panic!("unexpected error for `{base}`: {error}");
        };
        assert_eq!(field, expected_field, "{error}");
        assert_eq!(value, expected_value, "{error}");
        assert!(reason.contains(words), "{error}");
    }
}

#[test]
fn invalid_fields_are_named() {
    // (sweep file without its name line, field the error names, words the
    // message must contain)
    let cases = [
        (
            "grid.\"dynamics.temperature\" = []",
            "grid.dynamics.temperature",
            "at least one value",
        ),
        (
            "grid.\"dynamics.temperature\" = 0.1",
            "grid.dynamics.temperature",
            "write [0.1]",
        ),
        ("grid = [1, 2]", "grid", "expected a table"),
        ("seeds = 0", "seeds", "at least 1"),
        ("seeds = -3", "seeds", "whole number"),
        ("seeds = \"3\"", "seeds", "whole number"),
        ("seeds = 2.5", "seeds", "whole number"),
        ("seeds = []", "seeds", "at least one seed"),
        ("seeds = [1, 2, 1]", "seeds", "seed 1 is listed twice"),
        ("seeds = [1, -2]", "seeds[1]", "whole number"),
        (
            "baselines = [\"adam\"]",
            "baselines[0]",
            "\"sgd\", \"sgld\" or \"ewc\"",
        ),
        ("baselines = \"sgd\"", "baselines", "expected a list"),
        (
            "baselines = [\"sgd\", \"sgd\"]",
            "baselines",
            "listed twice",
        ),
        ("include = { a = 1 }", "include", "expected a list"),
        ("include = [3]", "include[0]", "expected a table"),
        ("base = 3", "base", "expected a table"),
        (
            "random = { n = 0, seed = 1, params = { \"dynamics.alpha\" = { uniform = [0, 1] } } }",
            "random.n",
            "at least 1",
        ),
        (
            "random = { n = 2, seed = 1, params = {} }",
            "random.params",
            "at least one parameter",
        ),
        (
            "random = { n = 2, seed = -1, params = { \"dynamics.alpha\" = { uniform = [0, 1] } } }",
            "random.seed",
            "whole number",
        ),
    ];

    for (sections, expected_field, words) in cases {
        let text = format!("name = \"test\"\n{sections}");

        let error = parse_sweep(&text, SpecFormat::Toml).unwrap_err();

        let SweepError::InvalidField { field, .. } = &error else {
            panic!("unexpected error for `{sections}`: {error}");
        };
        assert_eq!(field, expected_field, "for `{sections}`: {error}");
        assert!(
            error.to_string().contains(words),
            "for `{sections}`: {error}"
        );
    }
}

#[test]
fn bad_distributions_are_named() {
    let field = "random.params.dynamics.alpha";
    // (distribution, field the error names, words the message must contain)
    let cases = [
        (
            "{ uniform = [1, 0] }",
            format!("{field}.uniform"),
            "lower bound must be below",
        ),
        (
            "{ uniform = [1, 1] }",
            format!("{field}.uniform"),
            "lower bound must be below",
        ),
        (
            "{ uniform = [0] }",
            format!("{field}.uniform"),
            "two bounds",
        ),
        (
            "{ uniform = [0, \"x\"] }",
            format!("{field}.uniform[1]"),
            "finite number",
        ),
        (
            "{ uniform = \"wide\" }",
            format!("{field}.uniform"),
            "expected a list",
        ),
        (
            "{ uniform = [-1.5e308, 1.5e308] }",
            format!("{field}.uniform"),
            "cannot be sampled",
        ),
        (
            "{ log_uniform = [0, 1] }",
            format!("{field}.log_uniform"),
            "above 0",
        ),
        (
            "{ log_uniform = [-1, 1] }",
            format!("{field}.log_uniform"),
            "above 0",
        ),
        (
            "{ choice = [] }",
            format!("{field}.choice"),
            "at least one value",
        ),
        (
            "{ uniform = [0, 1], choice = [1] }",
            field.to_owned(),
            "exactly one",
        ),
        ("{}", field.to_owned(), "exactly one"),
        ("[0, 1]", field.to_owned(), "expected a table"),
    ];

    for (distribution, expected_field, words) in cases {
        let text = format!(
            "name = \"t\"\n[random]\nn = 3\nseed = 1\n[random.params]\n\"dynamics.alpha\" = {distribution}"
        );

        let error = parse_sweep(&text, SpecFormat::Toml).unwrap_err();

        let SweepError::InvalidField { field, .. } = &error else {
            panic!("unexpected error for `{distribution}`: {error}");
        };
        assert_eq!(field, &expected_field, "for `{distribution}`: {error}");
        assert!(
            error.to_string().contains(words),
            "for `{distribution}`: {error}"
        );
    }
}

#[test]
fn missing_fields_are_named() {
    let cases = [
        ("seeds = 1", "name"),
        (
            "name = \"x\"\n[random]\nseed = 1\nparams.\"dynamics.alpha\" = { uniform = [0, 1] }",
            "random.n",
        ),
        (
            "name = \"x\"\n[random]\nn = 1\nparams.\"dynamics.alpha\" = { uniform = [0, 1] }",
            "random.seed",
        ),
        ("name = \"x\"\n[random]\nn = 1\nseed = 1", "random.params"),
    ];

    for (text, expected_field) in cases {
        let error = parse_sweep(text, SpecFormat::Toml).unwrap_err();

        let SweepError::MissingField { field, .. } = &error else {
            panic!("unexpected error for `{text}`: {error}");
        };
        assert_eq!(field, expected_field);
    }
}

#[test]
fn invalid_names() {
    let long = "n".repeat(201);
    let cases = [
        (r#"{ "name": "" }"#, "visible character"),
        (r#"{ "name": "  \t " }"#, "visible character"),
        (r#"{ "name": 5 }"#, "expected a string"),
        (r#"{ "name": "a\u0000b" }"#, "U+0000"),
    ];
    let long_case = format!("{{ \"name\": \"{long}\" }}");

    for (text, words) in cases
        .iter()
        .copied()
        .chain([(long_case.as_str(), "201 characters")])
    {
        let error = parse_sweep(text, SpecFormat::Json).unwrap_err();

        let SweepError::InvalidField { field, .. } = &error else {
            panic!("unexpected error for `{text}`: {error}");
        };
        assert_eq!(field, "name");
        assert!(error.to_string().contains(words), "{error}");
    }
}

#[test]
fn grid_and_random_on_one_path() {
    let sections = "grid.\"dynamics.alpha\" = [0]\n[random]\nn = 2\nseed = 1\nparams.\"dynamics.alpha\" = { uniform = [0, 1] }";

    let error = plan_error(sections);

    let SweepError::InvalidField { field, reason, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(field, "random.params.dynamics.alpha");
    assert!(reason.contains("also a grid axis"), "{reason}");
}

#[test]
fn syntax_errors_name_the_format() {
    let cases = [
        ("name = ", SpecFormat::Toml, "invalid TOML"),
        ("name: [", SpecFormat::Yaml, "invalid YAML"),
        ("{\"name\": ", SpecFormat::Json, "invalid JSON"),
        ("[1, 2]", SpecFormat::Json, "expected a table"),
        ("[1, 2]", SpecFormat::Json, "found a list"),
        ("", SpecFormat::Yaml, "found nothing (an empty document)"),
        ("3", SpecFormat::Yaml, "expected a table with `name`"),
        // YAML's non-finite floats never reach a configuration.
        (
            "name: x\ngrid:\n  dynamics.temperature: [.nan]",
            SpecFormat::Yaml,
            "non-finite float",
        ),
        (
            "name: x\nname: y",
            SpecFormat::Yaml,
            "duplicate mapping key",
        ),
        (
            "name = \"x\"\nname = \"y\"",
            SpecFormat::Toml,
            "duplicate key",
        ),
        (
            "{\"name\": \"x\", \"name\": \"y\"}",
            SpecFormat::Json,
            "duplicate key `name`",
        ),
    ];

    for (text, format, words) in cases {
        let error = parse_sweep(text, format).unwrap_err();

        assert!(error.to_string().contains(words), "for `{text}`: {error}");
    }
}

#[test]
fn small_base_is_valid() {
    // The other tests rely on the shared base being a valid configuration.
    let plan = plan_toml(&format!("name = \"base\"\n{SMALL_BASE}")).unwrap();

    assert_eq!(plan.run_count(), 1);
}

#[test]
fn yaml_alias_expansion_is_bounded() {
    // Nine levels of aliases, each repeating the one before nine times,
    // expand to 9^9 (about 387 million) nodes; the reader stops first.
    let mut text = String::from("name: laughs\nbase:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..9 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 9].join(", ");
        text.push_str(&format!("  a{level}: &a{level} [{items}]\n"));
    }

    let error = parse_sweep(&text, SpecFormat::Yaml).unwrap_err();

    assert!(error.to_string().contains("invalid YAML"), "{error}");
}
