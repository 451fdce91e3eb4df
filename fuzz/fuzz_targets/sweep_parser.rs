//! Sweep files in TOML, YAML and JSON through parse, plan and expansion.
//! The checks are in `dlm_sweep::fuzz_check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dlm_sweep::fuzz_check::check_sweep_input(data);
});
