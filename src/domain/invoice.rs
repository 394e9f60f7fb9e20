//! Invoice and subscription states, and the invoice number format (docs/billing.md).
//!
//! An invoice goes `draft -> open -> paid | void`: only a draft changes; finalising
//! assigns its number (gapless per tenant, `INV-<year>-<6-digit sequence>`) and opens it;
//! an open invoice is paid once its payments reach its total, or voided if nothing was
//! paid and no credit note was issued. A finalised invoice never changes: corrections are
//! credit notes.

use super::DomainError;
use std::fmt;

/// An invoice's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "draft" => Ok(InvoiceStatus::Draft),
            "open" => Ok(InvoiceStatus::Open),
            "paid" => Ok(InvoiceStatus::Paid),
            "void" => Ok(InvoiceStatus::Void),
            other => Err(DomainError::invalid(
                "status",
                format!("{other:?} is not an invoice status"),
            )),
        }
    }

    /// Lines, customer and dates may change only on a draft.
    pub fn can_edit(self) -> bool {
        self == InvoiceStatus::Draft
    }

    /// Finalising (number, then open) applies to drafts only.
    pub fn can_finalize(self) -> bool {
        self == InvoiceStatus::Draft
    }

    /// Payments are recorded against open invoices only.
    pub fn can_record_payment(self) -> bool {
        self == InvoiceStatus::Open
    }

    /// Credit notes correct open or paid invoices (finalised ones).
    pub fn can_credit(self) -> bool {
        matches!(self, InvoiceStatus::Open | InvoiceStatus::Paid)
    }

    /// Voiding: only an open invoice with nothing paid and no credit note.
    pub fn can_void(self, paid_minor: i64, has_credit_note: bool) -> bool {
        self == InvoiceStatus::Open && paid_minor == 0 && !has_credit_note
    }

    /// The state after payments adding up to `paid_minor` (credit notes already taken off
    /// `due_minor`): an open invoice is paid once they cover what is due.
    pub fn after_payments(self, paid_minor: i64, due_minor: i64) -> InvoiceStatus {
        if self == InvoiceStatus::Open && paid_minor >= due_minor {
            InvoiceStatus::Paid
        } else {
            self
        }
    }

    /// Whether the invoice is final (numbered, never changes again).
    pub fn is_final(self) -> bool {
        self != InvoiceStatus::Draft
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The highest sequence number a year can have (6 digits).
pub const MAX_SEQUENCE: u32 = 999_999;

/// `INV-2026-000042`. The sequence is 1-based, gapless per tenant and year.
pub fn format_number(year: i32, seq: u32) -> Result<String, DomainError> {
    if !(1000..=9999).contains(&year) {
        return Err(DomainError::invalid("year", "must have four digits"));
    }
    if seq == 0 || seq > MAX_SEQUENCE {
        return Err(DomainError::invalid(
            "sequence",
            format!("must be between 1 and {MAX_SEQUENCE}"),
        ));
    }
    Ok(format!("INV-{year}-{seq:06}"))
}

/// The year and sequence of an invoice number written by `format_number`.
pub fn parse_number(number: &str) -> Result<(i32, u32), DomainError> {
    let bad = || {
        DomainError::invalid(
            "number",
            format!("{number:?} is not an invoice number such as INV-2026-000042"),
        )
    };
    let rest = number.strip_prefix("INV-").ok_or_else(bad)?;
    let (year, seq) = rest.split_once('-').ok_or_else(bad)?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(seq, 6) {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let seq: u32 = seq.parse().map_err(|_| bad())?;
    if year < 1000 || seq == 0 {
        return Err(bad());
    }
    Ok((year, seq))
}

/// A subscription's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Created at purchase; waiting for its first payment (or an accepted purchase order).
    Pending,
    /// Paid (or on accepted purchase-order terms) for the current period.
    Active,
    /// The period ended with the renewal invoice unpaid; within the dunning grace.
    PastDue,
    /// Ended early: canceled now, or unpaid past the dunning grace. A payment of its
    /// open invoice brings it back.
    Canceled,
    /// Reached the end of a period with `cancel_at_period_end`; never renewed.
    Ended,
}

/// What happens to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionEvent {
    /// An invoice of the subscription is paid (or its purchase order accepted).
    Paid,
    /// The period ended while its renewal invoice is unpaid.
    PeriodEndedUnpaid,
    /// The dunning grace after the period's end passed, still unpaid.
    DunningGraceOver,
    /// The period ended with `cancel_at_period_end` set.
    CancelAtPeriodEndReached,
    /// Canceled with immediate effect (by staff).
    CanceledNow,
    /// A new period began, its renewal invoice paid.
    Renewed,
}

impl SubscriptionEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionEvent::Paid => "paid",
            SubscriptionEvent::PeriodEndedUnpaid => "period_ended_unpaid",
            SubscriptionEvent::DunningGraceOver => "dunning_grace_over",
            SubscriptionEvent::CancelAtPeriodEndReached => "cancel_at_period_end_reached",
            SubscriptionEvent::CanceledNow => "canceled_now",
            SubscriptionEvent::Renewed => "renewed",
        }
    }
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "pending" => Ok(SubscriptionStatus::Pending),
            "active" => Ok(SubscriptionStatus::Active),
            "past_due" => Ok(SubscriptionStatus::PastDue),
            "canceled" => Ok(SubscriptionStatus::Canceled),
            "ended" => Ok(SubscriptionStatus::Ended),
            other => Err(DomainError::invalid(
                "status",
                format!("{other:?} is not a subscription status"),
            )),
        }
    }

    /// The state after `event`, or a refusal naming both when it does not apply.
    pub fn next(self, event: SubscriptionEvent) -> Result<SubscriptionStatus, DomainError> {
        use SubscriptionEvent as E;
        use SubscriptionStatus as S;
        let next = match (self, event) {
            (S::Pending, E::Paid) => S::Active,
            (S::Pending, E::CanceledNow) => S::Canceled,
            (S::Active, E::Paid | E::Renewed) => S::Active,
            (S::Active, E::PeriodEndedUnpaid) => S::PastDue,
            (S::Active, E::CancelAtPeriodEndReached) => S::Ended,
            (S::Active, E::CanceledNow) => S::Canceled,
            (S::PastDue, E::Paid | E::Renewed) => S::Active,
            (S::PastDue, E::DunningGraceOver) => S::Canceled,
            (S::PastDue, E::CancelAtPeriodEndReached) => S::Ended,
            (S::PastDue, E::CanceledNow) => S::Canceled,
            // Paying later reactivates (seed 002: restoring the subscription).
            (S::Canceled, E::Paid) => S::Active,
            (from, event) => {
                return Err(DomainError::invalid(
                    "subscription",
                    format!(
                        "a {} subscription cannot be {}",
                        from.as_str(),
                        event.as_str()
                    ),
                ));
            }
        };
        Ok(next)
    }

    /// Whether the subscription keeps its license unsuspended: active, or past due within
    /// the dunning grace.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::PastDue
        )
    }

    /// Whether nothing can happen to it any more.
    pub fn is_terminal(self) -> bool {
        self == SubscriptionStatus::Ended
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InvoiceStatus as I;
    use SubscriptionEvent as E;
    use SubscriptionStatus as S;

    #[test]
    fn invoice_rules_table() {
        // status, can_edit, can_finalize, can_record_payment, can_credit, is_final
        let table = [
            (I::Draft, true, true, false, false, false),
            (I::Open, false, false, true, true, true),
            (I::Paid, false, false, false, true, true),
            (I::Void, false, false, false, false, true),
        ];
        for (s, edit, fin, pay, credit, is_final) in table {
            assert_eq!(s.can_edit(), edit, "{s}");
            assert_eq!(s.can_finalize(), fin, "{s}");
            assert_eq!(s.can_record_payment(), pay, "{s}");
            assert_eq!(s.can_credit(), credit, "{s}");
            assert_eq!(s.is_final(), is_final, "{s}");
            assert_eq!(I::parse(s.as_str()).unwrap(), s);
        }
        assert!(I::parse("overdue").is_err());
    }

    #[test]
    fn void_only_an_open_invoice_with_nothing_paid_and_no_credit() {
        // status, paid, credit note, can_void
        let table = [
            (I::Open, 0, false, true),
            (I::Open, 1, false, false),
            (I::Open, 0, true, false),
            (I::Draft, 0, false, false),
            (I::Paid, 0, false, false),
            (I::Void, 0, false, false),
        ];
        for (s, paid, credit, want) in table {
            assert_eq!(s.can_void(paid, credit), want, "{s} {paid} {credit}");
        }
    }

    #[test]
    fn paid_when_payments_reach_the_total() {
        // status, paid so far, due, after
        let table = [
            (I::Open, 0, 148_750, I::Open),
            (I::Open, 100_000, 148_750, I::Open),
            (I::Open, 148_750, 148_750, I::Paid),
            (I::Open, 150_000, 148_750, I::Paid),
            (I::Draft, 148_750, 148_750, I::Draft),
            (I::Void, 148_750, 148_750, I::Void),
            (I::Open, 0, 0, I::Paid),
        ];
        for (s, paid, due, want) in table {
            assert_eq!(s.after_payments(paid, due), want, "{s} {paid}/{due}");
        }
    }

    #[test]
    fn invoice_numbers() {
        assert_eq!(format_number(2026, 42).unwrap(), "INV-2026-000042");
        assert_eq!(format_number(2026, 1).unwrap(), "INV-2026-000001");
        assert_eq!(format_number(2027, 999_999).unwrap(), "INV-2027-999999");
        assert!(format_number(2026, 0).is_err());
        assert!(format_number(2026, 1_000_000).is_err());
        assert!(format_number(99, 1).is_err());
        assert_eq!(parse_number("INV-2026-000042").unwrap(), (2026, 42));
        for bad in [
            "INV-2026-42",
            "INV-2026-0000042",
            "inv-2026-000042",
            "INV-26-000042",
            "INV-2026-000000",
            "INV-2026-00004a",
            "INV-2026-+00042",
            "INV2026000042",
            "",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
        for (y, s) in [(2026, 1), (2030, 123_456), (9999, 999_999)] {
            assert_eq!(parse_number(&format_number(y, s).unwrap()).unwrap(), (y, s));
        }
    }

    #[test]
    fn subscription_transitions_table() {
        let all_events = [
            E::Paid,
            E::PeriodEndedUnpaid,
            E::DunningGraceOver,
            E::CancelAtPeriodEndReached,
            E::CanceledNow,
            E::Renewed,
        ];
        // from, event -> to (every pair not listed is refused)
        let allowed = [
            (S::Pending, E::Paid, S::Active),
            (S::Pending, E::CanceledNow, S::Canceled),
            (S::Active, E::Paid, S::Active),
            (S::Active, E::Renewed, S::Active),
            (S::Active, E::PeriodEndedUnpaid, S::PastDue),
            (S::Active, E::CancelAtPeriodEndReached, S::Ended),
            (S::Active, E::CanceledNow, S::Canceled),
            (S::PastDue, E::Paid, S::Active),
            (S::PastDue, E::Renewed, S::Active),
            (S::PastDue, E::DunningGraceOver, S::Canceled),
            (S::PastDue, E::CancelAtPeriodEndReached, S::Ended),
            (S::PastDue, E::CanceledNow, S::Canceled),
            (S::Canceled, E::Paid, S::Active),
        ];
        for from in [S::Pending, S::Active, S::PastDue, S::Canceled, S::Ended] {
            assert_eq!(S::parse(from.as_str()).unwrap(), from);
            for event in all_events {
                let want = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match want {
                    Some(to) => assert_eq!(from.next(event).unwrap(), to, "{from} {event:?}"),
                    None => {
                        let err = from.next(event).unwrap_err();
                        assert!(err.to_string().contains(event.as_str()), "{err}");
                    }
                }
            }
        }
        assert!(S::parse("trialing").is_err());
    }

    #[test]
    fn validity_keeps_the_license_unsuspended() {
        let table = [
            (S::Pending, false),
            (S::Active, true),
            (S::PastDue, true),
            (S::Canceled, false),
            (S::Ended, false),
        ];
        for (s, valid) in table {
            assert_eq!(s.is_valid(), valid, "{s}");
        }
        // Unpaid -> grace -> suspended -> paid -> valid again.
        let s = S::Active
            .next(E::PeriodEndedUnpaid)
            .and_then(|s| s.next(E::DunningGraceOver))
            .unwrap();
        assert!(!s.is_valid());
        assert!(s.next(E::Paid).unwrap().is_valid());
        assert!(S::Ended.is_terminal());
    }
}
