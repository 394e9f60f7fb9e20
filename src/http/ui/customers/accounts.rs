//! Customers > Customer accounts (orgs.manage): the portal's accounts, searched by
//! email; one account with its organizations and roles, and what staff may do for it:
//! disable or enable it, email it a password-reset link, or its verification link again
//! (the outbox message is linked, for sites without SMTP). All audited.

use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::customers;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

type AccountsPage = Page<need::OrgsManage>;

const LIST: View = View {
    template: "customers_accounts.html",
    nav: "/customers/accounts",
};

const DETAIL: View = View {
    template: "customer_account.html",
    nav: "/customers/accounts",
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(flatten)]
    page: PageQuery,
}

pub async fn list(page: AccountsPage, q: web::Query<ListQuery>) -> Result<HttpResponse, UiReject> {
    let q = q.into_inner();
    let search = q.search.clone();
    let found = page
        .run(move |cx| customers::list(&cx.tenant, &search, customers::LIST_LIMIT))
        .await;
    let (accounts, shown) = match found {
        Ok(a) => (a, page.shown(&q.page)),
        Err(e) => (Vec::new(), Shown::refused("search", &e, &())),
    };
    let ctx = context! {
        accounts => accounts,
        search => q.search,
        limit => customers::LIST_LIMIT,
    };
    page.render(LIST, ctx, shown)
}

async fn detail_view(page: &AccountsPage, id: i64, shown: Shown) -> Result<HttpResponse, UiReject> {
    let account = page.run(move |cx| customers::show(&cx.tenant, id)).await?;
    page.render(DETAIL, context! { account => account }, shown)
}

pub async fn detail(
    page: AccountsPage,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    detail_view(&page, id.into_inner(), shown).await
}

async fn set_disabled(
    page: AccountsPage,
    id: i64,
    disabled: bool,
) -> Result<HttpResponse, UiReject> {
    let result = page
        .run(move |cx| customers::set_disabled(&cx.tenant, cx.now, &cx.actor, id, disabled))
        .await;
    let notice = if disabled {
        Notice::CustomerDisabled
    } else {
        Notice::CustomerEnabled
    };
    submit(
        &page,
        "account-actions",
        &(),
        result,
        |_| Done::to(format!("/customers/accounts/{id}")).notice(notice),
        |shown| detail_view(&page, id, shown),
    )
    .await
}

pub async fn disable(page: AccountsPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    set_disabled(page, id.into_inner(), true).await
}

pub async fn enable(page: AccountsPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    set_disabled(page, id.into_inner(), false).await
}

pub async fn send_reset(page: AccountsPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run(move |cx| customers::send_password_reset(&cx.app, &cx.tenant, cx.now, &cx.actor, id))
        .await;
    submit(
        &page,
        "account-actions",
        &(),
        result,
        |sent| {
            Done::to(format!("/customers/accounts/{id}"))
                .notice(Notice::CustomerResetSent)
                .show_once("sent", &sent)
        },
        |shown| detail_view(&page, id, shown),
    )
    .await
}

pub async fn resend_verification(
    page: AccountsPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run(move |cx| customers::resend_verification(&cx.app, &cx.tenant, cx.now, &cx.actor, id))
        .await;
    submit(
        &page,
        "account-actions",
        &(),
        result,
        |sent| {
            Done::to(format!("/customers/accounts/{id}"))
                .notice(Notice::CustomerVerificationSent)
                .show_once("sent", &sent)
        },
        |shown| detail_view(&page, id, shown),
    )
    .await
}
