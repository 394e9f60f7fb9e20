//! `licd agent`: the appliance side, built on the licd-client crate. `run` is the
//! long-running agent (the `licd-agent.service` unit's command); `status` asks it over
//! its Unix socket; the others write or read the files that cross an air gap. They read
//! the agent's own config (`--config`, default /etc/licd/agent.toml), never licd's.

use anyhow::{Context, Result};
use clap::Subcommand;
use licd::agent::config::{AgentConfig, DEFAULT_AGENT_CONFIG_PATH};
use licd::agent::{commands, run, status_text};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run the agent: activate, heartbeat with jitter and backoff, apply directives,
    /// and serve GET /status on the Unix socket (and the optional loopback port).
    Run,
    /// Print the running agent's status, asked over its Unix socket.
    Status {
        /// Print the status JSON as the API answers it.
        #[arg(long)]
        json: bool,
    },
    /// Write an offline activation request (signed by this appliance's key) for staff
    /// to upload to licd when the box cannot reach it.
    OfflineRequest {
        /// The request file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Apply a file from licd: an offline response, a renewal or revocation bundle, or
    /// a usage report's acknowledgement.
    OfflineImport {
        /// The file staff brought back from licd.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Offline deactivation: write a signed release proof (with the final user counts)
    /// that frees the license when uploaded to licd; this box then forgets its
    /// activation.
    Release {
        /// The release proof to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write a true-up usage report (signed, chained to the previous one) for licd, and
    /// a copy for people beside it (FILE.txt).
    UsageReport {
        /// The report file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Runs an agent command with the agent config at `config` (default
/// /etc/licd/agent.toml).
pub fn execute(config: Option<&Path>, command: AgentCommand) -> Result<()> {
    let path = config.unwrap_or(Path::new(DEFAULT_AGENT_CONFIG_PATH));
    let config = AgentConfig::load(Some(path))
        .map_err(|e| anyhow::anyhow!("invalid agent configuration {}: {e}", path.display()))?;
    // Files the agent's store and key would be left to another user (e.g. root) by a
    // command run as someone else: refused, as for licd's data directory.
    if !matches!(command, AgentCommand::Status { .. }) {
        super::check_owner(&config.state_dir)?;
    }
    match command {
        AgentCommand::Run => run::run(config),
        AgentCommand::Status { json } => {
            let body = licd::agent::status_api::fetch(&config.socket).with_context(|| {
                format!(
                    "asking the agent at {} (is `licd agent run` running?)",
                    config.socket.display()
                )
            })?;
            if json {
                println!("{}", body.trim_end());
            } else {
                let value: serde_json::Value =
                    serde_json::from_str(&body).context("the agent's answer is not JSON")?;
                print!("{}", status_text::render(&value));
            }
            Ok(())
        }
        AgentCommand::OfflineRequest { out } => {
            let said = commands::offline_request(&config, &out)?;
            println!("{said}");
            Ok(())
        }
        AgentCommand::OfflineImport { file } => {
            for line in commands::offline_import(&config, &file)? {
                println!("{line}");
            }
            Ok(())
        }
        AgentCommand::Release { out } => {
            let said = commands::release(&config, &out)?;
            println!("{said}");
            Ok(())
        }
        AgentCommand::UsageReport { out } => {
            let said = commands::usage_report(&config, &out)?;
            println!("{said}");
            Ok(())
        }
    }
}
