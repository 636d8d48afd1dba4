//! Fuzz target: `server::fuzzing::ffmpeg_stderr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::ffmpeg_stderr(data));
