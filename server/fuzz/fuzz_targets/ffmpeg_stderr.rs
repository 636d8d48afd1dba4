//! Fuzz target: `server::fuzzing::ffmpeg_stderr`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: server::fuzzing::install_panic_hook(), |data: &[u8]| server::fuzzing::ffmpeg_stderr(data));
