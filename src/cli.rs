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
use std::path::{Path, PathBuf};
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
    /// Offline license tools: verify, inspect, sign (no server or data dir needed).
    #[command(subcommand)]
    License(LicenseCommand),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A new (or empty) directory to write the backup to.
    #[arg(long, required_unless_present = "verify", conflicts_with = "verify")]
    pub out: Option<PathBuf>,
    /// Check a backup's manifest, checksums and databases without restoring it.
    #[arg(long, value_name = "BACKUP")]
    pub verify: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Write the CA certificate (PEM) for clients to trust; its SHA-256 goes to stderr.
    Export {
        /// Output file; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Issue a server certificate for another service at the site, signed by the local
    /// CA: writes NAME.pem and NAME.key (0600) into --out-dir.
    Issue(CaIssueArgs),
}

#[derive(Debug, Args)]
pub struct CaIssueArgs {
    /// A DNS name for the certificate (repeat for more; the first names the files).
    #[arg(long = "name", required = true)]
    pub names: Vec<String>,
    /// An IP address for the certificate (repeat for more).
    #[arg(long = "ip")]
    pub ips: Vec<std::net::IpAddr>,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Where to write the files.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write the public keys: a JWKS (for appliances and JOSE libraries) or PEM.
    Export {
        #[arg(long, value_enum, default_value = "jwks")]
        format: KeyFormat,
        /// Output file; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyFormat {
    Jwks,
    Pem,
}

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Verify a license key's signature and validity offline. Exit codes: 0 valid,
    /// 2 malformed, 3 unknown key, 4 bad signature, 5 wrong Install ID, 6 not yet valid,
    /// 7 expired, 1 other errors.
    Verify {
        /// A JWKS file (from `licd keys export` or /.well-known/jwks.json).
        #[arg(
            long,
            conflicts_with = "public_key",
            required_unless_present = "public_key"
        )]
        jwks: Option<PathBuf>,
        /// A PEM public key file.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// The Install ID the key must be for.
        #[arg(long)]
        install_id: Option<String>,
        /// The license key, or `-` (the default) to read it from standard input.
        key: Option<String>,
    },
    /// Decode a license key WITHOUT verifying it.
    Inspect {
        /// The license key, or `-` (the default) for standard input.
        key: Option<String>,
    },
    /// Sign a license key offline with a private key file (air-gapped issuing).
    Sign(SignArgs),
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key, PKCS#8 or SEC1 PEM (P-256).
    #[arg(long)]
    pub key: PathBuf,
    #[arg(long)]
    pub install_id: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub organization: String,
    #[arg(long, default_value_t = 0)]
    pub internal_users: u32,
    #[arg(long, default_value_t = 0)]
    pub external_users: u32,
    /// Comma-separated feature names.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// Comma-separated flags: trial, non_production.
    #[arg(long, value_delimiter = ',')]
    pub flags: Vec<String>,
    /// Days from now until it expires.
    #[arg(
        long,
        conflicts_with = "expires_at",
        required_unless_present = "expires_at"
    )]
    pub days: Option<u32>,
    /// Expiry as RFC 3339 (e.g. 2027-12-31T23:59:59Z).
    #[arg(long)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The issuer (`iss`) claim.
    #[arg(long, default_value = "licd:offline")]
    pub issuer: String,
}

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
    /// Replace an account's password with a one-time password (printed), end its
    /// sessions and revoke its API tokens.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it cannot sign in, its sessions end and its API tokens are
    /// revoked (enabling it again does not revive them).
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

fn read_key_arg(key: Option<String>) -> Result<String> {
    match key.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .context("reading the key from standard input")?;
            Ok(s.trim().to_owned())
        }
        Some(k) => Ok(k.trim().to_owned()),
    }
}

pub fn ca_export(config: Config, out: Option<PathBuf>) -> Result<()> {
    let app = open_existing(config)?;
    match out {
        Some(path) => std::fs::write(&path, app.ca.cert_pem())
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{}", app.ca.cert_pem()),
    }
    eprintln!("{}: SHA-256 {}", app.ca.name(), app.ca.fingerprint());
    Ok(())
}

/// Progress on a terminal (a bar), or plain lines when stderr is not one.
struct CliProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl CliProgress {
    fn new() -> CliProgress {
        use std::io::IsTerminal;
        CliProgress {
            bar: std::io::stderr()
                .is_terminal()
                .then(|| indicatif::ProgressBar::new(0)),
        }
    }
}

impl licd::service::backup::Progress for CliProgress {
    fn begin(&self, what: &str, total_bytes: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total_bytes);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{msg:12} [{bar:40}] {bytes}/{total_bytes} {wide_msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(what.to_owned());
            }
            None => eprintln!("{what}: about {total_bytes} bytes"),
        }
    }

    fn done(&self, path: &str, bytes: u64) {
        match &self.bar {
            Some(bar) => bar.inc(bytes),
            None => eprintln!("  {path} ({bytes} bytes)"),
        }
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn backup(config: Config, args: BackupArgs) -> Result<()> {
    use licd::service::backup;
    let progress = CliProgress::new();
    if let Some(dir) = args.verify {
        let m = backup::verify(&dir, &progress)?;
        println!(
            "{}: backup is intact ({} files, {} bytes, made {} by licd {})",
            dir.display(),
            m.entries.len(),
            m.total_bytes(),
            m.created_at.to_rfc3339(),
            m.licd_version
        );
        return Ok(());
    }
    let Some(out) = args.out else {
        bail!("give --out DIR (or --verify BACKUP)");
    };
    let data = DataDir::new(&config.storage.data_dir);
    check_owner(data.root())?;
    let m = backup::backup(
        &data,
        &out,
        licd::clock::Clock::now(&SystemClock),
        &progress,
    )?;
    println!(
        "{}: {} files, {} bytes. It holds the signing keys' KEK and the CA's private key: store it like a private key.",
        out.display(),
        m.entries.len(),
        m.total_bytes()
    );
    Ok(())
}

pub fn restore(config: Config, from: PathBuf) -> Result<()> {
    let data = DataDir::new(&config.storage.data_dir);
    check_owner(data.root())?;
    let m = licd::service::backup::restore(&from, &data, &CliProgress::new())?;
    println!(
        "restored {} files into {} (backup of {} made {}); start licd on it",
        m.entries.len(),
        data.root().display(),
        m.source,
        m.created_at.to_rfc3339()
    );
    Ok(())
}

pub fn ca_issue(config: Config, args: CaIssueArgs) -> Result<()> {
    let app = open_existing(config)?;
    let (cert, key, issued) = licd::service::tls::issue_for_service(
        &app,
        &args.names,
        &args.ips,
        args.days,
        &args.out_dir,
        app.clock.now(),
        &Actor::Cli,
    )?;
    println!("certificate: {}", cert.display());
    println!("private key: {} (mode 0600)", key.display());
    println!("valid until: {}", issued.not_after.to_rfc3339());
    println!(
        "signed by:   {} (SHA-256 {})",
        app.ca.name(),
        app.ca.fingerprint()
    );
    Ok(())
}

pub fn keys_export(config: Config, format: KeyFormat, out: Option<PathBuf>) -> Result<()> {
    let app = open_existing(config)?;
    let ring = app.tenants.public()?.keyring()?;
    let text = match format {
        KeyFormat::Jwks => serde_json::to_string_pretty(&ring.jwks())? + "\n",
        KeyFormat::Pem => ring
            .verifying
            .iter()
            .map(|k| k.to_pem().map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<Result<Vec<_>>>()?
            .join(""),
    };
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `licd license verify`: prints the claims and a verdict; the exit code names the failure.
pub fn license_verify(
    jwks: Option<PathBuf>,
    public_key: Option<PathBuf>,
    install_id: Option<String>,
    key: Option<String>,
) -> Result<u8> {
    use licd::pki::keys::{Jwks, PublicKey};
    let keys = match (jwks, public_key) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let set: Jwks = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JWKS", path.display()))?;
            set.public_keys()
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            vec![
                PublicKey::from_pem(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ]
        }
        (None, None) => bail!("give --jwks FILE or --public-key PEM"),
    };
    let token = read_key_arg(key)?;
    let now = licd::clock::Clock::now(&SystemClock);
    match licd::pki::verify::verify_license(&token, &keys, install_id.as_deref(), now) {
        Ok(claims) => {
            println!("{}", serde_json::to_string_pretty(&claims)?);
            println!(
                "VALID: signed by {}; {} internal and {} external users; expires {}",
                licd::pki::jws::parse(&token)
                    .map(|p| p.header.kid)
                    .unwrap_or_default(),
                claims.internal_users,
                claims.external_users,
                claims.expires_at().to_rfc3339()
            );
            Ok(0)
        }
        Err(e) => {
            if let Ok((_, claims)) = licd::pki::verify::inspect(&token) {
                println!("{}", serde_json::to_string_pretty(&claims)?);
            }
            println!("INVALID ({}): {e}", e.kind());
            Ok(match e.kind() {
                "malformed" => 2,
                "unknown_key" => 3,
                "bad_signature" => 4,
                "wrong_install_id" => 5,
                "not_yet_valid" => 6,
                _ => 7,
            })
        }
    }
}

pub fn license_inspect(key: Option<String>) -> Result<()> {
    let token = read_key_arg(key)?;
    let (header, claims) =
        licd::pki::verify::inspect(&token).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "NOT VERIFIED: this shows what the key claims; use `licd license verify` to check it."
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "header": header, "claims": claims }))?
    );
    Ok(())
}

pub fn license_sign(args: SignArgs) -> Result<()> {
    use licd::domain::license::{LICENSE_TYP, LicenseRequest, validate};
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("reading {}", args.key.display()))?;
    if let Some(mode) = licd::config::world_readable(&args.key) {
        eprintln!(
            "warning: {} is readable by every user (mode {mode:o}); it is a private key",
            args.key.display()
        );
    }
    let pair = licd::pki::KeyPair::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.key.display()))?;
    let now = licd::clock::Clock::now(&SystemClock);
    let expires_at = match (args.expires_at, args.days) {
        (Some(t), _) => t,
        (None, Some(d)) => now
            .checked_add_signed(chrono::Duration::days(i64::from(d)))
            .with_context(|| format!("--days {d} is too far ahead"))?,
        (None, None) => bail!("give --days N or --expires-at TIME"),
    };
    let req = LicenseRequest {
        name: args.name,
        install_id: args.install_id,
        organization: args.organization,
        internal_users: args.internal_users,
        external_users: args.external_users,
        features: args.features,
        flags: args.flags,
        not_before: None,
        expires_at,
    };
    let valid = validate(&req, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let claims = valid.claims(&id, &args.issuer, now);
    println!("{}", licd::pki::jws::sign(&pair, LICENSE_TYP, &claims)?);
    eprintln!("signed license {id} with key {}", pair.kid());
    Ok(())
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
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
) -> Result<(App, Option<Bootstrapped>)> {
    let min_len = config.auth.min_password_length;
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

pub fn print_bootstrap(b: &Bootstrapped) {
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

/// Opens an existing data directory for an administrative command.
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

fn open_existing(config: Config) -> Result<App> {
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
    if config.tls.enabled {
        if let (Some(cert), Some(key)) = (&config.tls.cert_file, &config.tls.key_file) {
            let c = licd::pki::tls::ServerCert::from_files(cert, key)?;
            println!(
                "tls cert = {} (names {}; valid until {})",
                cert.display(),
                c.info.names.join(", "),
                c.info.not_after.to_rfc3339()
            );
        }
        println!("https    = {}", config.server.listen_https);
        match config.tls.http {
            licd::config::PlainHttp::Redirect => {
                println!("http     = {} (redirects to HTTPS)", config.server.listen)
            }
            licd::config::PlainHttp::Off => println!("http     = off"),
        }
    } else {
        println!("http     = {} (TLS off)", config.server.listen);
    }
    if let Some(url) = &config.server.public_url {
        if config.behind_https_proxy() {
            println!("public   = {url} (behind an HTTPS proxy: Secure __Host- cookies, HSTS)");
        } else {
            println!("public   = {url}");
        }
    }
    Ok(())
}

pub fn admin(config: Config, cmd: AdminCommand) -> Result<()> {
    let min_len = config.auth.min_password_length;
    let hours = config.auth.one_time_password_hours;
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
                println!(
                    "one-time password (must be changed at first sign-in, within {hours} hours): {p}"
                );
            }
        }
        AdminCommand::ResetPassword { email } => {
            let id = staff::id_by_email(&tenant, &email)?;
            let p = staff::reset_password(&tenant, now, &actor, id)?;
            println!(
                "one-time password for {email} (must be changed at next sign-in, within {hours} hours): {p}"
            );
            eprintln!("its sessions have ended and its API tokens are revoked");
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
            println!(
                "disabled {email}; its sessions have ended and its API tokens are revoked (enabling it again does not revive them)"
            );
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
            let expires = match expires_in_days {
                None => None,
                Some(d) => Some(
                    now.checked_add_signed(chrono::Duration::days(i64::from(d)))
                        .with_context(|| format!("--expires-in-days {d} is too far ahead"))?,
                ),
            };
            let created = tokens::create(&tenant, now, &actor, id, &name, expires)?;
            println!("{}", created.secret);
            if staff::get(&tenant, id)?.must_change_password {
                eprintln!(
                    "note: {email} must still change a one-time password; until then the token reaches only /api/v1/me and /api/v1/auth/password"
                );
            }
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
        let v = audit::verify(&t)?;
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
