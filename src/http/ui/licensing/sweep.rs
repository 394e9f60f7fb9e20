//! Running the fleet health sweep from the licenses page (sweep.run): for real, or as a
//! dry run; the report is shown on the licenses page.

use super::list::{ListQuery, view};
use crate::http::auth::{Page, need};
use crate::http::ui::form::{Done, submit};
use crate::http::ui::reject::UiReject;
use crate::service::sweep;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
pub struct SweepForm {
    #[serde(default)]
    dry_run: Option<String>,
}

pub async fn run(
    page: Page<need::SweepRun>,
    form: web::Form<SweepForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let dry_run = form.dry_run.is_some();
    let result = page
        .run(move |cx| sweep::run_recorded(&cx.app, &cx.tenant, cx.now, &cx.actor, dry_run))
        .await;
    submit(
        &page,
        "run-sweep",
        &form,
        result,
        |report| Done::to("/licensing").show_once("report", &report),
        |shown| async { view(&page, &ListQuery::default(), shown).await },
    )
    .await
}
