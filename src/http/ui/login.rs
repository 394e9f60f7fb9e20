//! The login page, signing in and out.

use super::next_path::safe_next;
use super::{form_error, see_other};
use crate::http::auth::{
    DEVICE_COOKIE, PRELOGIN_COOKIE, Page, SESSION_COOKIE, cookie, csrf_basis, need, state,
    tenant_of,
};
use crate::http::state::{AppState, blocking, password_work};
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

fn login_page(
    state: &AppState,
    csrf: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let html = state.templates.render(
        "login.html",
        context! { csrf => csrf, next => next, email => email, error => error },
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub async fn show(req: HttpRequest, q: web::Query<LoginQuery>) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let next = safe_next(q.next.as_deref());
    // A CSRF basis is needed before the form can be posted: make a pre-login cookie.
    let (basis, fresh) = match csrf_basis(&req) {
        Some(b) => (b, None),
        None => {
            let secret = secrets::new_secret()?;
            (secret.clone(), Some(secret))
        }
    };
    let mut resp = login_page(
        &state,
        &secrets::csrf_token(&basis),
        next,
        "",
        None,
        StatusCode::OK,
    )?;
    if let Some(secret) = fresh {
        let cookie = Cookie::build(state.cookie_name(PRELOGIN_COOKIE), secret)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.secure_cookies)
            .max_age(CookieDuration::hours(12))
            .finish();
        resp.add_cookie(&cookie).map_err(cookie_error)?;
    }
    Ok(resp)
}

pub async fn submit(
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let tenant = tenant_of(&req, &state)?;
    let address = req.peer_addr().map(|a| a.ip());
    let device = cookie(&req, DEVICE_COOKIE);
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref()).to_owned();
    let now = state.now();
    let app = state.app.clone();
    let password = form.password;
    let outcome =
        match auth::begin_login(&app, &tenant, now, &form.email, address, device.as_deref()) {
            Ok(sign_in) => {
                password_work(&state, move || {
                    auth::login(&app, &tenant, now, sign_in, &password)
                })
                .await
            }
            Err(e) => Err(e),
        };
    match outcome {
        Ok(session) => {
            let minutes = (session.expires_at - now).num_minutes();
            let to = if session.principal.user.must_change_password {
                "/password"
            } else {
                &next
            };
            let mut resp = see_other(to);
            let cookies = [
                session_cookie(&state, session.secret, minutes),
                device_cookie(&state, session.device_cookie),
                expired(&state, PRELOGIN_COOKIE),
            ];
            for c in &cookies {
                resp.add_cookie(c).map_err(cookie_error)?;
            }
            Ok(resp)
        }
        Err(e) => {
            let problem = e.problem();
            let (status, message) = form_error(&problem);
            let csrf = csrf_basis(&req)
                .map(|b| secrets::csrf_token(&b))
                .unwrap_or_default();
            let mut resp = login_page(&state, &csrf, &next, &form.email, Some(&message), status)?;
            if let Some(secs) = problem.retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            Ok(resp)
        }
    }
}

pub async fn logout(
    req: HttpRequest,
    page: Page<need::PendingPasswordOk>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let now = state.now();
    let caller = page.caller.clone();
    blocking(move || auth::logout(&caller.tenant, now, &caller.principal)).await?;
    let mut resp = see_other("/login");
    resp.add_cookie(&expired(&state, SESSION_COOKIE))
        .map_err(cookie_error)?;
    Ok(resp)
}

fn cookie_error(e: impl std::fmt::Display) -> UiReject {
    crate::service::ServiceError::unexpected(format!("cookie: {e}")).into()
}
