//! The price list's shape and the quote for a purchase or an upgrade: lines of
//! `quantity × unit price`, each taxed and rounded on its own (see `money`), summed into
//! the subtotal, tax and total (docs/billing.md).

use super::DomainError;
use super::money::{self, BasisPoints, Currency, MAX_RATE};
use super::proration::{self, Proration};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a subscription's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    Monthly,
    Yearly,
}

impl BillingPeriod {
    pub fn months(self) -> u32 {
        match self {
            BillingPeriod::Monthly => 1,
            BillingPeriod::Yearly => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Yearly => "yearly",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "monthly" => Ok(BillingPeriod::Monthly),
            "yearly" => Ok(BillingPeriod::Yearly),
            other => Err(DomainError::invalid(
                "period",
                format!("{other:?} is not monthly or yearly"),
            )),
        }
    }

    /// The end (exclusive) of a period starting on `start`: the same day of the month,
    /// `months()` later, clamped to the month's last day (31 Jan + 1 month = 28 or 29 Feb).
    pub fn end(self, start: NaiveDate) -> NaiveDate {
        self.end_of_nth(start, 1)
    }

    /// The end of the `n`th period from an `anchor` day, counted from the anchor rather
    /// than period by period, so a subscription anchored on the 31st comes back to the 31st
    /// after a short month (31 Jan, 29 Feb, 31 Mar) instead of drifting to the 28th/29th.
    pub fn end_of_nth(self, anchor: NaiveDate, n: u32) -> NaiveDate {
        anchor
            .checked_add_months(Months::new(self.months().saturating_mul(n)))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The prices of one billing period, per user, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPrices {
    pub internal_user_minor: i64,
    pub external_user_minor: i64,
}

/// The tax a customer pays, by their country or flat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRule {
    Flat(BasisPoints),
    /// ISO 3166 alpha-2 country (upper case) -> rate; `default` for any other country and
    /// for a customer without a country.
    ByCountry {
        rates: BTreeMap<String, BasisPoints>,
        default: BasisPoints,
    },
}

impl TaxRule {
    /// The rate for a customer in `country` (ISO 3166 alpha-2, any case).
    pub fn rate_for(&self, country: Option<&str>) -> BasisPoints {
        match self {
            TaxRule::Flat(bp) => *bp,
            TaxRule::ByCountry { rates, default } => country
                .map(|c| c.trim().to_ascii_uppercase())
                .and_then(|c| rates.get(&c).copied())
                .unwrap_or(*default),
        }
    }
}

/// Checks an ISO 3166 alpha-2 country code (two letters) and returns it in upper case.
pub fn check_country(code: &str) -> Result<String, DomainError> {
    let c = code.trim();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err(DomainError::invalid(
            "country",
            format!("{code:?} is not an ISO 3166 two-letter country code such as DE or US"),
        ))
    }
}

/// The most days of payment terms a price list may give (net N).
pub const MAX_PAYMENT_TERMS_DAYS: u32 = 365;

/// A tenant's price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceList {
    pub currency: Currency,
    pub monthly: Option<UnitPrices>,
    pub yearly: Option<UnitPrices>,
    pub minimum_internal: i64,
    pub minimum_external: i64,
    pub tax: TaxRule,
    /// Net N: an invoice is due N days after it is issued.
    pub payment_terms_days: u32,
    /// Whether a license may be issued on an accepted purchase order, before payment.
    pub allow_purchase_order: bool,
}

impl PriceList {
    /// The prices of `period`, if the list offers it.
    pub fn prices(&self, period: BillingPeriod) -> Option<UnitPrices> {
        match period {
            BillingPeriod::Monthly => self.monthly,
            BillingPeriod::Yearly => self.yearly,
        }
    }

    /// When an invoice issued on `issued` is due (net N days).
    pub fn due_date(&self, issued: NaiveDate) -> NaiveDate {
        issued + chrono::Duration::days(i64::from(self.payment_terms_days))
    }

    /// The periods the list offers, monthly first.
    pub fn periods(&self) -> Vec<BillingPeriod> {
        [BillingPeriod::Monthly, BillingPeriod::Yearly]
            .into_iter()
            .filter(|p| self.prices(*p).is_some())
            .collect()
    }

    /// Refuses a list that cannot quote; the error names the bad field.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.monthly.is_none() && self.yearly.is_none() {
            return Err(DomainError::invalid(
                "prices",
                "offer a monthly or a yearly price (or both)",
            ));
        }
        for (field_int, field_ext, prices) in [
            (
                "monthly.internal_user_minor",
                "monthly.external_user_minor",
                self.monthly,
            ),
            (
                "yearly.internal_user_minor",
                "yearly.external_user_minor",
                self.yearly,
            ),
        ] {
            if let Some(p) = prices {
                if p.internal_user_minor < 0 {
                    return Err(DomainError::invalid(field_int, "must not be negative"));
                }
                if p.external_user_minor < 0 {
                    return Err(DomainError::invalid(field_ext, "must not be negative"));
                }
            }
        }
        if self.minimum_internal < 0 {
            return Err(DomainError::invalid(
                "minimum_internal",
                "must not be negative",
            ));
        }
        if self.minimum_external < 0 {
            return Err(DomainError::invalid(
                "minimum_external",
                "must not be negative",
            ));
        }
        let too_high = |bp: BasisPoints| bp > MAX_RATE;
        match &self.tax {
            TaxRule::Flat(bp) if too_high(*bp) => {
                return Err(DomainError::invalid("tax", "is more than 100 %"));
            }
            TaxRule::Flat(_) => {}
            TaxRule::ByCountry { rates, default } => {
                if too_high(*default) {
                    return Err(DomainError::invalid("tax.default", "is more than 100 %"));
                }
                for (country, bp) in rates {
                    if check_country(country)? != *country {
                        return Err(DomainError::invalid(
                            "tax.rates",
                            format!("{country:?}: write the country code in capitals"),
                        ));
                    }
                    if too_high(*bp) {
                        return Err(DomainError::invalid(
                            "tax.rates",
                            format!("{country}: is more than 100 %"),
                        ));
                    }
                }
            }
        }
        if self.payment_terms_days > MAX_PAYMENT_TERMS_DAYS {
            return Err(DomainError::invalid(
                "payment_terms_days",
                format!("must be at most {MAX_PAYMENT_TERMS_DAYS}"),
            ));
        }
        Ok(())
    }
}

/// What a quote or invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    InternalUsers,
    ExternalUsers,
    /// The remaining time of a new price (an upgrade or a co-termed purchase).
    Proration,
    /// The unused time of an old price, credited (a negative amount).
    Credit,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::InternalUsers => "internal_users",
            LineKind::ExternalUsers => "external_users",
            LineKind::Proration => "proration",
            LineKind::Credit => "credit",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "internal_users" => Ok(LineKind::InternalUsers),
            "external_users" => Ok(LineKind::ExternalUsers),
            "proration" => Ok(LineKind::Proration),
            "credit" => Ok(LineKind::Credit),
            other => Err(DomainError::invalid(
                "kind",
                format!("{other:?} is not a line kind"),
            )),
        }
    }

    /// Whether the line is part of a proration (Stripe's `proration` flag).
    pub fn is_proration(self) -> bool {
        matches!(self, LineKind::Proration | LineKind::Credit)
    }
}

/// One line: `amount = quantity × unit`, `tax = amount × rate`, rounded on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    pub tax_rate_bp: BasisPoints,
    pub tax_minor: i64,
}

impl QuoteLine {
    /// Builds a line and computes its amount and tax by the rounding rule.
    pub fn new(
        kind: LineKind,
        description: impl Into<String>,
        quantity: i64,
        unit_minor: i64,
        tax_rate_bp: BasisPoints,
    ) -> Result<Self, DomainError> {
        let amount_minor = money::line_amount(quantity, unit_minor)?;
        let tax_minor = money::tax(amount_minor, tax_rate_bp)?;
        Ok(QuoteLine {
            kind,
            description: description.into(),
            quantity,
            unit_minor,
            amount_minor,
            tax_rate_bp,
            tax_minor,
        })
    }
}

/// A priced set of lines; the totals are the sums of the lines' rounded figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

impl Quote {
    /// Sums the lines.
    pub fn from_lines(currency: Currency, lines: Vec<QuoteLine>) -> Result<Self, DomainError> {
        let overflow = || DomainError::invalid("amount", "is too large");
        let mut subtotal: i64 = 0;
        let mut tax: i64 = 0;
        for l in &lines {
            subtotal = subtotal.checked_add(l.amount_minor).ok_or_else(overflow)?;
            tax = tax.checked_add(l.tax_minor).ok_or_else(overflow)?;
        }
        Ok(Quote {
            currency,
            lines,
            subtotal_minor: subtotal,
            tax_minor: tax,
            total_minor: subtotal.checked_add(tax).ok_or_else(overflow)?,
        })
    }
}

fn period_words(period: BillingPeriod) -> &'static str {
    match period {
        BillingPeriod::Monthly => "1 month",
        BillingPeriod::Yearly => "1 year",
    }
}

fn unit_prices(list: &PriceList, period: BillingPeriod) -> Result<UnitPrices, DomainError> {
    list.prices(period).ok_or_else(|| {
        DomainError::invalid(
            "period",
            format!("the price list has no {} price", period.as_str()),
        )
    })
}

/// Checks user counts against the list's minimums; the message names the minimum.
pub fn check_quantities(list: &PriceList, internal: i64, external: i64) -> Result<(), DomainError> {
    if internal < 0 {
        return Err(DomainError::invalid(
            "internal_users",
            "must not be negative",
        ));
    }
    if external < 0 {
        return Err(DomainError::invalid(
            "external_users",
            "must not be negative",
        ));
    }
    if internal < list.minimum_internal {
        return Err(DomainError::invalid(
            "internal_users",
            format!(
                "the minimum is {} internal users (you asked for {internal})",
                list.minimum_internal
            ),
        ));
    }
    if external < list.minimum_external {
        return Err(DomainError::invalid(
            "external_users",
            format!(
                "the minimum is {} external users (you asked for {external})",
                list.minimum_external
            ),
        ));
    }
    if internal == 0 && external == 0 {
        return Err(DomainError::invalid(
            "internal_users",
            "a license covers at least one user",
        ));
    }
    Ok(())
}

/// The whole-period price of `internal` and `external` users (before tax).
pub fn period_price(
    list: &PriceList,
    period: BillingPeriod,
    internal: i64,
    external: i64,
) -> Result<i64, DomainError> {
    let p = unit_prices(list, period)?;
    money::line_amount(internal, p.internal_user_minor)?
        .checked_add(money::line_amount(external, p.external_user_minor)?)
        .ok_or_else(|| DomainError::invalid("amount", "is too large"))
}

/// The quote for a purchase of one period: a line per kind of user (a kind with no users
/// has no line), taxed at the customer's country's rate.
pub fn quote(
    list: &PriceList,
    period: BillingPeriod,
    internal: i64,
    external: i64,
    country: Option<&str>,
) -> Result<Quote, DomainError> {
    let p = unit_prices(list, period)?;
    check_quantities(list, internal, external)?;
    let rate = list.tax.rate_for(country);
    let words = period_words(period);
    let mut lines = Vec::new();
    if internal > 0 {
        lines.push(QuoteLine::new(
            LineKind::InternalUsers,
            format!("Internal users, {words}"),
            internal,
            p.internal_user_minor,
            rate,
        )?);
    }
    if external > 0 {
        lines.push(QuoteLine::new(
            LineKind::ExternalUsers,
            format!("External users, {words}"),
            external,
            p.external_user_minor,
            rate,
        )?);
    }
    Quote::from_lines(list.currency, lines)
}

/// A change of user counts within a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub period: BillingPeriod,
    pub period_start: NaiveDate,
    /// Exclusive.
    pub period_end: NaiveDate,
    pub change_day: NaiveDate,
    pub old_internal: i64,
    pub old_external: i64,
    pub new_internal: i64,
    pub new_external: i64,
}

/// The quote for an upgrade mid-period (Stripe's rule, see `proration`): a credit line for
/// the unused time of the old counts and a proration line for the remaining time of the
/// new ones, both taxed. The preview and the invoice use this same function.
pub fn upgrade_quote(
    list: &PriceList,
    change: &Change,
    country: Option<&str>,
) -> Result<(Quote, Proration), DomainError> {
    check_quantities(list, change.new_internal, change.new_external)?;
    let old = period_price(
        list,
        change.period,
        change.old_internal,
        change.old_external,
    )?;
    let new = period_price(
        list,
        change.period,
        change.new_internal,
        change.new_external,
    )?;
    let p = proration::prorate(
        old,
        new,
        change.period_start,
        change.period_end,
        change.change_day,
    )?;
    let rate = list.tax.rate_for(country);
    let span = format!(
        "{} days of {}, {} to {}",
        p.days_remaining, p.days_total, change.change_day, change.period_end
    );
    let lines = vec![
        QuoteLine::new(
            LineKind::Credit,
            format!(
                "Unused time: {} internal, {} external users ({span})",
                change.old_internal, change.old_external
            ),
            1,
            p.credit_minor,
            rate,
        )?,
        QuoteLine::new(
            LineKind::Proration,
            format!(
                "Remaining time: {} internal, {} external users ({span})",
                change.new_internal, change.new_external
            ),
            1,
            p.charge_minor,
            rate,
        )?,
    ];
    Ok((Quote::from_lines(list.currency, lines)?, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The price list of docs/billing.md's examples.
    pub(crate) fn sample() -> PriceList {
        PriceList {
            currency: "EUR".parse().unwrap(),
            monthly: Some(UnitPrices {
                internal_user_minor: 800,
                external_user_minor: 105,
            }),
            yearly: Some(UnitPrices {
                internal_user_minor: 8_000,
                external_user_minor: 1_000,
            }),
            minimum_internal: 5,
            minimum_external: 0,
            tax: TaxRule::ByCountry {
                rates: BTreeMap::from([("DE".to_string(), 1_900), ("FR".to_string(), 2_000)]),
                default: 0,
            },
            payment_terms_days: 30,
            allow_purchase_order: true,
        }
    }

    #[test]
    fn periods_keep_the_day_of_month() {
        let m = BillingPeriod::Monthly;
        assert_eq!(m.end(d(2026, 1, 15)), d(2026, 2, 15));
        assert_eq!(m.end(d(2026, 1, 31)), d(2026, 2, 28));
        assert_eq!(m.end(d(2028, 1, 31)), d(2028, 2, 29));
        assert_eq!(m.end(d(2026, 12, 31)), d(2027, 1, 31));
        let y = BillingPeriod::Yearly;
        assert_eq!(y.end(d(2028, 2, 29)), d(2029, 2, 28));
        assert_eq!(y.end(d(2026, 3, 1)), d(2027, 3, 1));
        // Counted from the anchor, the 31st comes back after February.
        assert_eq!(m.end_of_nth(d(2026, 1, 31), 2), d(2026, 3, 31));
        assert_eq!(m.months(), 1);
        assert_eq!(y.months(), 12);
        assert_eq!(BillingPeriod::parse("yearly").unwrap(), y);
        assert!(BillingPeriod::parse("weekly").is_err());
    }

    #[test]
    fn tax_by_country_or_flat() {
        let list = sample();
        assert_eq!(list.tax.rate_for(Some("DE")), 1_900);
        assert_eq!(list.tax.rate_for(Some("fr")), 2_000);
        assert_eq!(list.tax.rate_for(Some("US")), 0);
        assert_eq!(list.tax.rate_for(None), 0);
        assert_eq!(TaxRule::Flat(700).rate_for(Some("DE")), 700);
    }

    #[test]
    fn check_names_the_bad_field() {
        assert!(sample().check().is_ok());
        let field = |l: PriceList| match l.check().unwrap_err() {
            DomainError::Invalid { field, .. } => field,
        };
        let mut l = sample();
        l.monthly = None;
        l.yearly = None;
        assert_eq!(field(l), "prices");
        let mut l = sample();
        l.yearly = Some(UnitPrices {
            internal_user_minor: 1,
            external_user_minor: -1,
        });
        assert_eq!(field(l), "yearly.external_user_minor");
        let mut l = sample();
        l.monthly = Some(UnitPrices {
            internal_user_minor: -1,
            external_user_minor: 1,
        });
        assert_eq!(field(l), "monthly.internal_user_minor");
        let mut l = sample();
        l.minimum_internal = -1;
        assert_eq!(field(l), "minimum_internal");
        let mut l = sample();
        l.minimum_external = -1;
        assert_eq!(field(l), "minimum_external");
        let mut l = sample();
        l.tax = TaxRule::Flat(10_001);
        assert_eq!(field(l), "tax");
        let mut l = sample();
        l.tax = TaxRule::ByCountry {
            rates: BTreeMap::new(),
            default: 10_001,
        };
        assert_eq!(field(l), "tax.default");
        for bad in ["de", "DEU", "D1"] {
            let mut l = sample();
            l.tax = TaxRule::ByCountry {
                rates: BTreeMap::from([(bad.to_string(), 100)]),
                default: 0,
            };
            let f = field(l);
            assert!(f == "tax.rates" || f == "country", "{bad}: {f}");
        }
        let mut l = sample();
        l.payment_terms_days = 366;
        assert_eq!(field(l), "payment_terms_days");
    }

    #[test]
    fn a_purchase_quote_with_worked_numbers() {
        // docs/billing.md "A purchase quote": 25 internal at 8.00 and 1 000 external at
        // 1.05 a month, a customer in Germany (19 %).
        let q = quote(&sample(), BillingPeriod::Monthly, 25, 1_000, Some("DE")).unwrap();
        assert_eq!(q.lines.len(), 2);
        let l0 = &q.lines[0];
        assert_eq!(
            (l0.kind, l0.description.as_str(), l0.quantity, l0.unit_minor),
            (LineKind::InternalUsers, "Internal users, 1 month", 25, 800)
        );
        assert_eq!(
            (l0.amount_minor, l0.tax_rate_bp, l0.tax_minor),
            (20_000, 1_900, 3_800)
        );
        let l1 = &q.lines[1];
        assert_eq!(
            (l1.kind, l1.quantity, l1.unit_minor),
            (LineKind::ExternalUsers, 1_000, 105)
        );
        assert_eq!((l1.amount_minor, l1.tax_minor), (105_000, 19_950));
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (125_000, 23_750, 148_750)
        );
    }

    #[test]
    fn each_line_is_rounded_on_its_own() {
        // A flat 7.7 %: 9 internal at 8.00 (72.00) and 4 external at 1.05 (4.20):
        // taxes 5.544 -> 5.54 and 0.3234 -> 0.32, 5.86 in all; rounding the subtotal's
        // tax once (76.20 x 7.7 % = 5.8674) would give 5.87. Licd rounds per line.
        let mut flat = sample();
        flat.tax = TaxRule::Flat(770);
        let q = quote(&flat, BillingPeriod::Monthly, 9, 4, Some("DE")).unwrap();
        let taxes: Vec<i64> = q.lines.iter().map(|l| l.tax_minor).collect();
        assert_eq!(taxes, vec![554, 32]);
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (7_620, 586, 8_206)
        );
        assert_eq!(money::tax(q.subtotal_minor, 770).unwrap(), 587);
        // A yearly quote outside the listed countries: no tax.
        let q = quote(&sample(), BillingPeriod::Yearly, 5, 0, Some("US")).unwrap();
        assert_eq!(q.lines.len(), 1);
        assert_eq!(q.lines[0].description, "Internal users, 1 year");
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (40_000, 0, 40_000)
        );
    }

    #[test]
    fn refuses_below_the_minimum_and_unknown_periods() {
        let err = quote(&sample(), BillingPeriod::Monthly, 4, 10, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "internal_users: the minimum is 5 internal users (you asked for 4)"
        );
        let mut l = sample();
        l.minimum_internal = 0;
        l.minimum_external = 100;
        let err = quote(&l, BillingPeriod::Monthly, 10, 99, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("the minimum is 100 external users"),
            "{err}"
        );
        l.minimum_external = 0;
        assert!(quote(&l, BillingPeriod::Monthly, 0, 0, None).is_err());
        assert!(quote(&l, BillingPeriod::Monthly, -1, 5, None).is_err());
        l.yearly = None;
        let err = quote(&l, BillingPeriod::Yearly, 10, 0, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "period: the price list has no yearly price"
        );
    }

    #[test]
    fn an_upgrade_quote_credits_and_charges() {
        // docs/billing.md "A worked upgrade": 10 -> 15 internal users, monthly, April,
        // on 16 April, in Germany: credit -40.00, charge 60.00, tax -7.60 + 11.40.
        let change = Change {
            period: BillingPeriod::Monthly,
            period_start: d(2026, 4, 1),
            period_end: d(2026, 5, 1),
            change_day: d(2026, 4, 16),
            old_internal: 10,
            old_external: 0,
            new_internal: 15,
            new_external: 0,
        };
        let (q, p) = upgrade_quote(&sample(), &change, Some("DE")).unwrap();
        assert_eq!((p.days_total, p.days_remaining), (30, 15));
        let amounts: Vec<(LineKind, i64, i64)> = q
            .lines
            .iter()
            .map(|l| (l.kind, l.amount_minor, l.tax_minor))
            .collect();
        assert_eq!(
            amounts,
            vec![
                (LineKind::Credit, -4_000, -760),
                (LineKind::Proration, 6_000, 1_140)
            ]
        );
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (2_000, 380, 2_380)
        );
        assert!(q.lines.iter().all(|l| l.kind.is_proration()));
        assert_eq!(
            q.lines[1].description,
            "Remaining time: 15 internal, 0 external users (15 days of 30, 2026-04-16 to 2026-05-01)"
        );
        // New counts must still meet the minimum.
        let below = Change {
            new_internal: 4,
            ..change
        };
        assert!(upgrade_quote(&sample(), &below, None).is_err());
    }

    #[test]
    fn due_dates_are_net_n_days() {
        assert_eq!(sample().due_date(d(2026, 12, 15)), d(2027, 1, 14));
        assert_eq!(
            sample().periods(),
            vec![BillingPeriod::Monthly, BillingPeriod::Yearly]
        );
    }

    proptest::proptest! {
        /// The totals are the sums of the lines, and an upgrade's subtotal is the
        /// proration's net.
        #[test]
        fn totals_add_up(
            internal in 5i64..100_000,
            external in 0i64..1_000_000,
            more in 0i64..1_000,
            day in 0i64..30,
            country in proptest::sample::select(vec!["DE", "FR", "US"]),
        ) {
            let list = sample();
            let q = quote(&list, BillingPeriod::Monthly, internal, external, Some(country)).unwrap();
            let sum: i64 = q.lines.iter().map(|l| l.amount_minor + l.tax_minor).sum();
            proptest::prop_assert_eq!(q.total_minor, sum);
            proptest::prop_assert_eq!(q.total_minor, q.subtotal_minor + q.tax_minor);
            let change = Change {
                period: BillingPeriod::Monthly,
                period_start: d(2026, 4, 1),
                period_end: d(2026, 5, 1),
                change_day: d(2026, 4, 1) + chrono::Duration::days(day),
                old_internal: internal,
                old_external: external,
                new_internal: internal + more,
                new_external: external,
            };
            let (uq, p) = upgrade_quote(&list, &change, Some(country)).unwrap();
            proptest::prop_assert_eq!(uq.subtotal_minor, p.net_minor);
            proptest::prop_assert!(uq.subtotal_minor >= 0);
            proptest::prop_assert_eq!(uq.total_minor, uq.subtotal_minor + uq.tax_minor);
        }
    }

    #[test]
    fn line_kinds_round_trip() {
        for k in [
            LineKind::InternalUsers,
            LineKind::ExternalUsers,
            LineKind::Proration,
            LineKind::Credit,
        ] {
            assert_eq!(LineKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(LineKind::parse("discount").is_err());
        assert!(check_country(" de ").is_ok());
    }
}
