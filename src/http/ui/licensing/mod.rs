//! Licensing pages (seed 002): licenses and their life cycle, signing keys, heartbeats,
//! provisioning tokens and the licensing settings (registered in `ui::routes`). Form
//! fields arrive as text and are parsed here, so a bad value is shown on the page rather
//! than failing the extractor.

pub mod actions;
pub mod air_gap;
pub mod detail;
pub mod heartbeats;
pub mod keys;
pub mod list;
pub mod new;
pub mod organization;
pub mod provisioning;
pub mod settings;
pub mod signing;
pub mod sweep;

use crate::error::ErrorCode;
use crate::service::{ServiceError, refuse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

fn invalid(field: &str, what: &str) -> ServiceError {
    refuse(ErrorCode::ValidationFailed, format!("{field}: {what}"))
}

/// Trimmed text, or `None` when blank.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A whole number from a form field; blank means `blank`.
pub fn whole(field: &str, s: &str, blank: Option<u32>) -> Result<u32, ServiceError> {
    let s = s.trim();
    match (s.is_empty(), blank) {
        (true, Some(v)) => Ok(v),
        (true, None) => Err(invalid(field, "required")),
        _ => s
            .parse()
            .map_err(|_| invalid(field, "must be a whole number")),
    }
}

/// A `YYYY-MM-DD` date from a form field, as the start or the end of that day (UTC);
/// `None` when blank.
pub fn date(
    field: &'static str,
    s: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| invalid(field, "must be a date written YYYY-MM-DD"))?;
    let time = if end_of_day {
        NaiveTime::from_hms_opt(23, 59, 59)
    } else {
        NaiveTime::from_hms_opt(0, 0, 0)
    }
    .unwrap_or_default();
    Ok(Some(crate::domain::timestamp::check(
        field,
        day.and_time(time).and_utc(),
    )?))
}

/// Comma-separated feature names.
pub fn features(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The flags two checkboxes stand for.
pub fn flags(trial: bool, non_production: bool) -> Vec<String> {
    [(trial, "trial"), (non_production, "non_production")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| f.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_parse() {
        assert_eq!(whole("n", " 25 ", None).unwrap(), 25);
        assert_eq!(whole("n", "", Some(0)).unwrap(), 0);
        assert!(whole("n", "", None).is_err() && whole("n", "-1", Some(0)).is_err());
        let end = date("d", "2027-06-30", true).unwrap().unwrap();
        assert_eq!(end.to_rfc3339(), "2027-06-30T23:59:59+00:00");
        assert_eq!(date("d", " ", false).unwrap(), None);
        assert!(date("d", "30.06.2027", false).is_err());
        assert!(date("d", "+10000-01-01", false).is_err());
        assert!(date("d", "-0001-01-01", false).is_err());
        assert_eq!(features(" sso, ,audit"), vec!["sso", "audit"]);
        assert_eq!(flags(false, true), vec!["non_production"]);
    }
}
