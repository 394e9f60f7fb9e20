//! Invitations to an organization (seed 000): an owner invites an address with a role;
//! the message with the link goes through the outbox in the same transaction; the
//! invited person accepts by opening the link, signed in with that address or signing up
//! with it. The token is random, stored as its SHA-256, single use, valid for
//! `portal.invitation_days`, and bound to the invited address. Accepting adds the member
//! in the same transaction that consumes the token.

use super::organizations::{CustomerActor, membership, ownership, target};
use super::tenant::Tenant;
use super::{
    App, Result, ServiceError, audit, email_body, links, outbox, portal_auth, refuse, secrets,
};
use crate::domain::organization::OrgRole;
use crate::domain::staff::normalize_email;
use crate::error::{ErrorCode, Problem};
use crate::store::invitations::{self as store, InvitationRow, InvitationState, NewInvitation};
use crate::store::organizations::{self as orgs, OrganizationRow};
use crate::store::{ReadTx, WriteTx};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// The least time between two sends of one invitation.
pub const RESEND_INTERVAL: Duration = Duration::minutes(1);
/// The most times one invitation is sent (the first send included).
pub const MAX_SENDS: i64 = 5;

/// The path invitation links open (the token follows in the query, which the request
/// log never records).
pub const ACCEPT_PATH: &str = "/portal/invitation";

fn lifetime(app: &App) -> Duration {
    Duration::days(i64::from(app.config.portal.invitation_days))
}

/// Who is acting on an organization's invitations: its owner in the portal, or staff.
fn inviter(by: &CustomerActor) -> String {
    by.actor().audit_name()
}

/// What an invitation email says: to whom, as what, until when, from whom, and the
/// token its link carries.
#[derive(Clone, Copy)]
struct Message<'a> {
    email: &'a str,
    role: OrgRole,
    expires_at: DateTime<Utc>,
    by: &'a str,
    token: &'a str,
}

/// Writes the invitation email into the outbox.
fn enqueue_message(
    app: &App,
    tenant: &Tenant,
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    org: &OrganizationRow,
    m: &Message<'_>,
) -> Result<()> {
    let Message {
        email,
        role,
        expires_at,
        by,
        token,
    } = *m;
    let product = &app.config.portal.product_name;
    let url = links::url(app, tenant, &format!("{ACCEPT_PATH}?token={token}"))?;
    let content = email_body::EmailContent {
        kind: "invitation".into(),
        to: email.to_owned(),
        subject: format!("You are invited to {} on {product}", org.name),
        heading: format!("Join {} on {product}", org.name),
        paragraphs: vec![
            format!(
                "{by} invited you to the organization {} as {}. Members see the \
                 organization's licenses and their keys{}.",
                org.name,
                if role == OrgRole::Owner {
                    "an owner"
                } else {
                    "a member"
                },
                if role == OrgRole::Owner {
                    "; owners also manage its members"
                } else {
                    ""
                }
            ),
            format!(
                "Open the link to accept. It works once, for {email} only, until {}.",
                expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
            "If you did not expect this, ignore this message.".to_owned(),
        ],
        link: Some(email_body::EmailLink {
            label: "Accept the invitation".into(),
            url,
        }),
        dedupe_key: None,
    };
    outbox::enqueue(tx, now, product, &content)?;
    Ok(())
}

/// An owner invites `email` with `role`. Refused when the address belongs to a member
/// already (`already_member`) or has a pending invitation (`invitation_pending`: resend
/// that one).
pub fn invite(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    email: &str,
    role: OrgRole,
) -> Result<i64> {
    let email = normalize_email(email)?;
    let token = secrets::new_secret()?;
    let expires_at = now + lifetime(app);
    tenant.db.write(|tx| {
        let org = ownership(tx, org_id, by.id)?;
        if orgs::members(tx, org_id)?
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(&email))
        {
            return Err(refuse(
                ErrorCode::AlreadyMember,
                format!("{email} is a member of {} already", org.name),
            ));
        }
        let new = NewInvitation {
            organization_id: org_id,
            email: &email,
            role,
            token_hash: &secrets::hash_secret(&token),
            invited_by: &inviter(by),
            expires_at,
        };
        let id = store::insert(tx, &new, now)?.ok_or_else(|| {
            refuse(
                ErrorCode::InvitationPending,
                format!("{email} has a pending invitation already: resend it instead"),
            )
        })?;
        let m = Message {
            email: &email,
            role,
            expires_at,
            by: &by.email,
            token: &token,
        };
        enqueue_message(app, tenant, tx, now, &org, &m)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "invitation.create",
            &target(org_id),
            json!({"invitation_id": id, "email": email, "role": role, "expires_at": crate::store::ts(expires_at)}),
        )?;
        Ok(id)
    })
}

/// The pending invitation `id` of `org_id`, or `not_found`.
fn pending_of(tx: &ReadTx<'_>, org_id: i64, id: i64) -> Result<InvitationRow> {
    store::find(tx, id)?
        .filter(|i| i.organization_id == org_id && i.state == InvitationState::Pending)
        .ok_or_else(|| refuse(ErrorCode::NotFound, "no such pending invitation"))
}

/// An owner sends a pending invitation again: a new token (the old link stops working)
/// and a new expiry. At most `MAX_SENDS` sends, one per `RESEND_INTERVAL`.
pub fn resend(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
) -> Result<()> {
    let token = secrets::new_secret()?;
    let expires_at = now + lifetime(app);
    tenant.db.write(|tx| {
        let org = ownership(tx, org_id, by.id)?;
        let inv = pending_of(tx, org_id, id)?;
        if inv.sends >= MAX_SENDS {
            return Err(refuse(
                ErrorCode::TooManyAttempts,
                format!("this invitation was sent {MAX_SENDS} times; revoke it and invite again"),
            ));
        }
        let wait = inv.sent_at + RESEND_INTERVAL - now;
        if wait > Duration::zero() {
            let seconds = u64::try_from(wait.num_seconds().max(1)).unwrap_or(60);
            return Err(ServiceError::Refused(Problem {
                code: ErrorCode::TooManyAttempts,
                detail: format!("this invitation was just sent; try again in {seconds} seconds"),
                retry_after: Some(seconds),
            }));
        }
        store::rotate(tx, id, &secrets::hash_secret(&token), now, expires_at)?;
        let m = Message {
            email: &inv.email,
            role: inv.role,
            expires_at,
            by: &by.email,
            token: &token,
        };
        enqueue_message(app, tenant, tx, now, &org, &m)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "invitation.resend",
            &target(org_id),
            json!({"invitation_id": id, "email": inv.email, "sends": inv.sends + 1}),
        )
    })
}

/// An owner revokes a pending invitation: its link stops working.
pub fn revoke(
    tenant: &Tenant,
    now: DateTime<Utc>,
    by: &CustomerActor,
    org_id: i64,
    id: i64,
) -> Result<()> {
    tenant.db.write(|tx| {
        ownership(tx, org_id, by.id)?;
        let inv = pending_of(tx, org_id, id)?;
        store::close(tx, id, InvitationState::Revoked, None, now)?;
        audit::record(
            tx,
            now,
            &by.actor(),
            "invitation.revoke",
            &target(org_id),
            json!({"invitation_id": id, "email": inv.email}),
        )
    })
}

/// What an invitation link leads to, for the page that asks to accept it.
#[derive(Debug, Clone)]
pub struct InvitationPreview {
    pub invitation: InvitationRow,
    pub organization: OrganizationRow,
}

/// The live invitation behind `token`: `invitation_invalid` when unknown, used or
/// revoked, `invitation_expired` when expired.
fn live(tx: &ReadTx<'_>, token: &str, now: DateTime<Utc>) -> Result<InvitationPreview> {
    let invalid = || {
        refuse(
            ErrorCode::InvitationInvalid,
            "this invitation link is not valid: it was used already, revoked, or mistyped",
        )
    };
    let inv = store::find_by_token(tx, &secrets::hash_secret(token.trim()))?
        .filter(|i| i.state == InvitationState::Pending)
        .ok_or_else(invalid)?;
    if inv.expires_at <= now {
        return Err(refuse(
            ErrorCode::InvitationExpired,
            "this invitation has expired; ask an owner of the organization to send it again",
        ));
    }
    let organization = orgs::find(tx, inv.organization_id)?.ok_or_else(invalid)?;
    Ok(InvitationPreview {
        invitation: inv,
        organization,
    })
}

/// The invitation a link carries, if it can still be accepted.
pub fn preview(tenant: &Tenant, now: DateTime<Utc>, token: &str) -> Result<InvitationPreview> {
    tenant.db.read(|tx| live(tx, token, now))
}

/// Consumes the invitation and adds `customer` as a member, in the caller's transaction.
/// The customer's address must be the invited one (`invitation_wrong_account`).
pub(super) fn accept_in(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    token: &str,
    customer: &CustomerActor,
) -> Result<i64> {
    let p = live(tx, token, now)?;
    let inv = p.invitation;
    if !inv.email.eq_ignore_ascii_case(&customer.email) {
        return Err(refuse(
            ErrorCode::InvitationWrongAccount,
            format!(
                "this invitation is for {}, and you are signed in as {}: sign out and sign in \
                 (or sign up) as {}",
                inv.email, customer.email, inv.email
            ),
        ));
    }
    if !store::close(
        tx,
        inv.id,
        InvitationState::Accepted,
        Some(customer.id),
        now,
    )? {
        return Err(refuse(
            ErrorCode::InvitationInvalid,
            "this invitation was used already",
        ));
    }
    let joined = orgs::add_member(tx, inv.organization_id, customer.id, inv.role, now)?;
    audit::record(
        tx,
        now,
        &customer.actor(),
        "invitation.accept",
        &target(inv.organization_id),
        json!({"invitation_id": inv.id, "role": inv.role, "already_member": !joined}),
    )?;
    Ok(inv.organization_id)
}

/// A signed-in customer accepts the invitation behind `token`; returns the organization.
pub fn accept(
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer: &CustomerActor,
    token: &str,
) -> Result<i64> {
    tenant.db.write(|tx| accept_in(tx, now, token, customer))
}

/// Whether the customer belongs to the organization (for pages that link onwards).
pub fn is_member(tenant: &Tenant, customer_id: i64, org_id: i64) -> Result<bool> {
    tenant
        .db
        .read(|tx| match membership(tx, org_id, customer_id) {
            Ok(_) => Ok(true),
            Err(ServiceError::Refused(p)) if p.code == ErrorCode::NotFound => Ok(false),
            Err(e) => Err(e),
        })
}

/// Whether a customer account has this address (the invitation page then asks its
/// holder to sign in rather than sign up).
pub fn account_exists(tenant: &Tenant, email: &str) -> Result<bool> {
    Ok(tenant
        .db
        .read(|tx| crate::store::customers::find_by_email(tx, email))?
        .is_some())
}

/// Someone without an account accepts the invitation behind `token`: an account for
/// the invited address is created (verified: the link proves the address), the
/// invitation consumed, the membership added and a session opened, all in one
/// transaction. Hashes a password: run it on the password workers. Refused with
/// `customer_exists` when the address has an account (sign in instead).
pub fn accept_as_new(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    token: &str,
    display_name: &str,
    password: &str,
    address: &str,
) -> Result<(portal_auth::NewCustomerSession, i64)> {
    let email = preview(tenant, now, token)?.invitation.email;
    let hash = portal_auth::hash_new_password(app, &email, password)?;
    let (session, org_id) = tenant.db.write(|tx| {
        let id = portal_auth::create_customer(tx, now, &email, display_name, &hash, true)?;
        let me = CustomerActor {
            id,
            email: email.clone(),
        };
        let org_id = accept_in(tx, now, token, &me)?;
        let session = portal_auth::open_session_in(tx, app, tenant, now, id, address)?;
        Ok::<_, ServiceError>((session, org_id))
    })?;
    super::enterprise::refresh(tenant, now, &session.principal.actor())?;
    Ok((session, org_id))
}
