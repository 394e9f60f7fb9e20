//! The tenant's price list (`billing.manage`): per-user prices by period, minimums, the
//! tax rule, payment terms, purchase orders, bank details, renewal and dunning days.
//! Read and replaced as a whole, validated, audited.

use super::tenant::Tenant;
use super::{Actor, Result, ServiceError, audit, refuse};
use crate::domain::free_text;
use crate::domain::money::Currency;
use crate::domain::pricing::{self, TaxRule};
use crate::error::ErrorCode;
use crate::store::ReadTx;
use crate::store::price_list::{self as store, PriceListRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The most a unit price may be, in minor units (a sanity bound, 10^12).
const PRICE_MAX: i64 = 1_000_000_000_000;
const DAYS_MAX: i64 = 3650;
const USERS_MAX: i64 = 1_000_000;

/// The price list, as read and written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    /// ISO 4217 code (`EUR`).
    pub currency: String,
    /// Per internal user per month, in minor units.
    pub internal_monthly_minor: i64,
    pub internal_yearly_minor: i64,
    pub external_monthly_minor: i64,
    pub external_yearly_minor: i64,
    /// The fewest users a subscription is billed for.
    #[serde(default)]
    pub min_internal_users: i64,
    #[serde(default)]
    pub min_external_users: i64,
    /// The tax rule: `{"default_rate_bp": 1900, "rates_bp": {"AT": 2000}}` (rates in
    /// basis points, at most 10000): the rate of the customer's country, else the default.
    #[schema(value_type = Object)]
    #[serde(default = "empty_rule")]
    pub tax_rule: serde_json::Value,
    /// Days from issue to due date.
    pub payment_terms_days: i64,
    #[serde(default)]
    pub allow_purchase_order: bool,
    /// Printed on invoices (account holder, IBAN, BIC ...).
    #[serde(default)]
    pub bank_details: String,
    /// How many days before the period end a renewal invoice is made.
    pub renewal_days_before: i64,
    /// Days past due before a subscription is past due.
    pub dunning_grace_days: i64,
}

fn empty_rule() -> serde_json::Value {
    json!({})
}

/// The price list with who changed it last.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PriceListState)]
pub struct Stored {
    #[serde(flatten)]
    pub prices: PriceList,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

fn invalid(field: &str, why: &str) -> ServiceError {
    refuse(ErrorCode::ValidationFailed, format!("{field}: {why}"))
}

/// The tax rule as stored and typed: `{"default_rate_bp": 1900, "rates_bp": {"AT": 2000}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxRuleJson {
    #[serde(default)]
    default_rate_bp: u32,
    #[serde(default)]
    rates_bp: std::collections::BTreeMap<String, u32>,
}

/// The tax rule in `domain::pricing`'s terms: flat without per-country rates, by
/// country with them (the default for every other country and for a customer with none).
pub fn tax_rule(rule: &serde_json::Value) -> Result<TaxRule> {
    if !rule.is_object() {
        return Err(invalid(
            "tax_rule",
            "write it as {\"default_rate_bp\": 1900, \"rates_bp\": {\"AT\": 2000}}",
        ));
    }
    let r: TaxRuleJson = serde_json::from_value(rule.clone()).map_err(|e| {
        invalid(
            "tax_rule",
            &format!(
                "{e}; write it as {{\"default_rate_bp\": 1900, \"rates_bp\": {{\"AT\": 2000}}}}"
            ),
        )
    })?;
    let max = crate::domain::money::MAX_RATE;
    if r.default_rate_bp > max || r.rates_bp.values().any(|bp| *bp > max) {
        return Err(invalid(
            "tax_rule",
            "rates are basis points from 0 to 10000 (1900 = 19 %)",
        ));
    }
    if let Some(c) = r
        .rates_bp
        .keys()
        .find(|c| pricing::check_country(c).ok().as_ref() != Some(*c))
    {
        return Err(invalid(
            "tax_rule",
            &format!("{c:?} is not a two-letter country code in capitals such as AT"),
        ));
    }
    Ok(if r.rates_bp.is_empty() {
        TaxRule::Flat(r.default_rate_bp)
    } else {
        TaxRule::ByCountry {
            rates: r.rates_bp,
            default: r.default_rate_bp,
        }
    })
}

impl PriceList {
    /// The list in `domain::pricing`'s terms. A period whose two prices are both 0 is not
    /// offered (a vendor who sells yearly only leaves the monthly prices at 0).
    pub fn terms(&self) -> Result<pricing::PriceList> {
        let prices = |internal: i64, external: i64| {
            (internal > 0 || external > 0).then_some(pricing::UnitPrices {
                internal_user_minor: internal,
                external_user_minor: external,
            })
        };
        let list = pricing::PriceList {
            currency: self.currency.parse()?,
            monthly: prices(self.internal_monthly_minor, self.external_monthly_minor),
            yearly: prices(self.internal_yearly_minor, self.external_yearly_minor),
            minimum_internal: self.min_internal_users,
            minimum_external: self.min_external_users,
            tax: tax_rule(&self.tax_rule)?,
            payment_terms_days: u32::try_from(self.payment_terms_days)
                .map_err(|_| invalid("payment_terms_days", "out of range"))?,
            allow_purchase_order: self.allow_purchase_order,
        };
        list.check()?;
        Ok(list)
    }
}

/// Checks a price list; returns it with its text trimmed.
pub fn validate(p: &PriceList) -> Result<PriceList> {
    let currency: Currency = p.currency.trim().parse()?;
    for (field, v) in [
        ("internal_monthly_minor", p.internal_monthly_minor),
        ("internal_yearly_minor", p.internal_yearly_minor),
        ("external_monthly_minor", p.external_monthly_minor),
        ("external_yearly_minor", p.external_yearly_minor),
    ] {
        if !(0..=PRICE_MAX).contains(&v) {
            return Err(invalid(
                field,
                "must be 0 or more (minor units) and not absurdly large",
            ));
        }
    }
    for (field, v) in [
        ("min_internal_users", p.min_internal_users),
        ("min_external_users", p.min_external_users),
    ] {
        if !(0..=USERS_MAX).contains(&v) {
            return Err(invalid(field, "must be between 0 and 1000000"));
        }
    }
    for (field, v) in [
        ("payment_terms_days", p.payment_terms_days),
        ("renewal_days_before", p.renewal_days_before),
        ("dunning_grace_days", p.dunning_grace_days),
    ] {
        if !(0..=DAYS_MAX).contains(&v) {
            return Err(invalid(field, "must be between 0 and 3650 days"));
        }
    }
    let checked = PriceList {
        currency: currency.as_str().to_owned(),
        ..p.clone()
    };
    checked.terms()?;
    let bank_details = free_text::lines("bank_details", &p.bank_details, 2000, false)?;
    Ok(PriceList {
        currency: currency.as_str().to_owned(),
        bank_details,
        ..p.clone()
    })
}

fn from_row(r: PriceListRow) -> Stored {
    Stored {
        prices: PriceList {
            currency: r.currency,
            internal_monthly_minor: r.internal_monthly_minor,
            internal_yearly_minor: r.internal_yearly_minor,
            external_monthly_minor: r.external_monthly_minor,
            external_yearly_minor: r.external_yearly_minor,
            min_internal_users: r.min_internal_users,
            min_external_users: r.min_external_users,
            tax_rule: serde_json::from_str(&r.tax_rule).unwrap_or_else(|_| empty_rule()),
            payment_terms_days: r.payment_terms_days,
            allow_purchase_order: r.allow_purchase_order,
            bank_details: r.bank_details,
            renewal_days_before: r.renewal_days_before,
            dunning_grace_days: r.dunning_grace_days,
        },
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    }
}

/// The price list; `None` until staff set one.
pub fn get(tenant: &Tenant) -> Result<Option<Stored>> {
    tenant.db.read(read)
}

/// The price list inside a transaction.
pub(super) fn read(tx: &ReadTx<'_>) -> Result<Option<Stored>> {
    Ok(store::get(tx)?.map(from_row))
}

/// The price list or `price_list_missing`.
pub fn require(tenant: &Tenant) -> Result<Stored> {
    get(tenant)?.ok_or_else(|| {
        refuse(
            ErrorCode::PriceListMissing,
            "no price list is set: set one under Billing, Price list",
        )
    })
}

/// Replaces the price list (validated). Audited with the old and new values.
pub fn replace(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    p: &PriceList,
) -> Result<Stored> {
    let p = validate(p)?;
    let by = actor.audit_name();
    tenant.db.write(|tx| {
        let before = store::get(tx)?.map(from_row);
        let row = PriceListRow {
            currency: p.currency.clone(),
            internal_monthly_minor: p.internal_monthly_minor,
            internal_yearly_minor: p.internal_yearly_minor,
            external_monthly_minor: p.external_monthly_minor,
            external_yearly_minor: p.external_yearly_minor,
            min_internal_users: p.min_internal_users,
            min_external_users: p.min_external_users,
            tax_rule: p.tax_rule.to_string(),
            payment_terms_days: p.payment_terms_days,
            allow_purchase_order: p.allow_purchase_order,
            bank_details: p.bank_details.clone(),
            renewal_days_before: p.renewal_days_before,
            dunning_grace_days: p.dunning_grace_days,
            updated_at: now,
            updated_by: by.clone(),
        };
        store::replace(tx, &row, &by, now)?;
        audit::record(
            tx,
            now,
            actor,
            "price_list.replace",
            "price_list",
            json!({"before": before.map(|b| b.prices), "after": p}),
        )?;
        Ok(Stored {
            prices: p.clone(),
            updated_at: now,
            updated_by: by.clone(),
        })
    })
}
