//! `licd ca export` and `licd ca issue`: the local certificate authority.

use super::open_existing;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use licd::config::Config;
use licd::service::Actor;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Write the CA certificate (PEM) for clients to trust; its SHA-256 goes to stderr.
    Export {
        /// Output file; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Issue a server certificate for another service at the site, signed by the local
    /// CA: writes NAME.pem and NAME.key (0600) into --out-dir.
    Issue(CaIssueArgs),
}

#[derive(Debug, Args)]
pub struct CaIssueArgs {
    /// A DNS name for the certificate (repeat for more; the first names the files).
    #[arg(long = "name", required = true)]
    pub names: Vec<String>,
    /// An IP address for the certificate (repeat for more).
    #[arg(long = "ip")]
    pub ips: Vec<std::net::IpAddr>,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Where to write the files.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
}

pub fn run(config: Config, cmd: CaCommand) -> Result<()> {
    match cmd {
        CaCommand::Export { out } => export(config, out),
        CaCommand::Issue(args) => issue(config, args),
    }
}

fn export(config: Config, out: Option<PathBuf>) -> Result<()> {
    let app = open_existing(config)?;
    match out {
        Some(path) => std::fs::write(&path, app.ca.cert_pem())
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{}", app.ca.cert_pem()),
    }
    eprintln!("{}: SHA-256 {}", app.ca.name(), app.ca.fingerprint());
    Ok(())
}

fn issue(config: Config, args: CaIssueArgs) -> Result<()> {
    let app = open_existing(config)?;
    let (cert, key, issued) = licd::service::tls::issue_for_service(
        &app,
        &args.names,
        &args.ips,
        args.days,
        &args.out_dir,
        app.clock.now(),
        &Actor::Cli,
    )?;
    println!("certificate: {}", cert.display());
    println!("private key: {} (mode 0600)", key.display());
    println!("valid until: {}", issued.not_after.to_rfc3339());
    println!(
        "signed by:   {} (SHA-256 {})",
        app.ca.name(),
        app.ca.fingerprint()
    );
    Ok(())
}
