//! The billing ledger against a real server, a real database and a real SMTP sink:
//! gapless invoice numbers under concurrent finalisations, partial payments adding up,
//! overpayment refused, idempotent payments, the void rules, credit notes, a finalised
//! invoice refused on every route that would change it, the price list's validation,
//! the invoice email, and the print page.

use crate::harness::*;
use crate::portal_auth::{audited, customer, link_in, mail_for, server, text_body};
use crate::smtp_sink::SmtpSink;
use licd::config::Signup;
use licd::service::Actor;
use licd::service::invoices::{self, NewDraft, NewLine};
use licd::service::organizations::{self, CustomerActor};
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::sync::Arc;

const ORG_MAIL: &str = "billing@acme.example";

fn staff() -> Actor {
    Actor::Staff {
        id: 1,
        email: "admin@example.com".into(),
    }
}

/// An organization made through the services (its owner a verified customer).
pub(crate) fn org(s: &TestServer, owner: &str) -> i64 {
    let id = customer(s, owner, true);
    let t = s.app.tenants.public().unwrap();
    let by = CustomerActor {
        id,
        email: owner.into(),
    };
    organizations::create(&t, s.clock.now_utc(), &by, "Acme GmbH", ORG_MAIL).unwrap()
}

fn price_list() -> Value {
    json!({
        "currency": "EUR",
        "internal_monthly_minor": 1000, "internal_yearly_minor": 10000,
        "external_monthly_minor": 500, "external_yearly_minor": 5000,
        "min_internal_users": 5,
        "tax_rule": {"default_rate_bp": 1900, "rates_bp": {"AT": 2000}},
        "payment_terms_days": 14, "allow_purchase_order": true,
        "bank_details": "Acme Licensing GmbH\nIBAN DE00 1234 5678 9012 3456 78",
        "renewal_days_before": 30, "dunning_grace_days": 14,
    })
}

fn api(s: &TestServer, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
    s.client()
        .request(method, s.url(path))
        .bearer_auth(s.admin_token())
}

pub(crate) fn ok(r: Response) -> Value {
    let status = r.status();
    let body: Value = r.json().unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

pub(crate) fn set_prices(s: &TestServer) {
    ok(api(s, reqwest::Method::PUT, "/api/v1/billing/price-list")
        .json(&price_list())
        .send()
        .unwrap());
}

/// A draft of 10 internal users at 100.00 EUR, 19 % tax: 1190.00 EUR.
pub(crate) fn draft(s: &TestServer, org: i64) -> i64 {
    let d = ok(api(s, reqwest::Method::POST, "/api/v1/billing/invoices")
        .json(&json!({
            "organization_id": org,
            "lines": [{"kind": "internal_users", "description": "Internal users, yearly",
                       "quantity": 10, "unit_minor": 10000, "tax_rate_bp": 1900}],
        }))
        .send()
        .unwrap());
    assert_eq!(d["state"], "draft");
    assert_eq!(d["number"], Value::Null);
    assert_eq!(d["subtotal_minor"], 100000);
    assert_eq!(d["tax_minor"], 19000);
    assert_eq!(d["total_minor"], 119000);
    d["id"].as_i64().unwrap()
}

pub(crate) fn finalize(s: &TestServer, id: i64) -> Value {
    ok(api(
        s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{id}/finalize"),
    )
    .send()
    .unwrap())
}

fn pay(s: &TestServer, id: i64, amount: i64, key: Option<&str>) -> Response {
    api(
        s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{id}/payments"),
    )
    .json(&json!({"amount_minor": amount, "received_on": "2026-06-02",
                      "reference": "bank ref", "idempotency_key": key}))
    .send()
    .unwrap()
}

fn plain_server() -> TestServer {
    TestServer::start()
}

#[test]
fn concurrent_finalisations_take_gapless_numbers() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let t = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let ids: Vec<i64> = (0..50)
        .map(|i| {
            invoices::create_draft(
                &t,
                now,
                &staff(),
                &NewDraft {
                    organization_id: o,
                    subscription_id: None,
                    currency: None,
                    payment_method: None,
                    po_number: String::new(),
                    lines: vec![NewLine {
                        kind: "other".into(),
                        description: format!("Item {i}"),
                        period_start: None,
                        period_end: None,
                        quantity: 1,
                        unit_minor: 100 + i,
                        tax_rate_bp: 1900,
                        proration: false,
                    }],
                },
            )
            .unwrap()
            .invoice
            .id
        })
        .collect();
    let app = s.app.clone();
    let threads: Vec<_> = ids
        .iter()
        .map(|&id| {
            let (app, t) = (Arc::clone(&app), Arc::clone(&t));
            std::thread::spawn(move || {
                invoices::finalise(&app, &t, now, &staff(), id)
                    .unwrap()
                    .invoice
                    .number
                    .unwrap()
            })
        })
        .collect();
    let mut numbers: Vec<String> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INV-2026-{n:06}")).collect();
    assert_eq!(numbers, expected, "no number skipped nor repeated");
    // A second finalisation of any of them is refused and takes no number.
    let again = invoices::finalise(&s.app, &t, now, &staff(), ids[0]).unwrap_err();
    assert_eq!(again.problem().code.as_str(), "invoice_finalized");
    let next = draft(&s, o);
    assert_eq!(finalize(&s, next)["number"], "INV-2026-000051");
}

#[test]
fn partial_payments_add_up_overpayment_is_refused_and_keys_repeat() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    let inv = finalize(&s, id);
    assert_eq!(inv["state"], "open");
    assert_eq!(inv["amount_due"], 119000);

    let first = ok(pay(&s, id, 50000, Some("bank-1")));
    assert_eq!(first["became_paid"], false);
    assert_eq!(first["repeated"], false);
    assert_eq!(first["invoice"]["amount_due"], 69000);
    // The same key again: nothing new, the same payment.
    let repeat = ok(pay(&s, id, 50000, Some("bank-1")));
    assert_eq!(repeat["repeated"], true);
    assert_eq!(repeat["payment"]["id"], first["payment"]["id"]);
    assert_eq!(repeat["invoice"]["amount_paid"], 50000);
    // The same key for another amount is refused.
    expect_problem(
        pay(&s, id, 1, Some("bank-1")),
        409,
        "idempotency_key_reused",
    );
    // So is the same key and amount with another reference, even from two callers at
    // once: the one write transaction decides (one is recorded, the other refused).
    let other = draft(&s, o);
    finalize(&s, other);
    let racing: Vec<u16> = std::thread::scope(|scope| {
        let calls: Vec<_> = ["ref-a", "ref-b"]
            .into_iter()
            .map(|reference| {
                let s = &s;
                scope.spawn(move || {
                    api(
                        s,
                        reqwest::Method::POST,
                        &format!("/api/v1/billing/invoices/{other}/payments"),
                    )
                    .json(&json!({"amount_minor": 100, "received_on": "2026-06-02",
                                  "reference": reference, "idempotency_key": "race-1"}))
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut racing = racing;
    racing.sort();
    assert_eq!(racing, [200, 409], "one recorded, one refused");
    // More than is left is refused; nothing is recorded.
    let over = expect_problem(pay(&s, id, 69001, None), 422, "overpayment");
    assert!(
        over["detail"].as_str().unwrap().contains("690.00 EUR"),
        "{over}"
    );
    expect_problem(pay(&s, id, 0, None), 422, "validation_failed");

    let second = ok(pay(&s, id, 19000, None));
    assert_eq!(second["became_paid"], false);
    let last = ok(pay(&s, id, 50000, Some("bank-3")));
    assert_eq!(last["became_paid"], true);
    assert_eq!(last["invoice"]["state"], "paid");
    assert_eq!(last["invoice"]["amount_due"], 0);
    // Paid: no more payments.
    expect_problem(pay(&s, id, 1, None), 409, "invoice_state");
    let d = ok(api(
        &s,
        reqwest::Method::GET,
        &format!("/api/v1/billing/invoices/{id}"),
    )
    .send()
    .unwrap());
    assert_eq!(d["payments"].as_array().unwrap().len(), 3);
    let actions: Vec<String> = audited(&s, &format!("invoice:{id}"))
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "invoice.create",
            "invoice.finalise",
            "invoice.payment",
            "invoice.payment",
            "invoice.payment"
        ]
    );
}

#[test]
fn void_only_an_open_unpaid_uncredited_invoice() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let void = |id: i64| {
        api(
            &s,
            reqwest::Method::POST,
            &format!("/api/v1/billing/invoices/{id}/void"),
        )
        .json(&json!({"reason": "ordered by mistake"}))
        .send()
        .unwrap()
    };
    let d = draft(&s, o);
    expect_problem(void(d), 409, "invoice_not_voidable");

    let paid_part = draft(&s, o);
    finalize(&s, paid_part);
    ok(pay(&s, paid_part, 100, None));
    expect_problem(void(paid_part), 409, "invoice_not_voidable");

    let credited = draft(&s, o);
    finalize(&s, credited);
    ok(api(
        &s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{credited}/credit-notes"),
    )
    .json(&json!({"reason": "discount", "amount_minor": 100}))
    .send()
    .unwrap());
    expect_problem(void(credited), 409, "invoice_not_voidable");

    let open = draft(&s, o);
    let number = finalize(&s, open)["number"].clone();
    let v = ok(void(open));
    assert_eq!(v["state"], "void");
    assert_eq!(v["number"], number, "a void invoice keeps its number");
    expect_problem(void(open), 409, "invoice_not_voidable");
    expect_problem(pay(&s, open, 1, None), 409, "invoice_state");
    // The next invoice takes the next number: voiding frees none.
    let next = draft(&s, o);
    let n: String = finalize(&s, next)["number"].as_str().unwrap().into();
    assert_eq!(n, "INV-2026-000004");
}

#[test]
fn credit_notes_lower_what_is_left_and_link_lines() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    let inv = finalize(&s, id);
    let line = inv["lines"][0]["id"].as_i64().unwrap();
    let credit = |body: Value| {
        api(
            &s,
            reqwest::Method::POST,
            &format!("/api/v1/billing/invoices/{id}/credit-notes"),
        )
        .json(&body)
        .send()
        .unwrap()
    };
    ok(pay(&s, id, 100000, None));
    expect_problem(
        credit(json!({"reason": "too much", "amount_minor": 19001})),
        422,
        "credit_exceeds_balance",
    );
    expect_problem(
        credit(
            json!({"reason": "lines", "amount_minor": 100, "lines": [{"line_id": line, "amount_minor": 99}]}),
        ),
        422,
        "validation_failed",
    );
    expect_problem(
        credit(json!({"reason": "", "amount_minor": 100})),
        422,
        "validation_failed",
    );
    let d = ok(credit(
        json!({"reason": "two users less", "amount_minor": 19000, "lines": [{"line_id": line, "amount_minor": 19000}]}),
    ));
    assert_eq!(d["state"], "paid", "the credit settles what was left");
    assert_eq!(d["amount_credited"], 19000);
    let cn = &d["credit_notes"][0];
    assert_eq!(
        cn["number"],
        format!("{}-1", inv["number"].as_str().unwrap()).replacen("INV", "CN-INV", 1)
    );
    assert_eq!(cn["lines"][0]["line_id"], line);
    // On a paid invoice, credit up to its total less earlier credits (money owed back).
    expect_problem(
        credit(json!({"reason": "refund", "amount_minor": 100001})),
        422,
        "credit_exceeds_balance",
    );
    let d = ok(credit(json!({"reason": "refund", "amount_minor": 100000})));
    assert_eq!(d["amount_credited"], 119000);
    assert_eq!(d["credit_notes"].as_array().unwrap().len(), 2);
}

#[test]
fn a_finalised_invoice_is_refused_on_every_changing_route() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    // A draft's lines can be replaced.
    let d = ok(api(&s, reqwest::Method::PUT, &format!("/api/v1/billing/invoices/{id}/lines"))
        .json(&json!({"lines": [{"kind": "other", "description": "Setup", "quantity": 3, "unit_minor": 333, "tax_rate_bp": 1950}]}))
        .send()
        .unwrap());
    // 999 × 19.5 % = 194.805: rounded once per line, half away from zero.
    assert_eq!(d["tax_minor"], 195);
    assert_eq!(d["total_minor"], 1194);
    let before = finalize(&s, id);
    let lines = api(
        &s,
        reqwest::Method::PUT,
        &format!("/api/v1/billing/invoices/{id}/lines"),
    )
    .json(&json!({"lines": []}))
    .send()
    .unwrap();
    expect_problem(lines, 409, "invoice_finalized");
    let again = api(
        &s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{id}/finalize"),
    )
    .send()
    .unwrap();
    expect_problem(again, 409, "invoice_finalized");
    // Paid: voiding and further payments are refused too.
    ok(pay(&s, id, 1194, None));
    let void = api(
        &s,
        reqwest::Method::POST,
        &format!("/api/v1/billing/invoices/{id}/void"),
    )
    .json(&json!({"reason": "x"}))
    .send()
    .unwrap();
    expect_problem(void, 409, "invoice_not_voidable");
    expect_problem(pay(&s, id, 1, None), 409, "invoice_state");
    // The database refuses too (defence in depth).
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    assert!(
        db.execute("UPDATE invoices SET total_minor = 1 WHERE id = ?1", [id])
            .is_err()
    );
    assert!(
        db.execute(
            "UPDATE invoice_lines SET amount_minor = 1 WHERE invoice_id = ?1",
            [id]
        )
        .is_err()
    );
    let after = ok(api(
        &s,
        reqwest::Method::GET,
        &format!("/api/v1/billing/invoices/{id}"),
    )
    .send()
    .unwrap());
    assert_eq!(after["lines"], before["lines"]);
    assert_eq!(after["total_minor"], before["total_minor"]);
    assert_eq!(after["number"], before["number"]);
}

#[test]
fn the_price_list_is_validated_and_audited() {
    let s = plain_server();
    expect_problem(
        api(&s, reqwest::Method::GET, "/api/v1/billing/price-list")
            .send()
            .unwrap(),
        409,
        "price_list_missing",
    );
    let put = |body: &Value| {
        api(&s, reqwest::Method::PUT, "/api/v1/billing/price-list")
            .json(body)
            .send()
            .unwrap()
    };
    for (field, value) in [
        ("currency", json!("euro")),
        ("internal_monthly_minor", json!(-1)),
        ("payment_terms_days", json!(4000)),
        ("min_internal_users", json!(-5)),
        ("tax_rule", json!({"default_rate_bp": 10001})),
        ("tax_rule", json!({"rates_bp": {"Austria": 2000}})),
        ("tax_rule", json!({"vat": true})),
        ("tax_rule", json!([1])),
    ] {
        let mut body = price_list();
        body[field] = value.clone();
        let p = expect_problem(put(&body), 422, "validation_failed");
        assert!(
            p["detail"].as_str().unwrap().contains(field) || field == "currency",
            "{field} {value}: {p}"
        );
    }
    let saved = ok(put(&price_list()));
    assert_eq!(saved["currency"], "EUR");
    assert_eq!(saved["updated_by"], "staff:admin@example.com");
    let got = ok(api(&s, reqwest::Method::GET, "/api/v1/billing/price-list")
        .send()
        .unwrap());
    assert_eq!(got["tax_rule"]["rates_bp"]["AT"], 2000);
    assert_eq!(got["bank_details"], price_list()["bank_details"]);
    let actions: Vec<String> = audited(&s, "price_list")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(actions, ["price_list.replace"]);
}

#[test]
fn the_invoice_email_goes_to_the_organization() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::Open);
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    let inv = finalize(&s, id);
    let number = inv["number"].as_str().unwrap();
    let mail = mail_for(&s, &sink, ORG_MAIL);
    assert_eq!(mail.len(), 1, "one email per invoice");
    let subject = mail[0].header("Subject").unwrap();
    assert!(subject.contains(number), "{subject}");
    assert!(subject.contains("1190.00 EUR"), "{subject}");
    assert!(
        subject.contains("2026-06-15"),
        "due after 14 days: {subject}"
    );
    let (_, path) = link_in(&mail[0], "/portal/organizations/");
    assert_eq!(path, format!("/portal/organizations/{o}/invoices/{id}"));
    assert!(text_body(&mail[0]).contains("Acme GmbH"));
}

#[test]
fn the_print_page_renders() {
    let s = plain_server();
    set_prices(&s);
    let o = org(&s, "owner@acme.example");
    let id = draft(&s, o);
    let number: String = finalize(&s, id)["number"].as_str().unwrap().into();
    let (c, _) = api_login(&s, "admin@example.com", crate::harness::ADMIN_PASSWORD);
    let r = c
        .get(s.url(&format!("/billing/invoices/{id}/print")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    for must in [
        number.as_str(),
        "Acme GmbH",
        "Internal users, yearly",
        "1190.00 EUR",
        "190.00 EUR",
        "IBAN DE00 1234 5678 9012 3456 78",
        "print.css",
    ] {
        assert!(page.contains(must), "the print page shows {must}");
    }
    assert!(!page.contains("<nav"), "no navigation on the print page");
    let list = c.get(s.url("/billing/invoices?show=open")).send().unwrap();
    assert_eq!(list.status(), 200);
    assert!(list.text().unwrap().contains(&number));
    let page = c
        .get(s.url(&format!("/billing/invoices/{id}")))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(page.contains("Record a payment"), "{page}");
    let prices = c.get(s.url("/billing/price-list")).send().unwrap();
    assert_eq!(prices.status(), 200);
}
