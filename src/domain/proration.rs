//! Proration of a mid-period change of price (Stripe's rule, by whole days): the unused
//! time of the old price is credited, the remaining time of the new price is charged.
//! Each part is rounded on its own with `money::mul_div_round` (half away from zero), so
//! the credit and the charge are two invoice lines that add up to the net (docs/billing.md).

use super::DomainError;
use super::money::mul_div_round;
use chrono::NaiveDate;

/// What a change on `change_day` costs for the rest of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    /// Days in the period (`period_end` exclusive).
    pub days_total: i64,
    /// Days from the change day (inclusive) to the period's end (exclusive).
    pub days_remaining: i64,
    /// The unused part of the old price: negative, or 0.
    pub credit_minor: i64,
    /// The remaining part of the new price: positive, or 0.
    pub charge_minor: i64,
    /// `charge_minor + credit_minor`: negative for a downgrade.
    pub net_minor: i64,
}

/// Prorates a change from `old_period_minor` to `new_period_minor` (each the price of the
/// whole period) made on `change_day`, in the period `[period_start, period_end)`.
/// A change on the first day swaps the whole price; one on the last day counts one day.
pub fn prorate(
    old_period_minor: i64,
    new_period_minor: i64,
    period_start: NaiveDate,
    period_end: NaiveDate,
    change_day: NaiveDate,
) -> Result<Proration, DomainError> {
    if old_period_minor < 0 || new_period_minor < 0 {
        return Err(DomainError::invalid("price", "must not be negative"));
    }
    let days_total = (period_end - period_start).num_days();
    if days_total <= 0 {
        return Err(DomainError::invalid(
            "period_end",
            "must be after the period's start",
        ));
    }
    if change_day < period_start || change_day >= period_end {
        return Err(DomainError::invalid(
            "change_day",
            format!(
                "{change_day} is outside the period {period_start} to {period_end} (exclusive)"
            ),
        ));
    }
    let days_remaining = (period_end - change_day).num_days();
    let credit_minor = -mul_div_round(old_period_minor, days_remaining, days_total)?;
    let charge_minor = mul_div_round(new_period_minor, days_remaining, days_total)?;
    let net_minor = charge_minor
        .checked_add(credit_minor)
        .ok_or_else(|| DomainError::invalid("amount", "is too large"))?;
    Ok(Proration {
        days_total,
        days_remaining,
        credit_minor,
        charge_minor,
        net_minor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    struct Case {
        name: &'static str,
        old: i64,
        new: i64,
        start: NaiveDate,
        end: NaiveDate,
        change: NaiveDate,
        // days_total, days_remaining, credit, charge, net
        want: (i64, i64, i64, i64, i64),
    }

    #[test]
    fn proration_table() {
        let cases = [
            Case {
                // docs/billing.md "A worked upgrade": 10 -> 15 internal users at 8.00 EUR,
                // a 30-day April, changed on 16 April: 15 days left.
                name: "mid-period upgrade (EUR)",
                old: 8_000,
                new: 12_000,
                start: d(2026, 4, 1),
                end: d(2026, 5, 1),
                change: d(2026, 4, 16),
                want: (30, 15, -4_000, 6_000, 2_000),
            },
            Case {
                name: "mid-period, rounding each part (EUR)",
                old: 1_000,
                new: 2_000,
                start: d(2026, 1, 1),
                end: d(2026, 2, 1),
                change: d(2026, 1, 21),
                // 11/31 of 10.00 = 3.548.. -> 3.55; of 20.00 = 7.096.. -> 7.10
                want: (31, 11, -355, 710, 355),
            },
            Case {
                name: "first day: a full swap",
                old: 8_000,
                new: 12_000,
                start: d(2026, 4, 1),
                end: d(2026, 5, 1),
                change: d(2026, 4, 1),
                want: (30, 30, -8_000, 12_000, 4_000),
            },
            Case {
                name: "last day: one day",
                old: 8_000,
                new: 12_000,
                start: d(2026, 4, 1),
                end: d(2026, 5, 1),
                change: d(2026, 4, 30),
                // 1/30 of 80.00 = 2.666.. -> 2.67; of 120.00 = 4.00
                want: (30, 1, -267, 400, 133),
            },
            Case {
                name: "leap-year February (29 days)",
                old: 2_900,
                new: 5_800,
                start: d(2028, 2, 1),
                end: d(2028, 3, 1),
                change: d(2028, 2, 15),
                want: (29, 15, -1_500, 3_000, 1_500),
            },
            Case {
                // docs/billing.md "Across 29 February": a yearly period from 1 Dec 2027
                // (366 days, 29 Feb 2028 inside), changed on 1 Feb 2028: 304 days left.
                name: "a yearly period over 29 February",
                old: 120_000,
                new: 180_000,
                start: d(2027, 12, 1),
                end: d(2028, 12, 1),
                change: d(2028, 2, 1),
                // 304/366 of 1200.00 = 996.72..; of 1800.00 = 1495.08..
                want: (366, 304, -99_672, 149_508, 49_836),
            },
            Case {
                name: "3-digit currency (KWD, fils)",
                old: 10_000,
                new: 25_000,
                start: d(2026, 1, 1),
                end: d(2026, 2, 1),
                change: d(2026, 1, 11),
                // 21/31 of 10.000 = 6.774.19 -> 6.774; of 25.000 = 16.935.48 -> 16.935
                want: (31, 21, -6_774, 16_935, 10_161),
            },
            Case {
                name: "0-digit currency (JPY)",
                old: 1_000,
                new: 1_500,
                start: d(2026, 4, 1),
                end: d(2026, 5, 1),
                change: d(2026, 4, 20),
                // 11/30 of 1000 = 366.67 -> 367; of 1500 = 550
                want: (30, 11, -367, 550, 183),
            },
            Case {
                name: "downgrade: negative net",
                old: 12_000,
                new: 8_000,
                start: d(2026, 4, 1),
                end: d(2026, 5, 1),
                change: d(2026, 4, 16),
                want: (30, 15, -6_000, 4_000, -2_000),
            },
        ];
        for c in cases {
            let p = prorate(c.old, c.new, c.start, c.end, c.change).unwrap();
            let got = (
                p.days_total,
                p.days_remaining,
                p.credit_minor,
                p.charge_minor,
                p.net_minor,
            );
            assert_eq!(got, c.want, "{}", c.name);
        }
    }

    #[test]
    fn refuses_a_change_outside_the_period() {
        let (s, e) = (d(2026, 4, 1), d(2026, 5, 1));
        for day in [d(2026, 3, 31), d(2026, 5, 1), d(2027, 4, 10)] {
            let err = prorate(100, 200, s, e, day).unwrap_err();
            assert!(err.to_string().starts_with("change_day:"), "{err}");
        }
        assert!(prorate(100, 200, e, s, s).is_err());
        assert!(prorate(100, 200, s, s, s).is_err());
        assert!(prorate(-1, 200, s, e, s).is_err());
        assert!(prorate(1, -200, s, e, s).is_err());
    }

    fn any_case() -> impl Strategy<Value = (i64, i64, NaiveDate, NaiveDate, NaiveDate)> {
        (
            0i64..10_000_000_000,
            0i64..10_000_000_000,
            0i64..20_000,
            1i64..800,
        )
            .prop_flat_map(|(old, new, start_off, len)| {
                let start = d(2020, 1, 1) + chrono::Duration::days(start_off);
                let end = start + chrono::Duration::days(len);
                (0..len)
                    .prop_map(move |c| (old, new, start, end, start + chrono::Duration::days(c)))
            })
    }

    proptest! {
        #[test]
        fn net_is_charge_plus_credit((old, new, s, e, c) in any_case()) {
            let p = prorate(old, new, s, e, c).unwrap();
            prop_assert_eq!(p.net_minor, p.charge_minor + p.credit_minor);
            prop_assert!(p.credit_minor <= 0);
            prop_assert!(p.charge_minor >= 0);
        }

        #[test]
        fn parts_never_exceed_the_prices((old, new, s, e, c) in any_case()) {
            let p = prorate(old, new, s, e, c).unwrap();
            prop_assert!(p.credit_minor.abs() <= old);
            prop_assert!(p.charge_minor <= new);
            prop_assert!(p.days_remaining >= 1 && p.days_remaining <= p.days_total);
        }

        /// The old price paid at the start, an upgrade mid-period, and the downgrade back
        /// taking effect at the renewal (no proration: decreases wait for the renewal):
        /// the period never costs more than the new price for the whole period, and the
        /// next period (a change on its first day) costs exactly the old price again.
        #[test]
        fn upgrade_then_downgrade_at_renewal_never_charges_more_than_the_new_price(
            (a, b, s, e, c) in any_case()
        ) {
            let (old, new) = (a.min(b), a.max(b));
            let up = prorate(old, new, s, e, c).unwrap();
            prop_assert!(old + up.net_minor <= new);
            prop_assert!(old + up.net_minor >= old);
            let next_end = e + (e - s);
            let back = prorate(new, old, e, next_end, e).unwrap();
            prop_assert_eq!(new + back.net_minor, old);
        }

        #[test]
        fn a_change_on_the_first_day_charges_new_minus_old((old, new, s, e, _c) in any_case()) {
            let p = prorate(old, new, s, e, s).unwrap();
            prop_assert_eq!(p.net_minor, new - old);
            prop_assert_eq!(p.days_remaining, p.days_total);
        }
    }
}
