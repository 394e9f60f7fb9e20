//! Opening an invitation link (`/portal/invitation?token=...`, the token in the query,
//! which the request log never records). The GET only shows what the link does, so a
//! mail scanner that fetches links consumes nothing:
//!
//! - signed in as the invited address: a button that accepts (POST);
//! - signed in as someone else: says so; they are not added;
//! - not signed in, and the address has an account: sign in as it, then back here;
//! - not signed in, no account: sign up with the address filled in and locked; the
//!   invitation proves the address, and accepting signs the new customer in.

use super::frame::{self, Frame, Rendered};
use super::notice::PortalNotice;
use super::organizations::{acting, portal_error, to_org, ts};
use crate::http::context::Open;
use crate::http::customer_auth::{Customer, signed_in};
use crate::http::sign_in::PORTAL;
use crate::http::ui::reject::UiReject;
use crate::service::invitations::{self, ACCEPT_PATH};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SignUpForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    #[serde(skip_serializing)]
    password: String,
}

/// The invitation page for `token`, with an error beside its form.
async fn page(
    req: &HttpRequest,
    open: &Open,
    token: String,
    typed: Option<&SignUpForm>,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let t = token.clone();
    let preview = open
        .run(move |cx| invitations::preview(&cx.tenant, cx.now, &t))
        .await
        .map_err(portal_error)?;
    let inv = &preview.invitation;
    let email = inv.email.clone();
    let exists = open
        .run(move |cx| invitations::account_exists(&cx.tenant, &email))
        .await
        .map_err(portal_error)?;
    let caller = signed_in(req);
    let (csrf, cookie) = match &caller {
        Some(c) => (c.csrf.clone(), None),
        None => frame::csrf_for(req, &open.state)?,
    };
    let invited_by = inv
        .invited_by
        .split_once(':')
        .map_or(inv.invited_by.as_str(), |(_, who)| who);
    let accept_path = format!(
        "{ACCEPT_PATH}?{}",
        serde_urlencoded::to_string([("token", token.as_str())]).unwrap_or_default()
    );
    let sign_in_href = format!(
        "/portal/login?{}",
        serde_urlencoded::to_string([("next", accept_path.as_str())]).unwrap_or_default()
    );
    let frame = Frame {
        customer: caller.as_ref(),
        csrf,
        notice: None,
    };
    let how = Rendered {
        cookie: how.cookie.or(cookie),
        ..how
    };
    frame::render(
        &open.state,
        "portal_invitation.html",
        frame,
        context! {
            org => json!({"id": preview.organization.id, "name": preview.organization.name}),
            invitation => json!({
                "email": inv.email, "role": inv.role, "invited_by_email": invited_by,
                "expires_at": ts(inv.expires_at),
            }),
            signed_in_as => caller.as_ref().map(|c| c.principal.customer.email.clone()),
            account_exists => exists,
            token => token,
            sign_in_href => sign_in_href,
            form => typed,
            error => error,
            min_password_length => open.state.app.config.auth.min_password_length,
        },
        how,
    )
}

pub async fn show(
    req: HttpRequest,
    open: Open,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, UiReject> {
    page(
        &req,
        &open,
        q.into_inner().token,
        None,
        None,
        Rendered::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
}

/// A signed-in customer accepts: to the organization's page.
pub async fn accept(
    req: HttpRequest,
    me: Customer,
    open: Open,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, UiReject> {
    let token = form.into_inner().token;
    let t = token.clone();
    let result = me
        .run(move |cx| invitations::accept(&cx.tenant, cx.now, &acting(cx), &t))
        .await;
    match result {
        Ok(org_id) => Ok(to_org(org_id, PortalNotice::InvitationAccepted)),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            page(&req, &open, token, None, Some(message), how).await
        }
    }
}

/// Someone without an account signs up with the invited address and joins.
pub async fn sign_up(
    req: HttpRequest,
    open: Open,
    form: web::Form<SignUpForm>,
) -> Result<HttpResponse, UiReject> {
    let f = form.into_inner();
    let typed = f.clone();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let result = open
        .run_password(move |cx| {
            invitations::accept_as_new(
                &cx.app,
                &cx.tenant,
                cx.now,
                &f.token,
                &f.display_name,
                &f.password,
                &address,
            )
        })
        .await;
    match result {
        Ok((session, org_id)) => {
            let mut resp = to_org(org_id, PortalNotice::InvitationAccepted);
            PORTAL.set_signed_in(&mut resp, &open.state, open.now, session)?;
            Ok(resp)
        }
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            page(
                &req,
                &open,
                typed.token.clone(),
                Some(&typed),
                Some(message),
                how,
            )
            .await
        }
    }
}
