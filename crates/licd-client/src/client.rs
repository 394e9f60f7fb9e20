//! Talking to licd over HTTPS (feature `http`): the JWKS, activation, heartbeats.
//!
//! Blocking (ureq with rustls). With a site CA (`licd ca export`), that CA is the only
//! root trusted; without one, the public Web PKI roots are. Every failure is a
//! [`ClientError`], never a panic: [`ClientError::Refused`] when licd answered with a
//! problem (`application/problem+json`, its stable `code`), the other kinds when it
//! could not be reached or answered something unreadable: an appliance treats those
//! as "out of touch" and carries on in grace.
//!
//! The replies are not trusted as such: hand the lease to
//! [`LeaseStore::accept_lease`](crate::store::LeaseStore::accept_lease), which verifies it.
//!
//! ```no_run
//! use licd_client::client::{ActivateRequest, Client};
//! use std::time::Duration;
//!
//! let ca = std::fs::read_to_string("/etc/licd-agent/ca.pem")?;
//! let licd = Client::new("https://licd.example:8443", Some(&ca), Duration::from_secs(30))?;
//! let jwks = licd.jwks()?;
//! let activated = licd.activate("L-1", &ActivateRequest {
//!     license_key: std::fs::read_to_string("/etc/licd-agent/license.key")?,
//!     fingerprint: "…".into(),
//!     install_id: "my-install-id".into(),
//!     hostname: None,
//!     csr: None,
//! })?;
//! let next = licd.heartbeat("L-1", &activated.activation_secret, "…", activated.lease.claims.seq, None)?;
//! println!("lease {} until {}", next.claims.seq, next.claims.lease_expires_at);
//! # let _ = jwks;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::formats::{Jwks, LeaseClaims, UserCounts};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// The most of a reply body read (a JWKS or a lease is a few KB).
const MAX_BODY: u64 = 1024 * 1024;

/// Why a call to licd failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The base URL or the CA certificate given to [`Client::new`] is not usable.
    #[error("client configuration: {0}")]
    Config(String),
    /// licd did not answer in time.
    #[error("licd did not answer in time: {0}")]
    Timeout(String),
    /// licd could not be reached (DNS, connection, TLS).
    #[error("licd could not be reached: {0}")]
    Transport(String),
    /// licd refused the request (a problem+json answer).
    #[error("licd refused ({status} {code}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The problem's stable code (`license_revoked`, ...).
        code: String,
        /// The problem's detail, for people.
        detail: String,
    },
    /// licd (or whatever answered) sent something that is not the expected reply.
    #[error("unexpected answer (HTTP {status}): {why}")]
    BadResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        why: String,
    },
}

impl ClientError {
    /// A stable short name: `config`, `timeout`, `transport`, `refused`,
    /// `bad_response`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Config(_) => "config",
            ClientError::Timeout(_) => "timeout",
            ClientError::Transport(_) => "transport",
            ClientError::Refused { .. } => "refused",
            ClientError::BadResponse { .. } => "bad_response",
        }
    }

    /// Whether licd was out of reach or answered nonsense (so the appliance is out of
    /// touch, not refused).
    pub fn is_out_of_touch(&self) -> bool {
        matches!(
            self,
            ClientError::Timeout(_) | ClientError::Transport(_) | ClientError::BadResponse { .. }
        )
    }
}

/// The body of an activation (licd's `ActivateRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivateRequest {
    /// The license key (compact JWS) of the license activated.
    pub license_key: String,
    /// This appliance's fingerprint.
    pub fingerprint: String,
    /// The Install ID the key is for.
    pub install_id: String,
    /// The host name, for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// A PKCS#10 CSR (PEM) for a client certificate, when licd uses appliance mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
}

/// The body of a heartbeat (licd's `HeartbeatRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct HeartbeatRequest<'a> {
    fingerprint: &'a str,
    seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    internal_users: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_users: Option<u32>,
}

/// A lease as licd answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReply {
    /// The license.
    pub license_id: String,
    /// The license's state as licd sees it.
    pub state: String,
    /// The signed lease (compact JWS): what to keep and verify.
    pub lease: String,
    /// Its claims, decoded for convenience (not verified: trust the signed copy).
    pub claims: LeaseClaims,
}

/// An activation as licd answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activated {
    /// Authenticates heartbeats (`lact_...`); shown once: keep it.
    pub activation_secret: String,
    /// A client certificate (PEM) when a CSR was sent and licd uses appliance mTLS.
    #[serde(default)]
    pub client_certificate: Option<String>,
    /// Its expiry.
    #[serde(default)]
    pub client_certificate_expires_at: Option<DateTime<Utc>>,
    /// The first lease (licd sends its fields beside the others).
    #[serde(flatten)]
    pub lease: LeaseReply,
}

/// An RFC 7807 problem as licd writes it.
#[derive(Deserialize)]
struct Problem {
    code: String,
    #[serde(default)]
    detail: String,
}

/// A licd client.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn tls_config(ca_pem: Option<&str>) -> Result<TlsConfig, ClientError> {
    let Some(pem) = ca_pem else {
        return Ok(TlsConfig::builder().root_certs(RootCerts::WebPki).build());
    };
    let mut roots = Vec::new();
    for item in ureq::tls::parse_pem(pem.as_bytes()) {
        match item {
            Ok(PemItem::Certificate(cert)) => roots.push(cert),
            Ok(_) => {}
            Err(e) => return Err(ClientError::Config(format!("CA certificate: {e}"))),
        }
    }
    if roots.is_empty() {
        return Err(ClientError::Config(
            "CA certificate: no certificate in the PEM".into(),
        ));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build())
}

impl Client {
    /// A client of licd at `base_url` (`https://licd.example:8443`; `http://` works for
    /// tests). `ca_pem`: the site CA, then the only root trusted. `timeout` bounds each
    /// call as a whole.
    pub fn new(
        base_url: &str,
        ca_pem: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let parsed: Result<ureq::http::Uri, _> = base.parse();
        match parsed {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("https" | "http")) && uri.host().is_some() => {}
            _ => {
                return Err(ClientError::Config(format!(
                    "server URL {base_url:?} is not an http(s) URL"
                )));
            }
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls_config(ca_pem)?)
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("licd-client/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            base,
            agent: ureq::Agent::new_with_config(config),
        })
    }

    /// licd's public keys (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> Result<Jwks, ClientError> {
        let response = self
            .agent
            .get(format!("{}/.well-known/jwks.json", self.base))
            .call();
        read(response)
    }

    /// Activates `license_id` on this appliance.
    pub fn activate(
        &self,
        license_id: &str,
        request: &ActivateRequest,
    ) -> Result<Activated, ClientError> {
        let url = format!(
            "{}/api/v1/licenses/{}/activate",
            self.base,
            segment(license_id)
        );
        read(self.agent.post(url).send_json(request))
    }

    /// Heartbeats: reports the `seq` of the lease held (0: none) and, when given, the
    /// user counts; answers with the next lease.
    pub fn heartbeat(
        &self,
        license_id: &str,
        activation_secret: &str,
        fingerprint: &str,
        seq: i64,
        usage: Option<UserCounts>,
    ) -> Result<LeaseReply, ClientError> {
        let url = format!(
            "{}/api/v1/licenses/{}/heartbeat",
            self.base,
            segment(license_id)
        );
        let body = HeartbeatRequest {
            fingerprint,
            seq,
            internal_users: usage.map(|u| u.internal_users),
            external_users: usage.map(|u| u.external_users),
        };
        let response = self
            .agent
            .post(url)
            .header(
                "Authorization",
                format!("Bearer {}", activation_secret.trim()),
            )
            .send_json(&body);
        read(response)
    }
}

fn transport(e: ureq::Error) -> ClientError {
    match e {
        ureq::Error::Timeout(t) => ClientError::Timeout(t.to_string()),
        other => ClientError::Transport(other.to_string()),
    }
}

/// Reads a reply: 2xx as `T`, a problem as [`ClientError::Refused`], anything else as
/// [`ClientError::BadResponse`].
fn read<T: DeserializeOwned>(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<T, ClientError> {
    let mut response = response.map_err(transport)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(t) => ClientError::Timeout(t.to_string()),
            other => ClientError::BadResponse {
                status,
                why: format!("reading the body: {other}"),
            },
        })?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|e| ClientError::BadResponse {
            status,
            why: format!("not the expected JSON: {e}"),
        });
    }
    match serde_json::from_slice::<Problem>(&body) {
        Ok(p) => Err(ClientError::Refused {
            status,
            code: p.code,
            detail: p.detail,
        }),
        // Not licd's refusal (a proxy's error page, say): out of touch.
        Err(_) => Err(ClientError::BadResponse {
            status,
            why: format!(
                "an error without a problem body: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        }),
    }
}

#[cfg(test)]
mod tests;
