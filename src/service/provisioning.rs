//! Provisioning tokens: staff make a token carrying a license template and a use limit;
//! an appliance at first boot redeems it for a license that is already activated.

use super::appliance::{Activated, activate_in_tx};
use super::licenses::issue_in_tx;
use super::org_notifications::Sender;
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, refuse, secrets};
use crate::domain::fields::{self, LICENSE_TEXT_MAX};
use crate::domain::license::{
    LicenseRequest, check_fingerprint, check_hostname, check_install_id, validate,
};
use crate::error::ErrorCode;
use crate::store::provisioning::{self as store, ProvisioningRow};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub const PROVISIONING_PREFIX: &str = "lprov_";

/// What each license made from the token looks like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    #[serde(default)]
    #[schema(schema_with = fields::organization)]
    pub organization: String,
    /// The customer organization each license belongs to (it must exist when the token
    /// is made; a license provisioned after the organization was deleted belongs to none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub organization_id: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    pub internal_users: u32,
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    pub external_users: u32,
    #[schema(schema_with = fields::duration_days)]
    pub duration_days: u32,
    #[serde(default)]
    #[schema(schema_with = fields::features)]
    pub features: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = fields::flags)]
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ProvisioningToken)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub template: Template,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub usable: bool,
}

fn view(r: ProvisioningRow, now: DateTime<Utc>) -> Result<TokenView> {
    let template: Template = serde_json::from_str(&r.template).map_err(|e| {
        ServiceError::internal(
            format!("provisioning token {} has an unreadable template", r.id),
            e,
        )
    })?;
    Ok(TokenView {
        usable: r.revoked_at.is_none()
            && r.uses < r.max_uses
            && r.expires_at.is_none_or(|e| e > now),
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        template,
        max_uses: r.max_uses,
        uses: r.uses,
        expires_at: r.expires_at,
        created_at: r.created_at,
        created_by: r.created_by,
        revoked_at: r.revoked_at,
    })
}

fn request_from(t: &Template, name: &str, install_id: &str, now: DateTime<Utc>) -> LicenseRequest {
    LicenseRequest {
        name: name.to_owned(),
        install_id: install_id.to_owned(),
        organization: t.organization.clone(),
        organization_id: t.organization_id,
        internal_users: t.internal_users,
        external_users: t.external_users,
        features: t.features.clone(),
        flags: t.flags.clone(),
        not_before: Some(now),
        expires_at: now + Duration::days(i64::from(t.duration_days)),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CreatedProvisioningToken)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The secret, shown once.
    pub secret: String,
}

pub fn create(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    name: &str,
    template: Template,
    max_uses: i64,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedToken> {
    let name = crate::domain::staff::check_token_name(name)?;
    if let Some(e) = expires_at {
        crate::domain::timestamp::check("expires_at", e)?;
    }
    if !(1..=fields::MAX_USES).contains(&max_uses) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("max_uses: must be between 1 and {}", fields::MAX_USES),
        ));
    }
    if !(1..=fields::DURATION_DAYS_MAX).contains(&template.duration_days) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!(
                "template.duration_days: must be between 1 and {}",
                fields::DURATION_DAYS_MAX
            ),
        ));
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "expires_at: must be in the future",
        ));
    }
    // The template must make valid licenses (checked with a stand-in Install ID).
    validate(&request_from(&template, &name, "template-check", now), now)
        .map_err(|e| refuse(ErrorCode::ValidationFailed, format!("template.{e}")))?;
    let secret = format!("{PROVISIONING_PREFIX}{}", secrets::new_secret()?);
    let prefix: String = secret.chars().take(PROVISIONING_PREFIX.len() + 6).collect();
    let text = serde_json::to_string(&template)
        .map_err(|e| ServiceError::internal("encoding a provisioning template", e))?;
    let row = tenant.db.write(|tx| {
        if let Some(org) = template.organization_id {
            super::licenses::organization(tx, org)?;
        }
        let id = store::insert(
            tx,
            &name,
            &prefix,
            &secrets::hash_secret(&secret),
            &text,
            max_uses,
            expires_at,
            &actor.audit_name(),
            now,
        )?;
        audit::record(
            tx,
            now,
            actor,
            "provisioning.create",
            &format!("provisioning:{id}"),
            json!({"name": name, "max_uses": max_uses, "template": template}),
        )?;
        store::find(tx, id)?
            .ok_or_else(|| ServiceError::unexpected("the new provisioning token vanished"))
    })?;
    Ok(CreatedToken {
        token: view(row, now)?,
        secret,
    })
}

pub fn list(tenant: &Tenant, now: DateTime<Utc>) -> Result<Vec<TokenView>> {
    tenant
        .db
        .read(store::list)?
        .into_iter()
        .map(|r| view(r, now))
        .collect()
}

pub fn revoke(tenant: &Tenant, now: DateTime<Utc>, actor: &Actor, id: i64) -> Result<TokenView> {
    let row = tenant.db.write(|tx| {
        let row = store::find(tx, id)?.ok_or_else(|| {
            refuse(
                ErrorCode::NotFound,
                format!("provisioning token {id} does not exist"),
            )
        })?;
        if store::revoke(tx, id, now)? > 0 {
            audit::record(
                tx,
                now,
                actor,
                "provisioning.revoke",
                &format!("provisioning:{id}"),
                json!({"name": row.name}),
            )?;
        }
        store::find(tx, id)?
            .ok_or_else(|| ServiceError::unexpected("the provisioning token vanished"))
    })?;
    view(row, now)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// The provisioning token (`lprov_...`).
    pub token: String,
    #[schema(schema_with = fields::install_id)]
    pub install_id: String,
    #[schema(schema_with = fields::fingerprint)]
    pub fingerprint: String,
    #[serde(default)]
    #[schema(schema_with = fields::hostname)]
    pub hostname: Option<String>,
    #[serde(default)]
    #[schema(schema_with = fields::provisioned_license_name)]
    pub name: Option<String>,
    /// A CSR (PEM) for a client certificate, as at activation.
    #[serde(default)]
    pub csr: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Provisioned {
    pub license_key: String,
    #[serde(flatten)]
    pub activation: Activated,
}

/// Issues a license from the token's template and activates it, in one transaction.
pub fn provision(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    req: &ProvisionRequest,
) -> Result<Provisioned> {
    let client_ca = app.client_cert_issuer();
    let sender = Sender::of(app, tenant)?;
    let invalid = || {
        refuse(
            ErrorCode::ProvisioningTokenInvalid,
            "the provisioning token is unknown, revoked, expired or used up",
        )
    };
    if !req.token.starts_with(PROVISIONING_PREFIX) {
        return Err(invalid());
    }
    let install_id = check_install_id(&req.install_id)?;
    let fingerprint = check_fingerprint(&req.fingerprint)?;
    let hostname = check_hostname(req.hostname.as_deref())?;
    let hash = secrets::hash_secret(&req.token);
    tenant.db.write(|tx| {
        let row = store::find_by_hash(tx, &hash)?.ok_or_else(invalid)?;
        let token = view(row, now)?;
        if !token.usable {
            return Err(invalid());
        }
        let name = req.name.clone().unwrap_or_else(|| match &hostname {
            // Shortened to what a license name may be: a long hostname is no error.
            Some(h) => format!("{} ({h})", token.name)
                .chars()
                .take(LICENSE_TEXT_MAX)
                .collect(),
            None => token.name.clone(),
        });
        let mut valid = validate(&request_from(&token.template, &name, &install_id, now), now)?;
        if let Some(org) = valid.organization_id
            && crate::store::organizations::find(tx, org)?.is_none()
        {
            valid.organization_id = None;
        }
        let actor = Actor::Appliance {
            fingerprint: fingerprint.clone(),
        };
        let (license, license_key) = issue_in_tx(tx, tenant, now, &actor, &valid, &sender)?;
        store::add_use(tx, token.id)?;
        audit::record(
            tx,
            now,
            &actor,
            "provisioning.redeem",
            &format!("provisioning:{}", token.id),
            json!({"license_id": license.id, "install_id": install_id}),
        )?;
        let csr = client_ca.as_deref().zip(req.csr.as_deref());
        let activation = activate_in_tx(
            tx,
            tenant,
            now,
            &license,
            &fingerprint,
            hostname.as_deref(),
            csr,
        )?;
        Ok(Provisioned {
            license_key,
            activation,
        })
    })
}
