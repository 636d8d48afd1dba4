//! Fuzz target: `server::fuzzing::restream_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::restream_json(data));
