//! Fuzz target: `server::fuzzing::flv_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::flv_input(data));
