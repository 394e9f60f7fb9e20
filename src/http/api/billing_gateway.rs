//! `POST /api/v1/billing/payments`: a payment confirmation from the vendor's own payment
//! gateway, authenticated only by its signature (`GatewaySigned`), recorded as staff
//! would record it (`service::payment_gateway`).

use crate::http::gateway_signed::GatewaySigned;
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::invoices::PaymentRecorded;
use crate::service::payment_gateway::{self, GatewayPayment};
use actix_web::HttpResponse;

refusals!(GatewayRefusals: NotFound, InvoiceState, Overpayment, IdempotencyKeyReused);

/// Records a payment confirmed by the payment gateway
///
/// For sites whose vendor runs a payment gateway. No staff credential: the request is
/// authenticated by `Licd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
/// `"<t>.<raw body>"` with a secret of `billing.gateway_secret_file` (several `v1`
/// entries and several configured secrets allowed, for rotation). A signature whose `t`
/// is further than `billing.replay_window_secs` from licd's clock is refused with
/// `signature_expired`. The payment is recorded as staff would, by `gateway`, and
/// settles the invoice when it is fully paid (`became_paid`). The same
/// `idempotency_key` again answers the first payment (`repeated`); with a different
/// payment, `idempotency_key_reused`. Without a configured secret: 404
/// `gateway_disabled`. See docs/api.md for a worked example.
#[utoipa::path(
    post,
    path = "/api/v1/billing/payments",
    operation_id = "gateway_payment",
    tag = "billing",
    request_body = GatewayPayment,
    params(("Licd-Signature" = String, Header,
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`")),
    responses((status = 200, description = "The payment and the invoice", body = PaymentRecorded), GatewayRefusals),
)]
pub async fn payment(signed: GatewaySigned) -> Result<HttpResponse, ApiError> {
    let body: GatewayPayment = signed.json()?;
    let r = signed
        .open
        .run(move |cx| payment_gateway::confirm(&cx.app, &cx.tenant, cx.now, &body))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}
