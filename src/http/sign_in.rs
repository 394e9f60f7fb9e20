//! What signing in through a browser shares between the console (`ui::login`) and the
//! portal (`portal::login`): the attempt (the throttle, then the password workers), the
//! cookies a session sets and removes, and how a refused sign-in is shown. The two
//! differ only in what `SessionCookies` names: the cookies' names and the session
//! cookie's `SameSite` (`Strict` for staff; `Lax` for customers, who arrive from links
//! in their webmail).

use super::auth::{DEVICE_COOKIE, PRELOGIN_COOKIE, SESSION_COOKIE};
use super::context::{Context, Open};
use super::customer_auth::{PORTAL_COOKIE, PORTAL_DEVICE_COOKIE};
use super::state::AppState;
use super::ui::reject::UiReject;
use crate::service::auth::{self, SignIn, SignInKind};
use crate::service::{Result, ServiceError, device_cookies, portal_auth};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

/// The cookies of one kind of browser session.
#[derive(Debug, Clone, Copy)]
pub struct SessionCookies {
    kind: SignInKind,
    session: &'static str,
    device: &'static str,
    /// The session cookie's (and its removal's) `SameSite`.
    same_site: SameSite,
}

/// What a new session hands the browser: the session secret, when the session ends,
/// and a fresh device cookie.
pub trait NewBrowserSession {
    fn into_cookie_values(self) -> (String, DateTime<Utc>, String);
}

impl NewBrowserSession for auth::NewSession {
    fn into_cookie_values(self) -> (String, DateTime<Utc>, String) {
        (self.secret, self.expires_at, self.device_cookie)
    }
}

impl NewBrowserSession for portal_auth::NewCustomerSession {
    fn into_cookie_values(self) -> (String, DateTime<Utc>, String) {
        (self.secret, self.expires_at, self.device_cookie)
    }
}

/// The console's: `licd_session` (`Strict`) and `licd_device`.
pub const STAFF: SessionCookies = SessionCookies {
    kind: SignInKind::Staff,
    session: SESSION_COOKIE,
    device: DEVICE_COOKIE,
    same_site: SameSite::Strict,
};

/// The portal's: `licd_portal` (`Lax`: a top-level GET from another site, such as a
/// link in an email, arrives signed in; GETs change nothing and every POST needs the
/// CSRF token) and `licd_portal_device`.
pub const PORTAL: SessionCookies = SessionCookies {
    kind: SignInKind::Customer,
    session: PORTAL_COOKIE,
    device: PORTAL_DEVICE_COOKIE,
    same_site: SameSite::Lax,
};

/// One of licd's cookies: for the whole site, never for scripts, `Secure` (and named
/// `__Host-...`) when served over HTTPS.
fn build(state: &AppState, name: &str, value: String, same_site: SameSite) -> Cookie<'static> {
    Cookie::build(state.cookie_name(name), value)
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(state.secure_cookies)
        .finish()
}

/// A cookie removed (empty, expired).
fn removal(state: &AppState, name: &str, same_site: SameSite) -> Cookie<'static> {
    let mut c = build(state, name, String::new(), same_site);
    c.make_removal();
    c
}

impl SessionCookies {
    /// The session cookie, for `max_age_minutes` (the session's lifetime).
    pub fn session(
        &self,
        state: &AppState,
        value: String,
        max_age_minutes: i64,
    ) -> Cookie<'static> {
        let mut c = build(state, self.session, value, self.same_site);
        c.set_max_age(CookieDuration::minutes(max_age_minutes));
        c
    }

    /// The device cookie a successful sign-in leaves (see `service::device_cookies`):
    /// always `Strict`, and it outlives sessions and sign-outs.
    pub fn device(&self, state: &AppState, value: String) -> Cookie<'static> {
        let mut c = build(state, self.device, value, SameSite::Strict);
        c.set_max_age(CookieDuration::days(device_cookies::LIFETIME_DAYS));
        c
    }

    /// The cookies a new session sets: the session until it ends, the device cookie,
    /// and the pre-login cookie removed.
    pub fn set_signed_in(
        &self,
        resp: &mut HttpResponse,
        state: &AppState,
        now: DateTime<Utc>,
        session: impl NewBrowserSession,
    ) -> Result<(), UiReject> {
        let (secret, expires_at, device) = session.into_cookie_values();
        let minutes = (expires_at - now).num_minutes();
        let cookies = [
            self.session(state, secret, minutes),
            self.device(state, device),
            removal(state, PRELOGIN_COOKIE, SameSite::Strict),
        ];
        for c in &cookies {
            resp.add_cookie(c).map_err(cookie_error)?;
        }
        Ok(())
    }

    /// The session cookie removed (signed out, or the session ended).
    pub fn set_signed_out(
        &self,
        resp: &mut HttpResponse,
        state: &AppState,
    ) -> Result<(), UiReject> {
        resp.add_cookie(&removal(state, self.session, self.same_site))
            .map_err(cookie_error)
    }

    /// A sign-in attempt from a form: reserves it with the throttle (cheap, here; keys
    /// of this kind), then checks the password with `check` on the password workers.
    /// The device cookie is this kind's, read from the request.
    pub async fn attempt<T, F>(
        &self,
        req: &HttpRequest,
        open: &Open,
        email: &str,
        check: F,
    ) -> Result<T>
    where
        F: FnOnce(&Context, SignIn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let address = req.peer_addr().map(|a| a.ip());
        let device = super::auth::cookie(req, self.device);
        let cx = open.context();
        let sign_in = auth::begin_login(
            &cx.app,
            &cx.tenant,
            cx.now,
            self.kind,
            email,
            address,
            device.as_deref(),
        )?;
        open.run_password(move |cx| check(cx, sign_in)).await
    }
}

/// The pre-login cookie: the CSRF basis of forms posted before signing in (the console's
/// and the portal's), for 12 hours.
pub fn prelogin_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    let mut c = build(state, PRELOGIN_COOKIE, secret, SameSite::Strict);
    c.set_max_age(CookieDuration::hours(12));
    c
}

/// A cookie that cannot be set (a bug, never input).
pub fn cookie_error(e: impl std::fmt::Display) -> UiReject {
    ServiceError::unexpected(format!("cookie: {e}")).into()
}

/// A refused submission as a page shows it: its problem's status, message and code,
/// and any `Retry-After` (a throttled sign-in). Internal causes go to the log.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub retry_after: Option<u64>,
    pub message: String,
    pub code: &'static str,
}

impl Refusal {
    pub fn of(e: &ServiceError) -> Refusal {
        if e.is_internal() {
            tracing::error!(error = %e.report(), "request failed");
        }
        let p = e.problem();
        Refusal {
            status: StatusCode::from_u16(p.code.status().as_u16())
                .unwrap_or(StatusCode::BAD_REQUEST),
            retry_after: p.retry_after,
            message: p.detail,
            code: p.code.as_str(),
        }
    }

    /// Gives `resp` the refusal's `Retry-After`, if any.
    pub fn add_retry_after(&self, resp: &mut HttpResponse) {
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
    }
}
