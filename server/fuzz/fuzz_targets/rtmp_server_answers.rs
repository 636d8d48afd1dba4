//! Fuzz target: `server::fuzzing::rtmp_server_answers`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::rtmp_server_answers(data));
