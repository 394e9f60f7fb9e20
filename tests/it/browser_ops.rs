//! Browser tests for the operations pages (issue 12 items 4, 6, 8): audit search by
//! prefix with readable action names, the installations filter without JavaScript
//! needs, and post/redirect/get (a reload after an action does not do it again).
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, wait_for, wait_for_url};
use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use fantoccini::Locator;
use licd::domain::permissions::Role;
use serde_json::Value;

async fn sign_in(b: &Browser, s: &TestServer) {
    b.client.goto(&s.url("/login")).await.unwrap();
    b.fill("#email", ADMIN_EMAIL).await;
    b.fill("#password", ADMIN_PASSWORD).await;
    b.click("#sign-in").await;
    wait_for(b, "#logout").await;
}

async fn all_texts(b: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in b.client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(el.text().await.unwrap());
    }
    out
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn audit_search_by_prefix_finds_license_actions_of_a_staff_member() {
    let s = TestServer::start();
    Api::new(&s).issue(INSTALL, 30);
    s.create_staff("ops@example.com", Role::Support, "a-long-password-1");
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&s.url("/audit")).await.unwrap();
        b.fill("#audit-search input[name=action]", "license").await;
        b.fill("#audit-search input[name=actor]", ADMIN_EMAIL).await;
        b.click("#audit-search button").await;
        let url = wait_for_url(&b, "the search's address", |u| {
            u.query().is_some_and(|q| q.contains("action=license"))
        })
        .await;
        wait_for(&b, "#export-csv").await;
        assert_eq!(url.path(), "/audit");
        let found = all_texts(&b, "#audit code.audit-action").await;
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a.starts_with("license.")), "{found:?}");
        assert!(found.iter().any(|a| a == "license.issue"), "{found:?}");
        let who = all_texts(&b, "#audit td.audit-actor").await;
        assert!(
            who.iter().all(|w| w == &format!("staff:{ADMIN_EMAIL}")),
            "{who:?}"
        );
        // Action names are never broken inside a word: each renders on one line.
        let lines: Value = b
            .client
            .execute(
                "return [...document.querySelectorAll('#audit code.audit-action')].map(c => \
                 [getComputedStyle(c).wordBreak, c.getClientRects().length]);",
                vec![],
            )
            .await
            .unwrap();
        for l in lines.as_array().unwrap() {
            assert_ne!(l[0], "break-all", "{lines}");
            assert_eq!(l[1], 1, "one line box per action name: {lines}");
        }
        // The target links to the license's page.
        b.click("#audit td.audit-target a").await;
        wait_for(&b, "#license-state").await;
        assert!(
            b.client
                .current_url()
                .await
                .unwrap()
                .path()
                .starts_with("/licensing/licenses/")
        );
        b.screenshot("audit-search").await;
        b.close().await;
    });
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn installations_filter_by_condition_with_a_plain_get_form() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let over = api.issue("inst-over", 30);
    let act = api.ok(crate::licensing::activate(&s, &over, "fp-1"));
    let id = over["id"].as_str().unwrap();
    let r = client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .bearer_auth(act["activation_secret"].as_str().unwrap())
        .json(&serde_json::json!({"fingerprint": "fp-1", "seq": 1, "internal_users": 70, "external_users": 0}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    api.issue("inst-fine", 30);
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&s.url("/installations")).await.unwrap();
        assert_eq!(all_texts(&b, "#installations tbody tr").await.len(), 2);
        b.client
            .find(Locator::Css("#installation-filters select[name=condition]"))
            .await
            .unwrap()
            .select_by_value("over_limit")
            .await
            .unwrap();
        b.click("#installation-filters button").await;
        wait_for(
            &b,
            "#installation-filters option[value=over_limit][selected]",
        )
        .await;
        let rows = all_texts(&b, "#installations tbody tr").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("inst-over"), "{rows:?}");
        assert!(
            rows[0].contains("70 of 50 internal users: 20 over"),
            "{rows:?}"
        );
        assert!(rows[0].contains("violation clock running"), "{rows:?}");
        b.screenshot("installations-filtered").await;
        b.close().await;
    });
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn a_reload_after_an_action_does_not_do_it_again() {
    let s = TestServer::start();
    let victim = s.create_staff("leaver@example.com", Role::Support, "a-long-password-1");
    let token = s.admin_token();
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&s.url("/users")).await.unwrap();
        b.click(&format!("form[action='/users/{victim}/disable'] button"))
            .await;
        b.client.accept_alert().await.unwrap();
        wait_for(&b, ".notice").await;
        // The answer to the POST was a redirect: the page shown is a GET address.
        assert_eq!(b.client.current_url().await.unwrap().path(), "/users");
        b.client.refresh().await.unwrap();
        wait_for(&b, "#users").await;
        assert!(b.client.find(Locator::Css(".notice")).await.is_ok());

        // The sweep's report is shown once after its redirect; a reload shows the list.
        b.client.goto(&s.url("/licensing")).await.unwrap();
        b.click("#run-sweep button").await;
        wait_for(&b, "#sweep-report").await;
        assert_eq!(b.client.current_url().await.unwrap().path(), "/licensing");
        b.client.refresh().await.unwrap();
        wait_for(&b, "#run-sweep").await;
        assert!(b.client.find(Locator::Css("#sweep-report")).await.is_err());
        b.close().await;
    });
    let updates = client()
        .get(s.url(&format!(
            "/api/v1/audit?action=user.disable&target=user:{victim}"
        )))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(
        updates["items"].as_array().unwrap().len(),
        1,
        "disabled once, whatever the reloads: {updates}"
    );
}
