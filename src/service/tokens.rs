//! Bearer API tokens: created with a name and optional expiry, shown once, stored
//! hashed, listed, revoked.

use super::tenant::Tenant;
use super::{Actor, Result, audit, refuse, secrets};
use crate::domain::{staff, timestamp};
use crate::error::ErrorCode;
use crate::store::tokens::{self as store, NewToken, TokenRow};
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
