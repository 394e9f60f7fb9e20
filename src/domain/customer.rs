//! Rules for customer accounts (the portal's principal): the links licd emails them
//! (what they are for, when one still works, how often one may be sent again). Email,
//! name and password rules are the staff ones (`domain::staff`).

use super::DomainError;
use chrono::{DateTime, Duration, Utc};
use std::str::FromStr;

/// What an emailed single-use link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkPurpose {
    /// Proves the account owns its address.
    VerifyEmail,
    /// Lets the account choose a new password.
    ResetPassword,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::VerifyEmail => "verify_email",
            LinkPurpose::ResetPassword => "reset_password",
        }
    }
}

impl FromStr for LinkPurpose {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        match s {
            "verify_email" => Ok(LinkPurpose::VerifyEmail),
            "reset_password" => Ok(LinkPurpose::ResetPassword),
            _ => Err(DomainError::invalid(
                "purpose",
                format!("{s:?} is not a link purpose"),
            )),
        }
    }
}

/// Why a link does not work (any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Opened already (single use).
    Used,
    /// Past its expiry.
    Expired,
}

/// Whether a link issued until `expires_at` and used at `used_at` still works at `now`.
pub fn link_usable(
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), LinkRefusal> {
    if used_at.is_some() {
        return Err(LinkRefusal::Used);
    }
    if now >= expires_at {
        return Err(LinkRefusal::Expired);
    }
    Ok(())
}

/// How long a customer waits before the same kind of link is emailed again (a resend
/// button, a repeated "forgot password"): one message per minute at most.
pub const RESEND_INTERVAL: Duration = Duration::seconds(60);

/// `Err(seconds to wait)` when a link made at `last_sent` is too recent to send another.
pub fn may_resend(last_sent: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), u64> {
    match last_sent {
        Some(at) if now - at < RESEND_INTERVAL => {
            let wait = (RESEND_INTERVAL - (now - at)).num_seconds().max(1);
            Err(u64::try_from(wait).unwrap_or(1))
        }
        _ => Ok(()),
    }
}

/// How long expired links are kept, so that opening one says it expired rather than
/// that it is unknown.
pub const KEEP_EXPIRED_LINKS: Duration = Duration::days(30);

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn purposes_round_trip() {
        for p in [LinkPurpose::VerifyEmail, LinkPurpose::ResetPassword] {
            assert_eq!(p.as_str().parse::<LinkPurpose>().unwrap(), p);
        }
        assert!("login".parse::<LinkPurpose>().is_err());
    }

    #[test]
    fn a_link_works_once_until_it_expires() {
        let ends = t0() + Duration::hours(24);
        assert_eq!(link_usable(ends, None, t0()), Ok(()));
        assert_eq!(link_usable(ends, None, ends - Duration::seconds(1)), Ok(()));
        assert_eq!(link_usable(ends, None, ends), Err(LinkRefusal::Expired));
        assert_eq!(
            link_usable(ends, Some(t0()), t0()),
            Err(LinkRefusal::Used),
            "used beats expired"
        );
    }

    #[test]
    fn links_are_sent_again_at_most_once_a_minute() {
        assert_eq!(may_resend(None, t0()), Ok(()));
        assert_eq!(may_resend(Some(t0()), t0()), Err(60));
        assert_eq!(may_resend(Some(t0()), t0() + Duration::seconds(59)), Err(1));
        assert_eq!(may_resend(Some(t0()), t0() + Duration::seconds(60)), Ok(()));
    }
}
