//! The `licd` binary: parse the command line, load config, start logging, dispatch.

mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command};
use licd::config::{Config, LogFormat, PlainHttp};
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

fn bind(addr: std::net::SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).with_context(|| format!("binding {addr}"))
}

/// How a browser reaches a bound socket (`0.0.0.0` and `::` shown as localhost).
fn url(scheme: &str, l: &TcpListener) -> Result<String> {
    let addr = l.local_addr()?;
    let host = match addr.ip() {
        ip if ip.is_unspecified() || ip.is_loopback() => "localhost".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Ok(format!("{scheme}://{host}:{}/", addr.port()))
}

fn serve(config: Config, args: cli::ServeArgs) -> Result<()> {
    let (mut app, created) = cli::open_and_bootstrap(config, &args.admin)?;
    let server = app.config.server.clone();
    let tls = app.config.tls.clone();
    let mut sockets = licd::server::Sockets {
        redirect_plain: true,
        ..Default::default()
    };
    if tls.enabled {
        app.enable_tls()?;
        sockets.https = Some(bind(server.listen_https)?);
        if tls.http == PlainHttp::Redirect {
            sockets.http = Some(bind(server.listen)?);
        }
    } else {
        sockets.http = Some(bind(server.listen)?);
    }
    if let Some(b) = &created {
        cli::print_bootstrap(b);
    }
    let data_dir = app.config.storage.data_dir.display().to_string();
    match (&sockets.https, &sockets.http) {
        (Some(s), plain) => {
            tracing::info!(url = %url("https", s)?, data_dir, "licd is listening");
            if let Some(p) = plain {
                tracing::info!(url = %url("http", p)?, "plain HTTP redirects to HTTPS (except /healthz, /readyz, /ca.pem)");
            }
        }
        (None, Some(p)) => {
            tracing::info!(url = %url("http", p)?, data_dir, "licd is listening (TLS off)")
        }
        (None, None) => {}
    }
    if let Some(info) = app.tls.as_ref().map(|t| t.info()) {
        tracing::info!(names = ?info.names, not_after = %info.not_after, "server certificate");
    }
    tracing::info!(ca = app.ca.name(), sha256 = %app.ca.fingerprint(), "local CA: GET /ca.pem or licd ca export");
    actix_web::rt::System::new().block_on(licd::server::run(
        std::sync::Arc::new(app),
        sockets,
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
            Command::Backup(args) => cli::backup(config, args),
            Command::Restore { backup } => cli::restore(config, backup),
            Command::Keys(cli::KeysCommand::Export { format, out }) => {
                cli::keys_export(config, format, out)
            }
            Command::Ca(cli::CaCommand::Export { out }) => cli::ca_export(config, out),
            Command::Ca(cli::CaCommand::Issue(args)) => cli::ca_issue(config, args),
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
