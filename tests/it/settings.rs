//! Licensing settings against the real server: every field is checked against its
//! bounds and the stage order, and no value (even one stored before those checks
//! existed) can make a sweep fail; a failing job shows in `/readyz` and `/metrics`.

use crate::harness::*;
use crate::licensing::{Api, activate};
use chrono::Duration;
use licd::domain::settings::LicensingSettings;
use proptest::prelude::*;
use serde_json::{Value, json};

fn put(s: &TestServer, token: &str, body: Value) -> reqwest::blocking::Response {
    client()
        .put(s.url("/api/v1/licensing/settings"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap()
}

#[test]
fn nonsense_settings_are_refused_naming_the_field() {
    let s = TestServer::start();
    let token = s.admin_token();
    let base = serde_json::to_value(LicensingSettings::default()).unwrap();
    let with = |field: &str, v: Value| {
        let mut b = base.clone();
        b[field] = v;
        b
    };
    let cases = [
        ("read_only_days", json!(0), "read_only_days"),
        (
            "admin_warning_days",
            json!(4_000_000_000u64),
            "admin_warning_days",
        ),
        (
            "expiry_warning_days",
            json!(4_294_967_295u64),
            "expiry_warning_days",
        ),
        ("users_warning_days", json!(10), "users_warning_days"),
        ("read_only_days", json!(20), "read_only_days"),
        (
            "heartbeat_retention_days",
            json!(0),
            "heartbeat_retention_days",
        ),
        ("offline_lease_days", json!(0), "offline_lease_days"),
        ("offline_lease_days", json!(1826), "offline_lease_days"),
        ("offline_response_days", json!(366), "offline_response_days"),
    ];
    for (field, value, named) in cases {
        let r = put(&s, &token, with(field, value.clone()));
        let b = expect_problem(r, 422, "validation_failed");
        assert!(
            b["detail"].as_str().unwrap().starts_with(named),
            "{field}={value}: {b}"
        );
    }
    // The stored settings did not change, and the sweep still runs.
    let cur: Value = client()
        .get(s.url("/api/v1/licensing/settings"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(cur, base);
    let r = client()
        .post(s.url("/api/v1/licenses/health/sweep"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // The upper bounds themselves are accepted, in stage order.
    let mut edge = base.clone();
    for f in [
        "admin_warning_days",
        "users_warning_days",
        "read_only_days",
        "expiry_warning_days",
    ] {
        edge[f] = json!(3650);
    }
    assert_eq!(put(&s, &token, edge).status(), 200);
}

fn any_settings() -> impl Strategy<Value = LicensingSettings> {
    let days = prop_oneof![Just(0u32), 1u32..100, any::<u32>(), Just(u32::MAX)];
    (
        (days.clone(), days.clone(), days.clone(), days.clone()),
        (days.clone(), days.clone(), days.clone(), days),
    )
        .prop_map(|((a, b, c, d), (e, f, g, h))| LicensingSettings {
            grace_days: a,
            heartbeat_interval_secs: b,
            sweep_interval_secs: c,
            heartbeat_retention_days: d,
            admin_warning_days: e,
            users_warning_days: f,
            read_only_days: g,
            expiry_warning_days: h,
            // Air-gapped windows with the same extremes (each reused from above).
            offline_lease_days: d,
            offline_response_days: a,
        })
}

/// Whatever settings a tenant holds (validated or not: older versions stored values
/// that are refused today), the sweep, the installation and enterprise views and the
/// heartbeat-retention cleanup answer without failing.
#[test]
fn no_settings_make_a_sweep_fail() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let body = |install: &str, days: i64| {
        json!({"name": "p", "install_id": install, "internal_users": 2,
               "expires_at": (s.clock.now_utc() + Duration::days(days)).to_rfc3339()})
    };
    // Something for every rule to look at: a licence in use and over its limit, one
    // that expires soon, one expired.
    let lic = api.ok(api.post("/api/v1/licenses", body("prop-a", 400)));
    let act = api.ok(activate(&s, &lic, "fp"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let r = client()
        .post(s.url(&format!(
            "/api/v1/licenses/{}/heartbeat",
            lic["id"].as_str().unwrap()
        )))
        .bearer_auth(&secret)
        .json(&json!({"fingerprint": "fp", "seq": 1, "internal_users": 9, "external_users": 0}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    api.ok(api.post("/api/v1/licenses", body("prop-b", 3)));
    api.ok(api.post("/api/v1/licenses", body("prop-c", 1)));
    s.clock.advance(Duration::days(2));
    let tenant = s.app.tenants.public().unwrap();
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(settings in any_settings())| {
        tenant.set_settings(settings);
        let r = client()
            .post(s.url("/api/v1/licenses/health/sweep"))
            .bearer_auth(&api.token)
            .json(&json!({}))
            .send()
            .unwrap();
        prop_assert_eq!(r.status().as_u16(), 200, "{:?}: {}", settings, r.text().unwrap());
        for path in ["/api/v1/installations/prop-a", "/api/v1/enterprise", "/api/v1/licensing/settings"] {
            let r = client().get(s.url(path)).bearer_auth(&api.token).send().unwrap();
            prop_assert_eq!(r.status().as_u16(), 200, "{} with {:?}", path, settings);
        }
        licd::service::licenses::prune_heartbeats(&tenant, s.clock.now_utc()).unwrap();
    });
    tenant.set_settings(LicensingSettings::default());
}

/// The scheduled sweep with a value that used to panic on every tick: it keeps
/// running, and `/readyz` and `/metrics` show no failing job.
#[test]
fn a_stored_extreme_setting_does_not_stop_the_scheduled_sweep() {
    let s = TestServer::start();
    let api = Api::new(&s);
    api.issue("extreme", 30);
    let tenant = s.app.tenants.public().unwrap();
    tenant.set_settings(LicensingSettings {
        expiry_warning_days: u32::MAX,
        sweep_interval_secs: 10,
        ..LicensingSettings::default()
    });
    s.clock.advance(Duration::days(1));
    assert!(licd::jobs::run_due(&s.app).contains(&"licensing-sweep"));
    let ready: Value = client()
        .get(s.url("/readyz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    let metrics = client()
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("licd_job_runs_total{job=\"licensing-sweep\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("outcome=\"failed\""), "{metrics}");
    tenant.set_settings(LicensingSettings::default());
}

/// 430 licenses of 10,000,000 users for one Install ID: the capacity does not wrap
/// around to a small number.
#[test]
fn summed_capacity_does_not_wrap_around() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let expires = (s.clock.now_utc() + Duration::days(365)).to_rfc3339();
    for _ in 0..430 {
        api.ok(api.post(
            "/api/v1/licenses",
            json!({"name": "huge", "install_id": "wrap", "internal_users": 10_000_000, "expires_at": expires}),
        ));
    }
    let inst = api.ok(api.get("/api/v1/installations/wrap"));
    assert_eq!(
        inst["capacity"]["internal_users"],
        u64::from(u32::MAX),
        "{inst}"
    );
    // Per-license counts are capped at the documented maximum.
    let r = api.post(
        "/api/v1/licenses",
        json!({"name": "x", "install_id": "wrap", "internal_users": 10_000_001, "expires_at": expires}),
    );
    let b = expect_problem(r, 422, "validation_failed");
    assert!(b["detail"].as_str().unwrap().contains("10000000"), "{b}");
}
