//! `/api/v1/signing-keys` (signing.manage), `/api/v1/licensing/settings`
//! (settings.manage), `/api/v1/provisioning-tokens` (license.issue).

use crate::domain::settings::LicensingSettings;
use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::provisioning::{self, Template};
use crate::service::{licensing_settings, signing_keys};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

pub async fn list_keys(staff: Staff<need::SigningManage>) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    let keys = blocking(move || signing_keys::list(&tenant)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": keys })))
}

/// Rotates: a new active key signs from now on; older keys keep verifying.
pub async fn rotate(
    req: HttpRequest,
    staff: Staff<need::SigningManage>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now) = (state.app.clone(), staff.caller.clone(), state.now());
    let kid = blocking(move || {
        signing_keys::rotate(&app, &caller.tenant, now, &caller.principal.actor())
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "kid": kid })))
}

pub async fn retire(
    req: HttpRequest,
    staff: Staff<need::SigningManage>,
    kid: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now, kid) = (
        state.app.clone(),
        staff.caller.clone(),
        state.now(),
        kid.into_inner(),
    );
    blocking(move || {
        signing_keys::retire(&app, &caller.tenant, now, &caller.principal.actor(), &kid)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn get_settings(staff: Staff<need::SettingsManage>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff.tenant.settings()))
}

pub async fn put_settings(
    req: HttpRequest,
    staff: Staff<need::SettingsManage>,
    body: web::Json<LicensingSettings>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, body) = (staff.caller.clone(), state.now(), body.into_inner());
    let s = blocking(move || {
        licensing_settings::update(&caller.tenant, now, &caller.principal.actor(), body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

pub async fn list_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now) = (staff.tenant.clone(), state.now());
    let items = blocking(move || provisioning::list(&tenant, now)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningBody {
    name: String,
    template: Template,
    max_uses: i64,
    expires_at: Option<DateTime<Utc>>,
}

pub async fn create_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
    body: web::Json<ProvisioningBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, b) = (staff.caller.clone(), state.now(), body.into_inner());
    let created = blocking(move || {
        provisioning::create(
            &caller.tenant,
            now,
            &caller.principal.actor(),
            &b.name,
            b.template,
            b.max_uses,
            b.expires_at,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn revoke_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let token =
        blocking(move || provisioning::revoke(&caller.tenant, now, &caller.principal.actor(), id))
            .await?;
    Ok(HttpResponse::Ok().json(token))
}
