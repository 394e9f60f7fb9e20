//! The agent's configuration: one TOML file (`/etc/licd/agent.toml` by default), read
//! with figment over built-in defaults. Unknown keys and bad values are errors that name
//! the key. The server's `LICD_*` environment variables do not apply to the agent.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the packaged agent config lives; used when no `--config` is given.
pub const DEFAULT_AGENT_CONFIG_PATH: &str = "/etc/licd/agent.toml";

/// What a detected clock rollback means for the appliance (a vendor policy): `lock` or
/// `warn`.
pub use licd_client::status::OnClockRollback;

/// `licd agent`'s settings. See `packaging/agent.toml` for every key with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// licd's base URL (`https://licd.example:8443`). Without it the agent is
    /// offline-only: it never heartbeats and takes its leases from files.
    pub server_url: Option<String>,
    /// The site CA (PEM, from `licd ca export`): the only root trusted for `server_url`.
    /// Without it the system's roots are used.
    pub ca_file: Option<PathBuf>,
    /// The license key (the compact JWS staff hand over). A renewed key delivered by an
    /// `install_key` directive is written here; the old one is kept beside it as
    /// `<file>.previous` until the new one verifies.
    pub license_key_file: PathBuf,
    /// licd's public signing keys (a JWKS, `licd keys export`). Set it on air-gapped
    /// boxes; when unset the agent fetches them from `server_url` and keeps a copy in
    /// `state_dir/jwks.json`.
    pub jwks_file: Option<PathBuf>,
    /// The appliance key and the lease store live here (created 0700).
    pub state_dir: PathBuf,
    /// The vendor's product id: the key of the fingerprint's HMAC.
    pub product_id: String,
    /// An explicit fingerprint (containers, clusters) instead of the machine id's HMAC.
    pub fingerprint: Option<String>,
    /// The host name reported to licd (default: /etc/hostname).
    pub hostname: Option<String>,
    /// Seconds between heartbeats until a lease says otherwise.
    pub heartbeat_interval_secs: u64,
    /// For tests and drills: the longest interval used, even when the lease asks for a
    /// longer one (licd's lease interval is at least 60 s).
    pub max_interval_secs: Option<u64>,
    /// Each wait is shortened or lengthened at random by up to this percentage (0..=50),
    /// so a fleet does not heartbeat in step.
    pub jitter_percent: u8,
    /// After failures the wait doubles, up to this many seconds.
    pub backoff_max_secs: u64,
    /// Seconds a request to licd may take (connect, send, answer).
    pub request_timeout_secs: u64,
    /// A command (run with `/bin/sh -c`) printing `{"internal_users":N,"external_users":M}`;
    /// its counts go with each heartbeat. A failure is logged and the heartbeat goes
    /// without counts.
    pub usage_command: Option<String>,
    /// Seconds `usage_command` may run before it is killed.
    pub usage_timeout_secs: u64,
    /// The status API's Unix socket (mode 0660).
    pub socket: PathBuf,
    /// An optional loopback address for the status API (`127.0.0.1:7424`).
    pub listen: Option<SocketAddr>,
    /// What a clock rollback means: `lock` or `warn`.
    pub on_clock_rollback: OnClockRollback,
    /// For tests and drills only: shifts the agent's clock by this many seconds.
    pub clock_offset_secs: i64,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            server_url: None,
            ca_file: None,
            license_key_file: PathBuf::from("/var/lib/licd-agent/license.key"),
            jwks_file: None,
            state_dir: PathBuf::from("/var/lib/licd-agent"),
            product_id: String::new(),
            fingerprint: None,
            hostname: None,
            heartbeat_interval_secs: 3600,
            max_interval_secs: None,
            jitter_percent: 10,
            backoff_max_secs: 3600,
            request_timeout_secs: 30,
            usage_command: None,
            usage_timeout_secs: 10,
            socket: PathBuf::from("/run/licd-agent/status.sock"),
            listen: None,
            on_clock_rollback: OnClockRollback::Lock,
            clock_offset_secs: 0,
        }
    }
}

/// A config that cannot be used; the message names the key or the file.
#[derive(Debug, thiserror::Error)]
pub enum AgentConfigError {
    #[error("agent config file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

impl From<figment::Error> for AgentConfigError {
    fn from(e: figment::Error) -> Self {
        // figment's message names the key and the file.
        let all: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
        AgentConfigError::Invalid(all.join("; "))
    }
}

impl AgentConfig {
    /// Reads `file` (default [`DEFAULT_AGENT_CONFIG_PATH`]) over the defaults and
    /// validates it.
    pub fn load(file: Option<&Path>) -> Result<AgentConfig, AgentConfigError> {
        let path = file.unwrap_or(Path::new(DEFAULT_AGENT_CONFIG_PATH));
        if !path.exists() {
            return Err(AgentConfigError::Missing(path.to_owned()));
        }
        let config: AgentConfig = Figment::from(Serialized::defaults(AgentConfig::default()))
            .merge(Toml::file_exact(path))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a config from TOML text (tests).
    pub fn from_toml(text: &str) -> Result<AgentConfig, AgentConfigError> {
        let config: AgentConfig = Figment::from(Serialized::defaults(AgentConfig::default()))
            .merge(Toml::string(text))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde alone cannot; each message starts with the key.
    pub fn validate(&self) -> Result<(), AgentConfigError> {
        let bad = |msg: String| Err(AgentConfigError::Invalid(msg));
        if self.product_id.trim().is_empty() {
            return bad(
                "product_id must be set: the vendor's product id keys the fingerprint".into(),
            );
        }
        if let Some(url) = &self.server_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty()) {
                return bad(format!(
                    "server_url must be an http:// or https:// URL, not {url:?}"
                ));
            }
        }
        if let Some(fp) = &self.fingerprint {
            let fp = fp.trim();
            if fp.is_empty() || fp.len() > 256 || !fp.chars().all(|c| c.is_ascii_graphic()) {
                return bad("fingerprint must be 1 to 256 printable ASCII characters".into());
            }
        }
        if self.heartbeat_interval_secs == 0 || self.heartbeat_interval_secs > 86_400 {
            return bad("heartbeat_interval_secs must be between 1 and 86400".into());
        }
        if self.max_interval_secs == Some(0) {
            return bad("max_interval_secs must be at least 1".into());
        }
        if self.jitter_percent > 50 {
            return bad("jitter_percent must be between 0 and 50".into());
        }
        if self.backoff_max_secs == 0 || self.backoff_max_secs > 7 * 86_400 {
            return bad("backoff_max_secs must be between 1 and 604800 (a week)".into());
        }
        if !(1..=600).contains(&self.request_timeout_secs) {
            return bad("request_timeout_secs must be between 1 and 600".into());
        }
        if !(1..=600).contains(&self.usage_timeout_secs) {
            return bad("usage_timeout_secs must be between 1 and 600".into());
        }
        if self
            .usage_command
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return bad("usage_command is empty: remove it or name a command".into());
        }
        if let Some(addr) = self.listen
            && !addr.ip().is_loopback()
        {
            return bad(format!(
                "listen must be a loopback address (127.0.0.1 or ::1), not {addr}: the status API has no authentication"
            ));
        }
        if self.socket.as_os_str().is_empty() {
            return bad("socket must name a file".into());
        }
        if self.clock_offset_secs.unsigned_abs() > 100 * 365 * 86_400 {
            return bad("clock_offset_secs must be within 100 years".into());
        }
        Ok(())
    }

    /// The timeout of one request to licd.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// The appliance key's file in the state directory.
    pub fn appliance_key_path(&self) -> PathBuf {
        self.state_dir.join("appliance.key")
    }

    /// The lease store's file in the state directory.
    pub fn store_path(&self) -> PathBuf {
        self.state_dir.join("leases.json")
    }

    /// Where the JWKS fetched from licd is kept.
    pub fn cached_jwks_path(&self) -> PathBuf {
        self.state_dir.join("jwks.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_takes_the_defaults() {
        let c = AgentConfig::from_toml("product_id = \"acme\"\n").expect("valid");
        assert_eq!(c.heartbeat_interval_secs, 3600);
        assert_eq!(c.jitter_percent, 10);
        assert_eq!(c.on_clock_rollback, OnClockRollback::Lock);
        assert!(c.server_url.is_none());
    }

    /// The packaged example sets nothing but `product_id` (left empty, so an unconfigured
    /// agent says what to set); every other key is the default, commented out.
    #[test]
    fn the_packaged_example_is_the_defaults() {
        let text = include_str!("../../packaging/agent.toml");
        let e = AgentConfig::from_toml(text).expect_err("product_id is empty");
        assert!(e.to_string().starts_with("product_id must be set"), "{e}");
        let c = AgentConfig::from_toml(&text.replace("product_id = \"\"", "product_id = \"x\""))
            .expect("valid");
        assert_eq!(
            c,
            AgentConfig {
                product_id: "x".into(),
                ..AgentConfig::default()
            }
        );
        // Each commented-out default, uncommented, is accepted as it is.
        let uncommented: String = text
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace("product_id = \"\"", "product_id = \"x\"");
        AgentConfig::from_toml(&uncommented).expect("every example value is valid");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let e = AgentConfig::from_toml("product_id = \"acme\"\nheartbeat_secs = 5\n")
            .expect_err("unknown key");
        assert!(e.to_string().contains("heartbeat_secs"), "{e}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        let e = AgentConfig::from_toml("product_id = \"acme\"\njitter_percent = \"lots\"\n")
            .expect_err("wrong type");
        assert!(e.to_string().contains("jitter_percent"), "{e}");
        let e = AgentConfig::from_toml("product_id = \"acme\"\non_clock_rollback = \"panic\"\n")
            .expect_err("bad enum");
        assert!(e.to_string().contains("on_clock_rollback"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (toml, key) in [
            ("", "product_id"),
            ("product_id = \"a\"\njitter_percent = 90", "jitter_percent"),
            (
                "product_id = \"a\"\nheartbeat_interval_secs = 0",
                "heartbeat_interval_secs",
            ),
            ("product_id = \"a\"\nlisten = \"0.0.0.0:7424\"", "listen"),
            (
                "product_id = \"a\"\nserver_url = \"licd:8443\"",
                "server_url",
            ),
            (
                "product_id = \"a\"\nfingerprint = \"has space\"",
                "fingerprint",
            ),
            (
                "product_id = \"a\"\nmax_interval_secs = 0",
                "max_interval_secs",
            ),
        ] {
            let e = AgentConfig::from_toml(toml).expect_err(toml);
            assert!(e.to_string().starts_with(key), "{toml}: {e}");
        }
    }
}
