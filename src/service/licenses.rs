//! Issuing, listing and showing licenses, and applying life-cycle events to them.

use super::license_facts::{self, StoredLicense};
use super::license_records::{
    ActivationView, DirectiveView, HeartbeatView, LicenseEventView, LicenseKeyView, views,
};
use super::org_notifications::{self, Sender};
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, refuse};
use crate::domain::license::{KeyReason, LICENSE_TYP, LicenseRequest, ValidLicense, validate};
use crate::domain::lifecycle::{
    self, Event, LicenseState, Outcome, Refusal, Subscription, SubscriptionStatus, SuspendReason,
};
use crate::domain::timestamp;
use crate::error::ErrorCode;
use crate::pki::jws;
use crate::store::licenses::{self as store, LicenseRow, StatusUpdate};
use crate::store::organizations::{self as org_store, OrganizationRow};
use crate::store::{ReadTx, WriteTx, activations, directives, fleet, heartbeats, license_keys};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// A license as the API shows it. `state` is the effective state at the time of the
/// request (time-driven changes applied even if no sweep has run yet).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenseView {
    pub id: String,
    pub name: String,
    pub install_id: String,
    /// What the signed key says (`org`).
    pub organization: String,
    /// The customer organization it belongs to, if any (`GET /api/v1/organizations/{id}`).
    pub organization_id: Option<i64>,
    pub internal_users: u32,
    pub external_users: u32,
    pub features: Vec<String>,
    pub flags: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub kid: String,
    pub license_key: String,
    pub state: LicenseState,
    pub suspend_reason: Option<SuspendReason>,
    /// What staff wrote when suspending it (while suspended by staff).
    pub suspend_note: Option<String>,
    pub bound_fingerprint: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub subscription: SubscriptionView,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub status: SubscriptionStatus,
    pub period_end: Option<DateTime<Utc>>,
    pub valid: bool,
}

impl LicenseView {
    /// The view of `l`, whose current key is `license_key`.
    pub fn new(l: LicenseRow, license_key: String, tenant: &Tenant, now: DateTime<Utc>) -> Self {
        let st = license_facts::settled(&l, tenant, now);
        LicenseView {
            subscription: SubscriptionView {
                status: l.subscription.status,
                period_end: l.subscription.period_end,
                valid: l.subscription.is_valid(now),
            },
            id: l.id,
            name: l.name,
            install_id: l.install_id,
            organization: l.organization,
            organization_id: l.organization_id,
            internal_users: l.internal_users,
            external_users: l.external_users,
            features: l.features,
            flags: l.flags,
            not_before: l.not_before,
            expires_at: l.expires_at,
            issued_at: l.issued_at,
            kid: l.kid,
            license_key,
            suspend_note: l
                .suspend_note
                .filter(|_| st.suspend_reason == Some(SuspendReason::Staff)),
            state: st.state,
            suspend_reason: st.suspend_reason,
            bound_fingerprint: l.bound_fingerprint,
            activated_at: l.activated_at,
            last_heartbeat_at: l.last_seen_at,
            revoked_at: l.revoked_at,
            revoke_reason: l.revoke_reason,
        }
    }
}

fn not_found(id: &str) -> ServiceError {
    refuse(ErrorCode::NotFound, format!("license {id} does not exist"))
}

/// Loads a license inside a transaction or refuses with `not_found`.
pub(super) fn load(tx: &ReadTx<'_>, id: &str) -> Result<LicenseRow> {
    store::find(tx, id)?.ok_or_else(|| not_found(id))
}

/// The view of a license loaded in `tx`, with its current key.
pub(super) fn view_in(
    tx: &ReadTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    l: LicenseRow,
) -> Result<LicenseView> {
    let key = license_keys::current(tx, &l.id)?;
    Ok(LicenseView::new(l, key, tenant, now))
}

/// The organization `id` names, or `unknown_organization`.
pub(super) fn organization(tx: &ReadTx<'_>, id: i64) -> Result<OrganizationRow> {
    org_store::find(tx, id)?.ok_or_else(|| {
        refuse(
            ErrorCode::UnknownOrganization,
            format!("organization_id: no organization has the id {id}"),
        )
    })
}

/// Signs and stores a new license inside `tx` (also used by provisioning). For an
/// organization (which must exist), the key names it when the request names none, and
/// the organization is told (`org_notifications`), in this transaction.
pub(super) fn issue_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    valid: &ValidLicense,
    sender: &Sender,
) -> Result<(LicenseRow, String)> {
    let org = valid
        .organization_id
        .map(|id| organization(tx, id))
        .transpose()?;
    let mut valid = valid.clone();
    if let Some(o) = org.as_ref().filter(|_| valid.organization.is_empty()) {
        valid.organization = o.name.clone();
    }
    let ring = tenant.keyring()?;
    let id = uuid::Uuid::new_v4().to_string();
    let claims = valid.claims(&id, &tenant.issuer(), now);
    let key = jws::sign(&ring.active, LICENSE_TYP, &claims)
        .map_err(|e| ServiceError::internal("signing a license key", e))?;
    let row = LicenseRow {
        id: id.clone(),
        name: valid.name.clone(),
        install_id: valid.install_id.clone(),
        organization: valid.organization.clone(),
        internal_users: valid.internal_users,
        external_users: valid.external_users,
        features: valid.features.clone(),
        flags: valid.flags.clone(),
        not_before: valid.not_before,
        expires_at: valid.expires_at,
        issued_at: now,
        kid: ring.active.kid().to_owned(),
        state: LicenseState::Issued,
        suspend_reason: None,
        bound_fingerprint: None,
        activated_at: None,
        last_seen_at: None,
        subscription: Subscription::NONE,
        revoked_at: None,
        revoke_reason: None,
        suspend_note: None,
        organization_id: valid.organization_id,
        offline_until: None,
        bundle_seq: 0,
        last_heartbeat_id: None,
    };
    store::insert(tx, &row)?;
    license_keys::insert_current(tx, &id, &key, KeyReason::Issue, &actor.audit_name(), now)?;
    store::insert_event(
        tx,
        &id,
        now,
        "issue",
        None,
        LicenseState::Issued,
        &actor.audit_name(),
    )?;
    audit::record(
        tx,
        now,
        actor,
        "license.issue",
        &format!("license:{id}"),
        json!({
            "name": row.name, "install_id": row.install_id, "organization": row.organization,
            "organization_id": row.organization_id, "internal_users": row.internal_users, "external_users": row.external_users,
            "expires_at": row.expires_at, "kid": row.kid,
        }),
    )?;
    super::installations::reassess(tx, tenant, &row.install_id, now, actor, None)?;
    if let Some(o) = &org {
        org_notifications::license_issued(tx, now, sender, o, &row)?;
    }
    Ok((row, key))
}

/// Issues one license. Concurrent issues share a commit (group commit, as heartbeats
/// do): each runs in its own savepoint, and each caller hears of its license only after
/// the shared commit.
pub fn issue(
    app: &App,
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    actor: &Actor,
    req: &LicenseRequest,
) -> Result<LicenseView> {
    let valid = validate(req, now)?;
    // Only a license of an organization sends a notice (`issue_in_tx`).
    let sender = match valid.organization_id {
        Some(_) => Sender::of(app, tenant)?,
        None => Sender::unheard(app),
    };
    let (t, actor) = (tenant.clone(), actor.clone());
    let (row, key) = tenant
        .db
        .write_grouped(move |tx| issue_in_tx(tx, &t, now, &actor, &valid, &sender))?;
    Ok(LicenseView::new(row, key, tenant, now))
}

/// Issues several licenses in one transaction (a bulk import; the benchmarks seed with
/// it). All or none: the first invalid request refuses the whole batch.
pub fn issue_many(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    reqs: &[LicenseRequest],
) -> Result<Vec<LicenseView>> {
    let valid = reqs
        .iter()
        .map(|r| validate(r, now))
        .collect::<Result<Vec<_>, _>>()?;
    let sender = Sender::of(app, tenant)?;
    let rows = tenant.db.write(|tx| {
        valid
            .iter()
            .map(|v| issue_in_tx(tx, tenant, now, actor, v, &sender))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(rows
        .into_iter()
        .map(|(r, key)| LicenseView::new(r, key, tenant, now))
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LicensePage)]
pub struct Page {
    pub items: Vec<LicenseView>,
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: usize = 500;

/// Which licenses to list; every field optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<LicenseState>,
    pub install_id: Option<String>,
    pub expiring_before: Option<DateTime<Utc>>,
    pub organization_id: Option<i64>,
}

fn encode_cursor(l: &LicenseRow) -> String {
    format!("{}~{}", l.issued_at.timestamp_micros(), l.id)
}

fn decode_cursor(c: &str) -> Option<(DateTime<Utc>, String)> {
    let (micros, id) = c.split_once('~')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    crate::domain::timestamp::check("cursor", at).ok()?;
    Some((at, id.to_owned()))
}

pub fn list(
    tenant: &Tenant,
    now: DateTime<Utc>,
    filter: Filter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {MAX_PAGE}"),
        ));
    }
    let after = cursor
        .map(|c| {
            decode_cursor(c).ok_or_else(|| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "cursor: not a cursor this server gave out",
                )
            })
        })
        .transpose()?;
    let filter = store::Filter {
        state: filter.state,
        install_id: filter.install_id,
        expiring_before: filter.expiring_before,
        organization_id: filter.organization_id,
        after,
    };
    let (items, next_cursor) = tenant.db.read(|tx| {
        let mut rows = store::list(tx, &filter, limit + 1)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(encode_cursor)
        } else {
            None
        };
        let items = rows
            .into_iter()
            .map(|r| view_in(tx, tenant, now, r))
            .collect::<Result<Vec<_>>>()?;
        Ok::<_, ServiceError>((items, next_cursor))
    })?;
    Ok(Page { items, next_cursor })
}

/// A license with its history, activations, heartbeats and directives.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenseDetail {
    #[serde(flatten)]
    pub license: LicenseView,
    pub history: Vec<LicenseEventView>,
    pub activations: Vec<ActivationView>,
    pub heartbeats: Vec<HeartbeatView>,
    pub directives: Vec<DirectiveView>,
    /// Every key the license has had, newest (the current one) first.
    pub keys: Vec<LicenseKeyView>,
}

pub fn detail(tenant: &Tenant, now: DateTime<Utc>, id: &str) -> Result<LicenseDetail> {
    let (license, history, acts, beats, dirs, keys) = tenant.db.read(|tx| {
        let row = load(tx, id)?;
        Ok::<_, ServiceError>((
            view_in(tx, tenant, now, row)?,
            store::events(tx, id)?,
            activations::for_license(tx, id)?,
            heartbeats::for_license(tx, id, 50)?,
            directives::for_license(tx, id)?,
            license_keys::for_license(tx, id)?,
        ))
    })?;
    Ok(LicenseDetail {
        license,
        history: views(history),
        activations: views(acts),
        heartbeats: views(beats),
        directives: views(dirs),
        keys: views(keys),
    })
}

/// The problem for a refused life-cycle event.
pub fn refusal(r: Refusal) -> ServiceError {
    match r {
        Refusal::Revoked => refuse(
            ErrorCode::LicenseRevoked,
            "the license is revoked; activation is denied",
        ),
        Refusal::Expired => refuse(ErrorCode::LicenseExpired, "the license has expired"),
        Refusal::NotYetValid => refuse(
            ErrorCode::LicenseNotYetValid,
            "the license is not valid yet",
        ),
        Refusal::Suspended => refuse(ErrorCode::LicenseSuspended, "the license is suspended"),
        Refusal::BoundElsewhere => refuse(
            ErrorCode::BoundElsewhere,
            "the license is bound to another fingerprint",
        ),
        Refusal::NotActivated => refuse(
            ErrorCode::NotActivated,
            "the license has not been activated",
        ),
        Refusal::SubscriptionInvalid => refuse(
            ErrorCode::SubscriptionInvalid,
            "the subscription is not valid; restore it (POST .../subscription) first",
        ),
        Refusal::AlreadyBound(fingerprint) => refuse(
            ErrorCode::RebindSameFingerprint,
            format!("the license is already bound to {fingerprint}; nothing to move"),
        ),
    }
}

/// Whether `apply_event` writes `license` for `outcome` (its status or binding moves).
pub(super) fn rewrites(license: &LicenseRow, outcome: &Outcome) -> bool {
    outcome.status != license.status() || outcome.bound_fingerprint != license.bound_fingerprint
}

/// Applies an event inside `tx`: the domain decides, this writes the new status, and
/// records a history row and an audit entry when the state changes (or always, for
/// staff actions, `always_audit`).
pub(super) fn apply_event(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
    event: &Event,
    audit_action: Option<(&str, serde_json::Value)>,
) -> Result<Outcome> {
    let before = license.status();
    let outcome = lifecycle::apply(before, event, &license_facts::facts(license, tenant), now)
        .map_err(refusal)?;
    let mut update = StatusUpdate::of(license);
    update.state = outcome.status.state;
    update.suspend_reason = outcome.status.suspend_reason;
    update.bound_fingerprint = outcome.bound_fingerprint.clone();
    if rewrites(license, &outcome) {
        store::update_status(tx, &license.id, &update)?;
        store::insert_event(
            tx,
            &license.id,
            now,
            event.name(),
            Some(before.state),
            update.state,
            &actor.audit_name(),
        )?;
    }
    let target = format!("license:{}", license.id);
    match audit_action {
        Some((action, details)) => audit::record(tx, now, actor, action, &target, details)?,
        None if outcome.status.state != before.state => audit::record(
            tx,
            now,
            actor,
            "license.state_change",
            &target,
            json!({"event": event.name(), "from": before.state, "to": outcome.status.state}),
        )?,
        None => {}
    }
    Ok(outcome)
}

/// The heartbeats screen: recent heartbeats across the fleet and directives waiting to
/// be acknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeartbeatsOverview {
    pub heartbeats: Vec<HeartbeatView>,
    pub pending_directives: Vec<DirectiveView>,
    /// What each license the lists name is called, by license id.
    pub licenses: BTreeMap<String, LicenseLabel>,
}

/// How a license is named to people: its name, organization and Install ID.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenseLabel {
    pub name: String,
    pub organization: String,
    pub install_id: String,
}

pub fn heartbeats_overview(tenant: &Tenant, limit: usize) -> Result<HeartbeatsOverview> {
    tenant.db.read(|tx| {
        let heartbeats: Vec<HeartbeatView> = views(heartbeats::recent(tx, limit)?);
        let pending_directives: Vec<DirectiveView> = views(directives::pending(tx, limit)?);
        let mut licenses = BTreeMap::new();
        let ids = heartbeats
            .iter()
            .map(|h| &h.license_id)
            .chain(pending_directives.iter().map(|d| &d.license_id));
        for id in ids {
            if licenses.contains_key(id) {
                continue;
            }
            if let Some(l) = store::find(tx, id)? {
                let label = LicenseLabel {
                    name: l.name,
                    organization: l.organization,
                    install_id: l.install_id,
                };
                licenses.insert(id.clone(), label);
            }
        }
        Ok(HeartbeatsOverview {
            heartbeats,
            pending_directives,
            licenses,
        })
    })
}

/// Licenses per state, for the dashboard.
pub fn counts_by_state(tenant: &Tenant) -> Result<Vec<(String, i64)>> {
    Ok(tenant.db.read(store::count_by_state)?)
}

/// Heartbeats one pruning transaction deletes at most, so heartbeats keep being
/// answered between the transactions while a large history is pruned (the figure is a
/// choice, not tuned by measurement).
pub const PRUNED_PER_TRANSACTION: usize = 10_000;

/// Deletes heartbeat history past the retention setting (scheduled), and the dashboard's
/// heartbeat aggregates with it. The aggregates hold counts only, nothing about one
/// appliance, so they are kept at least as long as the dashboard's charts look back
/// (`fleet_overview::KEPT_DAYS`) even when heartbeats are kept for less.
///
/// The history goes in transactions of `PRUNED_PER_TRANSACTION` rows: an hour of a
/// large fleet's heartbeats, or weeks of them when the retention is shortened, would
/// otherwise hold the writer (and every heartbeat behind it) for seconds or minutes.
/// Each is a job of the group commit, queued behind the heartbeats waiting: plain
/// transactions one after another took the writer back before a waiting group could
/// (3,000,000 rows: heartbeats all but stopped for the 2 s the pruning took).
pub fn prune_heartbeats(tenant: &Arc<Tenant>, now: DateTime<Utc>) -> Result<usize> {
    let retention = tenant.settings().heartbeat_retention_days;
    let keep = timestamp::days(retention);
    let keep_counts = timestamp::days(retention.max(super::fleet_overview::KEPT_DAYS));
    tenant
        .db
        .write(|tx| fleet::prune(tx, timestamp::earlier(now, keep_counts)))?;
    let Some(kept) = tenant
        .db
        .read(|tx| heartbeats::first_kept(tx, timestamp::earlier(now, keep)))?
    else {
        return Ok(0);
    };
    let mut pruned = 0;
    loop {
        let n = tenant
            .db
            .write_grouped(move |tx| heartbeats::prune(tx, kept, PRUNED_PER_TRANSACTION))?;
        pruned += n;
        if n == 0 {
            return Ok(pruned);
        }
    }
}
