//! `licd tenant ...`: the tenancy API's use cases for air-gapped operators, working on
//! the data directory with no server running (the data directory's lock says if one
//! is), recorded in the registry's audit chain as `cli:<user>`.

use super::open_existing;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use licd::config::Config;
use licd::service::recovery::{self, RecoveryKeyRequest};
use licd::service::tenancy::{self, NewTenant, TenantInfo};
use licd::service::tenant_domains::{self, NewDomain};
use licd::service::tenant_lifecycle::{self, TenantPatch};
use licd::service::{Actor, App};
use licd::store::layout::DataDir;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List every tenant: schema_name, state, Install ID, name and domains.
    List,
    /// Create a tenant from the template (needs the default tenant's own license to be
    /// valid, as the API does).
    Create {
        /// Its storage name: `t_`, then `a-z`, `0-9` and `_`, at most 63 characters.
        #[arg(long)]
        schema_name: String,
        /// The name shown in its console (1 to 100 characters).
        #[arg(long)]
        name: String,
    },
    /// Give a tenant a new display name.
    Rename {
        /// The tenant's schema_name (`public` for the default tenant).
        schema_name: String,
        /// The new name shown in its console (1 to 100 characters).
        #[arg(long)]
        name: String,
    },
    /// Delete a tenant: move its database and files to deleted/<schema_name>-<time>/
    /// (kept until purged; `public` can never be deleted).
    Delete {
        /// The tenant's schema_name.
        schema_name: String,
    },
    /// Restore a deleted tenant from its archive (checksums checked first); or, with
    /// --archive, a tenant from an archive directory kept elsewhere (after a purge, or
    /// from another server).
    Restore {
        /// The deleted tenant's schema_name.
        #[arg(required_unless_present = "archive", conflicts_with = "archive")]
        schema_name: Option<String>,
        /// An archive directory (deleted/<schema_name>-<time>/ copied elsewhere) whose
        /// tenant is not in this registry: it is copied in and restored.
        #[arg(long, value_name = "DIR")]
        archive: Option<std::path::PathBuf>,
    },
    /// Remove the archives of tenants deleted at least N days ago, and their registry
    /// rows (their schema_names become free). Cannot be undone.
    Purge {
        /// Only archives of tenants deleted this many days ago or earlier (0: all).
        #[arg(long, value_name = "N")]
        older_than_days: u32,
    },
    /// A tenant's domains: the host names routed to it (the first is its primary domain).
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Print a one-time sign-in link for a tenant's staff account (created as
    /// super_admin if the email has none), on the tenant's primary domain. Works beside
    /// a running server; hand the link over like a password.
    RecoveryKey {
        /// The tenant's schema_name (`public` for the default tenant).
        schema_name: String,
        /// The staff account's email.
        #[arg(long)]
        email: String,
        /// How long the link stays valid: a number and s, m, h or d (1m to 7d).
        #[arg(long, default_value = "1h")]
        lifetime: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// List a tenant's domains, primary first.
    List {
        /// The tenant's schema_name (`public` for the default tenant).
        schema_name: String,
    },
    /// Route a host name to a tenant (a domain belongs to one tenant).
    Add {
        /// The tenant's schema_name (`public` for the default tenant).
        schema_name: String,
        /// A DNS host name, e.g. acme.licensing.example (no port, no IP address).
        domain: String,
    },
    /// Stop routing a host name to a tenant.
    Remove {
        /// The tenant's schema_name (`public` for the default tenant).
        schema_name: String,
        /// The domain to remove.
        domain: String,
    },
}

/// Who runs the command: the login name behind `sudo` (`$SUDO_USER`), else `$USER`,
/// else the numeric uid.
pub(super) fn cli_actor() -> Actor {
    use std::os::unix::fs::MetadataExt;
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| {
            std::fs::metadata("/proc/self")
                .map(|m| format!("uid {}", m.uid()))
                .unwrap_or_else(|_| "unknown".into())
        });
    Actor::CliUser { user }
}

fn print(t: &TenantInfo) {
    println!(
        "{:<24} {:<10} {} {}{}",
        t.schema_name,
        t.state.as_str(),
        t.install_id,
        t.name,
        if t.domains.is_empty() {
            String::new()
        } else {
            format!(" ({})", t.domains.join(", "))
        }
    );
}

pub fn run(config: Config, cmd: TenantCommand) -> Result<()> {
    let dir = DataDir::new(&config.storage.data_dir);
    super::check_owner(dir.root())?;
    if matches!(
        cmd,
        TenantCommand::Create { .. } | TenantCommand::Restore { .. }
    ) && !config.tenancy.enabled
    {
        bail!(
            "tenancy is off (tenancy.enabled = false): a second tenant cannot exist; turn it on in the config first"
        );
    }
    // Opened first: with no server running, opening finishes a deletion or restoring
    // a stop cut short (it takes the lock for that, then lets go).
    let app: App = open_existing(config)?;
    // Reading needs no lock; a change does, so that no server holds the tenants in
    // memory meanwhile.
    let _lock = match cmd {
        // A recovery key is a registry row that a running server reads when it is
        // redeemed: issuing one needs no lock, so it works while the server runs.
        TenantCommand::List
        | TenantCommand::Domain(DomainCommand::List { .. })
        | TenantCommand::RecoveryKey { .. } => None,
        _ => Some(dir.try_lock()?.with_context(|| {
            format!(
                "a licd server is running on {} (or another `licd tenant` command is): use the tenancy API (/api/v1/tenants) while it runs, or stop it first",
                dir.root().display()
            )
        })?),
    };
    let now = app.clock.now();
    let actor = cli_actor();
    match cmd {
        TenantCommand::List => {
            for t in tenancy::list(&app.tenants, now, &actor)? {
                print(&t);
            }
        }
        TenantCommand::Create { schema_name, name } => {
            let t = tenancy::create(&app, now, &actor, NewTenant { name, schema_name })?;
            print(&t);
        }
        TenantCommand::Rename { schema_name, name } => {
            let t =
                tenant_lifecycle::rename(&app, now, &actor, &schema_name, TenantPatch { name })?;
            print(&t);
        }
        TenantCommand::Delete { schema_name } => {
            let d = tenant_lifecycle::delete(&app, now, &actor, &schema_name)?;
            println!(
                "deleted {schema_name}: its database and files are in {}; `licd tenant restore {schema_name}` brings it back, `licd tenant purge` removes it",
                dir.root().join(&d.archive).display()
            );
            if !d.tenant.domains.is_empty() {
                println!("domains freed: {}", d.tenant.domains.join(", "));
            }
        }
        TenantCommand::Restore {
            schema_name,
            archive,
        } => {
            let r = match (schema_name, archive) {
                (_, Some(dir)) => tenant_lifecycle::restore_from_archive(&app, now, &actor, &dir)?,
                (Some(schema_name), None) => {
                    tenant_lifecycle::restore(&app, now, &actor, &schema_name)?
                }
                (None, None) => bail!("give the tenant's schema_name or --archive DIR"),
            };
            print(&r.tenant);
            if !r.domains_not_restored.is_empty() {
                println!(
                    "not restored (another tenant has them now): {}",
                    r.domains_not_restored.join(", ")
                );
            }
        }
        TenantCommand::Purge { older_than_days } => {
            let purged = tenant_lifecycle::purge(&app.tenants, now, &actor, older_than_days)?;
            for p in &purged {
                println!(
                    "purged {} (Install ID {}, deleted {}): removed {}",
                    p.schema_name,
                    p.install_id,
                    p.deleted_at.to_rfc3339(),
                    p.archive
                );
            }
            if purged.is_empty() {
                println!("no archive is {older_than_days} days old or older");
            }
        }
        TenantCommand::Domain(DomainCommand::List { schema_name }) => {
            for d in tenant_domains::list(&app.tenants, now, &actor, &schema_name)? {
                println!("{}{}", d.domain, if d.primary { " (primary)" } else { "" });
            }
        }
        TenantCommand::Domain(DomainCommand::Add {
            schema_name,
            domain,
        }) => {
            let now_list =
                tenant_domains::add(&app, now, &actor, &schema_name, NewDomain { domain })?;
            let names: Vec<&str> = now_list.iter().map(|d| d.domain.as_str()).collect();
            println!("{schema_name} has the domains: {}", names.join(", "));
            println!(
                "the server certificate from the local CA names them from the server's next start"
            );
        }
        TenantCommand::Domain(DomainCommand::Remove {
            schema_name,
            domain,
        }) => {
            tenant_domains::remove(&app, now, &actor, &schema_name, &domain)?;
            println!("{domain} is no longer routed to {schema_name}");
        }
        TenantCommand::RecoveryKey {
            schema_name,
            email,
            lifetime,
        } => {
            let key = recovery::issue(
                &app,
                now,
                &actor,
                &schema_name,
                RecoveryKeyRequest {
                    email,
                    lifetime: Some(lifetime),
                },
            )?;
            println!("{}", key.url);
            eprintln!(
                "one-time sign-in link for {} in {schema_name}, valid until {}; anyone holding it can sign in",
                key.email,
                key.expires_at.to_rfc3339()
            );
        }
    }
    app.tenants.checkpoint_all();
    Ok(())
}
