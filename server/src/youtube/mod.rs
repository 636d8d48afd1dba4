//! YouTube: reading the watched channel's `/live` page ([`page`]), watching the channel
//! ([`detect`]: through its public feed with the page when the feed calls for it, [`feed`], the
//! default; or through the Data API, [`data_api`], with a key), resolving a live's stream ([`resolve`]: yt-dlp, or the page's own manifest first when
//! configured), running yt-dlp with the operator's levers ([`ytdlp`]), and the proxy as
//! Fanout's children are given it ([`proxy`]); how its pages are fetched ([`client`], with the
//! operator's [`cookies`]).

pub mod client;
pub mod cookies;
pub mod data_api;
pub mod detect;
pub mod feed;
pub mod page;
pub mod proxy;
pub mod resolve;
pub mod ytdlp;
