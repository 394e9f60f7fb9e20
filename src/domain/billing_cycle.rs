//! A subscription's periods and what its billing state means for its license (pure;
//! time is a parameter). Periods run from midnight UTC of a day to midnight UTC of the
//! day their `BillingPeriod` later, counted from the anchor (the first period's start),
//! so a subscription begun on the 31st comes back to the 31st after a short month.
//!
//! A renewal invoice still unpaid at the period's end leaves the license running through
//! the dunning grace (the subscription is `past_due`); then the license is suspended
//! (seed 002: "an invalid subscription drives it to suspended; restoring the
//! subscription reactivates it"). So that a late payment can still reactivate it, the
//! license's key expires [`REACTIVATION_DAYS`] after the grace, not with it.

use super::invoice::SubscriptionStatus as Billing;
use super::lifecycle::{Subscription, SubscriptionStatus as Licensing};
use super::pricing::BillingPeriod;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Midnight UTC at the start of `day`.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The first period of a subscription paid on `day`: `[day, day + period)`.
pub fn first_period(period: BillingPeriod, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    (day, period.end(day))
}

/// The period after the one that ends on `current_end`, counted from `anchor`: it starts
/// on `current_end` and ends on the first anchor-counted boundary after it.
pub fn next_period(
    period: BillingPeriod,
    anchor: NaiveDate,
    current_end: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let mut n = 1;
    loop {
        let end = period.end_of_nth(anchor, n);
        if end > current_end || end == NaiveDate::MAX {
            return (current_end, end);
        }
        n += 1;
    }
}

/// Whether the renewal invoice of a period ending at `period_end` is due at `now`:
/// `days_before` days before the end (or any time after).
pub fn renewal_due(now: DateTime<Utc>, period_end: DateTime<Utc>, days_before: i64) -> bool {
    now >= period_end - Duration::days(days_before)
}

/// How long after the dunning grace a suspended license can still be reactivated by a
/// payment before its key expires (and a payment then issues a new license).
pub const REACTIVATION_DAYS: i64 = 30;

/// When the key of a license whose paid period ends at `period_end` expires: after the
/// dunning grace and the reactivation window.
pub fn license_expiry(period_end: DateTime<Utc>, dunning_grace_days: i64) -> DateTime<Utc> {
    period_end + Duration::days(dunning_grace_days + REACTIVATION_DAYS)
}

/// When a past-due subscription's dunning grace is over.
pub fn dunning_over(
    now: DateTime<Utc>,
    period_end: DateTime<Utc>,
    dunning_grace_days: i64,
) -> bool {
    now >= period_end + Duration::days(dunning_grace_days)
}

/// The subscription as the license's life cycle sees it (`domain::lifecycle`), whose
/// rules suspend a license whose subscription is not valid and reactivate it when it
/// is again:
/// - active: valid; with `cancel_at_period_end`, canceled at the period's end (valid
///   until then, by time alone);
/// - past due: valid (the dunning grace);
/// - canceled (the grace passed unpaid): past due for licensing, so suspended;
/// - ended: canceled at the period's end;
/// - pending: no license yet, nothing tracked.
pub fn license_subscription(
    status: Billing,
    cancel_at_period_end: bool,
    period_end: Option<DateTime<Utc>>,
) -> Subscription {
    let status = match (status, cancel_at_period_end) {
        (Billing::Pending, _) => Licensing::None,
        (Billing::Active, true) | (Billing::Ended, _) => Licensing::Canceled,
        (Billing::Active, false) | (Billing::PastDue, _) => Licensing::Active,
        (Billing::Canceled, _) => Licensing::PastDue,
    };
    Subscription { status, period_end }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_follow_the_anchor_through_short_months() {
        let anchor = d(2027, 1, 31);
        let (s, e) = first_period(BillingPeriod::Monthly, anchor);
        assert_eq!((s, e), (d(2027, 1, 31), d(2027, 2, 28)));
        let (s, e) = next_period(BillingPeriod::Monthly, anchor, e);
        assert_eq!((s, e), (d(2027, 2, 28), d(2027, 3, 31)));
        let (s, e) = next_period(BillingPeriod::Monthly, anchor, e);
        assert_eq!((s, e), (d(2027, 3, 31), d(2027, 4, 30)));
        // Leap day anchor, yearly: 29 Feb, then 28 Feb, then 29 Feb again in 2032.
        let anchor = d(2028, 2, 29);
        let (_, e) = first_period(BillingPeriod::Yearly, anchor);
        assert_eq!(e, d(2029, 2, 28));
        let (_, e) = next_period(BillingPeriod::Yearly, anchor, e);
        assert_eq!(e, d(2030, 2, 28));
        let e = next_period(BillingPeriod::Yearly, anchor, d(2031, 2, 28)).1;
        assert_eq!(e, d(2032, 2, 29));
    }

    #[test]
    fn a_co_termed_period_ends_with_the_one_it_joins() {
        // A purchase on 10 May joining a subscription anchored on 1 Jan (yearly) ends on
        // the next anchor boundary.
        let (s, e) = next_period(BillingPeriod::Yearly, d(2027, 1, 1), d(2027, 5, 10));
        assert_eq!((s, e), (d(2027, 5, 10), d(2028, 1, 1)));
    }

    #[test]
    fn renewal_and_dunning_deadlines() {
        let end = midnight(d(2027, 6, 1));
        assert!(!renewal_due(end - Duration::days(15), end, 14));
        assert!(renewal_due(end - Duration::days(14), end, 14));
        assert!(renewal_due(end + Duration::days(1), end, 14));
        assert_eq!(license_expiry(end, 14), midnight(d(2027, 7, 15)));
        assert!(!dunning_over(midnight(d(2027, 6, 14)), end, 14));
        assert!(dunning_over(midnight(d(2027, 6, 15)), end, 14));
    }

    #[test]
    fn what_licensing_sees_of_each_billing_state() {
        let end = Some(midnight(d(2027, 6, 1)));
        let before = midnight(d(2027, 5, 1));
        let after = midnight(d(2027, 6, 2));
        let valid =
            |s: Billing, cancel: bool, at| license_subscription(s, cancel, end).is_valid(at);
        assert!(valid(Billing::Active, false, after));
        assert!(valid(Billing::Active, true, before));
        assert!(
            !valid(Billing::Active, true, after),
            "canceled: valid to the period's end"
        );
        assert!(valid(Billing::PastDue, false, after), "the dunning grace");
        assert!(
            !valid(Billing::Canceled, false, before),
            "unpaid past the grace"
        );
        assert!(!valid(Billing::Ended, false, after));
        assert_eq!(
            license_subscription(Billing::Pending, false, None),
            Subscription::NONE
        );
    }
}
