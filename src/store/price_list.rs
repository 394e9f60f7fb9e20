//! The tenant's price list: one row (schema step 11), replaced as a whole.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceListRow {
    pub currency: String,
    pub internal_monthly_minor: i64,
    pub internal_yearly_minor: i64,
    pub external_monthly_minor: i64,
    pub external_yearly_minor: i64,
    pub min_internal_users: i64,
    pub min_external_users: i64,
    /// JSON text.
    pub tax_rule: String,
    pub payment_terms_days: i64,
    pub allow_purchase_order: bool,
    pub bank_details: String,
    pub renewal_days_before: i64,
    pub dunning_grace_days: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

pub fn get(tx: &ReadTx<'_>) -> Result<Option<PriceListRow>> {
    let raw = tx
        .query_row(
            "SELECT currency, internal_monthly_minor, internal_yearly_minor, external_monthly_minor,
               external_yearly_minor, min_internal_users, min_external_users, tax_rule, payment_terms_days,
               allow_purchase_order, bank_details, renewal_days_before, dunning_grace_days, updated_at, updated_by
             FROM price_list WHERE id = 1",
            [],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                    ),
                    (
                        r.get::<_, String>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, bool>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, String>(13)?,
                        r.get::<_, String>(14)?,
                    ),
                ))
            },
        )
        .optional()?;
    let Some(((currency, im, iy, em, ey, mi, me), (tax, terms, po, bank, renew, dunning, at, by))) =
        raw
    else {
        return Ok(None);
    };
    Ok(Some(PriceListRow {
        currency,
        internal_monthly_minor: im,
        internal_yearly_minor: iy,
        external_monthly_minor: em,
        external_yearly_minor: ey,
        min_internal_users: mi,
        min_external_users: me,
        tax_rule: tax,
        payment_terms_days: terms,
        allow_purchase_order: po,
        bank_details: bank,
        renewal_days_before: renew,
        dunning_grace_days: dunning,
        updated_at: parse_ts("price_list.updated_at", &at)?,
        updated_by: by,
    }))
}

/// Replaces the price list (`updated_at`/`updated_by` of `p` are ignored).
pub fn replace(tx: &WriteTx<'_>, p: &PriceListRow, by: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO price_list (id, currency, internal_monthly_minor, internal_yearly_minor,
           external_monthly_minor, external_yearly_minor, min_internal_users, min_external_users, tax_rule,
           payment_terms_days, allow_purchase_order, bank_details, renewal_days_before, dunning_grace_days,
           updated_at, updated_by)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            p.currency,
            p.internal_monthly_minor,
            p.internal_yearly_minor,
            p.external_monthly_minor,
            p.external_yearly_minor,
            p.min_internal_users,
            p.min_external_users,
            p.tax_rule,
            p.payment_terms_days,
            p.allow_purchase_order,
            p.bank_details,
            p.renewal_days_before,
            p.dunning_grace_days,
            ts(now),
            by
        ],
    )?;
    Ok(())
}
