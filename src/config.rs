//! Typed, validated configuration.
//!
//! Sources, later ones winning: built-in defaults < TOML file (`--config`, or
//! `/etc/licd/licd.toml` when it exists) < `LICD_*` environment variables (`__` nests:
//! `LICD_SERVER__LISTEN`) < command-line flags. Unknown keys are an error that names the
//! key. `LICD_*` variables without `__` are not configuration (`LICD_CONFIG`,
//! `LICD_ADMIN_EMAIL`, `LICD_ADMIN_PASSWORD`, ...).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod billing;
mod email;
mod portal;
pub use billing::BillingConfig;
pub use email::{EmailConfig, SmtpCredentials, SmtpEndpoint, SmtpSecurity, parse_smtp_url};
pub use portal::{PortalConfig, Signup};

/// Where the packaged config lives; used when no `--config` is given and it exists.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/licd/licd.toml";

/// Environment variables starting with `LICD_` that are read directly, not as config keys.
pub const NON_CONFIG_ENV: &[&str] = &[
    "LICD_CONFIG",
    "LICD_ADMIN_EMAIL",
    "LICD_ADMIN_PASSWORD",
    "LICD_ADMIN_PASSWORD_FILE",
    "LICD_LOG",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub licensing: LicensingConfig,
    pub tls: TlsConfig,
    pub metrics: MetricsConfig,
    pub tenancy: TenancyConfig,
    pub email: EmailConfig,
    pub portal: PortalConfig,
    pub billing: BillingConfig,
}

/// The tenancy API (`/api/v1/tenants`): off unless enabled, and then authenticated only
/// by a tenancy API key, never by a staff credential.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TenancyConfig {
    /// Serve the tenancy API. Off: every tenancy route answers 404 `tenancy_disabled`.
    pub enabled: bool,
    /// A file of named keys, one `name = key` per line (`#` comments and blank lines
    /// allowed), so that a key can be rotated: add the new one, switch, remove the old.
    /// It must not be readable by group or others.
    pub api_key_file: Option<PathBuf>,
    /// One key given directly (`LICD_TENANCY__API_KEY`); its name is `env`.
    pub api_key: Option<String>,
    /// What a request for a host name that no tenant has as a domain gets: `public`
    /// (routed to the default tenant) or `refuse` (421 `unknown_host`). IP addresses,
    /// `localhost`, `tls.hostnames` and `server.public_url`'s host always reach `public`.
    pub unknown_hosts: UnknownHosts,
    /// Close a tenant other than `public` after this many minutes without use (1 to
    /// 1440; default 15). A closed tenant holds no file descriptor and no memory; it
    /// opens again on its next request or when a job is due for it.
    pub idle_close_minutes: IdleCloseMinutes,
}

/// `tenancy.unknown_hosts`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UnknownHosts {
    /// Routed to the default tenant `public` (the seed's behaviour).
    #[default]
    Public,
    /// Refused with 421 `unknown_host`.
    Refuse,
}

impl Config {
    /// The host names that reach `public` even with `tenancy.unknown_hosts = "refuse"`:
    /// `localhost`, `tls.hostnames` and the host of `server.public_url` (IP addresses
    /// always do too), lower-cased.
    pub fn own_host_names(&self) -> Vec<String> {
        let mut names = self.tls.dns_names();
        let public = self
            .server
            .public_url
            .as_deref()
            .and_then(|u| u.split_once("://"))
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest));
        if let Some(authority) = public {
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(v6),
                None => authority.split(':').next().unwrap_or(authority),
            };
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if !host.is_empty() && !names.contains(&host) {
                names.push(host);
            }
        }
        names
    }
}

/// `tenancy.idle_close_minutes`: 15 unless set.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct IdleCloseMinutes(pub u32);

impl Default for IdleCloseMinutes {
    fn default() -> Self {
        IdleCloseMinutes(15)
    }
}

/// The shortest tenancy API key accepted.
pub const MIN_TENANCY_KEY_CHARS: usize = 32;

impl TenancyConfig {
    /// How long a tenant stays open without use (`idle_close_minutes`).
    pub fn idle_close(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.idle_close_minutes.0))
    }

    /// Every configured key as (name, key): the file's, then `env`. Refuses a key file
    /// readable by group or others (naming the file and its mode), a line that is not
    /// `name = key`, a name given twice, and a key shorter than 32 characters.
    pub fn keys(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let mut keys: Vec<(String, String)> = Vec::new();
        if let Some(path) = &self.api_key_file {
            let at = format!("tenancy.api_key_file {}", path.display());
            if let Some(mode) = group_or_world_readable(path) {
                return Err(ConfigError::Invalid(format!(
                    "{at} is readable by group or others (mode {mode:o}); make it 0600"
                )));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((name, key)) = line.split_once('=') else {
                    return Err(ConfigError::Invalid(format!(
                        "{at} line {}: not `name = key`",
                        n + 1
                    )));
                };
                keys.push((name.trim().to_owned(), key.trim().to_owned()));
            }
        }
        if let Some(key) = &self.api_key {
            keys.push(("env".to_owned(), key.trim().to_owned()));
        }
        for (i, (name, key)) in keys.iter().enumerate() {
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !name_ok {
                return Err(ConfigError::Invalid(format!(
                    "tenancy key name {name:?}: use 1 to 64 of a-z, A-Z, 0-9, _, - and ."
                )));
            }
            if keys[..i].iter().any(|(other, _)| other == name) {
                return Err(ConfigError::Invalid(format!(
                    "tenancy key name {name:?} is given twice (`env` is the name of tenancy.api_key)"
                )));
            }
            if key.chars().count() < MIN_TENANCY_KEY_CHARS {
                return Err(ConfigError::Invalid(format!(
                    "tenancy key {name:?} must be at least {MIN_TENANCY_KEY_CHARS} characters"
                )));
            }
        }
        Ok(keys)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A bearer token for `/metrics`. Unset: `/metrics` answers loopback clients only.
    pub token: Option<String>,
    /// A file holding the token (instead of `token`, to keep it out of the config).
    pub token_file: Option<PathBuf>,
}

impl MetricsConfig {
    /// The token to require, read from `token_file` when that is set.
    pub fn bearer_token(&self) -> Result<Option<String>, ConfigError> {
        if let Some(path) = &self.token_file {
            let t = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Invalid(format!("metrics.token_file {}: {e}", path.display()))
            })?;
            return Ok(Some(t.trim().to_owned()));
        }
        Ok(self.token.clone())
    }
}

/// With TLS on, what the plain HTTP listener (`server.listen`) does.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PlainHttp {
    /// Redirects to HTTPS, except `/healthz`, `/readyz` and `/ca.pem`.
    #[default]
    Redirect,
    /// No plain HTTP listener.
    Off,
}

/// Whether appliances authenticate heartbeats with a client certificate from the local CA.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ApplianceMtls {
    /// No client certificates: activation ignores a CSR, heartbeats use the activation secret.
    #[default]
    Off,
    /// Activation issues a certificate for a CSR; heartbeats may use it or the secret.
    Optional,
    /// Heartbeats must present the certificate issued at activation.
    Required,
}

impl ApplianceMtls {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplianceMtls::Off => "off",
            ApplianceMtls::Optional => "optional",
            ApplianceMtls::Required => "required",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Serve HTTPS on `server.listen_https`. `false`: plain HTTP only, on `server.listen`
    /// (for a TLS-terminating proxy in front).
    pub enabled: bool,
    /// With TLS on, what `server.listen` does: `redirect` or `off`.
    pub http: PlainHttp,
    /// Host names the server certificate is for (`localhost` is always added).
    pub hostnames: Vec<String>,
    /// IP addresses the server certificate is for (`127.0.0.1` and `::1` are always added).
    pub ips: Vec<std::net::IpAddr>,
    /// Bring your own certificate: a PEM chain (leaf first) replacing the local CA's.
    pub cert_file: Option<PathBuf>,
    /// The private key (PEM) of `cert_file`; must not be readable by other users.
    pub key_file: Option<PathBuf>,
    /// Lifetime of server certificates from the local CA; renewed at two thirds of it.
    pub server_cert_days: u32,
    /// Client certificates for appliances: `off`, `optional` or `required`.
    pub appliance_mtls: ApplianceMtls,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            http: PlainHttp::Redirect,
            hostnames: Vec::new(),
            ips: Vec::new(),
            cert_file: None,
            key_file: None,
            server_cert_days: 90,
            appliance_mtls: ApplianceMtls::Off,
        }
    }
}

impl TlsConfig {
    /// The names the local CA's server certificate carries: localhost and the configured ones.
    pub fn dns_names(&self) -> Vec<String> {
        let mut names = vec!["localhost".to_owned()];
        for h in &self.hostnames {
            let h = h.trim().to_ascii_lowercase();
            if !names.contains(&h) {
                names.push(h);
            }
        }
        names
    }

    /// The addresses the local CA's server certificate carries: loopback and the configured ones.
    pub fn ip_addrs(&self) -> Vec<std::net::IpAddr> {
        let mut ips: Vec<std::net::IpAddr> = vec![
            std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::Ipv6Addr::LOCALHOST.into(),
        ];
        for ip in &self.ips {
            if !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        ips
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LicensingConfig {
    /// Public keys (JWKS or PEM files) whose signatures licd accepts on its own license
    /// keys (Enterprise > Licenses).
    pub trusted_issuers: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Plain HTTP listener address (redirects to HTTPS when TLS is on; see `tls.http`).
    pub listen: SocketAddr,
    /// HTTPS listener address (when `tls.enabled`).
    pub listen_https: SocketAddr,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Seconds a client gets to send a request's body; a body still incomplete then is
    /// refused (408) and the connection closed.
    pub request_timeout_secs: u64,
    /// The address browsers use, when it differs from what licd serves: with
    /// `tls.enabled = false` behind a TLS-terminating proxy, `https://...` makes cookies
    /// `Secure` (with the `__Host-` prefix) and sends HSTS. Scheme, host and optional
    /// port only.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            listen_https: SocketAddr::from(([127, 0, 0, 1], 8443)),
            workers: 0,
            max_body_bytes: 64 * 1024,
            shutdown_timeout_secs: 30,
            request_timeout_secs: 30,
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The data directory: databases, keys, CA.
    pub data_dir: PathBuf,
    /// Most reader connections per database, each opened on its first read (there is
    /// always exactly one writer).
    pub readers: usize,
    /// How long a connection waits on a locked database, in milliseconds.
    pub busy_timeout_ms: u64,
    /// SQLite page cache of the writer connection, in MiB.
    pub cache_mib: u64,
    /// How much of each database file is read through a memory map, in MiB (0: off).
    /// Address space, not memory: mapped pages are the kernel's file cache, and a page
    /// read through the map needs no copy in SQLite's own (anonymous) page cache.
    /// SQLite caps it at 2 GiB.
    pub mmap_mib: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            readers: 4,
            busy_timeout_ms: 5_000,
            cache_mib: 16,
            mmap_mib: 2048,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of a browser session, in minutes.
    pub session_ttl_minutes: u32,
    /// Failed logins for one account within `throttle_window_secs` before it is throttled.
    pub max_failures_per_account: u32,
    /// Failed logins from one address within `throttle_window_secs` before it is throttled.
    pub max_failures_per_address: u32,
    /// The window over which failures are counted, in seconds.
    pub throttle_window_secs: u64,
    /// How long a throttled account or address must wait, in seconds.
    pub lockout_secs: u64,
    /// Minimum password length for staff.
    pub min_password_length: usize,
    /// Threads that check and hash passwords (argon2id, 19 MiB each). More sign-ins at
    /// once are answered 503 `password_check_busy` at once. 0: half the cores, 1 to 8.
    pub password_workers: usize,
    /// Hours a one-time password (new account, reset) may be used to sign in.
    pub one_time_password_hours: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_minutes: 12 * 60,
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            throttle_window_secs: 15 * 60,
            lockout_secs: 15 * 60,
            min_password_length: 12,
            password_workers: 0,
            one_time_password_hours: 72,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `licd=debug,actix_web=info`. `LICD_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Values given on the command line; `None` leaves the lower sources in charge.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub listen_https: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        // figment's message names the key and the source (file or environment variable).
        let all: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
        ConfigError::Invalid(all.join("; "))
    }
}

impl Config {
    /// Loads the configuration from every source. `file` is the `--config` path, if given;
    /// an explicitly named file must exist.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::Missing(path.to_owned())),
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                fig = fig.merge(Toml::file_exact(DEFAULT_CONFIG_PATH))
            }
            None => {}
        }
        fig = fig.merge(
            Env::prefixed("LICD_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        if let Some(dir) = &overrides.data_dir {
            fig = fig.merge(Serialized::default("storage.data_dir", dir));
        }
        if let Some(listen) = &overrides.listen {
            fig = fig.merge(Serialized::default("server.listen", listen));
        }
        if let Some(listen) = &overrides.listen_https {
            fig = fig.merge(Serialized::default("server.listen_https", listen));
        }
        if let Some(format) = &overrides.log_format {
            fig = fig.merge(Serialized::default("log.format", format));
        }
        let config: Config = fig.extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks relations between values that serde alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |msg: &str| Err(ConfigError::Invalid(msg.to_owned()));
        if self.storage.readers == 0 || self.storage.readers > 64 {
            return bad("storage.readers must be between 1 and 64");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes must be at least 1024");
        }
        if !(1..=3600).contains(&self.server.request_timeout_secs) {
            return bad("server.request_timeout_secs must be between 1 and 3600");
        }
        if let Some(url) = &self.server.public_url {
            check_public_url(url, self.tls.enabled)?;
        }
        if self.auth.session_ttl_minutes == 0 {
            return bad("auth.session_ttl_minutes must be at least 1");
        }
        if self.auth.max_failures_per_account == 0 || self.auth.max_failures_per_address == 0 {
            return bad(
                "auth.max_failures_per_account and auth.max_failures_per_address must be at least 1",
            );
        }
        if self.auth.min_password_length < crate::domain::fields::PASSWORD_MIN_FLOOR {
            return bad("auth.min_password_length must be at least 8");
        }
        if !(1..=24 * 366).contains(&self.auth.one_time_password_hours) {
            return bad("auth.one_time_password_hours must be between 1 and 8784 (a year)");
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return bad("tls.cert_file and tls.key_file go together: set both or neither");
        }
        if self.tls.appliance_mtls != ApplianceMtls::Off && !self.tls.enabled {
            return bad(
                "tls.appliance_mtls needs tls.enabled = true (client certificates come with the TLS handshake)",
            );
        }
        if !(2..=397).contains(&self.tls.server_cert_days) {
            return bad("tls.server_cert_days must be between 2 and 397");
        }
        for h in &self.tls.hostnames {
            crate::domain::dns_name::check("tls.hostnames", h)
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        if self.metrics.token.is_some() && self.metrics.token_file.is_some() {
            return bad("metrics.token and metrics.token_file: set one, not both");
        }
        if let Some(t) = self.metrics.bearer_token()?
            && t.len() < 16
        {
            return bad("the metrics token must be at least 16 characters");
        }
        self.tenancy.keys()?;
        self.email.validate()?;
        self.portal.validate()?;
        self.billing.validate()?;
        if !(1..=1440).contains(&self.tenancy.idle_close_minutes.0) {
            return bad("tenancy.idle_close_minutes must be 1 to 1440");
        }
        if self.log.level.trim().is_empty() {
            return bad("log.level must not be empty");
        }
        Ok(())
    }

    /// Whether licd serves plain HTTP to a proxy that speaks HTTPS to browsers
    /// (`tls.enabled = false` and an `https://` `server.public_url`).
    pub fn behind_https_proxy(&self) -> bool {
        !self.tls.enabled
            && self
                .server
                .public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }

    /// `LICD_*` variables that are neither configuration (`__`) nor a known direct variable.
    pub fn unknown_env_vars() -> Vec<String> {
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("LICD_") && !k.contains("__"))
            .filter(|k| !NON_CONFIG_ENV.contains(&k.as_str()))
            .collect()
    }
}

/// Checks `server.public_url`: `http://` or `https://`, a host, an optional port, nothing
/// else (no user, path, query or fragment).
fn check_public_url(url: &str, tls_enabled: bool) -> Result<(), ConfigError> {
    let bad = |why: &str| {
        Err(ConfigError::Invalid(format!(
            "server.public_url {url:?}: {why}"
        )))
    };
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return bad("must start with https:// (or http://)");
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return bad("names no host");
    }
    if authority
        .chars()
        .any(|c| matches!(c, '/' | '?' | '#' | '@' | '\\') || c.is_whitespace() || c.is_control())
    {
        return bad(
            "must be scheme, host and optional port only (no user, path, query or fragment)",
        );
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, after)) => (h, Some(after.strip_prefix(':').unwrap_or(after))),
            None => return bad("has an unclosed [ in the host"),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return bad("has a port that is not a number from 0 to 65535");
    }
    if host.is_empty() {
        return bad("names no host");
    }
    if !https && tls_enabled {
        return bad("is http:// but tls.enabled = true; use https:// or leave it unset");
    }
    Ok(())
}

/// Whether a config file can be read by users other than its owner and group
/// (it may hold secrets). Returns the mode when it is too open.
#[cfg(unix)]
pub fn world_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o004 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub fn world_readable(_path: &Path) -> Option<u32> {
    None
}

/// Whether a secret file can be read by anyone but its owner; returns the mode when so.
#[cfg(unix)]
pub fn group_or_world_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub fn group_or_world_readable(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("licd.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn file_values_and_flags_layer() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[server]\nlisten = \"127.0.0.1:9999\"\n[storage]\ndata_dir = \"/x\"\n",
        );
        let c = Config::load(Some(&p), &Overrides::default()).unwrap();
        assert_eq!(c.server.listen.port(), 9999);
        assert_eq!(c.storage.data_dir, PathBuf::from("/x"));
        let flags = Overrides {
            data_dir: Some("/y".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&p), &flags).unwrap();
        assert_eq!(c.storage.data_dir, PathBuf::from("/y"));
        assert_eq!(c.server.listen.port(), 9999);
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "[server]\nlisten_adress = \"127.0.0.1:1\"\n");
        let err = Config::load(Some(&p), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_adress"), "{err}");
    }

    #[test]
    fn appliance_mtls_needs_tls() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[tls]\nenabled = false\nappliance_mtls = \"required\"\n",
        );
        let err = Config::load(Some(&p), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tls.appliance_mtls needs tls.enabled"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn tenancy_keys_are_named_long_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tenancy.keys");
        let long = "k".repeat(MIN_TENANCY_KEY_CHARS);
        std::fs::write(
            &file,
            format!("# rotated 2026-12\nold = {long}\n\nnew = {long}x\n"),
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut t = TenancyConfig {
            enabled: true,
            api_key_file: Some(file.clone()),
            api_key: Some(format!("{long}e")),
            ..TenancyConfig::default()
        };
        let names: Vec<String> = t.keys().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["old", "new", "env"]);

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = t.keys().unwrap_err().to_string();
        assert!(
            err.contains("tenancy.keys") && err.contains("mode 640"),
            "{err}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
        let err = t.keys().unwrap_err().to_string();
        assert!(err.contains("mode 604"), "{err}");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        t.api_key = Some("k".repeat(MIN_TENANCY_KEY_CHARS - 1));
        let err = t.keys().unwrap_err().to_string();
        assert!(
            err.contains("\"env\" must be at least 32 characters"),
            "{err}"
        );
        std::fs::write(&file, format!("old = {long}\nold = {long}\n")).unwrap();
        t.api_key = None;
        assert!(t.keys().unwrap_err().to_string().contains("given twice"));
        std::fs::write(&file, format!("{long}\n")).unwrap();
        assert!(
            t.keys()
                .unwrap_err()
                .to_string()
                .contains("line 1: not `name = key`")
        );
    }

    #[test]
    fn idle_close_minutes_default_to_15_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "[tenancy]\n");
        let c = Config::load(Some(&p), &Overrides::default()).unwrap();
        assert_eq!(c.tenancy.idle_close().num_minutes(), 15);
        let p = write(dir.path(), "[tenancy]\nidle_close_minutes = 2\n");
        let c = Config::load(Some(&p), &Overrides::default()).unwrap();
        assert_eq!(c.tenancy.idle_close().num_minutes(), 2);
        for bad in [0, 1441] {
            let p = write(
                dir.path(),
                &format!("[tenancy]\nidle_close_minutes = {bad}\n"),
            );
            let err = Config::load(Some(&p), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("tenancy.idle_close_minutes"), "{err}");
        }
    }

    #[test]
    fn relations_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "[storage]\nreaders = 0\n");
        let err = Config::load(Some(&p), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.readers"), "{err}");
    }
}
