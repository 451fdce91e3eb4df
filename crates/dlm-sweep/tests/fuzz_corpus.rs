//! Replays the committed corpus of the `sweep_parser` fuzz target through
//! the same check the fuzzer runs, so an input that once crashed the
//! parser or the planner stays fixed under `cargo test`.

use dlm_sim::fuzz_check::corpus_files;
use dlm_sweep::fuzz_check::{FUZZ_LIMITS, check_sweep_input};
use dlm_sweep::{SpecFormat, parse_sweep};

#[test]
fn sweep_parser_corpus_replays() {
    let files = corpus_files("sweep_parser");
    assert!(files.len() >= 3, "the corpus has {} files", files.len());

    for path in files {
        let data = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        check_sweep_input(&data);
    }
}

#[test]
fn valid_corpus_sweeps_plan() {
    // These inputs must plan, so the fuzzer starts from sweeps that reach
    // the expansion and not only from rejections.
    let cases = [
        ("tiny.toml", SpecFormat::Toml),
        ("full.toml", SpecFormat::Toml),
        ("nested.yaml", SpecFormat::Yaml),
        ("points.json", SpecFormat::Json),
    ];
    let folder = corpus_files("sweep_parser")[0]
        .parent()
        .unwrap()
        .to_path_buf();

    for (name, format) in cases {
        let text = std::fs::read_to_string(folder.join(name)).unwrap();
        let spec = parse_sweep(&text, format).unwrap_or_else(|error| panic!("{name}: {error}"));
        let plan = spec
            .plan(&FUZZ_LIMITS)
            .unwrap_or_else(|error| panic!("{name}: {error}"));

        assert!(
            plan.run_count() > 1,
            "{name} plans {} runs",
            plan.run_count()
        );
    }
}
