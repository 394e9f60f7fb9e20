//! Safe actions and renewal in a real browser (issue 12, items 3 and 5): lock, suspend,
//! revoke and a role change each stop at a confirmation page that names the appliance
//! or person (Cancel does nothing, "Yes" does it); a renewal on the license page reaches
//! the appliance with its next lease.

use crate::browser::{Browser, runtime, sign_in, wait_for};
use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate, heartbeat, lease_of};
use fantoccini::Locator;
use licd::domain::permissions::Role;

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn lock_suspend_revoke_and_a_role_change_ask_first() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    api.ok(activate(&s, &license, "BOX-A"));
    let uid = s.create_staff("ops@example.com", Role::Onboarding, "ops-password-123");
    let page = s.url(&format!("/licensing/licenses/{id}"));
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&page).await.unwrap();
        wait_for(&b, "#directive-form").await;
        // The directive select starts on the harmless kind.
        let kind = b
            .client
            .find(Locator::Css("#directive-form select[name=kind]"))
            .await
            .unwrap();
        assert_eq!(
            kind.prop("value").await.unwrap().as_deref(),
            Some("message")
        );

        // Lock: the confirmation names the appliance; Cancel queues nothing.
        kind.select_by_value("lock").await.unwrap();
        b.fill("#directive-form input[name=message]", "call the vendor")
            .await;
        b.click("#directive-form button").await;
        wait_for(&b, "#confirm-yes").await;
        assert!(
            b.text("#confirm-title")
                .await
                .contains("Lock the appliance")
        );
        assert!(b.text("#confirm-what").await.contains("BOX-A"));
        assert_eq!(b.text("#confirm-yes").await, "Yes, lock it");
        b.screenshot("confirm-lock").await;
        b.click("#confirm-cancel").await;
        wait_for(&b, "#directive-form").await;
        assert!(
            b.client
                .find(Locator::Css("#license-directives"))
                .await
                .is_err(),
            "nothing was queued"
        );
        let kind = b
            .client
            .find(Locator::Css("#directive-form select[name=kind]"))
            .await
            .unwrap();
        kind.select_by_value("lock").await.unwrap();
        b.click("#directive-form button").await;
        wait_for(&b, "#confirm-yes").await;
        b.click("#confirm-yes").await;
        wait_for(&b, "#license-directives").await;
        assert!(b.text("#license-directives").await.contains("lock"));

        // Suspend, with its reason shown on the page afterwards.
        b.fill("#suspend-form input[name=reason]", "unpaid invoice 42")
            .await;
        b.click("#suspend-form button").await;
        wait_for(&b, "#confirm-yes").await;
        assert!(b.text("#confirm-what").await.contains("BOX-A"));
        b.click("#confirm-yes").await;
        wait_for(&b, "#license-state[data-state=suspended]").await;
        assert!(
            b.text("#suspend-reason")
                .await
                .contains("unpaid invoice 42")
        );
        b.click("#reinstate-form button").await;
        wait_for(&b, "#suspend-form").await;

        // Revoke.
        b.fill("#revoke-form input[name=reason]", "customer left")
            .await;
        b.click("#revoke-form button").await;
        wait_for(&b, "#confirm-yes").await;
        assert!(b.text("#confirm").await.contains("final"));
        b.click("#confirm-yes").await;
        wait_for(&b, "#license-state[data-state=revoked]").await;

        // A role change names the person and what they gain.
        b.client.goto(&s.url("/users")).await.unwrap();
        wait_for(&b, "#users").await;
        let row = "#users tr[data-email='ops@example.com']";
        b.client
            .find(Locator::Css(&format!("{row} select[name=role]")))
            .await
            .unwrap()
            .select_by_value("support")
            .await
            .unwrap();
        b.click(&format!("{row} form button")).await;
        wait_for(&b, "#confirm-yes").await;
        assert!(b.text("#confirm-title").await.contains("ops@example.com"));
        assert!(b.text("#confirm").await.contains("audit.read"));
        b.click("#confirm-yes").await;
        wait_for(&b, "#users").await;
        assert!(b.text(".notice").await.contains("updated"));
        b.close().await;
    });
    let user = api.ok(api.get(&format!("/api/v1/users/{uid}")));
    assert_eq!(user["role"], "support");
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["state"], "revoked");
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn a_renewal_in_the_browser_reaches_the_appliance_with_its_next_lease() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let act = api.ok(activate(&s, &license, "BOX-A"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let page = s.url(&format!("/licensing/licenses/{id}"));
    let shown_key = runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&page).await.unwrap();
        wait_for(&b, "#renew-form").await;
        // The test clock stands at 2026-06-01; the license runs to 2027-06-01.
        b.fill("#renew-form input[name=expires_on]", "2028-12-31")
            .await;
        b.click("#renew-form button").await;
        wait_for(&b, ".notice").await;
        assert!(b.text(".notice").await.contains("renewed"));
        assert!(b.text("#license-keys").await.contains("renew"));
        let key = b.text("#license-key").await.trim().to_owned();
        b.screenshot("license-renewed").await;
        b.close().await;
        key
    });
    assert_ne!(shown_key, license["license_key"].as_str().unwrap());
    let lease = lease_of(&api.ok(heartbeat(&s, &id, &secret, "BOX-A", 1)));
    let install = lease["directives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "install_key")
        .unwrap_or_else(|| panic!("no install_key in {lease}"))
        .clone();
    assert_eq!(install["license_key"], shown_key.as_str());
    let claims = crate::license_actions::verify_with_jwks(&s, &shown_key);
    assert_eq!(
        chrono::DateTime::from_timestamp(claims["exp"].as_i64().unwrap(), 0)
            .unwrap()
            .to_rfc3339(),
        "2028-12-31T23:59:59+00:00"
    );
}
