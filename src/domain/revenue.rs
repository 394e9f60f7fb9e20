//! The revenue summary's arithmetic (docs/billing.md, "Revenue summary"): monthly
//! recurring revenue from the subscriptions that count (active and past due) and the
//! price list's unit prices, and the calendar months a chart spans. Pure: the caller
//! reads the counts and passes `today`.

use super::DomainError;
use super::money;
use super::pricing::BillingPeriod;
use chrono::{Datelike, NaiveDate};

/// The price list's unit prices per user and period, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnitPrices {
    pub internal_monthly: i64,
    pub internal_yearly: i64,
    pub external_monthly: i64,
    pub external_yearly: i64,
}

/// The users of the subscriptions of one period that count for recurring revenue
/// (summed over them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Users {
    pub period: BillingPeriod,
    pub internal: i64,
    pub external: i64,
}

fn overflow() -> DomainError {
    DomainError::invalid("mrr", "is too large")
}

/// Monthly recurring revenue in minor units: the monthly subscriptions' users times the
/// monthly unit prices, plus the yearly subscriptions' users times the yearly unit
/// prices divided by 12. The yearly sum is divided once, at the end, and rounded to the
/// nearest minor unit, halves away from zero (the rule of `money::mul_div_round`), so
/// no rounding is done per subscription.
pub fn mrr(prices: &UnitPrices, users: &[Users]) -> Result<i64, DomainError> {
    let (mut monthly, mut yearly) = (0i64, 0i64);
    for u in users {
        let (ip, ep, sum) = match u.period {
            BillingPeriod::Monthly => (
                prices.internal_monthly,
                prices.external_monthly,
                &mut monthly,
            ),
            BillingPeriod::Yearly => (prices.internal_yearly, prices.external_yearly, &mut yearly),
        };
        let amount = money::line_amount(u.internal, ip)?
            .checked_add(money::line_amount(u.external, ep)?)
            .ok_or_else(overflow)?;
        *sum = sum.checked_add(amount).ok_or_else(overflow)?;
    }
    monthly
        .checked_add(money::mul_div_round(yearly, 1, 12)?)
        .ok_or_else(overflow)
}

/// A calendar month (`2026-06`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(d: NaiveDate) -> Month {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// `2026-06`, as SQLite's `strftime('%Y-%m', ...)` writes it.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// The month before.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Its first day.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }
}

/// The last `n` calendar months up to and including `today`'s, oldest first.
pub fn last_months(today: NaiveDate, n: usize) -> Vec<Month> {
    let mut out = Vec::with_capacity(n);
    let mut m = Month::of(today);
    for _ in 0..n {
        out.push(m);
        m = m.previous();
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICES: UnitPrices = UnitPrices {
        internal_monthly: 1000,
        internal_yearly: 10000,
        external_monthly: 500,
        external_yearly: 5000,
    };

    fn users(period: BillingPeriod, internal: i64, external: i64) -> Users {
        Users {
            period,
            internal,
            external,
        }
    }

    #[test]
    fn mrr_adds_monthly_and_a_twelfth_of_yearly() {
        use BillingPeriod::{Monthly, Yearly};
        let table: &[(&[Users], i64)] = &[
            (&[], 0),
            // 10 × 10.00 + 4 × 5.00 = 120.00 a month.
            (&[users(Monthly, 10, 4)], 12000),
            // 12 × 100.00 a year = 100.00 a month.
            (&[users(Yearly, 12, 0)], 10000),
            // 1 × 100.00 a year = 8.333… → 8.33.
            (&[users(Yearly, 1, 0)], 833),
            // 1 × 50.00 a year = 4.1666… → 4.17 (nearest).
            (&[users(Yearly, 0, 1)], 417),
            // (100.00 + 50.00) / 12 = 12.50.
            (&[users(Yearly, 1, 1)], 1250),
            // The yearly sum is divided once: 3 × 100.00 / 12 = 25.00, where rounding
            // each subscription would give 3 × 8.33 = 24.99.
            (
                &[
                    users(Yearly, 1, 0),
                    users(Yearly, 1, 0),
                    users(Yearly, 1, 0),
                ],
                2500,
            ),
            (&[users(Monthly, 10, 4), users(Yearly, 12, 0)], 22000),
        ];
        for (u, want) in table {
            assert_eq!(mrr(&PRICES, u).unwrap(), *want, "{u:?}");
        }
        let halves = UnitPrices {
            internal_yearly: 1,
            ..UnitPrices::default()
        };
        // Half a minor unit rounds away from zero: 6 × 0.01 a year / 12 = 0.005 → 0.01.
        assert_eq!(mrr(&halves, &[users(Yearly, 6, 0)]).unwrap(), 1);
        assert_eq!(mrr(&halves, &[users(Yearly, 5, 0)]).unwrap(), 0);
    }

    #[test]
    fn mrr_refuses_overflow_rather_than_wrapping() {
        let big = UnitPrices {
            internal_monthly: i64::MAX / 2,
            ..UnitPrices::default()
        };
        assert!(mrr(&big, &[users(BillingPeriod::Monthly, 3, 0)]).is_err());
    }

    #[test]
    fn the_last_months_cross_the_year_oldest_first() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        let m = last_months(d, 12);
        assert_eq!(m.len(), 12);
        assert_eq!(m[0].key(), "2025-03");
        assert_eq!(m[10].key(), "2026-01");
        assert_eq!(m[11].key(), "2026-02");
        assert_eq!(m[11].first_day(), NaiveDate::from_ymd_opt(2026, 2, 1));
        assert!(last_months(d, 0).is_empty());
    }
}
