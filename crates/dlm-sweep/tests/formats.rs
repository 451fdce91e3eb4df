//! One sweep written in TOML, YAML and JSON expands to the same runs, and
//! names survive every format verbatim.

mod common;

use common::{collect_runs, plan_with};
use dlm_sweep::{Limits, SpecFormat, SweepSpec, parse_sweep};
use serde_json::json;

const SWEEP_TOML: &str = r#"
name = "formats"
seeds = [3, 1]
baselines = ["sgd", "sgld"]

[base.model]
hidden = [16, 16]

[base.tasks]
num_tasks = 2
steps_per_task = 20

[grid]
"dynamics.temperature" = [0, 0.01]
"dynamics.gamma" = [[1.0, 0.5, 0.5], 1.0]
"dynamics.schedule" = [{ kind = "constant" }, { kind = "hyperbolic", tau = 500 }]

[random]
n = 2
seed = 8
params."dynamics.alpha" = { log_uniform = [0.001, 1] }

[[include]]
"dynamics.coupling" = "tanh"
"#;

const SWEEP_YAML: &str = r#"
name: formats
seeds: [3, 1]
baselines: [sgd, sgld]
base:
  model:
    hidden: [16, 16]
  tasks:
    num_tasks: 2
    steps_per_task: 20
grid:
  dynamics.temperature: [0, 0.01]
  dynamics.gamma:
    - [1.0, 0.5, 0.5]
    - 1.0
  dynamics.schedule:
    - kind: constant
    - kind: hyperbolic
      tau: 500
random:
  n: 2
  seed: 8
  params:
    dynamics.alpha:
      log_uniform: [0.001, 1]
include:
  - dynamics.coupling: tanh
"#;

const SWEEP_JSON: &str = r#"
{
  "name": "formats",
  "seeds": [3, 1],
  "baselines": ["sgd", "sgld"],
  "base": { "model": { "hidden": [16, 16] }, "tasks": { "num_tasks": 2, "steps_per_task": 20 } },
  "grid": {
    "dynamics": { "temperature": [0, 0.01] },
    "dynamics.gamma": [[1.0, 0.5, 0.5], 1.0],
    "dynamics.schedule": [{ "kind": "constant" }, { "kind": "hyperbolic", "tau": 500 }]
  },
  "random": { "n": 2, "seed": 8, "params": { "dynamics.alpha": { "log_uniform": [0.001, 1] } } },
  "include": [{ "dynamics.coupling": "tanh" }]
}
"#;

fn run_keys(text: &str, format: SpecFormat) -> Vec<String> {
    let plan = plan_with(text, format, &Limits::default()).unwrap();
    collect_runs(&plan)
        .into_iter()
        .map(|run| run.run_key)
        .collect()
}

#[test]
fn formats_give_the_same_runs() {
    let toml_keys = run_keys(SWEEP_TOML, SpecFormat::Toml);
    let yaml_keys = run_keys(SWEEP_YAML, SpecFormat::Yaml);
    let json_keys = run_keys(SWEEP_JSON, SpecFormat::Json);

    // 8 grid points x 2 samples + 1 include entry = 17 points, 2 seeds each.
    // sgd keeps only gamma of these values (the include entry has the
    // scalar 1.0 too): 2 configurations. sgld keeps gamma, temperature and
    // schedule: 8 from the grid plus the include entry's defaults.
    assert_eq!(toml_keys.len(), 17 * 2 + 2 * 2 + 9 * 2);
    assert_eq!(toml_keys, yaml_keys);
    assert_eq!(toml_keys, json_keys);
}

#[test]
fn formats_from_path_and_content_type() {
    let paths = [
        ("sweep.toml", SpecFormat::Toml),
        ("dir/sweep.YAML", SpecFormat::Yaml),
        ("sweep.yml", SpecFormat::Yaml),
        ("sweep.json", SpecFormat::Json),
    ];
    for (path, expected) in paths {
        assert_eq!(
            SpecFormat::from_path(path.as_ref()).unwrap(),
            expected,
            "{path}"
        );
    }
    assert!(SpecFormat::from_path("sweep.txt".as_ref()).is_err());

    let content_types = [
        ("application/json", SpecFormat::Json),
        ("application/json; charset=utf-8", SpecFormat::Json),
        ("application/toml", SpecFormat::Toml),
        ("application/yaml", SpecFormat::Yaml),
        ("text/x-yaml", SpecFormat::Yaml),
    ];
    for (content_type, expected) in content_types {
        assert_eq!(
            SpecFormat::from_content_type(content_type).unwrap(),
            expected,
            "{content_type}"
        );
    }
    let error = SpecFormat::from_content_type("text/plain").unwrap_err();
    assert!(error.to_string().contains("text/plain"), "{error}");
}

#[test]
fn hostile_names_survive_verbatim() {
    let names = [
        "Robert'); DROP TABLE sweeps;--",
        "\"double\" and 'single' quotes \\ backslash",
        "température σ₀ = 1/k, 遗忘, 🔥🧠",
        "line one\nline two\ttabbed",
        "$(rm -rf /) `whoami` ${HOME} %s %n {}",
        "<script>alert(1)</script>",
        "\u{202e}right-to-left override",
        "key = \"value\"\n[table]",
        "- yaml: list\n? complex",
    ];

    for name in names {
        let document = json!({ "name": name, "seeds": 1 });
        let texts = [
            (toml::to_string(&document).unwrap(), SpecFormat::Toml),
            (
                serde_norway::to_string(&document).unwrap(),
                SpecFormat::Yaml,
            ),
            (serde_json::to_string(&document).unwrap(), SpecFormat::Json),
        ];

        for (text, format) in texts {
            let spec: SweepSpec = parse_sweep(&text, format).unwrap();

            assert_eq!(spec.name(), name, "{format} text:\n{text}");
            assert_eq!(spec.document()["name"], json!(name));
        }
    }
}

#[test]
fn name_of_two_hundred_characters_is_accepted() {
    // 200 characters of 4 bytes each: the limit counts characters.
    let name = "🧠".repeat(200);
    let text = serde_json::to_string(&json!({ "name": name })).unwrap();

    let spec = parse_sweep(&text, SpecFormat::Json).unwrap();

    assert_eq!(spec.name(), name);
}
