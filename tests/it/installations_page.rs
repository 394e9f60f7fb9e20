//! The installations pages (issue 12 item 4) and the heartbeats and sweep texts
//! (item 8) against the real server: what the bars, words and badges say for an
//! installation over its limit, one whose only license is revoked and a compliant one;
//! the filter by condition and stage (console and API); names beside ids.

use crate::harness::*;
use crate::licensing::{Api, activate};
use chrono::Duration;
use serde_json::{Value, json};

const OVER: &str = "inst-over";
const REVOKED: &str = "inst-revoked";
const FINE: &str = "inst-fine";

fn issue(api: &Api<'_>, install: &str, org: &str, name: &str, internal: u32) -> Value {
    let body = json!({
        "name": name, "install_id": install, "organization": org,
        "internal_users": internal, "external_users": 0,
        "expires_at": (api.s.clock.now_utc() + Duration::days(365)).to_rfc3339(),
    });
    api.ok(api.post("/api/v1/licenses", body))
}

/// Activates `license` and reports `internal` users in one heartbeat.
fn report(s: &TestServer, api: &Api<'_>, license: &Value, internal: u32) {
    let act = api.ok(activate(s, license, "fp-1"));
    let id = license["id"].as_str().unwrap();
    let r = client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .bearer_auth(act["activation_secret"].as_str().unwrap())
        .json(&json!({"fingerprint": "fp-1", "seq": 1, "internal_users": internal, "external_users": 0}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
}

/// Three installations: 70 of 25 users, 3 users on a revoked license, 10 of 25.
fn fleet(s: &TestServer) -> Api<'_> {
    let api = Api::new(s);
    let over = issue(&api, OVER, "Acme Corp", "Acme seats", 25);
    report(s, &api, &over, 70);
    let revoked = issue(&api, REVOKED, "Globex", "Globex plant", 5);
    report(s, &api, &revoked, 3);
    let id = revoked["id"].as_str().unwrap();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "contract ended"}),
    ));
    let fine = issue(&api, FINE, "Initech", "Initech floor", 25);
    report(s, &api, &fine, 10);
    api
}

/// The table row of one Install ID on the page.
fn row<'a>(page: &'a str, install: &str) -> &'a str {
    let start = page
        .find(&format!("data-install-id=\"{install}\""))
        .unwrap_or_else(|| panic!("no row for {install}: {page}"));
    let end = page[start..].find("</tr>").unwrap() + start;
    &page[start..end]
}

#[test]
fn bars_words_and_badges_say_what_each_installation_is_in() {
    let s = TestServer::start();
    fleet(&s);
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url("/installations"))
        .send()
        .unwrap()
        .text()
        .unwrap();

    let over = row(&page, OVER);
    assert!(over.contains("70 of 25 internal users: 45 over"), "{over}");
    assert!(over.contains("class=\"bar over\""), "{over}");
    assert!(
        over.contains("Acme Corp") && over.contains("Acme seats"),
        "names: {over}"
    );
    // Never `none` beside "over limit": the clock runs, and the page says what comes.
    assert!(over.contains("violation clock running"), "{over}");
    assert!(!over.contains(">none<"), "{over}");
    let next = (s.clock.now_utc() + Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        over.contains(&format!("Next: admin warning from {next}")),
        "{over}"
    );

    let revoked = row(&page, REVOKED);
    assert!(
        !revoked.contains("class=\"bar ok\""),
        "a revoked license is not green: {revoked}"
    );
    assert!(revoked.contains("class=\"bar void\""), "{revoked}");
    assert!(
        revoked.contains("3 internal users: no valid license"),
        "{revoked}"
    );

    let fine = row(&page, FINE);
    assert!(fine.contains("10 of 25 internal users"), "{fine}");
    assert!(fine.contains("class=\"bar ok\""), "{fine}");
    assert!(fine.contains("no warning"), "{fine}");

    // The installation's own page names what it is.
    let detail = c
        .get(s.url(&format!("/installations/{OVER}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        detail.contains(&format!(
            "<h1>Installation of Acme Corp <code>{OVER}</code>"
        )),
        "{detail}"
    );
    assert!(detail.contains("In violation since"), "{detail}");
}

#[test]
fn installations_filter_by_condition_and_stage() {
    let s = TestServer::start();
    let api = fleet(&s);
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = |q: &str| {
        let r = c.get(s.url(&format!("/installations{q}"))).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (status, over) = page("?condition=over_limit&stage=");
    assert_eq!(status, 200);
    assert!(over.contains(&format!("data-install-id=\"{OVER}\"")));
    assert!(!over.contains(&format!("data-install-id=\"{FINE}\"")));
    assert!(
        over.contains("<option value=\"over_limit\" selected>"),
        "the filter shows its choice"
    );
    let (_, none_read_only) = page("?stage=read_only");
    assert!(none_read_only.contains("No installation matches this filter."));
    let (_, void) = page("?condition=no_valid_license&stage=none");
    assert!(void.contains(&format!("data-install-id=\"{REVOKED}\"")));
    assert!(!void.contains(&format!("data-install-id=\"{OVER}\"")));
    let (status, bad) = page("?condition=on_fire");
    assert_eq!(status, 422);
    assert!(bad.contains("condition: unknown condition"), "{bad}");

    // Weeks later the clock has moved the over-limit installation on.
    s.clock.advance(Duration::days(15));
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let admin = c
        .get(s.url("/installations?stage=admin_warning"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        admin.contains(&format!("data-install-id=\"{OVER}\"")),
        "{admin}"
    );
    assert!(
        !admin.contains(&format!("data-install-id=\"{FINE}\"")),
        "{admin}"
    );

    // The API takes the same filter.
    let listed = api.ok(api.get("/api/v1/installations?condition=compliant"));
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["install_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [FINE]);
    assert_eq!(listed["items"][0]["organizations"], json!(["Initech"]));
    assert!(listed["items"][0]["next_stage"]["stage"] == "expiry_soon");
    expect_problem(
        api.get("/api/v1/installations?stage=nope"),
        400,
        "bad_request",
    );
}

#[test]
fn heartbeats_name_licenses_and_the_sweep_counts_every_license() {
    let s = TestServer::start();
    let api = fleet(&s);
    issue(&api, "inst-quiet", "Hooli", "Hooli spare", 5);
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let beats = c
        .get(s.url("/licensing/heartbeats"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(beats.contains("Initech floor"), "{beats}");
    assert!(beats.contains(&format!("<code>{FINE}</code>")), "{beats}");
    assert!(!beats.contains('…'), "no truncated ids: {beats}");

    let r = c
        .post(s.url("/licensing/sweep"))
        .form(&[("csrf", csrf.as_str()), ("dry_run", "on")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(
        page.contains("the sweep checked the 4 licenses there are"),
        "{page}"
    );

    let settings = c
        .get(s.url("/licensing/settings"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!settings.to_lowercase().contains("seed"), "{settings}");
}
