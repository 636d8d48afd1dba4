//! Fuzz target: `server::fuzzing::restream_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::restream_json(data));
