//! What a customer organization is told about its licenses, by email to its
//! notification address through the outbox (issue 14): a license issued to it, a
//! license expiring in 30 and in 7 days, a license that expired, and an installation its
//! licenses cover entering a violation stage (what happens next, and when).
//!
//! - The issue notice is written by `licenses::issue_in_tx`, in the issuing transaction.
//! - The others are found by the health sweep (`sweep::run`, in its last transaction,
//!   after it settled licenses and re-assessed installations): it looks at what is due
//!   *now*, not at what changed, so a stage that a heartbeat moved between two sweeps
//!   is announced by the next one. `domain::license_notices` says which notice is due.
//!
//! Each notice is one event with one key (`outbox.dedupe_key`): a license's notice
//! names its expiry (a renewal starts afresh), a stage notice the moment the violation
//! began. So a second sweep, or one after a restart, writes nothing twice.

use super::email_body::{EmailContent, EmailLink};
use super::tenant::Tenant;
use super::{App, Result, links, outbox};
use crate::domain::license_notices::{
    EXPIRED_NOTICE_DAYS, EXPIRY_NOTICE_DAYS, ExpiryNotice, expiry_notice, stage_is_notified,
};
use crate::domain::timestamp;
use crate::domain::violation::{Assessment, Condition, Stage, Timeline, Usage};
use crate::domain::violation_outlook::next_stage;
use crate::store::WriteTx;
use crate::store::installations::{self as installation_store, InstallationRow};
use crate::store::licenses::{self as license_store, Filter, LicenseRow};
use crate::store::organizations::{self as org_store, OrganizationRow};
use crate::store::outbox as outbox_store;
use chrono::{DateTime, Duration, Utc};

/// Most licenses one sweep looks at for expiry notices.
const EXPIRY_SCAN: usize = 10_000;

/// Who an organization's notices come from and where they lead: the product name
/// (`portal.product_name`) and the customer portal's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub product: String,
    pub portal: Option<String>,
}

impl Sender {
    /// The sender for `tenant`'s notices (links from configuration, `service::links`).
    pub fn of(app: &App, tenant: &Tenant) -> Result<Sender> {
        Ok(Sender {
            portal: Some(links::url(app, tenant, "/portal/")?),
            ..Sender::unheard(app)
        })
    }

    /// The sender of what no organization is told (a license without one): without the
    /// portal's address, which costs a read of the registry (the tenant's primary
    /// domain), 5% of a license issue's time.
    pub fn unheard(app: &App) -> Sender {
        Sender {
            product: app.config.portal.product_name.clone(),
            portal: None,
        }
    }

    fn link(&self) -> Option<EmailLink> {
        self.portal.as_ref().map(|url| EmailLink {
            label: "Open the customer portal".into(),
            url: url.clone(),
        })
    }

    fn send(&self, tx: &WriteTx<'_>, now: DateTime<Utc>, c: &EmailContent) -> Result<bool> {
        Ok(outbox::enqueue(tx, now, &self.product, c)?.is_some())
    }
}

/// A time as the messages write it.
fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn days(d: Duration) -> i64 {
    d.num_days()
}

/// The lines that name a license.
fn license_lines(l: &LicenseRow) -> Vec<String> {
    vec![
        format!("License: {}", l.name),
        format!("Install ID: {}", l.install_id),
        format!(
            "Users: {} internal, {} external",
            l.internal_users, l.external_users
        ),
        format!(
            "Valid from {} until {}.",
            date(l.not_before),
            date(l.expires_at)
        ),
    ]
}

/// What the violation timeline does once a deployment has no valid license (seed 000).
fn timeline_words(t: &Timeline) -> String {
    format!(
        "Without a valid license the deployment is in violation: after {} days its \
         administrators see a warning banner, after {} days all its users do, and after {} \
         days it becomes read-only.",
        days(t.admin_warning_after),
        days(t.users_warning_after),
        days(t.read_only_after)
    )
}

/// Tells the organization that `license` was issued to it (in the issuing transaction).
pub(super) fn license_issued(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    sender: &Sender,
    org: &OrganizationRow,
    l: &LicenseRow,
) -> Result<()> {
    let mut paragraphs = vec![format!(
        "A license has been issued to {} for the deployment with the Install ID {}.",
        org.name, l.install_id
    )];
    paragraphs.extend(license_lines(l));
    paragraphs.push(
        "Members of the organization find it, and copy its license key, in the customer \
         portal (Details beside the license). To install it, sign in to the deployment's \
         Admin interface, go to Enterprise > Licenses, click Install, paste the key and \
         click Install."
            .into(),
    );
    let content = EmailContent {
        kind: "license_issued".into(),
        to: org.notification_email.clone(),
        subject: format!("New license for {}: {}", org.name, l.name),
        heading: format!("A new license for {}", org.name),
        paragraphs,
        link: sender.link(),
        dedupe_key: Some(format!("license:{}:issued", l.id)),
    };
    sender.send(tx, now, &content)?;
    Ok(())
}

/// The expiry notices due at `now` (the sweep): how many were written.
pub(super) fn expiries(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    sender: &Sender,
) -> Result<usize> {
    let longest = EXPIRY_NOTICE_DAYS.into_iter().max().unwrap_or(0);
    let from = timestamp::earlier(now, Duration::days(EXPIRED_NOTICE_DAYS));
    let to = timestamp::later(now, Duration::days(longest));
    let timeline = tenant.settings().timeline();
    let mut written = 0;
    for l in license_store::organization_expiries(tx, from, to, EXPIRY_SCAN)? {
        let (Some(notice), Some(org_id)) = (
            expiry_notice(l.issued_at, l.expires_at, now),
            l.organization_id,
        ) else {
            continue;
        };
        let key = format!(
            "license:{}:{}:{}",
            l.id,
            notice.key(),
            l.expires_at.timestamp()
        );
        if outbox_store::has_key(tx, &key)? {
            continue;
        }
        let Some(org) = org_store::find(tx, org_id)? else {
            continue;
        };
        let content = expiry_content(&org, &l, notice, now, &timeline, sender, key);
        written += usize::from(sender.send(tx, now, &content)?);
    }
    Ok(written)
}

fn expiry_content(
    org: &OrganizationRow,
    l: &LicenseRow,
    notice: ExpiryNotice,
    now: DateTime<Utc>,
    timeline: &Timeline,
    sender: &Sender,
    key: String,
) -> EmailContent {
    let (kind, subject, heading, first) = match notice {
        ExpiryNotice::Within(_) => {
            // Whole days, rounded up: a sweep a minute into the window says 30.
            let left = ((l.expires_at - now).num_seconds().max(0) + 86_399) / 86_400;
            let when = match left {
                0 | 1 => "within a day".to_owned(),
                n => format!("in {n} days"),
            };
            (
                "license_expiring",
                format!("License {} expires {when}", l.name),
                format!("A license of {} expires {when}", org.name),
                format!(
                    "The license {} of {} expires on {}.",
                    l.name,
                    org.name,
                    date(l.expires_at)
                ),
            )
        }
        ExpiryNotice::Expired => (
            "license_expired",
            format!("License {} has expired", l.name),
            format!("A license of {} has expired", org.name),
            format!(
                "The license {} of {} expired on {}; its users no longer count for the \
                 deployment with the Install ID {}.",
                l.name,
                org.name,
                date(l.expires_at),
                l.install_id
            ),
        ),
    };
    let mut paragraphs = vec![first];
    paragraphs.extend(license_lines(l));
    paragraphs.push(format!(
        "{} Other valid licenses of the same deployment keep counting.",
        timeline_words(timeline)
    ));
    paragraphs.push(
        "What to do: renew the license (an owner of the organization can contact us), then \
         install the new key in the deployment's Admin interface under Enterprise > \
         Licenses."
            .into(),
    );
    EmailContent {
        kind: kind.into(),
        to: org.notification_email.clone(),
        subject,
        heading,
        paragraphs,
        link: sender.link(),
        dedupe_key: Some(key),
    }
}

/// Notices for installations in a violation stage (the sweep, after it re-assessed
/// them): each organization whose licenses name the installation hears of each stage
/// once per violation. Returns how many were written.
pub(super) fn installation_stages(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    sender: &Sender,
) -> Result<usize> {
    let timeline = tenant.settings().timeline();
    let mut written = 0;
    for row in installation_store::in_violation(tx)? {
        let Some(since) = row.violation_since.filter(|_| stage_is_notified(row.stage)) else {
            continue;
        };
        for org_id in license_store::organizations_of_install(tx, &row.install_id)? {
            let key = format!(
                "installation:{}:{}:{}:organization:{org_id}",
                row.install_id,
                row.stage.as_str(),
                since.timestamp()
            );
            if outbox_store::has_key(tx, &key)? {
                continue;
            }
            let Some(org) = org_store::find(tx, org_id)? else {
                continue;
            };
            let filter = Filter {
                install_id: Some(row.install_id.clone()),
                organization_id: Some(org_id),
                ..Default::default()
            };
            let licenses = license_store::list(tx, &filter, 50)?;
            let content = EmailContent {
                dedupe_key: Some(key),
                ..stage_content(&org, &row, since, &licenses, now, &timeline, sender)
            };
            written += usize::from(sender.send(tx, now, &content)?);
        }
    }
    Ok(written)
}

/// What a stage means for the deployment's users.
fn stage_words(stage: Stage) -> &'static str {
    match stage {
        Stage::AdminWarning => {
            "Its administrators now see a warning banner in the Admin interface."
        }
        Stage::UsersWarning => "All of its users now see a warning banner.",
        Stage::ReadOnly => {
            "It is now read-only: users can still sign in and use their applications, and \
             licenses and users can still be changed or removed; every other change is refused."
        }
        Stage::None | Stage::ExpirySoon => "",
    }
}

fn stage_title(stage: Stage) -> &'static str {
    match stage {
        Stage::AdminWarning => "administrators are warned",
        Stage::UsersWarning => "all users are warned",
        Stage::ReadOnly => "read-only",
        Stage::None | Stage::ExpirySoon => "license warning",
    }
}

fn condition_words(condition: Condition, usage: Option<Usage>) -> String {
    match (condition, usage) {
        (Condition::OverLimit, Some(u)) => format!(
            "It reports more users than its valid licenses cover ({} internal and {} external \
             users in use).",
            u.internal_users, u.external_users
        ),
        (Condition::OverLimit, None) => {
            "It reports more users than its valid licenses cover.".to_owned()
        }
        _ => "None of its licenses is valid (expired, revoked or suspended).".to_owned(),
    }
}

fn stage_content(
    org: &OrganizationRow,
    row: &InstallationRow,
    since: DateTime<Utc>,
    licenses: &[LicenseRow],
    now: DateTime<Utc>,
    timeline: &Timeline,
    sender: &Sender,
) -> EmailContent {
    let mut paragraphs = vec![format!(
        "The deployment with the Install ID {} has been in violation of its license since {}. {}",
        row.install_id,
        date(since),
        condition_words(row.condition, row.usage)
    )];
    paragraphs.extend(
        Some(stage_words(row.stage))
            .filter(|w| !w.is_empty())
            .map(str::to_owned),
    );
    let assessed = Assessment {
        condition: row.condition,
        capacity: Usage::default(),
        violation_since: Some(since),
        stage: row.stage,
        capacity_drops_at: None,
        capacity_ends_at: None,
    };
    paragraphs.push(match next_stage(&assessed, now, timeline) {
        Some(next) => format!(
            "Next, unless the violation is corrected: on {} {}",
            date(next.at),
            match next.stage {
                Stage::UsersWarning => "all of its users see a warning banner.",
                Stage::ReadOnly => "it becomes read-only.",
                _ => "its administrators see a warning banner.",
            }
        ),
        None => "It stays read-only until the violation is corrected.".to_owned(),
    });
    if !licenses.is_empty() {
        let names: Vec<String> = licenses
            .iter()
            .map(|l| format!("{} (valid until {})", l.name, date(l.expires_at)))
            .collect();
        paragraphs.push(format!(
            "Licenses of {} for this deployment: {}.",
            org.name,
            names.join("; ")
        ));
    }
    paragraphs.push(
        "What to do: renew the license or add one (an owner of the organization can contact \
         us), or lower the number of users. Once corrected, the deployment returns to normal \
         and the warning disappears."
            .into(),
    );
    EmailContent {
        kind: "installation_stage".into(),
        to: org.notification_email.clone(),
        subject: format!(
            "Installation {}: {}",
            row.install_id,
            stage_title(row.stage)
        ),
        heading: format!(
            "A deployment of {} is in violation of its license",
            org.name
        ),
        paragraphs,
        link: sender.link(),
        dedupe_key: None,
    }
}
