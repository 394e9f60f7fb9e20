//! `licd license verify | inspect | sign`: offline license tools that need no server,
//! configuration or data directory; and `licd license issue`, which issues a license in
//! a tenant's data directory (audited as `cli:<user>`), as the API does; the air-gap
//! commands on a data directory are in `license_offline`.

use super::UsageError;
use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use licd::clock::SystemClock;
use licd::pki::verify::VerifyError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Verify a license key's signature, Install ID and dates offline (revocation needs
    /// the server). Exit codes: 0 valid, 1 other errors, 2 malformed, 3 unknown key,
    /// 4 bad signature, 5 wrong Install ID, 6 not yet valid, 7 expired, 64 wrong
    /// command line.
    Verify(VerifyArgs),
    /// Decode a license key WITHOUT verifying it.
    Inspect {
        /// The license key, or `-` (the default) for standard input.
        #[arg(value_name = "KEY")]
        key: Option<String>,
    },
    /// Sign a license key offline with a private key file (air-gapped issuing).
    Sign(SignArgs),
    /// Issue a license in a tenant's data directory, signed with the tenant's active key
    /// (as the API does: stored, audited as cli:<user>, its organization notified).
    /// Prints the key; works beside a running server.
    Issue(IssueArgs),
    /// Answer an air-gapped appliance's offline activation request: binds the license
    /// to that box and writes the response file to carry back (audited as cli:<user>).
    OfflineActivate(super::license_offline::OfflineActivateArgs),
    /// Record an air-gapped appliance's release proof: the license is free again.
    OfflineRelease(super::license_offline::OfflineReleaseArgs),
    /// Make a renewal or revocation bundle for an air-gapped appliance.
    Bundle(super::license_offline::BundleArgs),
    /// Ingest an air-gapped appliance's usage report and write the acknowledgement
    /// (with a renewal or revocation bundle when due).
    UsageReport(super::license_offline::UsageReportArgs),
}

impl LicenseCommand {
    /// Whether the command needs no configuration or data directory.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            LicenseCommand::Verify(_) | LicenseCommand::Inspect { .. } | LicenseCommand::Sign(_)
        )
    }
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The tenant's schema_name.
    #[arg(long, default_value = "public")]
    pub tenant: String,
    /// The Install ID of the appliance the license is for.
    #[arg(long, value_name = "ID")]
    pub install_id: String,
    /// The license's name, e.g. the site or product edition.
    #[arg(long)]
    pub name: String,
    /// The customer organization (its id, see GET /api/v1/organizations) the license
    /// belongs to: its members see it in the portal, and it is told by email.
    #[arg(long, value_name = "N")]
    pub organization_id: Option<i64>,
    /// The organization the key names; default: the --organization-id's name.
    #[arg(long, default_value = "", hide_default_value = true)]
    pub organization: String,
    /// How many internal users the license grants.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub internal_users: u32,
    /// How many external users the license grants.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub external_users: u32,
    /// Comma-separated feature names.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// Comma-separated flags: trial, non_production.
    #[arg(long, value_delimiter = ',')]
    pub flags: Vec<String>,
    /// Days from now until it expires.
    #[arg(
        long,
        conflicts_with = "expires_at",
        required_unless_present = "expires_at"
    )]
    pub days: Option<u32>,
    /// Expiry as RFC 3339 (e.g. 2027-12-31T23:59:59Z).
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A JWKS file with the public signing keys: the server's /.well-known/jwks.json or
    /// `licd keys export`. Give this or --public-key.
    #[arg(long, value_name = "FILE", conflicts_with = "public_key")]
    pub jwks: Option<PathBuf>,
    /// A PEM public key file (`licd keys export --format pem`). Give this or --jwks.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// The Install ID the key must be for; without it the Install ID is not checked.
    #[arg(long, value_name = "ID")]
    pub install_id: Option<String>,
    /// Print one JSON document (verdict, the key's claims, RFC 3339 times) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The license key, or `-` (the default) to read it from standard input.
    #[arg(value_name = "KEY")]
    pub key: Option<String>,
}

/// What `verify` says when it was given no keys to check the signature with.
const NO_KEYS: &str = "no public key to check the signature with: give --jwks FILE (the server's /.well-known/jwks.json, or `licd keys export`) or --public-key FILE (PEM, `licd keys export --format pem`)";

/// What an offline check cannot see.
const REVOCATION_NOTE: &str = "valid signature and dates; revocation is not visible offline: ask the server whether the license is revoked or suspended";

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key, PKCS#8 or SEC1 PEM (P-256).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The Install ID of the appliance the license is for.
    #[arg(long, value_name = "ID")]
    pub install_id: String,
    /// The license's name, e.g. the site or product edition.
    #[arg(long)]
    pub name: String,
    /// The customer organization the license is for (optional).
    #[arg(long, default_value = "", hide_default_value = true)]
    pub organization: String,
    /// How many internal users the license grants. Give this, --external-users or both.
    #[arg(long, value_name = "N")]
    pub internal_users: Option<u32>,
    /// How many external users the license grants. Give this, --internal-users or both.
    #[arg(long, value_name = "N")]
    pub external_users: Option<u32>,
    /// Comma-separated feature names.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// Comma-separated flags: trial, non_production.
    #[arg(long, value_delimiter = ',')]
    pub flags: Vec<String>,
    /// Days from now until it expires.
    #[arg(
        long,
        conflicts_with = "expires_at",
        required_unless_present = "expires_at"
    )]
    pub days: Option<u32>,
    /// Expiry as RFC 3339 (e.g. 2027-12-31T23:59:59Z).
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The issuer (`iss`) claim.
    #[arg(long, default_value = "licd:offline")]
    pub issuer: String,
}

/// Runs a license tool; the exit code is `verify`'s verdict (0 for the others).
pub fn run(cmd: LicenseCommand) -> Result<u8> {
    match cmd {
        LicenseCommand::Verify(args) => verify(args),
        LicenseCommand::Inspect { key } => inspect(key).map(|()| 0),
        LicenseCommand::Sign(args) => sign(args).map(|()| 0),
        _ => Err(anyhow::anyhow!(
            "this licd license command works on a data directory (internal: dispatched offline)"
        )),
    }
}

/// `licd license issue`: the license key on standard output, what was issued on
/// standard error.
pub fn issue_on_data_dir(config: licd::config::Config, cmd: LicenseCommand) -> Result<()> {
    use super::license_offline as offline;
    let app = super::open_existing(config)?;
    let args = match cmd {
        LicenseCommand::Issue(args) => args,
        LicenseCommand::OfflineActivate(a) => return offline::offline_activate(&app, a),
        LicenseCommand::OfflineRelease(a) => return offline::offline_release(&app, a),
        LicenseCommand::Bundle(a) => return offline::bundle(&app, a),
        LicenseCommand::UsageReport(a) => return offline::usage_report(&app, a),
        _ => return Ok(()),
    };
    let tenant = app.tenants.get(&args.tenant).ok_or_else(|| {
        anyhow::anyhow!("no ready tenant {:?} (see `licd tenant list`)", args.tenant)
    })?;
    let now = app.clock.now();
    let expires_at = match (args.expires_at, args.days) {
        (Some(t), _) => t,
        (None, Some(d)) => now
            .checked_add_signed(chrono::Duration::days(i64::from(d)))
            .with_context(|| format!("--days {d} is too far ahead"))?,
        (None, None) => {
            return Err(UsageError::new(
                "give --days N or --expires-at TIME",
                "licd license issue",
            )
            .into());
        }
    };
    let req = licd::domain::license::LicenseRequest {
        name: args.name,
        install_id: args.install_id,
        organization: args.organization,
        organization_id: args.organization_id,
        internal_users: args.internal_users,
        external_users: args.external_users,
        features: args.features,
        flags: args.flags,
        not_before: None,
        expires_at,
    };
    let actor = super::tenant::cli_actor();
    let l = licd::service::licenses::issue(&app, &tenant, now, &actor, &req)?;
    println!("{}", l.license_key);
    let org = match l.organization_id {
        Some(id) => format!(" for organization {id} ({})", l.organization),
        None => String::new(),
    };
    eprintln!(
        "issued license {} in {}{org}; expires {}",
        l.id,
        args.tenant,
        rfc3339(l.expires_at)
    );
    Ok(())
}

fn read_key_arg(key: Option<String>) -> Result<String> {
    match key.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .context("reading the key from standard input")?;
            Ok(s.trim().to_owned())
        }
        Some(k) => Ok(k.trim().to_owned()),
    }
}

/// A time as licd prints it: RFC 3339 in UTC, to the second (`2027-06-01T09:00:00Z`).
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A JWT time claim (seconds since the epoch) as RFC 3339, when it is one.
fn claim_time(claims: &Value, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(rfc3339)
}

/// `verify`'s exit code for a failure kind (the table in the command's help and README).
fn exit_code(e: &VerifyError) -> u8 {
    match e {
        VerifyError::Malformed(_) => 2,
        VerifyError::UnknownKey(_) => 3,
        VerifyError::BadSignature => 4,
        VerifyError::WrongInstallId { .. } => 5,
        VerifyError::NotYetValid(_) => 6,
        VerifyError::Expired(_) => 7,
    }
}

/// The failure in words, with times in RFC 3339.
fn failure_detail(e: &VerifyError) -> String {
    match e {
        VerifyError::NotYetValid(t) => {
            format!("the license key is not valid before {}", rfc3339(*t))
        }
        VerifyError::Expired(t) => format!("the license key expired at {}", rfc3339(*t)),
        other => other.to_string(),
    }
}

fn read_keys(args: &VerifyArgs) -> Result<Vec<licd::pki::keys::PublicKey>> {
    use licd::pki::keys::{Jwks, PublicKey};
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    match (&args.jwks, &args.public_key) {
        (Some(path), _) => {
            let set: Jwks = serde_json::from_str(&read(path)?)
                .with_context(|| format!("{} is not a JWKS", path.display()))?;
            Ok(set.public_keys())
        }
        (None, Some(path)) => Ok(vec![
            PublicKey::from_pem(&read(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        ]),
        (None, None) => Err(UsageError::new(NO_KEYS, "licd license verify").into()),
    }
}

/// `licd license verify`: the claims and a verdict; the exit code names the failure.
fn verify(args: VerifyArgs) -> Result<u8> {
    let keys = read_keys(&args)?;
    let token = read_key_arg(args.key.clone())?;
    let now = licd::clock::Clock::now(&SystemClock);
    let result = licd::pki::verify::verify_license(&token, &keys, args.install_id.as_deref(), now);
    let header = licd::pki::verify::inspect(&token).ok().map(|(h, _)| h);
    let claims = match &result {
        Ok(c) => Some(serde_json::to_value(c)?),
        Err(_) => licd::pki::verify::inspect(&token).ok().map(|(_, c)| c),
    };
    let code = result.as_ref().map_or_else(exit_code, |_| 0);
    if args.json {
        let mut doc = json!({
            "verdict": result.as_ref().map_or_else(VerifyError::kind, |_| "valid"),
            "exit_code": code,
            "kid": header.as_ref().map(|h| h.kid.clone()),
            "install_id_checked": args.install_id.is_some(),
            "revocation_checked": false,
            "claims": claims,
        });
        if let Some(c) = &claims {
            for (field, claim) in [
                ("issued_at", "iat"),
                ("not_before", "nbf"),
                ("expires_at", "exp"),
            ] {
                doc[field] = json!(claim_time(c, claim));
            }
        }
        match &result {
            Ok(_) => doc["note"] = json!(REVOCATION_NOTE),
            Err(e) => doc["detail"] = json!(failure_detail(e)),
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(code);
    }
    if let Some(c) = &claims {
        print_claims(c, header.as_ref().map(|h| h.kid.as_str()));
    }
    match &result {
        Ok(c) => {
            println!(
                "VALID: {REVOCATION_NOTE} (GET /api/v1/licenses/{} shows its state).",
                c.jti
            );
            if args.install_id.is_none() {
                println!("Install ID not checked: give --install-id ID to check it.");
            }
        }
        Err(e) => println!("INVALID ({}): {}", e.kind(), failure_detail(e)),
    }
    Ok(code)
}

/// The claims one per line, with readable names and RFC 3339 times.
fn print_claims(claims: &Value, kid: Option<&str>) {
    const LABELS: [(&str, &str); 13] = [
        ("jti", "license"),
        ("name", "name"),
        ("org", "organization"),
        ("aud", "install ID"),
        ("internal_users", "internal users"),
        ("external_users", "external users"),
        ("features", "features"),
        ("flags", "flags"),
        ("iat", "issued"),
        ("nbf", "valid from"),
        ("exp", "expires"),
        ("iss", "issuer"),
        ("ver", "format"),
    ];
    let Some(map) = claims.as_object() else {
        println!("claims:         {claims}");
        return;
    };
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    for (claim, label) in LABELS {
        let Some(v) = map.get(claim) else { continue };
        let shown = match (claim, v.as_str()) {
            ("iat" | "nbf" | "exp", _) => claim_time(claims, claim).unwrap_or_else(|| show(v)),
            ("aud", Some(aud)) => aud.strip_prefix("licd:install:").unwrap_or(aud).to_owned(),
            _ => show(v),
        };
        let shown = if shown.is_empty() {
            "-".to_owned()
        } else {
            shown
        };
        println!("{:<15} {shown}", format!("{label}:"));
    }
    // Anything else the key claims, as it is (`sub` repeats `jti` in licd's keys).
    for (claim, v) in map {
        let known = LABELS.iter().any(|(c, _)| c == claim);
        let repeats_jti = claim == "sub" && map.get("jti") == Some(v);
        if !known && !repeats_jti {
            println!("{:<15} {}", format!("{claim}:"), show(v));
        }
    }
    if let Some(kid) = kid {
        println!("{:<15} {kid}", "signing key:");
    }
}

fn inspect(key: Option<String>) -> Result<()> {
    let token = read_key_arg(key)?;
    let (header, claims) =
        licd::pki::verify::inspect(&token).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "NOT VERIFIED: this shows what the key claims; use `licd license verify` to check it."
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "header": header,
            "claims": claims,
            "issued_at": claim_time(&claims, "iat"),
            "not_before": claim_time(&claims, "nbf"),
            "expires_at": claim_time(&claims, "exp"),
        }))?
    );
    Ok(())
}

fn sign(args: SignArgs) -> Result<()> {
    use licd::domain::license::{LICENSE_TYP, LicenseRequest, validate};
    if args.internal_users.is_none() && args.external_users.is_none() {
        return Err(UsageError::new(
            "how many users does the license grant? give --internal-users N, --external-users N or both (at least one above 0)",
            "licd license sign",
        )
        .into());
    }
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("reading {}", args.key.display()))?;
    if let Some(mode) = licd::config::world_readable(&args.key) {
        eprintln!(
            "warning: {} is readable by every user (mode {mode:o}); it is a private key",
            args.key.display()
        );
    }
    let pair = licd::pki::KeyPair::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.key.display()))?;
    let now = licd::clock::Clock::now(&SystemClock);
    let expires_at = match (args.expires_at, args.days) {
        (Some(t), _) => t,
        (None, Some(d)) => now
            .checked_add_signed(chrono::Duration::days(i64::from(d)))
            .with_context(|| format!("--days {d} is too far ahead"))?,
        (None, None) => {
            return Err(
                UsageError::new("give --days N or --expires-at TIME", "licd license sign").into(),
            );
        }
    };
    let req = LicenseRequest {
        name: args.name,
        install_id: args.install_id,
        organization: args.organization,
        organization_id: None,
        internal_users: args.internal_users.unwrap_or(0),
        external_users: args.external_users.unwrap_or(0),
        features: args.features,
        flags: args.flags,
        not_before: None,
        expires_at,
    };
    let valid = validate(&req, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let claims = valid.claims(&id, &args.issuer, now);
    println!("{}", licd::pki::jws::sign(&pair, LICENSE_TYP, &claims)?);
    eprintln!(
        "signed license {id} with key {}; expires {}",
        pair.kid(),
        rfc3339(expires_at)
    );
    Ok(())
}
