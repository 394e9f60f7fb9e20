//! One contact with licd: activate when the box holds no activation, else heartbeat
//! with the head lease's seq and the current user counts; the answer's lease joins the
//! chain, its directives are applied. Any failure (network, TLS, garbage, a refusal) is
//! an error for the caller to log and back off from: the store keeps what it had, and
//! the status moves toward `grace`, never a crash.

use super::config::AgentConfig;
use super::directives::{self, Before};
use super::identity::{keys_of, save_fetched_jwks};
use super::key_file;
use super::runtime::Agent;
use super::usage;
use anyhow::{Context, Result, anyhow, bail};
use licd_client::client::{ActivateRequest, Client};
use licd_client::formats::{LeaseClaims, UserCounts};
use licd_client::keys::PublicKey;
use licd_client::store::{Activation, LeaseStore, Mode, StoreError};
use licd_client::verify::{VerifyError, verify_license};
use std::time::Duration;

/// What a successful contact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// The box activated; the lease seq.
    Activated(i64),
    /// A heartbeat; the new lease seq.
    Heartbeat(i64),
    /// Nothing to do: the box runs from offline leases, or was released.
    Idle(String),
}

/// licd's keys: fetched when none are known yet (and kept), or when a token names a key
/// not among them (licd rotated its signing key).
fn fetch_keys(agent: &Agent, client: &Client) -> Result<Vec<PublicKey>> {
    if agent.config.jwks_file.is_some() {
        // A pinned JWKS is never replaced by what the network says.
        return Ok(agent.keys());
    }
    let jwks = client
        .jwks()
        .map_err(|e| anyhow!("fetching licd's JWKS: {e}"))?;
    let keys = keys_of(&jwks, "licd's JWKS")?;
    save_fetched_jwks(&agent.config, &jwks)?;
    agent.set_keys(keys.clone());
    Ok(keys)
}

fn known_keys(agent: &Agent, client: &Client) -> Result<Vec<PublicKey>> {
    let keys = agent.keys();
    if keys.is_empty() {
        return fetch_keys(agent, client);
    }
    Ok(keys)
}

/// The user counts from `usage_command`, or none (the failure logged).
pub fn current_usage(config: &AgentConfig) -> Option<UserCounts> {
    let command = config.usage_command.as_deref()?;
    let timeout = Duration::from_secs(config.usage_timeout_secs);
    match usage::read_counts(command, timeout) {
        Ok(counts) => Some(counts),
        Err(e) => {
            tracing::warn!(error = %e, "no user counts for this heartbeat");
            None
        }
    }
}

/// One contact with licd.
pub fn contact(agent: &Agent, client: &Client) -> Result<Contact> {
    let state = agent.cell.read()?;
    if state.mode == Mode::Offline {
        return Ok(Contact::Idle(
            "the box runs from an offline activation".into(),
        ));
    }
    if state.revoked.is_some() {
        return Ok(Contact::Idle(
            "the license was revoked (a revocation bundle)".into(),
        ));
    }
    match (&state.license_id, &state.activation_secret) {
        (Some(license_id), Some(secret)) => heartbeat(agent, client, license_id, secret),
        _ => activate(agent, client),
    }
}

fn activate(agent: &Agent, client: &Client) -> Result<Contact> {
    // Activation is rare: licd's keys are fetched afresh for it (a key rotated since the
    // copy was kept would refuse the key or the lease), the copy kept used if licd does
    // not answer.
    let keys = match fetch_keys(agent, client) {
        Ok(keys) => keys,
        Err(e) if agent.keys().is_empty() => return Err(e),
        Err(_) => agent.keys(),
    };
    let path = &agent.config.license_key_file;
    let now = agent.clock.now();
    let verify = |k: &str| {
        verify_license(k, &keys, None, now)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let license_key = key_file::recover(path, verify)?;
    let claims = verify_license(&license_key, &keys, None, now)
        .with_context(|| format!("the license key in {}", path.display()))?;
    let install_id = claims
        .install_id()
        .ok_or_else(|| anyhow!("the license key names no Install ID (aud {})", claims.aud))?
        .to_owned();
    let request = ActivateRequest {
        license_key: license_key.clone(),
        fingerprint: agent.identity.fingerprint.clone(),
        install_id: install_id.clone(),
        hostname: agent.identity.hostname.clone(),
        csr: None,
    };
    let activated = client
        .activate(&claims.jti, &request)
        .map_err(|e| anyhow!("activation refused or failed: {e}"))?;
    let now = agent.clock.now();
    let seq = agent.cell.update(now, |store| -> Result<i64> {
        let before = Before::of(store.state());
        store.begin_activation(
            Activation {
                license_id: claims.jti.clone(),
                install_id: install_id.clone(),
                fingerprint: agent.identity.fingerprint.clone(),
                activation_secret: Some(activated.activation_secret.clone()),
                mode: Mode::Online,
            },
            now,
        );
        store
            .install_license(&license_key, &keys, now)
            .map_err(|e| anyhow!("the license key: {e}"))?;
        let lease = store
            .accept_lease(&activated.lease.lease, &keys, now)
            .map_err(|e| anyhow!("the activation's lease: {e}"))?;
        store.record_contact(now);
        apply_directives(agent, store, &before, &lease, &keys);
        Ok(lease.seq)
    })??;
    Ok(Contact::Activated(seq))
}

fn heartbeat(agent: &Agent, client: &Client, license_id: &str, secret: &str) -> Result<Contact> {
    let counts = current_usage(&agent.config);
    let head_seq = agent.cell.read()?.chain_head().seq;
    let reply = client
        .heartbeat(
            license_id,
            secret,
            &agent.identity.fingerprint,
            head_seq,
            counts,
        )
        .map_err(|e| anyhow!("heartbeat failed: {e}"))?;
    let mut keys = known_keys(agent, client)?;
    let now = agent.clock.now();
    let accept = |keys: &[PublicKey]| {
        agent.cell.update(now, |store| -> Result<i64, StoreError> {
            let before = Before::of(store.state());
            let lease = store.accept_lease(&reply.lease, keys, now)?;
            if let Some(c) = counts {
                store.record_usage(c, now);
            }
            store.record_contact(now);
            apply_directives(agent, store, &before, &lease, keys);
            Ok(lease.seq)
        })
    };
    let mut result = accept(&keys)?;
    if let Err(StoreError::Verify(VerifyError::UnknownKey(_))) = &result
        && agent.config.jwks_file.is_none()
    {
        keys = fetch_keys(agent, client)?;
        result = accept(&keys)?;
    }
    match result {
        Ok(seq) => Ok(Contact::Heartbeat(seq)),
        Err(e @ (StoreError::ChainGap { .. } | StoreError::ChainBroken { .. })) => {
            // The next lease does not name the one held (a gap, which the store takes,
            // is not this): the box's chain and licd's parted ways. Activating again
            // starts a new chain (licd hands over what was pending).
            let now = agent.clock.now();
            agent.cell.update(now, |store| {
                store.state_mut().activation_secret = None;
                Ok::<_, std::convert::Infallible>(())
            })?;
            bail!("the lease from licd does not follow the one held ({e}): activating again")
        }
        Err(e) => bail!("the lease from licd was refused: {e}"),
    }
}

fn apply_directives(
    agent: &Agent,
    store: &mut LeaseStore,
    before: &Before,
    lease: &LeaseClaims,
    keys: &[PublicKey],
) {
    let done = directives::apply(
        store,
        before,
        lease,
        keys,
        &agent.config.license_key_file,
        agent.clock.now(),
    );
    for change in done.changes {
        tracing::info!(lease = lease.seq, "{change}");
    }
    for failure in done.failures {
        tracing::error!(lease = lease.seq, "{failure}");
    }
}
