//! The `licd` binary: parse the command line, load config, start logging, dispatch.

mod cli;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command};
use licd::config::{Config, LogFormat};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The log filter: `LICD_LOG`, else `log.level` (`info` when neither parses). Unless it
/// asks for debug or names actix_server, actix-server's start-up and worker lines are
/// left out: licd logs its own "licd is listening" line.
fn log_filter(config: &Config) -> EnvFilter {
    let spec = std::env::var("LICD_LOG").unwrap_or_else(|_| config.log.level.clone());
    let (spec, filter) = match EnvFilter::try_new(&spec) {
        Ok(filter) => (spec, filter),
        Err(_) => ("info".to_owned(), EnvFilter::new("info")),
    };
    let verbose = filter
        .max_level_hint()
        .is_some_and(|level| level > LevelFilter::INFO);
    if verbose || spec.contains("actix_server") {
        return filter;
    }
    match "actix_server=warn".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

fn init_logging(config: &Config) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(log_filter(config))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The agent's logging: `LICD_LOG` (default `info`) to standard error.
fn init_agent_logging(format: Option<cli::LogFormatArg>) {
    let filter = std::env::var("LICD_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        Some(cli::LogFormatArg::Json) => builder.json().init(),
        _ => builder.init(),
    }
}

/// Prints a command's error; a wrong command line exits with `EXIT_USAGE`, others with 1.
fn failure(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    if e.downcast_ref::<cli::UsageError>().is_some() {
        ExitCode::from(cli::EXIT_USAGE)
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        // --help and --version print to stdout and succeed; a wrong command line is
        // EXIT_USAGE (clap's own 2 would read as `license verify`'s "malformed").
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(cli::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Offline license tools need no config, data dir or logging (`license issue` does).
    if let Command::License(cmd) = &cli.command
        && cmd.is_offline()
        && let Command::License(cmd) = cli.command
    {
        return match cli::license::run(cmd) {
            Ok(c) => ExitCode::from(c),
            Err(e) => failure(&e),
        };
    }
    // The agent reads its own config (the global --config names it; LICD_CONFIG is the
    // server's and is ignored) and logs alone.
    if let Command::Agent(_) = &cli.command
        && let Command::Agent(cmd) = cli.command
    {
        init_agent_logging(cli.log_format);
        let from_command_line =
            matches.value_source("config") == Some(clap::parser::ValueSource::CommandLine);
        let config = cli.config.as_deref().filter(|_| from_command_line);
        return match cli::agent::execute(config, cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => failure(&e),
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
        Err(e) => failure(&e),
    }
}
