//! Signing keys (signing.manage): list, rotate, retire; for a rotated-out key, the live
//! licenses it still signs and "reissue them all" (license.issue) before retiring it.

use crate::domain::permissions::Permission;
use crate::domain::signing_key::KeyStatus;
use crate::http::auth::{Caller, Page, need};
use crate::http::ui::form::{Done, PageQuery, Shown, View, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::{license_keys, signing_keys};
use actix_web::{HttpResponse, web};
use minijinja::context;

type SigningPage = Page<need::SigningManage>;

const VIEW: View = View {
    template: "licensing_signing.html",
    nav: "/licensing/signing",
};

/// Licenses listed under a rotated-out key (the rest are counted).
const LISTED: usize = 50;

async fn view(page: &Caller, shown: Shown) -> Result<HttpResponse, UiReject> {
    let (keys, signed) = page
        .run(|cx| {
            let keys = signing_keys::list(&cx.tenant)?;
            let mut signed = std::collections::BTreeMap::new();
            for k in keys
                .iter()
                .filter(|k| k.status == KeyStatus::Verifying && k.live_licenses > 0)
            {
                let ls = license_keys::live_signed_by(&cx.tenant, cx.now, &k.kid, LISTED)?;
                signed.insert(k.kid.clone(), ls);
            }
            Ok((keys, signed))
        })
        .await?;
    let can_reissue = page.principal.can(Permission::LicenseIssue);
    let ctx = context! { keys => keys, signed => signed, can_reissue => can_reissue };
    page.render(VIEW, ctx, shown)
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

/// Reissues every live license `kid` signed under the active key (license.issue).
pub async fn reissue_all(
    page: Page<need::LicenseIssue>,
    kid: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let kid = kid.into_inner();
    let result = page
        .run(move |cx| license_keys::reissue_signed_by(&cx.tenant, cx.now, &cx.actor, &kid))
        .await;
    submit(
        &page,
        "signing-keys",
        &(),
        result,
        |_| Done::to("/licensing/signing").notice(Notice::SigningReissued),
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
