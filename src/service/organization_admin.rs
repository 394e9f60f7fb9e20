//! Customer organizations, staff side (`orgs.manage`): find them by name or
//! notification address, look at one (members, pending invitations, licenses, a
//! deletion request), delete one (seed 000: deleting is not self-service; refused while
//! it has licenses that are neither revoked nor expired), and move a license to another
//! organization or to none. Customers' own side is `service::organizations`.

use super::license_facts;
use super::licenses::{self, LicenseView, load, view_in};
use super::tenant::Tenant;
use super::{Actor, Result, ServiceError, audit, refuse};
use crate::domain::lifecycle::LicenseState;
use crate::domain::organization::OrgRole;
use crate::error::ErrorCode;
use crate::store::invitations as invitation_store;
use crate::store::licenses::{self as license_store, Filter};
use crate::store::organizations::{self as store, OrganizationRow, OrganizationSummary};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Most organizations a search answers.
pub const SEARCH_MAX: i64 = 200;
/// Most licenses an organization's page lists.
pub const LICENSES_MAX: usize = 500;
/// Most organizations a select (issue a license, move one) offers.
pub const CHOICES_MAX: i64 = 500;

fn not_found(id: i64) -> ServiceError {
    refuse(
        ErrorCode::NotFound,
        format!("no organization has the id {id}"),
    )
}

fn target(id: i64) -> String {
    format!("organization:{id}")
}

/// An organization as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Organization)]
pub struct OrganizationView {
    pub id: i64,
    pub name: String,
    /// Where its license notices go.
    pub notification_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When an owner asked staff to delete it, and who (`customer:<email>`).
    pub deletion_requested_at: Option<DateTime<Utc>>,
    pub deletion_requested_by: Option<String>,
}

impl From<OrganizationRow> for OrganizationView {
    fn from(o: OrganizationRow) -> Self {
        OrganizationView {
            id: o.id,
            name: o.name,
            notification_email: o.notification_email,
            created_at: o.created_at,
            updated_at: o.updated_at,
            deletion_requested_at: o.deletion_requested_at,
            deletion_requested_by: o.deletion_requested_by,
        }
    }
}

/// An organization in a list, with its counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationSummary)]
pub struct SummaryView {
    #[serde(flatten)]
    pub organization: OrganizationView,
    pub members: i64,
    /// Its licenses, in any state.
    pub licenses: i64,
}

impl From<OrganizationSummary> for SummaryView {
    fn from(s: OrganizationSummary) -> Self {
        SummaryView {
            organization: s.org.into(),
            members: s.members,
            licenses: s.licenses,
        }
    }
}

/// Organizations whose name or notification email contains `q` (all when empty), by
/// name, at most `limit` (1 to `SEARCH_MAX`).
pub fn search(tenant: &Tenant, q: &str, limit: i64) -> Result<Vec<SummaryView>> {
    if !(1..=SEARCH_MAX).contains(&limit) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {SEARCH_MAX}"),
        ));
    }
    let q = crate::domain::free_text::line("q", q, 254, false)?;
    let rows = tenant.db.read(|tx| store::search(tx, &q, limit))?;
    Ok(rows.into_iter().map(SummaryView::from).collect())
}

/// An organization's id and name, for a select.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

/// Organizations by name (at most `CHOICES_MAX`), for the console's selects.
pub fn choices(tenant: &Tenant) -> Result<Vec<Choice>> {
    let rows = tenant.db.read(|tx| store::search(tx, "", CHOICES_MAX))?;
    Ok(rows
        .into_iter()
        .map(|s| Choice {
            id: s.org.id,
            name: s.org.name,
        })
        .collect())
}

/// The organization's name, if it exists (a license page names its organization).
pub fn name_of(tenant: &Tenant, id: i64) -> Result<Option<String>> {
    Ok(tenant.db.read(|tx| store::find(tx, id))?.map(|o| o.name))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationMember)]
pub struct MemberView {
    pub customer_id: i64,
    pub email: String,
    pub display_name: String,
    /// `owner` or `member`.
    #[schema(value_type = String)]
    pub role: OrgRole,
    pub since: DateTime<Utc>,
    /// A disabled customer account stays a member but cannot sign in.
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationInvitation)]
pub struct InvitationView {
    pub id: i64,
    pub email: String,
    #[schema(value_type = String)]
    pub role: OrgRole,
    /// Who invited (`customer:<email>` or `staff:<email>`).
    pub invited_by: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Past `expires_at`: the link no longer works until it is resent.
    pub expired: bool,
}

/// One of the organization's licenses.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationLicense)]
pub struct OrgLicenseView {
    pub id: String,
    pub name: String,
    pub install_id: String,
    /// The effective state now.
    pub state: LicenseState,
    pub internal_users: u32,
    pub external_users: u32,
    pub expires_at: DateTime<Utc>,
}

/// An organization with its members, pending invitations and licenses.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationDetail)]
pub struct Detail {
    #[serde(flatten)]
    pub organization: OrganizationView,
    /// Owners first, then by email.
    pub members: Vec<MemberView>,
    /// Newest first (expired ones too, marked).
    pub invitations: Vec<InvitationView>,
    /// Newest first, at most 500.
    pub licenses: Vec<OrgLicenseView>,
    /// How many of its licenses are neither revoked nor expired (deleting it is refused
    /// while any are).
    pub valid_licenses: i64,
}

pub fn detail(tenant: &Tenant, now: DateTime<Utc>, id: i64) -> Result<Detail> {
    tenant.db.read(|tx| {
        let org = store::find(tx, id)?.ok_or_else(|| not_found(id))?;
        let members = store::members(tx, id)?
            .into_iter()
            .map(|m| MemberView {
                customer_id: m.customer_id,
                email: m.email,
                display_name: m.display_name,
                role: m.role,
                since: m.since,
                disabled: m.disabled,
            })
            .collect();
        let invitations = invitation_store::pending(tx, id)?
            .into_iter()
            .map(|i| InvitationView {
                expired: i.expires_at <= now,
                id: i.id,
                email: i.email,
                role: i.role,
                invited_by: i.invited_by,
                sent_at: i.sent_at,
                expires_at: i.expires_at,
            })
            .collect();
        let filter = Filter {
            organization_id: Some(id),
            ..Default::default()
        };
        let licenses = license_store::list(tx, &filter, LICENSES_MAX)?
            .into_iter()
            .map(|l| OrgLicenseView {
                state: license_facts::settled(&l, tenant, now).state,
                id: l.id,
                name: l.name,
                install_id: l.install_id,
                internal_users: l.internal_users,
                external_users: l.external_users,
                expires_at: l.expires_at,
            })
            .collect();
        Ok(Detail {
            valid_licenses: license_store::valid_of_organization(tx, id, now)?,
            organization: org.into(),
            members,
            invitations,
            licenses,
        })
    })
}

/// What a deletion removed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DeletedOrganization)]
pub struct Deleted {
    pub id: i64,
    pub name: String,
    pub members_removed: usize,
    pub invitations_removed: usize,
    /// Its (revoked or expired) licenses, which now belong to no organization.
    pub licenses_detached: usize,
}

/// Deletes an organization with its memberships and invitations; its licenses (all
/// revoked or expired) are detached and kept. Refused with
/// `organization_has_valid_licenses` while any license of it is still valid.
pub fn delete(tenant: &Tenant, now: DateTime<Utc>, actor: &Actor, id: i64) -> Result<Deleted> {
    tenant.db.write(|tx| {
        let org = store::find(tx, id)?.ok_or_else(|| not_found(id))?;
        let valid = license_store::valid_of_organization(tx, id, now)?;
        if valid > 0 {
            let (n, them) = if valid == 1 {
                ("1 license".to_owned(), "it")
            } else {
                (format!("{valid} licenses"), "them")
            };
            return Err(refuse(
                ErrorCode::OrganizationHasValidLicenses,
                format!(
                    "{} still has {n} that {} neither revoked nor expired: revoke {them} or move {them} to another organization first",
                    org.name,
                    if valid == 1 { "is" } else { "are" }
                ),
            ));
        }
        let members_removed = store::members(tx, id)?.len();
        let invitations_removed = invitation_store::pending(tx, id)?.len();
        let licenses_detached = store::release_licenses(tx, id)?;
        store::delete(tx, id)?;
        audit::record(
            tx,
            now,
            actor,
            "organization.delete",
            &target(id),
            json!({
                "name": org.name, "notification_email": org.notification_email,
                "members_removed": members_removed, "invitations_removed": invitations_removed,
                "licenses_detached": licenses_detached,
                "deletion_requested_by": org.deletion_requested_by,
            }),
        )?;
        Ok(Deleted {
            id,
            name: org.name,
            members_removed,
            invitations_removed,
            licenses_detached,
        })
    })
}

/// Moves a license to the organization `to` names, or to none. The signed key keeps
/// its `org` text (as a renewal, change or reissue does); what moves is who sees it in
/// the portal and who is told about it. Audited as `license.organization_change`.
pub fn move_license(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license_id: &str,
    to: Option<i64>,
) -> Result<LicenseView> {
    if to.is_some_and(|id| id < 1) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "organization_id: must be an organization's id (1 or more), or null for none",
        ));
    }
    tenant.db.write(|tx| {
        let l = load(tx, license_id)?;
        let org = to.map(|id| licenses::organization(tx, id)).transpose()?;
        if l.organization_id != to {
            license_store::set_organization(tx, license_id, to)?;
            audit::record(
                tx,
                now,
                actor,
                "license.organization_change",
                &format!("license:{license_id}"),
                json!({
                    "from": l.organization_id, "to": to,
                    "to_name": org.as_ref().map(|o| o.name.clone()),
                }),
            )?;
        }
        view_in(tx, tenant, now, load(tx, license_id)?)
    })
}
