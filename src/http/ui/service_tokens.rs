//! A service account's API tokens (users.manage): staff make them (the secret is shown
//! once), list and revoke them. A service account has no password and never signs in;
//! these tokens are how it calls the API, with its role.

use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use super::tokens::parse_days;
use crate::http::auth::{Page, need};
use crate::service::tokens;
use actix_web::{HttpResponse, web};
use chrono::Duration;
use minijinja::context;
use serde::{Deserialize, Serialize};

type UsersPage = Page<need::UsersManage>;

const VIEW: View = View {
    template: "users_tokens.html",
    nav: "/users",
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

async fn view(page: &UsersPage, user: i64, shown: Shown) -> Result<HttpResponse, UiReject> {
    let list = page
        .run(move |cx| tokens::list_for_service(&cx.tenant, cx.now, user))
        .await?;
    page.render(
        VIEW,
        context! { account => list.user, tokens => list.items },
        shown,
    )
}

pub async fn show(
    page: UsersPage,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    view(&page, id.into_inner(), shown).await
}

pub async fn create(
    page: UsersPage,
    id: web::Path<i64>,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let (user, form) = (id.into_inner(), form.into_inner());
    let typed = form.clone();
    let result = page
        .run(move |cx| {
            let expires_at = parse_days(&form.expires_in_days)?.map(|d| cx.now + Duration::days(d));
            tokens::create_for_service(&cx.tenant, cx.now, &cx.actor, user, &form.name, expires_at)
        })
        .await;
    submit(
        &page,
        "create-service-token",
        &typed,
        result,
        |created| {
            Done::to(format!("/users/{user}/tokens"))
                .notice(Notice::ServiceTokenCreated)
                .show_once("created", &created)
        },
        |shown| view(&page, user, shown),
    )
    .await
}

pub async fn revoke(
    page: UsersPage,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, UiReject> {
    let (user, token) = path.into_inner();
    let result = page
        .run(move |cx| tokens::revoke_for_service(&cx.tenant, cx.now, &cx.actor, user, token))
        .await;
    submit(
        &page,
        "service-tokens",
        &(),
        result,
        |_| Done::to(format!("/users/{user}/tokens")).notice(Notice::TokenRevoked),
        |shown| view(&page, user, shown),
    )
    .await
}
