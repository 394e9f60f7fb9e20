//! Rules for staff accounts: what an acceptable email, name and password look like,
//! and the two kinds of account.

use super::{DomainError, free_text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// What a staff account is (seed 000 "About users and licenses": service accounts are
/// excluded from the license user count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffKind {
    /// A person: signs in to the console with a password; an internal user.
    #[default]
    Person,
    /// A service account: API tokens only (made for it by staff with `users.manage`),
    /// no password, never a console session, not a licensed user.
    Service,
}

impl StaffKind {
    pub const ALL: [StaffKind; 2] = [StaffKind::Person, StaffKind::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffKind::Person => "person",
            StaffKind::Service => "service",
        }
    }

    /// Whether accounts of this kind sign in with a password (and so may have one).
    pub fn signs_in(self) -> bool {
        self == StaffKind::Person
    }
}

impl fmt::Display for StaffKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StaffKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        StaffKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("kind", format!("{s:?} is not person or service")))
    }
}

pub const MAX_PASSWORD_LENGTH: usize = 1024;

/// Normalises and checks an email address (trimmed, lower-cased, one `@`, no spaces).
pub fn normalize_email(raw: &str) -> Result<String, DomainError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || free_text::is_forbidden(c))
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(DomainError::invalid(
            "email",
            format!("{raw:?} is not an email address"),
        ))
    }
}

/// Checks a display name: free text of at most 200 characters.
pub fn check_display_name(name: &str) -> Result<String, DomainError> {
    free_text::line("display_name", name, 200, false)
}

/// Whether a one-time password issued at `issued_at` has expired at `now`.
pub fn one_time_password_expired(issued_at: DateTime<Utc>, now: DateTime<Utc>, hours: u32) -> bool {
    issued_at
        .checked_add_signed(Duration::hours(i64::from(hours)))
        .is_none_or(|ends| now >= ends)
}

/// Checks a new password against the policy.
pub fn check_password(password: &str, email: &str, min_len: usize) -> Result<(), DomainError> {
    let len = password.chars().count();
    if len < min_len {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {min_len} characters"),
        ));
    }
    if len > MAX_PASSWORD_LENGTH {
        return Err(DomainError::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_LENGTH} characters"),
        ));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(DomainError::invalid(
            "password",
            "must not be the email address",
        ));
    }
    Ok(())
}

/// Checks an API (or provisioning) token name: free text of 1 to 100 characters.
pub fn check_token_name(name: &str) -> Result<String, DomainError> {
    free_text::line("name", name, 100, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_only_persons_sign_in() {
        for k in StaffKind::ALL {
            assert_eq!(k.as_str().parse::<StaffKind>().unwrap(), k);
        }
        assert!("robot".parse::<StaffKind>().is_err());
        assert!(StaffKind::Person.signs_in() && !StaffKind::Service.signs_in());
        assert_eq!(StaffKind::default(), StaffKind::Person);
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Ops@Example.COM ").unwrap(),
            "ops@example.com"
        );
        for bad in ["", "x", "@x", "x@", "a b@c", "a@b@c", "a\u{202e}b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("short", "a@b", 12).is_err());
        assert!(check_password("a-long-enough-pass", "a@b", 12).is_ok());
        assert!(check_password("admin@example.com", "admin@example.com", 8).is_err());
        assert!(check_password(&"x".repeat(2000), "a@b", 12).is_err());
    }

    #[test]
    fn one_time_passwords_expire_after_the_hours() {
        let t = DateTime::parse_from_rfc3339("2026-06-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!one_time_password_expired(t, t + Duration::hours(71), 72));
        assert!(one_time_password_expired(t, t + Duration::hours(72), 72));
        assert!(!one_time_password_expired(t, t - Duration::hours(5), 72));
    }

    #[test]
    fn token_names() {
        assert!(check_token_name("  ci  ").is_ok());
        assert!(check_token_name("").is_err());
        assert!(check_token_name(&"n".repeat(101)).is_err());
    }
}
