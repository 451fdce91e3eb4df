//! CSV data sets through the CSV loader. The checks are in
//! `dlm_sim::fuzz_check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dlm_sim::fuzz_check::check_csv_input(data);
});
