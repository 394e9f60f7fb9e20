//! Money: integer amounts in a currency's minor unit (cents), never floating point, and
//! the one rounding rule licd applies, once per invoice line (docs/billing.md).
//!
//! **Rounding rule:** a line's amount is `quantity × unit amount`, exact in minor units;
//! its tax is `amount × rate`, with the rate in basis points (1/100 of a percent), rounded
//! to the nearest minor unit, halves away from zero. An invoice's totals are the sums of
//! its lines' rounded amounts and taxes, so the lines always add up to the total.

use super::DomainError;
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code: three upper-case letters (serialized as the code).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

impl Currency {
    pub fn as_str(&self) -> &str {
        // Always three ASCII upper-case letters (checked by `from_str`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point of its minor unit (ISO 4217): 0 for JPY, KRW, ...,
    /// 3 for BHD, KWD, ..., 2 otherwise.
    pub fn minor_digits(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let b = s.trim().as_bytes();
        match b {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(DomainError::invalid(
                "currency",
                format!("{s:?} is not an ISO 4217 code such as EUR or USD"),
            )),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in a currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl fmt::Display for Money {
    /// `1234.50 EUR`, `1200 JPY`, `-0.05 USD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let unit = 10u64.pow(digits);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / unit,
            abs % unit,
            self.currency,
            width = digits as usize
        )
    }
}

/// A tax or discount rate in basis points: 1900 is 19 %.
pub type BasisPoints = u32;

/// The most basis points a rate may have (100 %).
pub const MAX_RATE: BasisPoints = 10_000;

fn overflow() -> DomainError {
    DomainError::invalid("amount", "is too large")
}

/// A line's amount: `quantity × unit`, exact. Refused when it does not fit.
pub fn line_amount(quantity: i64, unit_minor: i64) -> Result<i64, DomainError> {
    quantity.checked_mul(unit_minor).ok_or_else(overflow)
}

/// `amount × numerator / denominator`, rounded to the nearest minor unit, halves away
/// from zero (the rule for tax and proration alike). `denominator` must be positive.
pub fn mul_div_round(amount: i64, numerator: i64, denominator: i64) -> Result<i64, DomainError> {
    if denominator <= 0 {
        return Err(DomainError::invalid("denominator", "must be positive"));
    }
    let product = i128::from(amount) * i128::from(numerator);
    let d = i128::from(denominator);
    let q = product / d;
    let r = product % d;
    // Round half away from zero: compare twice the remainder with the divisor.
    let rounded = if 2 * r.abs() >= d {
        q + product.signum()
    } else {
        q
    };
    i64::try_from(rounded).map_err(|_| overflow())
}

/// The tax on a line's amount at `rate` basis points (see the module's rounding rule).
pub fn tax(amount_minor: i64, rate: BasisPoints) -> Result<i64, DomainError> {
    if rate > MAX_RATE {
        return Err(DomainError::invalid("tax_rate", "is more than 100 %"));
    }
    mul_div_round(amount_minor, i64::from(rate), 10_000)
}

/// An amount typed in major units (`1234.50`, at most the currency's minor digits) in
/// minor units; the error names `field`.
pub fn parse_major(
    field: &'static str,
    typed: &str,
    currency: Currency,
) -> Result<i64, DomainError> {
    let bad = || DomainError::invalid(field, "an amount such as 1234.50");
    let digits = currency.minor_digits() as usize;
    let typed = typed.trim();
    let (whole, frac) = typed.split_once('.').unwrap_or((typed, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > digits
        || whole.len() > 15
    {
        return Err(bad());
    }
    let frac = format!("{frac:0<digits$}");
    format!("{whole}{frac}").parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money {
            minor,
            currency: "EUR".parse().unwrap(),
        }
    }

    #[test]
    fn currencies_are_three_capitals() {
        assert_eq!("EUR".parse::<Currency>().unwrap().as_str(), "EUR");
        for bad in ["eur", "EURO", "E1R", "", "€"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad}");
        }
        assert_eq!("JPY".parse::<Currency>().unwrap().minor_digits(), 0);
        assert_eq!("KWD".parse::<Currency>().unwrap().minor_digits(), 3);
        assert_eq!("USD".parse::<Currency>().unwrap().minor_digits(), 2);
    }

    #[test]
    fn amounts_print_in_major_units() {
        assert_eq!(eur(123_450).to_string(), "1234.50 EUR");
        assert_eq!(eur(-5).to_string(), "-0.05 EUR");
        let yen = Money {
            minor: 1200,
            currency: "JPY".parse().unwrap(),
        };
        assert_eq!(yen.to_string(), "1200 JPY");
        let dinar = Money {
            minor: 1_005,
            currency: "KWD".parse().unwrap(),
        };
        assert_eq!(dinar.to_string(), "1.005 KWD");
    }

    #[test]
    fn tax_rounds_half_away_from_zero_per_line() {
        // 19 % of 10.05 = 1.9095 -> 1.91
        assert_eq!(tax(1005, 1900).unwrap(), 191);
        // 20 % of 0.025 (in a 3-digit currency: 25) = 5 exactly
        assert_eq!(tax(25, 2000).unwrap(), 5);
        // 5 % of 0.10 = 0.005 -> 0.01 (half away from zero)
        assert_eq!(tax(10, 500).unwrap(), 1);
        // and for a credit: -0.005 -> -0.01
        assert_eq!(tax(-10, 500).unwrap(), -1);
        // 0 % and 100 %
        assert_eq!(tax(12_345, 0).unwrap(), 0);
        assert_eq!(tax(12_345, 10_000).unwrap(), 12_345);
        assert!(tax(1, 10_001).is_err());
    }

    #[test]
    fn typed_amounts_parse_to_minor_units() {
        let eur: Currency = "EUR".parse().unwrap();
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(parse_major("a", "1234.5", eur).unwrap(), 123_450);
        assert_eq!(parse_major("a", " 7 ", eur).unwrap(), 700);
        assert_eq!(parse_major("a", "0.01", eur).unwrap(), 1);
        assert_eq!(parse_major("a", "500", jpy).unwrap(), 500);
        for bad in ["", "-1", "1.234", "1,5", "abc", ".5", "1e3"] {
            assert!(parse_major("a", bad, eur).is_err(), "{bad:?}");
        }
        assert!(parse_major("a", "1.5", jpy).is_err());
    }

    #[test]
    fn line_amounts_are_exact_or_refused() {
        assert_eq!(line_amount(25, 1_000).unwrap(), 25_000);
        assert!(line_amount(i64::MAX, 2).is_err());
        assert_eq!(mul_div_round(i64::MAX, 1, 1).unwrap(), i64::MAX);
        assert!(mul_div_round(i64::MAX, 2, 1).is_err());
        assert!(mul_div_round(1, 1, 0).is_err());
    }
}
