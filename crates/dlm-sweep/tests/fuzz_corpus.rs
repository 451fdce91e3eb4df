//! Replays the committed corpus of the `sweep_parser` fuzz target through
//! the same check the fuzzer runs, so an input that once crashed the
//! parser or the planner stays fixed under `cargo test`.

use dlm_sim::fuzz_check::corpus_files;
use dlm_sweep::fuzz_check::check_sweep_input;

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
