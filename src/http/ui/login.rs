//! The login page, signing in and out. The sign-in form follows the console's form
//! pattern (`ui::form`) without the signed-in frame: a refusal shows the form again with
//! the message and the email typed; success redirects.

use super::form::see_other;
use super::next_path::safe_next;
use super::notice::{self, Notice};
use crate::http::auth::{
    DEVICE_COOKIE, PRELOGIN_COOKIE, Page, SESSION_COOKIE, cookie, csrf_basis, need,
};
use crate::http::context::Open;
use crate::http::state::AppState;
use crate::http::ui::reject::UiReject;
use crate::service::{auth, device_cookies, secrets};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Why the visitor is here (an ended session).
    #[serde(default, deserialize_with = "notice::lenient")]
    notice: Option<Notice>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub fn session_cookie(state: &AppState, value: String, max_age_minutes: i64) -> Cookie<'static> {
    Cookie::build(state.cookie_name(SESSION_COOKIE), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::minutes(max_age_minutes))
        .finish()
}

/// The device cookie a successful sign-in leaves (see `service::device_cookies`); the
/// same attributes as the session cookie, but it outlives sessions and sign-outs.
pub fn device_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(state.cookie_name(DEVICE_COOKIE), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::days(device_cookies::LIFETIME_DAYS))
        .finish()
}

fn expired(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(state.cookie_name(name), "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .finish();
    c.make_removal();
    c
}

/// What the login page shows besides the form.
struct Said<'a> {
    notice: Option<Notice>,
    error: Option<&'a str>,
    status: StatusCode,
}

fn login_page(
    state: &AppState,
    csrf: &str,
    next: &str,
    email: &str,
    said: Said<'_>,
) -> Result<HttpResponse, UiReject> {
    let html = state.templates.render(
        "login.html",
        context! {
            csrf => csrf,
            next => next,
            email => email,
            error => said.error,
            notice => said.notice.map(Notice::text),
        },
    )?;
    let status = said.status;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub async fn show(
    req: HttpRequest,
    open: Open,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = &open.state;
    let next = safe_next(q.next.as_deref());
    let (csrf, fresh) = prelogin_csrf(&req, state)?;
    let said = Said {
        notice: q.notice,
        error: None,
        status: StatusCode::OK,
    };
    let mut resp = login_page(state, &csrf, next, "", said)?;
    if let Some(cookie) = fresh {
        resp.add_cookie(&cookie).map_err(cookie_error)?;
    }
    Ok(resp)
}

/// The CSRF token for a form posted before signing in, and the pre-login cookie to set
/// when the visitor has no CSRF basis yet.
pub(super) fn prelogin_csrf(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(String, Option<Cookie<'static>>), UiReject> {
    if let Some(basis) = csrf_basis(req) {
        return Ok((secrets::csrf_token(&basis), None));
    }
    let secret = secrets::new_secret()?;
    let csrf = secrets::csrf_token(&secret);
    Ok((csrf, Some(prelogin_cookie(state, secret))))
}

/// The pre-login cookie: the CSRF basis of forms posted before signing in (the console's
/// and the portal's).
pub(crate) fn prelogin_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    Cookie::build(state.cookie_name(PRELOGIN_COOKIE), secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::hours(12))
        .finish()
}

/// The cookies a new session sets: the session, the device cookie, and the pre-login
/// cookie removed.
pub(super) fn signed_in(
    resp: &mut HttpResponse,
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    session: auth::NewSession,
) -> Result<(), UiReject> {
    let minutes = (session.expires_at - now).num_minutes();
    let cookies = [
        session_cookie(state, session.secret, minutes),
        device_cookie(state, session.device_cookie),
        expired(state, PRELOGIN_COOKIE),
    ];
    for c in &cookies {
        resp.add_cookie(c).map_err(cookie_error)?;
    }
    Ok(())
}

pub async fn submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiReject> {
    let (state, now) = (&open.state, open.now);
    let address = req.peer_addr().map(|a| a.ip());
    let device = cookie(&req, DEVICE_COOKIE);
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref()).to_owned();
    let password = form.password;
    let cx = open.context();
    let outcome = match auth::begin_login(
        &cx.app,
        &cx.tenant,
        now,
        &form.email,
        address,
        device.as_deref(),
    ) {
        Ok(sign_in) => {
            open.run_password(move |cx| {
                auth::login(&cx.app, &cx.tenant, cx.now, sign_in, &password)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(session) => {
            let to = if session.principal.user.must_change_password {
                "/password"
            } else {
                &next
            };
            let mut resp = see_other(to);
            signed_in(&mut resp, state, now, session)?;
            Ok(resp)
        }
        Err(e) => {
            if e.is_internal() {
                tracing::error!(error = %e, "sign-in failed");
            }
            let problem = e.problem();
            let csrf = csrf_basis(&req)
                .map(|b| secrets::csrf_token(&b))
                .unwrap_or_default();
            let said = Said {
                notice: None,
                error: Some(&problem.detail),
                status: StatusCode::from_u16(problem.code.status().as_u16())
                    .unwrap_or(StatusCode::BAD_REQUEST),
            };
            let mut resp = login_page(state, &csrf, &next, &form.email, said)?;
            if let Some(secs) = problem.retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            Ok(resp)
        }
    }
}

pub async fn logout(page: Page<need::PendingPasswordOk>) -> Result<HttpResponse, UiReject> {
    page.run(|cx| auth::logout(&cx.tenant, cx.now, &cx.principal))
        .await?;
    let mut resp = see_other("/login");
    resp.add_cookie(&expired(&page.state, SESSION_COOKIE))
        .map_err(cookie_error)?;
    Ok(resp)
}

pub(crate) fn cookie_error(e: impl std::fmt::Display) -> UiReject {
    crate::service::ServiceError::unexpected(format!("cookie: {e}")).into()
}
