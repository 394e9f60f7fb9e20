//! The customer portal in a real browser: open sign-up, the "check your email" page, the
//! link from the captured email opened as from a webmail (another site) arriving signed
//! in (the portal cookie is `SameSite=Lax`), its confirmation, and the account page.
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, wait_for, wait_for_url};
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
