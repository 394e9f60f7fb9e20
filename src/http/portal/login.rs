//! The portal's sign-in page, signing in and out. The attempt and the cookies are the
//! console's (`http::sign_in`) with the portal's names and a `SameSite=Lax` session
//! cookie (the staff one is `Strict`): a customer who follows a link from their webmail
//! (an invitation, a license) arrives signed in. Top-level GETs are all a Lax cookie
//! rides on from another site, portal GETs change nothing, and every POST needs the
//! CSRF token derived from the cookie (`middleware::csrf`).

use super::frame::{self, Frame, Rendered};
use super::notice::{self, PortalNotice};
use crate::http::context::Open;
use crate::http::customer_auth::CustomerPending;
use crate::http::sign_in::PORTAL;
use crate::http::state::AppState;
use crate::http::ui::form::see_other;
use crate::http::ui::next_path::safe_portal_next;
use crate::http::ui::reject::UiReject;
use crate::service::portal_auth;
use actix_web::{HttpRequest, HttpResponse, web};
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
    let form = form.into_inner();
    let next = safe_portal_next(form.next.as_deref()).to_owned();
    let password = form.password;
    let outcome = PORTAL
        .attempt(&req, &open, &form.email, move |cx, sign_in| {
            portal_auth::sign_in(&cx.app, &cx.tenant, cx.now, sign_in, &password)
        })
        .await;
    match outcome {
        Ok(session) => {
            let mut resp = see_other(&next);
            PORTAL.set_signed_in(&mut resp, state, now, session)?;
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
    PORTAL.set_signed_out(&mut resp, &page.state)?;
    Ok(resp)
}
