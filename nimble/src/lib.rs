//! Nimble Streamer integration for Fanout: config templates and a client of Nimble's native
//! management API (RTMP republish rules and their status). Filled by a later issue; see the
//! crate's README.

#![deny(unsafe_code, rust_2018_idioms)]
