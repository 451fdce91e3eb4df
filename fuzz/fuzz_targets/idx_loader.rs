//! An IDX image file and label file, split from one input, through the
//! IDX loader. The checks are in `dlm_sim::fuzz_check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dlm_sim::fuzz_check::check_idx_input(data);
});
