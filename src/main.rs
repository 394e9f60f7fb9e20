//! The `licd` binary: parse the command line, load config, start logging, dispatch.

mod cli;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command};
use licd::config::{Config, LogFormat};
use std::io::IsTerminal;
use std::process::ExitCode;

fn init_logging(config: &Config) {
    let filter = std::env::var("LICD_LOG").unwrap_or_else(|_| config.log.level.clone());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Offline license tools need no config, data dir or logging.
    if let Command::License(cmd) = cli.command {
        return match cli::license::run(cmd) {
            Ok(c) => ExitCode::from(c),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let result = (|| -> Result<()> {
        if let Command::CheckConfig { file } = &cli.command {
            return cli::check_config::run(&cli, file.clone());
        }
        let config = Config::load(cli.config.as_deref(), &cli.overrides())
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        init_logging(&config);
        for var in Config::unknown_env_vars() {
            tracing::warn!(
                var,
                "environment variable is not a licd setting (settings use __, e.g. LICD_SERVER__LISTEN)"
            );
        }
        cli::run(config, cli.command)
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
