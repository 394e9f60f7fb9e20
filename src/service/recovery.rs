//! Recovery keys (seed 001): a tenancy-key holder gets a one-time link that signs in to
//! one tenant as the staff account with one email. The link points at the tenant's
//! primary domain (its first); the secret is kept only as its SHA-256 in the registry,
//! bound to the tenant and the email, valid for its lifetime (default 1 hour, at most 7
//! days) and redeemable once. Opening the link only shows a confirmation page: the
//! POST from it redeems (mail scanners that follow links do not use it up). Redeeming
//! signs in as that account, creating it as `super_admin` without a password (it must
//! choose one first) when there is none; a disabled account is refused, not revived.
//! Issuing and redeeming are recorded in the registry's chain and the tenant's own.

use super::auth::NewSession;
use super::tenancy::record;
use super::tenant::Tenant;
use super::{
    Actor, App, Credential, Principal, Result, ServiceError, audit, refuse, secrets, tenant_domains,
};
use crate::config::Config;
use crate::domain::permissions::Role;
use crate::domain::staff;
use crate::error::ErrorCode;
use crate::store::recovery_keys::{self as store, RecoveryKeyRow};
use crate::store::registry::{self, TenantState};
use crate::store::{sessions, staff as staff_store};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The path a recovery link opens; the secret is its `key` query parameter (queries
/// are never logged).
pub const PATH: &str = "/recover";
/// Default lifetime of a recovery key.
pub const DEFAULT_LIFETIME: &str = "1h";
/// The longest lifetime: 7 days.
pub const MAX_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// The shortest lifetime: 1 minute.
pub const MIN_LIFETIME_SECS: i64 = 60;

/// What `POST /api/v1/tenants/{schema_name}/recovery-key` takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryKeyRequest {
    /// The staff account to sign in as; created as `super_admin` (choosing its password
    /// first) when the tenant has none with this email.
    #[schema(max_length = 254)]
    pub email: String,
    /// How long the link works: a number and a unit, `s`, `m`, `h` or `d` (`90m`,
    /// `2d`); default `1h`, from 1 minute to 7 days.
    #[schema(pattern = "^[1-9][0-9]{0,6}[smhd]$", max_length = 8, example = "1h")]
    pub lifetime: Option<String>,
}

/// A recovery key as issued: the link is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryKey {
    /// The one-time link, on the tenant's primary domain.
    pub url: String,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// `90m` -> 5400 seconds; within 1 minute and 7 days.
pub fn parse_lifetime(raw: &str) -> Result<i64> {
    let bad = |why: &str| {
        refuse(
            ErrorCode::ValidationFailed,
            format!(
                "lifetime: {raw:?} {why}; give a number and a unit s, m, h or d (`1h`, `90m`, `2d`), from 1 minute to 7 days"
            ),
        )
    };
    let raw = raw.trim();
    let split = raw.len().saturating_sub(1);
    let (digits, unit) = (
        raw.get(..split).unwrap_or(""),
        raw.get(split..).unwrap_or(""),
    );
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad("has no unit")),
    };
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is not a number with a unit"));
    }
    let n: i64 = digits.parse().map_err(|_| bad("is not a number"))?;
    let secs = n * unit_secs;
    if secs < MIN_LIFETIME_SECS {
        return Err(bad("is shorter than 1 minute"));
    }
    if secs > MAX_LIFETIME_SECS {
        return Err(bad("is longer than 7 days"));
    }
    Ok(secs)
}

/// The link's origin on `domain`: the scheme and port of `server.public_url` when it is
/// set, else `https` and `server.listen_https`'s port with TLS on, `http` and
/// `server.listen`'s port without; default ports are left out.
pub fn origin(config: &Config, domain: &str) -> String {
    let (scheme, port) = match config.server.public_url.as_deref() {
        Some(url) => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let port = authority
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
                .and_then(|(_, p)| p.parse::<u16>().ok());
            (scheme.to_ascii_lowercase(), port)
        }
        None if config.tls.enabled => ("https".into(), Some(config.server.listen_https.port())),
        None => ("http".into(), Some(config.server.listen.port())),
    };
    match (scheme.as_str(), port) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => format!("{scheme}://{domain}"),
        (_, Some(p)) => format!("{scheme}://{domain}:{p}"),
    }
}

/// Issues a recovery key for `email` in the tenant `schema_name`. Refused when the
/// tenant does not exist (404) or has no domain (`tenant_has_no_domain`: the link needs
/// its primary domain).
pub fn issue(
    app: &App,
    now: DateTime<Utc>,
    actor: &Actor,
    schema_name: &str,
    input: RecoveryKeyRequest,
) -> Result<RecoveryKey> {
    let tenants = &app.tenants;
    let made = (|| -> Result<(RecoveryKey, i64)> {
        let email = staff::normalize_email(&input.email)?;
        let secs = parse_lifetime(input.lifetime.as_deref().unwrap_or(DEFAULT_LIFETIME))?;
        let row = tenants
            .registry()
            .read(|tx| registry::find_tenant(tx, schema_name))?;
        if !row.is_some_and(|r| r.state == TenantState::Ready) {
            return Err(refuse(
                ErrorCode::NotFound,
                format!("no tenant has the schema_name {schema_name:?}"),
            ));
        }
        let Some(domain) = tenant_domains::primary(tenants, schema_name)? else {
            return Err(refuse(
                ErrorCode::TenantHasNoDomain,
                format!(
                    "the tenant {schema_name:?} has no domain, and a recovery link points at its primary domain: add one first (POST /api/v1/tenants/{schema_name}/domains)"
                ),
            ));
        };
        let secret = secrets::new_secret()?;
        let expires_at = now + Duration::seconds(secs);
        let id = tenants.registry().write(|tx| {
            store::insert(
                tx,
                schema_name,
                &email,
                &secrets::hash_secret(&secret),
                now,
                expires_at,
            )
        })?;
        let url = format!("{}{PATH}?key={secret}", origin(&app.config, &domain));
        Ok((
            RecoveryKey {
                url,
                email,
                expires_at,
            },
            id,
        ))
    })();
    let details = match &made {
        Ok((k, id)) => json!({
            "outcome": "issued", "id": id, "email": k.email, "expires_at": k.expires_at,
        }),
        Err(e) => json!({ "outcome": "refused", "code": e.problem().code.as_str() }),
    };
    let target = format!("tenant:{schema_name}");
    record(
        tenants,
        now,
        actor,
        "tenant.recovery_key.issue",
        &target,
        details.clone(),
    )?;
    let (key, _) = made?;
    if let Some(t) = tenants.get(schema_name) {
        t.db.write(|tx| audit::record(tx, now, actor, "recovery_key.issued", &target, details))?;
    }
    Ok(key)
}

/// What the confirmation page says about a valid, unused key.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub email: String,
    pub expires_at: DateTime<Utc>,
    /// Whether redeeming creates the account (there is none with this email).
    pub creates_account: bool,
}

fn invalid(why: &str) -> ServiceError {
    refuse(ErrorCode::RecoveryKeyInvalid, why)
}

/// The key behind `secret` when it can be redeemed in `tenant` now.
fn usable(app: &App, tenant: &Tenant, now: DateTime<Utc>, secret: &str) -> Result<RecoveryKeyRow> {
    let row = app
        .tenants
        .registry()
        .read(|tx| store::find_by_hash(tx, &secrets::hash_secret(secret.trim())))?;
    let Some(row) = row.filter(|r| r.schema_name == tenant.schema_name) else {
        return Err(invalid(
            "this recovery link is not valid here (mistyped, or made for another host name)",
        ));
    };
    if row.used_at.is_some() {
        return Err(invalid(
            "this recovery link has been used already; each works once: ask for a new one",
        ));
    }
    if now >= row.expires_at {
        return Err(invalid("this recovery link has expired; ask for a new one"));
    }
    Ok(row)
}

fn disabled(email: &str) -> ServiceError {
    refuse(
        ErrorCode::AccountDisabled,
        format!(
            "the staff account {email} is disabled, and a recovery link does not enable it: another super_admin can enable it (Users)"
        ),
    )
}

/// Checks a key for the confirmation page (GET), without using it up.
pub fn peek(app: &App, tenant: &Tenant, now: DateTime<Utc>, secret: &str) -> Result<Pending> {
    let row = usable(app, tenant, now, secret)?;
    let user = tenant
        .db
        .read(|tx| staff_store::find_by_email(tx, &row.email))?;
    if user.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
        return Err(disabled(&row.email));
    }
    if let Some(u) = user.as_ref().filter(|u| !u.kind.signs_in()) {
        return Err(super::staff::no_password(&u.email));
    }
    Ok(Pending {
        creates_account: user.is_none(),
        email: row.email,
        expires_at: row.expires_at,
    })
}

/// Redeems a key (the POST of the confirmation page): uses it up and opens a session as
/// its account, creating that account as `super_admin` with no password (it must choose
/// one before anything else) when there is none. A disabled account is refused and the
/// key stays unused.
pub fn redeem(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    secret: &str,
    address: &str,
) -> Result<NewSession> {
    let row = usable(app, tenant, now, secret)?;
    let existing = tenant
        .db
        .read(|tx| staff_store::find_by_email(tx, &row.email))?;
    if existing.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
        return Err(disabled(&row.email));
    }
    if let Some(u) = existing.as_ref().filter(|u| !u.kind.signs_in()) {
        return Err(super::staff::no_password(&u.email));
    }
    let used = app
        .tenants
        .registry()
        .write(|tx| store::mark_used(tx, row.id, now))?;
    if !used {
        return Err(invalid(
            "this recovery link has been used already; each works once: ask for a new one",
        ));
    }
    let secret = secrets::new_secret()?;
    let expires_at = now + Duration::minutes(i64::from(app.config.auth.session_ttl_minutes));
    let email = row.email.clone();
    let (user, created) = tenant.db.write(|tx| {
        let (id, created) = match staff_store::find_by_email(tx, &email)? {
            Some(u) => (u.id, false),
            None => {
                let name = email.split('@').next().unwrap_or(&email).to_owned();
                let new = staff_store::NewStaff {
                    email: &email,
                    display_name: &name,
                    role: Role::SuperAdmin,
                    // No password at all (none verifies against it): the account
                    // chooses its first one without a current password.
                    password_hash: "",
                    must_change_password: true,
                    kind: crate::domain::staff::StaffKind::Person,
                };
                (staff_store::insert(tx, &new, now)?, true)
            }
        };
        let user = staff_store::find_by_id(tx, id)?
            .ok_or_else(|| ServiceError::unexpected("a recovered account vanished"))?;
        let actor = Actor::Staff {
            id: user.id,
            email: user.email.clone(),
        };
        if created {
            audit::record(
                tx,
                now,
                &actor,
                "user.create",
                &format!("user:{id}"),
                json!({"email": email, "role": Role::SuperAdmin.as_str(), "via": "recovery_key"}),
            )?;
        }
        audit::record(
            tx,
            now,
            &actor,
            "auth.recovery_login",
            &format!("user:{id}"),
            json!({"recovery_key": row.id, "address": address, "account_created": created}),
        )?;
        Ok::<_, ServiceError>((user, created))
    })?;
    let session_id = tenant.db.write(|tx| {
        sessions::insert(
            tx,
            &secrets::hash_secret(&secret),
            user.id,
            now,
            expires_at,
            Some(address),
        )
    })?;
    let actor = Actor::Staff {
        id: user.id,
        email: user.email.clone(),
    };
    record(
        &app.tenants,
        now,
        &actor,
        "tenant.recovery_key.redeem",
        &format!("tenant:{}", tenant.schema_name),
        json!({"id": row.id, "email": row.email, "account_created": created, "address": address}),
    )?;
    let device_cookie = app.device_key.issue(
        &super::auth::account_key(super::auth::SignInKind::Staff, tenant, &user.email),
        now,
    )?;
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
