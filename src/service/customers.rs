//! Customer accounts as staff see them (`orgs.manage`): list and search, one account with
//! its organizations, disable and enable, email a password-reset link or the
//! verification link again. Every change is audited with the staff actor.

use super::portal_links::{self, LinkSent};
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, enterprise, refuse};
use crate::domain::customer::LinkPurpose;
use crate::error::ErrorCode;
use crate::store::customers::{self as store, CustomerRow};
use crate::store::{customer_links, customer_sessions, organizations};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A customer account as staff see it (never its password hash).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct CustomerView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// Whether the address is proven (a verification link, a password reset, or an
    /// accepted invitation).
    pub email_verified: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&CustomerRow> for CustomerView {
    fn from(c: &CustomerRow) -> Self {
        CustomerView {
            id: c.id,
            email: c.email.clone(),
            display_name: c.display_name.clone(),
            email_verified: c.email_verified_at.is_some(),
            email_verified_at: c.email_verified_at,
            disabled: c.disabled_at.is_some(),
            disabled_at: c.disabled_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One organization the customer belongs to, with its role there.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct CustomerMembership {
    pub organization_id: i64,
    pub name: String,
    /// `owner` or `member`.
    #[schema(value_type = String, example = "owner")]
    pub role: crate::domain::organization::OrgRole,
}

/// A customer account with its organizations.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerView,
    pub organizations: Vec<CustomerMembership>,
}

/// The most accounts a list shows.
pub const LIST_LIMIT: i64 = 500;

fn not_found(id: i64) -> ServiceError {
    refuse(
        ErrorCode::NotFound,
        format!("customer account {id} does not exist"),
    )
}

/// Accounts whose email contains `search` (all when empty), by email, at most `limit`
/// (1 to `LIST_LIMIT`).
pub fn list(tenant: &Tenant, search: &str, limit: i64) -> Result<Vec<CustomerView>> {
    let search = crate::domain::free_text::line("search", search, 254, false)?;
    let limit = limit.clamp(1, LIST_LIMIT);
    Ok(tenant
        .db
        .read(|tx| store::search(tx, &search, limit))?
        .iter()
        .map(CustomerView::from)
        .collect())
}

/// One account with its organizations.
pub fn show(tenant: &Tenant, id: i64) -> Result<CustomerDetail> {
    tenant.db.read(|tx| {
        let row = store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))?;
        let organizations = organizations::for_customer(tx, id)?
            .into_iter()
            .map(|(org, role)| CustomerMembership {
                organization_id: org.id,
                name: org.name,
                role,
            })
            .collect();
        Ok(CustomerDetail {
            customer: CustomerView::from(&row),
            organizations,
        })
    })
}

/// Disables or enables an account. Disabling ends its sessions and its unused links at
/// once (its memberships stay; a disabled account is not a licensed user). Nothing
/// changes (and nothing is audited) when it is already so.
pub fn set_disabled(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> Result<CustomerView> {
    let (row, changed) = tenant.db.write(|tx| {
        let row = store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))?;
        if row.disabled_at.is_some() == disabled {
            return Ok((row, false));
        }
        store::set_disabled(tx, id, disabled, now)?;
        let target = format!("customer:{id}");
        if disabled {
            let ended = customer_sessions::delete_for_customer(tx, id, None)?;
            let links = customer_links::delete_unused(tx, id, None)?;
            audit::record(
                tx,
                now,
                actor,
                "customer.disable",
                &target,
                json!({"email": row.email, "sessions_ended": ended, "links_ended": links}),
            )?;
        } else {
            audit::record(
                tx,
                now,
                actor,
                "customer.enable",
                &target,
                json!({"email": row.email}),
            )?;
        }
        let row = store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))?;
        Ok::<_, ServiceError>((row, true))
    })?;
    if changed {
        enterprise::refresh(tenant, now, actor)?;
    }
    Ok(CustomerView::from(&row))
}

/// Emails the account a password-reset link (the outbox message is named in the reply:
/// without SMTP, staff hand its link over by other means).
pub fn send_password_reset(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<LinkSent> {
    portal_links::send_by_staff(app, tenant, now, actor, id, LinkPurpose::ResetPassword)
}

/// Emails an unverified account its verification link again.
pub fn resend_verification(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<LinkSent> {
    portal_links::send_by_staff(app, tenant, now, actor, id, LinkPurpose::VerifyEmail)
}
