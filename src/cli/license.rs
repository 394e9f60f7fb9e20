//! `licd license verify | inspect | sign`: offline license tools that need no server,
//! configuration or data directory.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use licd::clock::SystemClock;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Verify a license key's signature and validity offline. Exit codes: 0 valid,
    /// 2 malformed, 3 unknown key, 4 bad signature, 5 wrong Install ID, 6 not yet valid,
    /// 7 expired, 1 other errors.
    Verify {
        /// A JWKS file (from `licd keys export` or /.well-known/jwks.json).
        #[arg(
            long,
            conflicts_with = "public_key",
            required_unless_present = "public_key"
        )]
        jwks: Option<PathBuf>,
        /// A PEM public key file.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// The Install ID the key must be for.
        #[arg(long)]
        install_id: Option<String>,
        /// The license key, or `-` (the default) to read it from standard input.
        key: Option<String>,
    },
    /// Decode a license key WITHOUT verifying it.
    Inspect {
        /// The license key, or `-` (the default) for standard input.
        key: Option<String>,
    },
    /// Sign a license key offline with a private key file (air-gapped issuing).
    Sign(SignArgs),
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key, PKCS#8 or SEC1 PEM (P-256).
    #[arg(long)]
    pub key: PathBuf,
    #[arg(long)]
    pub install_id: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub organization: String,
    #[arg(long, default_value_t = 0)]
    pub internal_users: u32,
    #[arg(long, default_value_t = 0)]
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
    #[arg(long)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The issuer (`iss`) claim.
    #[arg(long, default_value = "licd:offline")]
    pub issuer: String,
}

/// Runs a license tool; the exit code is `verify`'s verdict (0 for the others).
pub fn run(cmd: LicenseCommand) -> Result<u8> {
    match cmd {
        LicenseCommand::Verify {
            jwks,
            public_key,
            install_id,
            key,
        } => verify(jwks, public_key, install_id, key),
        LicenseCommand::Inspect { key } => inspect(key).map(|()| 0),
        LicenseCommand::Sign(args) => sign(args).map(|()| 0),
    }
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

/// `licd license verify`: prints the claims and a verdict; the exit code names the failure.
fn verify(
    jwks: Option<PathBuf>,
    public_key: Option<PathBuf>,
    install_id: Option<String>,
    key: Option<String>,
) -> Result<u8> {
    use licd::pki::keys::{Jwks, PublicKey};
    let keys = match (jwks, public_key) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let set: Jwks = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JWKS", path.display()))?;
            set.public_keys()
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            vec![
                PublicKey::from_pem(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ]
        }
        (None, None) => bail!("give --jwks FILE or --public-key PEM"),
    };
    let token = read_key_arg(key)?;
    let now = licd::clock::Clock::now(&SystemClock);
    match licd::pki::verify::verify_license(&token, &keys, install_id.as_deref(), now) {
        Ok(claims) => {
            println!("{}", serde_json::to_string_pretty(&claims)?);
            println!(
                "VALID: signed by {}; {} internal and {} external users; expires {}",
                licd::pki::jws::parse(&token)
                    .map(|p| p.header.kid)
                    .unwrap_or_default(),
                claims.internal_users,
                claims.external_users,
                claims.expires_at().to_rfc3339()
            );
            Ok(0)
        }
        Err(e) => {
            if let Ok((_, claims)) = licd::pki::verify::inspect(&token) {
                println!("{}", serde_json::to_string_pretty(&claims)?);
            }
            println!("INVALID ({}): {e}", e.kind());
            Ok(match e.kind() {
                "malformed" => 2,
                "unknown_key" => 3,
                "bad_signature" => 4,
                "wrong_install_id" => 5,
                "not_yet_valid" => 6,
                _ => 7,
            })
        }
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
        serde_json::to_string_pretty(&serde_json::json!({ "header": header, "claims": claims }))?
    );
    Ok(())
}

fn sign(args: SignArgs) -> Result<()> {
    use licd::domain::license::{LICENSE_TYP, LicenseRequest, validate};
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
        (None, None) => bail!("give --days N or --expires-at TIME"),
    };
    let req = LicenseRequest {
        name: args.name,
        install_id: args.install_id,
        organization: args.organization,
        internal_users: args.internal_users,
        external_users: args.external_users,
        features: args.features,
        flags: args.flags,
        not_before: None,
        expires_at,
    };
    let valid = validate(&req, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let claims = valid.claims(&id, &args.issuer, now);
    println!("{}", licd::pki::jws::sign(&pair, LICENSE_TYP, &claims)?);
    eprintln!("signed license {id} with key {}", pair.kid());
    Ok(())
}
