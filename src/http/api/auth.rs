//! `/api/v1/auth/*` and `/api/v1/me`.

use crate::http::auth::{Staff, need, state, tenant_of};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::http::ui::login::session_cookie;
use crate::service::staff::StaffView;
use crate::service::{auth, secrets};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct LoginReply {
    user: StaffView,
    /// Send as `X-CSRF-Token` on state-changing requests made with the session cookie.
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

/// Signs in and sets the session cookie. API automation should prefer bearer tokens.
pub async fn login(req: HttpRequest, body: web::Json<LoginBody>) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let (app, now, body) = (state.app.clone(), state.now(), body.into_inner());
    let session =
        blocking(move || auth::login(&app, &tenant, now, &body.email, &body.password, &address))
            .await?;
    let minutes = (session.expires_at - now).num_minutes();
    let reply = LoginReply {
        user: StaffView::from(&session.principal.user),
        csrf_token: secrets::csrf_token(&session.secret),
        expires_at: session.expires_at,
    };
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, session.secret, minutes))
        .json(reply))
}

pub async fn logout(
    req: HttpRequest,
    staff: Staff<need::PendingPasswordOk>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now) = (staff.caller.clone(), state.now());
    blocking(move || auth::logout(&caller.tenant, now, &caller.principal)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    req: HttpRequest,
    staff: Staff<need::PendingPasswordOk>,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now, body) = (
        state.app.clone(),
        staff.caller.clone(),
        state.now(),
        body.into_inner(),
    );
    blocking(move || {
        auth::change_password(
            &app,
            &caller.tenant,
            now,
            &caller.principal,
            &body.current_password,
            &body.new_password,
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize)]
struct MeReply {
    user: StaffView,
    tenant: String,
    install_id: String,
}

pub async fn me(staff: Staff<need::PendingPasswordOk>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(MeReply {
        user: StaffView::from(&staff.principal.user),
        tenant: staff.tenant.schema_name.clone(),
        install_id: staff.tenant.install_id.clone(),
    }))
}
