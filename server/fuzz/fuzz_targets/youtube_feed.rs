//! Fuzz target: `server::fuzzing::youtube_feed`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::youtube_feed(data));
