//! `licd audit verify`: walk every tenant's audit chain and the registry's.

use super::open_existing;
use anyhow::{Result, bail};
use clap::Subcommand;
use licd::config::Config;
use licd::service::audit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain of every tenant's audit log and of the registry's (tenancy
    /// API calls); name the first broken entry.
    Verify,
}

pub fn run(config: Config, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify => verify(config),
    }
}

fn verify(config: Config) -> Result<()> {
    let app = open_existing(config)?;
    let mut broken = false;
    // Every tenant, closed ones opened one at a time.
    let mut tenants = Vec::new();
    app.tenants.each_tenant(|t| {
        tenants.push((t.schema_name.clone(), audit::verify(t)?));
        Ok(())
    })?;
    tenants.sort_by(|a, b| a.0.cmp(&b.0));
    let mut chains = vec![(
        "registry".to_owned(),
        licd::service::tenancy::verify_registry(&app.tenants)?,
    )];
    chains.extend(tenants);
    for (name, v) in chains {
        match v.broken {
            None => println!("{name}: audit chain intact ({} entries)", v.entries),
            Some((id, why)) => {
                broken = true;
                println!(
                    "{name}: audit chain BROKEN at entry {id}: {}",
                    describe(&why)
                );
            }
        }
    }
    if broken {
        bail!("the audit log has been altered");
    }
    Ok(())
}

fn describe(b: &licd::domain::audit::ChainBreak) -> String {
    use licd::domain::audit::ChainBreak;
    match b {
        ChainBreak::HashMismatch => {
            "its contents do not match its hash (the entry was changed)".into()
        }
        ChainBreak::PrevMismatch => "it does not link to the entry before it".into(),
        ChainBreak::Gap { expected } => {
            format!("entry {expected} is missing (entries were removed)")
        }
    }
}
