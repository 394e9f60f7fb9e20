//! `licd agent run`: serve the status API, then contact licd forever: at the lease's
//! interval (with jitter) while it answers, backing off exponentially up to
//! `backoff_max_secs` while it does not. Nothing licd or the network does stops the
//! agent: every failure is logged and the status moves toward `grace`.

use super::config::AgentConfig;
use super::heartbeat::{Contact, contact, current_usage};
use super::runtime::Agent;
use super::schedule::random_unit;
use super::status_api::{StatusSource, bind_socket, bind_tcp, serve_tcp, serve_unix};
use super::store_cell::Snapshot;
use anyhow::{Context, Result};
use licd_client::client::Client;
use std::sync::Arc;

/// Runs the agent until the process is stopped.
pub fn run(config: AgentConfig) -> Result<()> {
    let agent = Arc::new(Agent::start(config)?);
    let source: StatusSource = {
        let agent = agent.clone();
        Arc::new(move || agent.status_json().to_string())
    };
    let socket = &agent.config.socket;
    let unix =
        bind_socket(socket).with_context(|| format!("the status socket {}", socket.display()))?;
    serve_unix(unix, source.clone());
    if let Some(addr) = agent.config.listen {
        let tcp = bind_tcp(addr).with_context(|| format!("the status port {addr}"))?;
        serve_tcp(tcp, source);
    }
    let client = match &agent.config.server_url {
        Some(url) => {
            let ca = match &agent.config.ca_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("ca_file {}", path.display()))?,
                ),
                None => None,
            };
            Some(
                Client::new(url, ca.as_deref(), agent.config.request_timeout())
                    .map_err(|e| anyhow::anyhow!("server_url {url}: {e}"))?,
            )
        }
        None => None,
    };
    tracing::info!(
        socket = %socket.display(),
        listen = ?agent.config.listen,
        server = agent.config.server_url.as_deref().unwrap_or("none (offline-only)"),
        fingerprint = %agent.identity.fingerprint,
        "licd agent started"
    );
    let mut failures: u32 = 0;
    let mut last_state = String::new();
    loop {
        // Whether this round's user counts were recorded with a heartbeat.
        let mut counted = false;
        if let Some(client) = &client {
            match contact(&agent, client) {
                Ok(Contact::Activated(seq)) => {
                    failures = 0;
                    tracing::info!(lease = seq, "activated");
                }
                Ok(Contact::Heartbeat(seq)) => {
                    failures = 0;
                    counted = true;
                    tracing::debug!(lease = seq, "heartbeat");
                }
                Ok(Contact::Idle(why)) => {
                    failures = 0;
                    tracing::debug!("no heartbeat: {why}");
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(failures, "licd not reached: {e:#}");
                }
            }
        }
        if !counted {
            note_usage(&agent);
        }
        note_clock(&agent);
        let status = agent.status_json();
        let state = status["state"].as_str().unwrap_or("unknown").to_owned();
        if state != last_state {
            tracing::info!(from = %last_state, to = %state, status = %status, "license state");
            last_state = state;
        }
        let lease_interval = match agent.cell.snapshot() {
            Snapshot::State(s) => s.lease().map(|l| l.heartbeat_interval_secs),
            Snapshot::Broken(_) => None,
        };
        let wait = agent
            .schedule
            .next_wait(lease_interval, failures, random_unit());
        std::thread::sleep(wait);
    }
}

/// Records the current user counts in the store's daily peaks when no heartbeat carried
/// them (an air-gapped box, or licd out of reach): the true-up usage report is made of
/// these. Nothing is recorded before an activation.
fn note_usage(agent: &Agent) {
    let Snapshot::State(state) = agent.cell.snapshot() else {
        return;
    };
    if state.lease().is_none() {
        return;
    }
    let Some(counts) = current_usage(&agent.config) else {
        return;
    };
    let now = agent.clock.now();
    if let Err(e) = agent.cell.update(now, |store| {
        store.record_usage(counts, now);
        Ok::<_, std::convert::Infallible>(())
    }) {
        tracing::error!("recording user counts: {e}");
    }
}

/// Records a clock rollback in the store (for usage reports) when one is seen now.
fn note_clock(agent: &Agent) {
    let Snapshot::State(state) = agent.cell.snapshot() else {
        return;
    };
    let now = agent.clock.now();
    let policy = agent.policy(&state);
    let Some(rollback) = policy
        .clock
        .check(now, &state, Some(agent.clock.monotonic()))
    else {
        return;
    };
    let recorded = agent.cell.update(now, |store| {
        let before = store.state().rollbacks.last().cloned();
        store.record_rollback(&rollback, now);
        Ok::<_, std::convert::Infallible>(store.state().rollbacks.last() != before.as_ref())
    });
    match recorded {
        Ok(Ok(true)) => tracing::warn!(
            by_secs = rollback.by.num_seconds(),
            signal = rollback.signal.as_str(),
            "the clock was set back"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!("recording a clock rollback: {e}"),
    }
}
