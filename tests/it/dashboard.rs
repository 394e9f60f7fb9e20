//! The dashboard's figures (issue 12, item 2): the aggregate tables of schema step 7
//! against direct counts of the rows after real activity over HTTP (issue, activate,
//! heartbeats at known times, revoke, the retention job), and the parts each role sees.

use crate::harness::*;
use crate::licensing::{Api, activate, heartbeat};
use chrono::{DateTime, Duration, Utc};
use licd::domain::permissions::Role;
use licd::service::fleet_overview;
use serde_json::{Value, json};

/// A known fleet, made over HTTP from `t0()` (Monday 2026-06-01 09:00 UTC):
/// - "Alpha" (Acme, install `alpha.install`), expires in 20 days, active on `fp-a`, with
///   heartbeats at 10:00, 11:00 and 14:00;
/// - "Bravo" (Bravo Ltd, `bravo.install`), active on `fp-b`, one heartbeat at 10:00, then
///   silent;
/// - "Charlie" (`charlie.install`), issued, never activated;
/// - "Delta" (`delta.install`), revoked.
///
/// The clock is left at 14:30.
pub fn seed_known_fleet(s: &TestServer) -> Known {
    let api = Api::new(s);
    let issue = |name: &str, org: &str, install: &str, days: i64| -> Value {
        let body = json!({
            "name": name, "install_id": install, "organization": org,
            "internal_users": 50, "external_users": 10,
            "expires_at": (s.clock.now_utc() + Duration::days(days)).to_rfc3339(),
        });
        api.ok(api.post("/api/v1/licenses", body))
    };
    let alpha = issue("Alpha", "Acme", "alpha.install", 20);
    let bravo = issue("Bravo", "Bravo Ltd", "bravo.install", 365);
    issue("Charlie", "", "charlie.install", 365);
    let delta = issue("Delta", "", "delta.install", 365);
    api.ok(api.post(
        &format!("/api/v1/licenses/{}/revoke", delta["id"].as_str().unwrap()),
        json!({"reason": "test"}),
    ));
    let a = api.ok(activate(s, &alpha, "fp-a"));
    let b = api.ok(activate(s, &bravo, "fp-b"));
    let (a_id, b_id) = (
        alpha["id"].as_str().unwrap().to_owned(),
        bravo["id"].as_str().unwrap().to_owned(),
    );
    let secret = |v: &Value| v["activation_secret"].as_str().unwrap().to_owned();
    let (a_secret, b_secret) = (secret(&a), secret(&b));
    let at = |h: i64| s.clock.set(t0() + Duration::hours(h));
    at(1);
    api.ok(heartbeat(s, &a_id, &a_secret, "fp-a", 1));
    api.ok(heartbeat(s, &b_id, &b_secret, "fp-b", 1));
    at(2);
    api.ok(heartbeat(s, &a_id, &a_secret, "fp-a", 2));
    at(5);
    api.ok(heartbeat(s, &a_id, &a_secret, "fp-a", 3));
    s.clock.set(t0() + Duration::minutes(5 * 60 + 30));
    Known {
        alpha: a_id,
        bravo: b_id,
        bravo_secret: b_secret,
    }
}

/// The ids `seed_known_fleet` made, and Bravo's activation secret (its last lease: 2).
pub struct Known {
    pub alpha: String,
    pub bravo: String,
    pub bravo_secret: String,
}

fn raw(s: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        s.data_dir().join("tenants/public.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

fn direct(c: &rusqlite::Connection, sql: &str) -> Vec<(String, i64)> {
    c.prepare(sql)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn nonzero<K: ToString>(v: &[(K, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| (k.to_string(), *n))
        .collect();
    out.sort();
    out
}

fn hour(h: DateTime<Utc>) -> String {
    h.format("%Y-%m-%dT%H").to_string()
}

/// What the dashboard shows equals a count of the rows themselves.
fn assert_matches_direct_counts(s: &TestServer) {
    let tenant = s.app.tenants.public().unwrap();
    let f = fleet_overview::fleet(&tenant, s.clock.now_utc()).unwrap();
    let c = raw(s);
    let states: Vec<(String, i64)> = f
        .states
        .iter()
        .map(|(st, n)| (st.as_str().to_owned(), *n))
        .collect();
    assert_eq!(
        nonzero(&states),
        direct(
            &c,
            "SELECT state, count(*) FROM licenses GROUP BY state ORDER BY state"
        )
    );
    let stages: Vec<(String, i64)> = f
        .stages
        .iter()
        .map(|(st, n)| (st.as_str().to_owned(), *n))
        .collect();
    assert_eq!(
        nonzero(&stages),
        direct(
            &c,
            "SELECT stage, count(*) FROM installations GROUP BY stage ORDER BY stage"
        )
    );
    let hours: Vec<(String, i64)> = f
        .heartbeats_per_hour
        .iter()
        .map(|(h, n)| (hour(*h), *n))
        .collect();
    let first = hours[0].0.clone();
    assert_eq!(
        nonzero(&hours),
        direct(
            &c,
            &format!(
                "SELECT substr(at, 1, 13) h, count(*) FROM heartbeats WHERE h >= '{first}' GROUP BY h ORDER BY h"
            )
        )
    );
    let first_day = f.appliances_per_day[0].0.to_string();
    let days: Vec<(String, i64)> = f
        .appliances_per_day
        .iter()
        .map(|(d, n)| (d.to_string(), *n))
        .collect();
    // Heard from: a heartbeat, or the activation (which counts as hearing from it).
    assert_eq!(
        nonzero(&days),
        direct(
            &c,
            &format!(
                "SELECT d, count(*) FROM (SELECT substr(at, 1, 10) d, license_id FROM heartbeats
                   UNION SELECT date(a.created_at / 1000000, 'unixepoch'), l.id
                   FROM activations a JOIN licenses l ON l.no = a.license_no)
                 WHERE d >= '{first_day}' GROUP BY d ORDER BY d"
            )
        )
    );
    let issued: i64 = f.issued_per_week.iter().map(|(_, n)| n).sum();
    let first_week = f.issued_per_week[0].0.to_string();
    let want: i64 = c
        .query_row(
            // A license's times are microseconds (tenant step 24).
            &format!(
                "SELECT count(*) FROM licenses WHERE issued_at >= unixepoch('{first_week}') * 1000000"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(issued, want);
}

#[test]
fn aggregates_equal_direct_counts_after_real_activity_and_retention() {
    let s = TestServer::start();
    let known = seed_known_fleet(&s);
    let (a_id, b_id) = (known.alpha.clone(), known.bravo.clone());
    assert_matches_direct_counts(&s);

    let tenant = s.app.tenants.public().unwrap();
    let f = fleet_overview::fleet(&tenant, s.clock.now_utc()).unwrap();
    let count = |state: &str| {
        f.states
            .iter()
            .find(|(st, _)| st.as_str() == state)
            .unwrap()
            .1
    };
    assert_eq!(
        (
            count("active"),
            count("issued"),
            count("revoked"),
            f.licenses
        ),
        (2, 1, 1, 4)
    );
    // Bravo has been silent since 10:00 (longer than the hour's interval), Alpha not.
    assert_eq!(f.silent_count, 1);
    assert_eq!(f.silent[0].license_id, b_id);
    assert_eq!(f.silent[0].silent_secs, 4 * 3600 + 30 * 60);
    assert_eq!(
        f.silent[0].grace_left_secs,
        14 * 86_400 - (4 * 3600 + 30 * 60)
    );
    // Alpha expires within 30 days.
    assert_eq!(f.expiring_count, 1);
    assert_eq!(f.expiring[0].license_id, a_id);
    // The hours: 10:00 two heartbeats, 11:00 and 14:00 one each; the current hour last.
    let (last_hour, _) = f.heartbeats_per_hour[f.heartbeats_per_hour.len() - 1];
    assert_eq!(last_hour, t0() + Duration::hours(5));
    assert_eq!(f.heartbeats_per_hour.len(), 168);
    assert_eq!(
        nonzero(
            &f.heartbeats_per_hour
                .iter()
                .map(|(h, n)| (hour(*h), *n))
                .collect::<Vec<_>>()
        ),
        vec![
            ("2026-06-01T10".to_owned(), 2),
            ("2026-06-01T11".to_owned(), 1),
            ("2026-06-01T14".to_owned(), 1)
        ]
    );
    assert_eq!(f.issued_per_week.last().unwrap(), &(t0().date_naive(), 4));
    assert_eq!(
        f.appliances_per_day.last().unwrap(),
        &(t0().date_naive(), 2)
    );

    // Next day: Bravo checks in twice, a state changes; each appliance counts once a day.
    s.clock.set(t0() + Duration::days(1));
    let api = Api::new(&s);
    api.ok(heartbeat(&s, &b_id, &known.bravo_secret, "fp-b", 2));
    api.ok(heartbeat(&s, &b_id, &known.bravo_secret, "fp-b", 3));
    api.ok(api.post(
        &format!("/api/v1/licenses/{a_id}/suspend"),
        json!({"reason": "test"}),
    ));
    assert_matches_direct_counts(&s);
    let f = fleet_overview::fleet(&tenant, s.clock.now_utc()).unwrap();
    assert_eq!(f.appliances_per_day.last().unwrap().1, 1, "Bravo, once");

    // The retention job prunes heartbeats and their aggregates alike: 40 days later,
    // with 30 days kept, nothing of June 1 and 2 is left in either.
    s.clock.set(t0() + Duration::days(40));
    licd::jobs::run_due(&s.app);
    let c = raw(&s);
    let left: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM heartbeats) + (SELECT count(*) FROM fleet_heartbeat_hours)
                  + (SELECT count(*) FROM fleet_appliance_days)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    assert_matches_direct_counts(&s);
}

#[test]
fn each_role_sees_the_parts_it_may_read() {
    let s = TestServer::start();
    seed_known_fleet(&s);
    s.create_staff("support@example.com", Role::Support, "support-password-1");
    let page = |email: &str, password: &str| {
        let (c, _) = api_login(&s, email, password);
        let r = c.get(s.url("/")).send().unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    };
    let admin = page(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert!(admin.contains("id=\"licenses-total\">4<"), "{admin}");
    assert!(admin.contains("id=\"own-license-stage\""), "{admin}");
    assert!(admin.contains("href=\"/enterprise\""));
    // The fleet leads; the part about the user comes after it.
    assert!(admin.find("licenses-by-state").unwrap() < admin.find("you-title").unwrap());
    let support = page("support@example.com", "support-password-1");
    assert!(support.contains("id=\"licenses-total\">4<"));
    assert!(
        !support.contains("own-license-stage"),
        "support may not read Enterprise"
    );
    assert!(support.contains("id=\"your-role\">support<"));
}
