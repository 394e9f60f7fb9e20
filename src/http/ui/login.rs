//! The login page, signing in and out. The sign-in form follows the console's form
//! pattern (`ui::form`) without the signed-in frame: a refusal shows the form again with
//! the message and the email typed; success redirects.

use super::form::see_other;
use super::next_path::safe_next;
use super::notice::{self, Notice};
use crate::http::auth::{Page, csrf_basis, need};
use crate::http::context::Open;
use crate::http::sign_in::{Refusal, STAFF, cookie_error, prelogin_cookie};
use crate::http::state::AppState;
use crate::http::ui::reject::UiReject;
use crate::service::{auth, secrets};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
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

pub async fn submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiReject> {
    let (state, now) = (&open.state, open.now);
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref()).to_owned();
    let password = form.password;
    let outcome = STAFF
        .attempt(&req, &open, &form.email, move |cx, sign_in| {
            auth::login(&cx.app, &cx.tenant, cx.now, sign_in, &password)
        })
        .await;
    match outcome {
        Ok(session) => {
            let to = if session.principal.user.must_change_password {
                "/password"
            } else {
                &next
            };
            let mut resp = see_other(to);
            STAFF.set_signed_in(&mut resp, state, now, session)?;
            Ok(resp)
        }
        Err(e) => {
            let refusal = Refusal::of(&e);
            let csrf = csrf_basis(&req)
                .map(|b| secrets::csrf_token(&b))
                .unwrap_or_default();
            let said = Said {
                notice: None,
                error: Some(&refusal.message),
                status: refusal.status,
            };
            let mut resp = login_page(state, &csrf, &next, &form.email, said)?;
            refusal.add_retry_after(&mut resp);
            Ok(resp)
        }
    }
}

pub async fn logout(page: Page<need::PendingPasswordOk>) -> Result<HttpResponse, UiReject> {
    page.run(|cx| auth::logout(&cx.tenant, cx.now, &cx.principal))
        .await?;
    let mut resp = see_other("/login");
    STAFF.set_signed_out(&mut resp, &page.state)?;
    Ok(resp)
}
