//! licd: a single-binary, on-prem software licensing server.
//!
//! Layers point one way: `http -> service -> {domain, store}`. `domain` holds pure rules
//! and depends only on `clock` and `error`. See `docs/architecture.md`. `agent` is the
//! appliance side (`licd agent`), built on the licd-client crate; it uses none of the
//! server's layers.

pub mod agent;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod pki;
pub mod server;
pub mod service;
pub mod store;
