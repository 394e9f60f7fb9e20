//! `/api/v1/auth/*` and `/api/v1/me`.

use crate::http::auth::{Staff, need, state, tenant_of};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::http::ui::login::session_cookie;
use crate::service::staff::StaffView;
use crate::service::{auth, secrets};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginReply {
    user: StaffView,
    /// Send as `X-CSRF-Token` on state-changing requests made with the session cookie.
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

refusals!(LoginRefusals: InvalidCredentials, AccountDisabled, TooManyAttempts, CsrfFailed);

/// Signs in
///
/// Checks email and password and sets the `licd_session` cookie (HttpOnly). Browser
/// sessions send the reply's `csrf_token` as `X-CSRF-Token` on state-changing requests.
/// API automation should prefer bearer tokens. Failures are throttled per account and
/// per address (`too_many_attempts` with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = LoginReply,
            headers(("Set-Cookie" = String, description = "`licd_session=...; Path=/; HttpOnly; SameSite=Strict` (and `Secure` over TLS)"))),
        LoginRefusals,
    ),
)]
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

/// Signs out
///
/// Ends the caller's session. With an API token there is no session: nothing happens.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "logout",
    tag = "auth",
    responses((status = 204, description = "Signed out")),
    security(("bearer_token" = []), ("session_cookie" = [], "csrf_token" = [])),
)]
pub async fn logout(
    req: HttpRequest,
    staff: Staff<need::PendingPasswordOk>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now) = (staff.caller.clone(), state.now());
    blocking(move || auth::logout(&caller.tenant, now, &caller.principal)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    #[schema(schema_with = crate::domain::fields::new_password)]
    new_password: String,
}

/// Changes the caller's password
///
/// Works while a one-time password is pending (that is what it is for). Other sessions
/// of the account end; this one stays. `validation_failed` when the current password is
/// wrong or the new one breaks the password policy.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    operation_id = "change_password",
    tag = "auth",
    request_body = PasswordBody,
    responses((status = 204, description = "Changed")),
    security(("bearer_token" = []), ("session_cookie" = [], "csrf_token" = [])),
)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MeReply {
    user: StaffView,
    tenant: String,
    install_id: String,
}

/// The caller
///
/// The signed-in account, its tenant and the tenant's Install ID. Works while a
/// one-time password is pending.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "me",
    tag = "auth",
    responses((status = 200, description = "The caller", body = MeReply)),
    security(("bearer_token" = []), ("session_cookie" = [])),
)]
pub async fn me(staff: Staff<need::PendingPasswordOk>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(MeReply {
        user: StaffView::from(&staff.principal.user),
        tenant: staff.tenant.schema_name.clone(),
        install_id: staff.tenant.install_id.clone(),
    }))
}
