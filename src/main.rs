//! The `licd` binary: parse the command line, load config, start logging, dispatch.

mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command};
use licd::config::{Config, LogFormat};
use std::io::IsTerminal;
use std::net::TcpListener;
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

fn serve(config: Config, args: cli::ServeArgs) -> Result<()> {
    let listen = config.server.listen;
    let (app, created) = cli::open_and_bootstrap(config, &args.admin)?;
    let listener = TcpListener::bind(listen).with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    if let Some(b) = &created {
        cli::print_bootstrap(b);
    }
    tracing::info!(url = %format!("http://{addr}/"), data_dir = %app.config.storage.data_dir.display(), "licd is listening");
    tracing::info!(ca = app.ca.name(), sha256 = %app.ca.fingerprint(), "local CA: GET /ca.pem or licd ca export");
    actix_web::rt::System::new().block_on(licd::server::run(
        app,
        listener,
        licd::server::shutdown_signal(),
    ))?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Offline license tools need no config, data dir or logging.
    if let Command::License(cmd) = cli.command {
        let code = match cmd {
            cli::LicenseCommand::Verify {
                jwks,
                public_key,
                install_id,
                key,
            } => cli::license_verify(jwks, public_key, install_id, key),
            cli::LicenseCommand::Inspect { key } => cli::license_inspect(key).map(|()| 0),
            cli::LicenseCommand::Sign(args) => cli::license_sign(args).map(|()| 0),
        };
        return match code {
            Ok(c) => ExitCode::from(c),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let result = (|| -> Result<()> {
        if let Command::CheckConfig { file } = &cli.command {
            return cli::check_config(&cli, file.clone());
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
        match cli.command {
            Command::Serve(args) => serve(config, args),
            Command::Init(args) => {
                let (app, created) = cli::open_and_bootstrap(config, &args.admin)?;
                match &created {
                    Some(b) => cli::print_bootstrap(b),
                    None => eprintln!(
                        "{} is already initialised; nothing to do",
                        app.config.storage.data_dir.display()
                    ),
                }
                app.tenants.checkpoint_all();
                Ok(())
            }
            Command::CheckConfig { .. } => Ok(()),
            Command::Admin(cmd) => cli::admin(config, cmd),
            Command::Audit(cli::AuditCommand::Verify) => cli::audit_verify(config),
            Command::Keys(cli::KeysCommand::Export { format, out }) => {
                cli::keys_export(config, format, out)
            }
            Command::Ca(cli::CaCommand::Export { out }) => cli::ca_export(config, out),
            Command::License(_) => Ok(()),
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
