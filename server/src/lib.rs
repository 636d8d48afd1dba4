//! Fanout's server side: configuration, the web server that renders and hydrates the `app`
//! pages, and the live engine (detection, destinations, ingest, the backend that fans a live
//! out). The `fanout` binary is a thin front to it; `ARCHITECTURE.md` is the map.

pub mod access;
pub mod admin;
pub mod api;
pub mod check;
pub mod child;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod fanout;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod health;
pub mod http;
pub mod ingest;
pub mod manage;
pub mod metrics;
pub mod nimble_config;
pub mod notify;
pub mod origin;
pub mod pages;
pub mod relay;
pub mod restream;
pub mod serve;
pub mod shutdown;
pub mod signup;
pub mod standalone;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod unsubscribe;
pub mod youtube;
