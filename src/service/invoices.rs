//! The billing ledger, staff side (`billing.manage`): invoices from draft to paid or
//! void, payments, credit notes. A draft gets its lines (amounts and tax by
//! `domain::money`, once per line); finalising gives it the next gapless number of its
//! year in the same write transaction (one writer at a time, so concurrent
//! finalisations never skip or repeat a number) and emails the organization. From then
//! on its lines and totals never change: a route that would is refused with
//! `invoice_finalized`; what moves is what was paid and credited, and its state.
//! Every change is audited in its transaction.

use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, outbox, refuse};
use crate::domain::free_text;
use crate::domain::money::{self, Currency, Money};
use crate::error::ErrorCode;
use crate::store::billing_accounts;
use crate::store::invoices::{
    self as store, InvoiceRow, InvoiceStatus, LineRow, ListFilter, NewCreditNote, NewInvoice,
};
use crate::store::payments::{self as payment_store, NewPayment, PaymentRow};
use crate::store::{ReadTx, WriteTx, organizations, price_list};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Most invoices a list answers.
pub const LIST_MAX: i64 = 500;
/// Most lines an invoice has.
pub const LINES_MAX: usize = 100;
/// Payment terms when no price list is set.
const DEFAULT_TERMS_DAYS: i64 = 30;

fn not_found(id: i64) -> ServiceError {
    refuse(ErrorCode::NotFound, format!("no invoice has the id {id}"))
}

fn target(id: i64) -> String {
    format!("invoice:{id}")
}

fn invalid(field: &str, why: &str) -> ServiceError {
    refuse(ErrorCode::ValidationFailed, format!("{field}: {why}"))
}

/// The number the `seq`-th invoice of `year` gets (`domain::invoice::format_number`:
/// `INV-2026-000042`; a year past invoice 999999 is refused rather than renumbered).
fn invoice_number(year: i32, seq: i64) -> Result<String> {
    let seq = u32::try_from(seq).map_err(|_| invalid("number", "out of range"))?;
    Ok(crate::domain::invoice::format_number(year, seq)?)
}

/// What a line is for.
const LINE_KINDS: &[&str] = &[
    "internal_users",
    "external_users",
    "minimum",
    "adjustment",
    "other",
];
const PAYMENT_METHODS: &[&str] = &["bank_transfer", "purchase_order"];

/// A line of a new draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// `internal_users`, `external_users`, `minimum`, `adjustment` or `other`.
    pub kind: String,
    pub description: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub quantity: i64,
    /// The price of one unit, in minor units (may be negative for an adjustment).
    pub unit_minor: i64,
    /// The tax rate in basis points (1900 = 19 %).
    #[serde(default)]
    pub tax_rate_bp: u32,
    /// The line covers part of a period (an upgrade mid-term).
    #[serde(default)]
    pub proration: bool,
}

/// A new draft invoice.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    pub organization_id: i64,
    pub subscription_id: Option<i64>,
    /// Absent: the price list's currency.
    pub currency: Option<String>,
    /// `bank_transfer` (default) or `purchase_order`.
    pub payment_method: Option<String>,
    #[serde(default)]
    pub po_number: String,
    pub lines: Vec<NewLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = InvoiceLine)]
pub struct LineView {
    pub id: i64,
    pub position: i64,
    pub kind: String,
    pub description: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub quantity: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    pub tax_rate_bp: u32,
    pub tax_minor: i64,
    pub proration: bool,
}

impl From<LineRow> for LineView {
    fn from(l: LineRow) -> Self {
        LineView {
            id: l.id,
            position: l.position,
            kind: l.kind,
            description: l.description,
            period_start: l.period_start,
            period_end: l.period_end,
            quantity: l.quantity,
            unit_minor: l.unit_minor,
            amount_minor: l.amount_minor,
            tax_rate_bp: l.tax_rate_bp,
            tax_minor: l.tax_minor,
            proration: l.proration,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: i64,
    pub invoice_id: i64,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: String,
    pub method: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
}

impl From<PaymentRow> for PaymentView {
    fn from(p: PaymentRow) -> Self {
        PaymentView {
            id: p.id,
            invoice_id: p.invoice_id,
            amount_minor: p.amount_minor,
            received_on: p.received_on,
            reference: p.reference,
            method: p.method,
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
            idempotency_key: p.idempotency_key,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditNoteView {
    pub id: i64,
    pub invoice_id: i64,
    /// `CN-<invoice number>-<n>`.
    pub number: String,
    pub reason: String,
    pub amount_minor: i64,
    /// The invoice lines it credits (`line_id`, `amount_minor`).
    #[schema(value_type = Object)]
    pub lines: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// An invoice in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = InvoiceSummary)]
pub struct InvoiceView {
    pub id: i64,
    pub organization_id: i64,
    pub subscription_id: Option<i64>,
    /// `draft`, `open`, `paid` or `void`.
    pub state: &'static str,
    /// `INV-YYYY-NNNNNN`; `null` while a draft.
    pub number: Option<String>,
    pub currency: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub amount_paid: i64,
    pub amount_credited: i64,
    /// What is left to pay: total less payments and credit notes (0 unless open).
    pub amount_due: i64,
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// Open and past its due date.
    pub overdue: bool,
    pub payment_method: String,
    pub po_number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceView {
    fn new(r: &InvoiceRow, now: DateTime<Utc>) -> Self {
        let open = r.state == InvoiceStatus::Open;
        InvoiceView {
            id: r.id,
            organization_id: r.organization_id,
            subscription_id: r.subscription_id,
            state: r.state.as_str(),
            number: r.number.clone(),
            currency: r.currency.clone(),
            subtotal_minor: r.subtotal_minor,
            tax_minor: r.tax_minor,
            total_minor: r.total_minor,
            amount_paid: r.amount_paid,
            amount_credited: r.amount_credited,
            amount_due: if open { due(r) } else { 0 },
            issued_at: r.issued_at,
            due_at: r.due_at,
            overdue: open && r.due_at.is_some_and(|d| d < now),
            payment_method: r.payment_method.clone(),
            po_number: r.po_number.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    /// An amount of this invoice's currency, for display (`119.00 EUR`).
    pub fn show(&self, minor: i64) -> String {
        show(&self.currency, minor)
    }
}

/// `minor` of `currency` as text (`119.00 EUR`); the bare number when the currency is
/// unreadable.
pub fn show(currency: &str, minor: i64) -> String {
    match currency.parse::<Currency>() {
        Ok(currency) => Money { minor, currency }.to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

pub(super) fn due(r: &InvoiceRow) -> i64 {
    r.total_minor - r.amount_paid - r.amount_credited
}

/// An invoice with its lines, payments and credit notes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Invoice)]
pub struct Detail {
    #[serde(flatten)]
    pub invoice: InvoiceView,
    pub organization_name: String,
    pub lines: Vec<LineView>,
    pub payments: Vec<PaymentView>,
    pub credit_notes: Vec<CreditNoteView>,
    /// Who it is made out to and the vendor's details, as they were when it was
    /// finalised (`{}` for a draft).
    #[schema(value_type = Object)]
    pub billing_snapshot: serde_json::Value,
}

/// The list filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Show {
    #[default]
    All,
    Draft,
    Open,
    Overdue,
    Paid,
    Void,
}

impl Show {
    pub const ALL: [Show; 6] = [
        Show::All,
        Show::Draft,
        Show::Open,
        Show::Overdue,
        Show::Paid,
        Show::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Draft => "draft",
            Show::Open => "open",
            Show::Overdue => "overdue",
            Show::Paid => "paid",
            Show::Void => "void",
        }
    }

    pub fn parse(s: &str) -> Option<Show> {
        Show::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Invoices newest first, at most `LIST_MAX`, optionally of one organization.
pub fn list(
    tenant: &Tenant,
    now: DateTime<Utc>,
    show: Show,
    organization_id: Option<i64>,
) -> Result<Vec<InvoiceView>> {
    let filter = match show {
        Show::All => ListFilter::All,
        Show::Draft => ListFilter::Draft,
        Show::Open => ListFilter::Open,
        Show::Overdue => ListFilter::Overdue(now),
        Show::Paid => ListFilter::Paid,
        Show::Void => ListFilter::Void,
    };
    let rows = tenant
        .db
        .read(|tx| store::list(tx, filter, organization_id, LIST_MAX))?;
    Ok(rows.iter().map(|r| InvoiceView::new(r, now)).collect())
}

pub(super) fn load(tx: &ReadTx<'_>, id: i64) -> Result<InvoiceRow> {
    store::find(tx, id)?.ok_or_else(|| not_found(id))
}

pub(super) fn detail_in(tx: &ReadTx<'_>, now: DateTime<Utc>, id: i64) -> Result<Detail> {
    let r = load(tx, id)?;
    let organization_name = organizations::find(tx, r.organization_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let credit_notes = store::credit_notes(tx, id)?
        .into_iter()
        .map(|c| CreditNoteView {
            id: c.id,
            invoice_id: c.invoice_id,
            number: c.number,
            reason: c.reason,
            amount_minor: c.amount_minor,
            lines: serde_json::from_str(&c.lines).unwrap_or_else(|_| json!([])),
            created_at: c.created_at,
            created_by: c.created_by,
        })
        .collect();
    Ok(Detail {
        invoice: InvoiceView::new(&r, now),
        organization_name,
        lines: store::lines(tx, id)?
            .into_iter()
            .map(LineView::from)
            .collect(),
        payments: payment_store::of_invoice(tx, id)?
            .into_iter()
            .map(PaymentView::from)
            .collect(),
        credit_notes,
        billing_snapshot: serde_json::from_str(&r.billing_snapshot).unwrap_or_else(|_| json!({})),
    })
}

/// An invoice with its lines, payments and credit notes.
pub fn detail(tenant: &Tenant, now: DateTime<Utc>, id: i64) -> Result<Detail> {
    tenant.db.read(|tx| detail_in(tx, now, id))
}

/// A checked line with its amount and tax.
fn priced(position: i64, l: &NewLine) -> Result<LineRow> {
    if !LINE_KINDS.contains(&l.kind.as_str()) {
        return Err(invalid(
            "kind",
            "must be internal_users, external_users, minimum, adjustment or other",
        ));
    }
    let description = free_text::line("description", &l.description, 200, true)?;
    if l.quantity < 0 {
        return Err(invalid("quantity", "must not be negative"));
    }
    if let (Some(s), Some(e)) = (l.period_start, l.period_end)
        && e <= s
    {
        return Err(invalid("period_end", "must be after period_start"));
    }
    let amount_minor = money::line_amount(l.quantity, l.unit_minor)?;
    let tax_minor = money::tax(amount_minor, l.tax_rate_bp)?;
    Ok(LineRow {
        id: 0,
        position,
        kind: l.kind.clone(),
        description,
        period_start: l.period_start,
        period_end: l.period_end,
        quantity: l.quantity,
        unit_minor: l.unit_minor,
        amount_minor,
        tax_rate_bp: l.tax_rate_bp,
        tax_minor,
        proration: l.proration,
    })
}

/// Writes a draft's lines (after its old ones went) and its totals.
fn write_lines(
    tx: &WriteTx<'_>,
    id: i64,
    lines: &[NewLine],
    now: DateTime<Utc>,
) -> Result<(i64, i64)> {
    if lines.len() > LINES_MAX {
        return Err(invalid("lines", &format!("at most {LINES_MAX}")));
    }
    store::delete_draft_lines(tx, id)?;
    let (mut subtotal, mut tax) = (0i64, 0i64);
    for (i, l) in lines.iter().enumerate() {
        let row = priced(i as i64 + 1, l)?;
        subtotal = subtotal
            .checked_add(row.amount_minor)
            .ok_or_else(|| invalid("lines", "the total is too large"))?;
        tax = tax
            .checked_add(row.tax_minor)
            .ok_or_else(|| invalid("lines", "the total is too large"))?;
        store::insert_line(tx, id, &row)?;
    }
    let total = subtotal
        .checked_add(tax)
        .ok_or_else(|| invalid("lines", "the total is too large"))?;
    if total < 0 {
        return Err(invalid(
            "lines",
            "the total must not be negative (use a credit note)",
        ));
    }
    store::set_totals(tx, id, subtotal, tax, total, now)?;
    Ok((subtotal, total))
}

/// Creates a draft invoice for an organization with its lines. Audited.
pub fn create_draft(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    d: &NewDraft,
) -> Result<Detail> {
    tenant.db.write(|tx| {
        let id = create_draft_in(tx, now, actor, d)?;
        detail_in(tx, now, id)
    })
}

/// `create_draft` inside a transaction (subscriptions make their invoices with it).
pub(super) fn create_draft_in(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    d: &NewDraft,
) -> Result<i64> {
    let method = d.payment_method.as_deref().unwrap_or("bank_transfer");
    if !PAYMENT_METHODS.contains(&method) {
        return Err(invalid(
            "payment_method",
            "must be bank_transfer or purchase_order",
        ));
    }
    let po_number = free_text::line("po_number", &d.po_number, 100, false)?;
    if organizations::find(tx, d.organization_id)?.is_none() {
        return Err(refuse(
            ErrorCode::UnknownOrganization,
            format!("no organization has the id {}", d.organization_id),
        ));
    }
    if let Some(s) = d.subscription_id
        && crate::store::subscriptions::find(tx, s)?
            .is_none_or(|s| s.organization_id != d.organization_id)
    {
        return Err(invalid(
            "subscription_id",
            "is not a subscription of this organization",
        ));
    }
    let currency = match &d.currency {
        Some(c) => c.clone(),
        None => price_list::get(tx)?.map(|p| p.currency).ok_or_else(|| {
            refuse(
                ErrorCode::PriceListMissing,
                "no price list is set, so the currency must be given",
            )
        })?,
    };
    let currency: Currency = currency.parse()?;
    let id = store::insert_draft(
        tx,
        &NewInvoice {
            organization_id: d.organization_id,
            subscription_id: d.subscription_id,
            currency: currency.as_str(),
            payment_method: method,
            po_number: &po_number,
            created_by: &actor.audit_name(),
        },
        now,
    )?;
    let (subtotal, total) = write_lines(tx, id, &d.lines, now)?;
    audit::record(
        tx,
        now,
        actor,
        "invoice.create",
        &target(id),
        json!({"organization_id": d.organization_id, "currency": currency.as_str(),
               "lines": d.lines.len(), "subtotal_minor": subtotal, "total_minor": total}),
    )?;
    Ok(id)
}

/// Refuses a change to the lines or totals of an invoice that is no longer a draft.
fn draft_only(r: &InvoiceRow) -> Result<()> {
    if r.state != InvoiceStatus::Draft {
        return Err(refuse(
            ErrorCode::InvoiceFinalized,
            format!(
                "invoice {} is finalised ({}): its lines and totals never change; credit it instead",
                r.number.as_deref().unwrap_or("?"),
                r.state.as_str()
            ),
        ));
    }
    Ok(())
}

/// Replaces a draft's lines; refused with `invoice_finalized` once finalised. Audited.
pub fn replace_lines(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    lines: &[NewLine],
) -> Result<Detail> {
    tenant.db.write(|tx| {
        let r = load(tx, id)?;
        draft_only(&r)?;
        let (subtotal, total) = write_lines(tx, id, lines, now)?;
        audit::record(
            tx,
            now,
            actor,
            "invoice.lines_replace",
            &target(id),
            json!({"lines": lines.len(), "subtotal_minor": subtotal, "total_minor": total}),
        )?;
        detail_in(tx, now, id)
    })
}

/// Finalises a draft: the next number of the year (`INV-YYYY-NNNNNN`, gapless), issue
/// and due dates (the price list's payment terms), a snapshot of who it is made out to,
/// and its email to the organization's notification address through the outbox, all in
/// one transaction. Audited. Refused with `invoice_finalized` when it is not a draft.
pub fn finalise(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<Detail> {
    let mailing = Mailing::of(app, tenant)?;
    tenant.db.write(|tx| {
        finalise_in(tx, tenant, now, actor, id, &mailing)?;
        detail_in(tx, now, id)
    })
}

/// What an invoice email needs from outside the tenant's database: the product's
/// name and the portal's origin for the link (it reads the registry, so it is made
/// before the transaction).
pub(super) struct Mailing {
    product: String,
    origin: String,
}

impl Mailing {
    pub(super) fn of(app: &App, tenant: &Tenant) -> Result<Mailing> {
        Ok(Mailing {
            product: app.config.portal.product_name.clone(),
            origin: super::links::origin(app, tenant)?,
        })
    }
}

/// `finalise` inside a transaction.
pub(super) fn finalise_in(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    mailing: &Mailing,
) -> Result<()> {
    let r = load(tx, id)?;
    draft_only(&r)?;
    let org = organizations::find(tx, r.organization_id)?.ok_or_else(|| {
        refuse(
            ErrorCode::UnknownOrganization,
            "the invoice's organization is gone",
        )
    })?;
    let prices = price_list::get(tx)?;
    let terms = prices
        .as_ref()
        .map_or(DEFAULT_TERMS_DAYS, |p| p.payment_terms_days);
    let due_at = now + Duration::days(terms);
    let account = billing_accounts::find(tx, org.id)?;
    let snapshot = json!({
        "customer": {
            "organization_id": org.id,
            "name": org.name,
            "notification_email": org.notification_email,
            "account": account.map(|a| json!({
                "legal_name": a.legal_name, "address": a.address, "phone": a.phone,
                "tax_id": a.tax_id, "tax_id_type": a.tax_id_type, "country": a.country,
                "payment_method": a.payment_method, "po_reference": a.po_reference,
                "billing_contact": a.billing_contact,
            })),
        },
        "vendor": {
            "name": tenant.name(),
            "bank_details": prices.as_ref().map(|p| p.bank_details.clone()).unwrap_or_default(),
            "payment_terms_days": terms,
        },
    });
    let year = now.year();
    let seq = store::next_number(tx, year)?;
    let number = invoice_number(year, seq)?;
    if !store::finalise(tx, id, &number, now, due_at, &snapshot.to_string())? {
        return Err(ServiceError::unexpected("a draft could not be finalised"));
    }
    let total = show(&r.currency, r.total_minor);
    let path = format!("/portal/organizations/{}/invoices/{id}", org.id);
    let content = super::email_body::EmailContent {
        kind: "invoice".into(),
        to: org.notification_email.clone(),
        subject: format!(
            "Invoice {number}: {total}, due {}",
            due_at.format("%Y-%m-%d")
        ),
        heading: format!("Invoice {number} for {}", org.name),
        paragraphs: vec![
            format!("A new invoice for {} is ready: {number}.", org.name),
            format!("Total: {total}. Due on {}.", due_at.format("%Y-%m-%d")),
        ],
        link: Some(super::email_body::EmailLink {
            label: "Open the invoice".into(),
            url: format!("{}{path}", mailing.origin),
        }),
        dedupe_key: Some(format!("invoice:{id}:finalised")),
    };
    outbox::enqueue(tx, now, &mailing.product, &content)?;
    audit::record(
        tx,
        now,
        actor,
        "invoice.finalise",
        &target(id),
        json!({"number": number, "total_minor": r.total_minor, "currency": r.currency,
               "due_at": crate::store::ts(due_at)}),
    )?;
    Ok(())
}

/// A payment to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPaymentInput {
    /// In the invoice's minor units; at most what is left to pay.
    pub amount_minor: i64,
    /// When the money arrived (`YYYY-MM-DD`).
    pub received_on: NaiveDate,
    /// The bank's or customer's reference.
    #[serde(default)]
    pub reference: String,
    /// `bank_transfer` (default), `purchase_order`, `card`, `other`.
    pub method: Option<String>,
    /// The same key again records nothing and answers with the first payment.
    pub idempotency_key: Option<String>,
}

/// What recording a payment did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentRecorded {
    pub payment: PaymentView,
    pub invoice: InvoiceView,
    /// This payment settled the invoice (the subscription code activates or renews on
    /// it).
    pub became_paid: bool,
    /// The idempotency key was seen before: nothing new was recorded.
    pub repeated: bool,
}

const PAY_METHODS: &[&str] = &["bank_transfer", "purchase_order", "card", "other"];

/// Records a payment against an open invoice. Partial payments add up; the invoice is
/// paid when what was paid and credited reaches its total; more than is left is refused
/// (`overpayment`). With an idempotency key used before for the same invoice and amount,
/// nothing is recorded and the first payment is returned (`repeated`). Audited.
pub(super) fn record_payment_in(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    p: &NewPaymentInput,
) -> Result<PaymentRecorded> {
    let method = p.method.as_deref().unwrap_or("bank_transfer");
    if !PAY_METHODS.contains(&method) {
        return Err(invalid(
            "method",
            "must be bank_transfer, purchase_order, card or other",
        ));
    }
    if p.amount_minor <= 0 {
        return Err(invalid("amount_minor", "must be positive"));
    }
    let reference = free_text::line("reference", &p.reference, 200, false)?;
    let key = p
        .idempotency_key
        .as_deref()
        .map(|k| free_text::line("idempotency_key", k, 200, true))
        .transpose()?;
    if let Some(key) = &key
        && let Some(first) = payment_store::by_key(tx, key)?
    {
        // The same payment: invoice, amount, date, reference and method. Checked in the
        // write transaction, so two requests racing with one key cannot both pass.
        let same = first.invoice_id == id
            && first.amount_minor == p.amount_minor
            && first.received_on == p.received_on
            && first.reference == reference
            && first.method == method;
        if !same {
            return Err(refuse(
                ErrorCode::IdempotencyKeyReused,
                "this idempotency key was used for a different payment",
            ));
        }
        let r = load(tx, id)?;
        return Ok(PaymentRecorded {
            payment: first.into(),
            invoice: InvoiceView::new(&r, now),
            became_paid: false,
            repeated: true,
        });
    }
    let r = load(tx, id)?;
    if r.state != InvoiceStatus::Open {
        return Err(refuse(
            ErrorCode::InvoiceState,
            format!(
                "only an open invoice takes payments; this one is {}",
                r.state.as_str()
            ),
        ));
    }
    let left = due(&r);
    if p.amount_minor > left {
        return Err(refuse(
            ErrorCode::Overpayment,
            format!(
                "the payment of {} is more than the {} left to pay",
                show(&r.currency, p.amount_minor),
                show(&r.currency, left)
            ),
        ));
    }
    let paid = r.amount_paid + p.amount_minor;
    let became_paid = paid + r.amount_credited >= r.total_minor;
    let state = if became_paid {
        InvoiceStatus::Paid
    } else {
        InvoiceStatus::Open
    };
    let payment_id = payment_store::insert(
        tx,
        &NewPayment {
            invoice_id: id,
            amount_minor: p.amount_minor,
            received_on: p.received_on,
            reference: &reference,
            method,
            recorded_by: &actor.audit_name(),
            idempotency_key: key.as_deref(),
        },
        now,
    )?;
    store::set_settlement(tx, id, state, paid, r.amount_credited, now)?;
    audit::record(
        tx,
        now,
        actor,
        "invoice.payment",
        &target(id),
        json!({"payment_id": payment_id, "amount_minor": p.amount_minor,
               "received_on": p.received_on.to_string(), "reference": reference,
               "method": method, "became_paid": became_paid}),
    )?;
    let payment = payment_store::find(tx, payment_id)?
        .ok_or_else(|| ServiceError::unexpected("a recorded payment is gone"))?;
    Ok(PaymentRecorded {
        payment: payment.into(),
        invoice: InvoiceView::new(&load(tx, id)?, now),
        became_paid,
        repeated: false,
    })
}

/// Voids an open invoice that has no payments and no credit notes (otherwise credit
/// it): its number stays taken. Audited.
pub fn void(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<Detail> {
    tenant.db.write(|tx| {
        void_in(tx, now, actor, id, reason)?;
        detail_in(tx, now, id)
    })
}

/// `void` inside a transaction.
pub(super) fn void_in(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<()> {
    let reason = free_text::lines("reason", reason, 2000, true)?;
    let r = load(tx, id)?;
    let why = match r.state {
        InvoiceStatus::Draft => Some("a draft is not finalised; nothing to void"),
        InvoiceStatus::Paid => Some("it is paid: credit it instead"),
        InvoiceStatus::Void => Some("it is void already"),
        InvoiceStatus::Open if r.amount_paid > 0 => Some("it has payments: credit it instead"),
        InvoiceStatus::Open if r.amount_credited > 0 => {
            Some("it has credit notes: credit the rest instead")
        }
        InvoiceStatus::Open => None,
    };
    if let Some(why) = why {
        return Err(refuse(
            ErrorCode::InvoiceNotVoidable,
            format!(
                "invoice {} cannot be voided: {why}",
                r.number.as_deref().unwrap_or("(draft)")
            ),
        ));
    }
    store::set_settlement(tx, id, InvoiceStatus::Void, 0, 0, now)?;
    audit::record(
        tx,
        now,
        actor,
        "invoice.void",
        &target(id),
        json!({"number": r.number, "reason": reason}),
    )
}

/// A line a credit note credits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLine {
    pub line_id: i64,
    pub amount_minor: i64,
}

/// A credit note to issue.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditNoteInput {
    pub reason: String,
    /// In minor units: at most what is left (on an open invoice, what is left to pay;
    /// on a paid one, its total less earlier credit notes).
    pub amount_minor: i64,
    /// The lines it credits; when given, their amounts add up to `amount_minor`.
    #[serde(default)]
    pub lines: Vec<CreditLine>,
}

/// Issues a credit note on an open or paid invoice (`CN-<invoice number>-<n>`). On an
/// open invoice it lowers what is left to pay, and settles it (paid) when nothing is
/// left; on a paid one it records what is owed back. Audited.
pub(super) fn credit_note_in(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    c: &NewCreditNoteInput,
) -> Result<(Detail, bool)> {
    let reason = free_text::lines("reason", &c.reason, 2000, true)?;
    if c.amount_minor <= 0 {
        return Err(invalid("amount_minor", "must be positive"));
    }
    let r = load(tx, id)?;
    let left = match r.state {
        InvoiceStatus::Open => due(&r),
        InvoiceStatus::Paid => r.total_minor - r.amount_credited,
        other => {
            return Err(refuse(
                ErrorCode::InvoiceState,
                format!(
                    "only an open or paid invoice can be credited; this one is {}",
                    other.as_str()
                ),
            ));
        }
    };
    if c.amount_minor > left {
        return Err(refuse(
            ErrorCode::CreditExceedsBalance,
            format!(
                "the credit of {} is more than the {} left",
                show(&r.currency, c.amount_minor),
                show(&r.currency, left)
            ),
        ));
    }
    if !c.lines.is_empty() {
        let lines = store::lines(tx, id)?;
        let mut sum = 0i64;
        for cl in &c.lines {
            let Some(l) = lines.iter().find(|l| l.id == cl.line_id) else {
                return Err(invalid(
                    "lines",
                    &format!("line {} is not a line of this invoice", cl.line_id),
                ));
            };
            if cl.amount_minor <= 0 || cl.amount_minor > l.amount_minor + l.tax_minor {
                return Err(invalid(
                    "lines",
                    &format!(
                        "the credit of line {} must be positive and at most its amount with tax",
                        cl.line_id
                    ),
                ));
            }
            sum += cl.amount_minor;
        }
        if sum != c.amount_minor {
            return Err(invalid(
                "lines",
                "their amounts must add up to amount_minor",
            ));
        }
    }
    let n = store::credit_notes(tx, id)?.len() + 1;
    let number = format!("CN-{}-{n}", r.number.as_deref().unwrap_or(""));
    let lines = serde_json::to_string(&c.lines)
        .map_err(|e| ServiceError::internal("credit note lines", e))?;
    let credit_id = store::insert_credit_note(
        tx,
        &NewCreditNote {
            invoice_id: id,
            number: &number,
            reason: &reason,
            amount_minor: c.amount_minor,
            lines: &lines,
            created_by: &actor.audit_name(),
        },
        now,
    )?;
    let credited = r.amount_credited + c.amount_minor;
    let state = if r.state == InvoiceStatus::Open && r.amount_paid + credited >= r.total_minor {
        InvoiceStatus::Paid
    } else {
        r.state
    };
    store::set_settlement(tx, id, state, r.amount_paid, credited, now)?;
    audit::record(
        tx,
        now,
        actor,
        "invoice.credit_note",
        &target(id),
        json!({"credit_note_id": credit_id, "number": number, "amount_minor": c.amount_minor,
               "reason": reason, "lines": c.lines}),
    )?;
    let became_paid = state == InvoiceStatus::Paid && r.state == InvoiceStatus::Open;
    Ok((detail_in(tx, now, id)?, became_paid))
}
