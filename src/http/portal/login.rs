//! The portal's sign-in page, signing in and out, and the portal's cookies. The session
//! cookie is `SameSite=Lax` (the staff one is `Strict`): a customer who follows a link
//! from their webmail (an invitation, a license) arrives signed in. Top-level GETs are
//! all a Lax cookie rides on from another site, portal GETs change nothing, and every
//! POST needs the CSRF token derived from the cookie (`middleware::csrf`).

use super::frame::{self, Frame, Rendered};
use super::notice::{self, PortalNotice};
use crate::http::auth::{PRELOGIN_COOKIE, cookie};
use crate::http::context::Open;
use crate::http::customer_auth::{CustomerPending, PORTAL_COOKIE, PORTAL_DEVICE_COOKIE};
use crate::http::state::AppState;
use crate::http::ui::form::see_other;
use crate::http::ui::login::cookie_error;
use crate::http::ui::next_path::safe_portal_next;
use crate::http::ui::reject::UiReject;
use crate::service::device_cookies;
use crate::service::portal_auth::{self, NewCustomerSession};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    #[serde(default, deserialize_with = "notice::lenient")]
    notice: Option<PortalNotice>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    password: String,
    next: Option<String>,
}

fn session_cookie(state: &AppState, value: String, max_age_minutes: i64) -> Cookie<'static> {
    Cookie::build(state.cookie_name(PORTAL_COOKIE), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::minutes(max_age_minutes))
        .finish()
}

fn device_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(state.cookie_name(PORTAL_DEVICE_COOKIE), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::days(device_cookies::LIFETIME_DAYS))
        .finish()
}

fn removal(state: &AppState, name: &str, same_site: SameSite) -> Cookie<'static> {
    let mut c = Cookie::build(state.cookie_name(name), "")
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(state.secure_cookies)
        .finish();
    c.make_removal();
    c
}

/// The cookies a new portal session sets: the session, the portal device cookie, and
/// the pre-login cookie removed. (An invitation accepted by a new account uses it too.)
pub fn signed_in(
    resp: &mut HttpResponse,
    state: &AppState,
    now: DateTime<Utc>,
    session: NewCustomerSession,
) -> Result<(), UiReject> {
    let minutes = (session.expires_at - now).num_minutes();
    let cookies = [
        session_cookie(state, session.secret, minutes),
        device_cookie(state, session.device_cookie),
        removal(state, PRELOGIN_COOKIE, SameSite::Strict),
    ];
    for c in &cookies {
        resp.add_cookie(c).map_err(cookie_error)?;
    }
    Ok(())
}

/// The portal session cookie removed (signed out, or the session ended).
pub fn signed_out(resp: &mut HttpResponse, state: &AppState) -> Result<(), UiReject> {
    resp.add_cookie(&removal(state, PORTAL_COOKIE, SameSite::Lax))
        .map_err(cookie_error)
}

/// What the sign-in page shows besides the form.
struct Said {
    notice: Option<PortalNotice>,
    error: Option<(String, &'static str)>,
    how: Rendered,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    next: &str,
    email: &str,
    said: Said,
) -> Result<HttpResponse, UiReject> {
    let (csrf, fresh) = frame::csrf_for(req, state)?;
    let signup_open = state.app.config.portal.signup == crate::config::Signup::Open;
    let (error, code) = said.error.unzip();
    let frame = Frame {
        customer: None,
        csrf,
        notice: said.notice,
    };
    let how = Rendered {
        cookie: fresh,
        ..said.how
    };
    frame::render(
        state,
        "portal_login.html",
        frame,
        context! { next => next, email => email, error => error, code => code, signup_open => signup_open },
        how,
    )
}

pub async fn show(
    req: HttpRequest,
    open: Open,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, UiReject> {
    let next = safe_portal_next(q.next.as_deref());
    let said = Said {
        notice: q.notice,
        error: None,
        how: Rendered::default(),
    };
    page(&req, &open.state, next, "", said)
}

pub async fn submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, UiReject> {
    let (state, now) = (&open.state, open.now);
    let address = req.peer_addr().map(|a| a.ip());
    let device = cookie(&req, PORTAL_DEVICE_COOKIE);
    let form = form.into_inner();
    let next = safe_portal_next(form.next.as_deref()).to_owned();
    let password = form.password;
    let cx = open.context();
    let outcome = match portal_auth::begin_sign_in(
        &cx.app,
        &cx.tenant,
        now,
        &form.email,
        address,
        device.as_deref(),
    ) {
        Ok(sign_in) => {
            open.run_password(move |cx| {
                portal_auth::sign_in(&cx.app, &cx.tenant, cx.now, sign_in, &password)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(session) => {
            let mut resp = see_other(&next);
            signed_in(&mut resp, state, now, session)?;
            Ok(resp)
        }
        Err(e) => {
            let (how, message, code) = frame::refusal(&e);
            let said = Said {
                notice: None,
                error: Some((message, code)),
                how,
            };
            page(&req, state, &next, &form.email, said)
        }
    }
}

pub async fn logout(page: CustomerPending) -> Result<HttpResponse, UiReject> {
    page.run(|cx| portal_auth::sign_out(&cx.tenant, cx.now, &cx.principal))
        .await?;
    let mut resp = see_other(&format!(
        "/portal/login?notice={}",
        PortalNotice::SignedOut.code()
    ));
    signed_out(&mut resp, &page.state)?;
    Ok(resp)
}
