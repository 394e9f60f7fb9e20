//! `licd license offline-activate | offline-release | bundle | usage-report`: the air
//! gap at the server, on a tenant's data directory (beside a running server, like
//! `license issue`), audited as `cli:<user>`. Each reads the file an air-gapped
//! appliance wrote and writes licd's answer to carry back.

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use licd::service::offline_bundles::BundleKind;
use licd::service::tenant::Tenant;
use licd::service::{App, offline_activation, offline_bundles, transfer_files, usage_reports};
use licd_client::formats::Transfer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct OfflineActivateArgs {
    /// The request file the appliance wrote (`licd agent offline-request`).
    #[arg(value_name = "REQUEST")]
    pub request: PathBuf,
    /// Where to write the response file to carry back to the appliance.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The tenant's schema_name.
    #[arg(long, default_value = "public")]
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct OfflineReleaseArgs {
    /// The release proof the appliance wrote (`licd agent release`).
    #[arg(value_name = "FILE")]
    pub proof: PathBuf,
    /// The tenant's schema_name.
    #[arg(long, default_value = "public")]
    pub tenant: String,
}

/// What a bundle says.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// The license key in force and a fresh lease for the box holding it offline.
    Renewal,
    /// The license is revoked.
    Revocation,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// renewal or revocation.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// The license id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Where to write the bundle file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The tenant's schema_name.
    #[arg(long, default_value = "public")]
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct UsageReportArgs {
    /// The usage report the appliance wrote (`licd agent usage-report`).
    #[arg(value_name = "REPORT")]
    pub report: PathBuf,
    /// Where to write the acknowledgement (with a renewal or revocation bundle when due).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The tenant's schema_name.
    #[arg(long, default_value = "public")]
    pub tenant: String,
}

fn tenant(app: &App, name: &str) -> Result<Arc<Tenant>> {
    app.tenants
        .get(name)
        .ok_or_else(|| anyhow!("no ready tenant {name:?} (see `licd tenant list`)"))
}

/// Reads a transfer file, naming it in any complaint.
fn read(path: &Path) -> Result<Transfer> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    transfer_files::parse(&text).with_context(|| path.display().to_string())
}

/// The license a file names (its first token's `license_id` claim, unverified: the
/// service checks it against its signature and the stored license).
fn license_of(file: &Transfer, path: &Path) -> Result<String> {
    file.tokens
        .first()
        .and_then(|t| licd::pki::jws::parse(t).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p.payload).ok())
        .and_then(|v| v["license_id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow!("{}: the file names no license_id", path.display()))
}

fn write(path: &Path, file: &Transfer) -> Result<()> {
    let text = serde_json::to_string_pretty(file)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

pub fn offline_activate(app: &App, args: OfflineActivateArgs) -> Result<()> {
    let t = tenant(app, &args.tenant)?;
    let file = read(&args.request)?;
    let id = license_of(&file, &args.request)?;
    let actor = super::tenant::cli_actor();
    let answer = offline_activation::activate(&t, app.clock.now(), &actor, &id, &file)
        .with_context(|| args.request.display().to_string())?;
    write(&args.out, &answer)?;
    eprintln!("{}; wrote {}", answer.summary, args.out.display());
    Ok(())
}

pub fn offline_release(app: &App, args: OfflineReleaseArgs) -> Result<()> {
    let t = tenant(app, &args.tenant)?;
    let file = read(&args.proof)?;
    let id = license_of(&file, &args.proof)?;
    let actor = super::tenant::cli_actor();
    let r = offline_activation::release(&t, app.clock.now(), &actor, &id, &file)
        .with_context(|| args.proof.display().to_string())?;
    eprintln!(
        "license {} released by {} ({} internal, {} external users at the end); now {}",
        r.license.id,
        r.fingerprint,
        r.final_internal_users,
        r.final_external_users,
        r.license.state
    );
    Ok(())
}

pub fn bundle(app: &App, args: BundleArgs) -> Result<()> {
    let t = tenant(app, &args.tenant)?;
    let kind = match args.kind {
        KindArg::Renewal => BundleKind::Renewal,
        KindArg::Revocation => BundleKind::Revocation,
    };
    let actor = super::tenant::cli_actor();
    let file = offline_bundles::make(&t, app.clock.now(), &actor, &args.id, kind)?;
    write(&args.out, &file)?;
    eprintln!("{}; wrote {}", file.summary, args.out.display());
    Ok(())
}

pub fn usage_report(app: &App, args: UsageReportArgs) -> Result<()> {
    let t = tenant(app, &args.tenant)?;
    let file = read(&args.report)?;
    let id = license_of(&file, &args.report)?;
    let actor = super::tenant::cli_actor();
    let answer = usage_reports::ingest(&t, app.clock.now(), &actor, &id, &file)
        .with_context(|| args.report.display().to_string())?;
    write(&args.out, &answer)?;
    eprintln!("{}; wrote {}", answer.summary, args.out.display());
    Ok(())
}
