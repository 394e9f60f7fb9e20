//! The customer portal in a real browser: open sign-up, the "check your email" page, the
//! link from the captured email opened as from a webmail (another site) arriving signed
//! in (the portal cookie is `SameSite=Lax`), its confirmation, and the account page.
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, wait_for, wait_for_url};
use crate::harness::ClockExt;
use crate::portal_auth::{link_in, mail_for, server};
use crate::smtp_sink::SmtpSink;
use licd::config::Signup;

/// Opens `url` as a link from another site would (the navigation starts on a page of
/// no origin of ours).
async fn open_from_elsewhere(b: &Browser, url: &str) {
    b.client.goto("about:blank").await.unwrap();
    b.client
        .execute(
            "window.location.href = arguments[0];",
            vec![serde_json::json!(url)],
        )
        .await
        .unwrap();
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn a_customer_signs_up_and_verifies_from_the_emailed_link() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::Open);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.client.goto(&s.url("/portal/login")).await.unwrap();
        wait_for(&b, "#portal-login-form").await;
        b.click("#signup-link").await;
        wait_for(&b, "#signup-form").await;
        b.fill("#email", "grace@customer.example").await;
        b.fill("#display_name", "Grace").await;
        b.fill("#password", "grace-portal-password").await;
        b.fill("#confirm_password", "grace-portal-password").await;
        b.click("#create-account").await;
        wait_for(&b, "#check-email").await;
        assert_eq!(b.text("#portal-product").await, "Acme Portal");

        let got = mail_for(&s, &sink, "grace@customer.example");
        let (_, link) = link_in(&got[0], "/portal/verify?token=");
        open_from_elsewhere(&b, &s.url(&link)).await;
        wait_for(&b, "#verify-form").await;
        // Signed in on arrival: the frame names the customer.
        assert_eq!(b.text("#portal-email").await, "grace@customer.example");
        b.click("#verify-confirm").await;
        wait_for(&b, "#my-organizations").await;
        assert!(b.text("#portal-notice").await.contains("verified"));

        open_from_elsewhere(&b, &s.url("/portal/account")).await;
        wait_for_url(&b, "the account page", |u| u.path() == "/portal/account").await;
        wait_for(&b, "#name-form").await;
        b.fill("#display_name", "Grace H.").await;
        b.click("#save-name").await;
        wait_for(&b, "#portal-notice").await;
        b.click("#portal-logout").await;
        wait_for(&b, "#portal-login-form").await;
        b.close().await;
    });
}

/// Signs in on the portal's sign-in page.
async fn portal_sign_in(b: &Browser, s: &crate::harness::TestServer, email: &str) {
    b.client.goto(&s.url("/portal/login")).await.unwrap();
    wait_for(b, "#portal-login-form").await;
    b.fill("#email", email).await;
    b.fill("#password", crate::portal_auth::PASSWORD).await;
    b.click("#sign-in").await;
    wait_for(b, "#my-organizations").await;
}

/// Seed 000's story: an owner creates an organization and invites a member by email;
/// the member opens the link from the captured email, signs up, sees the organization's
/// license and copies its key; the owner removes the member.
#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn an_owner_invites_a_member_who_signs_up_from_the_email_and_copies_the_key() {
    use fantoccini::Locator;
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let owner = "olga@acme.example";
    let member = "nina@acme.example";
    crate::portal_auth::customer(&s, owner, true);
    runtime().block_on(async {
        let b = Browser::start().await;
        portal_sign_in(&b, &s, owner).await;
        // No organization yet: the portal asks to create one.
        wait_for(&b, "#no-organizations").await;
        b.click("#create-organization").await;
        wait_for(&b, "#create-org").await;
        b.fill("#org-name", "Acme Ltd").await;
        b.fill("#org-email", "ops@acme.example").await;
        b.click("#create-org-submit").await;
        wait_for(&b, "#membership").await;
        assert!(b.text("#portal-notice").await.contains("You are its owner"));
        let org_url = b.client.current_url().await.unwrap();
        let org_id: i64 = org_url
            .path()
            .trim_start_matches("/portal/organizations/")
            .parse()
            .unwrap();

        // Staff issue a license to the organization (the blocking HTTP client on a
        // thread of its own, outside the browser's runtime).
        let now = s.clock.now_utc();
        let license: serde_json::Value = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    s.client()
                        .post(s.url("/api/v1/licenses"))
                        .bearer_auth(s.admin_token())
                        .json(&serde_json::json!({
                            "name": "Plant 7", "install_id": "I-plant-7", "organization_id": org_id,
                            "internal_users": 25, "external_users": 5,
                            "expires_at": (now + chrono::Duration::days(365)).to_rfc3339(),
                        }))
                        .send()
                        .unwrap()
                        .json()
                        .unwrap()
                })
                .join()
                .unwrap()
        });
        b.client.refresh().await.unwrap();
        wait_for(&b, "#licenses").await;

        b.fill("#invite-email", member).await;
        b.click("#invite-submit").await;
        wait_for(&b, "#invitations").await;
        assert_eq!(
            b.text("#portal-notice").await,
            "The invitation has been sent."
        );
        assert!(b.text("#invitations").await.contains(member));
        b.screenshot("portal-organization-owner").await;
        b.click("#portal-logout").await;
        wait_for(&b, "#portal-login-form").await;

        // The member opens the link from the captured email and signs up.
        let got = mail_for(&s, &sink, member);
        let (_, link) = link_in(&got[0], "/portal/invitation?token=");
        open_from_elsewhere(&b, &s.url(&link)).await;
        wait_for(&b, "#invitation-signup").await;
        b.screenshot("portal-invitation").await;
        b.fill("#invite-name", "Nina").await;
        b.fill("#invite-password", crate::portal_auth::PASSWORD)
            .await;
        b.click("#invite-signup-submit").await;
        wait_for(&b, "#licenses").await;
        assert_eq!(b.text("#portal-account-link").await.trim(), member);
        let row = b.text("#licenses").await;
        assert!(
            row.contains("Plant 7") && row.contains("I-plant-7"),
            "{row}"
        );
        let expires = &license["expires_at"].as_str().unwrap()[..10];
        assert!(row.contains(expires), "the expiry is listed: {row}");
        b.click("#licenses a.details").await;
        wait_for(&b, "#license-key").await;
        let key = license["license_key"].as_str().unwrap();
        assert_eq!(b.text("#license-key").await.trim(), key);
        b.click("#copy-key").await;
        let copied = b
            .client
            .find(Locator::Css("#copy-key"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(copied, "Copied", "the button says the key was copied");
        b.screenshot("portal-license-key").await;
        b.click("#portal-logout").await;
        wait_for(&b, "#portal-login-form").await;

        // The owner removes the member.
        portal_sign_in(&b, &s, owner).await;
        b.click("#organizations a.org-link").await;
        wait_for(&b, "#members").await;
        assert!(b.text("#members").await.contains(member));
        b.click("#members form[action$='/remove'] button").await;
        b.client.accept_alert().await.unwrap();
        wait_for(&b, "#portal-notice").await;
        assert!(!b.text("#members").await.contains(member));
        b.close().await;
    });
}
