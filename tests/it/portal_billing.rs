//! The portal's Billing page and invoice page, and the staff revenue summary, against a
//! real server and a real SMTP sink: members read invoices and payments, owners keep
//! the billing details (CSRF, validation, audit, carried into the next invoice's
//! snapshot), outsiders, other organizations' invoices and drafts are 404, the invoice
//! email's link opens the invoice for a member; the revenue summary's figures.

use crate::harness::*;
use crate::portal_auth::{
    Browser, PASSWORD, audited, customer, link_in, location, mail_for, server,
};
use crate::smtp_sink::SmtpSink;
use chrono::Duration;
use licd::config::Signup;
use licd::domain::organization::OrgRole;
use licd::service::invitations;
use licd::service::organizations::{self, CustomerActor};
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const OWNER: &str = "olga@acme.example";
const MEMBER: &str = "nina@acme.example";
const OUTSIDER: &str = "bob@globex.example";
const ORG_MAIL: &str = "billing@acme.example";

fn api(s: &TestServer, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
    s.client()
        .request(method, s.url(path))
        .bearer_auth(s.admin_token())
}

fn ok(r: Response) -> Value {
    let status = r.status();
    let body: Value = r.json().unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn set_prices(s: &TestServer) {
    ok(api(s, Method::PUT, "/api/v1/billing/price-list")
        .json(&json!({
            "currency": "EUR",
            "internal_monthly_minor": 1000, "internal_yearly_minor": 10000,
            "external_monthly_minor": 500, "external_yearly_minor": 5000,
            "tax_rule": {"default_rate_bp": 1900},
            "payment_terms_days": 14,
            "bank_details": "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78",
            "renewal_days_before": 30, "dunning_grace_days": 14,
        }))
        .send()
        .unwrap());
}

/// A draft of 10 internal users at 100.00 EUR and a prorated line of 2 external users
/// at 25.00 EUR, 19 % tax: 1050.00 + 199.50 = 1249.50 EUR.
fn draft(s: &TestServer, org: i64) -> i64 {
    let d = ok(api(s, Method::POST, "/api/v1/billing/invoices")
        .json(&json!({
            "organization_id": org,
            "lines": [
                {"kind": "internal_users", "description": "Internal users, yearly",
                 "quantity": 10, "unit_minor": 10000, "tax_rate_bp": 1900},
                {"kind": "external_users", "description": "External users, rest of the year",
                 "quantity": 2, "unit_minor": 2500, "tax_rate_bp": 1900, "proration": true},
            ],
        }))
        .send()
        .unwrap());
    d["id"].as_i64().unwrap()
}

/// Finalises the invoice; returns its number.
fn finalize(s: &TestServer, id: i64) -> String {
    let d = ok(api(
        s,
        Method::POST,
        &format!("/api/v1/billing/invoices/{id}/finalize"),
    )
    .send()
    .unwrap());
    d["number"].as_str().unwrap().to_owned()
}

fn pay(s: &TestServer, id: i64, amount: i64, on: &str) {
    ok(api(
        s,
        Method::POST,
        &format!("/api/v1/billing/invoices/{id}/payments"),
    )
    .json(&json!({"amount_minor": amount, "received_on": on, "reference": "TRX-4711"}))
    .send()
    .unwrap());
}

/// An organization made through the service; its owner a verified customer.
fn org(s: &TestServer, owner: &str, name: &str) -> (i64, CustomerActor) {
    let id = customer(s, owner, true);
    let t = s.app.tenants.public().unwrap();
    let by = CustomerActor {
        id,
        email: owner.into(),
    };
    let org = organizations::create(&t, s.clock.now_utc(), &by, name, ORG_MAIL).unwrap();
    (org, by)
}

/// `email` joins the organization as a member through an emailed invitation.
fn join(s: &TestServer, sink: &SmtpSink, org: i64, owner: &CustomerActor, email: &str) {
    let t = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    invitations::invite(&s.app, &t, now, owner, org, email, OrgRole::Member).unwrap();
    let mail = mail_for(s, sink, email);
    let (_, path) = link_in(mail.last().unwrap(), "/portal/invitation");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let id = customer(s, email, true);
    let me = CustomerActor {
        id,
        email: email.into(),
    };
    invitations::accept(&t, s.clock.now_utc(), &me, &token).unwrap();
}

fn signed_in<'a>(s: &'a TestServer, email: &str) -> Browser<'a> {
    let b = Browser::new(s);
    let r = b.sign_in(email, PASSWORD);
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    b
}

fn billing(org: i64) -> String {
    format!("/portal/organizations/{org}/billing")
}

fn invoice_page(org: i64, id: i64) -> String {
    format!("/portal/organizations/{org}/invoices/{id}")
}

fn status(b: &Browser<'_>, path: &str) -> u16 {
    b.get(path).status().as_u16()
}

#[test]
fn members_read_invoices_owners_keep_the_details_and_nobody_else_sees_anything() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s);
    let (a, olga) = org(&s, OWNER, "Acme GmbH");
    join(&s, &sink, a, &olga, MEMBER);
    let (b_org, _) = org(&s, OUTSIDER, "Globex Corp");
    let paid_id = draft(&s, a);
    let number = finalize(&s, paid_id);
    pay(&s, paid_id, 50000, "2026-06-02");
    let draft_id = draft(&s, a);
    let other_id = draft(&s, b_org);
    finalize(&s, other_id);

    // The organization page links to its billing.
    let owner = signed_in(&s, OWNER);
    assert!(
        owner
            .page(&format!("/portal/organizations/{a}"))
            .contains(&billing(a))
    );
    let page = owner.page(&billing(a));
    for must in [
        "id=\"account-form\"",
        "id=\"payment-method-form\"",
        "never asks for or stores card numbers",
        "<section class=\"card\" id=\"subscriptions\">",
        number.as_str(),
        "1249.50 EUR",
        "749.50 EUR",
        "TRX-4711",
        "500.00 EUR",
    ] {
        assert!(
            page.contains(must),
            "the owner's billing page shows {must}: {page}"
        );
    }
    assert!(
        !page.contains(&invoice_page(a, draft_id)),
        "drafts are never shown"
    );

    let member = signed_in(&s, MEMBER);
    let page = member.page(&billing(a));
    assert!(page.contains(&number) && page.contains("TRX-4711"));
    assert!(page.contains("id=\"subscriptions\""));
    assert!(
        !page.contains("account-form") && !page.contains("payment-method-form"),
        "a member sees no forms"
    );
    let inv = member.page(&invoice_page(a, paid_id));
    for must in [
        number.as_str(),
        "Internal users, yearly",
        "internal users",
        "prorated",
        "1000.00 EUR",
        "50.00 EUR",
        "199.50 EUR",
        "1249.50 EUR",
        "749.50 EUR",
        "19.00 %",
        "IBAN DE00 1234 5678 9012 3456 78",
        "Payment terms: 14 days",
        "TRX-4711",
        "/print",
    ] {
        assert!(inv.contains(must), "the invoice page shows {must}: {inv}");
    }
    let print = member.page(&format!("{}/print", invoice_page(a, paid_id)));
    assert!(print.contains("print.css") && print.contains(&number) && !print.contains("<nav"));

    // A draft, another organization's invoice (under either path), and anyone outside.
    assert_eq!(status(&member, &invoice_page(a, draft_id)), 404);
    assert_eq!(status(&member, &invoice_page(a, other_id)), 404);
    assert_eq!(status(&member, &invoice_page(b_org, other_id)), 404);
    assert_eq!(status(&member, &invoice_page(a, 999_999)), 404);
    assert_eq!(status(&member, &billing(b_org)), 404);
    let outsider = signed_in(&s, OUTSIDER);
    assert_eq!(status(&outsider, &billing(a)), 404);
    assert_eq!(status(&outsider, &invoice_page(a, paid_id)), 404);
    assert_eq!(
        status(&outsider, &format!("{}/print", invoice_page(a, paid_id))),
        404
    );
    assert_eq!(status(&owner, &invoice_page(a, other_id)), 404);

    // A member cannot change the details (403 with the message); an outsider gets 404.
    let r = member.post(
        &billing(a),
        &format!("{}/account", billing(a)),
        &[("legal_name", "Nina Ltd"), ("country", "DE")],
    );
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("only an owner"));
    let r = member.post(
        &billing(a),
        &format!("{}/payment-method", billing(a)),
        &[("payment_method", "purchase_order")],
    );
    assert_eq!(r.status(), 403);
    let r = outsider.post(
        "/portal/",
        &format!("{}/account", billing(a)),
        &[("legal_name", "Bob"), ("country", "US")],
    );
    assert_eq!(r.status(), 404);
    assert!(
        !audited(&s, &format!("organization:{a}"))
            .iter()
            .any(|(action, _)| action.starts_with("billing_account")),
        "nothing was saved"
    );
}

#[test]
fn the_owner_saves_billing_details_that_the_next_invoice_carries() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s);
    let (a, _) = org(&s, OWNER, "Acme GmbH");
    let owner = signed_in(&s, OWNER);
    let account = format!("{}/account", billing(a));
    let fields = [
        ("legal_name", "Acme Industrial GmbH"),
        ("address", "Hauptstr. 1\r\n10115 Berlin"),
        ("phone", "+49 30 1234567"),
        ("tax_id", "DE123456789"),
        ("tax_id_type", "VAT"),
    ];

    // Without the CSRF token, or with a wrong one: refused, nothing saved.
    let mut typed: Vec<(&str, &str)> = fields.to_vec();
    typed.push(("country", "DE"));
    assert_eq!(owner.post_raw(&account, &typed).status(), 403);
    let mut forged = typed.clone();
    forged.push(("csrf", "forged"));
    assert_eq!(owner.post_raw(&account, &forged).status(), 403);
    assert!(
        !audited(&s, &format!("organization:{a}"))
            .iter()
            .any(|(action, _)| action.starts_with("billing_account")),
        "nothing was saved"
    );
    let mut bad: Vec<(&str, &str)> = fields.to_vec();
    bad.push(("country", "Germany"));
    let r = owner.post(&billing(a), &account, &bad);
    assert_eq!(r.status(), 422);
    let page = r.text().unwrap();
    assert!(page.contains("id=\"account-error\""), "{page}");
    assert!(page.contains("ISO 3166"), "{page}");
    assert!(
        page.contains("value=\"Acme Industrial GmbH\"") && page.contains("value=\"Germany\""),
        "the form again with what was typed"
    );

    let mut good: Vec<(&str, &str)> = fields.to_vec();
    good.push(("country", "de"));
    let r = owner.post(&billing(a), &account, &good);
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("{}?notice=billing_account_saved", billing(a))
    );
    let page = owner.page(&location(&r));
    assert!(page.contains("Your billing details have been saved"));
    assert!(page.contains("value=\"DE\"") && page.contains("value=\"DE123456789\""));

    let method = format!("{}/payment-method", billing(a));
    let r = owner.post(
        &billing(a),
        &method,
        &[
            ("payment_method", "purchase_order"),
            ("po_reference", "PO-2026-17"),
            ("billing_contact", "not an address"),
        ],
    );
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("id=\"payment-method-error\""));
    let r = owner.post(
        &billing(a),
        &method,
        &[
            ("payment_method", "purchase_order"),
            ("po_reference", "PO-2026-17"),
            ("billing_contact", "ap@acme.example"),
        ],
    );
    assert_eq!(r.status(), 303);
    let page = owner.page(&billing(a));
    assert!(page.contains("value=\"PO-2026-17\"") && page.contains("value=\"ap@acme.example\""));
    assert!(page.contains("<option value=\"purchase_order\" selected>"));
    let trail = audited(&s, &format!("organization:{a}"));
    for action in ["billing_account.save", "billing_account.payment_method"] {
        assert!(
            trail
                .iter()
                .any(|(a, by)| a == action && by == &format!("customer:{OWNER}")),
            "{action} audited as the customer: {trail:?}"
        );
    }

    // The next invoice carries the details in its snapshot.
    let id = draft(&s, a);
    finalize(&s, id);
    let inv = owner.page(&invoice_page(a, id));
    assert!(inv.contains("Acme Industrial GmbH, DE") && inv.contains("VAT DE123456789"));
    let print = owner.page(&format!("{}/print", invoice_page(a, id)));
    assert!(print.contains("Hauptstr. 1") && print.contains("Tax ID: VAT DE123456789"));
}

#[test]
fn the_invoice_emails_link_opens_the_invoice_for_a_member() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    set_prices(&s);
    let (a, olga) = org(&s, OWNER, "Acme GmbH");
    join(&s, &sink, a, &olga, MEMBER);
    let id = draft(&s, a);
    let number = finalize(&s, id);
    let mail = mail_for(&s, &sink, ORG_MAIL);
    let m = mail
        .iter()
        .find(|m| crate::portal_auth::text_body(m).contains(&number))
        .expect("the invoice email");
    let (_, path) = link_in(m, "/portal/organizations/");
    assert_eq!(path, invoice_page(a, id));
    // Not signed in: not the invoice.
    let anonymous = Browser::new(&s);
    assert_ne!(anonymous.get(&path).status(), 200);
    let member = signed_in(&s, MEMBER);
    let page = member.page(&path);
    assert!(page.contains(&format!("Invoice {number}")));
    assert!(page.contains("1249.50 EUR"));
}

#[test]
fn the_revenue_summary_counts_open_overdue_and_paid_in_the_price_lists_currency() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let summary = |s: &TestServer| {
        ok(api(s, Method::GET, "/api/v1/billing/summary")
            .send()
            .unwrap())
    };
    let none = summary(&s);
    assert_eq!(none["price_list_set"], false);
    assert_eq!(none["currency"], "EUR");
    assert_eq!(none["mrr_minor"], 0);
    assert_eq!(none["months"].as_array().unwrap().len(), 12);

    set_prices(&s);
    let (a, _) = org(&s, OWNER, "Acme GmbH");
    let today = s.clock.now_utc().date_naive().to_string();
    let first = draft(&s, a);
    finalize(&s, first);
    pay(&s, first, 50000, &today);
    let second = draft(&s, a);
    finalize(&s, second);
    let voided = draft(&s, a);
    finalize(&s, voided);
    ok(api(
        &s,
        Method::POST,
        &format!("/api/v1/billing/invoices/{voided}/void"),
    )
    .json(&json!({"reason": "issued twice"}))
    .send()
    .unwrap());
    draft(&s, a);
    let month = s.clock.now_utc().format("%Y-%m").to_string();

    let now = summary(&s);
    assert_eq!(now["price_list_set"], true);
    assert_eq!(now["mrr_minor"], 0, "no subscriptions yet");
    assert_eq!(now["recurring_subscriptions"], 0);
    assert_eq!(now["open_minor"], 124950 - 50000 + 124950);
    assert_eq!(now["open_invoices"], 2);
    assert_eq!(now["overdue_minor"], 0);
    assert_eq!(now["paid_last_30_days_minor"], 50000);
    let months = now["months"].as_array().unwrap();
    let last = months.last().unwrap();
    assert_eq!(last["month"], month.as_str());
    assert_eq!(
        last["invoiced_minor"],
        2 * 124950,
        "void and draft not counted"
    );
    assert_eq!(last["paid_minor"], 50000);
    assert_eq!(now["other_currency_invoices"], 0);

    // 15 days later both are past due (net 14).
    s.clock.advance(Duration::days(15));
    let later = summary(&s);
    assert_eq!(later["overdue_minor"], 124950 - 50000 + 124950);
    assert_eq!(later["overdue_invoices"], 2);

    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let r = c.get(s.url("/billing")).send().unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    for must in [
        "Monthly recurring revenue",
        "id=\"mrr\">0.00 EUR",
        "id=\"open-total\">1999.00 EUR",
        "id=\"overdue-total\">1999.00 EUR",
        "id=\"chart-revenue\"",
        "chart-bar-alt",
        "2499.00 EUR",
    ] {
        assert!(page.contains(must), "the revenue page shows {must}: {page}");
    }
    assert!(!page.contains("style="), "no inline style (CSP)");
}
