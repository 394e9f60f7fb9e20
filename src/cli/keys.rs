//! `licd keys export`: the public signing keys, as a JWKS or PEM.

use super::open_existing;
use anyhow::{Context, Result};
use clap::Subcommand;
use licd::config::Config;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write the public keys: a JWKS (for appliances and JOSE libraries) or PEM.
    Export {
        /// jwks (for appliances and JOSE libraries) or pem (one PUBLIC KEY block per key).
        #[arg(long, value_enum, default_value = "jwks")]
        format: KeyFormat,
        /// Output file; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyFormat {
    Jwks,
    Pem,
}

pub fn run(config: Config, cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Export { format, out } => export(config, format, out),
    }
}

fn export(config: Config, format: KeyFormat, out: Option<PathBuf>) -> Result<()> {
    let app = open_existing(config)?;
    let ring = app.tenants.public()?.keyring()?;
    let text = match format {
        KeyFormat::Jwks => serde_json::to_string_pretty(&ring.jwks())? + "\n",
        KeyFormat::Pem => ring
            .verifying
            .iter()
            .map(|k| k.to_pem().map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<Result<Vec<_>>>()?
            .join(""),
    };
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
