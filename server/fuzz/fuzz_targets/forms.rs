//! Fuzz target: `server::fuzzing::forms`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::forms(data));
