//! Billing in a real browser. Staff: set the price list in the console's form, an
//! invoice made and finalised through the API, a payment recorded in the invoice's
//! form, the invoice paid, and the revenue summary. An owner in the portal: the
//! Billing page from the organization page, the account form refused for a bad country
//! and then saved, the invoice page from the list, and its print view. Screenshots go
//! to docs/screenshots/.
#![allow(clippy::disallowed_methods)] // Instant::now: these tests await a real browser.

use crate::browser::{Browser, runtime, sign_in, wait_for};
use crate::browser_frame::axe_serious;
use crate::harness::{ClockExt, TestServer};
use crate::portal_auth::{PASSWORD, customer, server};
use crate::smtp_sink::SmtpSink;
use licd::config::Signup;
use licd::service::organizations::{self, CustomerActor};
use serde_json::{Value, json};

const OWNER: &str = "olga@acme.example";

/// An organization owned by a verified customer, made through the service.
fn org(s: &TestServer) -> i64 {
    let id = customer(s, OWNER, true);
    let t = s.app.tenants.public().unwrap();
    let by = CustomerActor {
        id,
        email: OWNER.into(),
    };
    organizations::create(
        &t,
        s.clock.now_utc(),
        &by,
        "Acme GmbH",
        "billing@acme.example",
    )
    .unwrap()
}

/// A blocking API call as the admin, on a thread of its own (outside the browser's
/// runtime).
fn api(s: &TestServer, method: reqwest::Method, path: &str, body: Value) -> Value {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let r = s
                    .client()
                    .request(method, s.url(path))
                    .bearer_auth(s.admin_token())
                    .json(&body)
                    .send()
                    .unwrap();
                let status = r.status();
                let v: Value = r.json().unwrap();
                assert!(status.is_success(), "{path}: {status} {v}");
                v
            })
            .join()
            .unwrap()
    })
}

/// A finalised invoice for `org`: 10 internal users at 100.00 EUR and 2 external
/// users for the rest of the year (prorated) at 25.00 EUR, 19 % tax: 1249.50 EUR.
fn invoice(s: &TestServer, org: i64) -> (i64, String) {
    let d = api(
        s,
        reqwest::Method::POST,
        "/api/v1/billing/invoices",
        json!({
            "organization_id": org,
            "lines": [
                {"kind": "internal_users", "description": "Internal users, yearly",
                 "quantity": 10, "unit_minor": 10000, "tax_rate_bp": 1900,
                 "period_start": "2026-06-01T00:00:00Z", "period_end": "2027-06-01T00:00:00Z"},
                {"kind": "external_users", "description": "External users, rest of the period",
                 "quantity": 2, "unit_minor": 2500, "tax_rate_bp": 1900, "proration": true,
                 "period_start": "2026-06-01T00:00:00Z", "period_end": "2027-06-01T00:00:00Z"},
            ],
        }),
    );
    let id = d["id"].as_i64().unwrap();
    let f = api(
        s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{id}/finalize"),
        json!({}),
    );
    (id, f["number"].as_str().unwrap().to_owned())
}

/// Waits until the element `css` says `want` (a submitted form's next page).
async fn wait_text(b: &Browser, css: &str, want: &str) {
    wait_text_where(b, css, want, |now, want| now == want).await;
}

/// Waits until the page's notice mentions `part`. Waiting for a notice alone passed on
/// the one the form before left, which says something else, before the next page came.
async fn wait_notice(b: &Browser, part: &str) {
    wait_text_where(b, "#portal-notice", part, |now, part| now.contains(part)).await;
}

/// Waits until the element `css` has a text that `matches` `want` (10 s at most).
async fn wait_text_where(b: &Browser, css: &str, want: &str, matches: fn(&str, &str) -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = match b.client.find(fantoccini::Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if matches(&now, want) {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "waiting for {css} to say {want}: it says {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A browser at 1280 px, the owner signed in on the organization's page.
async fn owner_on_org_page(s: &TestServer, o: i64) -> Browser {
    let b = Browser::start().await;
    b.set_viewport(1280, 900).await;
    b.client.goto(&s.url("/portal/login")).await.unwrap();
    wait_for(&b, "#portal-login-form").await;
    b.fill("#email", OWNER).await;
    b.fill("#password", PASSWORD).await;
    b.click("#sign-in").await;
    wait_for(&b, "#my-organizations").await;
    b.client
        .goto(&s.url(&format!("/portal/organizations/{o}")))
        .await
        .unwrap();
    b
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn staff_set_prices_record_a_payment_and_see_the_revenue() {
    let s = TestServer::start();
    let o = org(&s);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.set_viewport(1280, 900).await;
        sign_in(&b, &s).await;
        b.client.goto(&s.url("/billing/price-list")).await.unwrap();
        wait_for(&b, "#price-list-unset").await;
        for (name, value) in [
            ("currency", "EUR"),
            ("internal_monthly_minor", "1000"),
            ("internal_yearly_minor", "10000"),
            ("external_monthly_minor", "500"),
            ("external_yearly_minor", "2500"),
            ("min_internal_users", "0"),
            ("min_external_users", "0"),
            ("payment_terms_days", "14"),
        ] {
            b.fill(&format!("#price-list [name={name}]"), value).await;
        }
        b.fill(
            "#price-list [name=tax_rule]",
            r#"{"default_rate_bp": 1900}"#,
        )
        .await;
        b.fill(
            "#price-list [name=bank_details]",
            "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78",
        )
        .await;
        b.click("#price-list button[type=submit]").await;
        wait_for(&b, "#price-list-updated").await;

        let (id, number) = invoice(&s, o);
        b.client
            .goto(&s.url(&format!("/billing/invoices/{id}")))
            .await
            .unwrap();
        wait_for(&b, "#record-payment").await;
        assert!(b.text("#invoice-title").await.contains(&number));
        assert_eq!(b.text("#invoice-due").await, "1249.50 EUR");
        // Part first, then the rest.
        b.fill("#record-payment [name=amount]", "1000").await;
        b.fill("#record-payment [name=reference]", "TRX-1").await;
        b.click("#record-payment button[type=submit]").await;
        wait_for(&b, "#invoice-payments").await;
        assert_eq!(b.text("#invoice-due").await, "249.50 EUR");
        b.fill("#record-payment [name=amount]", "249.50").await;
        b.fill("#record-payment [name=reference]", "TRX-2").await;
        b.click("#record-payment button[type=submit]").await;
        wait_text(&b, "#invoice-due", "0.00 EUR").await;
        assert!(b.text("#invoice-title").await.contains("paid"));
        b.keep("billing-invoice-paid-1280").await;

        // The Billing group opens on the revenue summary.
        b.client.goto(&s.url("/billing")).await.unwrap();
        wait_for(&b, "#chart-revenue").await;
        assert_eq!(b.text("#paid-30").await, "1249.50 EUR");
        assert_eq!(b.text("#open-total").await, "0.00 EUR");
        assert_eq!(b.text("#mrr").await, "0.00 EUR");
        b.keep("billing-revenue-1280").await;
        let found = axe_serious(&b).await;
        assert!(found.is_empty(), "axe-core on the revenue page: {found:?}");
        b.set_viewport(390, 844).await;
        b.client.refresh().await.unwrap();
        wait_for(&b, "#chart-revenue").await;
        b.keep("billing-revenue-390").await;
        b.close().await;
    });
}

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn an_owner_keeps_the_billing_details_and_opens_an_invoice() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let o = org(&s);
    api(
        &s,
        reqwest::Method::PUT,
        "/api/v1/billing/price-list",
        json!({
            "currency": "EUR",
            "internal_monthly_minor": 1000, "internal_yearly_minor": 10000,
            "external_monthly_minor": 500, "external_yearly_minor": 2500,
            "tax_rule": {"default_rate_bp": 1900}, "payment_terms_days": 14,
            "bank_details": "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78\nBIC ACMEDEFFXXX",
            "renewal_days_before": 30, "dunning_grace_days": 14,
        }),
    );
    runtime().block_on(async {
        let b = owner_on_org_page(&s, o).await;
        b.click("#billing-link").await;
        wait_for(&b, "#account-form").await;
        assert!(b.text("#no-invoices").await.contains("No invoices"));

        b.fill("#legal_name", "Acme Industrial GmbH").await;
        b.fill("#address", "Hauptstr. 1\n10115 Berlin").await;
        b.fill("#country", "D1").await;
        b.fill("#tax_id", "DE123456789").await;
        b.fill("#tax_id_type", "VAT").await;
        b.click("#save-account").await;
        wait_for(&b, "#account-error").await;
        assert!(b.text("#account-error").await.contains("country"));
        // What was typed is still there.
        let typed = b
            .client
            .find(fantoccini::Locator::Css("#legal_name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(typed.as_deref(), Some("Acme Industrial GmbH"));
        b.fill("#country", "DE").await;
        b.click("#save-account").await;
        wait_notice(&b, "billing details").await;
        b.fill("#po_reference", "PO-2026-17").await;
        b.fill("#billing_contact", "ap@acme.example").await;
        b.click("#save-payment-method").await;
        wait_notice(&b, "payment method").await;

        let (id, number) = invoice(&s, o);
        b.client.refresh().await.unwrap();
        wait_for(&b, &format!("#invoice-{id}")).await;
        b.keep("portal-billing-1280").await;
        let found = axe_serious(&b).await;
        assert!(found.is_empty(), "axe-core on the billing page: {found:?}");
        b.client
            .find(fantoccini::Locator::LinkText(&number))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&b, "#invoice-lines").await;
        assert!(b.text("#invoice-title").await.contains(&number));
        assert_eq!(b.text("#invoice-total").await, "1249.50 EUR");
        assert!(b.text("#bank-details").await.contains("IBAN DE00"));
        assert!(b.text("#invoice-lines").await.contains("prorated"));
        b.keep("portal-invoice-1280").await;
        let found = axe_serious(&b).await;
        assert!(found.is_empty(), "axe-core on the invoice page: {found:?}");
        b.set_viewport(390, 844).await;
        b.client.refresh().await.unwrap();
        wait_for(&b, "#invoice-lines").await;
        b.keep("portal-invoice-390").await;
        b.set_viewport(1280, 900).await;
        b.click("#print-link").await;
        wait_for(&b, "body.invoice-print").await;
        let page = b.client.source().await.unwrap();
        assert!(page.contains("Acme Industrial GmbH") && page.contains("VAT DE123456789"));
        b.keep("portal-invoice-print").await;
        b.close().await;
    });
}

/// The seed's purchase in Chromium: *Purchase license* with the Install ID and the user
/// counts, *Continue* to the checkout, *Pay and subscribe* to the seed's message; staff
/// record the payment; the license and its key are on the organization page; the owner
/// cancels on the Billing page (confirming the dialog) and undoes it.
#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn an_owner_purchases_sees_the_key_and_cancels_on_the_billing_page() {
    let s = TestServer::start();
    let o = org(&s);
    api(
        &s,
        reqwest::Method::PUT,
        "/api/v1/billing/price-list",
        json!({
            "currency": "EUR",
            "internal_monthly_minor": 0, "internal_yearly_minor": 10000,
            "external_monthly_minor": 0, "external_yearly_minor": 5000,
            "min_internal_users": 5, "tax_rule": {"default_rate_bp": 1900},
            "payment_terms_days": 14,
            "bank_details": "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78",
            "renewal_days_before": 30, "dunning_grace_days": 14,
        }),
    );
    runtime().block_on(async {
        let b = owner_on_org_page(&s, o).await;
        b.click("#purchase-license").await;
        wait_for(&b, "#purchase-form").await;
        // Yearly only: the monthly prices are 0, so it is not offered.
        assert!(
            b.client
                .find(fantoccini::Locator::Css("#period-monthly"))
                .await
                .is_err()
        );
        b.fill("#install-id", "plant-7-install").await;
        b.fill("#internal-users", "3").await;
        b.click("#purchase-continue").await;
        wait_for(&b, "#purchase-error").await;
        assert!(b.text("#purchase-error").await.contains("minimum is 5"));
        b.fill("#internal-users", "10").await;
        b.fill("#external-users", "2").await;
        b.keep("portal-purchase-1280").await;
        b.click("#purchase-continue").await;
        wait_for(&b, "#pay-and-subscribe").await;
        assert_eq!(b.text("#checkout-total").await, "1309.00 EUR");
        b.keep("portal-checkout-1280").await;
        let serious = axe_serious(&b).await;
        assert!(serious.is_empty(), "the checkout: {serious:?}");
        b.click("#pay-and-subscribe").await;
        wait_for(&b, "#portal-notice").await;
        assert!(b.text("#portal-notice").await.contains(
            "Successful purchase. Your license will appear here once we've validated your payment."
        ));
    });
    // Staff record the bank transfer.
    let invoices = api(
        &s,
        reqwest::Method::GET,
        &format!("/api/v1/billing/invoices?organization_id={o}"),
        Value::Null,
    );
    let inv = &invoices["items"][0];
    api(
        &s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{}/payments", inv["id"]),
        json!({"amount_minor": inv["total_minor"], "received_on": "2026-06-02", "reference": "bank 1"}),
    );
    runtime().block_on(async {
        let b = owner_on_org_page(&s, o).await;
        wait_for(&b, "#licenses").await;
        assert!(b.text("#licenses").await.contains("plant-7-install"));
        b.click("#licenses a.details").await;
        wait_for(&b, "#license-key").await;
        assert_eq!(b.text("#license-key").await.split('.').count(), 3);

        b.client
            .goto(&s.url(&format!("/portal/organizations/{o}")))
            .await
            .unwrap();
        b.click("#billing-link").await;
        wait_for(&b, "#subscriptions-table").await;
        b.click("#subscriptions-table button.danger").await;
        b.client.accept_alert().await.unwrap();
        wait_for(&b, "#portal-notice").await;
        assert!(
            b.text("#portal-notice")
                .await
                .contains("stays valid until the end")
        );
        assert!(b.text("#subscriptions-table").await.contains("ends "));
        b.keep("portal-billing-canceled-1280").await;
        b.click("#subscriptions-table button.small:not(.danger)")
            .await;
        wait_notice(&b, "renews as before").await;
    });
}
