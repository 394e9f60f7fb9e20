//! The command line: `licd serve`, `init`, `check-config`, `admin ...`, `audit verify`.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use licd::clock::SystemClock;
use licd::config::{Config, LogFormat, Overrides};
use licd::domain::permissions::Role;
use licd::service::bootstrap::{AdminSeed, Bootstrapped, ensure_first_admin};
use licd::service::staff::{NewStaffInput, StaffPatch};
use licd::service::{Actor, App, audit, staff, tokens};
use licd::store::layout::DataDir;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "licd", version, about = "On-prem software licensing server")]
pub struct Cli {
    /// Config file (TOML). Default: /etc/licd/licd.toml when it exists.
    #[arg(long, global = true, env = "LICD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (databases, keys, CA). Overrides storage.data_dir.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format. Overrides log.format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (initialising the data directory on first start).
    Serve(ServeArgs),
    /// Create the data directory and the first super_admin, then exit.
    Init(InitArgs),
    /// Validate a config file (and the environment); exit non-zero naming the problem.
    CheckConfig {
        /// The file to check; default: --config, else /etc/licd/licd.toml when it exists.
        file: Option<PathBuf>,
    },
    /// Manage staff accounts from the server host.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for the HTTP listener. Overrides server.listen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub admin: AdminSeedArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub admin: AdminSeedArgs,
}

#[derive(Debug, Args)]
pub struct AdminSeedArgs {
    /// Email of the first super_admin (only used when the data directory is new).
    /// The password comes from LICD_ADMIN_PASSWORD or LICD_ADMIN_PASSWORD_FILE; without
    /// either, licd prints a one-time password that must be changed at first login.
    #[arg(long, env = "LICD_ADMIN_EMAIL", value_name = "EMAIL")]
    pub admin_email: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account; prints a one-time password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Replace an account's password with a one-time password (printed) and end its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it cannot sign in, and its sessions and tokens stop working.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a staff account and print it (shown once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Days until it expires; default: never.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain of every tenant's audit log; name the first broken entry.
    Verify,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        let listen = match &self.command {
            Command::Serve(a) => a.listen,
            _ => None,
        };
        Overrides {
            data_dir: self.data_dir.clone(),
            listen,
            log_format: self.log_format.map(|f| match f {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
        }
    }
}

/// The first admin's password from LICD_ADMIN_PASSWORD or LICD_ADMIN_PASSWORD_FILE.
fn admin_password() -> Result<Option<String>> {
    if let Ok(p) = std::env::var("LICD_ADMIN_PASSWORD") {
        return Ok(Some(p));
    }
    if let Ok(path) = std::env::var("LICD_ADMIN_PASSWORD_FILE") {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading LICD_ADMIN_PASSWORD_FILE {path}"))?;
        return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(None)
}

/// Opens the data directory (creating it on first use) and bootstraps the first admin.
pub fn open_and_bootstrap(
    config: Config,
    seed: &AdminSeedArgs,
) -> Result<(Arc<App>, Option<Bootstrapped>)> {
    let min_len = config.auth.min_password_length;
    let app = App::open(config, Arc::new(SystemClock)).context("opening the data directory")?;
    let seed = AdminSeed {
        email: seed.admin_email.clone(),
        password: admin_password()?,
    };
    let public = app.tenants.public()?;
    let created = ensure_first_admin(&public, app.clock.now(), &seed, min_len)
        .context("creating the first super_admin")?;
    Ok((Arc::new(app), created))
}

pub fn print_bootstrap(b: &Bootstrapped) {
    eprintln!();
    eprintln!("  licd created the first super_admin: {}", b.email);
    match &b.one_time_password {
        Some(p) => {
            eprintln!("  One-time password (shown once; you must change it at first sign-in):");
            eprintln!();
            eprintln!("      {p}");
        }
        None => eprintln!("  Password: the one given in LICD_ADMIN_PASSWORD(_FILE)."),
    }
    eprintln!();
}

/// Opens an existing data directory for an administrative command.
fn open_existing(config: Config) -> Result<App> {
    let dir = DataDir::new(&config.storage.data_dir);
    if !dir.is_initialized() {
        bail!(
            "{} is not a licd data directory (no registry.db); run `licd init --data-dir {}` first",
            dir.root().display(),
            dir.root().display()
        );
    }
    Ok(App::open(config, Arc::new(SystemClock))?)
}

pub fn check_config(cli: &Cli, file: Option<PathBuf>) -> Result<()> {
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
    match shown {
        Some(p) => println!("{}: configuration is valid", p.display()),
        None => println!("configuration is valid (defaults and environment; no file)"),
    }
    println!("data_dir = {}", config.storage.data_dir.display());
    println!("listen   = {}", config.server.listen);
    Ok(())
}

pub fn admin(config: Config, cmd: AdminCommand) -> Result<()> {
    let min_len = config.auth.min_password_length;
    let app = open_existing(config)?;
    let tenant = app.tenants.public()?;
    let now = app.clock.now();
    let actor = Actor::Cli;
    match cmd {
        AdminCommand::Create {
            email,
            role,
            display_name,
        } => {
            let input = NewStaffInput {
                email,
                display_name,
                role,
                password: None,
            };
            let created = staff::create(&tenant, now, &actor, input, min_len)?;
            println!("created {} ({})", created.user.email, created.user.role);
            if let Some(p) = created.one_time_password {
                println!("one-time password (must be changed at first sign-in): {p}");
            }
        }
        AdminCommand::ResetPassword { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            let p = staff::reset_password(&tenant, now, &actor, id)?;
            println!("one-time password for {email} (must be changed at next sign-in): {p}");
        }
        AdminCommand::Disable { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            staff::update(
                &tenant,
                now,
                &actor,
                id,
                StaffPatch {
                    disabled: Some(true),
                    ..Default::default()
                },
            )?;
            println!("disabled {email}; its sessions and tokens no longer work");
        }
        AdminCommand::Enable { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            staff::update(
                &tenant,
                now,
                &actor,
                id,
                StaffPatch {
                    disabled: Some(false),
                    ..Default::default()
                },
            )?;
            println!("enabled {email}");
        }
        AdminCommand::Token(TokenCommand::Create {
            email,
            name,
            expires_in_days,
        }) => {
            let id = staff::id_by_email(&tenant, &email)?;
            let expires = expires_in_days.map(|d| now + chrono::Duration::days(i64::from(d)));
            let created = tokens::create(&tenant, now, &actor, id, &name, expires)?;
            println!("{}", created.secret);
            eprintln!(
                "API token {:?} for {email}; it is shown only now. Send it as `Authorization: Bearer <token>`.",
                name
            );
        }
    }
    Ok(())
}

pub fn audit_verify(config: Config) -> Result<()> {
    let app = open_existing(config)?;
    let mut broken = false;
    let mut tenants = app.tenants.all();
    tenants.sort_by(|a, b| a.schema_name.cmp(&b.schema_name));
    for t in tenants {
        let v = audit::verify(&t.db)?;
        match v.broken {
            None => println!(
                "{}: audit chain intact ({} entries)",
                t.schema_name, v.entries
            ),
            Some((id, why)) => {
                broken = true;
                println!(
                    "{}: audit chain BROKEN at entry {id}: {}",
                    t.schema_name,
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
