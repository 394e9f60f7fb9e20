//! Signing keys (signing.manage): list, rotate, retire.

use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::signing_keys;
use actix_web::{HttpResponse, web};
use minijinja::context;

type SigningPage = Page<need::SigningManage>;

const VIEW: View = View {
    template: "licensing_signing.html",
    nav: "/licensing/signing",
};

async fn view(page: &SigningPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let keys = page.run(|cx| signing_keys::list(&cx.tenant)).await?;
    page.render(VIEW, context! { keys => keys }, shown)
}

pub async fn show(page: SigningPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

pub async fn rotate(page: SigningPage) -> Result<HttpResponse, UiReject> {
    let result = page
        .run(|cx| signing_keys::rotate(&cx.app, &cx.tenant, cx.now, &cx.actor))
        .await;
    submit(
        &page,
        "rotate-key",
        &(),
        result,
        |_| Done::to("/licensing/signing").notice(Notice::SigningRotated),
        |shown| view(&page, shown),
    )
    .await
}

pub async fn retire(page: SigningPage, kid: web::Path<String>) -> Result<HttpResponse, UiReject> {
    let kid = kid.into_inner();
    let result = page
        .run(move |cx| signing_keys::retire(&cx.app, &cx.tenant, cx.now, &cx.actor, &kid))
        .await;
    submit(
        &page,
        "signing-keys",
        &(),
        result,
        |()| Done::to("/licensing/signing").notice(Notice::SigningRetired),
        |shown| view(&page, shown),
    )
    .await
}
