//! Signing in and out, recognising sessions and API tokens, changing one's password.

use super::tenant::Tenant;
use super::throttle::{Attempt, Scope};
use super::{App, Credential, Principal, Result, ServiceError, audit, refuse, secrets};
use crate::domain::customer::KEEP_EXPIRED_LINKS;
use crate::domain::{staff, throttle};
use crate::error::{ErrorCode, Problem};
use crate::store::{customer_links, customer_sessions, sessions, staff as staff_store, tokens};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::net::IpAddr;

/// A new session: the cookie secret (never stored) and when it ends, and a fresh
/// device cookie for the client.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
    pub device_cookie: String,
}

/// `too_many_attempts`, retry after `seconds` (staff and the portal alike).
pub(super) fn too_many(what: &str, seconds: u64) -> ServiceError {
    ServiceError::Refused(Problem {
        code: ErrorCode::TooManyAttempts,
        detail: format!("too many {what}; try again in {seconds} seconds"),
        retry_after: Some(seconds),
    })
}

/// Whose sign-in it is. Staff and customers are two kinds of principal, throttled on
/// keys of their own (a customer's prefixed `customer:`), so their failed sign-ins never
/// share a counter and a device cookie of the one is nothing to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    Staff,
    Customer,
}

impl SignInKind {
    fn prefix(self) -> &'static str {
        match self {
            SignInKind::Staff => "",
            SignInKind::Customer => "customer:",
        }
    }
}

/// The key an account is throttled and its device cookies are bound under.
pub(super) fn account_key(kind: SignInKind, tenant: &Tenant, email: &str) -> String {
    format!("{}{}/{}", kind.prefix(), tenant.schema_name, email)
}

/// A sign-in whose throttle slots are reserved, ready for its password check
/// (`login` for staff, `portal_auth::sign_in` for customers).
#[derive(Debug)]
pub struct SignIn {
    pub(super) kind: SignInKind,
    pub(super) email: String,
    pub(super) account: String,
    pub(super) address: String,
    pub(super) attempt: Attempt,
}

impl SignIn {
    /// Refuses a sign-in reserved for the other kind of principal (a bug, never input).
    pub(super) fn of(self, kind: SignInKind) -> Result<SignIn> {
        if self.kind == kind {
            Ok(self)
        } else {
            Err(ServiceError::unexpected(format!(
                "a {:?} sign-in reached the {kind:?} password check",
                self.kind
            )))
        }
    }
}

/// Reserves a sign-in attempt of `kind` before any password work (cheap: no I/O, no
/// argon2). A client presenting a valid device cookie for the account is throttled per
/// device only; any other client per account and per address (an IPv6 /64). Refuses
/// with `too_many_attempts` when a key must wait, so that at most the configured number
/// of guesses per key is ever checked, however many arrive at once.
pub fn begin_login(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    kind: SignInKind,
    email: &str,
    address: Option<IpAddr>,
    device_cookie: Option<&str>,
) -> Result<SignIn> {
    let email = email.trim().to_lowercase();
    let account = account_key(kind, tenant, &email);
    let prefix = kind.prefix();
    let device = device_cookie
        .and_then(|c| app.device_key.verify(c, &account, now))
        .map(|id| format!("{prefix}{id}"));
    let address_key = format!(
        "{prefix}{}",
        address.map_or_else(|| "unknown".to_owned(), throttle::address_key)
    );
    let keys: Vec<(Scope, &str)> = match &device {
        Some(id) => vec![(Scope::Device, id.as_str())],
        None => vec![(Scope::Account, &account), (Scope::Address, &address_key)],
    };
    let attempt = app
        .throttle
        .reserve(now, &keys)
        .map_err(|wait| too_many("failed sign-ins", wait))?;
    Ok(SignIn {
        kind,
        email,
        account,
        address: address.map(|a| a.to_string()).unwrap_or_default(),
        attempt,
    })
}

/// Why a sign-in failed, as the audit log says it.
#[derive(Debug, Clone, Copy)]
enum FailedSignIn {
    WrongPassword,
    UnknownAccount,
    AccountDisabled,
    OneTimePasswordExpired,
    ServiceAccount,
}

impl FailedSignIn {
    fn as_str(self) -> &'static str {
        match self {
            FailedSignIn::WrongPassword => "wrong_password",
            FailedSignIn::UnknownAccount => "unknown_account",
            FailedSignIn::AccountDisabled => "account_disabled",
            FailedSignIn::OneTimePasswordExpired => "one_time_password_expired",
            FailedSignIn::ServiceAccount => "service_account",
        }
    }
}

/// The longest email a failed sign-in records (longer ones are cut; what was typed
/// is not trusted to be an email at all).
const MAX_AUDITED_EMAIL: usize = 254;

/// Records a failed sign-in: the email tried, the client address and why; never the
/// password. Only attempts that got past the throttle reach the password check and so
/// this entry: a flood is refused by `begin_login` before any audit write, so the
/// audit chain grows at most as fast as the throttle lets guesses through (per account
/// and per address) and the password workers can check them.
fn record_failed_sign_in(
    tenant: &Tenant,
    now: DateTime<Utc>,
    email: &str,
    address: &str,
    reason: FailedSignIn,
    user_id: Option<i64>,
) -> Result<()> {
    let tried: String = email.chars().take(MAX_AUDITED_EMAIL).collect();
    let target = match user_id {
        Some(id) => format!("user:{id}"),
        None => "user:unknown".to_owned(),
    };
    tenant.db.write(|tx| {
        audit::record(
            tx,
            now,
            &super::Actor::Anonymous,
            "auth.login_failed",
            &target,
            json!({"email": tried, "address": address, "reason": reason.as_str()}),
        )
    })
}

/// Checks a reserved sign-in's password and opens a session (argon2: run it on the
/// password workers). Unknown emails cost the same time as wrong passwords.
pub fn login(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    sign_in: SignIn,
    password: &str,
) -> Result<NewSession> {
    let SignIn {
        email,
        account,
        address,
        attempt,
        ..
    } = sign_in.of(SignInKind::Staff)?;
    let user = tenant
        .db
        .read(|tx| staff_store::find_by_email(tx, &email))?;
    let stored = user
        .as_ref()
        .map_or(secrets::dummy_hash(), |u| u.password_hash.as_str());
    let password_ok = secrets::verify_password(password, stored) && user.is_some();
    let failed = |reason: FailedSignIn, user_id: Option<i64>| {
        record_failed_sign_in(tenant, now, &email, &address, reason, user_id)
    };
    let known = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| password_ok) else {
        tracing::info!(tenant = %tenant.schema_name, email, address, "failed sign-in");
        let reason = if known.is_some() {
            FailedSignIn::WrongPassword
        } else {
            FailedSignIn::UnknownAccount
        };
        failed(reason, known)?;
        if let Some(wait) = attempt.failed(now) {
            return Err(too_many("failed sign-ins", wait));
        }
        return Err(refuse(
            ErrorCode::InvalidCredentials,
            "email or password is wrong",
        ));
    };
    attempt.succeeded();
    // Unreachable with a correct password (a service account has none), but a service
    // account never gets a session, whatever its row holds.
    if !user.kind.signs_in() {
        failed(FailedSignIn::ServiceAccount, Some(user.id))?;
        return Err(super::staff::no_password(&user.email));
    }
    if user.disabled_at.is_some() {
        failed(FailedSignIn::AccountDisabled, Some(user.id))?;
        return Err(refuse(
            ErrorCode::AccountDisabled,
            "this account is disabled",
        ));
    }
    if let Some(issued) = user.one_time_password_issued_at
        && user.must_change_password
        && staff::one_time_password_expired(issued, now, app.config.auth.one_time_password_hours)
    {
        failed(FailedSignIn::OneTimePasswordExpired, Some(user.id))?;
        return Err(refuse(
            ErrorCode::OneTimePasswordExpired,
            "this one-time password has expired; ask an administrator to reset your password",
        ));
    }

    let secret = secrets::new_secret()?;
    let device_cookie = app.device_key.issue(&account, now)?;
    let expires_at = now + Duration::minutes(i64::from(app.config.auth.session_ttl_minutes));
    let session_id = tenant.db.write(|tx| {
        let id = sessions::insert(
            tx,
            &secrets::hash_secret(&secret),
            user.id,
            now,
            expires_at,
            Some(&address),
        )?;
        audit::record(
            tx,
            now,
            &super::Actor::Staff {
                id: user.id,
                email: user.email.clone(),
            },
            "auth.login",
            &format!("user:{}", user.id),
            json!({"address": address}),
        )?;
        Ok::<_, ServiceError>(id)
    })?;
    Ok(NewSession {
        secret,
        expires_at,
        principal: Principal {
            user: user.into(),
            via: Credential::Session { id: session_id },
        },
        device_cookie,
    })
}

/// The enabled user behind a session cookie, if the session is live.
pub fn session_principal(
    tenant: &Tenant,
    now: DateTime<Utc>,
    secret: &str,
) -> Result<Option<Principal>> {
    let found = tenant
        .db
        .read(|tx| sessions::find_live(tx, &secrets::hash_secret(secret), now))?;
    Ok(found
        .filter(|s| s.user.disabled_at.is_none() && s.user.kind.signs_in())
        .map(|s| Principal {
            user: s.user.into(),
            via: Credential::Session { id: s.session_id },
        }))
}

/// The enabled user behind a bearer token, if the token is live.
pub fn token_principal(
    tenant: &Tenant,
    now: DateTime<Utc>,
    secret: &str,
) -> Result<Option<Principal>> {
    if !secret.starts_with(secrets::API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let found = tenant
        .db
        .read(|tx| tokens::find_live(tx, &secrets::hash_secret(secret), now))?;
    Ok(found
        .filter(|t| t.user.disabled_at.is_none())
        .map(|t| Principal {
            user: t.user.into(),
            via: Credential::Token { id: t.token_id },
        }))
}

/// Ends the caller's session (a token caller has no session; nothing to end).
pub fn logout(tenant: &Tenant, now: DateTime<Utc>, principal: &Principal) -> Result<()> {
    let Credential::Session { id } = principal.via else {
        return Ok(());
    };
    tenant.db.write(|tx| {
        sessions::delete(tx, id)?;
        audit::record(
            tx,
            now,
            &principal.actor(),
            "auth.logout",
            &format!("user:{}", principal.user.id),
            json!({}),
        )
    })
}

/// Changes the caller's own password; other sessions of the account end and every API
/// token of the account is revoked (also the one this request came with, if any). Wrong
/// current passwords are throttled per account like sign-ins (their own counter, so
/// strangers locking the sign-in out do not block the owner's password change).
pub fn change_password(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    principal: &Principal,
    current: &str,
    new: &str,
) -> Result<()> {
    if !principal.user.kind.signs_in() {
        return Err(super::staff::no_password(&principal.user.email));
    }
    let account = account_key(SignInKind::Staff, tenant, &principal.user.email);
    let attempt = app
        .throttle
        .reserve(now, &[(Scope::PasswordChange, &account)])
        .map_err(|wait| too_many("wrong current passwords", wait))?;
    // The hash as stored now (the request carries none).
    let stored = tenant
        .db
        .read(|tx| staff_store::find_by_id(tx, principal.user.id))?
        .ok_or_else(|| refuse(ErrorCode::Unauthenticated, "this account no longer exists"))?;
    // An account made by a recovery key has no password yet: it chooses its first one
    // without a current one (nothing verifies against an empty hash, so it cannot sign in
    // with a password until then).
    let first_password = stored.password_hash.is_empty();
    if !first_password && !secrets::verify_password(current, &stored.password_hash) {
        if let Some(wait) = attempt.failed(now) {
            return Err(too_many("wrong current passwords", wait));
        }
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "current_password: is wrong",
        ));
    }
    attempt.succeeded();
    staff::check_password(
        new,
        &principal.user.email,
        app.config.auth.min_password_length,
    )?;
    if current == new {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "new_password: must differ from the current password",
        ));
    }
    let hash = secrets::hash_password(new)?;
    let keep = match principal.via {
        Credential::Session { id } => Some(id),
        Credential::Token { .. } => None,
    };
    tenant.db.write(|tx| {
        staff_store::set_password(tx, principal.user.id, &hash, false, now)?;
        let ended = sessions::delete_for_user(tx, principal.user.id, keep)?;
        let revoked = tokens::revoke_all_for_user(tx, principal.user.id, now)?;
        audit::record(
            tx,
            now,
            &principal.actor(),
            "user.password_change",
            &format!("user:{}", principal.user.id),
            json!({"other_sessions_ended": ended, "tokens_revoked": revoked}),
        )
    })
}

/// Whether the account has a password yet (one made by a recovery key has none until
/// it chooses one, without a current password).
pub fn has_password(tenant: &Tenant, user_id: i64) -> Result<bool> {
    let user = tenant.db.read(|tx| staff_store::find_by_id(tx, user_id))?;
    Ok(user.is_some_and(|u| !u.password_hash.is_empty()))
}

/// Deletes expired sessions (staff and customer) in every open tenant, and customer
/// links long expired (scheduled); a tenant's are also removed when it closes.
pub fn purge_expired_sessions(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let mut total = 0;
    for t in app.tenants.all() {
        total += t.db.write(|tx| {
            let staff = sessions::purge_expired(tx, now)?;
            let customers = customer_sessions::purge_expired(tx, now)?;
            customer_links::purge_expired(tx, now - KEEP_EXPIRED_LINKS)?;
            Ok::<_, ServiceError>(staff + customers)
        })?;
    }
    app.throttle.prune(now);
    Ok(total)
}
