//! Customers, the portal's principal (seed 000): signing up, in and out, recognising a
//! portal session, changing one's own password and name. Customers are not staff: their
//! own table, sessions and cookie, and throttle keys prefixed `customer:` so that their
//! failed sign-ins and staff's never share a counter. Passwords follow the staff rules
//! (`domain::staff::check_password`, argon2id via `secrets`, hashed on the password
//! workers). An account whose address is not verified may sign in, but the portal shows
//! it only the "check your email" page until it is (`verified`). The emailed links
//! (verification, password reset) are `service::portal_links`.

use super::auth::{self, SignIn, SignInKind, too_many};
use super::portal_links;
use super::tenant::Tenant;
use super::throttle::Scope;
use super::{Actor, App, Result, ServiceError, audit, enterprise, refuse, secrets};
use crate::config::Signup;
use crate::domain::{staff, throttle};
use crate::error::ErrorCode;
use crate::store::customers::{self as store, CustomerRow, NewCustomer};
use crate::store::{WriteTx, customer_sessions};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::net::IpAddr;

/// A customer as a request carries it: who it is, never its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerIdentity {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// Whether the address is proven (nothing but the "check your email" page works
    /// before).
    pub verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&CustomerRow> for CustomerIdentity {
    fn from(c: &CustomerRow) -> Self {
        CustomerIdentity {
            id: c.id,
            email: c.email.clone(),
            display_name: c.display_name.clone(),
            verified: c.email_verified_at.is_some(),
            created_at: c.created_at,
        }
    }
}

/// A signed-in, enabled customer and the session it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPrincipal {
    pub customer: CustomerIdentity,
    pub session_id: i64,
}

impl CustomerPrincipal {
    /// Who acts, as the audit log names them (`customer:<email>`).
    pub fn actor(&self) -> Actor {
        actor_of(self.customer.id, &self.customer.email)
    }
}

fn actor_of(id: i64, email: &str) -> Actor {
    Actor::Customer {
        id,
        email: email.to_owned(),
    }
}

fn target(id: i64) -> String {
    format!("customer:{id}")
}

/// A new portal session: the cookie secret (never stored), when it ends, who it is for,
/// and a fresh device cookie for the client.
#[derive(Debug, Clone)]
pub struct NewCustomerSession {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
    pub principal: CustomerPrincipal,
    pub device_cookie: String,
}

/// The key a customer account is throttled and its device cookies are bound under
/// (`customer:` keeps it apart from a staff account with the same email).
fn account_key(tenant: &Tenant, email: &str) -> String {
    auth::account_key(SignInKind::Customer, tenant, email)
}

/// The longest email a failed sign-in records.
const MAX_AUDITED_EMAIL: usize = 254;

fn record_failed_sign_in(
    tenant: &Tenant,
    now: DateTime<Utc>,
    email: &str,
    address: &str,
    reason: &str,
    customer_id: Option<i64>,
) -> Result<()> {
    let tried: String = email.chars().take(MAX_AUDITED_EMAIL).collect();
    let target = customer_id.map_or_else(|| "customer:unknown".to_owned(), target);
    tenant.db.write(|tx| {
        audit::record(
            tx,
            now,
            &Actor::Anonymous,
            "customer.login_failed",
            &target,
            json!({"email": tried, "address": address, "reason": reason}),
        )
    })
}

/// Checks a reserved sign-in's password (argon2: run it on the password workers) and
/// opens a session. Unknown emails cost the same time as wrong passwords; a disabled
/// account is told so only after its password was right.
pub fn sign_in(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    sign_in: SignIn,
    password: &str,
) -> Result<NewCustomerSession> {
    let SignIn {
        email,
        account,
        address,
        attempt,
        ..
    } = sign_in.of(SignInKind::Customer)?;
    let found = tenant.db.read(|tx| store::find_by_email(tx, &email))?;
    let stored = found
        .as_ref()
        .map_or(secrets::dummy_hash(), |c| c.password_hash.as_str());
    let password_ok = secrets::verify_password(password, stored) && found.is_some();
    let Some(customer) = found.as_ref().filter(|_| password_ok) else {
        tracing::info!(tenant = %tenant.schema_name, email, address, "failed customer sign-in");
        let known = found.as_ref().map(|c| c.id);
        let reason = if known.is_some() {
            "wrong_password"
        } else {
            "unknown_account"
        };
        record_failed_sign_in(tenant, now, &email, &address, reason, known)?;
        if let Some(wait) = attempt.failed(now) {
            return Err(too_many("failed sign-ins", wait));
        }
        return Err(refuse(
            ErrorCode::InvalidCredentials,
            "email or password is wrong",
        ));
    };
    attempt.succeeded();
    if customer.disabled_at.is_some() {
        record_failed_sign_in(
            tenant,
            now,
            &email,
            &address,
            "account_disabled",
            Some(customer.id),
        )?;
        return Err(refuse(
            ErrorCode::AccountDisabled,
            "this account is disabled; contact the vendor",
        ));
    }
    let device_cookie = app.device_key.issue(&account, now)?;
    let (secret, expires_at, session_id) = tenant.db.write(|tx| {
        let made = insert_session(tx, app, now, customer.id, &address)?;
        audit::record(
            tx,
            now,
            &actor_of(customer.id, &customer.email),
            "customer.login",
            &target(customer.id),
            json!({"address": address}),
        )?;
        Ok::<_, ServiceError>(made)
    })?;
    Ok(NewCustomerSession {
        secret,
        expires_at,
        principal: CustomerPrincipal {
            customer: CustomerIdentity::from(customer),
            session_id,
        },
        device_cookie,
    })
}

/// Writes a session row: its secret, when it ends, its id.
fn insert_session(
    tx: &WriteTx<'_>,
    app: &App,
    now: DateTime<Utc>,
    customer_id: i64,
    address: &str,
) -> Result<(String, DateTime<Utc>, i64)> {
    let secret = secrets::new_secret()?;
    let expires_at = now + Duration::minutes(i64::from(app.config.auth.session_ttl_minutes));
    let address = Some(address).filter(|a| !a.is_empty());
    let id = customer_sessions::insert(
        tx,
        &secrets::hash_secret(&secret),
        customer_id,
        now,
        expires_at,
        address,
    )?;
    Ok((secret, expires_at, id))
}

/// Opens a session for customer `customer_id` inside the caller's transaction (an
/// invitation accepted by a new account signs it in), audited as its sign-in. Refused
/// for an unknown or disabled account.
pub fn open_session_in(
    tx: &WriteTx<'_>,
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    address: &str,
) -> Result<NewCustomerSession> {
    let customer = store::find_by_id(tx, customer_id)?
        .filter(|c| c.disabled_at.is_none())
        .ok_or_else(|| {
            refuse(
                ErrorCode::Unauthenticated,
                "this customer account does not exist or is disabled",
            )
        })?;
    let (secret, expires_at, session_id) = insert_session(tx, app, now, customer.id, address)?;
    audit::record(
        tx,
        now,
        &actor_of(customer.id, &customer.email),
        "customer.login",
        &target(customer.id),
        json!({"address": address}),
    )?;
    Ok(NewCustomerSession {
        secret,
        expires_at,
        device_cookie: app
            .device_key
            .issue(&account_key(tenant, &customer.email), now)?,
        principal: CustomerPrincipal {
            customer: CustomerIdentity::from(&customer),
            session_id,
        },
    })
}

/// `open_session_in` in a transaction of its own.
pub fn open_session(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    customer_id: i64,
    address: &str,
) -> Result<NewCustomerSession> {
    tenant
        .db
        .write(|tx| open_session_in(tx, app, tenant, now, customer_id, address))
}

/// The enabled customer behind a portal session cookie, if the session is live.
pub fn session_principal(
    tenant: &Tenant,
    now: DateTime<Utc>,
    secret: &str,
) -> Result<Option<CustomerPrincipal>> {
    let found = tenant
        .db
        .read(|tx| customer_sessions::find_live(tx, &secrets::hash_secret(secret), now))?;
    Ok(found
        .filter(|s| s.customer.disabled_at.is_none())
        .map(|s| CustomerPrincipal {
            customer: CustomerIdentity::from(&s.customer),
            session_id: s.session_id,
        }))
}

/// Ends the caller's session.
pub fn sign_out(tenant: &Tenant, now: DateTime<Utc>, principal: &CustomerPrincipal) -> Result<()> {
    tenant.db.write(|tx| {
        customer_sessions::delete(tx, principal.session_id)?;
        audit::record(
            tx,
            now,
            &principal.actor(),
            "customer.logout",
            &target(principal.customer.id),
            json!({}),
        )
    })
}

/// Checks a new password against the policy (the staff rules: `auth.min_password_length`,
/// at most 1024 characters, not the email) and hashes it with argon2id. Run it on the
/// password workers.
pub fn hash_new_password(app: &App, email: &str, password: &str) -> Result<String> {
    staff::check_password(password, email, app.config.auth.min_password_length)?;
    secrets::hash_password(password)
}

/// Creates a customer account inside the caller's transaction, audited as
/// `customer.create` by the new customer. `verified`: the address is proven already
/// (an accepted invitation). `password_hash` comes from `hash_new_password`. Refused
/// with `customer_exists` when the email has an account. The caller re-assesses the
/// tenant's own license after committing (`enterprise::refresh`): customers are its
/// external users.
pub fn create_customer(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    verified: bool,
) -> Result<i64> {
    let email = staff::normalize_email(email)?;
    let display_name = staff::check_display_name(display_name)?;
    let new = NewCustomer {
        email: &email,
        display_name: &display_name,
        password_hash,
        email_verified_at: verified.then_some(now),
    };
    let id = store::insert(tx, &new, now)?.ok_or_else(|| {
        refuse(
            ErrorCode::CustomerExists,
            format!("an account with the email {email} exists already: sign in instead"),
        )
    })?;
    audit::record(
        tx,
        now,
        &actor_of(id, &email),
        "customer.create",
        &target(id),
        json!({"email": email, "verified": verified}),
    )?;
    Ok(id)
}

/// Creates a customer account in a transaction of its own, with its password (checked
/// against the policy and hashed: run it on the password workers), then re-assesses
/// the tenant's own license. For callers outside a larger use case (tests, tools).
pub fn create(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    email: &str,
    display_name: &str,
    password: &str,
    verified: bool,
) -> Result<i64> {
    let email = staff::normalize_email(email)?;
    let hash = hash_new_password(app, &email, password)?;
    let id = tenant
        .db
        .write(|tx| create_customer(tx, now, &email, display_name, &hash, verified))?;
    enterprise::refresh(tenant, now, &actor_of(id, &email))?;
    Ok(id)
}

/// What someone typed to sign up.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: String,
    pub display_name: String,
    pub password: String,
}

/// Open sign-up (`portal.signup = "open"`): creates an unverified account, emails its
/// verification link (in the same transaction) and signs it in, to the "check your
/// email" page. Refused with `signup_invite_only` under `invite_only` (the default):
/// there an account comes only with an invitation. Creating an account is a write that
/// read-only mode refuses (it adds an external user). Each sign-up sends an email, so
/// one client address (an IPv6 /64) makes at most `auth.max_failures_per_address` of
/// them per throttle window (`too_many_attempts`). Hashes a password: run it on the
/// password workers.
pub fn sign_up(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    input: SignUp,
    address: Option<IpAddr>,
) -> Result<NewCustomerSession> {
    if app.config.portal.signup != Signup::Open {
        return Err(refuse(
            ErrorCode::SignupInviteOnly,
            "accounts are by invitation only: ask an owner of your organization to invite you",
        ));
    }
    if tenant.own_stage().read_only() {
        return Err(refuse(
            ErrorCode::LicenseReadOnly,
            "new accounts cannot be made while licd is read-only (its own license is in violation)",
        ));
    }
    let email = staff::normalize_email(&input.email)?;
    staff::check_display_name(&input.display_name)?;
    let from = address.map_or_else(|| "unknown".to_owned(), throttle::address_key);
    // A sign-up counts as a "failure" of its address: the throttle's counter is the
    // rate limit (a refused sign-up gives its slot back).
    let attempt = app
        .throttle
        .reserve(now, &[(Scope::Address, &format!("customer-signup:{from}"))])
        .map_err(|wait| too_many("sign-ups from this address", wait))?;
    if tenant
        .db
        .read(|tx| store::find_by_email(tx, &email))?
        .is_some()
    {
        return Err(refuse(
            ErrorCode::CustomerExists,
            format!("an account with the email {email} exists already: sign in instead"),
        ));
    }
    let hash = hash_new_password(app, &email, &input.password)?;
    let address = address.map(|a| a.to_string()).unwrap_or_default();
    let session = tenant.db.write(|tx| {
        let id = create_customer(tx, now, &email, &input.display_name, &hash, false)?;
        portal_links::send_verification(tx, app, tenant, now, id)?;
        open_session_in(tx, app, tenant, now, id, &address)
    })?;
    // Counted whether or not the address is locked now: the next one will be told.
    let _ = attempt.failed(now);
    enterprise::refresh(tenant, now, &session.principal.actor())?;
    Ok(session)
}

/// Changes the caller's own password; the account's other sessions end. Wrong current
/// passwords are throttled per account (a counter of their own, as for staff).
pub fn change_password(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    principal: &CustomerPrincipal,
    current: &str,
    new: &str,
) -> Result<()> {
    let account = account_key(tenant, &principal.customer.email);
    let attempt = app
        .throttle
        .reserve(now, &[(Scope::PasswordChange, &account)])
        .map_err(|wait| too_many("wrong current passwords", wait))?;
    let stored = tenant
        .db
        .read(|tx| store::find_by_id(tx, principal.customer.id))?
        .ok_or_else(|| refuse(ErrorCode::Unauthenticated, "this account no longer exists"))?;
    if !secrets::verify_password(current, &stored.password_hash) {
        if let Some(wait) = attempt.failed(now) {
            return Err(too_many("wrong current passwords", wait));
        }
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "current_password: is wrong",
        ));
    }
    attempt.succeeded();
    if current == new {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "new_password: must differ from the current password",
        ));
    }
    let hash = hash_new_password(app, &stored.email, new)
        .map_err(|e| rename_field(e, "password", "new_password"))?;
    tenant.db.write(|tx| {
        store::set_password(tx, stored.id, &hash, now)?;
        let ended =
            customer_sessions::delete_for_customer(tx, stored.id, Some(principal.session_id))?;
        audit::record(
            tx,
            now,
            &principal.actor(),
            "customer.password_change",
            &target(stored.id),
            json!({"other_sessions_ended": ended}),
        )
    })
}

/// A validation refusal about `from` said about the form's field `to` instead.
fn rename_field(e: ServiceError, from: &str, to: &str) -> ServiceError {
    let p = e.problem();
    match p.detail.strip_prefix(&format!("{from}:")) {
        Some(rest) if p.code == ErrorCode::ValidationFailed => {
            refuse(ErrorCode::ValidationFailed, format!("{to}:{rest}"))
        }
        _ => e,
    }
}

/// Changes the caller's own display name.
pub fn change_display_name(
    tenant: &Tenant,
    now: DateTime<Utc>,
    principal: &CustomerPrincipal,
    name: &str,
) -> Result<CustomerIdentity> {
    let name = staff::check_display_name(name)?;
    let id = principal.customer.id;
    let row = tenant.db.write(|tx| {
        store::set_display_name(tx, id, &name, now)?;
        audit::record(
            tx,
            now,
            &principal.actor(),
            "customer.rename",
            &target(id),
            json!({"display_name": name}),
        )?;
        store::find_by_id(tx, id)?
            .ok_or_else(|| refuse(ErrorCode::Unauthenticated, "this account no longer exists"))
    })?;
    Ok(CustomerIdentity::from(&row))
}
