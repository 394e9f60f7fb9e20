//! Licensing settings (per tenant) and their allowed ranges.

use super::DomainError;
use super::timestamp;
use super::violation::Timeline;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LicensingSettings {
    /// How long an appliance may run without a heartbeat before it locks (on the
    /// order of two weeks).
    #[schema(minimum = 1, maximum = 90)]
    pub grace_days: u32,
    /// How often the lease advises the appliance to heartbeat.
    #[schema(minimum = 60, maximum = 86400)]
    pub heartbeat_interval_secs: u32,
    /// How often the scheduled health sweep runs.
    #[schema(minimum = 10, maximum = 86400)]
    pub sweep_interval_secs: u32,
    /// How long heartbeat history is kept.
    #[schema(minimum = 1, maximum = 3650)]
    pub heartbeat_retention_days: u32,
    /// Days in violation before administrators see a warning (default two weeks). The
    /// three stages must come in order: admin <= users <= read-only.
    #[schema(minimum = 1, maximum = 3650)]
    pub admin_warning_days: u32,
    /// Days in violation before every user sees a warning (default four weeks).
    #[schema(minimum = 1, maximum = 3650)]
    pub users_warning_days: u32,
    /// Days in violation before the installation becomes read-only (default six weeks).
    #[schema(minimum = 1, maximum = 3650)]
    pub read_only_days: u32,
    /// Days before capacity would reach zero that `expiry_soon` shows.
    #[schema(minimum = 0, maximum = 3650)]
    pub expiry_warning_days: u32,
    /// How long an appliance activated from a request file (air-gapped, no heartbeats)
    /// may run on the lease of its response or renewal bundle.
    #[schema(minimum = 1, maximum = 1825)]
    pub offline_lease_days: u32,
    /// How long an offline activation response may wait before it is applied on the
    /// appliance (refused there afterwards).
    #[schema(minimum = 1, maximum = 365)]
    pub offline_response_days: u32,
}

impl Default for LicensingSettings {
    fn default() -> Self {
        LicensingSettings {
            grace_days: 14,
            heartbeat_interval_secs: 3600,
            sweep_interval_secs: 300,
            heartbeat_retention_days: 30,
            admin_warning_days: 14,
            users_warning_days: 28,
            read_only_days: 42,
            expiry_warning_days: 14,
            offline_lease_days: 90,
            offline_response_days: 14,
        }
    }
}

impl LicensingSettings {
    pub fn grace(&self) -> Duration {
        timestamp::days(self.grace_days)
    }

    /// How long an offline lease lets its appliance run.
    pub fn offline_lease(&self) -> Duration {
        timestamp::days(self.offline_lease_days)
    }

    /// How long an offline activation response may wait to be applied.
    pub fn offline_response(&self) -> Duration {
        timestamp::days(self.offline_response_days)
    }

    /// The violation timeline these settings describe.
    pub fn timeline(&self) -> Timeline {
        Timeline {
            admin_warning_after: timestamp::days(self.admin_warning_days),
            users_warning_after: timestamp::days(self.users_warning_days),
            read_only_after: timestamp::days(self.read_only_days),
            expiry_warning: timestamp::days(self.expiry_warning_days),
        }
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        let check = |field: &'static str, v: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    field,
                    format!("must be between {lo} and {hi}"),
                ))
            }
        };
        check("grace_days", self.grace_days, 1, 90)?;
        check(
            "heartbeat_interval_secs",
            self.heartbeat_interval_secs,
            60,
            86_400,
        )?;
        check("sweep_interval_secs", self.sweep_interval_secs, 10, 86_400)?;
        check(
            "heartbeat_retention_days",
            self.heartbeat_retention_days,
            1,
            3650,
        )?;
        // The violation stages: each from one day to ten years, in their order.
        check("admin_warning_days", self.admin_warning_days, 1, 3650)?;
        check("users_warning_days", self.users_warning_days, 1, 3650)?;
        check("read_only_days", self.read_only_days, 1, 3650)?;
        check("expiry_warning_days", self.expiry_warning_days, 0, 3650)?;
        check("offline_lease_days", self.offline_lease_days, 1, 1825)?;
        check("offline_response_days", self.offline_response_days, 1, 365)?;
        if self.users_warning_days < self.admin_warning_days {
            return Err(DomainError::invalid(
                "users_warning_days",
                "must be at least admin_warning_days (the warning to all users follows the one to administrators)",
            ));
        }
        if self.read_only_days < self.users_warning_days {
            return Err(DomainError::invalid(
                "read_only_days",
                "must be at least users_warning_days (read-only is the last stage)",
            ));
        }
        if u64::from(self.heartbeat_interval_secs) * 2 > u64::from(self.grace_days) * 86_400 {
            return Err(DomainError::invalid(
                "heartbeat_interval_secs",
                "must be at most half the grace window, or healthy appliances would lock",
            ));
        }
        Ok(())
    }

    /// The windows `new` makes shorter than these settings: appliances lock sooner,
    /// customers in violation are escalated sooner, or history is deleted sooner.
    pub fn shortened(&self, new: &LicensingSettings) -> Vec<Shortened> {
        [
            (
                "grace_days",
                "offline grace window: an appliance without a heartbeat locks after",
                self.grace_days,
                new.grace_days,
            ),
            (
                "admin_warning_days",
                "administrators are warned of a violation after",
                self.admin_warning_days,
                new.admin_warning_days,
            ),
            (
                "users_warning_days",
                "all users are warned of a violation after",
                self.users_warning_days,
                new.users_warning_days,
            ),
            (
                "read_only_days",
                "an installation in violation turns read-only after",
                self.read_only_days,
                new.read_only_days,
            ),
            (
                "offline_lease_days",
                "an appliance activated from a request file runs without contact for",
                self.offline_lease_days,
                new.offline_lease_days,
            ),
            (
                "heartbeat_retention_days",
                "heartbeat history is deleted after",
                self.heartbeat_retention_days,
                new.heartbeat_retention_days,
            ),
        ]
        .into_iter()
        .filter(|(_, _, from, to)| to < from)
        .map(|(field, what, from, to)| Shortened {
            field,
            what,
            from_days: from,
            to_days: to,
        })
        .collect()
    }
}

/// A licensing window a settings change shortens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortened {
    pub field: &'static str,
    /// What the window is, completed by "N days".
    pub what: &'static str,
    pub from_days: u32,
    pub to_days: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortened_windows_are_named() {
        let old = LicensingSettings::default();
        let new = LicensingSettings {
            grace_days: 3,
            heartbeat_retention_days: 60,
            read_only_days: 40,
            ..old
        };
        let s = old.shortened(&new);
        let fields: Vec<_> = s.iter().map(|s| s.field).collect();
        assert_eq!(fields, ["grace_days", "read_only_days"]);
        assert_eq!((s[0].from_days, s[0].to_days), (14, 3));
        assert!(old.shortened(&old).is_empty());
    }

    #[test]
    fn defaults_are_valid_and_ranges_are_named() {
        LicensingSettings::default().validate().unwrap();
        let bad = LicensingSettings {
            grace_days: 0,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .starts_with("grace_days")
        );
        let bad = LicensingSettings {
            grace_days: 1,
            heartbeat_interval_secs: 86_400,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .starts_with("heartbeat_interval_secs")
        );
        for (bad, field) in [
            (
                LicensingSettings {
                    offline_lease_days: 0,
                    ..Default::default()
                },
                "offline_lease_days",
            ),
            (
                LicensingSettings {
                    offline_response_days: 366,
                    ..Default::default()
                },
                "offline_response_days",
            ),
        ] {
            assert!(
                bad.validate().unwrap_err().to_string().starts_with(field),
                "{field}"
            );
        }
    }
}
