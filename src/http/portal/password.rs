//! Forgotten passwords: `/portal/password/forgot` asks for the address and always says
//! the same, whether or not an account has it; the emailed link opens
//! `/portal/password/reset?token=...`, a form for the new password (opening it uses
//! nothing up), whose POST sets it and ends every session of the account. Passwords are
//! never written back into a form.

use super::frame::{self, Frame, Rendered};
use super::notice::{NoticeQuery, PortalNotice};
use super::verify::link_refused;
use crate::domain::customer::LinkPurpose;
use crate::http::context::Open;
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::portal_links;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

fn forgot_page(
    req: &HttpRequest,
    open: &Open,
    email: &str,
    notice: Option<PortalNotice>,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let (csrf, fresh) = frame::csrf_for(req, &open.state)?;
    let frame = Frame {
        customer: None,
        csrf,
        notice,
    };
    frame::render(
        &open.state,
        "portal_forgot.html",
        frame,
        context! { email => email, error => error, link_hours => open.state.app.config.portal.link_hours },
        Rendered {
            cookie: fresh,
            ..how
        },
    )
}

pub async fn forgot_show(
    req: HttpRequest,
    open: Open,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiReject> {
    forgot_page(&req, &open, "", q.notice, None, Rendered::default())
}

pub async fn forgot_submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, UiReject> {
    let email = form.into_inner().email;
    let asked = {
        let email = email.clone();
        open.run(move |cx| {
            portal_links::request_password_reset(&cx.app, &cx.tenant, cx.now, &email)
        })
        .await
    };
    match asked {
        Ok(()) => Ok(see_other(&format!(
            "/portal/password/forgot?notice={}",
            PortalNotice::ResetRequested.code()
        ))),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            forgot_page(&req, &open, &email, None, Some(message), how)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn reset_page(
    req: &HttpRequest,
    open: &Open,
    pending: &portal_links::PendingLink,
    token: &str,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let (csrf, fresh) = frame::csrf_for(req, &open.state)?;
    let frame = Frame {
        customer: None,
        csrf,
        notice: None,
    };
    frame::render(
        &open.state,
        "portal_reset.html",
        frame,
        context! {
            email => pending.email,
            expires_at => pending.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            token => token,
            error => error,
            min_password => open.state.app.config.auth.min_password_length,
        },
        Rendered {
            cookie: fresh,
            ..how
        },
    )
}

async fn peek(open: &Open, token: &str) -> crate::service::Result<portal_links::PendingLink> {
    let token = token.to_owned();
    open.run(move |cx| portal_links::peek(&cx.tenant, cx.now, &token, LinkPurpose::ResetPassword))
        .await
}

pub async fn reset_show(
    req: HttpRequest,
    open: Open,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, UiReject> {
    let token = q.into_inner().token;
    match peek(&open, &token).await {
        Ok(pending) => reset_page(&req, &open, &pending, &token, None, Rendered::default()),
        Err(e) => link_refused(&req, &open, "portal_reset.html", &e),
    }
}

pub async fn reset_submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let pending = match peek(&open, &form.token).await {
        Ok(p) => p,
        Err(e) => return link_refused(&req, &open, "portal_reset.html", &e),
    };
    if form.new_password != form.confirm_password {
        let msg = "The new password and its confirmation differ.".to_owned();
        return reset_page(
            &req,
            &open,
            &pending,
            &form.token,
            Some(msg),
            frame::invalid(),
        );
    }
    let (token, password) = (form.token.clone(), form.new_password);
    let reset = open
        .run_password(move |cx| {
            portal_links::reset_password(&cx.app, &cx.tenant, cx.now, &token, &password)
        })
        .await;
    match reset {
        Ok(_) => {
            let mut resp = see_other(&format!(
                "/portal/login?notice={}",
                PortalNotice::PasswordReset.code()
            ));
            crate::http::sign_in::PORTAL.set_signed_out(&mut resp, &open.state)?;
            Ok(resp)
        }
        Err(e) => {
            let code = e.problem().code;
            if matches!(
                code,
                crate::error::ErrorCode::EmailLinkInvalid
                    | crate::error::ErrorCode::EmailLinkExpired
            ) {
                return link_refused(&req, &open, "portal_reset.html", &e);
            }
            let (how, message, _) = frame::refusal(&e);
            reset_page(&req, &open, &pending, &form.token, Some(message), how)
        }
    }
}
