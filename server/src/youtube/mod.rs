//! YouTube: reading the watched channel's `/live` page ([`page`]), polling it ([`detect`]),
//! and resolving a live's stream ([`resolve`]: the manifest from the page, yt-dlp as fallback).

pub mod detect;
pub mod page;
pub mod resolve;
