//! Recovery links (`service::recovery`): `GET /recover?key=...` shows a confirmation
//! page on the tenant's host and uses nothing up (mail scanners follow links); only the
//! POST from that page (CSRF-protected like the sign-in form) redeems the key and signs
//! in, to the forced password choice when the account has none. The key travels in the
//! query and the form body, neither of which is ever logged.

use super::form::see_other;
use super::login::prelogin_csrf;
use crate::http::context::Open;
use crate::http::sign_in::{STAFF, cookie_error};
use crate::http::ui::reject::UiReject;
use crate::service::{ServiceError, recovery};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct RecoverQuery {
    #[serde(default)]
    key: String,
}

#[derive(Debug, Deserialize)]
pub struct RecoverForm {
    key: String,
}

fn refused(open: &Open, e: &ServiceError) -> Result<HttpResponse, UiReject> {
    if e.is_internal() {
        tracing::error!(error = %e, "a recovery link failed");
    }
    let p = e.problem();
    let html = open.state.templates.render(
        "recover.html",
        context! { tenant_name => open.tenant.name(), error => p.detail },
    )?;
    Ok(HttpResponse::build(
        StatusCode::from_u16(p.code.status().as_u16()).unwrap_or(StatusCode::BAD_REQUEST),
    )
    .content_type("text/html; charset=utf-8")
    .insert_header(("cache-control", "no-store"))
    .body(html))
}

pub async fn show(
    req: HttpRequest,
    open: Open,
    q: web::Query<RecoverQuery>,
) -> Result<HttpResponse, UiReject> {
    let key = q.into_inner().key;
    let peeked = {
        let key = key.clone();
        open.run(move |cx| recovery::peek(&cx.app, &cx.tenant, cx.now, &key))
            .await
    };
    let pending = match peeked {
        Ok(p) => p,
        Err(e) => return refused(&open, &e),
    };
    let (csrf, fresh) = prelogin_csrf(&req, &open.state)?;
    let html = open.state.templates.render(
        "recover.html",
        context! {
            tenant_name => open.tenant.name(),
            email => pending.email,
            expires_at => pending.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            creates_account => pending.creates_account,
            csrf => csrf,
            key => key,
        },
    )?;
    let mut resp = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(html);
    if let Some(cookie) = fresh {
        resp.add_cookie(&cookie).map_err(cookie_error)?;
    }
    Ok(resp)
}

pub async fn redeem(
    req: HttpRequest,
    open: Open,
    form: web::Form<RecoverForm>,
) -> Result<HttpResponse, UiReject> {
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let key = form.into_inner().key;
    let redeemed = open
        .run(move |cx| recovery::redeem(&cx.app, &cx.tenant, cx.now, &key, &address))
        .await;
    match redeemed {
        Ok(session) => {
            let to = if session.principal.user.must_change_password {
                "/password"
            } else {
                "/"
            };
            let mut resp = see_other(to);
            STAFF.set_signed_in(&mut resp, &open.state, open.now, session)?;
            Ok(resp)
        }
        Err(e) => refused(&open, &e),
    }
}
