//! `licd serve` and `licd init`: open (or create) the data directory, make the first
//! super_admin, and for `serve` listen until a shutdown signal.

use super::check_owner;
use anyhow::{Context, Result};
use clap::Args;
use licd::clock::SystemClock;
use licd::config::{Config, PlainHttp};
use licd::service::App;
use licd::service::bootstrap::{AdminSeed, Bootstrapped, ensure_first_admin};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for the plain HTTP listener. Overrides server.listen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Address for the HTTPS listener. Overrides server.listen_https.
    #[arg(long, value_name = "ADDR")]
    pub listen_https: Option<SocketAddr>,
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

fn bind(addr: SocketAddr) -> Result<TcpListener> {
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

pub fn serve(config: Config, args: ServeArgs) -> Result<()> {
    let (mut app, created) = open_and_bootstrap(config, &args.admin)?;
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
        print_bootstrap(b);
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
        Arc::new(app),
        sockets,
        licd::server::shutdown_signal(),
    ))?;
    Ok(())
}

pub fn init(config: Config, args: InitArgs) -> Result<()> {
    let (app, created) = open_and_bootstrap(config, &args.admin)?;
    match &created {
        Some(b) => print_bootstrap(b),
        None => eprintln!(
            "{} is already initialised; nothing to do",
            app.config.storage.data_dir.display()
        ),
    }
    app.tenants.checkpoint_all();
    Ok(())
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
fn open_and_bootstrap(config: Config, seed: &AdminSeedArgs) -> Result<(App, Option<Bootstrapped>)> {
    let min_len = config.auth.min_password_length;
    for (path, keys) in super::check_config::trusted_issuers(&config)? {
        if keys == 0 {
            tracing::warn!(file = %path.display(), "licensing.trusted_issuers: the file holds no P-256 (ES256) public key; it trusts nothing");
        }
    }
    check_owner(&config.storage.data_dir)?;
    let app = App::open(config, Arc::new(SystemClock)).context("opening the data directory")?;
    let seed = AdminSeed {
        email: seed.admin_email.clone(),
        password: admin_password()?,
    };
    let public = app.tenants.public()?;
    let created = ensure_first_admin(&public, app.clock.now(), &seed, min_len)
        .context("creating the first super_admin")?;
    Ok((app, created))
}

fn print_bootstrap(b: &Bootstrapped) {
    eprintln!();
    eprintln!("  licd created the first super_admin: {}", b.email);
    match &b.one_time_password {
        Some(p) => {
            eprintln!(
                "  One-time password (shown once; you must change it at first sign-in, within auth.one_time_password_hours, 72 by default):"
            );
            eprintln!();
            eprintln!("      {p}");
        }
        None => eprintln!("  Password: the one given in LICD_ADMIN_PASSWORD(_FILE)."),
    }
    eprintln!();
}
