//! `/api/v1/auth/*` and `/api/v1/me`.

use crate::http::auth::{DEVICE_COOKIE, Staff, cookie, need};
use crate::http::context::Open;
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::http::sign_in::STAFF;
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

refusals!(LoginRefusals: InvalidCredentials, AccountDisabled, OneTimePasswordExpired, TooManyAttempts, CsrfFailed, PasswordCheckBusy);

/// Signs in
///
/// Checks email and password and sets the `licd_session` cookie (HttpOnly). Browser
/// sessions send the reply's `csrf_token` as `X-CSRF-Token` on state-changing requests.
/// API automation should prefer bearer tokens. Failures are throttled per account and
/// per address (`too_many_attempts` with `Retry-After`). A successful sign-in also sets
/// the `licd_device` cookie: a client that sends it back is throttled on its own, not
/// per account, so others' failed guesses do not lock it out. When every password
/// worker is busy the answer is `password_check_busy` (503, `Retry-After`) at once.
/// A one-time password older than `auth.one_time_password_hours` is refused
/// (`one_time_password_expired`): an administrator must reset it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; the session and device cookies are set", body = LoginReply,
            headers(("Set-Cookie" = String, description = "`licd_session=...; Path=/; HttpOnly; SameSite=Strict` and `licd_device=...` with the same attributes; over HTTPS (TLS on, or an https `server.public_url`) `__Host-licd_session=...` and `__Host-licd_device=...` with `Secure`"))),
        LoginRefusals,
    ),
)]
pub async fn login(
    req: HttpRequest,
    open: Open,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let address = req.peer_addr().map(|a| a.ip());
    let device = cookie(&req, DEVICE_COOKIE);
    let body = body.into_inner();
    let cx = open.context();
    let sign_in = auth::begin_login(
        &cx.app,
        &cx.tenant,
        cx.now,
        auth::SignInKind::Staff,
        &body.email,
        address,
        device.as_deref(),
    )?;
    let session = open
        .run_password(move |cx| auth::login(&cx.app, &cx.tenant, cx.now, sign_in, &body.password))
        .await?;
    let (state, now) = (&open.state, open.now);
    let minutes = (session.expires_at - now).num_minutes();
    let reply = LoginReply {
        user: StaffView::from(&session.principal.user),
        csrf_token: secrets::csrf_token(&session.secret),
        expires_at: session.expires_at,
    };
    Ok(HttpResponse::Ok()
        .cookie(STAFF.session(state, session.secret, minutes))
        .cookie(STAFF.device(state, session.device_cookie))
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
)]
pub async fn logout(staff: Staff<need::PendingPasswordOk>) -> Result<HttpResponse, ApiError> {
    staff
        .run(|cx| auth::logout(&cx.tenant, cx.now, &cx.principal))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

refusals!(PasswordRefusals: TooManyAttempts, PasswordCheckBusy);

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
/// of the account end; this one stays. Every API token of the account is revoked,
/// including the one this request came with. `validation_failed` when the current
/// password is wrong or the new one breaks the password policy. Wrong current passwords
/// are throttled per account like sign-ins (`too_many_attempts` with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    operation_id = "change_password",
    tag = "auth",
    request_body = PasswordBody,
    responses((status = 204, description = "Changed"), PasswordRefusals),
)]
pub async fn change_password(
    staff: Staff<need::PendingPasswordOk>,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    staff
        .run_password(move |cx| {
            auth::change_password(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.principal,
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
)]
pub async fn me(staff: Staff<need::PendingPasswordOk>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(MeReply {
        user: StaffView::from(&staff.principal.user),
        tenant: staff.tenant.schema_name.clone(),
        install_id: staff.tenant.install_id.clone(),
    }))
}
