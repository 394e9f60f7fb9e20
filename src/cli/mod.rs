//! The command line, one file per command group: `serve` and `init` (serve.rs),
//! `check-config`, `admin`, `audit`, `keys`, `ca`, `backup` and `restore` (backup.rs),
//! `tenant`, `outbox`, the offline `license` tools, and `agent` (the appliance side). This file holds the top-level parser, the dispatch
//! and what several groups share: opening an existing data directory as its owner.

pub mod admin;
pub mod agent;
pub mod audit;
pub mod backup;
pub mod ca;
pub mod check_config;
pub mod keys;
pub mod license;
pub mod license_offline;
pub mod outbox;
pub mod serve;
pub mod tenant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use licd::clock::SystemClock;
use licd::config::{Config, LogFormat, Overrides};
use licd::service::App;
use licd::store::layout::DataDir;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use admin::AdminCommand;
use agent::AgentCommand;
use audit::AuditCommand;
use backup::BackupArgs;
use ca::CaCommand;
use keys::KeysCommand;
use license::LicenseCommand;
use outbox::OutboxCommand;
use serve::{InitArgs, ServeArgs};
use tenant::TenantCommand;

/// Exit status of a wrong command line (a missing, unknown or conflicting flag), as
/// sysexits.h's EX_USAGE. Not clap's 2: `license verify` exits 2 for a malformed key.
pub const EXIT_USAGE: u8 = 64;

/// A wrong command line found after parsing (e.g. neither of two alternatives given);
/// `main` prints it and exits with [`EXIT_USAGE`], as for clap's own errors.
#[derive(Debug, thiserror::Error)]
#[error("{message}\n\nFor more information, try '{command} --help'.")]
pub struct UsageError {
    message: String,
    command: &'static str,
}

impl UsageError {
    pub fn new(message: impl Into<String>, command: &'static str) -> UsageError {
        UsageError {
            message: message.into(),
            command,
        }
    }
}

#[derive(Debug, Parser)]
#[command(name = "licd", version, about = "On-prem software licensing server")]
pub struct Cli {
    /// Config file (TOML). Default: /etc/licd/licd.toml when it exists. For `licd
    /// agent`: the agent's config, default /etc/licd/agent.toml (LICD_CONFIG does not
    /// apply).
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
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The local certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Back up the data directory while the server runs (databases, KEK, CA), or
    /// check a backup (--verify). The backup holds private keys: store it like one.
    Backup(BackupArgs),
    /// Restore a backup into an empty (or new) data directory, checking it first.
    Restore {
        /// The backup directory (made by `licd backup --out`).
        backup: PathBuf,
    },
    /// Tenants, for air-gapped operators: list, create, rename, delete, restore, purge,
    /// domains and recovery links (on the data directory; changes need the server stopped).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The email outbox: list, show and mark-sent messages (air-gapped sites hand
    /// their links over by other means), or queue a test message.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// License tools: verify, inspect, sign offline (no server or data dir needed); issue
    /// one in a tenant's data directory.
    #[command(subcommand)]
    License(LicenseCommand),
    /// The appliance side: `run` the agent (activation, heartbeats, directives, the
    /// local status API), ask its `status`, and the air-gap files (offline-request,
    /// offline-import, release, usage-report). Reads the agent's config, not licd's.
    #[command(subcommand)]
    Agent(AgentCommand),
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        let (listen, listen_https) = match &self.command {
            Command::Serve(a) => (a.listen, a.listen_https),
            _ => (None, None),
        };
        Overrides {
            data_dir: self.data_dir.clone(),
            listen,
            listen_https,
            log_format: self.log_format.map(|f| match f {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
        }
    }
}

/// Runs a command that works on the configuration and data directory (all but the
/// offline `license` tools and `check-config`, which `main` runs before loading a
/// configuration).
pub fn run(config: Config, command: Command) -> Result<()> {
    match command {
        Command::Serve(args) => serve::serve(config, args),
        Command::Init(args) => serve::init(config, args),
        Command::Admin(cmd) => admin::run(config, cmd),
        Command::Audit(cmd) => audit::run(config, cmd),
        Command::Backup(args) => backup::backup(config, args),
        Command::Restore { backup } => backup::restore(config, backup),
        Command::Keys(cmd) => keys::run(config, cmd),
        Command::Ca(cmd) => ca::run(config, cmd),
        Command::Tenant(cmd) => tenant::run(config, cmd),
        Command::Outbox(cmd) => outbox::run(config, cmd),
        Command::License(cmd) => license::issue_on_data_dir(config, cmd),
        Command::CheckConfig { .. } | Command::Agent(_) => Ok(()),
    }
}

/// Refuses to work on a data directory that belongs to another user: files SQLite
/// creates beside a database (`-wal`, `-shm`) would belong to the wrong user and stop
/// the server from opening it.
pub fn check_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(());
    };
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .context("reading /proc/self")?;
    if me != meta.uid() {
        bail!(
            "{} belongs to uid {}, but this is uid {me}: run licd as the directory's owner (e.g. sudo -u licd licd ...)",
            dir.display(),
            meta.uid()
        );
    }
    Ok(())
}

/// Opens an existing data directory for an administrative command.
pub fn open_existing(config: Config) -> Result<App> {
    let dir = DataDir::new(&config.storage.data_dir);
    check_owner(dir.root())?;
    if !dir.is_initialized() {
        bail!(
            "{} is not a licd data directory (no registry.db); run `licd init --data-dir {}` first",
            dir.root().display(),
            dir.root().display()
        );
    }
    Ok(App::open(config, Arc::new(SystemClock))?)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_parser_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every command, flag and argument explains itself in `--help`.
    #[test]
    fn every_command_and_argument_has_a_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg
                    .get_help()
                    .is_none_or(|h| h.to_string().trim().is_empty())
                {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_name() != "help" && sub.get_about().is_none() {
                    missing.push(format!("{sub_path} (the command)"));
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "licd", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
