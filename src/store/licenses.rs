//! Licenses and their event history.

use super::id_set::IdSet;
use super::signing_keys;
use super::{
    ReadTx, Result, StoreError, WriteTx, from_micros, from_opt_micros, micros, parse_ts, ts,
};
use crate::domain::lifecycle::{LicenseState, Subscription, SuspendReason};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRow {
    pub id: String,
    pub name: String,
    pub install_id: String,
    pub organization: String,
    pub internal_users: u32,
    pub external_users: u32,
    pub features: Vec<String>,
    pub flags: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    /// The signing key of its current license key (the key itself is in
    /// `license_keys`, out of this row that every heartbeat reads and rewrites). The row
    /// holds the key's number (`signed_by`, tenant step 23), read back as its `kid`.
    pub kid: String,
    pub state: LicenseState,
    pub suspend_reason: Option<SuspendReason>,
    pub bound_fingerprint: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    /// When its appliance was last heard from (kept in `heartbeat_state`).
    pub last_seen_at: Option<DateTime<Utc>>,
    pub subscription: Subscription,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    /// What staff wrote when they last suspended it.
    pub suspend_note: Option<String>,
    /// The organization it belongs to (its members see it in the portal).
    pub organization_id: Option<i64>,
    /// While an appliance activated from a request file holds it: until when that
    /// box's offline lease lets it run (no missing heartbeat locks it before).
    pub offline_until: Option<DateTime<Utc>>,
    /// The last bundle number (renewal or revocation) made for it; 0: none.
    pub bundle_seq: i64,
    /// Its newest heartbeat, the head of its history chain (`store::heartbeats`), kept
    /// in `heartbeat_state`.
    pub last_heartbeat_id: Option<i64>,
}

/// The join `COLUMNS` needs, after `licenses l` (and its `INDEXED BY`, if any): the
/// narrow row each heartbeat rewrites (tenant schema step 17), as `h`, kept by the
/// license's number (`licenses.no`, tenant step 25). Every license has one, made with
/// it (trigger `heartbeat_state_made`).
pub const HEARD: &str = "LEFT JOIN heartbeat_state h ON h.license_no = l.no";

pub const COLUMNS: &str = "l.id, l.name, l.install_id, l.organization, l.internal_users, l.external_users, \
     l.features, l.flags, l.not_before, l.expires_at, l.issued_at, \
     (SELECT kid FROM signing_keys WHERE no = l.signed_by), l.state, \
     l.suspend_reason, l.bound_fingerprint, l.activated_at, h.last_seen_at, l.subscription_status, \
     l.subscription_period_end, l.revoked_at, l.revoke_reason, l.suspend_note, \
     l.organization_id, l.offline_until, l.bundle_seq, h.last_heartbeat_id";

/// Number of columns in `COLUMNS` (which need the join `HEARD`).
pub const WIDTH: usize = 26;

fn corrupt(column: &'static str, value: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        column,
        value: value.into(),
    }
}

/// Reads a license from `COLUMNS`, starting at column `at`.
pub fn read_row(r: &Row<'_>, at: usize) -> Result<LicenseRow> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(at + i) };
    let opt = |i: usize| -> rusqlite::Result<Option<String>> { r.get(at + i) };
    // Times are microseconds (tenant steps 24 and 25).
    let time = |i: usize, column: &'static str| -> Result<DateTime<Utc>> {
        from_micros(column, r.get(at + i)?)
    };
    let opt_time = |i: usize, column: &'static str| -> Result<Option<DateTime<Utc>>> {
        from_opt_micros(column, r.get(at + i)?)
    };
    let json_list = |i: usize, column: &'static str| -> Result<Vec<String>> {
        let s = text(i)?;
        serde_json::from_str(&s).map_err(|_| corrupt(column, s))
    };
    let state_s = text(12)?;
    let sub_s = text(17)?;
    Ok(LicenseRow {
        id: text(0)?,
        name: text(1)?,
        install_id: text(2)?,
        organization: text(3)?,
        internal_users: r.get(at + 4)?,
        external_users: r.get(at + 5)?,
        features: json_list(6, "licenses.features")?,
        flags: json_list(7, "licenses.flags")?,
        not_before: time(8, "licenses.not_before")?,
        expires_at: time(9, "licenses.expires_at")?,
        issued_at: time(10, "licenses.issued_at")?,
        kid: opt(11)?.ok_or_else(|| corrupt("licenses.signed_by", "no signing key's number"))?,
        state: state_s
            .parse()
            .map_err(|_| corrupt("licenses.state", state_s.clone()))?,
        suspend_reason: opt(13)?
            .map(|s| s.parse().map_err(|_| corrupt("licenses.suspend_reason", s)))
            .transpose()?,
        bound_fingerprint: opt(14)?,
        activated_at: opt_time(15, "licenses.activated_at")?,
        last_seen_at: opt_time(16, "heartbeat_state.last_seen_at")?,
        subscription: Subscription {
            status: sub_s
                .parse()
                .map_err(|_| corrupt("licenses.subscription_status", sub_s.clone()))?,
            period_end: opt_time(18, "licenses.subscription_period_end")?,
        },
        revoked_at: opt_time(19, "licenses.revoked_at")?,
        revoke_reason: opt(20)?,
        suspend_note: opt(21)?,
        organization_id: r.get(at + 22)?,
        offline_until: opt_time(23, "licenses.offline_until")?,
        bundle_seq: r.get(at + 24)?,
        last_heartbeat_id: r.get(at + 25)?,
    })
}

pub fn insert(tx: &WriteTx<'_>, l: &LicenseRow) -> Result<()> {
    tx.execute(
        "INSERT INTO licenses (id, name, install_id, organization, internal_users, external_users, features, flags,
            not_before, expires_at, issued_at, signed_by, state, suspend_reason, bound_fingerprint,
            activated_at, subscription_status, subscription_period_end, revoked_at, revoke_reason, suspend_note,
            organization_id, offline_until, bundle_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        params![
            l.id,
            l.name,
            l.install_id,
            l.organization,
            l.internal_users,
            l.external_users,
            serde_json::to_string(&l.features).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&l.flags).unwrap_or_else(|_| "[]".into()),
            micros(l.not_before),
            micros(l.expires_at),
            micros(l.issued_at),
            signing_keys::number(tx, &l.kid)?,
            l.state.as_str(),
            l.suspend_reason.map(SuspendReason::as_str),
            l.bound_fingerprint,
            l.activated_at.map(micros),
            l.subscription.status.as_str(),
            l.subscription.period_end.map(micros),
            l.revoked_at.map(micros),
            l.revoke_reason,
            l.suspend_note,
            l.organization_id,
            l.offline_until.map(micros),
            l.bundle_seq,
        ],
    )?;
    // Its state row was made by the insert (trigger `heartbeat_state_made`).
    if l.last_seen_at.is_some() || l.last_heartbeat_id.is_some() {
        tx.execute(
            "UPDATE heartbeat_state SET last_seen_at = ?2, last_heartbeat_id = ?3
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)",
            params![l.id, l.last_seen_at.map(micros), l.last_heartbeat_id],
        )?;
    }
    Ok(())
}

pub fn find(tx: &ReadTx<'_>, id: &str) -> Result<Option<LicenseRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM licenses l {HEARD} WHERE l.id = ?1"
    ))?;
    let mut rows = st.query([id])?;
    rows.next()?.map(|r| read_row(r, 0)).transpose()
}

/// The license numbered `no` (`licenses.no`, what its state row is kept by).
pub fn find_numbered(tx: &ReadTx<'_>, no: i64) -> Result<Option<LicenseRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM licenses l {HEARD} WHERE l.no = ?1"
    ))?;
    let mut rows = st.query([no])?;
    rows.next()?.map(|r| read_row(r, 0)).transpose()
}

/// The mutable part of a license, written back after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub state: LicenseState,
    pub suspend_reason: Option<SuspendReason>,
    pub bound_fingerprint: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl StatusUpdate {
    pub fn of(l: &LicenseRow) -> Self {
        StatusUpdate {
            state: l.state,
            suspend_reason: l.suspend_reason,
            bound_fingerprint: l.bound_fingerprint.clone(),
            activated_at: l.activated_at,
            last_seen_at: l.last_seen_at,
        }
    }
}

pub fn update_status(tx: &WriteTx<'_>, id: &str, u: &StatusUpdate) -> Result<()> {
    let mut st = tx.prepare(
        "UPDATE licenses SET state = ?2, suspend_reason = ?3, bound_fingerprint = ?4, activated_at = ?5
         WHERE id = ?1",
    )?;
    st.execute(params![
        id,
        u.state.as_str(),
        u.suspend_reason.map(SuspendReason::as_str),
        u.bound_fingerprint,
        u.activated_at.map(micros),
    ])?;
    let mut st = tx.prepare(
        "UPDATE heartbeat_state SET last_seen_at = ?2
         WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND last_seen_at IS NOT ?2",
    )?;
    st.execute(params![id, u.last_seen_at.map(micros)])?;
    Ok(())
}

/// A heartbeat was recorded for the license without hearing from its appliance (a box
/// the license moved away from): the new head of its history chain.
pub fn chain_heartbeat(tx: &WriteTx<'_>, id: &str, heartbeat_id: i64) -> Result<()> {
    let mut st = tx.prepare(
        "UPDATE heartbeat_state SET last_heartbeat_id = ?2
         WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)",
    )?;
    st.execute(params![id, heartbeat_id])?;
    Ok(())
}

/// Records (or, with `None`, clears) how long the license's offline appliance may run.
pub fn set_offline_until(tx: &WriteTx<'_>, id: &str, until: Option<DateTime<Utc>>) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET offline_until = ?2 WHERE id = ?1",
        params![id, until.map(micros)],
    )?;
    Ok(())
}

/// Takes the license's next bundle number (renewals and revocations share it).
pub fn next_bundle_seq(tx: &WriteTx<'_>, id: &str) -> Result<i64> {
    Ok(tx.query_row(
        "UPDATE licenses SET bundle_seq = bundle_seq + 1 WHERE id = ?1 RETURNING bundle_seq",
        [id],
        |r| r.get(0),
    )?)
}

pub fn set_revoked(tx: &WriteTx<'_>, id: &str, reason: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1",
        params![id, micros(now), reason],
    )?;
    Ok(())
}

/// Moves the license to another organization, or to none.
pub fn set_organization(tx: &WriteTx<'_>, id: &str, organization_id: Option<i64>) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET organization_id = ?2 WHERE id = ?1",
        params![id, organization_id],
    )?;
    Ok(())
}

/// Licenses of any organization that expire in (`from`, `to`], not revoked, soonest
/// first, at most `limit`: those an expiry notice may be due for (`domain::license_notices`).
pub fn organization_expiries(
    tx: &ReadTx<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<LicenseRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM licenses l {HEARD}
         WHERE l.organization_id IS NOT NULL AND l.state <> 'revoked'
           AND l.expires_at > ?1 AND l.expires_at <= ?2
         ORDER BY l.expires_at, l.id LIMIT ?3"
    ))?;
    let mut rows = st.query(params![micros(from), micros(to), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, 0)?);
    }
    Ok(out)
}

/// How many of the organization's licenses are still valid at `now`: neither revoked
/// nor expired (also one past its expiry that no sweep has marked yet).
pub fn valid_of_organization(tx: &ReadTx<'_>, org_id: i64, now: DateTime<Utc>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM licenses WHERE organization_id = ?1
           AND state NOT IN ('revoked', 'expired') AND expires_at > ?2",
        params![org_id, micros(now)],
        |r| r.get(0),
    )?)
}

/// The organizations with a license for this Install ID that was not revoked (an
/// expired one too: its expiry may be the violation), by id.
pub fn organizations_of_install(tx: &ReadTx<'_>, install_id: &str) -> Result<Vec<i64>> {
    let mut st = tx.prepare(
        "SELECT DISTINCT organization_id FROM licenses
         WHERE install_id = ?1 AND organization_id IS NOT NULL AND state <> 'revoked'
         ORDER BY organization_id",
    )?;
    let rows = st.query_map([install_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Notes what staff wrote when suspending (empty: none).
pub fn set_suspend_note(tx: &WriteTx<'_>, id: &str, note: &str) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET suspend_note = ?2 WHERE id = ?1",
        params![id, (!note.is_empty()).then_some(note)],
    )?;
    Ok(())
}

/// What a renewal, change or reissue rewrites: the grant and the signing key of its
/// newly signed key (which `license_keys::insert_current` records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantUpdate<'a> {
    pub name: &'a str,
    pub internal_users: u32,
    pub external_users: u32,
    pub features: &'a [String],
    pub expires_at: DateTime<Utc>,
    pub kid: &'a str,
}

pub fn update_grant(tx: &WriteTx<'_>, id: &str, g: &GrantUpdate<'_>) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET name = ?2, internal_users = ?3, external_users = ?4, features = ?5,
            expires_at = ?6, signed_by = ?7 WHERE id = ?1",
        params![
            id,
            g.name,
            g.internal_users,
            g.external_users,
            serde_json::to_string(g.features).unwrap_or_else(|_| "[]".into()),
            micros(g.expires_at),
            signing_keys::number(tx, g.kid)?,
        ],
    )?;
    Ok(())
}

/// Live (not revoked or expired) licenses signed by `kid`, oldest first, at most `limit`.
pub fn live_signed_by(tx: &ReadTx<'_>, kid: &str, limit: usize) -> Result<Vec<LicenseRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM licenses l {HEARD}
         WHERE l.signed_by = (SELECT no FROM signing_keys WHERE kid = ?1)
             AND l.state NOT IN ('revoked', 'expired')
         ORDER BY l.issued_at, l.rowid LIMIT ?2"
    ))?;
    let mut rows = st.query(params![kid, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, 0)?);
    }
    Ok(out)
}

pub fn set_subscription(tx: &WriteTx<'_>, id: &str, s: &Subscription) -> Result<()> {
    tx.execute(
        "UPDATE licenses SET subscription_status = ?2, subscription_period_end = ?3 WHERE id = ?1",
        params![id, s.status.as_str(), s.period_end.map(micros)],
    )?;
    Ok(())
}

/// Filters for listing licenses.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<LicenseState>,
    pub install_id: Option<String>,
    pub expiring_before: Option<DateTime<Utc>>,
    /// Licenses that belong to this organization.
    pub organization_id: Option<i64>,
    /// Keyset cursor: (issued_at, id) of the last row of the previous page. Licenses
    /// issued in the same microsecond follow the order they were written in (rowid,
    /// which `licenses_issued` carries; tenant step 20).
    pub after: Option<(DateTime<Utc>, String)>,
}

/// Newest first, at most `limit`.
pub fn list(tx: &ReadTx<'_>, f: &Filter, limit: usize) -> Result<Vec<LicenseRow>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    // `#` marks a parameter in a clause; each becomes the next numbered placeholder.
    let mut push = |clause: &str, values: Vec<Value>| {
        let mut c = clause.to_owned();
        for v in values {
            args.push(v);
            c = c.replacen('#', &format!("?{}", args.len()), 1);
        }
        clauses.push(c);
    };
    if let Some(s) = f.state {
        push("l.state = #", vec![s.as_str().to_owned().into()]);
        // `licenses_state` holds the licenses that are not active (most are): SQLite
        // uses a partial index only for a query that names its condition.
        if s != LicenseState::Active {
            push("l.state <> 'active'", vec![]);
        }
    }
    if let Some(i) = &f.install_id {
        push("l.install_id = #", vec![i.clone().into()]);
    }
    if let Some(t) = f.expiring_before {
        push("l.expires_at < #", vec![micros(t).into()]);
    }
    if let Some(o) = f.organization_id {
        push("l.organization_id = #", vec![o.into()]);
    }
    if let Some((at, id)) = &f.after {
        push(
            "(l.issued_at < # OR (l.issued_at = # AND l.rowid < (SELECT rowid FROM licenses WHERE id = #)))",
            vec![micros(*at).into(), micros(*at).into(), id.clone().into()],
        );
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM licenses l {HEARD} {filter} ORDER BY l.issued_at DESC, l.rowid DESC LIMIT {limit}"
    );
    let mut st = tx.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, 0)?);
    }
    Ok(out)
}

/// Licenses per stored state (license list, metrics; time-driven changes show after the
/// next sweep). Read from the counts schema step 7 keeps, not from every license.
pub fn count_by_state(tx: &ReadTx<'_>) -> Result<Vec<(String, i64)>> {
    let mut st = tx.prepare(
        "SELECT state, licenses FROM fleet_license_states WHERE licenses > 0 ORDER BY state",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The ids of the licenses time may have changed at `now`: past expiry, past the grace
/// window (not seen since `seen_before`), with a lapsed subscription, or suspended for a
/// subscription that may be restored. Each part is one index range, so a sweep with
/// nothing to do costs the same with a thousand licenses or a million
/// (`sweep_due::tests::an_idle_sweep_reads_as_little_at_any_fleet_size`). The parts on
/// when a license was heard from name their index, `heartbeat_state_active_day`
/// (active licenses by the day they were heard from, tenant step 21; `?3` is the day
/// of `?2`): SQLite's planner otherwise walks every active license through
/// `licenses_state` (0.4 s with a million licenses).
const SWEEP_CANDIDATES: &str = "
    SELECT id FROM licenses WHERE state NOT IN ('revoked', 'expired') AND expires_at <= ?1
    UNION SELECT l.id FROM heartbeat_state h INDEXED BY heartbeat_state_active_day
        JOIN licenses l ON l.no = h.license_no
        WHERE h.active = 1 AND h.seen_day <= ?3 AND h.last_seen_at < ?2
    UNION SELECT l.id FROM heartbeat_state h INDEXED BY heartbeat_state_active_day
        JOIN licenses l ON l.no = h.license_no
        WHERE h.active = 1 AND h.seen_day IS NULL
    UNION SELECT id FROM licenses WHERE subscription_status IN ('past_due', 'canceled')
        AND state IN ('issued', 'active', 'locked')
    UNION SELECT id FROM licenses WHERE state = 'suspended' AND suspend_reason = 'subscription'";

/// The licenses of `SWEEP_CANDIDATES`, whole (what a dry run of the sweep plans from).
pub fn sweep_candidates(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    seen_before: DateTime<Utc>,
) -> Result<Vec<LicenseRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM licenses l {HEARD} WHERE l.id IN ({SWEEP_CANDIDATES})");
    let mut st = tx.prepare(&sql)?;
    let mut rows = st.query(params![
        micros(now),
        micros(seen_before),
        super::day(seen_before)
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, 0)?);
    }
    Ok(out)
}

/// The ids of `SWEEP_CANDIDATES`, each once (what the sweep settles, a batch at a time,
/// each license read again in the batch's own transaction).
pub fn sweep_candidate_ids(
    tx: &ReadTx<'_>,
    now: DateTime<Utc>,
    seen_before: DateTime<Utc>,
) -> Result<IdSet> {
    let mut st = tx.prepare(SWEEP_CANDIDATES)?;
    let rows = st.query(params![
        micros(now),
        micros(seen_before),
        super::day(seen_before)
    ])?;
    Ok(IdSet::read(rows)?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    /// The life-cycle event's name (`lifecycle::Event::name`).
    pub event: String,
    pub from_state: Option<LicenseState>,
    pub to_state: LicenseState,
    pub actor: String,
    pub detail: String,
}

pub fn insert_event(
    tx: &WriteTx<'_>,
    license_id: &str,
    now: DateTime<Utc>,
    event: &str,
    from: Option<LicenseState>,
    to: LicenseState,
    actor: &str,
) -> Result<()> {
    let mut st = tx.prepare(
        "INSERT INTO license_events (license_id, at, event, from_state, to_state, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    st.execute(params![
        license_id,
        ts(now),
        event,
        from.map(LicenseState::as_str),
        to.as_str(),
        actor
    ])?;
    Ok(())
}

pub fn events(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<EventRow>> {
    let mut st = tx.prepare(
        "SELECT at, event, from_state, to_state, actor, detail FROM license_events WHERE license_id = ?1 ORDER BY id DESC LIMIT 200",
    )?;
    let rows = st.query_map([license_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    rows.map(|r| {
        let (at, event, from_state, to_state, actor, detail): (
            String,
            String,
            Option<String>,
            String,
            String,
            String,
        ) = r?;
        let state = |s: String| s.parse().map_err(|_| corrupt("license_events.state", s));
        Ok(EventRow {
            at: parse_ts("license_events.at", &at)?,
            event,
            from_state: from_state.map(state).transpose()?,
            to_state: state(to_state)?,
            actor,
            detail,
        })
    })
    .collect()
}

/// The columns an installation's capacity depends on (no key, no claims text): what the
/// heartbeat path reads for every installation it re-assesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityRow {
    pub state: LicenseState,
    pub suspend_reason: Option<SuspendReason>,
    pub internal_users: u32,
    pub external_users: u32,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub bound_fingerprint: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub subscription: Subscription,
    pub offline_until: Option<DateTime<Utc>>,
}

pub fn capacity_rows(tx: &ReadTx<'_>, install_id: &str) -> Result<Vec<CapacityRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT l.state, l.suspend_reason, l.internal_users, l.external_users, l.not_before, l.expires_at,
                l.bound_fingerprint, h.last_seen_at, l.subscription_status, l.subscription_period_end,
                l.offline_until
         FROM licenses l {HEARD} WHERE l.install_id = ?1 LIMIT 1000"
    ))?;
    let mut rows = st.query([install_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        let reason: Option<String> = r.get(1)?;
        let sub: String = r.get(8)?;
        out.push(CapacityRow {
            state: state
                .parse()
                .map_err(|_| corrupt("licenses.state", state.clone()))?,
            suspend_reason: reason
                .map(|s| s.parse().map_err(|_| corrupt("licenses.suspend_reason", s)))
                .transpose()?,
            internal_users: r.get(2)?,
            external_users: r.get(3)?,
            not_before: from_micros("licenses.not_before", r.get(4)?)?,
            expires_at: from_micros("licenses.expires_at", r.get(5)?)?,
            bound_fingerprint: r.get(6)?,
            last_seen_at: from_opt_micros("heartbeat_state.last_seen_at", r.get(7)?)?,
            subscription: Subscription {
                status: sub
                    .parse()
                    .map_err(|_| corrupt("licenses.subscription_status", sub.clone()))?,
                period_end: from_opt_micros("licenses.subscription_period_end", r.get(9)?)?,
            },
            offline_until: from_opt_micros("licenses.offline_until", r.get(10)?)?,
        });
    }
    Ok(out)
}

/// The organization a license belongs to, if any.
pub fn organization_of(tx: &ReadTx<'_>, id: &str) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(tx
        .query_row(
            "SELECT organization_id FROM licenses WHERE id = ?1",
            [id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// Whether an organization has a license for `install_id`.
pub fn organization_has_install(
    tx: &ReadTx<'_>,
    organization_id: i64,
    install_id: &str,
) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM licenses WHERE organization_id = ?1 AND install_id = ?2)",
        rusqlite::params![organization_id, install_id],
        |r| r.get(0),
    )?)
}
