//! The air-gap commands: `offline-request`, `offline-import`, `release`,
//! `usage-report`. Each changes the lease store under its lock (beside a running agent,
//! which sees the change at its next status question) and writes or reads a transfer
//! file. Each returns what to tell the person at the terminal.

use super::clock::AgentClock;
use super::config::AgentConfig;
use super::directives;
use super::files::{sibling, write_atomic};
use super::heartbeat;
use super::identity::{Identity, keys_of, load_jwks};
use super::key_file;
use super::store_cell::StoreCell;
use anyhow::{Context, Result, anyhow, bail};
use licd_client::formats::{LicenseClaims, Transfer};
use licd_client::keys::PublicKey;
use licd_client::offline;
use licd_client::verify::verify_license;
use std::path::Path;

/// What every command needs: the identity, licd's keys, the store, the clock.
struct Appliance {
    config: AgentConfig,
    identity: Identity,
    keys: Vec<PublicKey>,
    cell: StoreCell,
    clock: AgentClock,
}

fn open(config: &AgentConfig) -> Result<Appliance> {
    let identity = Identity::load(config)?;
    let jwks = load_jwks(config)?.ok_or_else(|| {
        anyhow!(
            "licd's public keys are not known on this box: set jwks_file in the agent config to a copy of `licd keys export` (or let the agent fetch them from server_url once)"
        )
    })?;
    let keys = keys_of(&jwks, "the JWKS")?;
    let cell = StoreCell::new(&config.store_path(), identity.key.clone());
    Ok(Appliance {
        config: config.clone(),
        identity,
        keys,
        cell,
        clock: AgentClock::start(config.clock_offset_secs),
    })
}

fn license(b: &Appliance) -> Result<LicenseClaims> {
    let path = &b.config.license_key_file;
    let key = key_file::read(path)?;
    verify_license(&key, &b.keys, None, b.clock.now())
        .with_context(|| format!("the license key in {}", path.display()))
}

fn write_transfer(out: &Path, transfer: &Transfer) -> Result<()> {
    Ok(offline::write_file(out, transfer)?)
}

/// `licd agent offline-request --out F`.
pub fn offline_request(config: &AgentConfig, out: &Path) -> Result<String> {
    let b = open(config)?;
    let claims = license(&b)?;
    let now = b.clock.now();
    let transfer = b.cell.update(now, |store| {
        offline::offline_request(
            store,
            &b.identity.key,
            &claims,
            &b.identity.fingerprint_value,
            b.identity.hostname.as_deref(),
            now,
        )
    })??;
    write_transfer(out, &transfer)?;
    Ok(format!(
        "Wrote {}: an offline activation request for license {} (fingerprint {}). Upload it on the license's page in licd (or `licd license offline-activate`), then bring the answer back: licd agent offline-import FILE",
        out.display(),
        claims.jti,
        b.identity.fingerprint
    ))
}

/// `licd agent offline-import F`.
pub fn offline_import(config: &AgentConfig, file: &Path) -> Result<Vec<String>> {
    let b = open(config)?;
    let transfer = offline::read_file(file)?;
    let now = b.clock.now();
    let key_path = &b.config.license_key_file;
    let (imported, installed) = b.cell.update(now, |store| -> Result<_> {
        let imported = offline::import(store, &transfer, &b.keys, now)?;
        // An offline response or a renewal installs its key in the store: the key file
        // follows.
        let installed = match store.state().license_key.clone() {
            Some(key) if key_file::read(key_path).ok().as_deref() != Some(key.as_str()) => {
                directives::install_key(store, &key, &b.keys, key_path, now)
                    .map_err(|e| anyhow!(e))?
            }
            _ => false,
        };
        Ok((imported, installed))
    })??;
    let mut said: Vec<String> = imported.iter().map(ToString::to_string).collect();
    if installed {
        said.push(format!(
            "Installed the license key it carries in {}.",
            key_path.display()
        ));
    }
    if said.is_empty() {
        bail!("{} carries nothing to import", file.display());
    }
    Ok(said)
}

/// `licd agent release --out F`. Only for a box that does not talk to licd: a running
/// agent with `server_url` would activate again at once.
pub fn release(config: &AgentConfig, out: &Path) -> Result<String> {
    if let Some(url) = &config.server_url {
        bail!(
            "release is for air-gapped boxes, and this one talks to licd at {url}: ask staff to rebind or revoke the license there (or remove server_url from the agent config and stop the agent first)"
        );
    }
    let b = open(config)?;
    let usage = heartbeat::current_usage(config).unwrap_or_default();
    let now = b.clock.now();
    let transfer = b.cell.update(now, |store| {
        offline::release(store, &b.identity.key, usage, now)
    })??;
    write_transfer(out, &transfer)?;
    Ok(format!(
        "Wrote {}: the release proof. This box no longer holds the license; upload the file in licd to free it for another box.",
        out.display()
    ))
}

/// `licd agent usage-report --out F` (and `F.txt` for people).
pub fn usage_report(config: &AgentConfig, out: &Path) -> Result<String> {
    let b = open(config)?;
    let now = b.clock.now();
    let (transfer, human) = b.cell.update(now, |store| {
        offline::usage_report(store, &b.identity.key, now)
    })??;
    write_transfer(out, &transfer)?;
    let txt = sibling(out, ".txt");
    write_atomic(&txt, human.as_bytes(), 0o644)
        .with_context(|| format!("writing {}", txt.display()))?;
    Ok(format!(
        "Wrote {} (and {} for people): upload it in licd; bring the acknowledgement back with licd agent offline-import FILE.",
        out.display(),
        txt.display()
    ))
}
