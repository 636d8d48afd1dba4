//! Fuzz target: `server::fuzzing::manage_link`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::manage_link(data));
