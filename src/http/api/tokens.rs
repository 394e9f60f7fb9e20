//! `/api/v1/tokens`: the caller's own API tokens.

use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::tokens::{self, TokenView};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Owner = Staff<need::SignedIn>;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

refusals!(OwnerRefusals: PasswordChangeRequired);

/// Lists the caller's API tokens
///
/// Revoked and expired ones too (`active` tells). Secrets are never shown again.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    responses((status = 200, description = "The caller's tokens", body = TokenList), OwnerRefusals),
)]
pub async fn list(staff: Owner) -> Result<HttpResponse, ApiError> {
    let items = staff
        .run(|cx| tokens::list(&cx.tenant, cx.now, cx.user_id()))
        .await?;
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateTokenBody)]
pub struct CreateBody {
    #[schema(schema_with = crate::domain::fields::token_name)]
    name: String,
    /// RFC 3339; absent for a token that does not expire.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<InputTime>,
}

/// Creates an API token for the caller
///
/// The secret (`licd_...`) is in the reply, once. The token acts with its owner's role.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "create_token",
    tag = "tokens",
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = tokens::CreatedToken),
        OwnerRefusals,
    ),
)]
pub async fn create(staff: Owner, body: web::Json<CreateBody>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let created = staff
        .run(move |cx| {
            let expires_at = timestamp::parse_opt("expires_at", b.expires_at.as_ref())?;
            tokens::create(
                &cx.tenant,
                cx.now,
                &cx.actor,
                cx.user_id(),
                &b.name,
                expires_at,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

refusals!(RevokeRefusals: PasswordChangeRequired, NotFound);

/// Revokes one of the caller's API tokens
///
/// Revoking twice is harmless. Other users' tokens are `not_found`.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revoke_token",
    tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, description = "The token, revoked", body = TokenView), RevokeRefusals),
)]
pub async fn revoke(staff: Owner, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let token = staff
        .run(move |cx| tokens::revoke(&cx.tenant, cx.now, &cx.actor, cx.user_id(), id))
        .await?;
    Ok(HttpResponse::Ok().json(token))
}
