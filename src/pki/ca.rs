//! The local certificate authority for air-gapped sites: a P-256 root made on first
//! start (its name includes the site, so two sites' CAs are told apart), which issues
//! licd's server certificate and certificates for other services at the site.
//! Private keys are written 0600; a key file with a wider mode stops startup.

use super::kek::{KekError, check_private, write_private};
use chrono::{DateTime, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// How long the root CA is valid.
pub const CA_LIFETIME_DAYS: i64 = 3650;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KekError),
    #[error(
        "{path} is missing while {other} exists; restore the CA from a backup or move ca/ away to make a new one"
    )]
    Incomplete { path: PathBuf, other: PathBuf },
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_owned(),
        source,
    }
}

fn offset(t: DateTime<Utc>) -> Result<time::OffsetDateTime, CaError> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| CaError::Invalid(e.to_string()))
}

/// The CA's identity, rebuilt the same way every time so it can issue after a restart.
fn ca_params(name: &str, now: DateTime<Utc>) -> Result<CertificateParams, CaError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "licd");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = offset(now - Duration::hours(1))?;
    p.not_after = offset(now + Duration::days(CA_LIFETIME_DAYS))?;
    Ok(p)
}

/// A CA on disk: `ca.pem` (certificate), `ca.key` (0600), `ca.name` (its common name).
pub struct LocalCa {
    name: String,
    cert_pem: String,
    cert_der: Vec<u8>,
    key: KeyPair,
    not_after: DateTime<Utc>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What an appliance's client certificate names: the license, the machine and the
/// tenant that issued it. The appliance's CSR chooses only the public key.
#[derive(Debug, Clone)]
pub struct ClientSubject<'a> {
    pub license_id: &'a str,
    pub fingerprint: &'a str,
    pub tenant: &'a str,
}

/// A client certificate issued from a CSR: PEM, the SHA-256 of its DER (how licd finds
/// it again on every request) and its expiry.
#[derive(Debug, Clone)]
pub struct IssuedClient {
    pub cert_pem: String,
    pub sha256: String,
    pub not_after: DateTime<Utc>,
}

/// An issued certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub not_after: DateTime<Utc>,
}

impl LocalCa {
    /// Loads the CA in `dir`, creating it (named after `site`) when there is none.
    pub fn load_or_create(dir: &Path, site: &str, now: DateTime<Utc>) -> Result<LocalCa, CaError> {
        let (cert_path, key_path, name_path) =
            (dir.join("ca.pem"), dir.join("ca.key"), dir.join("ca.name"));
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                check_private(&key_path)?;
                let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
                let key_pem = zeroize::Zeroizing::new(
                    std::fs::read_to_string(&key_path).map_err(io(&key_path))?,
                );
                let name = std::fs::read_to_string(&name_path)
                    .map_err(io(&name_path))?
                    .trim()
                    .to_owned();
                let key = KeyPair::from_pem(&key_pem)?;
                let cert_der = pem_der(&cert_pem)?;
                let not_after = super::tls::describe(&cert_der)
                    .map_err(|e| CaError::Invalid(format!("{}: {e}", cert_path.display())))?
                    .not_after;
                Ok(LocalCa {
                    name,
                    cert_pem,
                    cert_der,
                    key,
                    not_after,
                })
            }
            (false, false) => {
                let name = format!("licd local CA ({site})");
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                let cert = ca_params(&name, now)?.self_signed(&key)?;
                write_private(&key_path, key.serialize_pem().as_bytes()).map_err(io(&key_path))?;
                std::fs::write(&cert_path, cert.pem()).map_err(io(&cert_path))?;
                std::fs::write(&name_path, &name).map_err(io(&name_path))?;
                tracing::info!(name, "created the local certificate authority");
                Ok(LocalCa {
                    name,
                    cert_pem: cert.pem(),
                    cert_der: cert.der().to_vec(),
                    key,
                    not_after: now + Duration::days(CA_LIFETIME_DAYS),
                })
            }
            (true, false) => Err(CaError::Incomplete {
                path: key_path,
                other: cert_path,
            }),
            (false, true) => Err(CaError::Incomplete {
                path: cert_path,
                other: key_path,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// When the CA itself expires; nothing it issues outlives it.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// SHA-256 of the CA certificate (DER), as colon-separated hex, for comparing out of band.
    pub fn fingerprint(&self) -> String {
        Sha256::digest(&self.cert_der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Issues an appliance's client certificate for the key in `csr_pem` (whose signature
    /// is checked). Everything but the key comes from `subject`: CN is the license ID,
    /// O the tenant, and URI SANs `urn:licd:license:<id>` and
    /// `urn:licd:fingerprint:<sha-256 of the fingerprint>`.
    pub fn issue_client(
        &self,
        csr_pem: &str,
        subject: &ClientSubject<'_>,
        now: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<IssuedClient, CaError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let not_after = not_after.min(self.not_after);
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.license_id);
        dn.push(DnType::OrganizationName, subject.tenant);
        dn.push(DnType::OrganizationalUnitName, "licd appliance");
        p.distinguished_name = dn;
        let fp = hex::encode(Sha256::digest(subject.fingerprint.as_bytes()));
        for uri in [
            format!("urn:licd:license:{}", subject.license_id),
            format!("urn:licd:fingerprint:{fp}"),
        ] {
            p.subject_alt_names.push(SanType::URI(uri.try_into()?));
        }
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        p.not_before = offset(now - Duration::minutes(5))?;
        p.not_after = offset(not_after)?;
        csr.params = p;
        let issuer = Issuer::new(ca_params(&self.name, now)?, &self.key);
        let cert = csr.signed_by(&issuer)?;
        Ok(IssuedClient {
            cert_pem: cert.pem(),
            sha256: der_sha256(cert.der()),
            not_after,
        })
    }

    /// Issues a server certificate for these names and addresses, valid `days`.
    pub fn issue_server(
        &self,
        names: &[String],
        ips: &[IpAddr],
        now: DateTime<Utc>,
        days: i64,
    ) -> Result<Issued, CaError> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map(String::as_str).unwrap_or("licd"),
        );
        p.distinguished_name = dn;
        p.subject_alt_names = names
            .iter()
            .map(|n| n.clone().try_into().map(SanType::DnsName))
            .collect::<Result<Vec<_>, _>>()?;
        p.subject_alt_names
            .extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        let not_after = (now + Duration::days(days)).min(self.not_after);
        p.not_before = offset(now - Duration::minutes(5))?;
        p.not_after = offset(not_after)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let issuer = Issuer::new(ca_params(&self.name, now)?, &self.key);
        let cert = p.signed_by(&key, &issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            not_after,
        })
    }
}

/// Lowercase hex SHA-256 of a certificate's DER: how a presented client certificate is
/// matched to the activation it was issued for.
pub fn der_sha256(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn random_serial() -> Result<[u8; 16], CaError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| CaError::Invalid(format!("no randomness: {e}")))?;
    b[0] &= 0x7f; // positive
    Ok(b)
}

fn pem_der(pem: &str) -> Result<Vec<u8>, CaError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| CaError::Invalid(format!("CA certificate is not PEM: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_loads_and_issues() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ca = LocalCa::load_or_create(dir.path(), "plant-7", now).unwrap();
        assert!(ca.name().contains("plant-7"));
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(ca.fingerprint().len(), 32 * 3 - 1);
        let again = LocalCa::load_or_create(dir.path(), "other", now).unwrap();
        assert_eq!(
            again.fingerprint(),
            ca.fingerprint(),
            "an existing CA is kept"
        );
        let issued = again
            .issue_server(
                &["localhost".into()],
                &["127.0.0.1".parse().unwrap()],
                now,
                90,
            )
            .unwrap();
        assert!(
            issued.cert_pem.contains("BEGIN CERTIFICATE") && issued.key_pem.contains("PRIVATE KEY")
        );
        assert_eq!(issued.not_after, now + Duration::days(90));
    }

    #[test]
    fn a_readable_key_or_a_missing_half_stops_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        LocalCa::load_or_create(dir.path(), "x", now).unwrap();
        let key = dir.path().join("ca.key");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalCa::load_or_create(dir.path(), "x", now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ca.key") && err.contains("644"), "{err}");
        std::fs::remove_file(&key).unwrap();
        let err = LocalCa::load_or_create(dir.path(), "x", now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ca.key is missing"), "{err}");
    }
}
