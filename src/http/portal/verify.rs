//! Email verification links (`service::portal_links`): `GET /portal/verify?token=...`
//! shows a page with a button and uses nothing up (mail scanners follow links); the
//! POST from it verifies. A signed-in, unverified customer may ask for the link again
//! (`POST /portal/verify/resend`, at most once a minute).

use super::frame::{self, Frame, Rendered};
use super::home;
use super::notice::PortalNotice;
use crate::domain::customer::LinkPurpose;
use crate::http::context::Open;
use crate::http::customer_auth::{CustomerPending, signed_in};
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::{ServiceError, portal_links};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

/// The page a link that does not work opens: why, and a way on.
pub(super) fn link_refused(
    req: &HttpRequest,
    open: &Open,
    template: &str,
    e: &ServiceError,
) -> Result<HttpResponse, UiReject> {
    let (how, message, code) = frame::refusal(e);
    let caller = signed_in(req);
    let frame = Frame {
        customer: caller.as_ref(),
        csrf: caller.as_ref().map(|c| c.csrf.clone()).unwrap_or_default(),
        notice: None,
    };
    frame::render(
        &open.state,
        template,
        frame,
        context! { error => message, code => code },
        how,
    )
}

pub async fn show(
    req: HttpRequest,
    open: Open,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, UiReject> {
    let token = q.into_inner().token;
    let peeked = {
        let token = token.clone();
        open.run(move |cx| portal_links::peek(&cx.tenant, cx.now, &token, LinkPurpose::VerifyEmail))
            .await
    };
    let pending = match peeked {
        Ok(p) => p,
        Err(e) => return link_refused(&req, &open, "portal_verify.html", &e),
    };
    let (csrf, fresh) = frame::csrf_for(&req, &open.state)?;
    let caller = signed_in(&req);
    let frame = Frame {
        customer: caller.as_ref(),
        csrf,
        notice: None,
    };
    frame::render(
        &open.state,
        "portal_verify.html",
        frame,
        context! {
            email => pending.email,
            expires_at => pending.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            token => token,
        },
        Rendered {
            cookie: fresh,
            ..Rendered::default()
        },
    )
}

pub async fn redeem(
    req: HttpRequest,
    open: Open,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, UiReject> {
    let token = form.into_inner().token;
    let verified = open
        .run(move |cx| portal_links::verify_email(&cx.tenant, cx.now, &token))
        .await;
    match verified {
        Ok(done) => {
            let notice = PortalNotice::EmailVerified.code();
            // Signed in as that account here: on to the portal; else sign in.
            let here = signed_in(&req).is_some_and(|c| c.principal.customer.id == done.customer_id);
            let to = if here {
                format!("/portal/?notice={notice}")
            } else {
                format!("/portal/login?notice={notice}")
            };
            Ok(see_other(&to))
        }
        Err(e) => link_refused(&req, &open, "portal_verify.html", &e),
    }
}

pub async fn resend(page: CustomerPending) -> Result<HttpResponse, UiReject> {
    let sent = page
        .run(|cx| {
            portal_links::resend_verification(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.actor,
                cx.principal.customer.id,
            )
        })
        .await;
    match sent {
        Ok(_) => Ok(see_other(&format!(
            "/portal/?notice={}",
            PortalNotice::VerificationSent.code()
        ))),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            home::view(&page, None, Some(message), how)
        }
    }
}
