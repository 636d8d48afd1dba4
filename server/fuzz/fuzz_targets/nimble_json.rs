//! Fuzz target: `server::fuzzing::nimble_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::nimble_json(data));
