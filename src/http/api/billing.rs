//! `/api/v1/billing` (billing.manage): invoices (list, detail, draft, lines, finalise),
//! payments, voiding, credit notes, and the price list.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::invoices::{
    self, Detail, InvoiceView, NewCreditNoteInput, NewDraft, NewLine, NewPaymentInput,
    PaymentRecorded, Show,
};
use crate::service::price_list::{self, PriceList, Stored};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Manager = Staff<need::BillingManage>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `all` (default), `draft`, `open`, `overdue` (open, past due), `paid`, `void`.
    #[param(value_type = Option<String>)]
    show: Option<Show>,
    /// Only this organization's invoices.
    organization_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    /// Newest first, at most 500.
    pub items: Vec<InvoiceView>,
}

refusals!(ListRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists invoices
#[utoipa::path(
    get,
    path = "/api/v1/billing/invoices",
    operation_id = "list_invoices",
    tag = "billing",
    params(ListQuery),
    responses((status = 200, description = "Invoices, newest first", body = InvoiceList), ListRefusals),
)]
pub async fn list(staff: Manager, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let items = staff
        .run(move |cx| {
            invoices::list(
                &cx.tenant,
                cx.now,
                q.show.unwrap_or_default(),
                q.organization_id,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(InvoiceList { items }))
}

refusals!(CreateRefusals: PasswordChangeRequired, ValidationFailed, UnknownOrganization, PriceListMissing);

/// Creates a draft invoice
///
/// With its lines: each line's amount is quantity × unit, its tax is rounded once per
/// line (half away from zero). A draft has no number until it is finalised.
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices",
    operation_id = "create_invoice",
    tag = "billing",
    request_body = NewDraft,
    responses((status = 201, description = "The draft", body = Detail), CreateRefusals),
)]
pub async fn create(staff: Manager, body: web::Json<NewDraft>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let d = staff
        .run(move |cx| invoices::create_draft(&cx.tenant, cx.now, &cx.actor, &body))
        .await?;
    Ok(HttpResponse::Created().json(d))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows an invoice
///
/// With its lines, payments, credit notes and the billing snapshot taken when it was
/// finalised.
#[utoipa::path(
    get,
    path = "/api/v1/billing/invoices/{id}",
    operation_id = "get_invoice",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    responses((status = 200, description = "The invoice", body = Detail), GetRefusals),
)]
pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let d = staff
        .run(move |cx| invoices::detail(&cx.tenant, cx.now, id))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

/// A draft's new lines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    pub lines: Vec<NewLine>,
}

refusals!(LinesRefusals: PasswordChangeRequired, NotFound, ValidationFailed, InvoiceFinalized);

/// Replaces a draft's lines
///
/// Refused with `invoice_finalized` once the invoice is finalised: its lines and totals
/// never change (credit it instead).
#[utoipa::path(
    put,
    path = "/api/v1/billing/invoices/{id}/lines",
    operation_id = "replace_invoice_lines",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    request_body = LinesBody,
    responses((status = 200, description = "The draft with its new lines", body = Detail), LinesRefusals),
)]
pub async fn lines(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<LinesBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let d = staff
        .run(move |cx| invoices::replace_lines(&cx.tenant, cx.now, &cx.actor, id, &body.lines))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

refusals!(FinalizeRefusals: PasswordChangeRequired, NotFound, InvoiceFinalized, UnknownOrganization);

/// Finalises a draft invoice
///
/// Gives it the next number of the year (`INV-YYYY-NNNNNN`, gapless), its issue and due
/// dates (the price list's payment terms, else 30 days), and emails it to the
/// organization's notification address. Refused with `invoice_finalized` when it is not
/// a draft.
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices/{id}/finalize",
    operation_id = "finalize_invoice",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    responses((status = 200, description = "The open invoice", body = Detail), FinalizeRefusals),
)]
pub async fn finalize(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let d = staff
        .run(move |cx| invoices::finalise(&cx.app, &cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

refusals!(PaymentRefusals: PasswordChangeRequired, NotFound, ValidationFailed, InvoiceState, Overpayment, IdempotencyKeyReused);

/// Records a payment
///
/// Partial payments add up; the invoice becomes `paid` when payments and credit notes
/// reach its total (`became_paid`). More than is left is refused (`overpayment`). The
/// same `idempotency_key` again records nothing and answers with the first payment
/// (`repeated`).
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices/{id}/payments",
    operation_id = "record_invoice_payment",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    request_body = NewPaymentInput,
    responses((status = 200, description = "The payment and the invoice", body = PaymentRecorded), PaymentRefusals),
)]
pub async fn payment(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<NewPaymentInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let r = staff
        .run(move |cx| {
            crate::service::payments::record(&cx.app, &cx.tenant, cx.now, &cx.actor, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidBody {
    pub reason: String,
}

refusals!(VoidRefusals: PasswordChangeRequired, NotFound, ValidationFailed, InvoiceNotVoidable);

/// Voids an invoice
///
/// Only an open invoice with no payments and no credit notes (credit it otherwise). Its
/// number stays taken.
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices/{id}/void",
    operation_id = "void_invoice",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    request_body = VoidBody,
    responses((status = 200, description = "The void invoice", body = Detail), VoidRefusals),
)]
pub async fn void(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<VoidBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let d = staff
        .run(move |cx| invoices::void(&cx.tenant, cx.now, &cx.actor, id, &body.reason))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

refusals!(CreditRefusals: PasswordChangeRequired, NotFound, ValidationFailed, InvoiceState, CreditExceedsBalance);

/// Issues a credit note
///
/// On an open invoice it lowers what is left to pay (settling it when nothing is left);
/// on a paid one it records what is owed back. At most what is left.
#[utoipa::path(
    post,
    path = "/api/v1/billing/invoices/{id}/credit-notes",
    operation_id = "credit_invoice",
    tag = "billing",
    params(("id" = i64, Path, description = "The invoice's id")),
    request_body = NewCreditNoteInput,
    responses((status = 200, description = "The invoice with its credit notes", body = Detail), CreditRefusals),
)]
pub async fn credit_note(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<NewCreditNoteInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let d = staff
        .run(move |cx| {
            crate::service::payments::credit(&cx.app, &cx.tenant, cx.now, &cx.actor, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

refusals!(PriceListRefusals: PasswordChangeRequired, PriceListMissing);

/// Shows the price list
#[utoipa::path(
    get,
    path = "/api/v1/billing/price-list",
    operation_id = "get_price_list",
    tag = "billing",
    responses((status = 200, description = "The price list", body = Stored), PriceListRefusals),
)]
pub async fn get_price_list(staff: Manager) -> Result<HttpResponse, ApiError> {
    let p = staff.run(move |cx| price_list::require(&cx.tenant)).await?;
    Ok(HttpResponse::Ok().json(p))
}

refusals!(PutPriceListRefusals: PasswordChangeRequired, ValidationFailed);

/// Replaces the price list
///
/// Prices in minor units per user and period; `validation_failed` names a field out of
/// range or a tax rule of the wrong shape.
#[utoipa::path(
    put,
    path = "/api/v1/billing/price-list",
    operation_id = "put_price_list",
    tag = "billing",
    request_body = PriceList,
    responses((status = 200, description = "The price list as saved", body = Stored), PutPriceListRefusals),
)]
pub async fn put_price_list(
    staff: Manager,
    body: web::Json<PriceList>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let p = staff
        .run(move |cx| price_list::replace(&cx.tenant, cx.now, &cx.actor, &body))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}
