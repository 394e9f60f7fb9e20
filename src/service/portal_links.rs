//! The links licd emails customers: verify an address, reset a password. Each is a
//! random 256-bit token kept only as its SHA-256 (`customer_links`), single use, valid
//! for `portal.link_hours`; a new link of a purpose replaces the unused one. The email
//! is written to the outbox in the transaction that makes the link, and the link points
//! at the tenant's configured origin (`links::url`), never at a request's Host.
//!
//! Opening a link (`peek`) only shows a page with a button: the POST from it redeems
//! the link (`verify_email`, `reset_password`), so mail scanners that fetch links do not
//! use them up. The token travels in the query and the form body, which the request log
//! never records.

use super::email_body::{EmailContent, EmailLink};
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, links, outbox, refuse, secrets};
use crate::domain::customer::{self, LinkPurpose, LinkRefusal};
use crate::domain::staff;
use crate::error::{ErrorCode, Problem};
use crate::store::customer_links::{self as store, LinkRow};
use crate::store::customers::{self, CustomerRow};
use crate::store::{WriteTx, customer_sessions};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

/// Where a verification link opens (the token is its `token` query parameter).
pub const VERIFY_PATH: &str = "/portal/verify";
/// Where a password-reset link opens.
pub const RESET_PATH: &str = "/portal/password/reset";

/// A link that was emailed: the outbox message that carries it (staff read it there
/// when the site has no SMTP), its recipient and when it stops working.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LinkSent {
    pub outbox_id: i64,
    pub to: String,
    pub expires_at: DateTime<Utc>,
}

fn target(id: i64) -> String {
    format!("customer:{id}")
}

fn not_found(id: i64) -> ServiceError {
    refuse(
        ErrorCode::NotFound,
        format!("customer account {id} does not exist"),
    )
}

/// Makes a link of `purpose` for `customer` and writes its email to the outbox, in the
/// caller's transaction.
fn send(
    tx: &WriteTx<'_>,
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer: &CustomerRow,
    purpose: LinkPurpose,
) -> Result<LinkSent> {
    let portal = &app.config.portal;
    let hours = portal.link_hours;
    let token = secrets::new_secret()?;
    let expires_at = now + Duration::hours(i64::from(hours));
    store::replace(
        tx,
        &secrets::hash_secret(&token),
        customer.id,
        purpose,
        now,
        expires_at,
    )?;
    let product = &portal.product_name;
    let valid = format!("The link works once, for {hours} hours.");
    let (path, kind, subject, heading, paragraphs, label) = match purpose {
        LinkPurpose::VerifyEmail => (
            VERIFY_PATH,
            "verification",
            format!("Verify your email address for {product}"),
            "Verify your email address".to_owned(),
            vec![
                format!(
                    "Someone (we hope you) made an account with this address in the {product} customer portal."
                ),
                format!("Open the link below to confirm the address. {valid}"),
                "If it was not you, ignore this message: nothing happens without the link."
                    .to_owned(),
            ],
            "Verify email address",
        ),
        LinkPurpose::ResetPassword => (
            RESET_PATH,
            "password_reset",
            format!("Reset your {product} password"),
            "Reset your password".to_owned(),
            vec![
                format!(
                    "A new password was asked for your account in the {product} customer portal."
                ),
                format!(
                    "Open the link below to choose one. {valid} Choosing it signs you out everywhere."
                ),
                "If you did not ask for it, ignore this message: your password stays as it is."
                    .to_owned(),
            ],
            "Choose a new password",
        ),
    };
    let url = links::url(app, tenant, &format!("{path}?token={token}"))?;
    let content = EmailContent {
        kind: kind.into(),
        to: customer.email.clone(),
        subject,
        heading,
        paragraphs,
        link: Some(EmailLink {
            label: label.into(),
            url,
        }),
        dedupe_key: None,
    };
    let outbox_id = outbox::enqueue(tx, now, product, &content)?
        .ok_or_else(|| ServiceError::unexpected("a link's email was deduplicated"))?;
    Ok(LinkSent {
        outbox_id,
        to: customer.email.clone(),
        expires_at,
    })
}

/// Emails customer `customer_id` a verification link, inside the caller's transaction
/// (sign-up does it with the new account).
pub(super) fn send_verification(
    tx: &WriteTx<'_>,
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
) -> Result<LinkSent> {
    let customer = customers::find_by_id(tx, customer_id)?.ok_or_else(|| not_found(customer_id))?;
    send(tx, app, tenant, now, &customer, LinkPurpose::VerifyEmail)
}

fn too_soon(seconds: u64) -> ServiceError {
    ServiceError::Refused(Problem {
        code: ErrorCode::TooManyAttempts,
        detail: format!("a link was sent less than a minute ago; try again in {seconds} seconds"),
        retry_after: Some(seconds),
    })
}

/// The signed-in customer asks for its verification link again (at most once a
/// minute). Nothing to do when it is verified already.
pub fn resend_verification(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    customer_id: i64,
) -> Result<Option<LinkSent>> {
    tenant.db.write(|tx| {
        let customer =
            customers::find_by_id(tx, customer_id)?.ok_or_else(|| not_found(customer_id))?;
        if customer.email_verified_at.is_some() {
            return Ok(None);
        }
        let last = store::latest(tx, customer.id, LinkPurpose::VerifyEmail)?;
        customer::may_resend(last.map(|l| l.created_at), now).map_err(too_soon)?;
        let sent = send(tx, app, tenant, now, &customer, LinkPurpose::VerifyEmail)?;
        audit::record(
            tx,
            now,
            actor,
            "customer.verification_sent",
            &target(customer.id),
            json!({"outbox_id": sent.outbox_id}),
        )?;
        Ok(Some(sent))
    })
}

/// Someone asks for a password-reset link for `email`. The answer is the same whether
/// or not an account has that address (only a malformed address is refused): a link is
/// emailed when an enabled account has it and none was sent in the last minute.
pub fn request_password_reset(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    email: &str,
) -> Result<()> {
    let email = staff::normalize_email(email)?;
    tenant.db.write(|tx| {
        let Some(customer) = customers::find_by_email(tx, &email)? else {
            return Ok(());
        };
        if customer.disabled_at.is_some() {
            return Ok(());
        }
        let last = store::latest(tx, customer.id, LinkPurpose::ResetPassword)?;
        if customer::may_resend(last.map(|l| l.created_at), now).is_err() {
            return Ok(());
        }
        let sent = send(tx, app, tenant, now, &customer, LinkPurpose::ResetPassword)?;
        audit::record(
            tx,
            now,
            &Actor::Anonymous,
            "customer.password_reset_requested",
            &target(customer.id),
            json!({"outbox_id": sent.outbox_id}),
        )
    })
}

/// Staff email a customer a link (reset, or verification again): refused for a
/// disabled account (enable it first) and, for verification, an account verified
/// already. Audited with the staff actor.
pub fn send_by_staff(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    customer_id: i64,
    purpose: LinkPurpose,
) -> Result<LinkSent> {
    tenant.db.write(|tx| {
        let customer =
            customers::find_by_id(tx, customer_id)?.ok_or_else(|| not_found(customer_id))?;
        if customer.disabled_at.is_some() {
            return Err(refuse(
                ErrorCode::AccountDisabled,
                format!("{} is disabled: enable the account first", customer.email),
            ));
        }
        let action = match purpose {
            LinkPurpose::VerifyEmail if customer.email_verified_at.is_some() => {
                return Err(refuse(
                    ErrorCode::EmailAlreadyVerified,
                    format!("{} has verified its address already", customer.email),
                ));
            }
            LinkPurpose::VerifyEmail => "customer.verification_sent",
            LinkPurpose::ResetPassword => "customer.password_reset_sent",
        };
        let sent = send(tx, app, tenant, now, &customer, purpose)?;
        audit::record(
            tx,
            now,
            actor,
            action,
            &target(customer.id),
            json!({"outbox_id": sent.outbox_id}),
        )?;
        Ok(sent)
    })
}

/// What the page a link opens says about it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PendingLink {
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

fn link_problem(r: LinkRefusal) -> ServiceError {
    match r {
        LinkRefusal::Used => refuse(
            ErrorCode::EmailLinkInvalid,
            "this link was used already; links work once",
        ),
        LinkRefusal::Expired => refuse(
            ErrorCode::EmailLinkExpired,
            "this link has expired; ask for a new one",
        ),
    }
}

/// The link behind `token` with its (enabled) account, if it is of `purpose` and still
/// works. An unknown token, one of another purpose or of a disabled account are all
/// `email_link_invalid`.
fn usable(
    tx: &crate::store::ReadTx<'_>,
    token: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> Result<(LinkRow, CustomerRow)> {
    let invalid = || {
        refuse(
            ErrorCode::EmailLinkInvalid,
            "this link is not valid here: check that it was copied whole, or ask for a new one",
        )
    };
    let link = store::find_by_token(tx, &secrets::hash_secret(token.trim()))?
        .filter(|l| l.purpose == purpose)
        .ok_or_else(invalid)?;
    let customer = customers::find_by_id(tx, link.customer_id)?
        .filter(|c| c.disabled_at.is_none())
        .ok_or_else(invalid)?;
    customer::link_usable(link.expires_at, link.used_at, now).map_err(link_problem)?;
    Ok((link, customer))
}

/// Checks a link without using it (the page it opens).
pub fn peek(
    tenant: &Tenant,
    now: DateTime<Utc>,
    token: &str,
    purpose: LinkPurpose,
) -> Result<PendingLink> {
    let (link, customer) = tenant.db.read(|tx| usable(tx, token, purpose, now))?;
    Ok(PendingLink {
        email: customer.email,
        expires_at: link.expires_at,
    })
}

/// The account a link was redeemed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub customer_id: i64,
    pub email: String,
}

/// Redeems a verification link: the address is proven, the link used up.
pub fn verify_email(tenant: &Tenant, now: DateTime<Utc>, token: &str) -> Result<Redeemed> {
    tenant.db.write(|tx| {
        let (link, customer) = usable(tx, token, LinkPurpose::VerifyEmail, now)?;
        if !store::mark_used(tx, link.id, now)? {
            return Err(link_problem(LinkRefusal::Used));
        }
        customers::mark_verified(tx, customer.id, now)?;
        audit::record(
            tx,
            now,
            &Actor::Customer {
                id: customer.id,
                email: customer.email.clone(),
            },
            "customer.email_verified",
            &target(customer.id),
            json!({}),
        )?;
        Ok(Redeemed {
            customer_id: customer.id,
            email: customer.email,
        })
    })
}

/// Redeems a password-reset link with the new password: the password is set, every
/// session of the account ends, the link is used up. The link proves the address too,
/// so an unverified account becomes verified. Hashes: run it on the password workers.
pub fn reset_password(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    token: &str,
    new_password: &str,
) -> Result<Redeemed> {
    let (_, customer) = tenant
        .db
        .read(|tx| usable(tx, token, LinkPurpose::ResetPassword, now))?;
    staff::check_password(
        new_password,
        &customer.email,
        app.config.auth.min_password_length,
    )?;
    let hash = secrets::hash_password(new_password)?;
    tenant.db.write(|tx| {
        // Checked again: the link may have been used while the password was hashed.
        let (link, customer) = usable(tx, token, LinkPurpose::ResetPassword, now)?;
        if !store::mark_used(tx, link.id, now)? {
            return Err(link_problem(LinkRefusal::Used));
        }
        customers::set_password(tx, customer.id, &hash, now)?;
        let verified = customers::mark_verified(tx, customer.id, now)?;
        let ended = customer_sessions::delete_for_customer(tx, customer.id, None)?;
        store::delete_unused(tx, customer.id, Some(LinkPurpose::ResetPassword))?;
        audit::record(
            tx,
            now,
            &Actor::Customer {
                id: customer.id,
                email: customer.email.clone(),
            },
            "customer.password_reset",
            &target(customer.id),
            json!({"sessions_ended": ended, "verified_now": verified}),
        )?;
        Ok(Redeemed {
            customer_id: customer.id,
            email: customer.email,
        })
    })
}
