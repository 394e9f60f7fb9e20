//! `licd check-config`: load a config file (and the environment) as `serve` would and
//! say what it sets, or name the problem.

use super::Cli;
use anyhow::Result;
use licd::config::Config;
use std::path::{Path, PathBuf};

/// Reads every `licensing.trusted_issuers` file (it must exist, be readable and hold a
/// JWKS or a PEM public key) and returns how many keys each gives; an error names the
/// file. `serve` and `init` check this before opening the data directory.
pub fn trusted_issuers(config: &Config) -> Result<Vec<(&Path, usize)>> {
    config
        .licensing
        .trusted_issuers
        .iter()
        .map(|path| {
            let keys = licd::service::enterprise::load_trusted_issuers(&[path])
                .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
            Ok((path.as_path(), keys.len()))
        })
        .collect()
}

pub fn run(cli: &Cli, file: Option<PathBuf>) -> Result<()> {
    let file = file.or_else(|| cli.config.clone());
    let config = Config::load(file.as_deref(), &cli.overrides())
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let shown = file.clone().or_else(|| {
        let p = PathBuf::from(licd::config::DEFAULT_CONFIG_PATH);
        p.exists().then_some(p)
    });
    if let Some(path) = &shown
        && let Some(mode) = licd::config::world_readable(path)
    {
        eprintln!(
            "warning: {} is readable by every user (mode {mode:o}); use 0640",
            path.display()
        );
    }
    for var in Config::unknown_env_vars() {
        eprintln!(
            "warning: environment variable {var} is not a licd setting (settings use __, e.g. LICD_SERVER__LISTEN)"
        );
    }
    let issuers = trusted_issuers(&config)?;
    match shown {
        Some(p) => println!("{}: configuration is valid", p.display()),
        None => println!("configuration is valid (defaults and environment; no file)"),
    }
    println!("data_dir = {}", config.storage.data_dir.display());
    // Builds the SMTP transport as `serve` would (sender address, CA file, password).
    licd::service::smtp::SmtpMailer::from_config(&config.email)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {}", e.report()))?;
    match config.email.endpoint()? {
        Some(e) => println!(
            "email    = {}:{} ({:?}) from {}",
            e.host,
            e.port,
            e.security,
            config.email.from.as_deref().unwrap_or_default()
        ),
        None => println!("email    = off (no email.smtp_url: messages stay in the outbox)"),
    }
    for (path, keys) in issuers {
        let plural = if keys == 1 { "" } else { "s" };
        println!("issuer   = {} ({keys} key{plural})", path.display());
        if keys == 0 {
            eprintln!(
                "warning: licensing.trusted_issuers: {} holds no P-256 (ES256) public key; it trusts nothing",
                path.display()
            );
        }
    }
    if config.tls.enabled {
        if let (Some(cert), Some(key)) = (&config.tls.cert_file, &config.tls.key_file) {
            let c = licd::pki::tls::ServerCert::from_files(cert, key)?;
            println!(
                "tls cert = {} (names {}; valid until {})",
                cert.display(),
                c.info.names.join(", "),
                c.info.not_after.to_rfc3339()
            );
        }
        println!("https    = {}", config.server.listen_https);
        match config.tls.http {
            licd::config::PlainHttp::Redirect => {
                println!("http     = {} (redirects to HTTPS)", config.server.listen)
            }
            licd::config::PlainHttp::Off => println!("http     = off"),
        }
    } else {
        println!("http     = {} (TLS off)", config.server.listen);
    }
    if config.tenancy.enabled {
        let keys = config
            .tenancy
            .keys()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
        println!("tenancy  = on (keys: {})", names.join(", "));
        if keys.is_empty() {
            eprintln!(
                "warning: tenancy.enabled with no tenancy.api_key_file or tenancy.api_key: every tenancy call is refused"
            );
        }
    }
    if let Some(url) = &config.server.public_url {
        if config.behind_https_proxy() {
            println!("public   = {url} (behind an HTTPS proxy: Secure __Host- cookies, HSTS)");
        } else {
            println!("public   = {url}");
        }
    }
    Ok(())
}
