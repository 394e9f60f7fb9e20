//! Bearer API tokens: created with a name and optional expiry, shown once, stored
//! hashed, listed, revoked. A person makes their own; a service account's are made and
//! revoked by staff with `users.manage` (`*_for_service`), never by the account itself.

use super::tenant::Tenant;
use super::{Actor, Result, audit, refuse, secrets};
use crate::domain::staff::StaffKind;
use crate::domain::{staff, timestamp};
use crate::error::ErrorCode;
use crate::store::staff as staff_store;
use crate::store::tokens::{self as store, NewToken, TokenRow};
use crate::store::{ReadTx, staff::StaffRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[schema(as = ApiToken)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub active: bool,
}

impl TokenView {
    fn new(t: TokenRow, now: DateTime<Utc>) -> Self {
        let active = t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now);
        TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            active,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CreatedApiToken)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The secret; shown once, never again.
    pub secret: String,
}

pub fn create(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: i64,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedToken> {
    let name = staff::check_token_name(name)?;
    if let Some(e) = expires_at {
        timestamp::check("expires_at", e)?;
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "expires_at: must be in the future",
        ));
    }
    let secret = secrets::new_api_token()?;
    let prefix = secrets::token_prefix(&secret);
    let row = tenant.db.write(|tx| {
        let owner = staff_store::find_by_id(tx, user_id)?;
        let own = matches!(actor, Actor::Staff { id, .. } if *id == user_id);
        if own && owner.is_some_and(|u| u.kind == StaffKind::Service) {
            return Err(refuse(
                ErrorCode::Forbidden,
                "a service account cannot make tokens for itself; staff with users.manage make them (Staff users > Tokens)",
            ));
        }
        let new = NewToken {
            user_id,
            name: &name,
            prefix: &prefix,
            token_hash: &secrets::hash_secret(&secret),
            expires_at,
        };
        let id = store::insert(tx, &new, now)?;
        audit::record(
            tx,
            now,
            actor,
            "token.create",
            &format!("token:{id}"),
            json!({"name": name, "user_id": user_id, "expires_at": expires_at}),
        )?;
        store::find_for_user(tx, id, user_id)?
            .ok_or_else(|| refuse(ErrorCode::NotFound, "the new token vanished"))
    })?;
    Ok(CreatedToken {
        token: TokenView::new(row, now),
        secret,
    })
}

/// The service account `user_id` names (enabled, when `enabled` is asked for), or why
/// staff cannot manage its tokens.
fn service_account(tx: &ReadTx<'_>, user_id: i64, enabled: bool) -> Result<StaffRow> {
    let user = staff_store::find_by_id(tx, user_id)?.ok_or_else(|| {
        refuse(
            ErrorCode::NotFound,
            format!("staff user {user_id} does not exist"),
        )
    })?;
    if user.kind != StaffKind::Service {
        return Err(refuse(
            ErrorCode::NotAServiceAccount,
            format!(
                "{} is a person: people make their own API tokens (API tokens page, POST /api/v1/tokens)",
                user.email
            ),
        ));
    }
    if enabled && user.disabled_at.is_some() {
        return Err(refuse(
            ErrorCode::AccountDisabled,
            format!("{} is disabled: enable it first", user.email),
        ));
    }
    Ok(user)
}

/// Makes a token for a service account (staff with `users.manage`).
pub fn create_for_service(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: i64,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedToken> {
    tenant.db.read(|tx| service_account(tx, user_id, true))?;
    create(tenant, now, actor, user_id, name, expires_at)
}

/// A service account and its tokens (staff with `users.manage`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ServiceAccountTokens)]
pub struct ServiceTokens {
    pub user: super::staff::StaffView,
    pub items: Vec<TokenView>,
}

pub fn list_for_service(
    tenant: &Tenant,
    now: DateTime<Utc>,
    user_id: i64,
) -> Result<ServiceTokens> {
    let (user, rows) = tenant.db.read(|tx| {
        let user = service_account(tx, user_id, false)?;
        Ok::<_, super::ServiceError>((user, store::list_for_user(tx, user_id)?))
    })?;
    Ok(ServiceTokens {
        user: super::staff::StaffView::from(&user),
        items: rows.into_iter().map(|t| TokenView::new(t, now)).collect(),
    })
}

/// Revokes a service account's token (staff with `users.manage`).
pub fn revoke_for_service(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: i64,
    id: i64,
) -> Result<TokenView> {
    tenant.db.read(|tx| service_account(tx, user_id, false))?;
    revoke(tenant, now, actor, user_id, id)
}

pub fn list(tenant: &Tenant, now: DateTime<Utc>, user_id: i64) -> Result<Vec<TokenView>> {
    let rows = tenant.db.read(|tx| store::list_for_user(tx, user_id))?;
    Ok(rows.into_iter().map(|t| TokenView::new(t, now)).collect())
}

/// Revokes one of the user's own tokens. Revoking twice is harmless.
pub fn revoke(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: i64,
    id: i64,
) -> Result<TokenView> {
    let row = tenant.db.write(|tx| {
        let token = store::find_for_user(tx, id, user_id)?
            .ok_or_else(|| refuse(ErrorCode::NotFound, format!("token {id} does not exist")))?;
        if token.revoked_at.is_none() {
            store::revoke(tx, id, now)?;
            audit::record(
                tx,
                now,
                actor,
                "token.revoke",
                &format!("token:{id}"),
                json!({"name": token.name}),
            )?;
        }
        Ok::<_, super::ServiceError>(store::find_for_user(tx, id, user_id)?.unwrap_or(token))
    })?;
    Ok(TokenView::new(row, now))
}
