//! Replays the committed corpora of the `idx_loader` and `csv_loader` fuzz
//! targets through the same checks the fuzzer runs, so an input that once
//! crashed a loader stays fixed under `cargo test`.

use dlm_sim::fuzz_check::{check_csv_input, check_idx_input, corpus_files};

/// Runs `check` on every file of the corpus of `target`.
fn replay(target: &str, check: fn(&[u8])) {
    let files = corpus_files(target);
    assert!(
        files.len() >= 3,
        "the {target} corpus has {} files",
        files.len()
    );

    for path in files {
        let data = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        check(&data);
    }
}

#[test]
fn idx_loader_corpus_replays() {
    replay("idx_loader", check_idx_input);
}

#[test]
fn csv_loader_corpus_replays() {
    replay("csv_loader", check_csv_input);
}
