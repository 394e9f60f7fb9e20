//! TLS for licd's listeners: rustls with the `ring` provider and TLS 1.2 and 1.3 only;
//! a server certificate held in a slot that can be swapped while serving (renewal
//! without a restart); optional client certificates from the local CA (appliance mTLS).

use chrono::{DateTime, Utc};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {why}")]
    File { path: String, why: String },
    #[error("{0}")]
    Invalid(String),
}

fn invalid(why: impl std::fmt::Display) -> TlsError {
    TlsError::Invalid(why.to_string())
}

/// The crypto provider every TLS config uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a server certificate says, for logs, the console and renewal decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// DNS names and IP addresses it is valid for.
    pub names: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// Lowercase hex SHA-256 of the leaf certificate (DER).
    pub sha256: String,
}

impl CertInfo {
    /// When two thirds of its life have passed: the time to renew.
    pub fn renew_at(&self) -> DateTime<Utc> {
        self.not_before + (self.not_after - self.not_before) * 2 / 3
    }
}

/// A certificate chain with its private key, ready to serve.
#[derive(Debug)]
pub struct ServerCert {
    key: Arc<CertifiedKey>,
    pub info: CertInfo,
}

impl ServerCert {
    /// The leaf certificate (DER).
    pub fn leaf_der(&self) -> &[u8] {
        self.key.cert.first().map_or(&[], |c| c.as_ref())
    }

    /// Parses a PEM chain (leaf first) and a PEM private key (PKCS#8, SEC1 or PKCS#1),
    /// checking that the key belongs to the leaf.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<ServerCert, TlsError> {
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("the certificate file is not PEM: {e}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| invalid("the certificate file holds no CERTIFICATE block"))?;
        let info = describe(leaf)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| invalid(format!("the key file holds no usable private key: {e}")))?;
        let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                invalid("the private key does not belong to the certificate")
            }
            other => invalid(format!("the private key cannot be used: {other}")),
        })?;
        Ok(ServerCert {
            key: Arc::new(key),
            info,
        })
    }

    /// Reads a bring-your-own certificate and key; errors name the file and the problem.
    /// The key file must not be readable by other users.
    pub fn from_files(chain: &Path, key: &Path) -> Result<ServerCert, TlsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| TlsError::File {
                path: p.display().to_string(),
                why: e.to_string(),
            })
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key)
                .map_err(|e| TlsError::File {
                    path: key.display().to_string(),
                    why: e.to_string(),
                })?
                .permissions()
                .mode();
            if mode & 0o007 != 0 {
                return Err(TlsError::File {
                    path: key.display().to_string(),
                    why: format!(
                        "mode {:o} lets every user read the private key; chmod 600 (or 640 with group licd)",
                        mode & 0o777
                    ),
                });
            }
        }
        let (chain_pem, key_pem) = (read(chain)?, read(key)?);
        Self::from_pem(&chain_pem, &key_pem).map_err(|e| TlsError::File {
            path: format!("{} / {}", chain.display(), key.display()),
            why: e.to_string(),
        })
    }
}

/// Whether `der` carries a valid signature by the CA in `ca_der`.
pub fn issued_by(der: &[u8], ca_der: &[u8]) -> bool {
    match (
        x509_parser::parse_x509_certificate(der),
        x509_parser::parse_x509_certificate(ca_der),
    ) {
        (Ok((_, cert)), Ok((_, ca))) => cert.verify_signature(Some(ca.public_key())).is_ok(),
        _ => false,
    }
}

/// Reads names and validity from a certificate.
pub fn describe(der: &[u8]) -> Result<CertInfo, TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| invalid(format!("the certificate does not parse: {e}")))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| invalid("certificate time"))
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push((*d).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    Ok(CertInfo {
        names,
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
        sha256: super::ca::der_sha256(der),
    })
}

/// The certificate the server presents, replaceable while connections are served:
/// new handshakes get the new certificate, open connections keep theirs.
#[derive(Debug)]
pub struct CertSlot {
    current: RwLock<Arc<ServerCert>>,
}

impl CertSlot {
    pub fn new(cert: ServerCert) -> CertSlot {
        CertSlot {
            current: RwLock::new(Arc::new(cert)),
        }
    }

    pub fn current(&self) -> Arc<ServerCert> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn replace(&self, cert: ServerCert) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cert);
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current().key.clone())
    }
}

/// The rustls configuration for the HTTPS listener. With `client_ca`, clients are asked
/// for a certificate from that CA but may connect without one (staff browsers have
/// none); whether a request needs one is decided per route.
pub fn server_config(
    slot: Arc<CertSlot>,
    client_ca: Option<&[u8]>,
) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(invalid)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(der) => {
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from(der.to_vec())).map_err(|e| {
                invalid(format!(
                    "the local CA cannot anchor client certificates: {e}"
                ))
            })?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(invalid)?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(slot);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ca::LocalCa;

    #[test]
    fn local_ca_certificate_loads_and_describes_itself() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ca = LocalCa::load_or_create(dir.path(), "t", now).unwrap();
        let issued = ca
            .issue_server(&["localhost".into()], &["::1".parse().unwrap()], now, 90)
            .unwrap();
        let cert =
            ServerCert::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
        assert_eq!(cert.info.names, vec!["localhost", "::1"]);
        assert_eq!(cert.info.not_after, issued.not_after);
        assert_eq!(
            cert.info.renew_at(),
            cert.info.not_before + (issued.not_after - cert.info.not_before) * 2 / 3
        );
        let other = ca.issue_server(&["x".into()], &[], now, 1).unwrap();
        let err = ServerCert::from_pem(issued.cert_pem.as_bytes(), other.key_pem.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not belong"), "{err}");
        let err = ServerCert::from_pem(b"junk", issued.key_pem.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
        assert!(server_config(Arc::new(CertSlot::new(cert)), Some(ca.cert_der())).is_ok());
    }
}
