//! Fuzz target: `server::fuzzing::flv_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::flv_input(data));
