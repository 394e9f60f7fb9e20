//! Licenses per tenant over real HTTP on each tenant's host: a key for tenant A's
//! Install ID is refused by tenant B (`wrong_install_id`), and an additional tenant
//! without a license of its own runs the violation timeline from its creation, while
//! `public` may still run unlicensed.

use crate::harness::*;
use crate::tenancy::create;
use crate::tenant_routing::{add_domain, server_with_acme};
use chrono::Duration;
use licd::domain::permissions::Role;
use licd::domain::violation::Stage;
use licd::service::{Actor, enterprise, staff, tokens};
use serde_json::{Value, json};

/// A super_admin of the tenant and an API token of theirs.
fn admin_token_in(s: &TestServer, schema_name: &str) -> String {
    let t = s.app.tenants.get(schema_name).unwrap();
    let now = s.clock.now_utc();
    let id = staff::create(
        &t,
        now,
        &Actor::Cli,
        staff::NewStaffInput {
            email: format!("boss@{schema_name}.example"),
            display_name: "Boss".into(),
            role: Role::SuperAdmin,
            password: Some("boss-password-123".into()),
        },
        12,
    )
    .unwrap()
    .user
    .id;
    tokens::create(&t, now, &Actor::Cli, id, "test", None)
        .unwrap()
        .secret
}

fn install(s: &TestServer, host: &str, token: &str, key: &str) -> reqwest::blocking::Response {
    client()
        .post(s.url("/api/v1/enterprise/licenses"))
        .header("host", host)
        .bearer_auth(token)
        .json(&json!({ "license_key": key }))
        .send()
        .unwrap()
}

#[test]
fn a_key_for_one_tenant_is_refused_by_another_on_its_own_host() {
    let v = crate::enterprise::vendor();
    let s = server_with_acme(&v, |_| {});
    assert_eq!(create(&s, "Beta", "t_beta").status(), 201);
    assert_eq!(add_domain(&s, "t_acme", "acme.example").status(), 201);
    assert_eq!(add_domain(&s, "t_beta", "beta.example").status(), 201);
    let (acme, beta) = (
        s.app.tenants.get("t_acme").unwrap(),
        s.app.tenants.get("t_beta").unwrap(),
    );
    let (acme_token, beta_token) = (admin_token_in(&s, "t_acme"), admin_token_in(&s, "t_beta"));
    let key = crate::enterprise::key_for(&v.key, &acme.install_id, 5, s.clock.now_utc(), 365);

    // B's Enterprise > Licenses refuses A's key, naming both Install IDs.
    let body = expect_problem(
        install(&s, "beta.example", &beta_token, &key),
        403,
        "wrong_install_id",
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&acme.install_id) && detail.contains(&beta.install_id),
        "{detail}"
    );
    // A's token means nothing on B's host.
    expect_problem(
        install(&s, "beta.example", &acme_token, &key),
        401,
        "unauthenticated",
    );
    // A installs it on its own host.
    let r = install(&s, "acme.example", &acme_token, &key);
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let o: Value = r.json().unwrap();
    assert_eq!(o["install_id"], acme.install_id.as_str());
    assert_eq!(
        enterprise::overview(&beta, s.clock.now_utc())
            .unwrap()
            .licenses
            .len(),
        0
    );
}

#[test]
fn an_additional_tenant_without_a_license_runs_the_timeline_from_its_creation() {
    let v = crate::enterprise::vendor();
    let s = server_with_acme(&v, |_| {});
    assert_eq!(add_domain(&s, "t_acme", "acme.example").status(), 201);
    let acme = s.app.tenants.get("t_acme").unwrap();
    let public = s.app.tenants.public().unwrap();
    let token = admin_token_in(&s, "t_acme");
    let stage_after = |days: i64| {
        s.clock.set(acme.created_at + Duration::days(days));
        let now = s.clock.now_utc();
        let got = enterprise::refresh(&acme, now, &Actor::System).unwrap();
        assert_eq!(got, acme.own_stage());
        got
    };
    assert_eq!(stage_after(0), Stage::None);
    let o = enterprise::overview(&acme, s.clock.now_utc()).unwrap();
    assert_eq!(
        o.assessment.violation_since,
        Some(acme.created_at),
        "{:?}",
        o.assessment
    );
    assert_eq!(stage_after(13), Stage::None);
    assert_eq!(stage_after(14), Stage::AdminWarning);
    assert_eq!(stage_after(27), Stage::AdminWarning);
    assert_eq!(stage_after(28), Stage::UsersWarning);
    assert_eq!(stage_after(41), Stage::UsersWarning);
    // The scheduled sweep gets there too.
    s.clock.set(acme.created_at + Duration::days(42));
    licd::jobs::run_due(&s.app);
    assert_eq!(acme.own_stage(), Stage::ReadOnly);
    // Read-only on its own host; public (licensed) is not.
    let r = client()
        .post(s.url("/api/v1/tokens"))
        .header("host", "acme.example")
        .bearer_auth(&token)
        .json(&json!({"name": "more"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "license_read_only");
    assert_eq!(public.own_stage(), Stage::None);

    // A license of its own ends it.
    let now = s.clock.now_utc();
    let key = crate::enterprise::key_for(&v.key, &acme.install_id, 5, now, 365);
    let r = install(&s, "acme.example", &token, &key);
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    assert_eq!(acme.own_stage(), Stage::None);
}

#[test]
fn the_default_tenant_may_still_run_unlicensed() {
    let s = TestServer::start();
    let public = s.app.tenants.public().unwrap();
    s.clock.advance(Duration::days(60));
    let stage = enterprise::refresh(&public, s.clock.now_utc(), &Actor::System).unwrap();
    assert_eq!(stage, Stage::None);
    let o = enterprise::overview(&public, s.clock.now_utc()).unwrap();
    assert_eq!(o.assessment.violation_since, None);
}
