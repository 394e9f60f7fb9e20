#![allow(clippy::unwrap_used, clippy::expect_used)]
//! licd's integration tests: one binary, a module per area. Each test talks real HTTP to
//! a real server on a loopback port with a real SQLite data dir.

mod audit;
mod audit_search;
mod auth;
mod backup;
mod bootstrap;
mod browser;
mod browser_ops;
mod ca_issue;
mod cli_texts;
mod config;
mod console_forms;
mod credentials;
mod directives;
mod enterprise;
mod errors;
mod harness;
mod input_limits;
mod installations;
mod installations_page;
mod keys;
mod licensing;
mod login_flood;
mod metrics;
mod migrations;
mod openapi;
mod permissions;
mod settings;
mod static_files;
mod storage;
mod tls;
