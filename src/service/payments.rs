//! Money received: a payment, or a credit note, recorded on an invoice
//! (`service::invoices`) and, when it settles an invoice of a subscription, what paying
//! it does (`subscription_billing::settled`), in the same transaction. Staff, the
//! console and the payment gateway all record through here.

use super::invoices::{self, Detail, NewCreditNoteInput, NewPaymentInput, PaymentRecorded};
use super::org_notifications::Sender;
use super::tenant::Tenant;
use super::{Actor, App, Result, subscription_billing};
use chrono::{DateTime, Utc};

/// Records a payment (`invoices::record_payment_in`: partial payments add up, no
/// overpayment, idempotency keys); a payment that settles an invoice applies it.
pub fn record(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    invoice_id: i64,
    p: &NewPaymentInput,
) -> Result<PaymentRecorded> {
    let sender = Sender::of(app, tenant)?;
    tenant.db.write(|tx| {
        let r = invoices::record_payment_in(tx, now, actor, invoice_id, p)?;
        if r.became_paid {
            subscription_billing::settled(tx, tenant, now, actor, &sender, invoice_id)?;
        }
        Ok(r)
    })
}

/// Issues a credit note (`invoices::credit_note_in`); one that settles an open invoice
/// applies it like a payment.
pub fn credit(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    invoice_id: i64,
    c: &NewCreditNoteInput,
) -> Result<Detail> {
    let sender = Sender::of(app, tenant)?;
    tenant.db.write(|tx| {
        let (detail, became_paid) = invoices::credit_note_in(tx, now, actor, invoice_id, c)?;
        if became_paid {
            subscription_billing::settled(tx, tenant, now, actor, &sender, invoice_id)?;
            return invoices::detail_in(tx, now, invoice_id);
        }
        Ok(detail)
    })
}
