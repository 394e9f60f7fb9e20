//! `licd agent`: the appliance side of licd, built on the licd-client crate. It
//! activates, heartbeats (jitter, exponential backoff), keeps the lease chain in the
//! MAC-protected store, applies directives (lock, unlock, message, install a renewed
//! key), notices a clock set back, and answers `GET /status` on a Unix socket (and an
//! optional loopback port) so the vendor's product asks it instead of embedding
//! anything. The air-gap commands write and read the transfer files.
//!
//! Time: the agent reads the clock in one place, [`clock::AgentClock`].

pub mod clock;
pub mod commands;
pub mod config;
pub mod directives;
pub mod files;
pub mod heartbeat;
pub mod identity;
pub mod key_file;
pub mod run;
pub mod runtime;
pub mod schedule;
pub mod status_api;
pub mod status_text;
pub mod store_cell;
pub mod usage;
