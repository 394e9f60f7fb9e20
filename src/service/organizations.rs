//! Organizations as their customers use them in the portal (seed 000): create one (its
//! creator becomes its owner), list one's own, view one (members see its licenses and
//! keys), edit it, manage who belongs to it, leave it, and ask staff to delete it.
//! Invitations are in `service::invitations`.
//!
//! Visibility: an organization the customer does not belong to is `not_found`, never
//! `forbidden`, so its existence does not leak. A member asking for an owner's action
//! gets `organization_owner_required`. The last owner cannot be removed, demoted or
//! leave (`last_owner`), whatever the page offered.

use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, outbox, refuse};
use crate::domain::organization::{self, OrgRole};
use crate::domain::permissions::{Permission, Role};
use crate::error::ErrorCode;
use crate::store::invitations::{self as invitation_store, InvitationRow};
use crate::store::licenses::{self as license_store, Filter, LicenseRow};
use crate::store::organizations::{self as store, Member, OrganizationRow};
use crate::store::{ReadTx, WriteTx, license_keys};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The customer acting in the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerActor {
    pub id: i64,
    pub email: String,
}

impl From<&super::portal_auth::CustomerPrincipal> for CustomerActor {
    fn from(p: &super::portal_auth::CustomerPrincipal) -> Self {
        CustomerActor {
            id: p.customer.id,
            email: p.customer.email.clone(),
        }
    }
}

impl CustomerActor {
    pub fn actor(&self) -> Actor {
        Actor::Customer {
            id: self.id,
            email: self.email.clone(),
        }
    }
}

/// The most licenses an organization page lists.
pub const LICENSE_LIMIT: usize = 500;

fn not_found() -> ServiceError {
    refuse(ErrorCode::NotFound, "no such organization")
}

/// The organization and the customer's role in it; `not_found` when they do not
/// belong to it (or it does not exist).
pub(super) fn membership(
    tx: &ReadTx<'_>,
    org_id: i64,
    customer_id: i64,
) -> Result<(OrganizationRow, OrgRole)> {
    let role = store::role_of(tx, org_id, customer_id)?.ok_or_else(not_found)?;
    let org = store::find(tx, org_id)?.ok_or_else(not_found)?;
    Ok((org, role))
}

/// Like `membership`, but the customer must be an owner.
pub(super) fn ownership(tx: &ReadTx<'_>, org_id: i64, customer_id: i64) -> Result<OrganizationRow> {
    let (org, role) = membership(tx, org_id, customer_id)?;
    if !role.manages() {
        return Err(refuse(
            ErrorCode::OrganizationOwnerRequired,
            "only an owner of this organization can do this",
        ));
    }
    Ok(org)
}

/// The customer's organizations with their role, by name.
pub fn mine(tenant: &Tenant, customer_id: i64) -> Result<Vec<(Organization, OrgRole)>> {
    Ok(tenant
        .db
        .read(|tx| store::for_customer(tx, customer_id))?
        .into_iter()
        .map(|(o, role)| (o.into(), role))
        .collect())
}

/// Creates an organization; its creator becomes its owner.
pub fn create(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    name: &str,
    notification_email: &str,
) -> Result<i64> {
    let d = organization::check_details(name, notification_email)?;
    tenant.db.write(|tx| {
        let id = store::insert(tx, &d.name, &d.notification_email, now)?;
        store::add_member(tx, id, by.id, OrgRole::Owner, now)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.create",
            &target(id),
            json!({"name": d.name, "notification_email": d.notification_email}),
        )?;
        Ok(id)
    })
}

pub(super) fn target(org_id: i64) -> String {
    format!("organization:{org_id}")
}

/// A license as the portal shows it to the organization's members.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PortalLicense {
    pub id: String,
    pub name: String,
    pub install_id: String,
    pub internal_users: u32,
    pub external_users: u32,
    pub state: crate::domain::lifecycle::LicenseState,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Only on the license's own page.
    pub license_key: Option<String>,
}

impl PortalLicense {
    fn of(l: LicenseRow, license_key: Option<String>) -> PortalLicense {
        PortalLicense {
            license_key,
            id: l.id,
            name: l.name,
            install_id: l.install_id,
            internal_users: l.internal_users,
            external_users: l.external_users,
            state: l.state,
            not_before: l.not_before,
            expires_at: l.expires_at,
        }
    }
}

/// An organization as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub notification_email: String,
    /// When an owner asked staff to delete it.
    pub deletion_requested_at: Option<DateTime<Utc>>,
}

impl From<OrganizationRow> for Organization {
    fn from(o: OrganizationRow) -> Self {
        Organization {
            id: o.id,
            name: o.name,
            notification_email: o.notification_email,
            deletion_requested_at: o.deletion_requested_at,
        }
    }
}

/// A member as the organization page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub customer_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: OrgRole,
    pub since: DateTime<Utc>,
    pub disabled: bool,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            customer_id: m.customer_id,
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            since: m.since,
            disabled: m.disabled,
        }
    }
}

/// A pending invitation as owners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub id: i64,
    pub email: String,
    pub role: OrgRole,
    /// `customer:<email>` or `staff:<email>`.
    pub invited_by: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<InvitationRow> for PendingInvitation {
    fn from(i: InvitationRow) -> Self {
        PendingInvitation {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            sent_at: i.sent_at,
            expires_at: i.expires_at,
        }
    }
}

/// What a member sees of an organization.
#[derive(Debug, Clone)]
pub struct OrganizationView {
    pub org: Organization,
    /// The viewer's role.
    pub role: OrgRole,
    pub members: Vec<MemberView>,
    /// Pending invitations (owners only; empty for members).
    pub invitations: Vec<PendingInvitation>,
    pub licenses: Vec<PortalLicense>,
}

/// The organization page: `not_found` unless the customer belongs to it.
pub fn view(tenant: &Tenant, customer_id: i64, org_id: i64) -> Result<OrganizationView> {
    tenant.db.read(|tx| {
        let (org, role) = membership(tx, org_id, customer_id)?;
        let invitations = if role.manages() {
            invitation_store::pending(tx, org_id)?
                .into_iter()
                .map(PendingInvitation::from)
                .collect()
        } else {
            Vec::new()
        };
        Ok(OrganizationView {
            members: store::members(tx, org_id)?
                .into_iter()
                .map(MemberView::from)
                .collect(),
            licenses: licenses_of(tx, org_id)?,
            invitations,
            org: org.into(),
            role,
        })
    })
}

fn licenses_of(tx: &ReadTx<'_>, org_id: i64) -> Result<Vec<PortalLicense>> {
    let filter = Filter {
        organization_id: Some(org_id),
        ..Filter::default()
    };
    Ok(license_store::list(tx, &filter, LICENSE_LIMIT)?
        .into_iter()
        .map(|l| PortalLicense::of(l, None))
        .collect())
}

/// One license of the organization, key included: `not_found` unless the customer
/// belongs to the organization and the license to it.
pub fn license(
    tenant: &Tenant,
    customer_id: i64,
    org_id: i64,
    license_id: &str,
) -> Result<(Organization, PortalLicense)> {
    tenant.db.read(|tx| {
        let (org, _) = membership(tx, org_id, customer_id)?;
        let in_org = |l: &LicenseRow| {
            license_store::organization_of(tx, &l.id).is_ok_and(|o| o == Some(org_id))
        };
        let l = license_store::find(tx, license_id)?
            .filter(in_org)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such license"))?;
        let key = license_keys::current(tx, &l.id)?;
        Ok((org.into(), PortalLicense::of(l, Some(key))))
    })
}

/// An owner edits the organization's name and notification email.
pub fn edit(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    name: &str,
    notification_email: &str,
) -> Result<()> {
    let d = organization::check_details(name, notification_email)?;
    tenant.db.write(|tx| {
        let before = ownership(tx, org_id, by.id)?;
        store::update(tx, org_id, &d.name, &d.notification_email, now)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.update",
            &target(org_id),
            json!({
                "name": d.name, "notification_email": d.notification_email,
                "previous_name": before.name, "previous_notification_email": before.notification_email,
            }),
        )
    })
}

/// The member `customer_id` of `org_id`, or `not_found`.
fn member(tx: &ReadTx<'_>, org_id: i64, customer_id: i64) -> Result<Member> {
    store::members(tx, org_id)?
        .into_iter()
        .find(|m| m.customer_id == customer_id)
        .ok_or_else(|| refuse(ErrorCode::NotFound, "no such member"))
}

fn refuse_last_owner(tx: &ReadTx<'_>, org_id: i64, what: &str) -> Result<()> {
    if organization::leaves_no_owner(store::owners(tx, org_id)?, 1) {
        return Err(refuse(
            ErrorCode::LastOwner,
            format!(
                "{what}: an organization needs an owner; make another member owner first \
                 (Transfer ownership)"
            ),
        ));
    }
    Ok(())
}

/// An owner removes a member (themselves included, like leaving).
pub fn remove_member(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    customer_id: i64,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        let m = member(tx, org_id, customer_id)?;
        if m.role == OrgRole::Owner {
            refuse_last_owner(tx, org_id, "the last owner cannot be removed")?;
        }
        store::remove_member(tx, org_id, customer_id)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.member_remove",
            &target(org_id),
            json!({"customer_id": customer_id, "email": m.email, "role": m.role}),
        )
    })
}

/// An owner changes a member's role.
pub fn change_role(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    customer_id: i64,
    role: OrgRole,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        let m = member(tx, org_id, customer_id)?;
        if m.role == role {
            return Ok(());
        }
        if m.role == OrgRole::Owner {
            refuse_last_owner(tx, org_id, "the last owner cannot be made a member")?;
        }
        store::set_role(tx, org_id, customer_id, role)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.role_change",
            &target(org_id),
            json!({"customer_id": customer_id, "email": m.email, "from": m.role, "to": role}),
        )
    })
}

/// An owner hands ownership to another member: they become owner, the owner a member
/// (one explicit action, so the organization is never without an owner).
pub fn transfer_ownership(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    to_customer: i64,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        if to_customer == by.id {
            return Err(refuse(
                ErrorCode::ValidationFailed,
                "member: choose another member to hand ownership to",
            ));
        }
        let m = member(tx, org_id, to_customer)?;
        store::set_role(tx, org_id, to_customer, OrgRole::Owner)?;
        store::set_role(tx, org_id, by.id, OrgRole::Member)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.ownership_transfer",
            &target(org_id),
            json!({"to_customer_id": to_customer, "to_email": m.email}),
        )
    })
}

/// A member leaves the organization (the last owner cannot).
pub fn leave(tenant: &Tenant, now: DateTime<Utc>, by: &CustomerActor, org_id: i64) -> Result<()> {
    tenant.db.write(|tx| {
        let (_, role) = membership(tx, org_id, by.id)?;
        if role == OrgRole::Owner {
            refuse_last_owner(tx, org_id, "the last owner cannot leave")?;
        }
        store::remove_member(tx, org_id, by.id)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.leave",
            &target(org_id),
            json!({"role": role}),
        )
    })
}

/// An owner asks staff to delete the organization (seed 000: not self-service). Staff
/// who can act on it (`orgs.manage`, enabled persons) are emailed once per request.
pub fn request_deletion(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    reason: &str,
) -> Result<()> {
    let reason = crate::domain::free_text::lines("reason", reason, 2000, false)?;
    let console = super::links::url(app, tenant, &format!("/customers/organizations/{org_id}"))?;
    let product = app.config.portal.product_name.clone();
    tenant.db.write(|tx| {
        let org = ownership(tx, org_id, by.id)?;
        store::request_deletion(tx, org_id, &by.actor().audit_name(), now)?;
        for to in staff_who_manage_orgs(tx)? {
            let content = super::email_body::EmailContent {
                kind: "deletion_request".into(),
                to,
                subject: format!("Deletion requested: {}", org.name),
                heading: format!("{} asks to delete {}", by.email, org.name),
                paragraphs: vec![
                    format!(
                        "An owner of the organization {} asked for it to be deleted.",
                        org.name
                    ),
                    if reason.is_empty() {
                        "They gave no reason.".to_owned()
                    } else {
                        format!("Their reason: {reason}")
                    },
                    "Deleting it is refused while it has valid licenses: revoke them or move \
                     them to another organization first."
                        .to_owned(),
                ],
                link: Some(super::email_body::EmailLink {
                    label: "Open the organization".into(),
                    url: console.clone(),
                }),
                dedupe_key: Some(format!("org:{org_id}:deletion:{}", crate::store::ts(now))),
            };
            outbox::enqueue(tx, now, &product, &content)?;
        }
        audit::record(
            tx,
            now,
            &by.actor(),
            "organization.deletion_request",
            &target(org_id),
            json!({"reason": reason}),
        )
    })
}

/// The addresses of enabled staff whose role holds `orgs.manage`.
fn staff_who_manage_orgs(tx: &WriteTx<'_>) -> Result<Vec<String>> {
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.can(Permission::OrgsManage))
        .collect();
    Ok(crate::store::staff::enabled_with_roles(tx, &roles)?)
}
