//! The email outbox: a transactional outbox, and its delivery.
//!
//! A message is written by `enqueue` inside the transaction of the change that causes
//! it (an invitation is stored together with its email, or neither is), so no message
//! is lost and none is sent for a change that rolled back. The `email-delivery` job
//! sends what is due through `smtp::SmtpMailer`; with no SMTP server configured
//! (air-gapped) messages stay pending and staff read them in the console or with
//! `licd outbox`, and hand their links over by other means.
//!
//! # At most once, except for one window
//!
//! Delivery never holds a database transaction while it talks SMTP. For each due
//! message the job first *claims* it in its own committed transaction: the attempt is
//! counted and `next_attempt_at` moves past the backoff (`domain::email`), so no other
//! run takes it before then. Then it sends, then it records the outcome in a second
//! transaction (`sent`; or the error, and `failed` after the last attempt). The one way
//! a message goes out twice: licd stops (crash, power loss, kill) after the SMTP server
//! accepted the message and before the second transaction commits. The message is
//! still pending, and the next attempt sends it again, with the same `Message-ID`
//! (`<outbox-TENANT-ID@sender-domain>`), so that a receiver can tell. Retrying an
//! attempt that failed in SMTP cannot duplicate: the server did not accept it.

use super::email_body::{self, EmailContent};
use super::smtp::{Outgoing, SmtpMailer};
use super::tenant::Tenant;
use super::{Actor, Result, audit, refuse};
use crate::clock::Clock;
use crate::domain::{email, staff};
use crate::error::ErrorCode;
use crate::store::WriteTx;
use crate::store::outbox::{self as store, NewMessage, OutboxRow, OutboxState};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// A message as staff see it (console, `licd outbox`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    /// `pending`, `sent` or `failed`.
    pub state: &'static str,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Who marked it sent by hand; `None` when SMTP delivered it.
    pub sent_by: Option<String>,
}

impl From<OutboxRow> for OutboxMessage {
    fn from(r: OutboxRow) -> Self {
        OutboxMessage {
            id: r.id,
            created_at: r.created_at,
            kind: r.kind,
            to_address: r.to_address,
            subject: r.subject,
            body_text: r.body_text,
            state: r.state.as_str(),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            sent_at: r.sent_at,
            sent_by: r.sent_by,
        }
    }
}

/// The most messages a list shows.
pub const LIST_LIMIT: u32 = 200;

/// Writes a message into the outbox inside the caller's transaction, rendered with the
/// generic layout and signed `product`. Returns its id, or `None` when a message with
/// the same `dedupe_key` was written before (that event's message exists: at most one
/// per event).
pub fn enqueue(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    product: &str,
    c: &EmailContent,
) -> Result<Option<i64>> {
    let to = staff::normalize_email(&c.to)?;
    let bodies = email_body::render(product, c)?;
    let new = NewMessage {
        kind: &c.kind,
        to_address: &to,
        subject: &c.subject,
        body_text: &bodies.text,
        body_html: &bodies.html,
        dedupe_key: c.dedupe_key.as_deref(),
    };
    Ok(store::insert(tx, &new, now)?)
}

/// The newest messages first (at most `LIST_LIMIT`).
pub fn list(tenant: &Tenant) -> Result<Vec<OutboxMessage>> {
    let rows = tenant.db.read(|tx| store::list(tx, LIST_LIMIT))?;
    Ok(rows.into_iter().map(OutboxMessage::from).collect())
}

/// One message, with its text body.
pub fn show(tenant: &Tenant, id: i64) -> Result<OutboxMessage> {
    tenant
        .db
        .read(|tx| store::find(tx, id))?
        .map(OutboxMessage::from)
        .ok_or_else(|| {
            refuse(
                ErrorCode::NotFound,
                format!("no message {id} in the outbox"),
            )
        })
}

/// Records that a message was delivered by other means (its link handed over): it is
/// not sent again. Audited. Refused when it was sent already.
pub fn mark_sent(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<OutboxMessage> {
    let row = tenant.db.write(|tx| {
        let Some(row) = store::find(tx, id)? else {
            return Err(refuse(
                ErrorCode::NotFound,
                format!("no message {id} in the outbox"),
            ));
        };
        if row.state == OutboxState::Sent {
            return Err(refuse(
                ErrorCode::OutboxAlreadySent,
                format!("message {id} was already sent"),
            ));
        }
        store::mark_sent(tx, id, now, Some(&actor.audit_name()))?;
        audit::record(
            tx,
            now,
            actor,
            "outbox.mark_sent",
            &format!("outbox:{id}"),
            json!({ "to": row.to_address, "kind": row.kind, "was": row.state.as_str() }),
        )?;
        Ok(store::find(tx, id)?)
    })?;
    row.map(OutboxMessage::from)
        .ok_or_else(|| super::ServiceError::unexpected("a marked message vanished"))
}

/// Puts a test message for `to` into the outbox (audited in the same transaction), to
/// check the email settings end to end.
pub fn send_test(tenant: &Tenant, now: DateTime<Utc>, actor: &Actor, to: &str) -> Result<i64> {
    let to = staff::normalize_email(to)?;
    let product = tenant.name();
    let content = EmailContent {
        kind: "test".into(),
        to: to.clone(),
        subject: format!("Test message from {product}"),
        heading: "Email works".into(),
        paragraphs: vec![
            format!("This test message was requested by {}.", actor.audit_name()),
            "If you can read it, licd can send email to this address.".into(),
        ],
        link: None,
        dedupe_key: None,
    };
    tenant.db.write(|tx| {
        let id = enqueue(tx, now, &product, &content)?
            .ok_or_else(|| super::ServiceError::unexpected("a test message was deduplicated"))?;
        audit::record(
            tx,
            now,
            actor,
            "outbox.test",
            &format!("outbox:{id}"),
            json!({ "to": to }),
        )?;
        Ok(id)
    })
}

/// What one delivery run did for a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    /// Failed this time, to be tried again.
    pub retrying: u32,
    /// Failed for the last time.
    pub failed: u32,
}

/// The most messages one run sends for one tenant (the rest wait for the next run).
const BATCH: u32 = 50;

/// Sends the tenant's due messages, each claimed before and recorded after its SMTP
/// conversation, no transaction open during it (see the module docs). Times come from
/// `clock`: the claim's before, the outcome's after the conversation.
pub fn deliver_due(
    tenant: &Tenant,
    clock: &dyn Clock,
    mailer: &SmtpMailer,
) -> Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    let due = tenant.db.read(|tx| store::due(tx, clock.now(), BATCH))?;
    for id in due {
        let now = clock.now();
        let claimed = tenant.db.write(|tx| {
            let Some(row) = store::find(tx, id)? else {
                return Ok(None);
            };
            let attempt = row.attempts + 1;
            let retry_at = now + email::retry_delay(attempt);
            Ok::<_, super::ServiceError>(
                store::claim(tx, id, now, retry_at)?.then_some((row, attempt)),
            )
        })?;
        let Some((row, attempt)) = claimed else {
            continue;
        };
        let outcome = mailer.send(&Outgoing {
            message_id: format!("outbox-{}-{}", tenant.schema_name, row.id),
            to: &row.to_address,
            subject: &row.subject,
            text: &row.body_text,
            html: &row.body_html,
        });
        let done = clock.now();
        match outcome {
            Ok(()) => {
                tenant.db.write(|tx| store::mark_sent(tx, id, done, None))?;
                report.sent += 1;
            }
            Err(error) => {
                let give_up = email::is_last_attempt(attempt);
                tracing::warn!(tenant = %tenant.schema_name, message = id, attempt, give_up, error = %error, "email not delivered");
                tenant
                    .db
                    .write(|tx| store::record_failure(tx, id, &error, give_up))?;
                if give_up {
                    report.failed += 1;
                } else {
                    report.retrying += 1;
                }
            }
        }
    }
    Ok(report)
}
