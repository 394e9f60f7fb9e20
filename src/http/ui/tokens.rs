//! My API tokens: create (the secret is shown once), list, revoke.

use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::service::tokens;
use crate::service::{ServiceError, refuse};
use actix_web::{HttpResponse, web};
use chrono::Duration;
use minijinja::context;
use serde::{Deserialize, Serialize};

type TokensPage = Page<need::SignedIn>;

const VIEW: View = View {
    template: "tokens.html",
    nav: "/tokens",
};

/// The form as typed (shown again after a refusal).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    /// Days until the token expires; empty for no expiry.
    #[serde(default)]
    expires_in_days: String,
}

async fn view(page: &TokensPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let list = page
        .run(|cx| tokens::list(&cx.tenant, cx.now, cx.user_id()))
        .await?;
    page.render(VIEW, context! { tokens => list }, shown)
}

pub async fn show(page: TokensPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

pub(super) fn parse_days(s: &str) -> Result<Option<i64>, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => Ok(Some(d)),
        _ => Err(refuse(
            ErrorCode::ValidationFailed,
            "expires_in_days: a whole number of days from 1 to 3650, or empty",
        )),
    }
}

pub async fn create(
    page: TokensPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let typed = form.clone();
    let result = page
        .run(move |cx| {
            let expires_at = parse_days(&form.expires_in_days)?.map(|d| cx.now + Duration::days(d));
            tokens::create(
                &cx.tenant,
                cx.now,
                &cx.actor,
                cx.user_id(),
                &form.name,
                expires_at,
            )
        })
        .await;
    submit(
        &page,
        "create-token",
        &typed,
        result,
        |created| Done::to("/tokens").show_once("created", &created),
        |shown| view(&page, shown),
    )
    .await
}

pub async fn revoke(page: TokensPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run(move |cx| tokens::revoke(&cx.tenant, cx.now, &cx.actor, cx.user_id(), id))
        .await;
    submit(
        &page,
        "tokens",
        &(),
        result,
        |_| Done::to("/tokens").notice(Notice::TokenRevoked),
        |shown| view(&page, shown),
    )
    .await
}
