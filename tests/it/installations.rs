//! Installations against the real server: capacity adds up over valid licenses, usage
//! from heartbeats drives the violation stages as the clock moves, leases carry them.

use crate::harness::*;
use crate::licensing::{Api, activate, issue_in_process};
use chrono::Duration;
use licd::service::{Actor, sweep};
use serde_json::{Value, json};

const INSTALL: &str = "inst-violations";

fn issue(api: &Api<'_>, internal: u32, external: u32, days: i64) -> Value {
    let body = json!({
        "name": "seat pack", "install_id": INSTALL, "internal_users": internal, "external_users": external,
        "expires_at": (api.s.clock.now_utc() + Duration::days(days)).to_rfc3339(),
    });
    api.ok(api.post("/api/v1/licenses", body))
}

fn hb_with(
    s: &TestServer,
    id: &str,
    secret: &str,
    seq: i64,
    internal: u32,
) -> reqwest::blocking::Response {
    beat_reporting(s, id, secret, seq, Some(internal))
}

#[test]
fn licenses_add_up_and_usage_moves_the_installation_through_the_stages() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let a = issue(&api, 50, 10, 365);
    issue(&api, 20, 0, 365);
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["capacity"]["internal_users"], 70);
    assert_eq!(inst["capacity"]["external_users"], 10);
    assert_eq!(inst["licenses"].as_array().unwrap().len(), 2);
    assert_eq!(inst["stage"], "none");

    let act = api.ok(activate(&s, &a, "fp"));
    let id = a["id"].as_str().unwrap();
    let secret = act["activation_secret"].as_str().unwrap();
    let mut seq = 1;
    let mut beat = |internal: u32| {
        let lease = api.ok(hb_with(&s, id, secret, seq, internal));
        seq += 1;
        lease["claims"].clone()
    };
    // Within the limit.
    assert_eq!(beat(70)["stage"], "none");
    // Over the limit from now on: the clock starts.
    let lease = beat(80);
    assert_eq!(
        (lease["stage"].as_str(), lease["read_only"].as_bool()),
        (Some("none"), Some(false))
    );
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["condition"], "over_limit");
    let since = inst["violation_since"].as_str().unwrap().to_owned();
    let expect = [
        (7, "none", "none"),
        (14, "admin_warning", "admins"),
        (21, "admin_warning", "admins"),
        (28, "users_warning", "everyone"),
        (35, "users_warning", "everyone"),
        (42, "read_only", "everyone"),
    ];
    let start = s.clock.now_utc();
    for (day, stage, banner) in expect {
        s.clock.set(start + Duration::days(day));
        let lease = beat(80);
        assert_eq!(lease["stage"], stage, "day {day}");
        assert_eq!(lease["banner"], banner, "day {day}");
        assert_eq!(lease["read_only"], stage == "read_only", "day {day}");
    }
    // The violation start stays put while it lasts.
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["violation_since"].as_str().unwrap(), since);
    assert_eq!(inst["read_only"], true);
    // Lowering the user count corrects it at once.
    let lease = beat(60);
    assert_eq!(
        (lease["stage"].as_str(), lease["read_only"].as_bool()),
        (Some("none"), Some(false))
    );
    let detail = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert!(detail["violation_since"].is_null());
    let stages: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["stage"].as_str())
        .collect();
    for st in ["admin_warning", "users_warning", "read_only", "none"] {
        assert!(stages.contains(&st), "{st} missing from {stages:?}");
    }
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=installation.stage_change&target=installation:{INSTALL}"
    )));
    assert_eq!(audit["items"].as_array().unwrap().len(), 4);
}

#[test]
fn expired_licenses_do_not_count_and_the_sweep_moves_stages_idempotently() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let short = issue(&api, 10, 0, 5);
    let long = issue(&api, 10, 0, 365);
    let act = api.ok(activate(&s, &long, "fp"));
    let id = long["id"].as_str().unwrap();
    let secret = act["activation_secret"].as_str().unwrap();
    assert_eq!(
        api.ok(hb_with(&s, id, secret, 1, 15))["claims"]["stage"],
        "none"
    );
    // Day 6: the short license expired; its 10 users no longer count: 15 > 10.
    s.clock.advance(Duration::days(6));
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["capacity"]["internal_users"], 10);
    assert_eq!(inst["condition"], "over_limit");
    let counts: Vec<bool> = inst["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["counts"].as_bool().unwrap())
        .collect();
    assert_eq!(counts.iter().filter(|c| **c).count(), 1);
    assert!(short["id"].is_string());
    // The sweep notices and records it; the stage advances with the clock through the
    // sweep alone (heartbeats keep the license active, without usage reports).
    let r = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert!(r["installations_assessed"].as_u64().unwrap() >= 1);
    s.clock.advance(Duration::days(14));
    let hb = beat_reporting(&s, id, secret, 2, None);
    assert_eq!(api.ok(hb)["claims"]["stage"], "admin_warning");
    api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    let audits = |api: &Api<'_>| {
        api.ok(api.get("/api/v1/audit?action=installation.stage_change&limit=500"))["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = audits(&api);
    api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(
        audits(&api),
        before,
        "a second sweep at the same instant changes nothing"
    );
    // A new license lifts the violation.
    issue(&api, 10, 0, 365);
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(
        (inst["condition"].as_str(), inst["stage"].as_str()),
        (Some("compliant"), Some("none"))
    );
    assert!(inst["capacity_ends_at"].is_string());
}

#[test]
fn installations_are_listed_and_unknown_ones_are_not_found() {
    let s = TestServer::start();
    let api = Api::new(&s);
    issue(&api, 5, 0, 10);
    let list = api.ok(api.get("/api/v1/installations"));
    let item = &list["items"][0];
    assert_eq!(item["install_id"], INSTALL);
    assert_eq!(item["stage"], "expiry_soon", "capacity ends within 14 days");
    assert_eq!(item["banner"], "admins");
    expect_problem(
        api.get("/api/v1/installations/never-seen"),
        404,
        "not_found",
    );
    expect_problem(
        api.get("/api/v1/installations?limit=0"),
        422,
        "validation_failed",
    );
}

/// The daily usage history the purchase pages chart: heartbeats' counts, carried from
/// day to day, each day at its peak.
#[test]
fn usage_history_has_a_point_per_day_at_its_peak() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let a = issue(&api, 500, 10, 365);
    let act = api.ok(activate(&s, &a, "fp"));
    let id = a["id"].as_str().unwrap();
    let secret = act["activation_secret"].as_str().unwrap();
    let day0 = s.clock.now_utc();
    api.ok(hb_with(&s, id, secret, 1, 40));
    s.clock.advance(Duration::hours(2));
    api.ok(hb_with(&s, id, secret, 2, 45));
    s.clock.advance(Duration::hours(1));
    api.ok(hb_with(&s, id, secret, 3, 42));
    s.clock.advance(Duration::days(2));
    api.ok(hb_with(&s, id, secret, 4, 50));
    let t = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let history = licd::service::installations::usage_history(&t, now, INSTALL, 10).unwrap();
    let counts: Vec<u32> = history.iter().map(|d| d.internal_users).collect();
    assert_eq!(counts, [45, 42, 50], "{history:?}");
    assert_eq!(history[0].day, day0.date_naive());
    assert_eq!(history[2].day, now.date_naive());

    // The API gives the same history and a forecast that never falls below today.
    let f = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}/usage?days=10")));
    let api_counts: Vec<u64> = f["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["internal_users"].as_u64().unwrap())
        .collect();
    assert_eq!(api_counts, [45, 42, 50]);
    assert_eq!(f["internal_users"]["today_count"], 50);
    let points = f["internal_users"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    assert!(points.iter().all(|p| p["count"].as_i64().unwrap() >= 50));
    let r = api.get(&format!("/api/v1/installations/{INSTALL}/usage?days=0"));
    assert_eq!(r.status(), 422);
}

/// A sweep with many installations due re-assesses them a batch at a time, each batch a
/// job of the group commit, so heartbeats queued meanwhile commit between them. It was
/// one transaction: 4.8 s of the writer with 1,000,000 installations due.
#[test]
fn a_sweep_with_many_installations_due_writes_them_in_batches() {
    let s = TestServer::start();
    let tenant = s.app.tenants.public().unwrap();
    let starts = s.clock.now_utc() + Duration::hours(1);
    issue_in_process(&s, "inst-batch", 600, Some(starts));
    let api = Api::new(&s);
    let show = |i: usize| api.ok(api.get(&format!("/api/v1/installations/inst-batch-{i}")));
    assert_eq!(show(0)["condition"], "no_valid_license");
    s.clock.advance(Duration::hours(2));
    let (_, jobs) = tenant.group_commit_stats();
    let report = sweep::run(&s.app, &tenant, s.clock.now_utc(), &Actor::System, false).unwrap();
    let (_, after) = tenant.group_commit_stats();
    assert_eq!(report.installations_assessed, 600);
    assert!(
        after - jobs >= 3,
        "600 installations, at most 250 a transaction: {} group jobs",
        after - jobs
    );
    // Every one re-assessed, in whichever batch: the licenses count from now on.
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    let compliant: i64 = db
        .query_row(
            "SELECT count(*) FROM installations WHERE install_id LIKE 'inst-batch-%'
             AND condition = 'compliant' AND violation_since IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(compliant, 600);
    assert_eq!(show(599)["condition"], "compliant");
}

/// A heartbeat can come between two of the sweep's transactions, later than the sweep's
/// instant: the installation it assessed is not moved back a stage.
#[test]
fn a_sweep_leaves_alone_an_installation_assessed_after_its_instant() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = issue(&api, 10, 0, 365);
    let act = api.ok(activate(&s, &license, "fp"));
    let id = license["id"].as_str().unwrap();
    let secret = act["activation_secret"].as_str().unwrap();
    let over = api.ok(hb_with(&s, id, secret, 1, 15));
    assert_eq!(over["claims"]["stage"], "none", "the violation starts now");
    let started = s.clock.now_utc();
    s.clock.advance(Duration::days(14));
    let warned = api.ok(hb_with(&s, id, secret, 2, 15));
    assert_eq!(warned["claims"]["stage"], "admin_warning");
    let stage_changes = || {
        api.ok(api.get(&format!(
            "/api/v1/audit?action=installation.stage_change&target=installation:{INSTALL}"
        )))["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = stage_changes();
    // A sweep whose instant is a day into the violation, when the stage was still none.
    let tenant = s.app.tenants.public().unwrap();
    let at = started + Duration::days(1);
    let report = sweep::run(&s.app, &tenant, at, &Actor::System, false).unwrap();
    assert_eq!(
        report.installations_assessed, 0,
        "due (in violation), but left alone"
    );
    assert_eq!(stage_changes(), before, "the stage stays admin_warning");
    // At its own instant or later the sweep assesses it as before.
    let report = sweep::run(&s.app, &tenant, s.clock.now_utc(), &Actor::System, false).unwrap();
    assert_eq!(report.installations_assessed, 1);
    assert_eq!(stage_changes(), before, "nothing moved");
}

/// A heartbeat reporting `internal` users, or no usage at all.
fn beat_reporting(
    s: &TestServer,
    id: &str,
    secret: &str,
    seq: i64,
    internal: Option<u32>,
) -> reqwest::blocking::Response {
    let body = match internal {
        Some(n) => {
            json!({"fingerprint": "fp", "seq": seq, "internal_users": n, "external_users": 0})
        }
        None => json!({"fingerprint": "fp", "seq": seq}),
    };
    client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .bearer_auth(secret)
        .json(&body)
        .send()
        .unwrap()
}

/// Changes the licensing settings named in `changes`, keeping the others.
fn change_settings(api: &Api<'_>, changes: &[(&str, u32)]) {
    let mut settings = api.ok(api.get("/api/v1/licensing/settings"));
    for (name, value) in changes {
        settings[*name] = json!(value);
    }
    let r = client()
        .put(api.s.url("/api/v1/licensing/settings"))
        .bearer_auth(&api.token)
        .json(&settings)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A heartbeat reuses its installation's last assessment (tenant schema step 19) only
/// while nothing it was made from has changed and time has not moved it on: each change
/// below shows in the next heartbeat's stage, with the same usage reported, or none.
#[test]
fn a_heartbeat_sees_every_change_to_what_its_installation_was_assessed_from() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let a = issue(&api, 50, 0, 365);
    let b = issue(&api, 20, 0, 365);
    let id = a["id"].as_str().unwrap().to_owned();
    let act = api.ok(activate(&s, &a, "fp"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let mut seq = 0;
    let mut beat = |internal: Option<u32>| {
        seq += 1;
        let lease = api.ok(beat_reporting(&s, &id, &secret, seq, internal));
        lease["claims"]["stage"].as_str().unwrap().to_owned()
    };
    let start = s.clock.now_utc();
    let day = |n: i64| s.clock.set(start + Duration::days(n));
    assert_eq!(beat(Some(60)), "none", "60 of 70");
    assert_eq!(beat(Some(60)), "none");

    // B's subscription ends on day 3: from then on B is suspended by time alone, and
    // 60 users are over A's 50.
    let sub = json!({"status": "canceled", "period_end": (start + Duration::days(3)).to_rfc3339()});
    let b_id = b["id"].as_str().unwrap();
    api.ok(api.post(&format!("/api/v1/licenses/{b_id}/subscription"), sub));
    assert_eq!(beat(Some(60)), "none");
    day(4);
    assert_eq!(beat(Some(60)), "none", "the violation starts on day 4");
    day(18);
    assert_eq!(beat(Some(60)), "admin_warning", "14 days after B lapsed");

    // Stages after 7 and 10 days instead of 14 and 28: day 18 is 14 days in.
    change_settings(
        &api,
        &[("admin_warning_days", 7), ("users_warning_days", 10)],
    );
    assert_eq!(beat(Some(60)), "users_warning", "the new settings at once");

    // A new license of the installation: 60 of 70 again.
    let c = issue(&api, 20, 0, 365);
    assert_eq!(beat(None), "none", "the new license counts");

    // Another appliance of the installation reports fewer users than A: A, reporting
    // nothing, gets the installation's stage from that usage.
    let c_act = api.ok(activate(&s, &c, "fp2"));
    let c_secret = c_act["activation_secret"].as_str().unwrap();
    let c_id = c["id"].as_str().unwrap();
    assert_eq!(beat(Some(90)), "none", "over from now on");
    day(26);
    assert_eq!(beat(Some(90)), "admin_warning", "8 days over");
    let other = client()
        .post(s.url(&format!("/api/v1/licenses/{c_id}/heartbeat")))
        .bearer_auth(c_secret)
        .json(&json!({"fingerprint": "fp2", "seq": 1, "internal_users": 40, "external_users": 0}))
        .send()
        .unwrap();
    assert_eq!(api.ok(other)["claims"]["stage"], "none");
    assert_eq!(beat(None), "none", "the other appliance's usage");

    // A license of the installation revoked: 60 of 50 from now on.
    assert_eq!(beat(Some(60)), "none");
    let c_revoked = api.post(
        &format!("/api/v1/licenses/{c_id}/revoke"),
        json!({"reason": "test"}),
    );
    api.ok(c_revoked);
    day(33);
    assert_eq!(
        beat(Some(60)),
        "admin_warning",
        "7 days after the revocation"
    );
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["stage"], "admin_warning");
}

/// The assessment made at activation is reused by the appliance's first heartbeat only
/// if nothing changed in between: a shorter expiry warning set after the activation
/// shows in that heartbeat.
#[test]
fn the_first_heartbeat_sees_what_changed_since_the_activation() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let short = issue(&api, 10, 0, 10);
    let id = short["id"].as_str().unwrap();
    let act = api.ok(activate(&s, &short, "fp"));
    assert_eq!(
        act["claims"]["stage"], "expiry_soon",
        "capacity ends in 10 days"
    );
    let secret = act["activation_secret"].as_str().unwrap();
    change_settings(&api, &[("expiry_warning_days", 5)]);
    let lease = api.ok(beat_reporting(&s, id, secret, 1, None));
    assert_eq!(
        lease["claims"]["stage"], "none",
        "10 days is outside a 5-day warning"
    );
}
