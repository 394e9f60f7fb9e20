//! licd's own license (seed 000 "Install a license", "Enterprise > Licenses"): each
//! tenant has an Install ID; staff paste license keys signed by a trusted issuer
//! (`licensing.trusted_issuers`); the tenant's staff people count as internal users, its
//! customer accounts (verified) as external users; disabled accounts and service
//! accounts never count (seed 000 "About users and licenses"), and the same violation
//! timeline applies, ending in read-only. A change of who counts calls `refresh`.

use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, refuse};
use crate::domain::violation::{
    Assessment, Banner, Condition, Contribution, History, Stage, Usage, assess,
};
use crate::error::ErrorCode;
use crate::pki::keys::{Jwks, PublicKey};
use crate::pki::verify::{VerifyError, check_claims, verify_signature};
use crate::store::enterprise::{self as store, EnterpriseLicenseRow};
use crate::store::{ReadTx, StoreError, WriteTx, settings};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use utoipa::ToSchema;

const STATE_KEY: &str = "enterprise.state";

/// Reads the trusted issuers' public keys (JWKS or PEM files).
pub fn load_trusted_issuers(paths: &[impl AsRef<Path>]) -> Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let text = std::fs::read_to_string(p).map_err(|e| {
            ServiceError::startup(format!("licensing.trusted_issuers: {}", p.display()), e)
        })?;
        if text.trim_start().starts_with('{') {
            let set: Jwks = serde_json::from_str(&text).map_err(|e| {
                ServiceError::startup(
                    format!("licensing.trusted_issuers: {} is not a JWKS", p.display()),
                    e,
                )
            })?;
            keys.extend(set.public_keys());
        } else {
            keys.push(PublicKey::from_pem(&text).map_err(|e| {
                ServiceError::startup(
                    format!(
                        "licensing.trusted_issuers: {} is not a PEM public key",
                        p.display()
                    ),
                    e,
                )
            })?);
        }
    }
    Ok(keys)
}

/// What is recorded between assessments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    violation_since: Option<DateTime<Utc>>,
    stage: Option<Stage>,
    /// Set once a license was installed; never cleared, so removing every license is a
    /// violation (`no_valid_license`), not a way back to `unlicensed`.
    #[serde(default)]
    ever_licensed: bool,
}

/// The recorded state; none recorded yet is no violation, but an unreadable one is an
/// error (never read as "no violation": that would be a way out of enforcement).
fn recorded(tx: &ReadTx<'_>) -> Result<Recorded> {
    let mut rec: Recorded = match settings::get(tx, STATE_KEY)? {
        None => Recorded::default(),
        Some(s) => serde_json::from_str(&s).map_err(|_| StoreError::Corrupt {
            column: "settings.enterprise.state",
            value: s,
        })?,
    };
    // Data from before the flag existed: the audit chain remembers every install.
    if !rec.ever_licensed {
        rec.ever_licensed = store::ever_installed(tx)?;
    }
    Ok(rec)
}

impl Recorded {
    fn history(&self) -> History {
        History {
            violation_since: self.violation_since,
            ever_licensed: self.ever_licensed,
        }
    }
}

fn contribution(l: &EnterpriseLicenseRow) -> Contribution {
    Contribution {
        internal_users: l.internal_users,
        external_users: l.external_users,
        not_before: l.not_before,
        expires_at: l.expires_at,
        in_force: true,
        changes_at: None,
    }
}

fn usage(tx: &ReadTx<'_>) -> Result<Usage> {
    Ok(Usage {
        internal_users: store::enabled_staff(tx)?,
        external_users: store::enabled_customers(tx)?,
    })
}

/// Where the tenant stands at `now` with these licenses and its recorded history.
fn assess_now(
    tenant: &Tenant,
    licenses: &[EnterpriseLicenseRow],
    rec: &Recorded,
    used: Usage,
    now: DateTime<Utc>,
) -> Assessment {
    let contribs: Vec<Contribution> = licenses.iter().map(contribution).collect();
    assess(
        &contribs,
        Some(used),
        history(tenant, rec),
        now,
        &tenant.settings().timeline(),
    )
}

/// What the assessment goes by. The default tenant (`public`) may run unlicensed. An
/// additional tenant needs a license of its own (seed 001): until it has one it is
/// treated as having had one that ended when the tenant was created, so the violation
/// timeline (banners, then read-only) runs from its creation, with the same settings.
fn history(tenant: &Tenant, rec: &Recorded) -> History {
    let mut h = rec.history();
    if tenant.schema_name != super::tenants::PUBLIC && !h.ever_licensed {
        h.ever_licensed = true;
        h.violation_since = h.violation_since.or(Some(tenant.created_at));
    }
    h
}

/// Re-assesses the tenant's own license inside `tx`; records and audits stage changes.
fn reassess_in(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<Assessment> {
    let licenses = store::list(tx)?;
    let rec = recorded(tx)?;
    let a = assess_now(tenant, &licenses, &rec, usage(tx)?, now);
    let new = Recorded {
        violation_since: a.violation_since,
        stage: Some(a.stage),
        ever_licensed: rec.ever_licensed || !licenses.is_empty(),
    };
    if new != rec {
        if rec.stage.unwrap_or(Stage::None) != a.stage {
            audit::record(
                tx,
                now,
                actor,
                "enterprise.stage_change",
                &format!("tenant:{}", tenant.schema_name),
                json!({"from": rec.stage.unwrap_or(Stage::None), "to": a.stage, "condition": a.condition}),
            )?;
        }
        let text = serde_json::to_string(&new)
            .map_err(|e| ServiceError::internal("encoding the enterprise state", e))?;
        settings::put(tx, STATE_KEY, &text)?;
    }
    Ok(a)
}

/// Re-assesses and refreshes the tenant's cached stage (after staff changes, installs,
/// removals, and on the sweep's schedule).
pub fn refresh(tenant: &Tenant, now: DateTime<Utc>, actor: &Actor) -> Result<Stage> {
    let a = tenant.db.write(|tx| reassess_in(tx, tenant, now, actor))?;
    tenant.set_own_stage(a.stage);
    Ok(a.stage)
}

fn install_problem(e: VerifyError, tenant: &Tenant) -> ServiceError {
    match e {
        VerifyError::Malformed(why) => refuse(
            ErrorCode::ValidationFailed,
            format!("license_key: not a license key: {why}"),
        ),
        VerifyError::UnknownKey(kid) => refuse(
            ErrorCode::LicenseKeyUntrusted,
            format!(
                "the key is not signed by a trusted issuer (key {kid} is not in licensing.trusted_issuers)"
            ),
        ),
        VerifyError::BadSignature => refuse(
            ErrorCode::LicenseKeyUntrusted,
            "the key's signature is not valid (was it altered?)",
        ),
        VerifyError::WrongInstallId { found, .. } => refuse(
            ErrorCode::WrongInstallId,
            format!(
                "the key is for Install ID {found}; this installation's Install ID is {}",
                tenant.install_id
            ),
        ),
        VerifyError::NotYetValid(t) => refuse(
            ErrorCode::LicenseNotYetValid,
            format!("the key is not valid before {t}; if that is wrong, check this server's clock"),
        ),
        VerifyError::Expired(t) => {
            refuse(ErrorCode::LicenseExpired, format!("the key expired at {t}"))
        }
    }
}

/// Installs a pasted license key after checking, in order: the whole key (shape and
/// signature by a trusted issuer), the Install ID, the validity window (clock).
pub fn install(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    key: &str,
) -> Result<Overview> {
    let key = key.trim();
    let claims =
        verify_signature(key, &app.trusted_issuers).map_err(|e| install_problem(e, tenant))?;
    check_claims(&claims, Some(&tenant.install_id), now).map_err(|e| install_problem(e, tenant))?;
    for t in [claims.not_before(), claims.expires_at()] {
        crate::domain::timestamp::check("license_key", t)?;
    }
    let row = EnterpriseLicenseRow {
        id: claims.jti.clone(),
        license_key: key.to_owned(),
        name: claims.name.clone(),
        organization: claims.org.clone(),
        internal_users: claims.internal_users,
        external_users: claims.external_users,
        not_before: claims.not_before(),
        expires_at: claims.expires_at(),
        installed_at: now,
        installed_by: actor.audit_name(),
    };
    let a = tenant.db.write(|tx| {
        store::upsert(tx, &row)?;
        audit::record(
            tx,
            now,
            actor,
            "enterprise.license_install",
            &format!("enterprise_license:{}", row.id),
            json!({"name": row.name, "internal_users": row.internal_users, "external_users": row.external_users, "expires_at": row.expires_at}),
        )?;
        reassess_in(tx, tenant, now, actor)
    })?;
    tenant.set_own_stage(a.stage);
    overview(tenant, now)
}

/// Removes an installed license. While licd is in violation, a license that still
/// counts may only go when another valid license remains: removing the last one would
/// be a way out of enforcement (the stage never drops by a removal either way).
pub fn remove(tenant: &Tenant, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<Overview> {
    let a = tenant.db.write(|tx| {
        let licenses = store::list(tx)?;
        let Some(target) = licenses.iter().find(|l| l.id == id) else {
            return Err(refuse(
                ErrorCode::NotFound,
                format!("no installed license has the id {id}"),
            ));
        };
        let current = assess_now(tenant, &licenses, &recorded(tx)?, usage(tx)?, now);
        let in_violation = matches!(
            current.condition,
            Condition::OverLimit | Condition::NoValidLicense
        );
        let counts = contribution(target).valid_at(now);
        let another_valid = licenses
            .iter()
            .any(|l| l.id != id && contribution(l).valid_at(now));
        if in_violation && counts && !another_valid {
            return Err(refuse(
                ErrorCode::LicenseRemovalRefused,
                format!(
                    "licd is in violation (stage {}); its last valid license cannot be removed. \
                     Install a replacement license first, then remove this one",
                    current.stage.as_str()
                ),
            ));
        }
        store::delete(tx, id)?;
        audit::record(
            tx,
            now,
            actor,
            "enterprise.license_remove",
            &format!("enterprise_license:{id}"),
            json!({}),
        )?;
        reassess_in(tx, tenant, now, actor)
    })?;
    tenant.set_own_stage(a.stage);
    overview(tenant, now)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstalledView {
    pub id: String,
    pub name: String,
    pub organization: String,
    pub internal_users: u32,
    pub external_users: u32,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
    /// Whether its users count now.
    pub counts: bool,
}

/// Enterprise > Licenses: this tenant's Install ID, its licenses, and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EnterpriseOverview)]
pub struct Overview {
    pub install_id: String,
    pub licenses: Vec<InstalledView>,
    pub usage: Usage,
    #[serde(flatten)]
    pub assessment: Assessment,
    pub banner: Banner,
    pub read_only: bool,
}

pub fn overview(tenant: &Tenant, now: DateTime<Utc>) -> Result<Overview> {
    tenant.db.read(|tx| {
        let rows = store::list(tx)?;
        let used = usage(tx)?;
        let a = assess_now(tenant, &rows, &recorded(tx)?, used, now);
        let licenses = rows
            .into_iter()
            .map(|l| InstalledView {
                counts: contribution(&l).valid_at(now),
                id: l.id,
                name: l.name,
                organization: l.organization,
                internal_users: l.internal_users,
                external_users: l.external_users,
                not_before: l.not_before,
                expires_at: l.expires_at,
                installed_at: l.installed_at,
                installed_by: l.installed_by,
            })
            .collect();
        Ok(Overview {
            install_id: tenant.install_id.clone(),
            licenses,
            usage: used,
            banner: a.stage.banner(),
            read_only: a.stage.read_only(),
            assessment: a,
        })
    })
}
