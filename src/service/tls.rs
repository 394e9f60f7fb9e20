//! The HTTPS server certificate: chosen at startup (bring-your-own files, or the local
//! CA's, kept across restarts in `ca/server.pem` and `ca/server.key`), renewed by the
//! scheduler once two thirds of its life have passed and swapped in without a restart;
//! and certificates the local CA issues for other services at the site.

use super::error::BoxError;
use super::{Actor, App, Result, ServiceError, audit};
use crate::config::TlsConfig;
use crate::domain::dns_name;
use crate::pki::ca::{Issued, LocalCa};
use crate::pki::kek::{check_private, write_private};
use crate::pki::tls::{CertInfo, CertSlot, ServerCert};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

/// Where the served certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertSource {
    /// Issued by the local CA and renewed by licd.
    LocalCa,
    /// `tls.cert_file` / `tls.key_file`; the operator renews it.
    File,
}

/// The HTTPS listener's certificate, shared with the TLS acceptor.
#[derive(Debug)]
pub struct ServerTls {
    pub slot: Arc<CertSlot>,
    pub source: CertSource,
    issuing: Issuing,
}

/// What the local CA's server certificate is for, and where it is kept.
#[derive(Debug)]
struct Issuing {
    dir: PathBuf,
    /// The configured names (`localhost` and `tls.hostnames`).
    configured: Vec<String>,
    /// The names the served certificate is for: the configured ones, then every tenant
    /// domain. Held while a certificate is issued for new domains, so two domain
    /// changes at once issue one after the other, the later with both.
    names: Mutex<Vec<String>>,
    ips: Vec<IpAddr>,
    days: i64,
}

/// The configured names followed by the tenant domains, each once.
fn with_domains(configured: &[String], domains: &[String]) -> Vec<String> {
    let mut names = configured.to_vec();
    for d in domains {
        if !names.contains(d) {
            names.push(d.clone());
        }
    }
    names
}

/// For `map_err`: licd cannot start because `what` failed.
fn startup<E: Into<BoxError>>(what: &'static str) -> impl FnOnce(E) -> ServiceError {
    move |e| ServiceError::startup(what, e)
}

impl ServerTls {
    /// Loads the configured or stored certificate, issuing a new one from the local CA
    /// when there is none, when the configured names or the tenant domains changed, or
    /// when it is due.
    pub fn prepare(
        config: &TlsConfig,
        ca: &LocalCa,
        ca_dir: &Path,
        tenant_domains: &[String],
        now: DateTime<Utc>,
    ) -> Result<ServerTls> {
        let configured = config.dns_names();
        let issuing = Issuing {
            dir: ca_dir.to_owned(),
            names: Mutex::new(with_domains(&configured, tenant_domains)),
            configured,
            ips: config.ip_addrs(),
            days: i64::from(config.server_cert_days),
        };
        let names = issuing.names();
        let (served, source) = match (&config.cert_file, &config.key_file) {
            (Some(cert), Some(key)) => {
                let served = ServerCert::from_files(cert, key)
                    .map_err(startup("tls.cert_file / tls.key_file"))?;
                if served.info.not_after <= now {
                    tracing::warn!(file = %cert.display(), not_after = %served.info.not_after, "tls.cert_file has expired");
                }
                (served, CertSource::File)
            }
            _ => match issuing.load_stored(ca, now)? {
                Some(stored) => (stored, CertSource::LocalCa),
                None => {
                    let issued = ca
                        .issue_server(&names, &issuing.ips, now, issuing.days)
                        .map_err(startup("issuing the server certificate"))?;
                    tracing::info!(names = ?names, ips = ?issuing.ips, not_after = %issued.not_after, "issued the server certificate from the local CA");
                    (
                        issuing
                            .store(&issued)
                            .map_err(startup("storing the server certificate"))?,
                        CertSource::LocalCa,
                    )
                }
            },
        };
        Ok(ServerTls {
            slot: Arc::new(CertSlot::new(served)),
            source,
            issuing,
        })
    }

    /// The certificate being served.
    pub fn info(&self) -> CertInfo {
        self.slot.current().info.clone()
    }
}

impl Issuing {
    fn names(&self) -> Vec<String> {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn cert_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// The stored certificate when it is still right to serve: readable, for the
    /// configured names, and not yet due for renewal. A key file that others can read
    /// stops startup.
    fn load_stored(&self, ca: &LocalCa, now: DateTime<Utc>) -> Result<Option<ServerCert>> {
        let (cert, key) = (self.cert_path(), self.key_path());
        if !cert.exists() || !key.exists() {
            return Ok(None);
        }
        check_private(&key).map_err(startup("the stored server certificate"))?;
        let loaded = match ServerCert::from_files(&cert, &key) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "the stored server certificate is unusable; issuing a new one");
                return Ok(None);
            }
        };
        let mut wanted: Vec<String> = self.names();
        wanted.extend(self.ips.iter().map(IpAddr::to_string));
        let fits = wanted.iter().all(|n| loaded.info.names.contains(n));
        // A CA restored or replaced since: the old certificate would not chain to it.
        let ours = crate::pki::tls::issued_by(loaded.leaf_der(), ca.cert_der());
        Ok((fits && ours && now < loaded.info.renew_at()).then_some(loaded))
    }

    /// Writes a newly issued certificate and key (key 0600), each replaced atomically.
    fn store(&self, issued: &Issued) -> std::io::Result<ServerCert> {
        let served = ServerCert::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
            .map_err(std::io::Error::other)?;
        let replace = |path: PathBuf, contents: &[u8]| {
            let tmp = path.with_extension("new");
            let _ = std::fs::remove_file(&tmp);
            write_private(&tmp, contents)?;
            std::fs::rename(&tmp, &path)
        };
        replace(self.key_path(), issued.key_pem.as_bytes())?;
        replace(self.cert_path(), issued.cert_pem.as_bytes())?;
        Ok(served)
    }
}

/// Issues a server certificate from the local CA for `names` (and the configured IP
/// addresses), stores it, and serves it from the next handshake on.
fn issue_and_serve(
    app: &App,
    tls: &ServerTls,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<CertInfo> {
    let issued = app
        .ca
        .issue_server(names, &tls.issuing.ips, now, tls.issuing.days)
        .map_err(|e| ServiceError::internal("issuing the server certificate", e))?;
    let served = tls
        .issuing
        .store(&issued)
        .map_err(|e| ServiceError::internal("storing the server certificate", e))?;
    let info = served.info.clone();
    tls.slot.replace(served);
    Ok(info)
}

/// The scheduler's renewal: when two thirds of the local CA certificate's life have
/// passed, issue a new one, store it, swap it in, log and audit. Returns the new
/// certificate's description, or `None` when nothing was due.
pub fn renew_if_due(app: &App, now: DateTime<Utc>) -> Result<Option<CertInfo>> {
    let Some(tls) = app.tls.as_ref() else {
        return Ok(None);
    };
    let old = tls.info();
    if tls.source != CertSource::LocalCa || now < old.renew_at() {
        return Ok(None);
    }
    let names = tls.issuing.names.lock().unwrap_or_else(|p| p.into_inner());
    // Served at once: it is stored, so a failed audit write must not make the next tick
    // issue yet another one.
    let new = issue_and_serve(app, tls, &names, now)?;
    drop(names);
    tracing::info!(sha256 = %new.sha256, not_after = %new.not_after, "renewed the server certificate");
    let public = app.tenants.public()?;
    public.db.write(|tx| {
        audit::record(
            tx,
            now,
            &Actor::System,
            "tls.server_certificate_renewed",
            &new.sha256,
            json!({
                "names": new.names,
                "not_after": new.not_after,
                "previous_sha256": old.sha256,
                "previous_not_after": old.not_after,
            }),
        )
    })?;
    Ok(Some(new))
}

/// After a tenant domain was added or removed: when the local CA's certificate is
/// served, issues one for the configured names plus every tenant domain (`domains`, read
/// by the caller after its change), stores it and swaps it in at once, without a
/// restart. Nothing when the names are unchanged, without HTTPS, or with a certificate
/// from files (the operator's; a warning says the domain is not in it). Audited in the
/// public tenant's chain like a renewal. Returns the new certificate's description.
pub fn reissue_for_domains(
    app: &App,
    now: DateTime<Utc>,
    read_domains: impl FnOnce() -> Result<Vec<String>>,
) -> Result<Option<CertInfo>> {
    let Some(tls) = app.tls.as_ref() else {
        return Ok(None);
    };
    if tls.source != CertSource::LocalCa {
        tracing::warn!(
            "a tenant domain changed; the certificate from tls.cert_file is not reissued: make sure it names every tenant domain"
        );
        return Ok(None);
    }
    // Held from reading the domains to swapping the certificate in.
    let mut names = tls.issuing.names.lock().unwrap_or_else(|p| p.into_inner());
    let wanted = with_domains(&tls.issuing.configured, &read_domains()?);
    if *names == wanted {
        return Ok(None);
    }
    let old = tls.info();
    let new = issue_and_serve(app, tls, &wanted, now)?;
    *names = wanted;
    drop(names);
    tracing::info!(sha256 = %new.sha256, names = ?new.names, "reissued the server certificate for the tenant domains");
    app.tenants.public()?.db.write(|tx| {
        audit::record(
            tx,
            now,
            &Actor::System,
            "tls.server_certificate_reissued",
            &new.sha256,
            json!({
                "names": new.names,
                "not_after": new.not_after,
                "previous_sha256": old.sha256,
            }),
        )
    })?;
    Ok(Some(new))
}

/// What the console's Settings > TLS page and `GET /api/v1/tls` show.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TlsOverview {
    pub ca_name: String,
    pub ca_fingerprint: String,
    pub https: bool,
    pub source: Option<CertSource>,
    pub names: Vec<String>,
    pub not_after: Option<DateTime<Utc>>,
    pub renew_at: Option<DateTime<Utc>>,
    pub server_sha256: Option<String>,
    pub appliance_mtls: &'static str,
}

pub fn overview(app: &App) -> TlsOverview {
    let info = app.tls.as_ref().map(|t| (t.source, t.info()));
    TlsOverview {
        ca_name: app.ca.name().to_owned(),
        ca_fingerprint: app.ca.fingerprint(),
        https: app.tls.is_some(),
        source: info.as_ref().map(|(s, _)| *s),
        names: info
            .as_ref()
            .map(|(_, i)| i.names.clone())
            .unwrap_or_default(),
        renew_at: info
            .as_ref()
            .filter(|(s, _)| *s == CertSource::LocalCa)
            .map(|(_, i)| i.renew_at()),
        not_after: info.as_ref().map(|(_, i)| i.not_after),
        server_sha256: info.map(|(_, i)| i.sha256),
        appliance_mtls: app.config.tls.appliance_mtls.as_str(),
    }
}

/// `licd ca issue`: a certificate for another service at the site, written as
/// `<out>/<name>.pem` and `<out>/<name>.key` (0600), and audited. Every name is checked
/// as a DNS name (RFC 1123, wildcard only as the whole left-most label) and every address
/// as a host address before anything is signed or written; the file names come from the
/// first (checked) name, so they always land inside `out`.
pub fn issue_for_service(
    app: &App,
    names: &[String],
    ips: &[IpAddr],
    days: i64,
    out: &Path,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<(PathBuf, PathBuf, Issued)> {
    let bad = |m: String| super::refuse(crate::error::ErrorCode::ValidationFailed, m);
    if names.is_empty() {
        return Err(bad("give at least one --name".into()));
    }
    let mut checked: Vec<String> = Vec::with_capacity(names.len());
    for raw in names {
        let name = dns_name::check("--name", raw)?;
        if !checked.contains(&name) {
            checked.push(name);
        }
    }
    for ip in ips {
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(bad(format!(
                "--ip: {ip} is not a host address a service can have"
            )));
        }
    }
    if !(1..=825).contains(&days) {
        return Err(bad("--days must be between 1 and 825".into()));
    }
    let stem = dns_name::file_stem(&checked[0]);
    let (cert, key) = (
        out.join(format!("{stem}.pem")),
        out.join(format!("{stem}.key")),
    );
    for p in [&cert, &key] {
        if p.parent() != Some(out) {
            return Err(ServiceError::unexpected(format!(
                "{} would not be inside {}",
                p.display(),
                out.display()
            )));
        }
        if p.symlink_metadata().is_ok() {
            return Err(bad(format!("{} exists; move it away first", p.display())));
        }
    }
    let issued = app
        .ca
        .issue_server(&checked, ips, now, days)
        .map_err(|e| bad(e.to_string()))?;
    write_private(&key, issued.key_pem.as_bytes())
        .map_err(|e| bad(format!("{}: {e}", key.display())))?;
    if let Err(e) = write_new(&cert, issued.cert_pem.as_bytes()) {
        let _ = std::fs::remove_file(&key);
        return Err(bad(format!("{}: {e}", cert.display())));
    }
    let sha = ServerCert::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .map_err(|e| ServiceError::internal("reading the issued certificate", e))?
        .info
        .sha256;
    app.tenants.public()?.db.write(|tx| {
        audit::record(
            tx,
            now,
            actor,
            "ca.certificate_issued",
            &sha,
            json!({"names": checked, "ips": ips, "not_after": issued.not_after}),
        )
    })?;
    Ok((cert, key, issued))
}

/// Writes a new file (never over an existing one, never through a link), mode 0644.
fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o644);
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}
