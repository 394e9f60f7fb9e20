//! Signing in and out, recognising sessions and API tokens, changing one's password.

use super::tenants::Tenant;
use super::{App, Credential, Principal, Result, ServiceError, audit, refuse, secrets};
use crate::domain::staff;
use crate::error::{ErrorCode, Problem};
use crate::store::{sessions, staff as staff_store, tokens};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// A new session: the cookie secret (never stored) and when it ends.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
}

fn too_many(seconds: u64) -> ServiceError {
    ServiceError::Refused(Problem {
        code: ErrorCode::TooManyAttempts,
        detail: format!("too many failed sign-ins; try again in {seconds} seconds"),
        retry_after: Some(seconds),
    })
}

/// Checks email and password and opens a session. Failures are throttled per account
/// and per address; unknown emails cost the same time as wrong passwords.
pub fn login(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    email: &str,
    password: &str,
    address: &str,
) -> Result<NewSession> {
    let email = email.trim().to_lowercase();
    let account_key = format!("{}/{}", tenant.schema_name, email);
    app.throttle
        .check(now, &account_key, address)
        .map_err(too_many)?;

    let user = tenant
        .db
        .read(|tx| staff_store::find_by_email(tx, &email))?;
    let stored = user
        .as_ref()
        .map_or(secrets::dummy_hash(), |u| u.password_hash.as_str());
    let password_ok = secrets::verify_password(password, stored) && user.is_some();
    let Some(user) = user.filter(|_| password_ok) else {
        tracing::info!(tenant = %tenant.schema_name, email, address, "failed sign-in");
        if let Some(wait) = app.throttle.failure(now, &account_key, address) {
            return Err(too_many(wait));
        }
        return Err(refuse(
            ErrorCode::InvalidCredentials,
            "email or password is wrong",
        ));
    };
    if user.disabled_at.is_some() {
        return Err(refuse(
            ErrorCode::AccountDisabled,
            "this account is disabled",
        ));
    }
    if let Some(issued) = user.one_time_password_issued_at
        && user.must_change_password
        && staff::one_time_password_expired(issued, now, app.config.auth.one_time_password_hours)
    {
        return Err(refuse(
            ErrorCode::OneTimePasswordExpired,
            "this one-time password has expired; ask an administrator to reset your password",
        ));
    }
    app.throttle.success(&account_key);

    let secret = secrets::new_secret()?;
    let expires_at = now + Duration::minutes(i64::from(app.config.auth.session_ttl_minutes));
    let session_id = tenant.db.write(|tx| {
        let id = sessions::insert(
            tx,
            &secrets::hash_secret(&secret),
            user.id,
            now,
            expires_at,
            Some(address),
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
            user,
            via: Credential::Session { id: session_id },
        },
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
        .filter(|s| s.user.disabled_at.is_none())
        .map(|s| Principal {
            user: s.user,
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
            user: t.user,
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
/// token of the account is revoked (also the one this request came with, if any).
pub fn change_password(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    principal: &Principal,
    current: &str,
    new: &str,
) -> Result<()> {
    if !secrets::verify_password(current, &principal.user.password_hash) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "current_password: is wrong",
        ));
    }
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

/// Deletes expired sessions in every tenant (scheduled).
pub fn purge_expired_sessions(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let mut total = 0;
    for t in app.tenants.all() {
        total += t.db.write(|tx| sessions::purge_expired(tx, now))?;
    }
    app.throttle.prune(now);
    Ok(total)
}
