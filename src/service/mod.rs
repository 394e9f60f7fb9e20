//! Use cases. Each loads state from the store, applies domain rules and writes the
//! change together with its audit entry in one transaction. Functions here are
//! synchronous: the HTTP layer runs them on blocking threads.

pub mod air_gap;
pub mod appliance;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod billing_accounts;
pub mod bootstrap;
pub mod customers;
pub mod device_cookies;
pub mod email_body;
pub mod enterprise;
pub mod error;
pub mod fleet_overview;
pub mod installations;
pub mod invitations;
pub mod invoices;
pub mod job_health;
pub mod keyring;
pub mod lease_chain;
pub mod license_actions;
pub mod license_facts;
pub mod license_keys;
pub mod license_records;
pub mod licenses;
pub mod licensing_settings;
pub mod links;
pub mod metrics;
pub mod offline_activation;
pub mod offline_bundles;
pub mod org_notifications;
pub mod organization_admin;
pub mod organizations;
pub mod outbox;
pub mod password_pool;
pub mod payment_gateway;
pub mod payments;
pub mod portal_auth;
pub mod portal_billing;
pub mod portal_links;
pub mod portal_logo;
pub mod price_list;
pub mod provisioning;
pub mod recovery;
pub mod revenue;
pub mod secrets;
pub mod signing_keys;
pub mod smtp;
pub mod staff;
pub mod subscription_billing;
pub mod subscriptions;
pub mod sweep;
pub mod tenancy;
pub mod tenancy_keys;
pub mod tenant;
pub mod tenant_archive;
pub mod tenant_domains;
pub mod tenant_lifecycle;
pub mod tenant_opening;
pub mod tenants;
pub mod throttle;
pub mod tls;
pub mod tokens;
pub mod transfer_files;
pub mod usage_reports;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::permissions::{Permission, Role};
use crate::pki::kek::Kek;
use crate::store::db::DbOptions;
use crate::store::layout::DataDir;
use crate::store::staff::StaffRow;
use chrono::{DateTime, Utc};
pub use error::{Result, ServiceError, refuse};
use std::sync::Arc;
use std::time::Duration;
use tenants::Tenants;
use throttle::LoginThrottle;

/// Everything a use case may need that lives as long as the process.
#[derive(Debug)]
pub struct App {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub tenants: Tenants,
    pub throttle: LoginThrottle,
    /// The threads that check and hash passwords (`auth.password_workers`).
    pub passwords: password_pool::PasswordPool,
    /// Signs device cookies (derived from the KEK, so it survives restarts).
    pub device_key: device_cookies::DeviceKey,
    /// Seals and unseals signing keys (`keys/kek`); the tenants hold it too, to unseal
    /// a tenant's keys when it opens.
    pub kek: Arc<Kek>,
    /// Public keys trusted to sign licd's own licenses (`licensing.trusted_issuers`).
    pub trusted_issuers: Vec<crate::pki::PublicKey>,
    /// The local certificate authority (`ca/`).
    pub ca: Arc<crate::pki::ca::LocalCa>,
    /// The HTTPS certificate, when this process serves TLS (see `enable_tls`).
    pub tls: Option<tls::ServerTls>,
    /// What `/metrics` exports.
    pub metrics: crate::metrics::Metrics,
    /// The scheduled jobs' last outcomes (`/readyz`).
    pub jobs: job_health::JobHealth,
    /// The tenancy API keys (`tenancy.api_key_file`, `tenancy.api_key`), by name.
    pub tenancy_keys: tenancy_keys::TenancyKeys,
    /// The payment gateway's secrets (`billing.gateway_secret_file`); none: the gateway
    /// route answers `gateway_disabled`.
    pub gateway_keys: payment_gateway::GatewayKeys,
    /// The SMTP server the outbox is sent through (`[email]`); `None` when
    /// `email.smtp_url` is unset (air-gapped: messages stay in the outbox).
    pub mailer: Option<smtp::SmtpMailer>,
}

impl App {
    /// Opens (and on first use creates) the data directory and every database.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<App> {
        let opts = DbOptions {
            readers: config.storage.readers,
            busy_timeout: Duration::from_millis(config.storage.busy_timeout_ms),
            cache_kib: config.storage.cache_mib * 1024,
            mmap_bytes: config.storage.mmap_mib * 1024 * 1024,
        };
        let data_dir = DataDir::new(&config.storage.data_dir);
        let kek_path = data_dir.keys_dir().join("kek");
        let ca_dir = data_dir.ca_dir();
        let tenants = Tenants::open(data_dir, opts, clock.clone())?;
        let kek = Arc::new(
            Kek::load_or_create(&kek_path, tenants.any_signing_keys()?)
                .map_err(|e| ServiceError::startup("the key-encryption key", e))?,
        );
        tenants.unlock(kek.clone(), clock.now())?;
        let device_key = device_cookies::DeviceKey::new(kek.derive("device-cookies").as_ref());
        let passwords = password_pool::PasswordPool::start(config.auth.password_workers)
            .map_err(|e| ServiceError::startup("password worker threads", e))?;
        let trusted_issuers = enterprise::load_trusted_issuers(&config.licensing.trusted_issuers)?;
        let tenancy_keys = tenancy_keys::TenancyKeys::new(
            config
                .tenancy
                .keys()
                .map_err(|e| ServiceError::startup("the tenancy API keys", e))?,
        );
        let gateway_keys = payment_gateway::GatewayKeys::from_config(&config.billing)?;
        let mailer = smtp::SmtpMailer::from_config(&config.email)?;
        tenants.wake_for_mail(mailer.is_some());
        let site = format!("{} {}", host_name(), &tenants.public()?.install_id[..8]);
        let ca = crate::pki::ca::LocalCa::load_or_create(&ca_dir, &site, clock.now())
            .map_err(|e| ServiceError::startup("the local certificate authority", e))?;
        // Only the open tenants (`public`); any other is assessed when it opens.
        for t in tenants.all() {
            enterprise::refresh(&t, clock.now(), &Actor::System)?;
        }
        Ok(App {
            mailer,
            ca: Arc::new(ca),
            tls: None,
            metrics: crate::metrics::Metrics::new(),
            jobs: job_health::JobHealth::default(),
            trusted_issuers,
            tenancy_keys,
            gateway_keys,
            throttle: LoginThrottle::new(&config.auth),
            passwords,
            device_key,
            config: Arc::new(config),
            clock,
            tenants,
            kek,
        })
    }
}

impl App {
    /// The CA that signs appliance client certificates, when appliance mTLS is on.
    pub fn client_cert_issuer(&self) -> Option<Arc<crate::pki::ca::LocalCa>> {
        (self.config.tls.appliance_mtls != crate::config::ApplianceMtls::Off)
            .then(|| self.ca.clone())
    }

    /// Prepares the HTTPS server certificate (`licd serve` with `tls.enabled`). Command-
    /// line tools that only touch the databases never need it.
    pub fn enable_tls(&mut self) -> Result<()> {
        let dir = DataDir::new(&self.config.storage.data_dir).ca_dir();
        let domains = tenant_domains::all_domains(&self.tenants)?;
        self.tls = Some(tls::ServerTls::prepare(
            &self.config.tls,
            &self.ca,
            &dir,
            &domains,
            self.clock.now(),
        )?);
        Ok(())
    }
}

/// This machine's host name (names the local CA), or `licd` when it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "licd".into())
}

/// Who did something, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member or their API token.
    Staff { id: i64, email: String },
    /// An operator on the server host using the `licd` command line.
    Cli,
    /// An operator on the server host using the `licd` command line, by their login
    /// name (`$SUDO_USER`, else `$USER`): `licd tenant ...` records this in the registry
    /// chain as `cli:<user>`.
    CliUser { user: String },
    /// licd itself (scheduled jobs).
    System,
    /// An appliance, by the fingerprint it presented.
    Appliance { fingerprint: String },
    /// Someone not signed in (a failed sign-in).
    Anonymous,
    /// A caller of the tenancy API, by the name of the tenancy key it presented (never
    /// the key itself).
    TenancyKey { name: String },
    /// A signed-in customer (the portal).
    Customer { id: i64, email: String },
    /// The vendor's payment gateway, by a request signed with a gateway secret
    /// (`POST /api/v1/billing/payments`).
    Gateway,
}

impl Actor {
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Staff { email, .. } => format!("staff:{email}"),
            Actor::Cli => "cli".into(),
            Actor::CliUser { user } => format!("cli:{user}"),
            Actor::System => "system".into(),
            Actor::Appliance { fingerprint } => format!("appliance:{fingerprint}"),
            Actor::Anonymous => "anonymous".into(),
            Actor::TenancyKey { name } => format!("tenancy_key:{name}"),
            Actor::Customer { email, .. } => format!("customer:{email}"),
            Actor::Gateway => "gateway".into(),
        }
    }
}

/// How an authenticated caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { id: i64 },
    Token { id: i64 },
}

/// The signed-in account as a request carries it: who it is and what it may do, and
/// no secret (its password hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A person, or a service account (which only ever calls with an API token).
    pub kind: crate::domain::staff::StaffKind,
}

impl From<StaffRow> for StaffIdentity {
    fn from(u: StaffRow) -> Self {
        StaffIdentity {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            updated_at: u.updated_at,
            kind: u.kind,
        }
    }
}

/// An authenticated, enabled staff member.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: StaffIdentity,
    pub via: Credential,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.user.id,
            email: self.user.email.clone(),
        }
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn can(&self, p: Permission) -> bool {
        self.user.role.can(p)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// Which modules of `service/` each module uses (`super::x`, `use super::{.., x}`,
    /// `crate::service::x`), read from the sources outside their tests.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
        let mut sources = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
                sources.insert(name, code);
            }
        }
        let names: Vec<String> = sources.keys().cloned().collect();
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let names_module = |code: &str, m: &str| {
            // `super::m` / `crate::service::m`, or `m` inside `use super::{...}`.
            let direct = [format!("super::{m}"), format!("crate::service::{m}")]
                .iter()
                .any(|p| {
                    code.match_indices(p.as_str())
                        .any(|(i, _)| !code[i + p.len()..].starts_with(is_word))
                });
            let grouped = code.match_indices("use super::{").any(|(i, _)| {
                let group = &code[i..];
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group.split(|c: char| !is_word(c)).any(|w| w == m)
            });
            direct || grouped
        };
        sources
            .iter()
            .map(|(name, code)| {
                let uses = names
                    .iter()
                    .filter(|m| *m != name && names_module(code, m))
                    .cloned()
                    .collect();
                (name.clone(), uses)
            })
            .collect()
    }

    /// `service/` modules import each other without circles (tenants and keys, licenses
    /// and installations used to): each concern has one home the others build on.
    #[test]
    fn service_modules_have_no_import_cycles() {
        let graph = imports();
        assert!(graph["licenses"].contains("installations"), "{graph:?}");
        // Depth-first search; a module met again on the current path closes a circle.
        fn visit(
            m: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if let Some(i) = path.iter().position(|p| p == m) {
                panic!("import circle: {} -> {m}", path[i..].join(" -> "));
            }
            if done.contains(m) {
                return;
            }
            path.push(m.to_owned());
            for next in &graph[m] {
                visit(next, graph, path, done);
            }
            path.pop();
            done.insert(m.to_owned());
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            visit(m, &graph, &mut Vec::new(), &mut done);
        }
    }
}
