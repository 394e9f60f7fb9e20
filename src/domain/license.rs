//! License keys: what they claim, and which requests for one are acceptable.

use super::fields::{self, FEATURE_MAX, FEATURES_MAX, INSTALL_ID_MAX, LICENSE_TEXT_MAX};
use super::{DomainError, free_text, timestamp};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The license key's `typ`, audience and claims are the appliance side's wire format:
/// one definition, in the `licd-client` crate, for licd and the appliances.
pub use licd_client::formats::{LICENSE_TYP, LicenseClaims, audience};
/// Version of the claim set (`ver`).
pub const CLAIMS_VERSION: u32 = 1;
/// Flags a license may carry.
pub const FLAGS: &[&str] = &["trial", "non_production"];
/// Most users one license may grant of each kind.
pub const MAX_USERS: u32 = 10_000_000;

/// A request to issue a license, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseRequest {
    #[schema(schema_with = fields::license_name)]
    pub name: String,
    #[schema(schema_with = fields::install_id)]
    pub install_id: String,
    #[serde(default)]
    #[schema(schema_with = fields::organization)]
    pub organization: String,
    /// The customer organization the license belongs to (its members see it and its
    /// key in the portal; it is told when the license is issued, nears its expiry and
    /// expires). With `organization` empty, the key names this organization.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub organization_id: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    pub internal_users: u32,
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    pub external_users: u32,
    #[serde(default)]
    #[schema(schema_with = fields::features)]
    pub features: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = fields::flags)]
    pub flags: Vec<String>,
    /// Default: now.
    #[serde(default, deserialize_with = "timestamp::named::not_before_opt")]
    pub not_before: Option<DateTime<Utc>>,
    /// After `not_before` and now, at most 100 years after `not_before`.
    #[serde(deserialize_with = "timestamp::named::expires_at")]
    pub expires_at: DateTime<Utc>,
}

/// A request that passed every check, normalised (trimmed, de-duplicated, times whole seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidLicense {
    pub name: String,
    pub install_id: String,
    pub organization: String,
    /// The organization it belongs to (its existence is the service's to check).
    pub organization_id: Option<i64>,
    pub internal_users: u32,
    pub external_users: u32,
    pub features: Vec<String>,
    pub flags: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Checks an Install ID: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
pub fn check_install_id(v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= INSTALL_ID_MAX
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if !ok {
        return Err(DomainError::invalid(
            "install_id",
            "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
        ));
    }
    Ok(v.to_owned())
}

/// Checks a hardware fingerprint: 1 to 256 printable ASCII characters.
pub fn check_fingerprint(v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    if v.is_empty() || v.len() > fields::FINGERPRINT_MAX || !v.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(DomainError::invalid(
            "fingerprint",
            "must be 1 to 256 printable ASCII characters",
        ));
    }
    Ok(v.to_owned())
}

/// Checks the hostname an appliance reports: trimmed, at most 253 characters; empty
/// means none.
pub fn check_hostname(v: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let h = free_text::line("hostname", v, fields::HOSTNAME_MAX, false)?;
    Ok((!h.is_empty()).then_some(h))
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Checks a request; `now` is the issuing time.
pub fn validate(req: &LicenseRequest, now: DateTime<Utc>) -> Result<ValidLicense, DomainError> {
    let name = free_text::line("name", &req.name, LICENSE_TEXT_MAX, true)?;
    let install_id = check_install_id(&req.install_id)?;
    let organization = free_text::line("organization", &req.organization, LICENSE_TEXT_MAX, false)?;
    if req.organization_id.is_some_and(|id| id < 1) {
        return Err(DomainError::invalid(
            "organization_id",
            "must be an organization's id (1 or more)",
        ));
    }
    for (field, n) in [
        ("internal_users", req.internal_users),
        ("external_users", req.external_users),
    ] {
        if n > MAX_USERS {
            return Err(DomainError::invalid(
                field,
                format!("must be at most {MAX_USERS}"),
            ));
        }
    }
    if req.internal_users == 0 && req.external_users == 0 {
        return Err(DomainError::invalid(
            "internal_users",
            "a license must grant at least one internal or external user",
        ));
    }
    // Counted as given, so the documented `maxItems` is exactly the limit.
    if req.features.len() > FEATURES_MAX {
        return Err(DomainError::invalid(
            "features",
            format!("at most {FEATURES_MAX} features"),
        ));
    }
    let mut features = Vec::new();
    for f in &req.features {
        let f = f.trim();
        let ok = !f.is_empty()
            && f.len() <= FEATURE_MAX
            && f.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !ok {
            return Err(DomainError::invalid(
                "features",
                format!("{f:?}: use 1 to 64 of a-z 0-9 . _ -"),
            ));
        }
        if !features.iter().any(|x: &String| x == f) {
            features.push(f.to_owned());
        }
    }
    let mut flags = Vec::new();
    for f in &req.flags {
        if !FLAGS.contains(&f.as_str()) {
            return Err(DomainError::invalid(
                "flags",
                format!("{f:?} is not a flag; known flags: trial, non_production"),
            ));
        }
        if !flags.contains(f) {
            flags.push(f.clone());
        }
    }
    if let Some(t) = req.not_before {
        timestamp::check("not_before", t)?;
    }
    timestamp::check("expires_at", req.expires_at)?;
    let not_before = whole_seconds(req.not_before.unwrap_or(now));
    let expires_at = whole_seconds(req.expires_at);
    if expires_at <= not_before {
        return Err(DomainError::invalid(
            "expires_at",
            "must be after not_before",
        ));
    }
    if expires_at <= now {
        return Err(DomainError::invalid("expires_at", "must be in the future"));
    }
    if expires_at - not_before > Duration::days(366 * 100) {
        return Err(DomainError::invalid(
            "expires_at",
            "a license may last at most 100 years",
        ));
    }
    Ok(ValidLicense {
        name,
        install_id,
        organization,
        organization_id: req.organization_id,
        internal_users: req.internal_users,
        external_users: req.external_users,
        features,
        flags,
        not_before,
        expires_at,
    })
}

/// Why a license got a (new) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyReason {
    /// Its first key.
    Issue,
    /// A new expiry.
    Renew,
    /// New user counts, features or name.
    Change,
    /// The same grant, signed by the current signing key.
    Reissue,
}

impl KeyReason {
    pub const ALL: [KeyReason; 4] = [
        KeyReason::Issue,
        KeyReason::Renew,
        KeyReason::Change,
        KeyReason::Reissue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyReason::Issue => "issue",
            KeyReason::Renew => "renew",
            KeyReason::Change => "change",
            KeyReason::Reissue => "reissue",
        }
    }
}

impl std::str::FromStr for KeyReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        KeyReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown key reason {s:?}"))
    }
}

/// What a renewal or change asks for; a field left `None` keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amendment {
    pub name: Option<String>,
    pub internal_users: Option<u32>,
    pub external_users: Option<u32>,
    pub features: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Amendment {
    pub fn is_empty(&self) -> bool {
        *self == Amendment::default()
    }
}

/// The grant after `amendment`, checked by the same rules as a new license (the
/// Install ID, organization, flags and start stay). A renewal only ever extends: a new
/// expiry must be later than the current one (a license ends sooner by revoking it).
pub fn amend(
    current: &ValidLicense,
    amendment: &Amendment,
    now: DateTime<Utc>,
) -> Result<ValidLicense, DomainError> {
    if let Some(exp) = amendment.expires_at {
        timestamp::check("expires_at", exp)?;
        if whole_seconds(exp) <= current.expires_at {
            return Err(DomainError::invalid(
                "expires_at",
                format!(
                    "must be later than the current expiry ({}); to end a license sooner, revoke it",
                    current.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            ));
        }
    }
    let req = LicenseRequest {
        name: amendment
            .name
            .clone()
            .unwrap_or_else(|| current.name.clone()),
        install_id: current.install_id.clone(),
        organization: current.organization.clone(),
        organization_id: current.organization_id,
        internal_users: amendment.internal_users.unwrap_or(current.internal_users),
        external_users: amendment.external_users.unwrap_or(current.external_users),
        features: amendment
            .features
            .clone()
            .unwrap_or_else(|| current.features.clone()),
        flags: current.flags.clone(),
        not_before: Some(current.not_before),
        expires_at: amendment.expires_at.unwrap_or(current.expires_at),
    };
    validate(&req, now)
}

impl ValidLicense {
    /// The claims of the key for this license.
    pub fn claims(&self, id: &str, issuer: &str, now: DateTime<Utc>) -> LicenseClaims {
        LicenseClaims {
            iss: issuer.to_owned(),
            sub: id.to_owned(),
            jti: id.to_owned(),
            aud: audience(&self.install_id),
            iat: now.timestamp(),
            nbf: self.not_before.timestamp(),
            exp: self.expires_at.timestamp(),
            name: self.name.clone(),
            org: self.organization.clone(),
            internal_users: self.internal_users,
            external_users: self.external_users,
            features: self.features.clone(),
            flags: self.flags.clone(),
            ver: CLAIMS_VERSION,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn req() -> LicenseRequest {
        LicenseRequest {
            name: " Plant 7 ".into(),
            install_id: "2f0c1c8e-6a1e-4c1a-9f57-0c6a3c1d2e11".into(),
            internal_users: 50,
            external_users: 0,
            features: vec!["sso".into(), "sso".into(), "audit".into()],
            flags: vec!["trial".into()],
            expires_at: now() + Duration::days(365),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_request_is_normalised() {
        let v = validate(&req(), now()).unwrap();
        assert_eq!(v.name, "Plant 7");
        assert_eq!(v.features, vec!["sso", "audit"]);
        assert_eq!(v.not_before, now());
        let c = v.claims("L1", "licd:x", now());
        assert_eq!(c.aud, "licd:install:2f0c1c8e-6a1e-4c1a-9f57-0c6a3c1d2e11");
        assert_eq!(c.install_id(), Some("2f0c1c8e-6a1e-4c1a-9f57-0c6a3c1d2e11"));
        assert_eq!((c.sub.as_str(), c.jti.as_str(), c.ver), ("L1", "L1", 1));
    }

    #[test]
    fn an_amendment_keeps_what_it_does_not_name_and_renewals_only_extend() {
        let current = validate(&req(), now()).unwrap();
        let changed = amend(
            &current,
            &Amendment {
                internal_users: Some(80),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(changed.internal_users, 80);
        assert_eq!(
            (changed.name.as_str(), &changed.flags, changed.expires_at),
            ("Plant 7", &current.flags, current.expires_at)
        );
        let later = current.expires_at + Duration::days(30);
        let renewed = amend(
            &current,
            &Amendment {
                expires_at: Some(later),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(
            (renewed.expires_at, renewed.not_before),
            (later, current.not_before)
        );
        for (a, field) in [
            (
                Amendment {
                    expires_at: Some(current.expires_at),
                    ..Default::default()
                },
                "expires_at",
            ),
            (
                Amendment {
                    internal_users: Some(0),
                    external_users: Some(0),
                    ..Default::default()
                },
                "internal_users",
            ),
            (
                Amendment {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
        ] {
            let err = amend(&current, &a, now()).unwrap_err().to_string();
            assert!(err.starts_with(field), "{field}: {err}");
        }
        for r in KeyReason::ALL {
            assert_eq!(r.as_str().parse::<KeyReason>().unwrap(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        type Mutation = Box<dyn Fn(&mut LicenseRequest)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("name", Box::new(|r| r.name = " ".into())),
            (
                "install_id",
                Box::new(|r| r.install_id = "has space".into()),
            ),
            ("internal_users", Box::new(|r| r.internal_users = 0)),
            (
                "external_users",
                Box::new(|r| r.external_users = MAX_USERS + 1),
            ),
            (
                "features",
                Box::new(|r| r.features = vec!["Bad Feature".into()]),
            ),
            ("flags", Box::new(|r| r.flags = vec!["free".into()])),
            (
                "expires_at",
                Box::new(|r| r.expires_at = now() - Duration::days(1)),
            ),
            (
                "expires_at",
                Box::new(|r| r.not_before = Some(r.expires_at + Duration::days(1))),
            ),
            (
                "expires_at",
                Box::new(|r| r.expires_at = now() + Duration::days(366 * 101)),
            ),
        ];
        for (field, mutate) in cases {
            let mut r = req();
            mutate(&mut r);
            let err = validate(&r, now()).unwrap_err().to_string();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }
}
